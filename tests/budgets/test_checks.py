"""The budget checks on the small programme of budget_fixtures: each check raises exactly
when its figures disagree, at the edge and past it, and says so in both languages."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from budgets.checks import describe, run_checks
from budgets.models import BudgetCategory, BudgetLine, StatedTotal
from monitoring.models import Agency, Country

from .budget_fixtures import BudgetGold

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def gold() -> BudgetGold:
    return BudgetGold()


def kinds(gold) -> list[str]:
    return sorted(f.kind for f in run_checks(gold.programme))


def texts(gold, language="en") -> list[str]:
    names = {
        "agency": {a.pk: a.acronym for a in Agency.objects.all()},
        "country": {c.pk: c.name for c in Country.objects.all()},
        "category": {c.pk: c.name for c in BudgetCategory.objects.all()},
    }
    with translation.override(language):
        return sorted(describe(f, names) for f in run_checks(gold.programme))


def set_amount(line: BudgetLine, amount) -> None:
    line.amount = line.original_amount = D(amount)
    line.save()


def test_the_starting_case_flags_only_the_line_that_never_reported(gold):
    set_amount(gold.lines["X/ZZ"], 7143)  # X's indirect 500: 7.00 % of its direct costs
    assert kinds(gold) == ["no_expenditure"]
    assert texts(gold) == ["Y, Zeta: no expenditure reported for this line (budget 2,000)."]


def test_indirect_costs_above_the_ceiling(gold):
    set_amount(gold.lines["X/ZZ"], 7143)
    assert "indirect_ceiling" not in kinds(gold)  # 500 / 7,143 = 7.00 %: at the ceiling
    set_amount(gold.lines["X/ZZ"], 7132)  # 500 / 7,132 = 7.01 %
    assert "indirect_ceiling" in kinds(gold)
    assert (
        "X: indirect support costs of 500 are 7.01 % of its direct costs (7,132), above the "
        "fund's ceiling of 7 %." in texts(gold)
    )
    gold.programme.indirect_ceiling = D(8)  # another fund, another ceiling
    gold.programme.save()
    assert "indirect_ceiling" not in kinds(gold)


def test_a_category_split_must_add_up_to_the_agencys_lines(gold):
    set_amount(gold.lines["X/ZZ"], 7143)
    staff = BudgetCategory.objects.get(code="fund-staff")
    BudgetLine.objects.create(
        programme=gold.programme, view="split", agency=gold.agency["X"], category=staff,
        amount=D(1000), original_amount=D(1000),
    )  # fmt: skip
    assert (
        "X: its budget by category adds up to 1,000, its budget lines to 7,643 (difference -6,643)."
        in texts(gold)
    )


def test_a_printed_total_must_match_the_sum(gold):
    set_amount(gold.lines["X/ZZ"], 7143)
    outcome_1 = BudgetCategory.objects.get(code="fund-outcome-1")
    StatedTotal.objects.create(programme=gold.programme, category=outcome_1, amount=D(1800))
    StatedTotal.objects.filter(programme=gold.programme).update(amount=D(7943))
    assert "stated_total" not in kinds(gold)  # X/ZZ 7,143 + Y/ZY 800
    StatedTotal.objects.filter(programme=gold.programme).update(amount=D(7944))
    assert (
        "Outcome 1 programme costs: the source prints a total of 7,944; the agencies' figures "
        "add up to 7,943 (difference 1)." in texts(gold)
    )
    with translation.override("es"):
        spanish = texts(gold, "es")
    assert any(t.startswith("Resultado 1 (costos programáticos): la fuente") for t in spanish), (
        spanish
    )


def test_a_budget_stated_with_the_spending_must_match_the_line_and_spending_within_it(gold):
    set_amount(gold.lines["X/ZZ"], 7143)
    spent = gold.lines["Y/ZY"].expenditures.get()
    spent.stated_budget = D(750)
    spent.amount = D(900)
    spent.save()
    found = texts(gold)
    assert (
        "Y, Why: the expenditure report (2030-Q1) states a budget of 750; the budget line is "
        "800 (difference -50). Spent: 900." in found
    )
    assert "Y, Why: spent 900 against a budget of 800 (100 over)." in found


def test_no_expenditure_is_not_flagged_before_any_line_reports(gold):
    set_amount(gold.lines["X/ZZ"], 7143)
    for line in gold.lines.values():
        line.expenditures.all().delete()
    assert kinds(gold) == []
    assert dt.date(2030, 1, 1) == gold.programme.start_date
