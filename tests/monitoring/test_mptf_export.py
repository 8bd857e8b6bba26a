"""The Migration MPTF progress report (DOCX) of the loaded Ciudades programme: it opens with
python-docx, has the template's sections and project information, the Results Reporting
Framework with the approved figures (1.4.A: target 400, cumulative 292, 73 %), the budget per
agency, labels and statements in the chosen language, the stamp's "as of" line, only the
chosen year's column for an annual report, and nothing that is not approved."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from docx import Document

from budgets.figures import refresh_budgets
from budgets.models import BudgetLine, Expenditure
from governance.models import Risk
from indicators import engine, services
from indicators.models import Indicator, IndicatorValue, ProgressReport
from indicators.selectors.reports import indicators_in_scope
from indicators.selectors.results import LOP, RESULT_COLUMNS, ResultQuery, result_rows
from monitoring.exports import mptf
from monitoring.exports.mptf import (
    NoSuchYear,
    build_mptf_report,
    number,
    reporting_years,
    risk_rows,
)
from monitoring.exports.stamp import ExportStamp, export_stamp
from monitoring.models import Agency, City, ReportingPeriod

pytestmark = pytest.mark.django_db

DISTINCTIVE = "86421"
RISK = ("Risk", "Riesgo")
STAMP = ExportStamp(
    programme="CIUDADES",
    generated_at=dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC),
    as_of_period="LOP",
    as_of_date=dt.date(2023, 5, 31),
    computed_at=dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC),
    restatements=2,
    last_restated_at=dt.datetime(2026, 2, 1, 12, 0, tzinfo=dt.UTC),
)


def open_docx(data: bytes):
    return Document(io.BytesIO(data))


def text_of(doc) -> str:
    """Every paragraph and table cell, one per line."""
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    return "\n".join(parts)


def headings(doc) -> list[str]:
    return [p.text for p in doc.paragraphs if p.style.name.startswith(("Heading", "Title"))]


def framework(doc):
    """The Results Reporting Framework: the only table with a column per year (8 or more)
    besides the risk register's (8 columns, "Risk" second)."""
    (table,) = [
        t for t in doc.tables if len(t.columns) >= 8 and t.rows[0].cells[1].text not in RISK
    ]
    return table


def columns(table) -> list[str]:
    """Each column's header: its year code, else the heading merged down from the top row."""
    return [cell.text for cell in table.rows[1].cells]


def indicator_row(table, code: str, city: str = "") -> dict[str, str]:
    header = columns(table)
    for row in table.rows[2:]:
        cells = [c.text for c in row.cells]
        first = cells[0].split("\n")
        if first[0].endswith(f" {code}") and any(city in place for place in [*first[1:], ""]):
            return dict(zip(header, cells, strict=True)) | {"label": cells[0], "name": cells[1]}
    raise AssertionError(f"no row for {code}")


def project_information(doc) -> dict[str, str]:
    table = doc.tables[0]
    return {row.cells[0].text: row.cells[1].text for row in table.rows[1:]}


def test_it_opens_with_python_docx_and_follows_the_template(ciudades):
    doc = open_docx(build_mptf_report(ciudades, stamp=STAMP))
    assert doc.paragraphs[0].text == "Final Progress Report"
    found = headings(doc)
    assert found[0] == "Migration MPTF ANNUAL/FINAL PROGRESS REPORT"
    for heading in [
        "Executive Summary",
        "Key achievements so far",
        "Final Progress",
        "1. Summary and Context",
        "2. Results",
        "Results Reporting Framework",
        "3. Partnerships",
        "4. Cross-Cutting Issues",
        "5. Innovation, Good Practices and Lessons Learned",
        "6. Challenges Encountered and Measures Taken",
        "Risks",
        "7. Contributions to the SDGs",
        "8. Budget",
        "Conclusion and Next Steps",
        "Annex",
    ]:
        assert heading in found, heading
    # the results per outcome and output, with the programme's own titles
    assert any(h.startswith("Outcome 1: Santiago and Mexico City enhance") for h in found)
    assert any(h.startswith("Output 1.4: Entrepreneurship services") for h in found)
    # every narrative section is left for a person, in italics
    prompts = [p for p in doc.paragraphs if p.text.startswith("[to be completed: ")]
    assert len(prompts) >= 20
    assert all(run.italic for p in prompts for run in p.runs)


