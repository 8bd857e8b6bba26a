"""The read endpoints of the results framework (/api/v1/programmes/, outcomes, outputs,
activities, indicators, targets, baselines, periods): what they return, their filters, what
an outsider and another programme's token see, stable pages and conditional GET."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from indicators.models import Indicator, Target
from monitoring.models import (
    Agency,
    ApiToken,
    City,
    Membership,
    Outcome,
    Output,
    Programme,
    ProgrammeAgency,
    ProgrammeCity,
    ReportingPeriod,
)

API = "/api/v1"
LISTS = [
    "programmes",
    "outcomes",
    "outputs",
    "activities",
    "indicators",
    "targets",
    "baselines",
    "periods",
]


def _client(key: str | None = None, user=None) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    if key is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    if user is not None:
        client.force_login(user)
    return client


def _token(user, programme: Programme, scope: str = "read") -> str:
    return ApiToken.issue(user=user, programme=programme, scope=scope, days=30, name="test")[1]


@pytest.fixture
def donor_api(donor, ciudades) -> APIClient:
    return _client(_token(donor, ciudades))


@pytest.fixture
def other_programme(db) -> Programme:
    """A second programme with one outcome, output, indicator, target and period."""
    programme = Programme.objects.create(
        code="OTRO",
        name_es="Otro programa",
        name_en="Another programme",
        short_name_es="Otro",
        short_name_en="Other",
        start_date=dt.date(2024, 1, 1),
        end_date=dt.date(2025, 12, 31),
        budget_total=Decimal(1000),
    )
    ProgrammeAgency.objects.create(
        programme=programme, agency=Agency.objects.get(code="IOM"), is_convening=True
    )
    ProgrammeCity.objects.create(programme=programme, city=City.objects.get(code="SCL"))
    outcome = Outcome.objects.create(programme=programme, code="R1", title_es="R", title_en="R")
    output = Output.objects.create(
        programme=programme, outcome=outcome, code="1.1", title_es="P", title_en="O"
    )
    indicator = Indicator.objects.create(
        programme=programme,
        code="1.1.A",
        level="output",
        outcome=outcome,
        output=output,
        name_es="Personas",
        name_en="People",
        measure="count",
        time_rule="sum",
        place_rule="sum",
    )
    Target.objects.create(indicator=indicator, original_value=10, value=10)
    ReportingPeriod.objects.create(
        programme=programme,
        code="2024-Q1",
        name_es="T1",
        name_en="Q1",
        start_date=dt.date(2024, 1, 1),
        end_date=dt.date(2024, 3, 31),
        due_date=dt.date(2024, 4, 15),
    )
    return programme


def _rows(client: APIClient, url: str, **params) -> list[dict]:
    response = client.get(url, {"page_size": 1000, **params})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_it_lists_the_programme_with_agencies_and_cities(donor_api):
    (row,) = _rows(donor_api, f"{API}/programmes/")
    assert row["code"] == "CIUDADES"
    assert row["currency"] == "USD"
    assert row["budget_total"] == "1702370.00"
    assert (row["start_date"], row["end_date"]) == ("2020-11-01", "2023-05-31")
    assert row["name_es"] and row["name_en"]
    assert [(a["code"], a["is_convening"]) for a in row["agencies"]] == [
        ("ILO", True),
        ("IOM", False),
        ("UNHCR", False),
    ]
    assert [(c["code"], c["country"]) for c in row["cities"]] == [("CDMX", "MX"), ("SCL", "CL")]


def test_it_gets_a_programme_by_code(donor_api):
    response = donor_api.get(f"{API}/programmes/CIUDADES/")
    assert response.status_code == 200
    assert response.json()["code"] == "CIUDADES"
    missing = donor_api.get(f"{API}/programmes/NOPE/")
    assert missing.status_code == 404
    assert missing.json()["status"] == 404


def test_an_indicator_declares_how_it_adds_up(donor_api):
    (row,) = _rows(donor_api, f"{API}/indicators/", code="1.4.A")
    assert row["programme"] == "CIUDADES"
    assert (row["outcome"], row["output"], row["level"]) == ("R1", "1.4", "output")
    assert (row["measure"], row["time_rule"], row["place_rule"]) == ("count", "sum", "sum")
    assert (row["agency_rule"], row["direction"], row["target_kind"]) == (
        "consolidated",
        "increase",
        "absolute",
    )
    assert row["is_active"] is True
    assert row["cities"] == ["CDMX", "SCL"]
    assert row["responsible_agencies"] == ["ILO", "IOM", "UNHCR"]
    dimensions = {d["code"]: [c["code"] for c in d["categories"]] for d in row["dimensions"]}
    assert set(dimensions) == {"sex", "age_group"}
    assert "female" in dimensions["sex"]
    detail = donor_api.get(f"{API}/indicators/{row['id']}/").json()
    assert detail == row


def test_codes_are_case_sensitive(donor_api):
    assert [r["code"] for r in _rows(donor_api, f"{API}/indicators/", code="1.4.a")] == ["1.4.a"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"outcome": "R1", "level": "outcome"}, {"1C", "1D", "1a", "1b"}),
        ({"output": "1.4"}, {"1.4.A", "1.4.B", "1.4.a"}),
        ({"output": "1.4", "active": "true"}, {"1.4.A", "1.4.B"}),
        ({"output": "1.4", "active": "false"}, {"1.4.a"}),
    ],
)
def test_indicators_filter_by_the_framework(donor_api, params, expected):
    assert {r["code"] for r in _rows(donor_api, f"{API}/indicators/", **params)} == expected


def test_indicators_filter_by_city_and_agency_without_duplicates(donor_api, ciudades):
    by_city = _rows(donor_api, f"{API}/indicators/", city="SCL")
    expected = Indicator.objects.filter(programme=ciudades, cities__code="SCL").count()
    assert len(by_city) == expected == len({r["id"] for r in by_city})
    assert all("SCL" in r["cities"] for r in by_city)
    by_agency = _rows(donor_api, f"{API}/indicators/", agency="ILO", city="CDMX")
    assert by_agency
    assert all("ILO" in r["responsible_agencies"] for r in by_agency)
    assert len(by_agency) == len({r["id"] for r in by_agency})


def test_updated_since_filters_on_the_last_change(donor_api, ciudades):
    everything = _rows(donor_api, f"{API}/indicators/")
    past = (timezone.now() - dt.timedelta(days=1)).isoformat()
    assert len(_rows(donor_api, f"{API}/indicators/", updated_since=past)) == len(everything)
    future = (timezone.now() + dt.timedelta(days=1)).isoformat()
    assert _rows(donor_api, f"{API}/indicators/", updated_since=future) == []
    Indicator.objects.filter(programme=ciudades, code="1.4.A").update(
        updated_at=timezone.now() + dt.timedelta(days=2)
    )
    changed = _rows(donor_api, f"{API}/indicators/", updated_since=future)
    assert [r["code"] for r in changed] == ["1.4.A"]
    assert _rows(donor_api, f"{API}/programmes/", updated_since=future) == []
    # An offset the database would refuse is compared in UTC.
    far_offset = _rows(donor_api, f"{API}/indicators/", updated_since="2020-01-01T00:00:00-21:42")
    assert len(far_offset) == len(everything)


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        ("indicators", {"updated_since": "yesterday"}, "updated_since"),
        ("targets", {"updated_since": "2024-13-45T00:00:00Z"}, "updated_since"),
        ("programmes", {"updated_since": "0001-01-01T00:00:00+05:00"}, "updated_since"),
        ("indicators", {"city": "ATLANTIS"}, "city"),
        ("activities", {"agency": "WHO"}, "agency"),
        ("indicators", {"level": "impact"}, "level"),
        ("periods", {"kind": "month"}, "kind"),
        ("outcomes", {"programme": "NOPE"}, "programme"),
        ("indicators", {"active": "maybe"}, "active"),
        ("indicators", {"programme": "CIUDADES\x00"}, "programme"),
        ("targets", {"period": "LOP\x00"}, "period"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(donor_api, url, params, field):
    response = donor_api.get(f"{API}/{url}/", params)
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400
    assert body["code"] == "invalid"
    assert list(body["errors"]) == [field]
    assert field in body["detail"]


def test_targets_filter_by_indicator_and_life_of_programme(donor_api):
    (row,) = _rows(donor_api, f"{API}/targets/", indicator="1.4.A", period="LOP")
    assert row["indicator"] == "1.4.A"
    assert (row["scope"], row["city"], row["agency"], row["period"]) == (
        "programme",
        None,
        None,
        None,
    )
    assert (row["value"], row["original_value"]) == ("400.0000", "400.0000")
    assert row["category"] is None
    assert row["revisions"] == []
    assert _rows(donor_api, f"{API}/targets/", indicator="1.4.A", period="2021-Q1") == []


def test_baselines_activities_outputs_outcomes_and_periods(donor_api, ciudades):
    baselines = _rows(donor_api, f"{API}/baselines/", city="SCL")
    assert baselines
    assert {b["city"] for b in baselines} == {"SCL"}
    outputs = _rows(donor_api, f"{API}/outputs/", outcome="R1")
    assert [o["code"] for o in outputs] == ["1.1", "1.2", "1.3", "1.4"]
    assert [o["code"] for o in _rows(donor_api, f"{API}/outcomes/")] == ["R1", "R2", "R3"]
    activities = _rows(donor_api, f"{API}/activities/", city="SCL")
    assert activities
    assert {a["city"] for a in activities} == {"SCL"}
    by_agency = _rows(donor_api, f"{API}/activities/", agency="ILO")
    assert by_agency
    assert all(a["lead_agency"] == "ILO" or "ILO" in a["participating_agencies"] for a in by_agency)
    quarters = _rows(donor_api, f"{API}/periods/", kind="quarter")
    expected = ReportingPeriod.objects.filter(programme=ciudades, kind="quarter").count()
    assert len(quarters) == expected
    assert [q["start_date"] for q in quarters] == sorted(q["start_date"] for q in quarters)


@pytest.mark.parametrize("name", LISTS)
def test_an_outsider_sees_nothing(outsider, name):
    client = _client(user=outsider)
    response = client.get(f"{API}/{name}/")
    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_an_outsider_gets_404_for_a_programme_and_its_objects(outsider, ciudades):
    client = _client(user=outsider)
    assert client.get(f"{API}/programmes/CIUDADES/").status_code == 404
    outcome = Outcome.objects.filter(programme=ciudades).first()
    assert outcome is not None
    assert client.get(f"{API}/outcomes/{outcome.pk}/").status_code == 404


@pytest.mark.parametrize("name", LISTS)
def test_anonymous_requests_are_refused(name, db):
    response = APIClient().get(f"{API}/{name}/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_token_sees_its_programme_only(donor, ciudades, other_programme):
    Membership.objects.create(user=donor, programme=other_programme, role="donor")
    session = _client(user=donor)
    assert [r["code"] for r in _rows(session, f"{API}/programmes/")] == ["CIUDADES", "OTRO"]
    assert [r["programme"] for r in _rows(session, f"{API}/targets/", programme="OTRO")] == ["OTRO"]
    token = _client(_token(donor, ciudades))
    assert [r["code"] for r in _rows(token, f"{API}/programmes/")] == ["CIUDADES"]
    for name in LISTS:
        assert all(
            r.get("programme", r.get("code")) != "OTRO" for r in _rows(token, f"{API}/{name}/")
        )
    other_indicator = Indicator.objects.get(programme=other_programme)
    assert token.get(f"{API}/indicators/{other_indicator.pk}/").status_code == 404
    assert token.get(f"{API}/programmes/OTRO/").status_code == 404
    refused = token.get(f"{API}/outcomes/", {"programme": "OTRO"})
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["programme"]


def test_walking_the_pages_yields_each_row_once(donor_api):
    everything = [r["id"] for r in _rows(donor_api, f"{API}/indicators/")]
    seen: list[int] = []
    url: str | None = f"{API}/indicators/?page_size=4"
    while url:
        page = donor_api.get(url).json()
        seen += [r["id"] for r in page["results"]]
        url = page["next"]
    assert seen == everything
    assert len(set(seen)) == len(seen) > 4


def test_a_page_past_the_last_is_a_404(donor_api):
    response = donor_api.get(f"{API}/targets/", {"page": 999})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_second_get_with_the_etag_is_not_modified(donor_api):
    first = donor_api.get(f"{API}/indicators/")
    assert first.status_code == 200
    etag = first["ETag"]
    second = donor_api.get(f"{API}/indicators/", HTTP_IF_NONE_MATCH=etag)
    assert second.status_code == 304
    assert second.content == b""
    changed = donor_api.get(f"{API}/indicators/", {"code": "1.4.A"}, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200


def test_lists_take_a_fixed_number_of_queries(donor_api, django_assert_max_num_queries):
    # The token (and its last use), the count and the page, one query per prefetched relation.
    with django_assert_max_num_queries(9):
        assert donor_api.get(f"{API}/indicators/", {"page_size": 1000}).status_code == 200
    with django_assert_max_num_queries(5):
        assert donor_api.get(f"{API}/targets/", {"page_size": 1000}).status_code == 200
