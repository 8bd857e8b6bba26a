"""Status summaries: an outcome's, a city's or an agency's status summarises its indicators
by the share on track (achieved or on track among those assessed); units are never averaged.
Pure functions of plain rows."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .models import Status

ORDER = [
    Status.ACHIEVED,
    Status.ON_TRACK,
    Status.AT_RISK,
    Status.OFF_TRACK,
    Status.NOT_ASSESSED,
    Status.NO_DATA,
]
ASSESSED = {Status.ACHIEVED, Status.ON_TRACK, Status.AT_RISK, Status.OFF_TRACK}
GOOD = {Status.ACHIEVED, Status.ON_TRACK}
# Worst first: an indicator measured in several cities without a programme total takes the
# worst of its cities' statuses.
SEVERITY: dict[str, int] = {
    Status.OFF_TRACK: 0,
    Status.AT_RISK: 1,
    Status.ON_TRACK: 2,
    Status.ACHIEVED: 3,
    Status.NOT_ASSESSED: 4,
    Status.NO_DATA: 5,
}


@dataclass
class Summary:
    counts: Counter[str] = field(default_factory=Counter)
    status: str = Status.NO_DATA

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def assessed(self) -> int:
        return sum(self.counts[s] for s in ASSESSED)

    @property
    def good(self) -> int:
        return sum(self.counts[s] for s in GOOD)

    @property
    def share_on_track(self) -> Decimal | None:
        if not self.assessed:
            return None
        return (Decimal(self.good) * 100 / self.assessed).quantize(Decimal("1"))

    def ordered_counts(self) -> list[tuple[str, int]]:
        return [(s, self.counts[s]) for s in ORDER if self.counts[s]]


def summarise(statuses: Iterable[str], *, on_track: Decimal, at_risk: Decimal) -> Summary:
    """Summarise indicator statuses with the programme's thresholds applied to the share of
    assessed indicators that are achieved or on track."""
    summary = Summary(counts=Counter(statuses))
    if not summary.assessed:
        summary.status = (
            Status.NOT_ASSESSED if summary.counts[Status.NOT_ASSESSED] else Status.NO_DATA
        )
    elif summary.counts[Status.ACHIEVED] == summary.assessed:
        summary.status = Status.ACHIEVED
    else:
        share = Decimal(summary.good) * 100 / summary.assessed
        summary.status = (
            Status.ON_TRACK
            if share >= on_track
            else Status.AT_RISK
            if share >= at_risk
            else Status.OFF_TRACK
        )
    return summary


def worst(statuses: Iterable[str]) -> str:
    statuses = list(statuses)
    return min(statuses, key=lambda s: SEVERITY[s]) if statuses else Status.NO_DATA


def indicator_statuses(
    indicators: Iterable[Any], programme_rows: list[dict], city_rows: list[dict]
) -> dict[int, str]:
    """Each indicator's headline status: its programme figure, else the worst of its cities'
    (city-specific indicators have no programme total), else no data."""
    by_programme = {r["indicator_id"]: r["status"] for r in programme_rows}
    by_city: dict[int, list[str]] = {}
    for r in city_rows:
        by_city.setdefault(r["indicator_id"], []).append(r["status"])
    return {i.pk: by_programme.get(i.pk) or worst(by_city.get(i.pk, [])) for i in indicators}
