"""The benchmark's data generator: the sizes it is asked for, every value approved, the
disaggregated indicators' cells adding up, and a second run replacing the first."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum

from indicators.engine.recompute import recompute
from indicators.models import Indicator, IndicatorValue, ProgressReport, Rollup
from monitoring.models import Programme

pytestmark = pytest.mark.django_db

SMALL = {"programmes": 2, "indicators": 20, "cities": 2, "agencies": 2, "quarters": 2}


def generate(**options):
    out = StringIO()
    call_command("generate_synthetic", stdout=out, **{**SMALL, **options})
    return out.getvalue()


def test_generates_the_requested_sizes_all_approved():
    output = generate()

    assert Programme.objects.filter(code__startswith="SYN").count() == 2
    assert Indicator.objects.filter(programme__code="SYN001").count() == 20
    reports = ProgressReport.objects.filter(programme__code="SYN001")
    assert reports.count() == 2 * 2 * 2  # quarters × cities × agencies
    assert set(reports.values_list("status", flat=True)) == {"approved"}
    values = IndicatorValue.objects.filter(report__programme__code__startswith="SYN").count()
    assert f"{values:,} approved values" in output


def test_disaggregated_cells_add_up_to_their_total():
    generate(programmes=1)
    disaggregated = Indicator.objects.filter(programme__code="SYN001", dimensions__code="sex")
    assert disaggregated.exists()
    for indicator in disaggregated.distinct()[:3]:
        for report in ProgressReport.objects.filter(programme__code="SYN001")[:2]:
            values = IndicatorValue.objects.filter(report=report, indicator=indicator)
            total = values.get(category__isnull=True).value
            by_sex = values.filter(category__dimension__code="sex").aggregate(s=Sum("value"))
            assert by_sex["s"] == total


def test_a_second_run_replaces_the_first_and_the_engine_computes_it():
    generate(programmes=1)
    recompute()
    assert Rollup.objects.filter(programme__code="SYN001").exists()

    output = generate(programmes=1, seed=7)

    assert "Removing 1 earlier synthetic programmes" in output
    assert Programme.objects.filter(code__startswith="SYN").count() == 1
    assert not Rollup.objects.filter(programme__code="SYN001").exists()
