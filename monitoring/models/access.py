"""Who may do what (memberships) and what was done (the audit trail)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from .geography import Agency, City
from .programme import Programme, ProgrammeAgency, ProgrammeCity


class Membership(models.Model):
    """What a user may do in a programme (DESIGN §1). Coordinators work for one agency in one
    city; approvers for one agency; RCO viewers, donors and programme admins for the whole
    programme."""

    class Role(models.TextChoices):
        COORDINATOR = "coordinator", _("agency coordinator")
        APPROVER = "approver", _("agency approver / M&E officer")
        RCO = "rco", _("Resident Coordinator Office")
        DONOR = "donor", _("donor")
        ADMIN = "admin", _("programme admin")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("programme")
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("agency")
    )
    city = models.ForeignKey(
        City, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("city")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["programme", "role", "agency__code", "city__code"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                F("user"),
                F("programme"),
                F("role"),
                Coalesce(F("agency"), Value(0)),
                Coalesce(F("city"), Value(0)),
                name="membership_unique",
                violation_error_message=_("This user already has this role here."),
            ),
            models.CheckConstraint(
                condition=~Q(role="coordinator") | Q(agency__isnull=False, city__isnull=False),
                name="membership_coordinator_has_agency_and_city",
                violation_error_message=_("A coordinator needs an agency and a city."),
            ),
            models.CheckConstraint(
                condition=~Q(role="approver") | Q(agency__isnull=False),
                name="membership_approver_has_agency",
                violation_error_message=_("An approver needs an agency."),
            ),
            models.CheckConstraint(
                condition=~Q(role__in=["rco", "donor", "admin"])
                | Q(agency__isnull=True, city__isnull=True),
                name="membership_programme_roles_unscoped",
                violation_error_message=_(
                    "RCO, donor and programme admin memberships cover the whole programme: "
                    "leave agency and city empty."
                ),
            ),
        ]

    def __str__(self) -> str:
        scope = " · ".join(str(x) for x in (self.agency, self.city) if x is not None)
        return f"{self.user} · {self.get_role_display()} · {self.programme}" + (
            f" · {scope}" if scope else ""
        )

    def clean(self) -> None:
        if not self.programme_id:
            return
        if (
            self.agency_id
            and not ProgrammeAgency.objects.filter(
                programme_id=self.programme_id, agency_id=self.agency_id
            ).exists()
        ):
            raise ValidationError({"agency": _("This agency does not take part in the programme.")})
        if (
            self.city_id
            and not ProgrammeCity.objects.filter(
                programme_id=self.programme_id, city_id=self.city_id
            ).exists()
        ):
            raise ValidationError({"city": _("This city is not part of the programme.")})


class AuditEvent(models.Model):
    """One change that matters to a donor or an auditor, written by the service that made it:
    who, when, what, old value, new value and why."""

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, null=True, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(_("action"), max_length=40)
    object_type = models.CharField(_("object type"), max_length=60)
    object_id = models.CharField(_("object id"), max_length=40)
    object_repr = models.CharField(_("object"), max_length=300)
    old_value = models.JSONField(_("old value"), null=True, blank=True)
    new_value = models.JSONField(_("new value"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit trail")
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_repr}"
