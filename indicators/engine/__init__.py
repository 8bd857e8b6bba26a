"""The achievement engine (DESIGN §4): rollups of approved values against targets, status,
and data-quality checks. ``refresh_indicators`` after a change, ``refresh_all`` nightly."""

from .recompute import RecomputeResult, recompute
from .requests import pending_indicator_ids, request_recompute


def refresh_indicators(indicator_ids: list[int]) -> RecomputeResult:
    """Recompute these indicators' rollups and re-run their data-quality checks."""
    from .quality import run_checks

    result = recompute(indicator_ids)
    run_checks(indicator_ids=indicator_ids)
    _refresh_budgets(indicator_ids)
    return result


def _refresh_budgets(indicator_ids: list[int] | None) -> None:
    """Budget figures ride on the same jobs: cost per result follows the indicators."""
    from budgets.figures import refresh_budgets

    from ..models import Indicator

    if indicator_ids is None:
        refresh_budgets()
        return
    programmes = Indicator.objects.filter(pk__in=indicator_ids).values_list(
        "programme_id", flat=True
    )
    refresh_budgets(set(programmes))


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


def _refresh_survey_feeds() -> None:
    """Values computed from survey responses, refreshed before the rollups that use them
    (a feed declared or a survey's period changed since its responses last changed)."""
    from surveys.feeds import feed_refresh
    from surveys.models import IndicatorFeed

    for feed in IndicatorFeed.objects.select_related("question__survey", "indicator"):
        feed_refresh(feed=feed)


__all__ = [
    "RecomputeResult",
    "pending_indicator_ids",
    "recompute",
    "refresh_all",
    "refresh_indicators",
    "request_recompute",
    "rollups_missing",
]
