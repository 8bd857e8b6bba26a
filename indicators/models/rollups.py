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
    """One indicator's figures for one scope and disaggregation cell, as of one period with
    approved data, over three spans: the period itself, the reporting year to date (``ytd_``)
    and the life of the programme to date (``ltd_``, the headline). Spans are columns of one
    row rather than rows, so the engine writes a third of the rows (DESIGN §10 performance);
    exports and the API present them as rows."""

    class Scope(models.IntegerChoices):
        """Small integers: cheap to sort and index when a million rows are written."""

        CITY_AGENCY = 1, _("city × agency")
        CITY = 2, _("city")
        AGENCY = 3, _("agency")
        PROGRAMME = 4, _("programme")

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
    scope = models.PositiveSmallIntegerField(_("scope"), choices=Scope.choices)
    city = _derived_fk(City, null=True)
    agency = _derived_fk(Agency, null=True)
    period = _derived_fk(ReportingPeriod)
    as_of = models.DateField(_("as of"))
    category = _derived_fk(DisaggregationCategory, null=True)
    # the period itself
    actual = AmountField(_("actual in the period"), null=True)
    numerator = AmountField(_("numerator"), null=True)
    denominator = AmountField(_("denominator"), null=True)
    target = AmountField(_("target for the period"), null=True)
    achievement = models.DecimalField(
        _("achievement %"), max_digits=12, decimal_places=2, null=True
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    # the reporting year to date
    ytd_actual = AmountField(_("year to date"), null=True)
    ytd_target = AmountField(_("target for the year"), null=True)
    ytd_expected = AmountField(_("expected by now in the year"), null=True)
    ytd_achievement = models.DecimalField(
        _("achievement of the year %"), max_digits=12, decimal_places=2, null=True
    )
    ytd_status = models.CharField(_("status in the year"), max_length=12, choices=Status.choices)
    # the life of the programme to date
    ltd_actual = AmountField(_("to date"), null=True)
    ltd_numerator = AmountField(_("numerator to date"), null=True)
    ltd_denominator = AmountField(_("denominator to date"), null=True)
    baseline = AmountField(_("baseline"), null=True)
    ltd_target = AmountField(_("target"), null=True)
    ltd_expected = AmountField(_("expected by now"), null=True)
    ltd_achievement = models.DecimalField(
        _("achievement %"), max_digits=12, decimal_places=2, null=True
    )
    ltd_pace = models.DecimalField(
        _("% of expected by now"), max_digits=12, decimal_places=2, null=True
    )
    ltd_status = models.CharField(_("status to date"), max_length=12, choices=Status.choices)
    method = models.CharField(_("how it was computed"), max_length=12, choices=Method.choices)
    n_values = models.PositiveIntegerField(_("source values to date"))
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("rollup")
        verbose_name_plural = _("rollups")
        # Integer-only keys: cheap to maintain when the engine writes a million rows.
        indexes = [
            models.Index(
                fields=["programme", "scope", "category", "as_of"], name="rollup_programme"
            ),
            models.Index(fields=["indicator", "as_of"], name="rollup_indicator"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id} {self.scope} {self.as_of}: {self.ltd_actual}"


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
        PROGRAMMES = "programmes", _("every indicator of some programmes")

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


class RecomputeUnit(models.Model):
    """One share of a recompute split between workers: a batch of one programme's indicators.
    A worker claims it by locking its row for the one transaction that computes it and marks
    it done (``indicators.engine.claims``); ``computations`` counts the committed computations,
    so the record shows that each unit was computed once, and by whom."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        DONE = "done", _("done")
        SUPERSEDED = "superseded", _("superseded by a later run")

    run = models.ForeignKey(
        RecomputeRun, on_delete=models.CASCADE, related_name="units", verbose_name=_("run")
    )
    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="+", verbose_name=_("programme")
    )
    indicator_ids = models.JSONField(_("indicators"), default=list)
    state = models.CharField(
        _("state"), max_length=12, choices=State.choices, default=State.PENDING
    )
    enqueued_at = models.DateTimeField(_("sent to the workers at"))
    started_at = models.DateTimeField(_("started at"), null=True)
    finished_at = models.DateTimeField(_("finished at"), null=True)
    computed_by = models.CharField(_("computed by"), max_length=200, blank=True)
    computations = models.PositiveIntegerField(_("computations"), default=0)
    rows = models.PositiveIntegerField(_("rollup rows"), default=0)
    error = models.TextField(_("last error"), blank=True)

    class Meta:
        ordering = ["pk"]  # no join: a unit's row is locked alone
        verbose_name = _("recompute unit")
        verbose_name_plural = _("recompute units")
        indexes = [models.Index(fields=["state", "enqueued_at"], name="recompute_unit_owed")]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.pk} {self.state}"
