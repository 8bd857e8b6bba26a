"""The export page and its direct downloads, and the same exports through the API
(/api/v1/exports/<kind>/): who may see them, what the files hold (the loaded Ciudades
figures, approved data only), the stamp in every file, formula-safe text, and bad filters
refused on the field they are about with nothing started."""

import csv
import datetime as dt
import io
import json
import re
from decimal import Decimal

import pytest
from django.urls import Resolver404, get_resolver, include, path, resolve
from django.utils import timezone, translation
from docx import Document
from lxml import etree
from openpyxl import load_workbook

from budgets.models import BudgetLine, Expenditure
from indicators.selectors.results import RESULT_COLUMNS, ResultQuery, result_count, result_rows
from monitoring import urls as site_urls
from monitoring.api import exports as api_exports
from monitoring.exports.registry import DOCX, XLSX
from monitoring.exports.stamp import export_stamp
from monitoring.models import ApiToken, ExportJob, Programme, ReportingPeriod
from surveys.models import Question, Survey
from surveys.results import EXPORT_COLUMNS


def _routes_not_yet_included() -> list:
    """The export page and API, routed here until monitoring/urls.py and the API's urls
    include them (then nothing is added and the tests run on the site's own routes)."""
    extra = []
    if "exports" not in get_resolver(site_urls).namespace_dict:
        extra.append(
            path("programmes/<str:code>/exports/", include(("monitoring.exports.urls", "exports")))
        )
    try:
        resolve("/api/v1/exports/budget/", site_urls)
    except Resolver404:
        extra.append(path("api/v1/", include((api_exports.urlpatterns, "api_exports"))))
    return extra


urlpatterns = [*_routes_not_yet_included(), *site_urls.urlpatterns]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

PAGE = "/programmes/CIUDADES/exports/"
KINDS = ("results", "budget", "surveys", "iati", "mptf")


def sign_in(client, user):
    client.force_login(user)
    return client


def post(client, kind: str, **data):
    return client.post(PAGE, {"kind": kind, **data})


def body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def csv_rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body(response).decode())))


def filename(response) -> str:
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    return disposition.split('filename="')[1].rstrip('"')


def as_of(ciudades) -> str:
    stamp = export_stamp(ciudades)
    assert stamp.as_of_date is not None  # Ciudades has approved figures
    return stamp.as_of_date.isoformat()


