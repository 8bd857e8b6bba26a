"""The budget dashboard on the loaded Ciudades budget (Tabla 7, Tabla 8, Annex 3g): who may
see it, the figures it shows in both languages, its filters, charts and downloads, that only
approved spending reaches it, and a query count that does not grow with the data."""

import csv
import datetime as dt
import io
import json
import re
from decimal import Decimal

import plotly.graph_objects as go
import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from budgets.figures import refresh_budgets
from budgets.models import BudgetFigure, BudgetLine, Expenditure
from monitoring.models import ReportingPeriod

CHARTS = [
    "execution-by-agency",
    "execution-by-agency-country",
    "spending-over-time",
    "budget-by-category",
    "budget-by-outcome",
]
# Session, user, programme, membership (twice), the filters' cities/agencies/outcomes/periods,
# then figures, extensions, expenditures, countries, categories, findings, category lines,
# indicators, two rollup reads and the page header's time of computation.
QUERY_BUDGET = 20


def url(query: str = "") -> str:
    return reverse("budget:dashboard", args=("CIUDADES",)) + (f"?{query}" if query else "")


def rows_of(response) -> list[dict[str, str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def by_agency(client, query: str = "") -> dict[str, dict[str, str]]:
    rows = rows_of(client.get(url(f"{query}download=execution-by-agency")))
    return {r["agency"]: r for r in rows}


def text_of(response) -> str:
    html = re.sub(r"<script.*?</script>", " ", response.content.decode(), flags=re.S)
    # Collapse ordinary white space only: Spanish groups thousands with no-break spaces.
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def member(client, rco_viewer):
    client.force_login(rco_viewer)
    return client


def test_it_sends_an_anonymous_visitor_to_log_in(client, ciudades):
    response = client.get(url())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_hides_the_programme_from_an_outsider(client, outsider, ciudades):
    client.force_login(outsider)
    assert client.get(url()).status_code == 404
    assert client.get(url("download=execution-by-agency")).status_code == 404


@pytest.mark.parametrize("persona", ["rco", "donor", "coord.ilo.scl", "approver.iom", "admin"])
def test_every_member_sees_the_page_with_its_charts(client, ciudades, persona):
    client.force_login(get_user_model().objects.get(username=persona))
    response = client.get(url())
    assert response.status_code == 200
    html = response.content.decode()
    for chart in CHARTS:
        assert f'data-chart="chart-{chart}"' in html, chart
    assert "<script>" not in html  # figures travel as JSON, drawn by the static script
    assert 'aria-current="page">Budget</a>' in html


def test_every_chart_is_a_figure_plotly_accepts(member, ciudades):
    html = member.get(url()).content.decode()
    for chart in CHARTS:
        found = re.search(
            rf'<script id="chart-{chart}" type="application/json">(.*?)</script>', html
        )
        assert found, chart
        figure = go.Figure(json.loads(found.group(1)))  # raises on anything Plotly rejects
        assert figure.data, chart


def test_it_shows_the_ciudades_budget_in_english(member, ciudades):
    text = text_of(member.get(url()))
    assert "Budget 1,702,370 USD" in text
    assert "Spent 1,440,732 USD" in text
    assert "Execution rate 99.26 %" in text
    assert "Lines without expenditure 1" in text
    assert "Balance — unknown while a line has not reported" in text
    assert "Programme end May 2023 2 no-cost extensions; originally Nov. 30, 2022" in text
    assert "UNHCR Mexico 250,915 no report" in text  # not a zero


def test_it_writes_figures_the_spanish_way_in_spanish(ciudades, rco_viewer):
    browser = Client(HTTP_ACCEPT_LANGUAGE="es")
    browser.force_login(rco_viewer)
    response = browser.get(url())
    html = response.content.decode()
    assert '<html lang="es">' in html
    assert "Solo cifras aprobadas." in html
    text = text_of(response)
    for figure in ("1\xa0702\xa0370", "1\xa0440\xa0732", "99,26 %", "98,43 %", "100,06 %"):
        assert figure in text, figure
    assert "1,702,370" not in text and "99.26 %" not in text


def test_execution_by_agency_matches_tabla_8(member, ciudades):
    rows = by_agency(member)
    assert {a: (r["revised_budget"], r["spent"]) for a, r in rows.items()} == {
        "ILO": ("700850", "689832"),
        "IOM": ("500760", "501055"),
        "UNHCR": ("500760", "249845"),
    }
    assert rows["UNHCR"]["lines_without_expenditure"] == "1"
    assert rows["UNHCR"]["balance"] == ""  # unknown while Mexico has not reported
    assert Decimal(rows["ILO"]["execution_pct"]) == Decimal("98.43")


def test_a_line_without_expenditure_is_no_report_not_zero(member, ciudades):
    rows = rows_of(member.get(url("download=execution-by-agency-country")))
    mexico = next(r for r in rows if (r["agency"], r["country"]) == ("UNHCR", "MX"))
    assert (mexico["revised_budget"], mexico["spent"], mexico["execution_pct"]) == (
        "250915",
        "",
        "",
    )
    assert len(rows) == 6


def test_a_city_shows_its_country_figures(member, ciudades):
    response = member.get(url("city=CDMX"))
    text = text_of(response)
    assert "Budget 801,710 USD" in text and "Spent 541,670 USD" in text
    assert "the figures are those of Mexico" in text
    rows = by_agency(member, "city=CDMX&")
    assert {r["country"] for r in rows.values()} == {"MX"}
    assert rows["IOM"]["spent"] == "226693"


def test_an_agency_narrows_every_chart_to_it(member, ciudades):
    text = text_of(member.get(url("agency=UNHCR")))
    assert "Budget 500,760 USD" in text and "Spent 249,845 USD" in text
    for chart in ("execution-by-agency", "spending-over-time", "budget-by-category"):
        rows = rows_of(member.get(url(f"agency=UNHCR&download={chart}")))
        assert rows and {r["agency"] for r in rows} == {"UNHCR"}, chart
    both = text_of(member.get(url("agency=UNHCR&city=CDMX")))
    assert "Budget 250,915 USD" in both and "Lines without expenditure 1" in both


def test_an_unknown_filter_is_named_and_ignored(member, ciudades):
    response = member.get(url("city=LIMA&agency=WHO"))
    text = text_of(response)
    assert response.status_code == 200
    assert "City: Select a valid choice." in text and "Agency: Select a valid choice." in text
    assert "That filter was ignored." in text
    assert "Budget 1,702,370 USD" in text  # the whole programme instead


def test_spending_over_time_is_approved_spending_beside_an_even_pace(member, ciudades):
    rows = rows_of(member.get(url("download=spending-over-time")))
    ilo = next(r for r in rows if r["agency"] == "ILO")
    assert (ilo["date"], ilo["spent_to_date"], ilo["budget_at_even_pace"]) == (
        "2023-08-03",
        "689832",
        "700850",  # reported after the extended end: the whole budget
    )
    unhcr = next(r for r in rows if r["agency"] == "UNHCR")
    assert unhcr["lines_reported"] == "1"
    html = member.get(url()).content.decode()
    assert "No-cost extension 2: 3 months, to May 31, 2023." in html


def test_category_breakdown_is_annex_3g(member, ciudades):
    rows = rows_of(member.get(url("download=budget-by-category")))
    assert len(rows) == 21  # 3 agencies × 7 categories of the fund
    staff = {r["agency"]: r["budget"] for r in rows if r["category"] == "fund-staff"}
    assert staff == {"ILO": "272800", "IOM": "136844", "UNHCR": "205500"}
    for agency, budget in (("ILO", 700850), ("IOM", 500760), ("UNHCR", 500760)):
        assert sum(Decimal(r["budget"]) for r in rows if r["agency"] == agency) == budget
    text = text_of(member.get(url()))
    assert "Staff costs 272,800 136,844 205,500 615,144" in text
    assert "ILO: indirect support costs are 7 % of direct costs (ceiling 7 %)." in text


def test_each_outcome_budget_sits_beside_its_indicators_status(member, ciudades):
    rows = rows_of(member.get(url("download=budget-by-outcome")))
    assert [(r["outcome"], r["budget"]) for r in rows] == [
        ("R1", "597100"),
        ("R2", "108746"),
        ("R3", "182606"),
    ]
    r1 = rows[0]
    assert int(r1["indicators"]) > 0 and int(r1["at_risk"]) >= 1  # 1.4.A is at risk
    only_r2 = rows_of(member.get(url("outcome=R2&download=budget-by-outcome")))
    assert [r["outcome"] for r in only_r2] == ["R2"]


def test_it_lists_the_seven_budget_findings(member, ciudades):
    text = text_of(member.get(url()))
    assert "Budget findings (7)" in text
    assert "UNHCR, Mexico: no expenditure reported for this line (budget 250,915)." in text
    assert "IOM, Mexico: spent 226,693 against a budget of 225,343 (1,350 over)." in text
    assert "the source prints a total of 1,702,372" in text
    assert "Budget findings (1)" in text_of(member.get(url("agency=UNHCR&city=CDMX")))


def _unapproved(ciudades, status: str) -> Expenditure:
    return Expenditure.objects.create(
        line=BudgetLine.objects.get(programme=ciudades, agency__code="UNHCR", country__code="MX"),
        period=ReportingPeriod.objects.get(programme=ciudades, code="2023-Q1"),
        amount=Decimal("123457"),
        as_of=dt.date(2023, 3, 31),
        status=status,
    )


@pytest.mark.parametrize("status", ["draft", "submitted"])
def test_a_donor_never_sees_an_unapproved_expenditure(client, donor, ciudades, status):
    client.force_login(donor)
    before = by_agency(client)
    expenditure = _unapproved(ciudades, status)
    refresh_budgets([ciudades.pk])  # even once the figures are recomputed
    after = by_agency(client)
    assert after == before
    for page in [url(), *(url(f"download={c}") for c in CHARTS)]:
        body = client.get(page).content.decode()
        assert "123457" not in body and "123,457" not in body, page
    # ... and the same expenditure, once approved, does count: the check above can fail.
    expenditure.status = Expenditure.Status.APPROVED
    expenditure.approved_at = timezone.now()
    expenditure.save()
    refresh_budgets([ciudades.pk])
    assert by_agency(client)["UNHCR"]["spent"] == str(249845 + 123457)


def test_the_page_says_so_when_there_are_no_budget_figures(member, ciudades):
    BudgetFigure.objects.filter(programme=ciudades).delete()
    response = member.get(url())
    assert response.status_code == 200
    assert "No budget figures for these filters yet." in text_of(response)
    assert 'data-chart="chart-execution-by-agency"' in response.content.decode()


def _quarterly_spending(ciudades) -> None:
    """Nine approved quarters of spending on UNHCR's Mexico line, figures recomputed."""
    line = BudgetLine.objects.get(programme=ciudades, agency__code="UNHCR", country__code="MX")
    quarters = ReportingPeriod.objects.filter(
        programme=ciudades, kind="quarter", start_date__gte=dt.date(2021, 1, 1)
    ).exclude(code="2023-Q2")
    Expenditure.objects.bulk_create(
        Expenditure(line=line, period=q, amount=Decimal(10000), as_of=q.end_date,
                    status="approved", approved_at=timezone.now())
        for q in quarters
    )  # fmt: skip
    refresh_budgets([ciudades.pk])


def test_the_query_count_is_fixed_whatever_the_data(
    member, ciudades, django_assert_max_num_queries
):
    member.get(url())  # session warm
    with django_assert_max_num_queries(QUERY_BUDGET):
        member.get(url())
    with django_assert_max_num_queries(QUERY_BUDGET):
        member.get(url("city=SCL&agency=ILO&outcome=R1&period=2022-Q4"))
    _quarterly_spending(ciudades)
    with django_assert_max_num_queries(QUERY_BUDGET):
        response = member.get(url("download=spending-over-time"))
    unhcr = [r for r in rows_of(response) if r["agency"] == "UNHCR"]
    assert len(unhcr) == 10  # nine quarters and the Chilean line's final report
    assert unhcr[-2]["spent_to_date"] == "90000"
    assert unhcr[-1]["spent_to_date"] == str(90000 + 249845)


def test_the_overview_shows_the_execution_rate(member, ciudades):
    text = text_of(member.get(reverse("dashboards:overview", args=("CIUDADES",))))
    assert "Budget execution 99.26 % 1,440,732 spent of 1,702,370 USD · 1 line without report" in (
        text
    )
    ilo = text_of(member.get(reverse("dashboards:overview", args=("CIUDADES",)) + "?agency=ILO"))
    assert "Budget execution 98.43 % 689,832 spent of 700,850 USD" in ilo
