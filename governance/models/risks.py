"""The risk register: each risk of a programme with its rating (likelihood and impact, 1 to 5,
or not rated), mitigation, owner and status, and a review row each time its rating or status
changes, so that the heat map can be drawn as it stood on an earlier date.

A rating is either the source's own or assessed on the platform: the Ciudades annual report
rates none of its risks, and a rating entered later must not pass for the report's."""

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from monitoring.bilingual import Bilingual
from monitoring.models import (
    Agency,
    City,
    Outcome,
    Programme,
    ReportingPeriod,
    code_validator,
)

SCALE = (1, 2, 3, 4, 5)
SCALE_VALIDATORS = [MinValueValidator(1), MaxValueValidator(5)]


class RiskCategory(models.TextChoices):
    POLITICAL = "political", _("political / institutional")
    OPERATIONAL = "operational", _("operational")
    HEALTH = "health", _("health")
    FINANCIAL = "financial", _("financial")
    SOCIAL = "social", _("social / xenophobia")
    LEGAL = "legal", _("legal / regulatory")
    OTHER = "other", _("other")


class RiskStatus(models.TextChoices):
    OPEN = "open", _("open")
    REALISED = "realised", _("realised")
    CLOSED = "closed", _("closed")


class RatingBasis(models.TextChoices):
    SOURCE = "source", _("as rated in the source")
    INFERRED = "inferred", _("inferred / assessed on the platform")


def _rating_field(label: Any) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        label,
        null=True,
        blank=True,
        validators=SCALE_VALIDATORS,
        help_text=_("1 (lowest) to 5 (highest); leave empty when not rated."),
    )


def _rating_constraints(prefix: str) -> list[models.BaseConstraint]:
    return [
        models.CheckConstraint(
            condition=Q(likelihood__isnull=True) | Q(likelihood__gte=1, likelihood__lte=5),
            name=f"{prefix}_likelihood_1_to_5",
            violation_error_message=_("Likelihood is rated from 1 to 5."),
        ),
        models.CheckConstraint(
            condition=Q(impact__isnull=True) | Q(impact__gte=1, impact__lte=5),
            name=f"{prefix}_impact_1_to_5",
            violation_error_message=_("Impact is rated from 1 to 5."),
        ),
    ]


class Risk(models.Model):
    Category = RiskCategory
    Status = RiskStatus
    Basis = RatingBasis

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="risks", verbose_name=_("programme")
    )
    code = models.CharField(_("code"), max_length=16, validators=[code_validator])
    title_es = models.CharField(_("risk (Spanish)"), max_length=300)
    title_en = models.CharField(_("risk (English)"), max_length=300)
    description_es = models.TextField(_("description (Spanish)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    category = models.CharField(_("category"), max_length=12, choices=RiskCategory.choices)
    cities = models.ManyToManyField(
        City,
        blank=True,
        related_name="+",
        verbose_name=_("cities"),
        help_text=_("Empty: the whole programme."),
    )
    outcomes = models.ManyToManyField(
        Outcome, blank=True, related_name="risks", verbose_name=_("outcomes")
    )
    likelihood = _rating_field(_("likelihood"))
    impact = _rating_field(_("impact"))
    rating_basis = models.CharField(
        _("rating basis"),
        max_length=8,
        choices=RatingBasis.choices,
        default=RatingBasis.INFERRED,
        help_text=_("Whether the source itself rates the risk, or the rating was given here."),
    )
    impact_described_es = models.TextField(_("impact as described (Spanish)"), blank=True)
    impact_described_en = models.TextField(_("impact as described (English)"), blank=True)
    mitigation_es = models.TextField(_("mitigation (Spanish)"), blank=True)
    mitigation_en = models.TextField(_("mitigation (English)"), blank=True)
    owner_agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner agency"),
        help_text=_("Empty: the programme as a whole (the RCO follows it)."),
    )
    status = models.CharField(
        _("status"), max_length=8, choices=RiskStatus.choices, default=RiskStatus.OPEN
    )
    review_on = models.DateField(_("next review"), null=True, blank=True)
    first_reported = models.ForeignKey(
        ReportingPeriod,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("first reported in"),
    )
    source = models.TextField(_("source"), blank=True)
    shareable = models.BooleanField(
        _("shareable with donors"), default=False, help_text=_("Donors see only shareable risks.")
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("updated by"),
    )

    title = Bilingual()
    description = Bilingual()
    impact_described = Bilingual()
    mitigation = Bilingual()

    class Meta:
        ordering = ["programme", "code"]
        verbose_name = _("risk")
        verbose_name_plural = _("risks")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "code"],
                name="risk_code_unique_per_programme",
                violation_error_message=_("A risk with this code already exists in the programme."),
            ),
            *_rating_constraints("risk"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"[:120]

    @property
    def is_rated(self) -> bool:
        return self.likelihood is not None and self.impact is not None

    def clean(self) -> None:
        period = self.first_reported if self.first_reported_id else None
        if period is not None and self.programme_id and period.programme_id != self.programme_id:
            raise ValidationError({"first_reported": _("It belongs to another programme.")})
        if period is not None and self.review_on and self.review_on < period.start_date:
            raise ValidationError(
                {
                    "review_on": _(
                        "The review date cannot be before the risk was first reported "
                        "(%(period)s starts on %(start)s)."
                    )
                    % {"period": period.name, "start": period.start_date.isoformat()}
                }
            )
        if (self.likelihood is None) != (self.impact is None):
            field = "impact" if self.impact is None else "likelihood"
            raise ValidationError(
                {field: _("Rate both likelihood and impact, or leave both empty (not rated).")}
            )


class RiskReview(models.Model):
    """The risk's rating and status from ``reviewed_on``: written when the risk is entered and
    each time its likelihood, impact or status changes."""

    risk = models.ForeignKey(
        Risk, on_delete=models.CASCADE, related_name="reviews", verbose_name=_("risk")
    )
    reviewed_on = models.DateField(_("reviewed on"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    likelihood = _rating_field(_("likelihood"))
    impact = _rating_field(_("impact"))
    rating_basis = models.CharField(
        _("rating basis"), max_length=8, choices=RatingBasis.choices, default=RatingBasis.INFERRED
    )
    status = models.CharField(_("status"), max_length=8, choices=RiskStatus.choices)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["risk", "-reviewed_on", "-pk"]
        verbose_name = _("risk review")
        verbose_name_plural = _("risk reviews")
        constraints = _rating_constraints("riskreview")

    def __str__(self) -> str:
        return f"{self.risk.code} · {self.reviewed_on.isoformat()}"
