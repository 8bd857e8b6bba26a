"""Demo accounts for trying the platform: one per role of DESIGN §1, with invented names.
Passwords are set when an account is created and never reset afterwards, so loading again
changes nothing and a password someone changed stays changed."""

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from .models import Agency, City, Membership, Programme, ReportingPeriod

DEMO_PASSWORD = "ciudades-demo-2026"  # noqa: S105 (demo accounts only, printed on purpose)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    first_name: str
    last_name: str
    role: str
    agency: str | None = None
    city: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role == Membership.Role.ADMIN


R = Membership.Role
CIUDADES_ACCOUNTS = [
    DemoAccount("coord.ilo.scl", "Renata", "Ibáñez", R.COORDINATOR, "ILO", "SCL"),
    DemoAccount("coord.ilo.cdmx", "Tomás", "Ledesma", R.COORDINATOR, "ILO", "CDMX"),
    DemoAccount("coord.iom.scl", "Paula", "Zamorano", R.COORDINATOR, "IOM", "SCL"),
    DemoAccount("coord.iom.cdmx", "Diego", "Salgado", R.COORDINATOR, "IOM", "CDMX"),
    DemoAccount("coord.unhcr.scl", "Camila", "Orellana", R.COORDINATOR, "UNHCR", "SCL"),
    DemoAccount("coord.unhcr.cdmx", "Andrés", "Villaseñor", R.COORDINATOR, "UNHCR", "CDMX"),
    DemoAccount("approver.ilo", "Marta", "Quiroga", R.APPROVER, "ILO"),
    DemoAccount("approver.iom", "Luis", "Arancibia", R.APPROVER, "IOM"),
    DemoAccount("approver.unhcr", "Sofía", "Montalvo", R.APPROVER, "UNHCR"),
    DemoAccount("rco", "Elena", "Rivas", R.RCO),
    DemoAccount("donor", "Hannah", "Lindqvist", R.DONOR),
    DemoAccount("admin", "Jorge", "Baeza", R.ADMIN),
]


@transaction.atomic
def ensure_demo_accounts(
    programme: Programme, accounts: list[DemoAccount] = CIUDADES_ACCOUNTS
) -> tuple[list[DemoAccount], int]:
    """Create the accounts and memberships that are missing; return them and how many records
    were created."""
    User = get_user_model()
    created = 0
    for account in accounts:
        user = User.objects.filter(username=account.username).first()
        if user is None:
            user = User(
                username=account.username,
                first_name=account.first_name,
                last_name=account.last_name,
                is_staff=account.is_staff,
            )
            user.set_password(DEMO_PASSWORD)
            user.full_clean()
            user.save()
            created += 1
        membership = Membership(
            user=user,
            programme=programme,
            role=account.role,
            agency=Agency.objects.get(code=account.agency) if account.agency else None,
            city=City.objects.get(code=account.city) if account.city else None,
        )
        if not Membership.objects.filter(
            user=user,
            programme=programme,
            role=account.role,
            agency=membership.agency,
            city=membership.city,
        ).exists():
            membership.full_clean()
            membership.save()
            created += 1
    return accounts, created


def reopen_last_quarter(programme: Programme, *, days: int = 180) -> ReportingPeriod | None:
    """Ciudades ended in 2023, so every quarter is closed; the demo reopens the last one (a
    late-report window, as an admin would) so coordinators can try entry and approval."""
    last = programme.periods.filter(kind=ReportingPeriod.Kind.QUARTER).order_by("-end_date").first()
    if last is None:
        return None
    until = timezone.localdate() + dt.timedelta(days=days)
    if last.reopened_until is None or last.reopened_until < timezone.localdate():
        last.reopened_until = until
        last.save(update_fields=["reopened_until"])
    return last
