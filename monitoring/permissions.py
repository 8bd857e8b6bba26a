"""Pure predicates: who may do what (DESIGN §1). Views, admin classes and templates call
these; nothing else decides. Deny by default."""

from django.contrib.auth.models import AnonymousUser, User

from .models import Membership, Programme

# Who is asking: a signed-in user or an anonymous visitor.
Viewer = User | AnonymousUser


def roles_in_programme(user: Viewer, programme: Programme) -> set[str]:
    if not user.is_authenticated:
        return set()
    return set(
        Membership.objects.filter(user=user, programme=programme).values_list("role", flat=True)
    )


def can_view_programme(user: Viewer, programme: Programme) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return Membership.objects.filter(user=user, programme=programme).exists()


def can_administer_programme(user: Viewer, programme: Programme) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return Membership.objects.filter(
        user=user, programme=programme, role=Membership.Role.ADMIN
    ).exists()


def sees_only_approved(user: Viewer, programme: Programme) -> bool:
    """Donors see approved data only; so does anybody whose only role here is donor."""
    roles = roles_in_programme(user, programme)
    return not roles or roles == {Membership.Role.DONOR}