def test_the_results_table_has_1_4_a_as_the_results_table_gives_it(ciudades):
    query = ResultQuery(ciudades, city="ALL", agency="ALL", indicator="1.4.A", period=LOP)
    rows = [dict(zip(RESULT_COLUMNS, r, strict=True)) for r in result_rows(query)]
    (tidy,) = [r for r in rows if r["disaggregation"] == "total"]
    figures = (tidy["target"], tidy["actual"], tidy["achievement_pct"], tidy["status"])
    assert figures == (Decimal(400), Decimal(292), Decimal("73.00"), "at_risk")

    table = framework(open_docx(build_mptf_report(ciudades, stamp=STAMP)))
    assert columns(table)[:6] == ["INDICATORS", "INDICATORS", "Baseline", "Y1", "Y2", "Y3"]
    row = indicator_row(table, "1.4.A")
    assert row["label"] == "Indicator 1.4.A"
    assert row["name"].startswith("Number of migrants and refugees who received specific")
    assert row["Cumulative results (life of programme)"] == "292"
    assert (row["Target"], row["Achievement"]) == ("400", "73 %")
    assert (row["Y1"], row["Y2"], row["Y3"]) == ("", "", "")  # reported for the whole programme
    assert "Status: at risk." in row["Notes"]
    assert "add up to 288, not to the reported total of 292" in row["Notes"]


def test_the_results_table_gives_each_year_its_own_figure_and_city_rows_where_needed(ciudades):
    table = framework(open_docx(build_mptf_report(ciudades, stamp=STAMP)))
    earlier = indicator_row(table, "1.2.a")  # the design's indicator, superseded
    assert (earlier["Baseline"], earlier["Y1"], earlier["Y2"]) == ("0", "0", "3,131")
    assert earlier["Cumulative results (life of programme)"] == "3,131"
    assert "Superseded by 1.2.A." in earlier["Notes"]
    # 1.1.E is Santiago's alone: no programme total, so its city row
    santiago = indicator_row(table, "1.1.E", "Santiago")
    assert (santiago["Cumulative results (life of programme)"], santiago["Target"]) == ("7", "2")
    assert indicator_row(table, "1.2.D")["Cumulative results (life of programme)"] == "94 %"
    assert indicator_row(table, "1.1.C", "Santiago")["Target"] == "yes"
    # outcomes and outputs head their indicators
    first = [row.cells[0].text for row in table.rows]
    output = next(i for i, t in enumerate(first) if t.startswith("OUTPUT 1.4  Entrepreneurship"))
    outcome = next(i for i, t in enumerate(first) if t.startswith("OUTCOME 2  Enhanced social"))
    assert output < first.index("Indicator 1.4.A") < outcome


def test_project_information_has_the_budget_and_the_three_agencies(ciudades):
    info = project_information(open_docx(build_mptf_report(ciudades, stamp=STAMP)))
    assert info["Joint Programme Title:"].startswith("Capacity building of local governments")
    assert info["Country(ies)/Region:"].startswith("Chile; Mexico")
    assert info["Convening UN Organization:"] == "International Labour Organization (ILO)"
    assert "(IOM)" in info["PUNO(s):"] and "(UNHCR)" in info["PUNO(s):"]
    assert "(ILO)" not in info["PUNO(s):"]
    budget = info["Total Approved Migration MPTF Budget (breakdown by PUNO):"]
    assert budget.split("\n") == [
        "ILO: 700,850",
        "IOM: 500,760",
        "UNHCR: 500,760",
        "Total: 1,702,370 (USD)",
    ]
    assert info["Project Period (Start – End Dates):"].startswith("November 2020 – May 2023")
    assert info["Reporting Period:"].startswith("November 2020 – May 2023")
    assert info["Report Submission Date:"] == "[to be completed]"
    assert info["Report Prepared by (Name, title, email):"] == "[to be completed]"


