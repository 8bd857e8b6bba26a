"""Budget figures (DESIGN §6): budget, revised budget, transferred, spent, balance, execution
rate and burn against elapsed time per programme, agency, country, agency × country,
category, outcome and output, with cost per result where an output's indicator has an
actual. Computed from approved expenditures only and written to ``BudgetFigure`` by the
engine's jobs (after each recompute and nightly). A programme has tens or hundreds of lines,
so plain Python over a few queries is the right tool here."""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from indicators.models import Rollup
from monitoring.models import Outcome, Programme

from .models import BudgetFigure, BudgetLine, Expenditure, Transfer

Scope = BudgetFigure.Scope
Burn = BudgetFigure.Burn
HUNDRED = Decimal(100)
# Spending more than this many points ahead of the time elapsed, or further behind it, is
# flagged (the fund's reviews look at both: money out before results, and money not spent).
AHEAD_POINTS = Decimal(15)
BEHIND_POINTS = Decimal(25)


@dataclass
class LineSpend:
    spent: Decimal | None
    as_of: dt.date | None


def line_spend(expenditures: list[Expenditure]) -> LineSpend:
    """What a line spent: its latest cumulative figure plus the period figures after it, or
    the sum of its period figures; None when nothing was reported."""
    if not expenditures:
        return LineSpend(None, None)
    cumulative = [e for e in expenditures if e.cumulative]
    base = max(cumulative, key=lambda e: e.as_of) if cumulative else None
    after = [
        e
        for e in expenditures
        if not e.cumulative and (base is None or e.period.start_date > base.as_of)
    ]
    spent = (base.amount if base else Decimal(0)) + sum((e.amount for e in after), Decimal(0))
    return LineSpend(spent, max(e.as_of for e in expenditures))


@dataclass
class Bucket:
    """Sums for one scope."""

    budget: Decimal = Decimal(0)
    revised: Decimal = Decimal(0)
    spent: Decimal | None = None
    as_of: dt.date | None = None
    missing: int = 0
    reported: Decimal = Decimal(0)  # the revised budget of the lines that reported spending
    transferred: Decimal | None = None
    keys: dict[str, int | None] = field(default_factory=dict)

    def add_line(self, line: BudgetLine, spend: LineSpend | None) -> None:
        self.budget += line.original_amount
        self.revised += line.amount
        if spend is None:  # a category split: money, but no expenditure of its own
            return
        if spend.spent is None:
            self.missing += 1
            return
        self.spent = (self.spent or Decimal(0)) + spend.spent
        self.reported += line.amount
        if spend.as_of and (self.as_of is None or spend.as_of > self.as_of):
            self.as_of = spend.as_of


def elapsed_share(start: dt.date, end: dt.date, on: dt.date) -> Decimal:
    """Share of the programme's time gone by on ``on`` (0–100)."""
    total = (end - start).days
    if total <= 0:
        return HUNDRED
    gone = min(max((on - start).days, 0), total)
    return (Decimal(gone) * HUNDRED / total).quantize(Decimal("0.01"), ROUND_HALF_UP)


def burn(execution: Decimal | None, elapsed: Decimal | None) -> str:
    if execution is None or elapsed is None:
        return Burn.NO_DATA
    if execution > elapsed + AHEAD_POINTS:
        return Burn.AHEAD
    if execution < elapsed - BEHIND_POINTS:
        return Burn.BEHIND
    return Burn.ON_PACE


def end_date(programme: Programme) -> dt.date:
    """The programme's end, moved by its latest no-cost extension."""
    latest = programme.extensions.order_by("-new_end_date").first()
    return max(programme.end_date, latest.new_end_date) if latest else programme.end_date


def compute(programme: Programme, today: dt.date | None = None) -> list[BudgetFigure]:
    """Every figure of one programme (unsaved)."""
    today = today or timezone.localdate()
    lines = list(
        BudgetLine.objects.filter(programme=programme).select_related("category", "output__outcome")
    )
    spends = _spends([ln for ln in lines if ln.view == BudgetLine.View.LINE])
    buckets = _buckets(programme, lines, spends)
    _transfers(programme, buckets)
    end = end_date(programme)
    now = timezone.now()
    figures = [
        _figure(programme, scope, bucket, programme.start_date, end, today, now)
        for (scope, _key), bucket in buckets.items()
    ]
    figures += _cost_per_result(programme, buckets, now)
    return figures


def _spends(lines: list[BudgetLine]) -> dict[int, LineSpend]:
    by_line: dict[int, list[Expenditure]] = defaultdict(list)
    for e in Expenditure.objects.filter(
        line__in=lines, status=Expenditure.Status.APPROVED
    ).select_related("period"):
        by_line[e.line_id].append(e)
    return {ln.pk: line_spend(by_line.get(ln.pk, [])) for ln in lines}


def _buckets(
    programme: Programme, lines: list[BudgetLine], spends: dict[int, LineSpend]
) -> dict[tuple[str, tuple], Bucket]:
    """Lines into their scopes; category splits only into categories and outcomes when the
    lines themselves carry no category."""
    buckets: dict[tuple[str, tuple], Bucket] = {}
    # "Outcome 1" of the fund's categories is the programme's first outcome, and so on.
    ordered = Outcome.objects.filter(programme=programme).order_by("order", "code")
    outcomes = {n: o for n, o in enumerate(ordered, start=1)}
    real = [ln for ln in lines if ln.view == BudgetLine.View.LINE]
    split = [ln for ln in lines if ln.view == BudgetLine.View.CATEGORY_SPLIT]
    by_category = real if any(ln.category_id for ln in real) else split
    for line in real:
        spend = spends[line.pk]
        for scope, keys in _line_scopes(line):
            _bucket(buckets, scope, keys).add_line(line, spend)
    for line in by_category:
        split_spend = spends.get(line.pk) if line.view == BudgetLine.View.LINE else None
        if line.category_id:
            category: dict[str, int | None] = {"category": line.category_id}
            _bucket(buckets, Scope.CATEGORY, category).add_line(line, split_spend)
        outcome = _funded_outcome(line, outcomes)
        if outcome is not None and not line.output_id:
            _bucket(buckets, Scope.OUTCOME, {"outcome": outcome.pk}).add_line(line, split_spend)
    return buckets


