"""Every invariant of the programme core is refused twice: by validation, with a message that
names the field, and by the database itself when validation is bypassed."""

import datetime as dt
from decimal import Decimal

import pytest

from monitoring.models import (
    Activity,
    Agency,
    City,
    Country,
    Membership,
    Outcome,
    Output,
    Programme,
    ProgrammeAgency,
    ProgrammeCity,
    ReportingPeriod,
)
from tests.helpers import assert_db_refuses, assert_refused

pytestmark = pytest.mark.django_db


def _programme(**overrides) -> Programme:
    values = dict(
        code="OTHER",
        name_es="Otro programa",
        name_en="Other programme",
        short_name_es="Otro",
        short_name_en="Other",
        start_date=dt.date(2024, 1, 1),
        end_date=dt.date(2025, 12, 31),
    )
    values.update(overrides)
    return Programme(**values)


def test_it_accepts_a_valid_programme():
    _programme().full_clean()


def test_it_refuses_a_programme_ending_before_it_starts():
    bad = _programme(end_date=dt.date(2023, 1, 1))
    assert_refused(bad, field=None, message="End date must be after the start date.")
    assert_db_refuses(bad)


def test_it_refuses_a_negative_programme_budget():
    bad = _programme(budget_total=Decimal("-1"))
    assert_refused(bad, field="budget_total", message="greater than or equal to 0")
    assert_db_refuses(bad)


def test_it_refuses_status_thresholds_out_of_order():
    bad = _programme(on_track_threshold=Decimal(50), at_risk_threshold=Decimal(60))
    assert_refused(bad, field=None, message="0 < at-risk < on-track ≤ 100")
    assert_db_refuses(bad)


def test_it_refuses_a_currency_that_is_not_iso():
    bad = _programme(currency="usd")
    assert_refused(bad, field=None, message="three-letter ISO 4217")
    assert_db_refuses(bad)


def test_it_refuses_a_duplicate_programme_code(ciudades):
    bad = _programme(code="CIUDADES")
    assert_refused(bad, field="code", message="already exists")
    assert_db_refuses(bad)


def test_it_refuses_a_lowercase_programme_code():
    assert_refused(_programme(code="ciudades2"), field="code", message="capital letters")


def test_it_refuses_a_country_code_that_is_not_iso2():
    bad = Country(code="chl", name_es="Chile", name_en="Chile")
    assert_refused(bad, field="code", message="at most 2 characters")
    bad = Country(code="c1", name_es="x", name_en="x")
    assert_refused(bad, field=None, message="two capital letters")
    assert_db_refuses(bad)


def test_it_refuses_duplicate_city_and_agency_codes(db):
    scl = City.objects.get(code="SCL")
    assert_db_refuses(City(code="SCL", country=scl.country, name_es="x", name_en="x"))
    ilo = Agency(code="ILO", acronym_es="x", acronym_en="x", name_es="x", name_en="x")
    assert_refused(ilo, field="code", message="already exists")
    assert_db_refuses(ilo)


def test_it_refuses_an_agency_twice_in_a_programme(ciudades):
    ilo = Agency.objects.get(code="ILO")
    bad = ProgrammeAgency(programme=ciudades, agency=ilo)
    assert_refused(bad, field=None, message="already takes part")
    assert_db_refuses(bad)


def test_it_refuses_a_second_convening_agency(ciudades):
    # ILO convenes Ciudades; making IOM convening too is refused.
    iom = ProgrammeAgency.objects.get(programme=ciudades, agency__code="IOM")
    iom.is_convening = True
    assert_refused(iom, field=None, message="one convening agency")
    assert_db_refuses(iom)


def test_it_refuses_a_city_twice_in_a_programme(ciudades):
    bad = ProgrammeCity(programme=ciudades, city=City.objects.get(code="SCL"))
    assert_refused(bad, field=None, message="already part of the programme")
    assert_db_refuses(bad)


def test_it_refuses_duplicate_outcome_and_output_codes(ciudades):
    outcome = Outcome(programme=ciudades, code="R1", title_es="x", title_en="x")
    assert_refused(outcome, field=None, message="outcome with this code already exists")
    assert_db_refuses(outcome)
    r1 = Outcome.objects.get(programme=ciudades, code="R1")
    output = Output(programme=ciudades, outcome=r1, code="1.1", title_es="x", title_en="x")
    assert_refused(output, field=None, message="output with this code already exists")
    assert_db_refuses(output)


def test_the_same_code_is_fine_in_another_programme(ciudades):
    other = _programme()
    other.save()
    Outcome(programme=other, code="R1", title_es="x", title_en="x").full_clean()


def test_it_refuses_an_output_under_another_programmes_outcome(ciudades):
    other = _programme()
    other.save()
    r1 = Outcome.objects.get(programme=ciudades, code="R1")
    bad = Output(programme=other, outcome=r1, code="9.9", title_es="x", title_en="x")
    assert_refused(bad, field="outcome", message="another programme")