def test_the_budget_section_shows_approved_budget_and_spending_per_agency(ciudades):
    doc = open_docx(build_mptf_report(ciudades, stamp=STAMP))
    table = doc.tables[-1]
    rows = [[c.text for c in row.cells] for row in table.rows]
    assert rows[0][:5] == ["Agency", "Budget", "Spent", "Balance", "Execution"]
    by_agency = {r[0]: r for r in rows[1:]}
    assert by_agency["ILO"][1:4] == ["700,850", "689,832", "11,018"]
    assert by_agency["Total"][1:3] == ["1,702,370", "1,440,732"]
    assert by_agency["UNHCR"][-1] == "1 budget line without reported expenditure."


def test_it_says_as_of_when_and_whether_figures_were_restated(ciudades):
    text = text_of(open_docx(build_mptf_report(ciudades, stamp=STAMP)))
    assert STAMP.sentence() in text
    assert "2 approved figures have been restated since their approval" in text
    # without a stamp given, the programme's own
    text = text_of(open_docx(build_mptf_report(ciudades)))
    assert export_stamp(ciudades).sentence() in text


def test_risks_say_none_are_recorded_until_there_is_a_register(ciudades):
    Risk.objects.filter(programme=ciudades).delete()  # whether or not the loader added them
    assert risk_rows(ciudades) == []
    text = text_of(open_docx(build_mptf_report(ciudades, stamp=STAMP)))
    assert "No risks are recorded in the platform." in text


def test_risks_from_a_register_are_tabled(ciudades, monkeypatch):
    risk = mptf.RiskRow(
        risk="Change of municipal government",
        likelihood="high",
        impact="medium",
        mitigation="Brief the new administration early",
        owner="ILO",
    )
    monkeypatch.setattr(mptf, "risk_rows", lambda programme: [risk])
    doc = open_docx(build_mptf_report(ciudades, stamp=STAMP))
    (table,) = [t for t in doc.tables if t.rows[0].cells[1].text == "Risk"]
    assert [c.text for c in table.rows[1].cells][1:5] == [
        "Change of municipal government",
        "",
        "high",
        "medium",
    ]
    assert "No risks are recorded in the platform." not in text_of(doc)


def test_the_spanish_report_has_spanish_labels_and_statements(ciudades):
    doc = open_docx(build_mptf_report(ciudades, language="es", stamp=STAMP))
    table = framework(doc)
    header = columns(table)
    assert {"Línea de base", "Meta", "Logro", "Notas"} <= set(header)
    row = indicator_row(table, "1.4.A")
    assert row["name"].startswith("Número de migrantes y refugiados que recibieron servicios")
    assert (row["Meta"], row["Logro"]) == ("400", "73 %")
    assert "Los 6 componentes declarados suman 288" in row["Notas"]
    text = text_of(doc)
    assert "Programa Conjunto Ciudades" in text
    assert "Organización Internacional del Trabajo (OIT)" in text
    assert "noviembre de 2020 – mayo de 2023" in text
    assert "Number of migrants and refugees who received" not in text
    budget = [[c.text for c in row.cells] for row in doc.tables[-1].rows]
    assert budget[0][:3] == ["Agencia", "Presupuesto", "Gastado"]
    assert [r[0] for r in budget[1:]] == ["OIT", "OIM", "ACNUR", "Total"]


def test_an_annual_report_shows_only_its_year(ciudades):
    doc = open_docx(build_mptf_report(ciudades, year=2022, stamp=STAMP))
    assert doc.paragraphs[0].text == "Annual Progress Report 2022"
    assert "Annual Progress" in headings(doc)
    assert project_information(doc)["Reporting Period:"] == "March 2021 – February 2022"
    table = framework(doc)
    header = columns(table)
    assert "Y2" in header and "Y1" not in header and "Y3" not in header
    cumulative = "Cumulative results (to February 2022)"
    row = indicator_row(table, "1.2.a")
    assert (row["Y2"], row[cumulative]) == ("3,131", "3,131")
    # 1.4.A's 292 was approved for the programme's final report, after this year
    later = indicator_row(table, "1.4.A")
    assert (later[cumulative], later["Achievement"]) == ("", "")
    assert later["Notes"] == "No approved figure."
    # and the first year alone
    table = framework(open_docx(build_mptf_report(ciudades, year=2021, stamp=STAMP)))
    assert "Y1" in columns(table) and "Y2" not in columns(table)
    assert indicator_row(table, "1.2.a")["Y1"] == "0"