# ---- the page -------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("persona", ["rco_viewer", "donor"])
def test_it_shows_every_export_with_the_stamp(client, ciudades, request, persona, language):
    user = request.getfixturevalue(persona)
    client = sign_in(client, user)
    response = client.get(PAGE, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    with translation.override(language):
        sentence = export_stamp(ciudades).sentence()
    assert sentence in html
    for kind in KINDS:
        assert f'id="export-{kind}"' in html
        assert f'name="kind" value="{kind}"' in html
    # The selects hold the programme's own codes.
    assert '<option value="SCL">' in html and '<option value="1.4.A">' in html
    assert '<option value="EVAL-CCL">' in html and '<option value="LOP">' in html
    assert 'type="date"' in html  # updated since
    assert 'id="export-jobs"' in html


def test_an_outsider_gets_404_and_a_visitor_the_sign_in_page(client, outsider):
    assert sign_in(client, outsider).get(PAGE).status_code == 404
    client.logout()
    response = client.get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.post(PAGE, {"kind": "budget"}).status_code == 302


def test_an_unknown_programme_is_404(client, rco_viewer):
    assert sign_in(client, rco_viewer).get("/programmes/NOPE/exports/").status_code == 404


def test_the_dashboard_filters_carry_over_to_the_results_form(client, rco_viewer):
    html = sign_in(client, rco_viewer).get(PAGE + "?city=SCL&outcome=R1").content.decode()
    assert '<option value="SCL" selected>' in html
    assert '<option value="R1" selected>' in html


def test_an_unknown_export_kind_is_404(client, rco_viewer):
    assert post(sign_in(client, rco_viewer), "payroll", format="csv").status_code == 404


# ---- direct downloads -----------------------------------------------------------------------


def test_the_budget_csv_has_the_ciudades_figures_and_the_stamp_headers(client, donor, ciudades):
    response = post(sign_in(client, donor), "budget", format="csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert filename(response) == f"CIUDADES-budget-{as_of(ciudades)}.csv"
    stamp = export_stamp(ciudades)
    assert response["X-Restatements"] == str(stamp.restatements)
    assert response["X-As-Of"] == f"{stamp.as_of_period} {as_of(ciudades)}"
    assert "X-Generated-At" in response
    rows = csv_rows(response)
    programme = next(r for r in rows if r["scope"] == "programme")
    assert (programme["budget"], programme["spent"], programme["execution_pct"]) == (
        "1702370",
        "1440732",
        "99.26",
    )
    assert programme["lines_without_expenditure"] == "1"
    unhcr = next(r for r in rows if r["scope"] == "agency" and r["agency"] == "UNHCR")
    assert (unhcr["spent"], unhcr["balance"]) == ("249845", "")
    mexico = next(
        r
        for r in rows
        if r["scope"] == "agency_country" and r["agency"] == "UNHCR" and r["country"] == "MX"
    )
    assert (mexico["spent"], mexico["burn"]) == ("", "no_data")
    staff = next(r for r in rows if r["scope"] == "category" and r["category"] == "fund-staff")
    assert staff["budget"] == "615144"


def test_the_budget_csv_tables_list_lines_and_only_approved_expenditures(
    client, rco_viewer, ciudades
):
    line = BudgetLine.objects.get(
        programme=ciudades, view="line", agency__code="UNHCR", country__code="MX"
    )
    quarter = ReportingPeriod.objects.get(programme=ciudades, code="2023-Q1")
    Expenditure.objects.create(
        line=line, period=quarter, amount=Decimal(98765), as_of=dt.date(2023, 3, 31),
        status=Expenditure.Status.SUBMITTED,
    )  # fmt: skip
    client = sign_in(client, rco_viewer)
    lines = csv_rows(post(client, "budget", format="csv", table="lines"))
    real = [r for r in lines if r["kind"] == "line"]
    assert sum(Decimal(r["revised_amount"]) for r in real) == Decimal(1702370)
    mx = next(r for r in real if r["agency"] == "UNHCR" and r["country"] == "MX")
    assert (mx["revised_amount"], mx["spent"], mx["balance"]) == ("250915", "", "")
    spent = csv_rows(post(client, "budget", format="csv", table="expenditures"))
    assert spent and all(r["agency"] for r in spent)
    assert "98765" not in {r["amount"] for r in spent}  # submitted, not approved
    assert not any(r["agency"] == "UNHCR" and r["country"] == "MX" for r in spent)
    response = post(client, "budget", format="csv", table="revisions")
    assert filename(response) == f"CIUDADES-budget-revisions-{as_of(ciudades)}.csv"
    assert body(response).decode().splitlines()[0].startswith("line,agency,country")


def test_the_budget_workbook_opens_with_the_stamp_first(client, donor, ciudades):
    response = post(sign_in(client, donor), "budget", format="xlsx")
    assert response.status_code == 200
    assert filename(response) == f"CIUDADES-budget-{as_of(ciudades)}.xlsx"
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert book.sheetnames == ["about", "figures", "lines", "revisions", "expenditures"]
    about = [r for r in book["about"].iter_rows(values_only=True) if any(r)]
    assert about[0][0] == "Budget and expenditure of CIUDADES"
    assert about[1][0] == export_stamp(ciudades).sentence()
    figures = list(book["figures"].iter_rows(values_only=True))
    header = figures[0]
    programme = next(dict(zip(header, r, strict=True)) for r in figures if r[0] == "programme")
    assert (programme["budget"], programme["spent"]) == (1702370, 1440732)


def test_a_survey_csv_holds_the_survey_own_export_and_its_breakdowns(client, donor, ciudades):
    client = sign_in(client, donor)
    response = post(client, "surveys", format="csv", survey="EVAL-CCL")
    assert response.status_code == 200
    assert filename(response) == f"CIUDADES-surveys-EVAL-CCL-1-{as_of(ciudades)}.csv"
    ours = csv_rows(response)
    assert list(ours[0]) == [h for _k, h in EXPORT_COLUMNS]
    theirs = csv_rows(client.get("/programmes/CIUDADES/surveys/EVAL-CCL/1/export.csv"))
    assert theirs
    assert all(row in ours for row in theirs)
    assert all(r["results"] == "published" for r in ours)


def test_a_survey_workbook_opens(client, rco_viewer, ciudades):
    response = post(sign_in(client, rco_viewer), "surveys", format="xlsx", survey="EVAL-CCL")
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert book.sheetnames == ["about", "results"]
    first = next(book["about"].iter_rows(values_only=True))
    assert first[0] == "Results of survey EVAL-CCL, wave 1 (CIUDADES)"


def test_a_small_results_csv_streams_the_whole_table(client, donor, ciudades):
    response = post(sign_in(client, donor), "results", format="csv", indicator="1.4.A")
    assert response.status_code == 200 and response.streaming
    assert filename(response) == f"CIUDADES-results-{as_of(ciudades)}.csv"
    rows = csv_rows(response)
    assert len(rows) == result_count(ResultQuery(ciudades, indicator="1.4.A"))
    lop = next(
        r
        for r in rows
        if (r["city"], r["agency"], r["period"], r["disaggregation"])
        == ("ALL", "ALL", "LOP", "total")
    )
    assert (lop["target"], lop["actual"], lop["achievement_pct"]) == ("400", "292", "73")
    assert not ExportJob.objects.exists()


def test_the_results_json_and_workbook_download(client, donor, ciudades):
    client = sign_in(client, donor)
    data = json.loads(body(post(client, "results", format="json", city="SCL")))
    assert data["columns"] == list(RESULT_COLUMNS)
    assert {r["city"] for r in data["results"]} == {"SCL"}
    response = post(client, "results", format="xlsx", outcome="R1")
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert book.sheetnames[0] == "about"


def test_the_iati_file_and_the_fund_report_download(client, donor, ciudades):
    client = sign_in(client, donor)
    response = post(client, "iati", format="xml")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    assert etree.fromstring(response.content).tag == "iati-activities"
    response = post(client, "mptf", format="docx", year="2022", language="es")
    assert response.status_code == 200
    assert filename(response) == f"CIUDADES-mptf-2022-{as_of(ciudades)}.docx"
    document = Document(io.BytesIO(response.content))
    assert document.tables  # the results table


def test_formula_looking_text_is_neutralised_in_budget_and_survey_files(
    client, rco_viewer, ciudades
):
    line = BudgetLine.objects.filter(programme=ciudades, view="line").first()
    line.source = '=HYPERLINK("http://evil.example","x")'
    line.save(update_fields=["source"])
    Expenditure.objects.filter(line=line).update(note="+SUM(A1:A9)")
    survey = Survey.objects.get(programme=ciudades, code="EVAL-CCL")
    question = Question.objects.filter(survey=survey).first()
    question.text_en = "@cmd|' /C calc'!A0"
    question.save(update_fields=["text_en"])
    client = sign_in(client, rco_viewer)

    lines = csv_rows(post(client, "budget", format="csv", table="lines"))
    assert next(r for r in lines if r["line"] == str(line.pk))["source"] == (
        '\'=HYPERLINK("http://evil.example","x")'
    )
    spent = csv_rows(post(client, "budget", format="csv", table="expenditures"))
    assert {r["note"] for r in spent if r["line"] == str(line.pk)} == {"'+SUM(A1:A9)"}
    book = load_workbook(io.BytesIO(post(client, "budget", format="xlsx").content))
    cells = [c for row in book["lines"].iter_rows() for c in row if "HYPERLINK" in str(c.value)]
    assert [(c.value[0], c.data_type) for c in cells] == [("'", "s")]

    rows = csv_rows(post(client, "surveys", format="csv", survey="EVAL-CCL"))
    texts = {r["question_text"] for r in rows if r["question"] == question.code}
    assert texts == {"'@cmd|' /C calc'!A0"}
    book = load_workbook(
        io.BytesIO(post(client, "surveys", format="xlsx", survey="EVAL-CCL").content)
    )
    cells = [
        c for row in book["results"].iter_rows() for c in row if c.value and "calc" in str(c.value)
    ]
    assert cells and all(c.value.startswith("'@") and c.data_type == "s" for c in cells)


# ---- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "data", "field", "message"),
    [
        ("results", {"city": "LIMA"}, "city", "There is no city “LIMA” in this programme."),
        ("results", {"indicator": "9.9.Z"}, "indicator", "There is no indicator “9.9.Z”"),
        ("results", {"period": "2030-Q1"}, "period", "There is no period “2030-Q1”"),
        ("results", {"updated_since": "2023-13-45"}, "updated_since", "Enter a date as YYYY-MM-DD"),
        ("results", {"updated_since": "2023-02-30"}, "updated_since", "Enter a date as"),
        ("results", {"updated_since": "9999-12-31T23:59-23:59"}, "updated_since", "Enter a"),
        ("results", {"city": "SCL\x00"}, "city", "Null characters are not allowed."),
        ("results", {"format": "pdf"}, "format", "“pdf” is not a format of this export"),
        ("surveys", {}, "survey", "Choose a survey."),
        ("surveys", {"survey": "EVAL-CCL", "wave": "7"}, "wave", "has no wave 7 (it has 1)"),
        ("surveys", {"survey": "EVAL-CCL", "wave": "first"}, "wave", "A wave is a whole number"),
        ("mptf", {"year": "1999"}, "year", "There is no year “1999”"),
        ("mptf", {"language": "fr"}, "language", "There is no language “fr”"),
        ("budget", {"table": "salaries"}, "table", "There is no table (csv) “salaries”"),
    ],
)
def test_bad_filters_are_refused_on_their_field_and_start_nothing(
    client, rco_viewer, settings, kind, data, field, message
):
    settings.EXPORT_SYNC_MAX_ROWS = 0  # were it accepted, it would become a job
    response = post(sign_in(client, rco_viewer), kind, **data)
    assert response.status_code == 400
    form = next(f for f in response.context["forms"] if f.export.kind == kind)
    assert list(form.errors) == [field]
    assert message in form.errors[field][0]
    html = response.content.decode()
    assert f'id="id_{kind}_{field}-error"' in html
    assert not ExportJob.objects.exists()


# ---- the API ------------------------------------------------------------------------------


def token(user, programme: Programme, **extra) -> dict[str, str]:
    _obj, key = ApiToken.issue(
        user=user, programme=programme, scope="read", days=30, name="exports", **extra
    )
    return {"HTTP_AUTHORIZATION": f"Token {key}"}


def test_a_donor_token_downloads_every_export(client, donor, ciudades):
    auth = token(donor, ciudades)
    budget = client.get("/api/v1/exports/budget/", {"programme": "CIUDADES"}, **auth)
    assert budget.status_code == 200 and budget["Content-Type"] == "text/csv; charset=utf-8"
    assert "X-Generated-At" in budget
    assert next(r for r in csv_rows(budget) if r["scope"] == "programme")["budget"] == "1702370"
    xml = client.get("/api/v1/exports/iati/", {"format": "xml"}, **auth)  # the token's programme
    assert etree.fromstring(xml.content).tag == "iati-activities"
    report = client.get("/api/v1/exports/mptf/", {"programme": "CIUDADES", "year": 2023}, **auth)
    assert Document(io.BytesIO(report.content)).tables
    survey = client.get(
        "/api/v1/exports/surveys/", {"survey": "EVAL-CCL", "format": "xlsx"}, **auth
    )
    assert load_workbook(io.BytesIO(survey.content)).sheetnames == ["about", "results"]
    results = client.get(
        "/api/v1/exports/results/", {"format": "json", "indicator": "1.4.A"}, **auth
    )
    assert results.streaming
    rows = json.loads(body(results))["results"]
    assert len(rows) == len(list(result_rows(ResultQuery(ciudades, indicator="1.4.A"))))


def test_the_api_refuses_bad_filters_by_name(client, donor, ciudades):
    auth = token(donor, ciudades)
    response = client.get("/api/v1/exports/results/", {"city": "LIMA"}, **auth)
    assert response.status_code == 400
    assert response.json()["errors"] == {"city": ["There is no city “LIMA” in this programme."]}
    response = client.get("/api/v1/exports/budget/", {"format": "docx"}, **auth)
    assert response.status_code == 400 and list(response.json()["errors"]) == ["format"]
    response = client.get("/api/v1/exports/mptf/", {"year": "1999"}, **auth)
    assert response.status_code == 400 and list(response.json()["errors"]) == ["year"]
    for params in ({"survey": "\x00"}, {"survey": "EVAL-CCL", "wave": "²"}):
        response = client.get("/api/v1/exports/surveys/", params, **auth)
        assert response.status_code == 400 and list(response.json()["errors"]) == [
            next(reversed(params))
        ]


def test_the_api_refuses_what_it_would_not_build_at_once(client, donor, ciudades, settings):
    settings.EXPORT_SYNC_MAX_ROWS = 10
    auth = token(donor, ciudades)
    response = client.get("/api/v1/exports/results/", {"format": "xlsx"}, **auth)
    assert response.status_code == 400
    assert "format=csv" in response.json()["errors"]["format"][0]
    assert "/programmes/CIUDADES/exports/" in response.json()["errors"]["format"][0]
    streamed = client.get("/api/v1/exports/results/", {"format": "csv"}, **auth)
    assert streamed.status_code == 200
    assert len(csv_rows(streamed)) == result_count(ResultQuery(ciudades))


def test_the_api_refuses_strangers(client, donor, outsider, ciudades):
    assert client.get("/api/v1/exports/budget/", {"programme": "CIUDADES"}).status_code == 401
    client.force_login(outsider)
    assert client.get("/api/v1/exports/budget/", {"programme": "CIUDADES"}).status_code == 404
    client.logout()
    _obj, key = ApiToken.issue(user=donor, programme=ciudades, scope="read", days=30, name="x")
    _obj.revoke()
    response = client.get("/api/v1/exports/budget/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 401


def test_expired_tokens_are_refused(client, donor, ciudades):
    obj, key = ApiToken.issue(user=donor, programme=ciudades, scope="read", days=1, name="x")
    ApiToken.objects.filter(pk=obj.pk).update(expires_at=timezone.now() - dt.timedelta(days=1))
    response = client.get("/api/v1/exports/iati/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 401


def test_the_schema_documents_every_export(client, rco_viewer):
    client.force_login(rco_viewer)
    schema = json.loads(client.get("/api/v1/schema/", {"format": "json"}).content)
    expected = {
        "results": ({"text/csv", XLSX, "application/json"}, {"city", "updated_since"}),
        "budget": ({"text/csv", XLSX}, {"table"}),
        "surveys": ({"text/csv", XLSX}, {"survey", "wave"}),
        "iati": ({"application/xml"}, set()),
        "mptf": ({DOCX}, {"year", "language"}),
    }
    for kind, (types, filters) in expected.items():
        operation = schema["paths"][f"/api/v1/exports/{kind}/"]["get"]
        assert set(operation["responses"]["200"]["content"]) == types
        names = {p["name"] for p in operation["parameters"]}
        assert {"programme", "format"} | filters <= names
        assert "X-As-Of" in operation["responses"]["200"]["headers"]


def test_the_page_costs_the_same_queries_however_many_jobs(
    client, rco_viewer, ciudades, django_assert_max_num_queries
):
    client = sign_in(client, rco_viewer)
    client.get(PAGE)  # session and caches warmed
    with django_assert_max_num_queries(25) as few:
        client.get(PAGE)
    ExportJob.objects.bulk_create(
        ExportJob(programme=ciudades, requested_by=rco_viewer, kind="budget", fmt="csv")
        for _ in range(12)
    )
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(PAGE).content.decode()
    assert len(re.findall(r'id="export-job-\d+"', html)) == 10
