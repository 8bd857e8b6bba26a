"""The Ciudades budget as its sources give it, reconciled: Tabla 7 (agency × country), Annex
3g (category × agency, with its printed all-agency column), Tabla 8 (execution with its
cut-off dates; UNHCR Mexico's figure missing), the two no-cost extensions; and the budget
checks raising what does not add up."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import translation

from budgets.checks import describe
from budgets.figures import end_date
from budgets.models import BudgetCategory, BudgetFigure, BudgetFinding, BudgetLine, Expenditure
from monitoring.models import Agency, Country

pytestmark = pytest.mark.django_db
D = Decimal


def test_the_totals_reconcile(ciudades):
    lines = BudgetLine.objects.filter(programme=ciudades, view="line")
    assert lines.aggregate(t=Sum("amount"))["t"] == D(1702370)
    by_agency = dict(lines.values_list("agency__code").annotate(t=Sum("amount")))
    assert by_agency == {"ILO": D(700850), "IOM": D(500760), "UNHCR": D(500760)}
    split = BudgetLine.objects.filter(programme=ciudades, view="split")
    by_agency_split = dict(split.values_list("agency__code").annotate(t=Sum("amount")))
    assert by_agency_split == by_agency  # each agency's categories add up to its total
    assert split.count() == 21


def test_the_programme_figures(ciudades):
    p = BudgetFigure.objects.get(programme=ciudades, scope="programme")
    assert (p.budget, p.spent, p.missing_expenditure) == (D(1702370), D(1440732), 1)
    # over the five lines that reported: 1,440,732 / 1,451,455
    assert p.execution == D("99.26")
    unhcr = BudgetFigure.objects.get(programme=ciudades, scope="agency", agency__code="UNHCR")
    assert (unhcr.spent, unhcr.missing_expenditure, unhcr.balance) == (D(249845), 1, None)
    missing = BudgetFigure.objects.get(
        programme=ciudades, scope="agency_country", agency__code="UNHCR", country__code="MX"
    )
    assert (missing.spent, missing.execution, missing.burn) == (None, None, "no_data")
    staff = BudgetFigure.objects.get(
        programme=ciudades, scope="category", category__code="fund-staff"
    )
    assert (staff.budget, staff.spent) == (D(615144), None)  # spending by category: not reported


def test_execution_keeps_its_cut_off_dates(ciudades):
    as_of = dict(
        Expenditure.objects.filter(line__programme=ciudades).values_list(
            "line__agency__code", "as_of"
        )
    )
    assert as_of["ILO"] == dt.date(2023, 8, 3)
    assert as_of["UNHCR"] == dt.date(2023, 5, 28)
    assert not Expenditure.objects.filter(
        line__programme=ciudades, line__agency__code="UNHCR", line__country__code="MX"
    ).exists()


def test_the_extensions_move_the_end_to_may_2023(ciudades):
    assert list(ciudades.extensions.values_list("number", "months", "new_end_date")) == [
        (1, 3, dt.date(2023, 2, 28)),
        (2, 3, dt.date(2023, 5, 31)),
    ]
    assert end_date(ciudades) == dt.date(2023, 5, 31)


def names():
    return {
        "agency": {a.pk: a.acronym for a in Agency.objects.all()},
        "country": {c.pk: c.name for c in Country.objects.all()},
        "category": {c.pk: c.name for c in BudgetCategory.objects.all()},
    }


def findings(ciudades) -> list[str]:
    with translation.override("en"):
        n = names()
        return sorted(describe(f, n) for f in BudgetFinding.objects.filter(programme=ciudades))


def test_the_checks_flag_what_the_sources_disagree_on(ciudades):
    found = findings(ciudades)
    assert found == sorted(
        [
            "Outcome 1 programme costs: the source prints a total of 597,101; the agencies' "
            "figures add up to 597,100 (difference 1).",
            "Staff costs: the source prints a total of 615,145; the agencies' figures add up to "
            "615,144 (difference 1).",
            "The whole budget: the source prints a total of 1,702,372; the agencies' figures add "
            "up to 1,702,370 (difference 2).",
            "IOM, Mexico: the expenditure report (LOP) states a budget of 226,693; the budget "
            "line is 225,343 (difference 1,350). Spent: 226,693.",
            "IOM, Chile: the expenditure report (LOP) states a budget of 274,067; the budget "
            "line is 275,417 (difference -1,350). Spent: 274,362.",
            "IOM, Mexico: spent 226,693 against a budget of 225,343 (1,350 over).",
            "UNHCR, Mexico: no expenditure reported for this line (budget 250,915).",
        ]
    )


def test_indirect_costs_are_within_the_ceiling_for_every_agency(ciudades):
    # ILO 45,851 / 654,999 = 7.00 %; IOM and UNHCR 32,760 / 468,000 = 7.00 %
    assert not BudgetFinding.objects.filter(programme=ciudades, kind="indirect_ceiling").exists()