def test_a_year_the_programme_did_not_report_is_refused(ciudades):
    with pytest.raises(NoSuchYear, match="no reporting year ending in 2030"):
        build_mptf_report(ciudades, year=2030, stamp=STAMP)


def approve_quarters(programme, code: str, values: dict[str, int]) -> None:
    """Approved reports of ILO in Santiago for these quarters, with ``code``'s figure."""
    indicator = Indicator.objects.get(programme=programme, code=code)
    for quarter, value in values.items():
        report, _ = ProgressReport.objects.get_or_create(
            programme=programme,
            agency=Agency.objects.get(code="ILO"),
            city=City.objects.get(code="SCL"),
            period=ReportingPeriod.objects.get(programme=programme, code=quarter),
            defaults={"status": "approved", "approved_at": timezone.now()},
        )
        IndicatorValue.objects.create(report=report, indicator=indicator, value=Decimal(value))
    engine.refresh_all()


def test_quarters_add_up_into_their_reporting_year(ciudades):
    approve_quarters(ciudades, "1.1.E", {"2022-Q2": 555, "2022-Q3": 111})
    table = framework(open_docx(build_mptf_report(ciudades, year=2023, stamp=STAMP)))
    row = indicator_row(table, "1.1.E", "Santiago")
    assert (row["Y3"], row["Cumulative results (to February 2023)"]) == ("666", "666")


def test_without_reporting_years_the_columns_are_calendar_years(ciudades):
    ReportingPeriod.objects.filter(programme=ciudades, kind="year").update(kind="custom")
    approve_quarters(ciudades, "1.1.E", {"2021-Q4": 40, "2022-Q2": 555, "2022-Q3": 111})
    assert [y.code for y in reporting_years(ciudades)] == ["2020", "2021", "2022", "2023"]
    table = framework(open_docx(build_mptf_report(ciudades, year=2022, stamp=STAMP)))
    assert "2022" in columns(table) and "2021" not in columns(table)
    row = indicator_row(table, "1.1.E", "Santiago")
    assert (row["2022"], row["Cumulative results (to December 2022)"]) == ("666", "706")
    table = framework(open_docx(build_mptf_report(ciudades, stamp=STAMP)))
    assert columns(table)[3:7] == ["2020", "2021", "2022", "2023"]
    row = indicator_row(table, "1.1.E", "Santiago")
    assert (row["2021"], row["2022"]) == ("40", "666")


def queries_for(programme, **kwargs) -> int:
    with CaptureQueriesContext(connection) as ctx:
        build_mptf_report(programme, stamp=STAMP, **kwargs)
    return len(ctx.captured_queries)


def test_the_number_of_queries_does_not_grow_with_the_data(ciudades):
    final, annual = queries_for(ciudades), queries_for(ciudades, year=2023)
    assert final <= 30 and annual <= 30
    approve_quarters(ciudades, "1.1.E", {f"{y}-Q{q}": 10 for y in (2021, 2022) for q in (1, 2, 3)})
    approve_quarters(ciudades, "2.2.D", {"2022-Q1": 3, "2022-Q4": 4})
    assert (queries_for(ciudades), queries_for(ciudades, year=2023)) == (final, annual)


def entries(programme, value: str) -> list[services.Entry]:
    """ILO Santiago's figures for every indicator in scope: ``value`` for counts."""
    other = {"percent": "61", "yes_no": "1", "level": "2", "amount": "100"}
    return [
        services.Entry(
            indicator=i, value=Decimal(value if i.measure == "count" else other[i.measure])
        )
        for i in indicators_in_scope(
            programme=programme,
            agency=Agency.objects.get(code="ILO"),
            city=City.objects.get(code="SCL"),
        )
    ]


def spent_by_agency(programme) -> dict[str, str]:
    table = open_docx(build_mptf_report(programme, stamp=STAMP)).tables[-1]
    return {row.cells[0].text: row.cells[2].text for row in table.rows}


