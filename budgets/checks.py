"""The budget's data-quality checks: indirect support costs above the fund's ceiling, a
category split that does not add up to the agency's budget, printed totals that differ from
the sum of the agencies, a budget stated beside an expenditure that differs from the line,
lines without expenditure while others report, more spent than budgeted. Each finding keeps
the figures it is about; ``describe`` says it in the active language."""

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from monitoring.models import Programme

from .figures import LineSpend, line_spend
from .models import BudgetFinding, BudgetLine, Expenditure, StatedTotal

Check = BudgetFinding.Check
View = BudgetLine.View


def _num(x: Decimal) -> str:
    return f"{x.normalize():f}"


def run_checks(programme: Programme) -> list[BudgetFinding]:
    lines = list(BudgetLine.objects.filter(programme=programme).select_related("category"))
    real = [ln for ln in lines if ln.view == View.LINE]
    split = [ln for ln in lines if ln.view == View.CATEGORY_SPLIT]
    expenditures = list(
        Expenditure.objects.filter(
            line__in=real, status=Expenditure.Status.APPROVED
        ).select_related("period")
    )
    findings = [
        *_indirect(programme, real if any(ln.category_id for ln in real) else split),
        *_split_mismatch(real, split),
        *_stated_totals(programme, real, split),
        *_stated_budgets(expenditures),
        *_spending(real, expenditures),
    ]
    now = timezone.now()
    for f in findings:
        f.programme = programme
        f.detected_at = now
    BudgetFinding.objects.filter(programme=programme).delete()
    return BudgetFinding.objects.bulk_create(findings)


def _by_agency(lines: list[BudgetLine]) -> dict[int, list[BudgetLine]]:
    out: dict[int, list[BudgetLine]] = defaultdict(list)
    for ln in lines:
        out[ln.agency_id].append(ln)
    return out


def _indirect(programme: Programme, lines: list[BudgetLine]) -> list[BudgetFinding]:
    """Indirect support costs as a share of direct costs, per agency, to two decimals."""
    out = []
    ceiling = programme.indirect_ceiling
    for agency_id, rows in _by_agency(lines).items():
        indirect = sum(
            (ln.amount for ln in rows if ln.category and ln.category.is_indirect), Decimal(0)
        )
        direct = sum((ln.amount for ln in rows), Decimal(0)) - indirect
        if not indirect or not direct:
            continue
        share = (indirect * 100 / direct).quantize(Decimal("0.01"), ROUND_HALF_UP)
        if share > ceiling:
            out.append(
                BudgetFinding(
                    kind=Check.INDIRECT_CEILING,
                    agency_id=agency_id,
                    details={"indirect": _num(indirect), "direct": _num(direct),
                             "share": _num(share), "ceiling": _num(ceiling)},
                )
            )  # fmt: skip
    return out


def _split_mismatch(real: list[BudgetLine], split: list[BudgetLine]) -> list[BudgetFinding]:
    out = []
    lines_by_agency = _by_agency(real)
    for agency_id, rows in _by_agency(split).items():
        by_split = sum((ln.amount for ln in rows), Decimal(0))
        by_lines = sum((ln.amount for ln in lines_by_agency.get(agency_id, [])), Decimal(0))
        if by_split != by_lines:
            out.append(
                BudgetFinding(
                    kind=Check.SPLIT_MISMATCH,
                    agency_id=agency_id,
                    details={"split": _num(by_split), "lines": _num(by_lines),
                             "difference": _num(by_split - by_lines)},
                )
            )  # fmt: skip
    return out


def _stated_totals(
    programme: Programme, real: list[BudgetLine], split: list[BudgetLine]
) -> list[BudgetFinding]:
    """A printed total against the sum of what it totals: per category from the lines or
    the split that carry categories; per country from the lines; overall from the lines."""
    out = []
    categorised = real if any(ln.category_id for ln in real) else split
    for stated in StatedTotal.objects.filter(programme=programme):
        if stated.category_id:
            rows = [ln for ln in categorised if ln.category_id == stated.category_id]
        elif stated.country_id:
            rows = [ln for ln in real if ln.country_id == stated.country_id]
        else:
            rows = real
        summed = sum((ln.amount for ln in rows), Decimal(0))
        if summed != stated.amount:
            out.append(
                BudgetFinding(
                    kind=Check.STATED_TOTAL,
                    category_id=stated.category_id,
                    country_id=stated.country_id,
                    details={"stated": _num(stated.amount), "sum": _num(summed),
                             "difference": _num(stated.amount - summed),
                             "source": stated.source},
                )
            )  # fmt: skip
    return out