def test_activity_codes_restart_per_country_but_not_within_one(ciudades):
    output = Output.objects.get(programme=ciudades, code="1.1")
    chile = Country.objects.get(code="CL")
    mexico = Country.objects.get(code="MX")
    assert Activity.objects.filter(programme=ciudades, code="1.1.1").count() == 2
    dup = Activity(
        programme=ciudades,
        output=output,
        country=chile,
        code="1.1.1",
        description_es="x",
        description_en="x",
    )
    assert_refused(dup, field=None, message="already exists for this country")
    assert_db_refuses(dup)
    # A binational activity (no country) is unique too: NULL is not a loophole.
    binational = Activity.objects.get(programme=ciudades, code="3.1.1")
    assert binational.country is None
    dup_binational = Activity(
        programme=ciudades,
        output=binational.output,
        country=None,
        code="3.1.1",
        description_es="x",
        description_en="x",
    )
    assert_db_refuses(dup_binational)
    Activity(
        programme=ciudades,
        output=output,
        country=mexico,
        code="1.1.99",
        description_es="x",
        description_en="x",
    ).full_clean()


def test_it_refuses_an_activity_city_outside_its_country(ciudades):
    activity = Activity.objects.get(programme=ciudades, code="1.1.1", country__code="CL")
    activity.city = City.objects.get(code="CDMX")
    assert_refused(activity, field="city", message="not in the activity's country")


def _period(programme, **overrides) -> ReportingPeriod:
    values = dict(
        programme=programme,
        code="2030-Q1",
        name_es="T1 2030",
        name_en="Q1 2030",
        start_date=dt.date(2030, 1, 1),
        end_date=dt.date(2030, 3, 31),
        due_date=dt.date(2030, 4, 15),
    )
    values.update(overrides)
    return ReportingPeriod(**values)


def test_it_refuses_a_period_that_ends_before_it_starts(ciudades):
    bad = _period(ciudades, end_date=dt.date(2029, 12, 31), due_date=dt.date(2030, 4, 15))
    assert_refused(bad, field=None, message="End date cannot be before the start date.")
    assert_db_refuses(bad)


def test_it_refuses_a_period_due_before_it_ends(ciudades):
    bad = _period(ciudades, due_date=dt.date(2030, 3, 1))
    assert_refused(bad, field=None, message="Due date cannot be before the end date.")
    assert_db_refuses(bad)


def test_it_refuses_duplicate_period_codes_and_spans(ciudades):
    bad = _period(ciudades, code="2021-Q1")
    assert_refused(bad, field=None, message="period with this code already exists")
    assert_db_refuses(bad)
    same_span = _period(
        ciudades,
        code="Q1-2021-bis",
        start_date=dt.date(2021, 1, 1),
        end_date=dt.date(2021, 3, 31),
        due_date=dt.date(2021, 4, 15),
    )
    assert_refused(same_span, field=None, message="already covers these dates")
    assert_db_refuses(same_span)


class TestMemberships:
    def test_a_coordinator_needs_an_agency_and_a_city(self, ciudades, outsider):
        bad = Membership(
            user=outsider,
            programme=ciudades,
            role="coordinator",
            agency=Agency.objects.get(code="ILO"),
        )
        assert_refused(bad, field=None, message="needs an agency and a city")
        assert_db_refuses(bad)

    def test_an_approver_needs_an_agency(self, ciudades, outsider):
        bad = Membership(user=outsider, programme=ciudades, role="approver")
        assert_refused(bad, field=None, message="An approver needs an agency.")
        assert_db_refuses(bad)

    def test_programme_wide_roles_take_no_agency_or_city(self, ciudades, outsider):
        bad = Membership(
            user=outsider, programme=ciudades, role="donor", city=City.objects.get(code="SCL")
        )
        assert_refused(bad, field=None, message="leave agency and city empty")
        assert_db_refuses(bad)

    def test_the_same_role_twice_is_refused_even_without_agency_or_city(self, ciudades, donor):
        bad = Membership(user=donor, programme=ciudades, role="donor")
        assert_refused(bad, field=None, message="already has this role")
        assert_db_refuses(bad)

    def test_the_agency_must_take_part_in_the_programme(self, ciudades, outsider):
        unicef = Agency.objects.create(
            code="UNICEF", acronym_es="UNICEF", acronym_en="UNICEF", name_es="x", name_en="x"
        )
        bad = Membership(user=outsider, programme=ciudades, role="approver", agency=unicef)
        assert_refused(bad, field="agency", message="does not take part")

    def test_the_city_must_be_in_the_programme(self, ciudades, outsider):
        lima = City.objects.create(
            code="LIM",
            country=Country.objects.create(code="PE", name_es="Perú", name_en="Peru"),
            name_es="Lima",
            name_en="Lima",
        )
        bad = Membership(
            user=outsider,
            programme=ciudades,
            role="coordinator",
            agency=Agency.objects.get(code="ILO"),
            city=lima,
        )
        assert_refused(bad, field="city", message="not part of the programme")