def _line_scopes(line: BudgetLine) -> Iterable[tuple[str, dict[str, int | None]]]:
    yield Scope.PROGRAMME, {}
    yield Scope.AGENCY, {"agency": line.agency_id}
    yield Scope.COUNTRY, {"country": line.country_id}
    yield Scope.AGENCY_COUNTRY, {"agency": line.agency_id, "country": line.country_id}
    if line.output_id and line.output:
        yield Scope.OUTPUT, {"output": line.output_id}
        yield Scope.OUTCOME, {"outcome": line.output.outcome_id}


def _funded_outcome(line: BudgetLine, outcomes: dict[int, Outcome]) -> Outcome | None:
    number = line.category.funds_outcome if line.category_id and line.category else None
    return outcomes.get(number) if number else None


def _bucket(buckets: dict, scope: str, keys: dict[str, int | None]) -> Bucket:
    key = (scope, tuple(sorted(keys.items())))
    if key not in buckets:
        buckets[key] = Bucket(keys=keys)
    return buckets[key]


def _transfers(programme: Programme, buckets: dict[tuple[str, tuple], Bucket]) -> None:
    sums: dict[int, Decimal] = defaultdict(Decimal)
    for t in Transfer.objects.filter(programme=programme):
        sums[t.agency_id] += t.amount
    if not sums:
        return
    for (scope, _key), bucket in buckets.items():
        if scope == Scope.AGENCY:
            bucket.transferred = sums.get(bucket.keys["agency"] or 0, Decimal(0))
        elif scope == Scope.PROGRAMME:
            bucket.transferred = sum(sums.values(), Decimal(0))


def _figure(
    programme: Programme,
    scope: str,
    b: Bucket,
    start: dt.date,
    end: dt.date,
    today: dt.date,
    now: dt.datetime,
) -> BudgetFigure:
    # Against the budget of the lines that reported: a line with no report is missing, not
    # unspent (it is counted in ``missing_expenditure`` and the balance stays unknown).
    execution = (
        (b.spent * HUNDRED / b.reported).quantize(Decimal("0.01"), ROUND_HALF_UP)
        if b.spent is not None and b.reported
        else None
    )
    elapsed = elapsed_share(start, end, b.as_of or today)
    return BudgetFigure(
        programme=programme,
        scope=scope,
        currency=programme.currency,
        budget=b.budget,
        revised=b.revised,
        transferred=b.transferred,
        spent=b.spent,
        balance=b.revised - b.spent if b.spent is not None and not b.missing else None,
        execution=execution,
        elapsed=elapsed,
        burn=burn(execution, elapsed),
        spent_as_of=b.as_of,
        missing_expenditure=b.missing,
        computed_at=now,
        **{f"{k}_id": v for k, v in b.keys.items()},
    )


def _cost_per_result(
    programme: Programme, buckets: dict[tuple[str, tuple], Bucket], now: dt.datetime
) -> list[BudgetFigure]:
    """An output's spending ÷ the life-to-date actual of each of its indicators."""
    out: list[BudgetFigure] = []
    spent_by_output = {
        b.keys["output"]: b for (scope, _k), b in buckets.items() if scope == Scope.OUTPUT
    }
    if not spent_by_output:
        return out
    rollups = (
        Rollup.objects.filter(
            programme=programme,
            scope=Rollup.Scope.PROGRAMME,
            category__isnull=True,
            indicator__output_id__in=list(spent_by_output),
            indicator__is_active=True,
        )
        .select_related("indicator")
        .order_by("indicator_id", "-as_of")
    )
    seen: set[int] = set()
    for r in rollups:
        if r.indicator_id in seen:
            continue
        seen.add(r.indicator_id)
        b = spent_by_output[r.indicator.output_id]
        actual = r.ltd_actual
        cost = (
            (b.spent / actual).quantize(Decimal("0.01"), ROUND_HALF_UP)
            if b.spent is not None and actual
            else None
        )
        out.append(
            BudgetFigure(
                programme=programme, scope=Scope.OUTPUT, output_id=r.indicator.output_id,
                indicator_id=r.indicator_id, indicator_actual=actual, spent=b.spent,
                budget=b.budget, revised=b.revised, cost_per_result=cost, burn=Burn.NO_DATA,
                currency=programme.currency, computed_at=now,
            )
        )  # fmt: skip
    return out


def refresh_budgets(programme_ids: Iterable[int] | None = None) -> int:
    """Recompute the figures and findings of these programmes (all when None)."""
    from .checks import run_checks

    programmes = Programme.objects.all()
    if programme_ids is not None:
        programmes = programmes.filter(pk__in=list(programme_ids))
    written = 0
    for programme in programmes.filter(budget_lines__isnull=False).distinct():
        figures = compute(programme)
        with transaction.atomic():
            BudgetFigure.objects.filter(programme=programme).delete()
            BudgetFigure.objects.bulk_create(figures)
            run_checks(programme)
        written += len(figures)
    return written