@pytest.mark.parametrize("status", ["draft", "submitted"])
def test_unapproved_spending_stays_out_of_the_budget(ciudades, status):
    # UNHCR's Mexico line, which has reported no spending yet
    line = BudgetLine.objects.get(
        programme=ciudades, view="line", agency__code="UNHCR", country__code="MX"
    )
    Expenditure.objects.create(
        line=line,
        period=ReportingPeriod.objects.get(programme=ciudades, code="2023-Q2"),
        amount=Decimal(DISTINCTIVE),
        as_of=dt.date(2023, 6, 30),
        status=status,
    )
    refresh_budgets([ciudades.pk])
    assert not report_mentions(ciudades, DISTINCTIVE)
    budget = spent_by_agency(ciudades)
    assert budget["UNHCR"] == "249,845"
    # approved, it counts: the check above can fail
    Expenditure.objects.filter(amount=Decimal(DISTINCTIVE)).update(
        status="approved", approved_at=timezone.now()
    )
    refresh_budgets([ciudades.pk])
    budget = spent_by_agency(ciudades)
    assert budget["UNHCR"] == "336,266"  # 249,845 + 86,421


def report_mentions(programme, value: str, **kwargs) -> bool:
    text = text_of(open_docx(build_mptf_report(programme, stamp=STAMP, **kwargs)))
    grouped = f"{int(value):,}"
    return value in text or grouped in text


def test_nothing_unapproved_appears_until_it_is_approved(
    ciudades, ilo_coordinator_scl, django_capture_on_commit_callbacks
):
    # a reporting year around the quarter, so that its figure has a column once approved
    ReportingPeriod.objects.create(
        programme=ciudades, code="Y4", kind="year", name_es="Año 4", name_en="Year 4",
        start_date=dt.date(2023, 3, 1), end_date=dt.date(2023, 6, 30),
        due_date=dt.date(2023, 7, 31),
    )  # fmt: skip
    approver = get_user_model().objects.get(username="approver.ilo")
    where = {
        "programme": ciudades,
        "period": ReportingPeriod.objects.get(programme=ciudades, code="2023-Q2"),
        "agency": Agency.objects.get(code="ILO"),
        "city": City.objects.get(code="SCL"),
        "narrative_es": "",
        "narrative_en": "",
        "actor": ilo_coordinator_scl,
    }
    draft = services.report_save(
        expected_version=0, entries=entries(ciudades, DISTINCTIVE), **where
    )
    assert draft.status == "draft"
    engine.refresh_all()
    assert not report_mentions(ciudades, DISTINCTIVE)
    assert not report_mentions(ciudades, DISTINCTIVE, year=2023)

    in_scope = [e.indicator for e in entries(ciudades, "0")]
    submitted = services.report_save(
        expected_version=draft.version, entries=[], submit=True, in_scope=in_scope, **where
    )
    engine.refresh_all()
    assert not report_mentions(ciudades, DISTINCTIVE, year=2023)
    returned = services.report_return(report=submitted, reason="Check.", actor=approver)
    assert returned.status == "returned"
    engine.refresh_all()
    assert not report_mentions(ciudades, DISTINCTIVE)
    assert not report_mentions(ciudades, DISTINCTIVE, year=2023)
    table = framework(open_docx(build_mptf_report(ciudades, stamp=STAMP)))
    assert indicator_row(table, "1.4.A")["Cumulative results (life of programme)"] == "292"

    # once approved the same figures do appear, so the checks above can fail
    resubmitted = services.report_save(
        expected_version=returned.version, entries=[], submit=True, in_scope=in_scope, **where
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.report_approve(report=resubmitted, actor=approver)
    assert report_mentions(ciudades, DISTINCTIVE, year=2023)


def test_numbers_read_as_people_write_them():
    assert number(Decimal("1702370.00")) == "1,702,370"
    assert number(Decimal("316.6667")) == "316.67"
    assert number(Decimal("94.0000"), Indicator.Measure.PERCENT) == "94 %"
    assert number(Decimal("1.0000"), Indicator.Measure.YES_NO) == "yes"
    assert number(Decimal("0"), Indicator.Measure.YES_NO) == "no"
    assert number(None) == ""
