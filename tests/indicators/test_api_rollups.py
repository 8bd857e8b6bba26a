"""Achievement rollups over the API: the donor reads the figures the evaluation reports
(1.4.A: 292 of 400, 73 %), filters by code, walks stable pages, and never sees a figure that
has not been approved."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework.test import APIClient

from indicators import services
from indicators.engine import refresh_indicators
from indicators.models import Indicator, Rollup
from monitoring.models import Agency, ApiToken, City, ReportingPeriod

pytestmark = pytest.mark.django_db

ROLLUPS = reverse("api:rollups")


def donor_client(ciudades):
    _token, key = ApiToken.issue(
        user=get_user_model().objects.get(username="donor"),
        programme=ciudades,
        scope="read",
        days=90,
        name="fund",
    )
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def rows(client, **params):
    response = client.get(ROLLUPS, {"page_size": 1000, **params})
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def lop(client, code, **params):
    [row] = rows(client, indicator=code, scope="programme", cell="total", latest="true", **params)
    return row


def test_the_donor_reads_1_4_A_for_the_life_of_the_programme(ciudades):
    row = lop(donor_client(ciudades), "1.4.A")
    assert (row["programme"], row["indicator"], row["scope"], row["city"], row["agency"]) == (
        "CIUDADES",
        "1.4.A",
        "programme",
        "ALL",
        "ALL",
    )
    assert (Decimal(row["ltd_target"]), Decimal(row["ltd_actual"])) == (400, 292)
    assert Decimal(row["ltd_achievement"]) == 73
    assert (row["period"], row["ltd_status"], row["cell"]) == ("LOP", "at_risk", "total")
    assert lop(donor_client(ciudades), "1.4.A", period="LOP") == row
    assert row["computed_at"]


def test_filters_select_by_code(ciudades):
    donor = donor_client(ciudades)
    everything = rows(donor)
    assert everything

    in_scl = rows(donor, city="SCL")
    assert in_scl and {r["city"] for r in in_scl} == {"SCL"}
    totals = rows(donor, city="ALL", agency="ALL")
    assert totals and {r["scope"] for r in totals} == {"programme"}

    outcome = Indicator.objects.get(programme=ciudades, code="1.4.A").outcome
    by_outcome = rows(donor, outcome=outcome.code)
    codes = set(
        Indicator.objects.filter(programme=ciudades, outcome=outcome).values_list("code", flat=True)
    )
    assert by_outcome and {r["indicator"] for r in by_outcome} <= codes

    by_cell = rows(donor, indicator="1.4.A", cell="sex=female")
    assert {r["cell"] for r in by_cell} <= {"sex=female"}

    period = Rollup.objects.filter(programme=ciudades).values_list("period__code", flat=True)[0]
    assert {r["period"] for r in rows(donor, period=period)} == {period}

    assert rows(donor, updated_since="2999-01-01T00:00:00Z") == []
    assert len(rows(donor, updated_since="2000-01-01T00:00:00Z")) == len(everything)

    for params, field in (
        ({"indicator": "9.9.Z"}, "indicator"),
        ({"outcome": "OC9"}, "outcome"),
        ({"city": "LIM"}, "city"),
        ({"scope": "planet"}, "scope"),
        ({"cell": "sex"}, "cell"),
        ({"latest": "perhaps"}, "latest"),
        ({"updated_since": "soon"}, "updated_since"),
    ):
        response = donor.get(ROLLUPS, params)
        assert response.status_code == 400, params
        assert field in response.json()["errors"], response.json()


def test_latest_keeps_the_newest_row_of_each_figure(ciudades):
    donor = donor_client(ciudades)
    every = rows(donor, indicator="1.4.A", scope="programme", cell="total")
    newest = max(every, key=lambda r: r["as_of"])
    assert lop(donor, "1.4.A") == newest


def test_pages_are_stable_and_never_overlap(ciudades):
    donor = donor_client(ciudades)
    total = donor.get(ROLLUPS).json()["count"]
    seen, page = [], 1
    while True:
        body = donor.get(ROLLUPS, {"page": page, "page_size": 7}).json()
        seen += [
            (r["indicator"], r["scope"], r["city"], r["agency"], r["cell"], r["period"])
            for r in body["results"]
        ]
        if not body["next"]:
            break
        page += 1
    assert len(seen) == len(set(seen)) == total


def test_a_figure_not_yet_approved_does_not_reach_the_rollups(ciudades):
    """A submitted 2023-Q2 report with 1.4.A = 999 changes nothing a donor reads, even after
    the engine has run."""
    indicator = Indicator.objects.get(programme=ciudades, code="1.4.A")
    coordinator = get_user_model().objects.get(username="coord.ilo.scl")
    where = {
        "programme": ciudades,
        "period": ReportingPeriod.objects.get(programme=ciudades, code="2023-Q2"),
        "agency": Agency.objects.get(code="ILO"),
        "city": City.objects.get(code="SCL"),
    }
    report = services.report_save(
        **where,
        expected_version=0,
        entries=[services.Entry(indicator=indicator, value=Decimal(999))],
        narrative_es="",
        narrative_en="",
        actor=coordinator,
    )
    services.report_save(
        **where,
        expected_version=report.version,
        entries=[],
        narrative_es="",
        narrative_en="",
        actor=coordinator,
        submit=True,
    )
    refresh_indicators([indicator.pk])
    donor = donor_client(ciudades)
    assert Decimal(lop(donor, "1.4.A")["ltd_actual"]) == 292
    assert rows(donor, indicator="1.4.A", period="2023-Q2", agency="ILO") == []


def test_only_members_read_rollups(ciudades, client):
    outsider = get_user_model().objects.create_user("outsider")
    client.force_login(outsider)
    assert client.get(ROLLUPS).json()["count"] == 0
    anonymous = APIClient().get(ROLLUPS)
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "not_authenticated"


def test_an_unchanged_page_answers_304_to_its_etag(ciudades):
    donor = donor_client(ciudades)
    first = donor.get(ROLLUPS, {"indicator": "1.4.A"})
    assert first.status_code == 200 and first["ETag"]
    again = donor.get(ROLLUPS, {"indicator": "1.4.A"}, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


def test_a_page_of_rollups_takes_a_fixed_number_of_queries(ciudades, django_assert_max_num_queries):
    donor = donor_client(ciudades)
    with django_assert_max_num_queries(7):
        response = donor.get(ROLLUPS, {"page_size": 1000, "city": "ALL"})
    assert response.json()["count"] > 10
