"""Budget figures on a small hand-computed case: the golden programme of the engine tests
(2030, two agencies X and Y) with a second country, four budget lines, approved spending per
period and cumulative, a draft that must not count, a line that never reported, an output
whose indicator gives a cost per result, and a no-cost extension.

    line   category        output  budget  approved spending                     spent
    X/ZZ   outcome 1       O1       1,000  Q1 200 + Q2 300 (as of 30 Jun)          500
    X/ZY   indirect        —          500  cumulative 100 to 31 May + Q3 50 (30 Sep) 150
    Y/ZZ   staff           —        2,000  (a draft of 999 only)                  none
    Y/ZY   outcome 1       —          800  Q1 800 (31 Mar)                          800

The programme runs 1 Jan – 31 Dec 2030: 364 days between its dates."""

import datetime as dt
from decimal import Decimal

import pytest

from budgets.figures import compute, elapsed_share, end_date, line_spend, refresh_budgets
from budgets.models import BudgetCategory, BudgetFigure, Expenditure, NoCostExtension
from indicators.engine import refresh_indicators

from .budget_fixtures import BudgetGold

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def gold() -> BudgetGold:
    return BudgetGold()


def figure(figures, scope, **keys) -> BudgetFigure:
    found = [
        f for f in figures
        if f.scope == scope and f.indicator_id is None
        and all(getattr(f, f"{k}_id") == v.pk for k, v in keys.items())
        and all(getattr(f, f"{k}_id") is None
                for k in ("agency", "country", "category", "outcome", "output") if k not in keys)
    ]  # fmt: skip
    assert len(found) == 1, (scope, keys, found)
    return found[0]


def test_a_lines_spending_is_its_latest_cumulative_plus_later_periods(gold):
    spend = line_spend(list(gold.lines["X/ZY"].expenditures.select_related("period")))
    assert (spend.spent, spend.as_of) == (D(150), dt.date(2030, 9, 30))
    assert line_spend([]).spent is None


def test_elapsed_time_is_counted_in_days_and_capped():
    start, end = dt.date(2030, 1, 1), dt.date(2030, 12, 31)
    assert elapsed_share(start, end, dt.date(2030, 9, 30)) == D("74.73")  # 272 / 364
    assert elapsed_share(start, end, dt.date(2029, 1, 1)) == D("0.00")
    assert elapsed_share(start, end, dt.date(2031, 6, 1)) == D("100.00")


def test_agency_figures(gold):
    figures = compute(gold.programme, today=dt.date(2030, 10, 1))
    x = figure(figures, "agency", agency=gold.agency["X"])
    assert (x.budget, x.revised, x.spent, x.balance) == (D(1500), D(1500), D(650), D(850))
    assert (x.execution, x.elapsed, x.burn) == (D("43.33"), D("74.73"), "behind")
    assert (x.spent_as_of, x.missing_expenditure) == (dt.date(2030, 9, 30), 0)
    y = figure(figures, "agency", agency=gold.agency["Y"])
    # Y/ZZ never reported (its draft does not count): execution is over the line that did,
    # and the balance is unknown rather than 2,000 too high.
    assert (y.budget, y.spent, y.balance, y.missing_expenditure) == (D(2800), D(800), None, 1)
    assert (y.execution, y.elapsed, y.burn) == (D("100.00"), D("24.45"), "ahead")


def test_programme_country_category_outcome_and_output_figures(gold):
    figures = compute(gold.programme, today=dt.date(2030, 10, 1))
    p = figure(figures, "programme")  # 1,450 over the 2,300 of the lines that reported
    assert (p.budget, p.spent, p.execution, p.missing_expenditure) == (
        D(4300),
        D(1450),
        D("63.04"),
        1,
    )
    zz = figure(figures, "country", country=gold.zz)
    assert (zz.budget, zz.spent, zz.execution, zz.burn) == (D(3000), D(500), D("50.00"), "on_pace")
    zy = figure(figures, "country", country=gold.zy)
    assert (zy.budget, zy.spent, zy.execution) == (D(1300), D(950), D("73.08"))
    xy = figure(figures, "agency_country", agency=gold.agency["X"], country=gold.zy)
    assert (xy.spent, xy.execution) == (D(150), D("30.00"))
    outcome_1 = BudgetCategory.objects.get(code="fund-outcome-1")
    c = figure(figures, "category", category=outcome_1)
    assert (c.budget, c.spent, c.execution) == (D(1800), D(1300), D("72.22"))
    o = figure(figures, "outcome", outcome=gold.outcome)  # X/ZZ by its output, Y/ZY by category
    assert (o.budget, o.spent) == (D(1800), D(1300))
    out = figure(figures, "output", output=gold.output)
    assert (out.budget, out.spent, out.execution) == (D(1000), D(500), D("50.00"))


def test_cost_per_result_is_the_outputs_spending_over_its_indicators_actual(gold):
    indicator = gold.indicator()
    indicator.output, indicator.level = gold.output, "output"
    indicator.save()
    gold.value(indicator, "Q1", 10)
    gold.value(indicator, "Q2", 15, city="B")
    refresh_indicators([indicator.pk])  # the engine's job refreshes the budget too
    row = BudgetFigure.objects.get(programme=gold.programme, scope="output", indicator=indicator)
    assert (row.spent, row.indicator_actual, row.cost_per_result) == (D(500), D(25), D(20))


def test_a_revision_changes_the_revised_figure_not_the_original(gold):
    line = gold.lines["Y/ZY"]
    line.amount = D(1000)
    line.save()
    y = figure(compute(gold.programme), "agency_country", agency=gold.agency["Y"], country=gold.zy)
    assert (y.budget, y.revised, y.execution) == (D(800), D(1000), D("80.00"))


def test_a_no_cost_extension_moves_the_end_and_the_time_elapsed(gold):
    NoCostExtension.objects.create(
        programme=gold.programme, number=1, months=3,
        previous_end_date=dt.date(2030, 12, 31), new_end_date=dt.date(2031, 3, 31),
    )  # fmt: skip
    assert end_date(gold.programme) == dt.date(2031, 3, 31)
    x = figure(compute(gold.programme), "agency", agency=gold.agency["X"])
    assert x.elapsed == D("59.91")  # 272 of 454 days


def test_refresh_replaces_the_figures_and_counts_only_approved_spending(gold):
    refresh_budgets([gold.programme.pk])
    before = BudgetFigure.objects.filter(programme=gold.programme).count()
    draft = Expenditure.objects.get(line=gold.lines["Y/ZZ"])
    refresh_budgets([gold.programme.pk])
    assert BudgetFigure.objects.filter(programme=gold.programme).count() == before
    p = BudgetFigure.objects.get(programme=gold.programme, scope="programme")
    assert p.spent == D(1450)
    draft.status, draft.approved_at = "approved", dt.datetime(2030, 10, 2, tzinfo=dt.UTC)
    draft.save()
    refresh_budgets([gold.programme.pk])
    p = BudgetFigure.objects.get(programme=gold.programme, scope="programme")
    assert (p.spent, p.missing_expenditure) == (D(2449), 0)
