"""Dashboard pages (DESIGN §5) on the loaded Ciudades data: who may see them, what they show,
their filters and downloads, and a query count that does not grow with the data."""

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from indicators import engine
from indicators.models import Indicator, IndicatorValue, ProgressReport
from monitoring.models import Agency, City, ReportingPeriod

PAGES = [
    ("dashboards:overview", ()),
    ("dashboards:outcomes", ()),
    ("dashboards:cities", ()),
    ("dashboards:agencies", ()),
    ("dashboards:compliance", ()),
    ("dashboards:quality", ()),
    ("dashboards:indicator", ("1.4.A",)),
    ("programme_detail", ()),
]
CHARTLESS = {"programme_detail", "dashboards:quality"}  # tables only
# Queries each page may make, whatever the data: session, user, programme, membership, the
# programme's cities/agencies/outcomes/periods (filters), then the page's own reads.
QUERY_BUDGET = {
    "dashboards:overview": 17,  # 16 + the budget execution tile
    "dashboards:outcomes": 14,
    "dashboards:cities": 11,
    "dashboards:agencies": 12,
    "dashboards:compliance": 12,
    "dashboards:quality": 11,
    "dashboards:indicator": 23,
    "programme_detail": 16,
}


def url(name: str, args: tuple = (), query: str = "") -> str:
    return reverse(name, args=("CIUDADES", *args)) + (f"?{query}" if query else "")


