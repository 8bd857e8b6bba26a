"""The achievement engine (DESIGN §4): rollups of approved values against targets, status,
and data-quality checks. ``refresh_indicators`` after a change, ``refresh_all`` nightly in one
process, or ``plan_run`` to split the nightly run between workers (``claims``)."""

from collections.abc import Iterable

from .claims import (
    compute_unit,
    finish_run,
    finish_stalled_runs,
    plan_run,
    resend_owed_units,
    units_pending,
)
from .recompute import RecomputeResult, recompute
from .requests import pending_indicator_ids, request_recompute


def refresh_indicators(indicator_ids: list[int]) -> RecomputeResult:
    """Recompute these indicators' rollups and re-run their data-quality checks."""
    from .quality import run_checks

    result = recompute(indicator_ids)
    run_checks(indicator_ids=indicator_ids)
    _refresh_budgets(_programmes_of(indicator_ids))
    return result


def _programmes_of(indicator_ids: list[int]) -> set[int]:
    from ..models import Indicator

    indicators = Indicator.objects.filter(pk__in=indicator_ids)
    return set(indicators.values_list("programme_id", flat=True))


def _refresh_budgets(programme_ids: Iterable[int] | None) -> None:
    """Budget figures ride on the same jobs: cost per result follows the indicators."""
    from budgets.figures import refresh_budgets

    refresh_budgets(None if programme_ids is None else set(programme_ids))


def rollups_missing() -> bool:
    """Approved figures exist but no rollup does: the table was emptied (a crash of
    PostgreSQL empties unlogged tables) and must be rebuilt."""
    from ..models import IndicatorValue, ProgressReport, Rollup

    return (
        not Rollup.objects.exists()
        and IndicatorValue.objects.filter(
            report__status__in=ProgressReport.APPROVED_STATUSES, value__isnull=False
        ).exists()
    )


def refresh_all() -> RecomputeResult:
    """Recompute every rollup and run every data-quality check (the nightly job)."""
    from .quality import run_checks

    _refresh_survey_feeds()
    result = recompute(None)
    result.issues = run_checks()
    _refresh_budgets(None)
    return result


def _refresh_survey_feeds(programme_ids: Iterable[int] | None = None) -> None:
    """Values computed from survey responses, refreshed before the rollups that use them
    (a feed declared or a survey's period changed since its responses last changed)."""
    from surveys.feeds import feed_refresh
    from surveys.models import IndicatorFeed

    feeds = IndicatorFeed.objects.select_related("question__survey", "indicator")
    if programme_ids is not None:
        feeds = feeds.filter(indicator__programme_id__in=list(programme_ids))
    for feed in feeds:
        feed_refresh(feed=feed)


__all__ = [
    "RecomputeResult",
    "compute_unit",
    "finish_run",
    "finish_stalled_runs",
    "pending_indicator_ids",
    "plan_run",
    "recompute",
    "refresh_all",
    "refresh_indicators",
    "request_recompute",
    "resend_owed_units",
    "rollups_missing",
    "units_pending",
]
