"""The home page: the user's programmes and, for Ciudades, its results framework with targets
and latest approved values per city."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from indicators.engine import recompute
from indicators.models import Indicator, IndicatorValue, ProgressReport
from indicators.services import report_approve
from monitoring.models import Agency, City, Programme, ReportingPeriod
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def cell(html: str, code: str, scope: str) -> str:
    """The text of the figure cell of indicator ``code`` for ``scope`` (ALL, SCL, CDMX)."""
    row = re.search(rf'<th scope="row" class="code">{re.escape(code)}</th>(.*?)</tr>', html, re.S)
    assert row, f"no row for {code}"
    found = re.search(rf'data-scope="{scope}">(.*?)</td>', row.group(1), re.S)
    assert found, f"no {scope} cell for {code}"
    text = re.sub(r"<[^>]+>", " ", found.group(1))
    return re.sub(r"[ \t\n]+", " ", text).strip()  # keeps non-breaking spaces


def test_it_sends_anonymous_visitors_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_signs_in_with_a_demo_account_and_lands_home(client):
    response = client.post(reverse("login"), {"username": "donor", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_a_wrong_password_is_refused_with_a_message(client):
    response = client.post(
        reverse("login"), {"username": "donor", "password": "nope"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_it_shows_ciudades_targets_and_latest_approved_values_per_city(client, donor):
    client.force_login(donor)
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Joint Programme &#x27;Ciudades&#x27;" in html or "Joint Programme 'Ciudades'" in html
    # 1.4.A: programme target 400, final value 292.
    assert cell(html, "1.4.A", "ALL") == "400 292 Life of programme (final report)"
    # 1.4.B: 90 % for the programme, 100 % in Santiago, 80 % in Mexico City.
    assert cell(html, "1.4.B", "ALL").startswith("50 % 90 %")
    assert cell(html, "1.4.B", "SCL").startswith("— 100 %")
    assert cell(html, "1.4.B", "CDMX").startswith("— 80 %")
    # 1.1.C is a Santiago milestone: yes / yes; it has no Mexico City cell.
    assert cell(html, "1.1.C", "SCL").startswith("yes yes")
    assert cell(html, "1.1.C", "CDMX") == "·"
    # Design indicators are listed as superseded with their 2022 figures.
    assert cell(html, "1.2.a", "ALL").startswith("— 3,131 Year 2")
    assert "replaced by 1.2.A" in html


def test_it_reads_in_spanish_by_default(donor):
    client = Client()  # no language preference
    client.force_login(donor)
    html = client.get("/").content.decode()
    assert '<html lang="es">' in html
    # Spanish groups digits with a non-breaking space (Chile writes 3.895, Mexico 3,895).
    assert cell(html, "1.2.A", "ALL").startswith("2\xa0000 3\xa0895")
    assert "Vida del programa (informe final)" in html


def test_the_language_can_be_switched(donor):
    client = Client()
    client.force_login(donor)
    assert '<html lang="es">' in client.get("/").content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert "Santiago and Mexico City enhance employment" in html


def test_drafts_never_reach_the_home_page(
    client, donor, ciudades, django_capture_on_commit_callbacks
):
    indicator = Indicator.objects.create(
        programme=ciudades,
        code="9.9.A",
        level="outcome",
        outcome=ciudades.outcomes.get(code="R1"),
        name_es="Nuevo",
        name_en="New",
        measure="count",
        time_rule="sum",
        place_rule="sum",
    )
    indicator.cities.set(City.objects.filter(code__in=["SCL", "CDMX"]))
    report = ProgressReport.objects.create(
        programme=ciudades,
        agency=Agency.objects.get(code="ILO"),
        city=City.objects.get(code="SCL"),
        period=ReportingPeriod.objects.get(programme=ciudades, code="2023-Q2"),
    )
    IndicatorValue.objects.create(report=report, indicator=indicator, value=Decimal(99))
    recompute([indicator.pk])  # the engine itself leaves drafts out
    client.force_login(donor)
    assert cell(client.get("/").content.decode(), "9.9.A", "SCL") == "— —"
    report.status = "submitted"
    report.save()
    with django_capture_on_commit_callbacks(execute=True):
        report_approve(report=report, actor=None)
    html = client.get("/").content.decode()
    assert cell(html, "9.9.A", "SCL") == "— 99 Q2 2023"
    assert cell(html, "9.9.A", "ALL") == "— 99 Q2 2023"


def test_an_outsider_sees_no_programme(client, outsider):
    client.force_login(outsider)
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "You are not a member of any programme yet" in html
    assert "1.4.A" not in html
    assert client.get(reverse("programme_detail", args=["CIUDADES"])).status_code == 404


def test_a_member_sees_only_their_programmes(client, donor):
    Programme.objects.create(
        code="SECRET",
        name_es="x",
        name_en="x",
        short_name_es="Secreto",
        short_name_en="Secret",
        start_date=dt.date(2024, 1, 1),
        end_date=dt.date(2025, 1, 1),
    )
    client.force_login(donor)
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Secret" not in html
    assert client.get(reverse("programme_detail", args=["SECRET"])).status_code == 404
    assert client.get(reverse("programme_detail", args=["NOPE"])).status_code == 404
    assert client.get(reverse("programme_detail", args=["CIUDADES"])).status_code == 200


def test_it_lists_the_users_roles(client, ilo_coordinator_scl):
    client.force_login(ilo_coordinator_scl)
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "agency coordinator · ILO · Santiago (Chile)" in html


def test_the_number_of_queries_does_not_grow_with_the_data(
    client, donor, ciudades, django_assert_max_num_queries
):
    client.force_login(donor)
    with django_assert_max_num_queries(20):
        client.get("/")
    # Many more approved values: the query count stays the same.
    for period in ReportingPeriod.objects.filter(programme=ciudades, kind="quarter"):
        report = ProgressReport.objects.create(
            programme=ciudades,
            agency=Agency.objects.get(code="IOM"),
            city=City.objects.get(code="CDMX"),
            period=period,
            status="approved",
            approved_at=dt.datetime(2023, 7, 1, tzinfo=dt.UTC),
        )
        for indicator in Indicator.objects.filter(
            programme=ciudades, cities__code="CDMX", measure="count"
        ):
            IndicatorValue.objects.create(report=report, indicator=indicator, value=Decimal(3))
    with django_assert_max_num_queries(20):
        client.get("/")


def test_health_endpoint_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["database"]) == ("ok", "ok")