def rows_of(response) -> list[dict[str, str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_an_anonymous_visitor_is_sent_to_log_in(client, ciudades, name, args):
    response = client.get(url(name, args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_an_outsider_cannot_learn_the_programme_exists(client, outsider, ciudades, name, args):
    client.force_login(outsider)
    assert client.get(url(name, args)).status_code == 404


@pytest.mark.parametrize(("name", "args"), PAGES)
@pytest.mark.parametrize("persona", ["rco", "donor", "coord.ilo.scl", "approver.iom"])
def test_every_member_sees_every_page_with_its_charts(client, ciudades, persona, name, args):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username=persona))
    response = client.get(url(name, args))
    assert response.status_code == 200
    html = response.content.decode()
    if name not in CHARTLESS:
        assert 'data-chart="chart-' in html
        assert 'type="application/json"' in html  # figure data, not script
        assert "<script>" not in html  # no inline script
        assert "vendor/plotly.min.js" in html


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_dashboards_speak_spanish_by_default(ciudades, rco_viewer, name, args):
    browser = Client(HTTP_ACCEPT_LANGUAGE="es")
    browser.force_login(rco_viewer)
    html = browser.get(url(name, args)).content.decode()
    assert '<html lang="es">' in html
    assert "Las cifras mostradas son solo valores aprobados." in html
    if name != "programme_detail":
        assert "Solo cifras aprobadas." in html
        assert ">Calidad de datos</a>" in html
        assert "Approved figures only." not in html
        assert "Data quality" not in html


def test_overview_tiles_summarise_status_compliance_and_quality(client, rco_viewer, ciudades):
    client.force_login(rco_viewer)
    response = client.get(url("dashboards:overview"))
    html = response.content.decode()
    assert "Indicators on track" in html
    assert "Quarterly reports on time" in html
    assert "Data-quality findings" in html
    by_outcome = rows_of(client.get(url("dashboards:overview", query="download=status-by-outcome")))
    assert [r["outcome"] for r in by_outcome] == ["R1", "R2", "R3"]
    assert sum(int(r["at_risk"]) for r in by_outcome) >= 1  # 1.4.A is at risk


def test_outcome_view_shows_1_4_A_at_73_percent_and_at_risk(client, donor, ciudades):
    client.force_login(donor)
    rows = rows_of(client.get(url("dashboards:outcomes", query="download=outcome-r1")))
    row = next(r for r in rows if r["indicator"] == "1.4.A")
    assert Decimal(row["achievement_pct"]) == Decimal("73")
    assert row["status"] == "at_risk"


def test_indicator_page_explains_how_1_4_B_was_computed(client, donor, ciudades):
    client.force_login(donor)
    html = client.get(url("dashboards:indicator", ("1.4.B",))).content.decode()
    assert "How this indicator adds up" in html
    assert "weighted: Σ numerators / Σ denominators" in html  # its declared rule
    assert "the total reported for the programme" in html  # what the headline figure is
    # ... and the finding, where the figure is shown:
    assert (
        "The reported 90 % is the unweighted mean of the cities "
        "(Santiago (Chile) 100 %, Mexico City 80 %)"
    ) in html
    sources = rows_of(client.get(url("dashboards:indicator", ("1.4.B",), "download=sources")))
    assert {(r["city"], Decimal(r["value"])) for r in sources} >= {
        ("SCL", Decimal("100")),
        ("CDMX", Decimal("80")),
        ("ALL", Decimal("90")),
    }


def test_quality_page_lists_the_known_ciudades_cases(client, rco_viewer, ciudades):
    client.force_login(rco_viewer)
    html = client.get(url("dashboards:quality")).content.decode()
    for code in ("1.2.A", "1.4.A", "1.4.B", "2.2.E", "2A"):
        assert f">{code}<" in html, code


def test_compliance_page_counts_missing_reports(client, rco_viewer, ciudades):
    client.force_login(rco_viewer)
    rows = rows_of(client.get(url("dashboards:compliance", query="download=compliance")))
    assert {r["state"] for r in rows} >= {"missing"}
    assert all(r["agency_city"] and r["period"] for r in rows)


def test_city_filter_narrows_the_figures(client, rco_viewer, ciudades):
    client.force_login(rco_viewer)
    every = rows_of(client.get(url("dashboards:cities", query="download=cities")))
    assert {r["city"] for r in every} == {"SCL", "CDMX"}
    santiago = rows_of(client.get(url("dashboards:outcomes", query="city=SCL&download=outcome-r1")))
    assert santiago and {r["city"] for r in santiago} == {"SCL"}


def test_an_unknown_filter_is_named_and_ignored(client, rco_viewer, ciudades):
    client.force_login(rco_viewer)
    response = client.get(url("dashboards:outcomes", query="city=LIMA&period=1999-Q1"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "City: Select a valid choice." in html
    assert "As of: Select a valid choice." in html
    assert "That filter was ignored." in html
    assert 'data-chart="chart-outcome-r1"' in html  # the page still shows everything


def test_an_unknown_indicator_is_not_found(client, rco_viewer, ciudades):
    client.force_login(rco_viewer)
    assert client.get(url("dashboards:indicator", ("9.9.Z",))).status_code == 404


def test_csv_download_neutralises_formulas(client, rco_viewer, ciudades):
    indicator = Indicator.objects.get(programme=ciudades, code="1.4.A")
    value = IndicatorValue.objects.filter(
        indicator=indicator, report__status__in=ProgressReport.APPROVED_STATUSES
    ).first()
    value.source = '=HYPERLINK("http://evil")'
    value.save(update_fields=["source"])
    client.force_login(rco_viewer)
    body = client.get(url("dashboards:indicator", ("1.4.A",), "download=sources")).content
    assert b"'=HYPERLINK" in body
    assert b",=HYPERLINK" not in body


def _draft_value(ciudades, amount: Decimal) -> ProgressReport:
    report = ProgressReport.objects.create(
        programme=ciudades,
        agency=Agency.objects.get(code="ILO"),
        city=City.objects.get(code="SCL"),
        period=ReportingPeriod.objects.get(programme=ciudades, code="2023-Q2"),
    )
    IndicatorValue.objects.create(
        report=report,
        indicator=Indicator.objects.get(programme=ciudades, code="1.2.C"),
        value=amount,
    )
    return report


@pytest.mark.parametrize("status", ["draft", "submitted", "returned"])
def test_unapproved_figures_reach_no_dashboard(client, donor, ciudades, status):
    report = _draft_value(ciudades, Decimal("987654"))
    report.status = status
    report.save()
    engine.refresh_all()
    client.force_login(donor)
    for name, args in [*PAGES, ("dashboards:indicator", ("1.2.C",))]:
        html = client.get(url(name, args)).content.decode()
        assert "987654" not in html and "987,654" not in html and "987 654" not in html, name
    sources = client.get(url("dashboards:indicator", ("1.2.C",), "download=sources")).content
    assert b"987654" not in sources


def _page_queries(client, name: str, args: tuple) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url(name, args))
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _grow(ciudades) -> int:
    """Ten more quarters of approved values, from every agency in every city, for every
    active indicator: several times the loaded data."""
    indicators = list(Indicator.objects.filter(programme=ciudades, is_active=True))
    quarters = ReportingPeriod.objects.filter(programme=ciudades, kind="quarter")
    values = []
    for period in quarters:
        for agency in Agency.objects.filter(code__in=["ILO", "IOM", "UNHCR"]):
            for city in City.objects.filter(code__in=["SCL", "CDMX"]):
                report, _ = ProgressReport.objects.get_or_create(
                    programme=ciudades,
                    agency=agency,
                    city=city,
                    period=period,
                    defaults={"status": "approved", "approved_at": timezone.now()},
                )
                if report.status != "approved":
                    continue
                values += [
                    IndicatorValue(report=report, indicator=i, value=Decimal(1))
                    for i in indicators
                    if not report.values.filter(indicator=i).exists()
                ]
    IndicatorValue.objects.bulk_create(values)
    engine.refresh_all()
    return len(values)


def test_query_counts_do_not_grow_with_the_data(client, rco_viewer, ciudades):
    client.force_login(rco_viewer)
    client.get(url("dashboards:overview"))  # session and caches warm
    before = {name: _page_queries(client, name, args) for name, args in PAGES}
    assert all(before[name] <= QUERY_BUDGET[name] for name in before), before
    added = _grow(ciudades)
    assert added > 2 * IndicatorValue.objects.filter(report__programme=ciudades).count() / 3
    after = {name: _page_queries(client, name, args) for name, args in PAGES}
    assert after == before


def test_filtered_pages_keep_the_same_query_budget(client, rco_viewer, ciudades):
    client.force_login(rco_viewer)
    for name, args in PAGES:
        n = _page_queries(client, name, args)
        with CaptureQueriesContext(connection) as ctx:
            client.get(url(name, args, "city=SCL&agency=ILO&outcome=R1&period=2022-Q4"))
        assert len(ctx.captured_queries) <= QUERY_BUDGET[name], (name, n, len(ctx.captured_queries))


def test_as_of_period_shows_figures_as_they_stood(client, rco_viewer, ciudades):
    indicator = Indicator.objects.get(programme=ciudades, code="1.2.C")
    for code, amount in [("2022-Q4", 41), ("2023-Q1", 9)]:
        report = ProgressReport.objects.create(
            programme=ciudades,
            agency=Agency.objects.get(code="ILO"),
            city=City.objects.get(code="SCL"),
            period=ReportingPeriod.objects.get(programme=ciudades, code=code),
            status="approved",
            approved_at=timezone.now(),
        )
        IndicatorValue.objects.create(report=report, indicator=indicator, value=Decimal(amount))
    engine.refresh_all()
    client.force_login(rco_viewer)
    page = client.get(url("dashboards:cities", query="agency=ILO")).content.decode()
    assert '<option value="2022-Q4">' in page  # offered once it has figures

    def figure(query: str) -> tuple[str, Decimal]:
        rows = rows_of(client.get(url("dashboards:cities", query=f"{query}download=cities")))
        row = next(r for r in rows if r["indicator"] == "1.2.C" and r["city"] == "SCL")
        return row["as_of_period"], Decimal(row["actual"])

    assert figure("agency=ILO&period=2022-Q4&") == ("2022-Q4", Decimal(41))
    assert figure("agency=ILO&") == ("2023-Q1", Decimal(50))  # summed over time
    html = client.get(url("dashboards:cities", query="agency=ILO&period=2022-Q4")).content.decode()
    assert "Figures as of Q4 2022." in html


def test_pages_forbid_inline_and_foreign_scripts(client, rco_viewer, ciudades):
    client.force_login(rco_viewer)
    policy = client.get(url("dashboards:overview"))["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
