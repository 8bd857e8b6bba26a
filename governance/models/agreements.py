"""Agreements with partners and the tools the programme produced (manuals, protocols,
procedures...), each with the history of its status: the final evaluation found that neither
was followed up once signed or delivered, so every status comes with the date it was
observed, and the page shows how long each has gone without a follow-up.

An agreement's ``status`` is its latest update's, kept by the service that records updates;
a tool's current adoption status is read from its latest row."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from monitoring.bilingual import Bilingual
from monitoring.models import Agency, City, Output, Programme, code_validator


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    NEGOTIATING = "negotiating", _("under negotiation or review")
    SIGNED = "signed", _("signed")
    IN_FORCE = "in_force", _("in force")
    EXPIRED = "expired", _("expired")
    TERMINATED = "terminated", _("terminated")


class Agreement(models.Model):
    Status = AgreementStatus

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="agreements", verbose_name=_("programme")
    )
    code = models.CharField(_("code"), max_length=16, validators=[code_validator])
    title_es = models.CharField(_("title (Spanish)"), max_length=300)
    title_en = models.CharField(_("title (English)"), max_length=300)
    parties_es = models.TextField(_("partner institutions (Spanish)"), blank=True)
    parties_en = models.TextField(_("partner institutions (English)"), blank=True)
    agencies = models.ManyToManyField(
        Agency, blank=True, related_name="+", verbose_name=_("agencies")
    )
    city = models.ForeignKey(
        City,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("city"),
    )
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=AgreementStatus.choices, default=AgreementStatus.DRAFT
    )
    link = models.URLField(_("link"), max_length=500, blank=True)
    notes_es = models.TextField(_("notes (Spanish)"), blank=True)
    notes_en = models.TextField(_("notes (English)"), blank=True)
    source = models.TextField(_("source"), blank=True)
    shareable = models.BooleanField(_("shareable with donors"), default=False)

    title = Bilingual()
    parties = Bilingual()
    notes = Bilingual()

    class Meta:
        ordering = ["programme", "code"]
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "code"],
                name="agreement_code_unique_per_programme",
                violation_error_message=_(
                    "An agreement with this code already exists in the programme."
                ),
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True)
                | Q(signed_on__isnull=True)
                | Q(valid_until__gte=F("signed_on")),
                name="agreement_valid_after_signed",
                violation_error_message=_("An agreement cannot end before it is signed."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"[:120]


class AgreementUpdate(models.Model):
    """The agreement's status as observed on a date, with what was seen."""

    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="updates", verbose_name=_("agreement")
    )
    observed_on = models.DateField(_("observed on"))
    status = models.CharField(_("status"), max_length=12, choices=AgreementStatus.choices)
    note_es = models.TextField(_("evidence / note (Spanish)"), blank=True)
    note_en = models.TextField(_("evidence / note (English)"), blank=True)
    source = models.TextField(_("source"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    note = Bilingual()

    class Meta:
        ordering = ["agreement", "-observed_on", "-pk"]
        get_latest_by = ["observed_on", "pk"]
        verbose_name = _("agreement status update")
        verbose_name_plural = _("agreement status updates")

    def __str__(self) -> str:
        return f"{self.agreement.code} · {self.observed_on.isoformat()} · {self.status}"


class Tool(models.Model):
    class Kind(models.TextChoices):
        MANUAL = "manual", _("manual")
        PROTOCOL = "protocol", _("protocol")
        PROCEDURE = "procedure", _("procedure")
        GUIDE = "guide", _("guide")
        ROUTE = "route", _("route / flow")
        CURRICULUM = "curriculum", _("training curriculum")
        OTHER = "other", _("other")

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="tools", verbose_name=_("programme")
    )
    code = models.CharField(_("code"), max_length=16, validators=[code_validator])
    title_es = models.CharField(_("title (Spanish)"), max_length=300)
    title_en = models.CharField(_("title (English)"), max_length=300)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("responsible agency"),
    )
    output = models.ForeignKey(
        Output,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tools",
        verbose_name=_("output"),
    )
    city = models.ForeignKey(
        City,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("city"),
        help_text=_("Empty: both cities or the programme as a whole."),
    )
    produced_on = models.DateField(_("produced on"), null=True, blank=True)
    link = models.URLField(_("link"), max_length=500, blank=True)
    source = models.TextField(_("source"), blank=True)
    shareable = models.BooleanField(_("shareable with donors"), default=False)

    title = Bilingual()

    class Meta:
        ordering = ["programme", "code"]
        verbose_name = _("tool")
        verbose_name_plural = _("tools")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "code"],
                name="tool_code_unique_per_programme",
                violation_error_message=_("A tool with this code already exists in the programme."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"[:120]

    def clean(self) -> None:
        output = self.output if self.output_id else None
        if output is not None and self.programme_id and output.programme_id != self.programme_id:
            raise ValidationError({"output": _("It belongs to another programme.")})


class ToolAdoption(models.Model):
    """Where a tool stood on a date: produced, delivered, adopted by an institution, in use..."""

    class Status(models.TextChoices):
        PRODUCED = "produced", _("produced")
        DELIVERED = "delivered", _("delivered")
        ADOPTED = "adopted", _("adopted by the institution")
        IN_USE = "in_use", _("in use")
        NOT_IN_USE = "not_in_use", _("not in use")
        UNKNOWN = "unknown", _("unknown")

    tool = models.ForeignKey(
        Tool, on_delete=models.CASCADE, related_name="adoptions", verbose_name=_("tool")
    )
    observed_on = models.DateField(_("observed on"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    institution = models.CharField(_("institution"), max_length=200, blank=True)
    evidence_es = models.TextField(_("evidence / note (Spanish)"), blank=True)
    evidence_en = models.TextField(_("evidence / note (English)"), blank=True)
    source = models.TextField(_("source"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    evidence = Bilingual()

    class Meta:
        ordering = ["tool", "-observed_on", "-pk"]
        get_latest_by = ["observed_on", "pk"]
        verbose_name = _("tool adoption status")
        verbose_name_plural = _("tool adoption statuses")

    def __str__(self) -> str:
        return f"{self.tool.code} · {self.observed_on.isoformat()} · {self.status}"