def _stated_budgets(expenditures: list[Expenditure]) -> list[BudgetFinding]:
    out = []
    for e in expenditures:
        line = e.line
        if e.stated_budget is not None and e.stated_budget != line.amount:
            out.append(
                BudgetFinding(
                    kind=Check.STATED_BUDGET,
                    agency_id=line.agency_id,
                    country_id=line.country_id,
                    details={"stated": _num(e.stated_budget), "line": _num(line.amount),
                             "difference": _num(e.stated_budget - line.amount),
                             "spent": _num(e.amount), "period": e.period.code},
                )
            )  # fmt: skip
    return out


def _spending(real: list[BudgetLine], expenditures: list[Expenditure]) -> list[BudgetFinding]:
    """Lines that report nothing while others do; lines that spent more than their budget."""
    by_line: dict[int, list[Expenditure]] = defaultdict(list)
    for e in expenditures:
        by_line[e.line_id].append(e)
    if not by_line:
        return []
    out = []
    for line in real:
        spend: LineSpend = line_spend(by_line.get(line.pk, []))
        keys = {"agency_id": line.agency_id, "country_id": line.country_id}
        if spend.spent is None:
            out.append(
                BudgetFinding(
                    kind=Check.NO_EXPENDITURE, details={"line": _num(line.amount)}, **keys
                )
            )
        elif spend.spent > line.amount:
            out.append(
                BudgetFinding(
                    kind=Check.OVERSPENT,
                    details={"spent": _num(spend.spent), "line": _num(line.amount),
                             "difference": _num(spend.spent - line.amount)},
                    **keys,
                )
            )  # fmt: skip
    return out


def _grouped(value: Any) -> Any:
    """A figure as people read it in the active language: 1,702,370 or 1.702.370."""
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return value
    return number_format(number, force_grouping=True)


def describe(f: BudgetFinding, names: dict[str, dict[int, str]]) -> str:
    """The finding in one sentence of the active language."""
    d: dict[str, Any] = {k: _grouped(v) if k not in ("period", "source") else v
                         for k, v in f.details.items()}  # fmt: skip
    d["agency"] = names["agency"].get(f.agency_id or 0, "")
    d["country"] = names["country"].get(f.country_id or 0, "")
    d["category"] = names["category"].get(f.category_id or 0, _("The whole budget"))
    texts = {
        Check.INDIRECT_CEILING: _(
            "%(agency)s: indirect support costs of %(indirect)s are %(share)s %% of its direct "
            "costs (%(direct)s), above the fund's ceiling of %(ceiling)s %%."
        ),
        Check.SPLIT_MISMATCH: _(
            "%(agency)s: its budget by category adds up to %(split)s, its budget lines to "
            "%(lines)s (difference %(difference)s)."
        ),
        Check.STATED_TOTAL: _(
            "%(category)s: the source prints a total of %(stated)s; the agencies' figures add "
            "up to %(sum)s (difference %(difference)s)."
        ),
        Check.STATED_BUDGET: _(
            "%(agency)s, %(country)s: the expenditure report (%(period)s) states a budget of "
            "%(stated)s; the budget line is %(line)s (difference %(difference)s). Spent: "
            "%(spent)s."
        ),
        Check.NO_EXPENDITURE: _(
            "%(agency)s, %(country)s: no expenditure reported for this line (budget %(line)s)."
        ),
        Check.OVERSPENT: _(
            "%(agency)s, %(country)s: spent %(spent)s against a budget of %(line)s "
            "(%(difference)s over)."
        ),
    }
    return texts[Check(f.kind)] % d
