"""The Ciudades programme as loaded: spot figures checked against the sources
(../shared/seeds, cited by line in monitoring/programme_data/ciudades.json)."""

from decimal import Decimal

import pytest
from django.db.models import Count, Sum

from budgets.models import BudgetLine
from indicators.models import (
    Indicator,
    IndicatorSupersession,
    IndicatorValue,
    ProgressReport,
    Target,
)
from monitoring.models import Activity, Membership, Outcome, Output

pytestmark = pytest.mark.django_db


def final_value(programme, code: str, city: str | None = None) -> IndicatorValue:
    return IndicatorValue.objects.get(
        report__programme=programme,
        report__period__code="LOP",
        report__city__code=city,
        indicator__code=code,
        category=None,
    )


def test_the_results_chain_has_the_sources_shape(ciudades):
    assert Outcome.objects.filter(programme=ciudades).count() == 3
    assert Output.objects.filter(programme=ciudades).count() == 8
    assert Activity.objects.filter(programme=ciudades).count() == 59
    design = Indicator.objects.filter(programme=ciudades, version=1)
    final = Indicator.objects.filter(programme=ciudades, version=2)
    assert design.count() == 17 and not design.filter(is_active=True).exists()
    assert final.count() == 20 and not final.filter(is_active=False).exists()


def test_outputs_are_delivered_in_their_cities(ciudades):
    def cities(code):
        return sorted(
            Output.objects.get(programme=ciudades, code=code).cities.values_list("code", flat=True)
        )

    assert cities("1.3") == ["CDMX"]  # Mexico City only
    assert cities("2.1") == ["CDMX"]
    assert cities("2.2") == ["SCL"]  # Santiago only
    assert cities("1.1") == ["CDMX", "SCL"]


def test_activity_codes_restart_per_country(ciudades):
    per_country = dict(
        Activity.objects.filter(programme=ciudades, output__code="1.4")
        .values_list("country__code")
        .annotate(n=Count("id"))
        .values_list("country__code", "n")
    )
    assert per_country == {"CL": 3, "MX": 6}
    assert Activity.objects.filter(programme=ciudades, country=None).count() == 8  # 3.1 and 3.2


def test_1_4_A_target_400_achieved_292_for_chile_and_mexico(ciudades):
    target = Target.objects.get(indicator__programme=ciudades, indicator__code="1.4.A")
    assert target.city is None and target.period is None  # programme, life of programme
    assert target.value == 400
    value = final_value(ciudades, "1.4.A")
    assert value.value == 292
    assert sorted(value.indicator.cities.values_list("code", flat=True)) == ["CDMX", "SCL"]
    # Its stated parts add to 288, not 292 (EVAL L3558): kept for the data-quality checks.
    assert sum(c.amount for c in value.components.all()) == 288


def test_1_2_A_target_2000_achieved_3895(ciudades):
    assert Target.objects.get(indicator__programme=ciudades, indicator__code="1.2.A").value == 2000
    value = final_value(ciudades, "1.2.A")
    assert value.value == 3895
    assert value.quality_note_en.startswith("3,895 cannot be rebuilt")


def test_1_2_C_reconciles_with_its_parts(ciudades):
    value = final_value(ciudades, "1.2.C")
    assert value.value == 1217
    assert [c.amount for c in value.components.all()] == [20, 149, 1048]


def test_1_4_B_keeps_the_reported_90_and_each_countrys_figure(ciudades):
    assert final_value(ciudades, "1.4.B").value == 90
    assert final_value(ciudades, "1.4.B", "SCL").value == 100
    assert final_value(ciudades, "1.4.B", "CDMX").value == 80
    assert Indicator.objects.get(programme=ciudades, code="1.4.B").place_rule == "weighted"


def test_yes_no_indicators_hold_one_for_yes(ciudades):
    assert final_value(ciudades, "1.1.C", "SCL").value == 1
    assert Target.objects.get(indicator__programme=ciudades, indicator__code="1.1.C").value == 1


