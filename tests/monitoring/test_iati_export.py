import pytest
from indicators.models import Rollup

pytestmark = pytest.mark.django_db


def test_explore(ciudades):
    qs = Rollup.objects.filter(programme=ciudades, indicator__code__in=["1.4.A", "1.4.a", "1.4.B", "1.1.a"]).select_related("indicator", "period", "city", "agency", "category")
    for r in qs.order_by("indicator__code", "scope", "as_of"):
        print(r.indicator.code, r.scope, r.city and r.city.code, r.agency and r.agency.code, r.period.code, r.as_of, r.category and r.category.cell, "act", r.actual, r.target, "ytd", r.ytd_actual, r.ytd_target, "ltd", r.ltd_actual, r.ltd_target, r.baseline, r.ltd_status)
    print(Rollup.objects.filter(programme=ciudades).count())
    print(sorted(set(Rollup.objects.filter(programme=ciudades).values_list("period__code", "period__kind"))))
    print(Rollup.objects.filter(programme=ciudades, category__isnull=False).count())
