"""What an indicator is measured against: baselines, targets and target revisions."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from monitoring.models import Agency, City, ReportingPeriod

from .checks import AmountField, check_city_in_scope, check_value_fits_measure
from .framework import DisaggregationCategory, Indicator


class Baseline(models.Model):
    """The starting value of an indicator, for one city or (no city) the whole programme."""

    indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="baselines", verbose_name=_("indicator")
    )
    city = models.ForeignKey(
        City,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("city"),
        help_text=_("Empty for the whole programme."),
    )
    value = AmountField(_("value"))
    date = models.DateField(_("date"))
    source = models.TextField(_("source"), blank=True)

    class Meta:
        ordering = ["indicator", "city__code"]
        verbose_name = _("baseline")
        verbose_name_plural = _("baselines")
        constraints = [
            models.UniqueConstraint(
                F("indicator"),
                Coalesce(F("city"), Value(0)),
                name="baseline_unique_per_indicator_city",
                violation_error_message=_("This indicator already has a baseline for this city."),
            ),
            models.CheckConstraint(
                condition=Q(value__gte=0),
                name="baseline_value_non_negative",
                violation_error_message=_("A baseline cannot be negative."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} {self.city or 'ALL'}: {self.value}"

    def clean(self) -> None:
        if self.indicator_id:
            check_city_in_scope(self.indicator, self.city if self.city_id else None)
            check_value_fits_measure(self.indicator, self.value, "value")


class Target(models.Model):
    """A target for one scope (programme, city or city × agency), one span (life of the
    programme when no period is given) and one cell (the total when no category is given).
    ``original_value`` never changes; revisions move ``value`` and are kept with a reason."""

    class Scope(models.TextChoices):
        PROGRAMME = "programme", _("programme")
        CITY = "city", _("city")
        CITY_AGENCY = "city_agency", _("city × agency")

    indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="targets", verbose_name=_("indicator")
    )
    city = models.ForeignKey(
        City, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("city")
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("agency")
    )
    period = models.ForeignKey(
        ReportingPeriod,
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        verbose_name=_("period"),
        help_text=_("Empty for the life of the programme."),
    )
    category = models.ForeignKey(
        DisaggregationCategory,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("disaggregation cell"),
        help_text=_("Empty for the total."),
    )
    original_value = AmountField(_("original value"))
    value = AmountField(_("current value"))
    source = models.TextField(_("source"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["indicator", "period__start_date", "city__code", "agency__code"]
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        constraints = [
            models.UniqueConstraint(
                F("indicator"),
                Coalesce(F("city"), Value(0)),
                Coalesce(F("agency"), Value(0)),
                Coalesce(F("period"), Value(0)),
                Coalesce(F("category"), Value(0)),
                name="target_unique_per_scope_period_cell",
                violation_error_message=_(
                    "This indicator already has a target for this scope, period and cell."
                ),
            ),
            models.CheckConstraint(
                condition=Q(value__gte=0) & Q(original_value__gte=0),
                name="target_values_non_negative",
                violation_error_message=_("A target cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(agency__isnull=True) | Q(city__isnull=False),
                name="target_agency_needs_city",
                violation_error_message=_("An agency target is set per city: choose the city."),
            ),
        ]

    def __str__(self) -> str:
        period = self.period.code if self.period_id and self.period else "LOP"
        return f"{self.indicator} {self.scope_label} {period}: {self.value}"

    @property
    def scope(self) -> str:
        if self.agency_id:
            return self.Scope.CITY_AGENCY
        if self.city_id:
            return self.Scope.CITY
        return self.Scope.PROGRAMME

    @property
    def scope_label(self) -> str:
        parts = [self.city.code if self.city_id and self.city else "ALL"]
        if self.agency_id and self.agency:
            parts.append(self.agency.code)
        return "×".join(parts)

    @property
    def is_revised(self) -> bool:
        return self.value != self.original_value

    def clean(self) -> None:
        if not self.indicator_id:
            return
        indicator = self.indicator
        check_city_in_scope(indicator, self.city if self.city_id else None)
        check_value_fits_measure(indicator, self.value, "value")
        check_value_fits_measure(indicator, self.original_value, "original_value")
        period = self.period if self.period_id else None
        if period is not None and period.programme_id != indicator.programme_id:
            raise ValidationError({"period": _("It belongs to another programme.")})
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
        if self.agency_id and not indicator.programme.agencies.filter(pk=self.agency_id).exists():
            raise ValidationError({"agency": _("This agency does not take part in the programme.")})


class TargetRevision(models.Model):
    """One change of a target's value: the old and new value, why, who and when."""

    target = models.ForeignKey(
        Target, on_delete=models.CASCADE, related_name="revisions", verbose_name=_("target")
    )
    old_value = AmountField(_("old value"))
    new_value = AmountField(_("new value"))
    reason = models.TextField(_("reason"))
    revised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revised by"),
    )
    revised_at = models.DateTimeField(_("revised at"), auto_now_add=True)

    class Meta:
        ordering = ["target", "revised_at", "id"]
        verbose_name = _("target revision")
        verbose_name_plural = _("target revisions")
        constraints = [
            models.CheckConstraint(
                condition=~Q(reason=""),
                name="target_revision_has_reason",
                violation_error_message=_("A target revision needs a reason."),
            ),
            models.CheckConstraint(
                condition=Q(new_value__gte=0),
                name="target_revision_non_negative",
                violation_error_message=_("A target cannot be negative."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target}: {self.old_value} → {self.new_value}"