def test_2022_annual_report_values_are_approved_history(ciudades):
    y2 = IndicatorValue.objects.get(
        report__programme=ciudades,
        report__period__code="Y2",
        report__city=None,
        indicator__code="1.2.a",
        category=None,
    )
    assert y2.value == 3131
    assert y2.report.status == ProgressReport.Status.APPROVED
    assert y2.report.is_historical
    assert str(y2.report.as_of) == "2022-02-28"
    # Y1 was reported as zero everywhere.
    y1 = IndicatorValue.objects.filter(report__programme=ciudades, report__period__code="Y1")
    assert y1.count() == 17 and set(y1.values_list("value", flat=True)) == {Decimal(0)}
    # 1.4.a in Y2: 44 = 32 women + 12 men, as disaggregation cells.
    cells = dict(
        IndicatorValue.objects.filter(
            report__period__code="Y2", indicator__code="1.4.a", category__isnull=False
        ).values_list("category__code", "value")
    )
    assert cells == {"female": 32, "male": 12}


def test_the_crosswalk_links_design_to_final_indicators(ciudades):
    def successors(code):
        return sorted(
            IndicatorSupersession.objects.filter(
                predecessor__code=code, predecessor__programme=ciudades
            ).values_list("successor__code", flat=True)
        )

    assert successors("1.2.a") == ["1.2.A"]
    assert successors("1a") == ["1C"]
    assert successors("2.2.b") == ["2.2.D", "2.2.E"]
    assert successors("1.1.b") == ["1.1.D", "1.1.F"]
    link = IndicatorSupersession.objects.get(predecessor__code="1.2.a", successor__code="1.2.A")
    assert link.change == "same"
    # Indicators added in the final framework have no predecessor.
    assert not Indicator.objects.get(programme=ciudades, code="1.4.B").supersedes.exists()
    assert list(
        Indicator.objects.get(programme=ciudades, code="2A").supersedes.values_list(
            "code", flat=True
        )
    ) == ["2"]
    assert IndicatorSupersession.objects.filter(successor__programme=ciudades).count() == 22


def test_budget_ilo_700850_is_325452_mexico_plus_375398_chile(ciudades):
    lines = BudgetLine.objects.filter(programme=ciudades, view="line")
    ilo = {line.country.code: line.amount for line in lines.filter(agency__code="ILO")}
    assert ilo == {"MX": Decimal("325452.00"), "CL": Decimal("375398.00")}
    assert sum(ilo.values()) == Decimal("700850.00")
    assert lines.aggregate(total=Sum("amount"))["total"] == Decimal("1702370.00")
    assert ciudades.budget_total == Decimal("1702370.00")
    by_agency = dict(
        lines.values_list("agency__code").annotate(t=Sum("amount")).values_list("agency__code", "t")
    )
    assert by_agency == {"ILO": 700850, "IOM": 500760, "UNHCR": 500760}


def test_every_figure_cites_its_source(ciudades):
    assert not Indicator.objects.filter(programme=ciudades, source="").exists()
    assert not IndicatorValue.objects.filter(report__programme=ciudades, source="").exists()
    assert not Target.objects.filter(indicator__programme=ciudades, source="").exists()
    assert not BudgetLine.objects.filter(programme=ciudades, source="").exists()
    assert "L3558" in final_value(ciudades, "1.4.A").source


def test_content_is_bilingual(ciudades):
    for model, fields in (
        (Outcome, ("title_es", "title_en")),
        (Output, ("title_es", "title_en")),
        (Activity, ("description_es", "description_en")),
        (Indicator, ("name_es", "name_en", "unit_es", "unit_en")),
    ):
        for obj in model.objects.filter(programme=ciudades):
            for field in fields:
                assert getattr(obj, field).strip(), f"{obj} has no {field}"
            _es, en = fields[0], fields[1]
            if "..." in getattr(obj, en):
                pytest.fail(f"{obj} {en} is abbreviated")


def test_demo_accounts_cover_every_role(ciudades):
    roles = set(Membership.objects.filter(programme=ciudades).values_list("role", flat=True))
    assert roles == {"coordinator", "approver", "rco", "donor", "admin"}
    assert Membership.objects.filter(programme=ciudades, role="coordinator").count() == 6
    donor = Membership.objects.get(programme=ciudades, user__username="donor")
    assert donor.role == "donor" and donor.agency is None
