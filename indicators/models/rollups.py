"""What the achievement engine writes (DESIGN §4): rollups of approved values and the
data-quality issues it finds. Both are derived data: the engine rebuilds them from approved
values, targets and baselines, so they can always be recomputed."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from monitoring.models import Agency, City, Programme, ReportingPeriod

from .checks import AmountField
from .framework import DisaggregationCategory, Indicator
from .reports import IndicatorValue, ProgressReport


def _derived_fk(model: type[models.Model], **kwargs: object) -> models.ForeignKey:
    """A reference from derived data: no database constraint and no single-column index (the
    engine writes these rows in bulk; composite indexes below serve the reads)."""
    return models.ForeignKey(
        model,
        on_delete=models.CASCADE,
        db_constraint=False,
        db_index=False,
        related_name="+",
        **kwargs,  # type: ignore[arg-type]
    )


class Status(models.TextChoices):
    ACHIEVED = "achieved", _("achieved")
    ON_TRACK = "on_track", _("on track")
    AT_RISK = "at_risk", _("at risk")
    OFF_TRACK = "off_track", _("off track")
    NOT_ASSESSED = "not_assessed", _("not assessed (no target)")
    NO_DATA = "no_data", _("no data")


class Rollup(models.Model):
    """One figure of one indicator for one scope, span and disaggregation cell, as of one
    reporting period. ``span``: the period itself, the reporting year to date, or the life of
    the programme to date."""

    class Scope(models.TextChoices):
        PROGRAMME = "programme", _("programme")
        CITY = "city", _("city")
        AGENCY = "agency", _("agency")
        CITY_AGENCY = "city_agency", _("city × agency")

    class Span(models.TextChoices):
        PERIOD = "period", _("period")
        YTD = "ytd", _("year to date")
        LTD = "ltd", _("life to date")

    class Method(models.TextChoices):
        VALUE = "value", _("the approved value")
        SUM = "sum", _("sum")
        WEIGHTED = "weighted", _("weighted: Σ numerators / Σ denominators")
        UNWEIGHTED = "unweighted", _("unweighted mean (no respondent counts)")
        MEAN = "mean", _("unweighted mean (declared)")
        ALL = "all", _("yes when every city says yes")
        ANY = "any", _("yes when any city says yes")
        REPORTED = "reported", _("the total reported for the programme")
        CONSOLIDATED = "consolidated", _("the RCO's consolidated total")
        GROSS = "gross", _("gross sum of agencies (not de-duplicated)")

    programme = _derived_fk(Programme)
    indicator = _derived_fk(Indicator)
    scope = models.CharField(_("scope"), max_length=12, choices=Scope.choices)
    city = _derived_fk(City, null=True)
    agency = _derived_fk(Agency, null=True)
    span = models.CharField(_("span"), max_length=6, choices=Span.choices)
    period = _derived_fk(ReportingPeriod)
    as_of = models.DateField(_("as of"))
    category = _derived_fk(DisaggregationCategory, null=True)
    actual = AmountField(_("actual"), null=True)
    numerator = AmountField(_("numerator"), null=True)
    denominator = AmountField(_("denominator"), null=True)
    baseline = AmountField(_("baseline"), null=True)
    target = AmountField(_("target"), null=True)
    expected = AmountField(_("expected by now"), null=True)
    achievement = models.DecimalField(
        _("achievement %"), max_digits=12, decimal_places=2, null=True
    )
    pace = models.DecimalField(
        _("% of expected by now"), max_digits=12, decimal_places=2, null=True
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    method = models.CharField(_("how it was computed"), max_length=12, choices=Method.choices)
    n_values = models.PositiveIntegerField(_("source values"))
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("rollup")
        verbose_name_plural = _("rollups")
        indexes = [
            models.Index(
                fields=["programme", "span", "scope", "as_of"], name="rollup_programme_span"
            ),
            models.Index(fields=["indicator", "span", "as_of"], name="rollup_indicator_span"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id} {self.scope} {self.span} {self.as_of}: {self.actual}"


class QualityIssue(models.Model):
    """A data-quality finding, shown where the figure is shown and listed on one page. The
    message is rendered from ``check`` and ``details`` in the reader's language."""

    class Check(models.TextChoices):
        CELLS_SUM = "cells_sum", _("disaggregation cells do not add up to the total")
        COMPONENTS_SUM = "components_sum", _("total does not match its stated components")
        COMPONENTS_UNITS = "components_units", _("total adds components in different units")
        COMPONENTS_UNSTATED = "components_unstated", _("a stated component has no figure")
        UNWEIGHTED_MEAN = "unweighted_mean", _("unweighted mean where a weighted one is possible")
        SMALL_SAMPLE = "small_sample", _("percentage on fewer than 30 respondents")
        CHANGED_AFTER_APPROVAL = "changed_after_approval", _("value changed after approval")
        REPORT_MISSING = "report_missing", _("report missing")
        REPORT_LATE = "report_late", _("report submitted late")

    programme = _derived_fk(Programme)
    kind = models.CharField(_("check"), max_length=24, choices=Check.choices)
    indicator = _derived_fk(Indicator, null=True)
    report = _derived_fk(ProgressReport, null=True)
    value = _derived_fk(IndicatorValue, null=True)
    period = _derived_fk(ReportingPeriod, null=True)
    city = _derived_fk(City, null=True)
    agency = _derived_fk(Agency, null=True)
    details = models.JSONField(_("details"), default=dict)
    detected_at = models.DateTimeField(_("detected at"))

    class Meta:
        verbose_name = _("data-quality issue")
        verbose_name_plural = _("data-quality issues")
        indexes = [
            models.Index(fields=["programme", "kind"], name="quality_programme_kind"),
            models.Index(fields=["indicator"], name="quality_indicator"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.indicator_id or ''}"


class RecomputeRun(models.Model):
    """One run of the engine: when, over what, and whether it finished. The health endpoint
    and the operations page read the last successful one."""

    class Kind(models.TextChoices):
        FULL = "full", _("full recompute and data-quality run")
        INDICATORS = "indicators", _("affected indicators")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True)
    indicators = models.PositiveIntegerField(_("indicators"), default=0)
    rows = models.PositiveIntegerField(_("rollup rows"), default=0)
    issues = models.PositiveIntegerField(_("data-quality issues"), default=0)
    seconds = models.FloatField(_("seconds"), null=True)
    ok = models.BooleanField(_("finished"), default=False)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("engine run")
        verbose_name_plural = _("engine runs")

    def __str__(self) -> str:
        return f"{self.kind} {self.started_at:%Y-%m-%d %H:%M:%S} {'ok' if self.ok else 'failed'}"


class RecomputeRequest(models.Model):
    """An indicator whose rollups are stale. Written in the same transaction as the change
    (approval, restatement, target revision), so the request survives a broker that is down;
    the worker clears it when it has recomputed, and a periodic sweep picks up leftovers."""

    indicator = models.OneToOneField(
        Indicator, on_delete=models.CASCADE, related_name="+", primary_key=True
    )
    requested_at = models.DateTimeField(_("requested at"))

    class Meta:
        verbose_name = _("pending recompute")
        verbose_name_plural = _("pending recomputes")

    def __str__(self) -> str:
        return f"{self.indicator_id} since {self.requested_at:%Y-%m-%d %H:%M:%S}"
