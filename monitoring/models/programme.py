"""A programme and its results chain: outcomes, outputs, activities, reporting periods."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from ..bilingual import Bilingual
from .geography import Agency, City, Country
from .validators import code_validator, programme_code_validator


class Programme(models.Model):
    code = models.CharField(
        _("code"), max_length=32, unique=True, validators=[programme_code_validator]
    )
    name_es = models.CharField(_("name (Spanish)"), max_length=500)
    name_en = models.CharField(_("name (English)"), max_length=500)
    short_name_es = models.CharField(_("short name (Spanish)"), max_length=120)
    short_name_en = models.CharField(_("short name (English)"), max_length=120)
    objective_es = models.TextField(_("objective (Spanish)"), blank=True)
    objective_en = models.TextField(_("objective (English)"), blank=True)
    fund_es = models.CharField(_("fund (Spanish)"), max_length=200, blank=True)
    fund_en = models.CharField(_("fund (English)"), max_length=200, blank=True)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    budget_total = models.DecimalField(
        _("total budget"),
        max_digits=16,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0))],
    )
    indirect_ceiling = models.DecimalField(
        _("indirect support costs ceiling (% of direct costs)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(7),
        help_text=_("The fund's ceiling; the Migration MPTF's is 7 %."),
    )
    on_track_threshold = models.DecimalField(
        _("on-track threshold (% of expected)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(90),
        help_text=_("Achievement of expected-by-now at or above this is 'on track'."),
    )
    at_risk_threshold = models.DecimalField(
        _("at-risk threshold (% of expected)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(60),
        help_text=_("At or above this (and below on-track) is 'at risk'; below is 'off track'."),
    )
    grace_days = models.PositiveSmallIntegerField(
        _("grace period (days)"),
        default=15,
        help_text=_("Days after a period's due date before its reports are locked."),
    )
    agencies = models.ManyToManyField(
        Agency, through="ProgrammeAgency", related_name="programmes", verbose_name=_("agencies")
    )
    cities = models.ManyToManyField(
        City, through="ProgrammeCity", related_name="programmes", verbose_name=_("cities")
    )
    source = models.TextField(_("source"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    name = Bilingual()
    short_name = Bilingual()
    objective = Bilingual()
    fund = Bilingual()

    class Meta:
        ordering = ["code"]
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gt=F("start_date")),
                name="programme_dates_in_order",
                violation_error_message=_("End date must be after the start date."),
            ),
            models.CheckConstraint(
                condition=Q(budget_total__gte=0),
                name="programme_budget_non_negative",
                violation_error_message=_("Total budget cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(at_risk_threshold__gt=0)
                & Q(at_risk_threshold__lt=F("on_track_threshold"))
                & Q(on_track_threshold__lte=100),
                name="programme_thresholds_in_order",
                violation_error_message=_("Thresholds must satisfy 0 < at-risk < on-track ≤ 100."),
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"),
                name="programme_currency_iso",
                violation_error_message=_("Currency must be a three-letter ISO 4217 code."),
            ),
        ]

    def __str__(self) -> str:
        return self.short_name or self.code


class ProgrammeAgency(models.Model):
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, verbose_name=_("agency"))
    is_convening = models.BooleanField(
        _("convening agency"),
        default=False,
        help_text=_("The agency that reports to the fund on behalf of all."),
    )

    class Meta:
        verbose_name = _("participating agency")
        verbose_name_plural = _("participating agencies")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "agency"],
                name="programmeagency_unique",
                violation_error_message=_("This agency already takes part in the programme."),
            ),
            models.UniqueConstraint(
                fields=["programme"],
                condition=Q(is_convening=True),
                name="programmeagency_one_convening",
                violation_error_message=_("A programme has one convening agency."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme} · {self.agency}"


class ProgrammeCity(models.Model):
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE)
    city = models.ForeignKey(City, on_delete=models.PROTECT, verbose_name=_("city"))

    class Meta:
        verbose_name = _("programme city")
        verbose_name_plural = _("programme cities")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "city"],
                name="programmecity_unique",
                violation_error_message=_("This city is already part of the programme."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.programme} · {self.city}"


def _check_same_programme(obj: models.Model, field: str, related: models.Model | None) -> None:
    """Raise a ValidationError on ``field`` when ``related`` belongs to another programme."""
    programme_id = getattr(obj, "programme_id", None)
    if related is not None and programme_id and related.programme_id != programme_id:  # type: ignore[attr-defined]
        raise ValidationError({field: _("It belongs to another programme.")})


class Outcome(models.Model):
    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="outcomes", verbose_name=_("programme")
    )
    code = models.CharField(_("code"), max_length=16, validators=[code_validator])
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    title_es = models.TextField(_("title (Spanish)"))
    title_en = models.TextField(_("title (English)"))
    objective_es = models.TextField(_("specific objective (Spanish)"), blank=True)
    objective_en = models.TextField(_("specific objective (English)"), blank=True)
    source = models.TextField(_("source"), blank=True)

    title = Bilingual()
    objective = Bilingual()

    class Meta:
        ordering = ["programme", "order", "code"]
        verbose_name = _("outcome")
        verbose_name_plural = _("outcomes")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "code"],
                name="outcome_code_unique_per_programme",
                violation_error_message=_(
                    "An outcome with this code already exists in the programme."
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"[:120]


class Output(models.Model):
    """An output ("producto") of an outcome, delivered in some of the programme's cities."""

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="outputs", verbose_name=_("programme")
    )
    outcome = models.ForeignKey(
        Outcome, on_delete=models.CASCADE, related_name="outputs", verbose_name=_("outcome")
    )
    code = models.CharField(_("code"), max_length=16, validators=[code_validator])
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    title_es = models.TextField(_("title (Spanish)"))
    title_en = models.TextField(_("title (English)"))
    cities = models.ManyToManyField(City, related_name="outputs", verbose_name=_("cities"))
    source = models.TextField(_("source"), blank=True)

    title = Bilingual()

    class Meta:
        ordering = ["programme", "order", "code"]
        verbose_name = _("output")
        verbose_name_plural = _("outputs")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "code"],
                name="output_code_unique_per_programme",
                violation_error_message=_(
                    "An output with this code already exists in the programme."
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"[:120]

    def clean(self) -> None:
        _check_same_programme(self, "outcome", self.outcome if self.outcome_id else None)


class Activity(models.Model):
    """An activity of an output. Codes restart per country, so a code is unique per programme
    and country (binational activities have no country)."""

    class Status(models.TextChoices):
        NOT_REPORTED = "not_reported", _("not reported")
        PLANNED = "planned", _("planned")
        ONGOING = "ongoing", _("ongoing")
        COMPLETED = "completed", _("completed")
        CANCELLED = "cancelled", _("cancelled")

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="activities", verbose_name=_("programme")
    )
    output = models.ForeignKey(
        Output, on_delete=models.CASCADE, related_name="activities", verbose_name=_("output")
    )
    country = models.ForeignKey(
        Country,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("country"),
        help_text=_("Empty for binational activities."),
    )
    city = models.ForeignKey(
        City, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("city")
    )
    code = models.CharField(_("code"), max_length=16, validators=[code_validator])
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    description_es = models.TextField(_("description (Spanish)"))
    description_en = models.TextField(_("description (English)"))
    lead_agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="led_activities",
        verbose_name=_("lead agency"),
    )
    participating_agencies = models.ManyToManyField(
        Agency, blank=True, related_name="activities", verbose_name=_("participating agencies")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PLANNED
    )
    source = models.TextField(_("source"), blank=True)

    description = Bilingual()

    class Meta:
        ordering = ["programme", "output__order", "country__code", "order", "code"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        constraints = [
            models.UniqueConstraint(
                F("programme"),
                Coalesce(F("country"), Value(0)),
                F("code"),
                name="activity_code_unique_per_programme_country",
                violation_error_message=_(
                    "An activity with this code already exists for this country in the programme."
                ),
            )
        ]

    def __str__(self) -> str:
        where = self.country.code if self.country_id and self.country else "CL+MX"
        return f"{self.code} ({where})"

    def clean(self) -> None:
        _check_same_programme(self, "output", self.output if self.output_id else None)
        city = self.city if self.city_id else None
        if city is not None and self.country_id and city.country_id != self.country_id:
            raise ValidationError({"city": _("The city is not in the activity's country.")})


class ReportingPeriod(models.Model):
    """A span progress is reported for: quarters by default, also the fund's reporting years
    and custom spans (such as the whole life of the programme for a final report)."""

    class Kind(models.TextChoices):
        QUARTER = "quarter", _("quarter")
        YEAR = "year", _("reporting year")
        CUSTOM = "custom", _("custom span")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")
        LOCKED = "locked", _("locked")

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="periods", verbose_name=_("programme")
    )
    code = models.CharField(_("code"), max_length=16, validators=[code_validator])
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.QUARTER)
    name_es = models.CharField(_("name (Spanish)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    due_date = models.DateField(_("due date"))
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.OPEN
    )
    reopened_until = models.DateField(
        _("reopened until"),
        null=True,
        blank=True,
        help_text=_(
            "Lets coordinators enter and submit this period's reports until this date, after "
            "its due date and grace period have passed (late reports)."
        ),
    )
    source = models.TextField(_("source"), blank=True)

    name = Bilingual()

    class Meta:
        ordering = ["programme", "start_date", "end_date", "code"]
        verbose_name = _("reporting period")
        verbose_name_plural = _("reporting periods")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "code"],
                name="period_code_unique_per_programme",
                violation_error_message=_(
                    "A period with this code already exists in the programme."
                ),
            ),
            models.UniqueConstraint(
                fields=["programme", "kind", "start_date", "end_date"],
                name="period_span_unique_per_programme",
                violation_error_message=_("A period of this kind already covers these dates."),
            ),
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")),
                name="period_dates_in_order",
                violation_error_message=_("End date cannot be before the start date."),
            ),
            models.CheckConstraint(
                condition=Q(due_date__gte=F("end_date")),
                name="period_due_after_end",
                violation_error_message=_("Due date cannot be before the end date."),
            ),
        ]

    def __str__(self) -> str:
        return self.name
