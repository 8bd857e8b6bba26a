from decimal import Decimal

import pytest

from budgets.models import BudgetLine
from monitoring.models import Agency, Country
from tests.helpers import assert_db_refuses, assert_refused

pytestmark = pytest.mark.django_db


def _line(programme, **overrides) -> BudgetLine:
    values = dict(
        programme=programme,
        agency=Agency.objects.get(code="ILO"),
        country=Country.objects.get(code="CL"),
        amount=Decimal("1000.00"),
    )
    values.update(overrides)
    values.setdefault("original_amount", values["amount"])
    return BudgetLine(**values)


def test_one_line_per_agency_country_output_and_category(ciudades):
    bad = _line(ciudades)  # ILO Chile without output or category exists (Tabla 7)
    assert_refused(bad, field=None, message="already exists")
    assert_db_refuses(bad)


def test_a_budget_amount_cannot_be_negative(ciudades):
    bad = _line(
        ciudades,
        country=Country.objects.create(code="PE", name_es="Perú", name_en="Peru"),
        amount=Decimal("-5"),
    )
    assert_refused(bad, field=None, message="cannot be negative")
    assert_db_refuses(bad)


def test_a_currency_must_be_iso(ciudades):
    line = BudgetLine.objects.get(programme=ciudades, agency__code="IOM", country__code="MX")
    line.currency = "us$"
    assert_refused(line, field=None, message="three-letter ISO 4217")
    assert_db_refuses(line)


def test_the_agency_must_take_part_in_the_programme(ciudades):
    unicef = Agency.objects.create(
        code="UNICEF", acronym_es="UNICEF", acronym_en="UNICEF", name_es="x", name_en="x"
    )
    assert_refused(_line(ciudades, agency=unicef), field="agency", message="does not take part")


def test_the_country_must_have_a_programme_city(ciudades):
    peru = Country.objects.create(code="PE", name_es="Perú", name_en="Peru")
    assert_refused(
        _line(ciudades, country=peru), field="country", message="no city in this country"
    )
