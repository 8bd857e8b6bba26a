"""Progress reports and their values, with the components a source says a total is made of."""

import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from monitoring.bilingual import Bilingual
from monitoring.models import Agency, City, Programme, ReportingPeriod

from .checks import AmountField, check_city_in_scope, check_value_fits_measure
from .framework import DisaggregationCategory, Indicator


def evidence_path(instance: Any, filename: str) -> str:
    """Evidence is stored under a random name (the original name is kept in the path's last
    part only as a hint) and is only ever served as a download by a view that checks access."""
    stem = slugify(Path(filename).stem)[:60] or "evidence"
    suffix = Path(filename).suffix.lower()[:10]
    programme = getattr(instance, "programme_id", None) or instance.report.programme_id
    return f"evidence/{programme}/{uuid.uuid4().hex}/{stem}{suffix}"


class ProgressReport(models.Model):
    """Progress for one programme × agency × city × period. A report without an agency is a
    joint (consolidated) report; one without a city covers the whole programme: that is how
    the RCO enters de-duplicated totals, and how historical figures reported for the programme
    as a whole are held."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SUBMITTED = "submitted", _("submitted")
        RETURNED = "returned", _("returned")
        APPROVED = "approved", _("approved")
        VALIDATED = "validated", _("validated")

    APPROVED_STATUSES = (Status.APPROVED, Status.VALIDATED)

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="reports", verbose_name=_("programme")
    )
    agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("agency"),
        help_text=_("Empty for a joint, consolidated report."),
    )
    city = models.ForeignKey(
        City,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("city"),
        help_text=_("Empty for figures that cover the whole programme."),
    )
    period = models.ForeignKey(
        ReportingPeriod, on_delete=models.RESTRICT, related_name="reports", verbose_name=_("period")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    narrative_es = models.TextField(_("narrative (Spanish)"), blank=True)
    narrative_en = models.TextField(_("narrative (English)"), blank=True)
    is_historical = models.BooleanField(
        _("historical"),
        default=False,
        help_text=_("Loaded from a past report rather than entered through the workflow."),
    )
    as_of = models.DateField(_("as of"), null=True, blank=True)
    source = models.TextField(_("source"), blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    validated_at = models.DateTimeField(_("validated at"), null=True, blank=True)
    validated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("validated by"),
    )
    return_reason = models.TextField(
        _("reason for return"),
        blank=True,
        default="",
        db_default="",
        help_text=_("Why the approver sent the report back; shown to the coordinator."),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("last saved by"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    narrative = Bilingual()

    class Meta:
        ordering = ["programme", "period__start_date", "agency__code", "city__code"]
        verbose_name = _("progress report")
        verbose_name_plural = _("progress reports")
        constraints = [
            models.UniqueConstraint(
                F("programme"),
                Coalesce(F("agency"), Value(0)),
                Coalesce(F("city"), Value(0)),
                F("period"),
                name="report_unique_per_agency_city_period",
                violation_error_message=_(
                    "A report for this agency, city and period already exists."
                ),
            ),
            models.CheckConstraint(
                condition=Q(agency__isnull=True) | Q(city__isnull=False),
                name="report_agency_needs_city",
                violation_error_message=_(
                    "An agency reports for one city; only joint reports cover the whole programme."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "validated"]) | Q(approved_at__isnull=False),
                name="report_approved_has_date",
                violation_error_message=_("An approved report needs its approval date."),
            ),
        ]

    def __str__(self) -> str:
        agency = self.agency.code if self.agency_id and self.agency else "JOINT"
        city = self.city.code if self.city_id and self.city else "ALL"
        return f"{self.programme.code} {agency} {city} {self.period.code}"

    @property
    def is_approved(self) -> bool:
        return self.status in self.APPROVED_STATUSES

    def clean(self) -> None:
        if self.period_id and self.programme_id and self.period.programme_id != self.programme_id:
            raise ValidationError({"period": _("It belongs to another programme.")})
        if (
            self.city_id
            and self.programme_id
            and not self.programme.cities.filter(pk=self.city_id).exists()
        ):
            raise ValidationError({"city": _("This city is not part of the programme.")})
        if (
            self.agency_id
            and self.programme_id
            and not self.programme.agencies.filter(pk=self.agency_id).exists()
        ):
            raise ValidationError({"agency": _("This agency does not take part in the programme.")})


class IndicatorValue(models.Model):
    """One figure of a report: the total (no category) or one disaggregation cell.
    Percentages keep their numerator and denominator when known, so totals can be weighted."""

    class Provenance(models.TextChoices):
        ENTERED = "entered", _("entered")
        REPORTED = "reported", _("as printed in the source")
        DERIVED = "derived", _("derived from printed figures")
        INFERRED = "inferred", _("inferred")
        SURVEY = "survey", _("computed from survey responses")

    report = models.ForeignKey(
        ProgressReport, on_delete=models.CASCADE, related_name="values", verbose_name=_("report")
    )
    indicator = models.ForeignKey(
        Indicator, on_delete=models.RESTRICT, related_name="values", verbose_name=_("indicator")
    )
    category = models.ForeignKey(
        DisaggregationCategory,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("disaggregation cell"),
        help_text=_("Empty for the total."),
    )
    value = AmountField(_("value"), null=True, blank=True)
    numerator = AmountField(_("numerator"), null=True, blank=True)
    denominator = AmountField(_("denominator"), null=True, blank=True)
    text_value = models.TextField(_("text"), blank=True)
    comment = models.TextField(_("comment"), blank=True)
    provenance = models.CharField(
        _("provenance"), max_length=10, choices=Provenance.choices, default=Provenance.ENTERED
    )
    quality_note_es = models.TextField(_("data-quality note (Spanish)"), blank=True)
    quality_note_en = models.TextField(_("data-quality note (English)"), blank=True)
    source = models.TextField(_("source"), blank=True)
    evidence = models.FileField(
        _("evidence file"),
        upload_to=evidence_path,
        blank=True,
        max_length=300,
        default="",
        db_default="",
    )
    evidence_url = models.URLField(
        _("evidence link"), blank=True, max_length=500, default="", db_default=""
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    quality_note = Bilingual()

    class Meta:
        ordering = ["report", "indicator__order", "indicator__code", "category__order"]
        verbose_name = _("indicator value")
        verbose_name_plural = _("indicator values")
        constraints = [
            models.UniqueConstraint(
                F("report"),
                F("indicator"),
                Coalesce(F("category"), Value(0)),
                name="value_unique_per_report_indicator_cell",
                violation_error_message=_(
                    "This report already has a value for this indicator and cell."
                ),
            ),
            models.CheckConstraint(
                condition=Q(value__isnull=True) | Q(value__gte=0),
                name="value_non_negative",
                violation_error_message=_("A value cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(numerator__isnull=True) | Q(numerator__gte=0),
                name="value_numerator_non_negative",
                violation_error_message=_("A numerator cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(denominator__isnull=True) | Q(denominator__gt=0),
                name="value_denominator_positive",
                violation_error_message=_("A denominator must be greater than zero."),
            ),
            models.CheckConstraint(
                condition=Q(numerator__isnull=True)
                | Q(denominator__isnull=True)
                | Q(numerator__lte=F("denominator")),
                name="value_numerator_within_denominator",
                violation_error_message=_("The numerator cannot exceed the denominator."),
            ),
        ]

    def __str__(self) -> str:
        cell = self.category.cell if self.category_id and self.category else "total"
        return f"{self.indicator} {cell}: {self.display_value}"

    @property
    def display_value(self) -> str:
        if self.indicator.measure == Indicator.Measure.TEXT:
            return self.text_value
        if self.value is None:
            return "—"
        if self.indicator.measure == Indicator.Measure.YES_NO:
            return str(_("yes")) if self.value == 1 else str(_("no"))
        text = f"{self.value.normalize():f}"
        return f"{text} %" if self.indicator.measure == Indicator.Measure.PERCENT else text

    def clean(self) -> None:
        if not (self.indicator_id and self.report_id):
            return
        indicator, report = self.indicator, self.report
        if indicator.programme_id != report.programme_id:
            raise ValidationError({"indicator": _("It belongs to another programme.")})
        check_city_in_scope(indicator, report.city if report.city_id else None, "indicator")
        if indicator.measure == Indicator.Measure.TEXT:
            if not self.text_value.strip():
                raise ValidationError({"text_value": _("Enter the text.")})
        elif self.value is None:
            raise ValidationError({"value": _("Enter a value.")})
        check_value_fits_measure(indicator, self.value, "value")
        if (
            self.numerator is not None or self.denominator is not None
        ) and not indicator.is_percent:
            raise ValidationError(
                {"numerator": _("Numerator and denominator are for percentages.")}
            )
        if self.numerator is not None and self.denominator and self.value is not None:
            computed = self.numerator / self.denominator * 100
            if abs(computed - self.value) > Decimal("0.5"):
                raise ValidationError(
                    {
                        "value": _(
                            "%(value)s %% does not match %(num)s / %(den)s = %(computed)s %%."
                        )
                        % {
                            "value": self.value,
                            "num": self.numerator,
                            "den": self.denominator,
                            "computed": round(computed, 1),
                        }
                    }
                )
        category = self.category if self.category_id else None
        if (
            category is not None
            and not indicator.dimensions.filter(pk=category.dimension_id).exists()
        ):
            raise ValidationError(
                {
                    "category": _("Indicator %(code)s is not disaggregated by %(dimension)s.")
                    % {"code": indicator.code, "dimension": category.dimension.code}
                }
            )


class ValueComponent(models.Model):
    """A part a source states a total is made of ("44 in 2021 workshops + 40 in the 2022
    course + …"). Kept so the data-quality checks can compare parts and total, and units."""

    value = models.ForeignKey(
        IndicatorValue,
        on_delete=models.CASCADE,
        related_name="components",
        verbose_name=_("value"),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    label_es = models.TextField(_("description (Spanish)"))
    label_en = models.TextField(_("description (English)"))
    amount = AmountField(
        _("amount"),
        null=True,
        blank=True,
        help_text=_("Empty when the source gives none."),
    )
    unit_es = models.CharField(_("unit (Spanish)"), max_length=60, blank=True)
    unit_en = models.CharField(_("unit (English)"), max_length=60, blank=True)
    city = models.ForeignKey(
        City, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("city")
    )
    source = models.TextField(_("source"), blank=True)

    label = Bilingual()
    unit = Bilingual()

    class Meta:
        ordering = ["value", "order", "id"]
        verbose_name = _("stated component")
        verbose_name_plural = _("stated components")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0),
                name="component_amount_non_negative",
                violation_error_message=_("A component cannot be negative."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.amount if self.amount is not None else '?'} {self.unit} — {self.label}"[:120]
