"""The Excel round-trip of the quarterly report: the coordinator downloads the quarter's
workbook (figures, targets and last quarter locked; input cells validated), fills it in
offline and uploads it. A good workbook is saved whole; a bad one saves nothing and comes back
with its failing cells in red and explained; a workbook for another report, a file that is no
workbook, and a workbook older than the report are refused."""

import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from openpyxl import load_workbook

from indicators.models import Indicator, IndicatorValue, ProgressReport
from indicators.permissions import Access
from indicators.selectors.reports import (
    ReportSlot,
    indicators_in_scope,
    report_slot_get_for_user,
    targets_for_slot,
)
from indicators.workbook import build_workbook
from monitoring.models import Agency, City, Programme, ReportingPeriod

from .report_fixtures import FIGURES, PERIOD, enter, login, report_url, scope_indicators

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RED = "FFC7CE"
# What a coordinator types in the workbook for each measure (text where people type text).
TYPED = {"count": 5, "percent": 60, "yes_no": "yes", "level": 2, "amount": 100}


def _user(username: str):
    return get_user_model().objects.get(username=username)


def download(client, **slot):
    response = client.get(report_url(action="workbook", **slot))
    assert response.status_code == 200, response.content[:500]
    return load_workbook(io.BytesIO(response.content))


def upload(client, book, name: str = "CIUDADES-2023-Q2-ILO-SCL.xlsx", **slot):
    out = io.BytesIO()
    book.save(out)
    return upload_bytes(client, out.getvalue(), name, **slot)


def upload_bytes(client, content: bytes, name: str, **slot):
    file = SimpleUploadedFile(name, content, content_type=XLSX)
    return client.post(report_url(action="workbook_upload", **slot), {"workbook": file})


def row_of(sheet, code: str, what: str = "Total") -> int:
    for row in range(5, sheet.max_row + 1):
        if sheet.cell(row, 1).value == code and sheet.cell(row, 3).value == what:
            return row
    raise AssertionError(f"no row {code} / {what}")


def expected_rows(indicators: list[Indicator]) -> list[tuple[str, str]]:
    rows = []
    for ind in indicators:
        rows.append((ind.code, "Total"))
        if ind.measure == "percent":
            rows += [(ind.code, "numerator"), (ind.code, "denominator")]
        for dimension in ind.dimensions.all():
            rows += [(ind.code, f"{dimension.name}: {c.name}") for c in dimension.categories.all()]
    return rows


def the_report(agency: str = "ILO", city: str = "SCL") -> ProgressReport | None:
    return ProgressReport.objects.filter(
        period__code=PERIOD, agency__code=agency, city__code=city
    ).first()


def saved(report: ProgressReport, indicator: Indicator, category=None) -> IndicatorValue:
    return report.values.get(indicator=indicator, category=category)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


def errors_sheet(response):
    assert response["Content-Type"] == XLSX
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames[0] == "Errors"
    rows = list(book["Errors"].iter_rows(min_row=4, values_only=True))
    return book, [r for r in rows if any(r)]


# --- Download -----------------------------------------------------------------------------


def test_the_coordinator_downloads_the_workbook_with_one_row_per_figure(
    client, ciudades, ilo_coordinator_scl
):
    login(client, ilo_coordinator_scl)
    response = client.get(report_url(action="workbook"))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert 'filename="CIUDADES-2023-Q2-ILO-SCL.xlsx"' in response["Content-Disposition"]

    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Figures", "Narrative", "meta"]
    assert book["meta"].sheet_state == "veryHidden"
    sheet = book["Figures"]
    assert sheet.protection.sheet is True
    assert [sheet.cell(4, c).value for c in range(1, 10)] == [
        "Indicator", "Statement", "Figure", "Unit / measure", "Last quarter",
        "Target", "This quarter", "Comment", "Evidence link",
    ]  # fmt: skip
    indicators = scope_indicators(ciudades)
    rows = [(sheet.cell(r, 1).value, sheet.cell(r, 3).value) for r in range(5, sheet.max_row + 1)]
    assert rows == expected_rows(indicators)
    assert len(rows) > len(indicators)  # percentages and disaggregated cells have rows too

    first = indicators[0]
    total = row_of(sheet, first.code)
    assert sheet.cell(total, 2).value == first.name_en
    for column in range(1, 10):
        locked = sheet.cell(total, column).protection.locked
        assert locked is (column not in (7, 8, 9)), column
    cell_row = next(r for r in range(5, sheet.max_row + 1) if ":" in sheet.cell(r, 3).value)
    assert sheet.cell(cell_row, 7).protection.locked is False
    assert sheet.cell(cell_row, 8).protection.locked is True  # comments belong to the total
    narrative = book["Narrative"]
    assert narrative.protection.sheet is True
    assert narrative["B3"].protection.locked is False
    assert narrative["A3"].value == "Narrative (Spanish)"


def test_input_cells_are_validated_for_their_measure(client, ciudades, ilo_coordinator_scl):
    login(client, ilo_coordinator_scl)
    sheet = download(client)["Figures"]
    indicators = scope_indicators(ciudades)

    def check_of(indicator: Indicator):
        cell = f"G{row_of(sheet, indicator.code)}"
        found = [dv for dv in sheet.data_validations.dataValidation if cell in dv.sqref]
        assert len(found) == 1, cell
        return found[0]

    percent = check_of(next(i for i in indicators if i.measure == "percent"))
    assert (percent.type, percent.formula1, percent.formula2) == ("decimal", "0", "100")
    count = check_of(next(i for i in indicators if i.measure == "count"))
    assert (count.type, count.operator, count.formula1) == ("whole", "greaterThanOrEqual", "0")
    yes_no = check_of(next(i for i in indicators if i.measure == "yes_no"))
    assert (yes_no.type, yes_no.formula1) == ("list", '"yes,no"')


def test_the_workbook_holds_the_saved_figures(client, ciudades, ilo_coordinator_scl):
    login(client, ilo_coordinator_scl)
    indicators = scope_indicators(ciudades)
    enter(client, indicators, version=0)
    sheet = download(client)["Figures"]
    typed = {ind.code: sheet.cell(row_of(sheet, ind.code), 7).value for ind in indicators}
    assert typed == {ind.code: TYPED[ind.measure] for ind in indicators}


def test_last_quarter_and_the_target_are_beside_each_total(client, ciudades, ilo_coordinator_scl):
    slot = report_slot_get_for_user(
        user=ilo_coordinator_scl,
        programme_code="CIUDADES",
        period_code=PERIOD,
        agency_code="ILO",
        city_code="SCL",
    )
    indicators = scope_indicators(ciudades)
    count = next(i for i in indicators if i.measure == "count")
    earlier = (
        ReportingPeriod.objects.filter(
            programme=ciudades, kind=slot.period.kind, end_date__lt=slot.period.start_date
        )
        .order_by("-end_date")
        .first()
    )
    before = ProgressReport.objects.create(
        programme=ciudades, period=earlier, agency=slot.agency, city=slot.city
    )
    IndicatorValue.objects.create(report=before, indicator=count, value=Decimal(11))
    targets = targets_for_slot(slot, indicators)
    with_target = next(i for i in indicators if i.pk in targets)

    login(client, ilo_coordinator_scl)
    sheet = download(client)["Figures"]
    assert sheet.cell(row_of(sheet, count.code), 5).value == 11
    target = sheet.cell(row_of(sheet, with_target.code), 6)
    assert Decimal(str(target.value)) == targets[with_target.pk].value
    assert target.protection.locked is True


@pytest.mark.parametrize("username", ["coord.iom.scl", "approver.ilo", "donor"])
def test_others_may_not_download_or_upload_the_workbook(client, username):
    login(client, _user(username))
    assert client.get(report_url(action="workbook")).status_code == 403
    response = upload_bytes(client, b"PK\x03\x04", "x.xlsx")
    assert response.status_code == 403
    assert the_report() is None


def test_an_outsider_and_an_anonymous_visitor_get_nothing(client, outsider):
    assert client.get(report_url(action="workbook")).status_code == 302  # to the login
    login(client, outsider)
    assert client.get(report_url(action="workbook")).status_code == 404


def test_no_workbook_once_the_report_is_submitted(client, ciudades, ilo_coordinator_scl):
    login(client, ilo_coordinator_scl)
    enter(client, scope_indicators(ciudades), version=0, action="submit")
    assert client.get(report_url(action="workbook")).status_code == 403
    assert 'id="workbook-download"' not in client.get(report_url()).content.decode()


def test_the_report_page_offers_the_workbook_to_its_coordinator(client, ilo_coordinator_scl):
    login(client, ilo_coordinator_scl)
    page = client.get(report_url()).content.decode()
    assert f'href="{report_url(action="workbook")}"' in page
    assert f'action="{report_url(action="workbook_upload")}"' in page
    assert 'name="workbook"' in page


def test_upload_is_post_only(client, ilo_coordinator_scl):
    login(client, ilo_coordinator_scl)
    assert client.get(report_url(action="workbook_upload")).status_code == 405


# --- Round trip ---------------------------------------------------------------------------


def test_a_filled_in_workbook_creates_the_report(client, ciudades, ilo_coordinator_scl):
    login(client, ilo_coordinator_scl)
    indicators = scope_indicators(ciudades)
    book = download(client)
    sheet = book["Figures"]
    for ind in indicators:
        sheet.cell(row_of(sheet, ind.code), 7).value = TYPED[ind.measure]
    book["Narrative"]["B3"] = "Un buen trimestre."
    response = upload(client, book)
    assert response.status_code == 302
    assert response["Location"] == report_url()
    assert messages_of(response) == ["Workbook uploaded: its figures are saved as a draft."]

    report = the_report()
    assert report.status == "draft"
    assert report.version == 1
    assert report.updated_by == ilo_coordinator_scl
    assert report.narrative_es == "Un buen trimestre."
    totals = {v.indicator.code: v.value for v in report.values.filter(category__isnull=True)}
    assert totals == {i.code: Decimal(FIGURES[i.measure]) for i in indicators}


def test_a_second_upload_changes_the_figures_and_bumps_the_version(
    client, ciudades, ilo_coordinator_scl
):
    login(client, ilo_coordinator_scl)
    indicators = scope_indicators(ciudades)
    enter(client, indicators, version=0)  # version 1, every total as in FIGURES
    count = next(i for i in indicators if i.measure == "count" and i.dimensions.exists())
    category = count.dimensions.first().categories.first()
    percent = next(i for i in indicators if i.measure == "percent")
    yes_no = next(i for i in indicators if i.measure == "yes_no")
    untouched = next(i for i in indicators if i.measure != "percent" and i != count)

    book = download(client)
    sheet = book["Figures"]
    total = row_of(sheet, count.code)
    sheet.cell(total, 7).value = 7
    sheet.cell(total, 8).value = "Taller en La Pintana"
    sheet.cell(total, 9).value = "example.org/acta.pdf"
    sheet.cell(
        row_of(sheet, count.code, f"{category.dimension.name}: {category.name}"), 7
    ).value = 3
    sheet.cell(row_of(sheet, percent.code), 7).value = "60,5"  # a decimal comma, as text
    sheet.cell(row_of(sheet, yes_no.code), 7).value = "no"
    book["Narrative"]["B4"] = "A good quarter."
    response = upload(client, book)
    assert response.status_code == 302, response.content[:300]

    report = the_report()
    assert report.version == 2
    value = saved(report, count)
    assert (value.value, value.comment) == (Decimal(7), "Taller en La Pintana")
    assert value.evidence_url == "https://example.org/acta.pdf"
    assert saved(report, count, category).value == Decimal(3)
    assert saved(report, percent).value == Decimal("60.5")
    assert saved(report, yes_no).value == Decimal(0)
    assert saved(report, untouched).value == Decimal(FIGURES[untouched.measure])
    assert report.narrative_en == "A good quarter."


def test_a_spanish_session_reads_decimals_and_si(ciudades, ilo_coordinator_scl):
    """Spanish writes 60,5: the figures must not depend on the language of the session."""
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    login(client, ilo_coordinator_scl)
    indicators = scope_indicators(ciudades)
    percent = next(i for i in indicators if i.measure == "percent")
    yes_no = next(i for i in indicators if i.measure == "yes_no")
    book = download(client)
    sheet = book.worksheets[0]
    lists = [dv.formula1 for dv in sheet.data_validations.dataValidation if dv.type == "list"]
    assert lists == ['"sí,no"']  # the workbook is in Spanish
    sheet.cell(row_of(sheet, percent.code, "Total"), 7).value = 60.5
    sheet.cell(row_of(sheet, yes_no.code, "Total"), 7).value = "Sí"
    assert upload(client, book).status_code == 302
    report = the_report()
    assert saved(report, percent).value == Decimal("60.5")
    assert saved(report, yes_no).value == Decimal(1)


# --- Refusals -----------------------------------------------------------------------------


def test_a_bad_workbook_saves_nothing_and_comes_back_annotated(
    client, ciudades, ilo_coordinator_scl
):
    login(client, ilo_coordinator_scl)
    indicators = scope_indicators(ciudades)
    percent = next(i for i in indicators if i.measure == "percent")
    halves, words, formula = [i for i in indicators if i.measure == "count"][:3]
    book = download(client)
    sheet = book["Figures"]
    for ind in indicators:
        sheet.cell(row_of(sheet, ind.code), 7).value = TYPED[ind.measure]
    bad = {
        percent: (120, "Ensure this value is less than or equal to 100."),
        halves: (2.5, "a count must be a whole number."),
        words: ("many", "Enter a number."),
        formula: ("=1+1", "formulas are not accepted; type the figure itself."),
    }
    for ind, (typed, _message) in bad.items():
        sheet.cell(row_of(sheet, ind.code), 7).value = typed

    response = upload(client, book)
    assert response.status_code == 400
    assert 'filename="CIUDADES-2023-Q2-ILO-SCL-errors.xlsx"' in response["Content-Disposition"]
    assert the_report() is None
    assert not IndicatorValue.objects.filter(report__period__code=PERIOD).exists()

    annotated, problems = errors_sheet(response)
    figures = annotated["Figures"]
    expected = []
    for ind, (_typed, message) in bad.items():
        cell = figures[f"G{row_of(figures, ind.code)}"]
        assert cell.fill.fgColor.rgb.endswith(RED), ind.code
        assert cell.comment.text == f"{ind.code}: {message}"
        expected.append(("Figures", cell.coordinate, ind.code, "Total", f"{ind.code}: {message}"))
    assert sorted(problems) == sorted(expected)
    good = figures[f"G{row_of(figures, next(i for i in indicators if i not in bad).code)}"]
    assert good.comment is None
    assert not good.fill.fgColor.rgb.endswith(RED)


def test_a_corrected_workbook_loses_its_red_marks_and_is_saved(
    client, ciudades, ilo_coordinator_scl
):
    login(client, ilo_coordinator_scl)
    indicators = scope_indicators(ciudades)
    count = next(i for i in indicators if i.measure == "count")
    book = download(client)
    book["Figures"].cell(row_of(book["Figures"], count.code), 7).value = -4
    response = upload(client, book)
    assert response.status_code == 400
    annotated, problems = errors_sheet(response)
    assert problems[0][4] == f"{count.code}: Ensure this value is greater than or equal to 0."

    annotated["Figures"].cell(row_of(annotated["Figures"], count.code), 7).value = 4
    response = upload(client, annotated, name="CIUDADES-2023-Q2-ILO-SCL-errors.xlsx")
    assert response.status_code == 302
    assert saved(the_report(), count).value == Decimal(4)


def test_a_figure_the_service_refuses_is_marked_on_its_cell(client, ciudades, ilo_coordinator_scl):
    login(client, ilo_coordinator_scl)
    percent = next(i for i in scope_indicators(ciudades) if i.measure == "percent")
    book = download(client)
    sheet = book["Figures"]
    total = row_of(sheet, percent.code)
    sheet.cell(total, 7).value = 60
    sheet.cell(row_of(sheet, percent.code, "numerator"), 7).value = 1
    sheet.cell(row_of(sheet, percent.code, "denominator"), 7).value = 3
    response = upload(client, book)
    assert response.status_code == 400
    assert the_report() is None
    annotated, problems = errors_sheet(response)
    message = f"{percent.code}: 60 % does not match 1 / 3 = 33.3 %."
    assert problems == [("Figures", f"G{total}", percent.code, "Total", message)]
    assert annotated["Figures"][f"G{total}"].fill.fgColor.rgb.endswith(RED)


def _slot_for(programme: Programme, agency: str, city: str) -> ReportSlot:
    period = ReportingPeriod.objects.get(programme__code="CIUDADES", code=PERIOD)
    agency_, city_ = Agency.objects.get(code=agency), City.objects.get(code=city)
    return ReportSlot(
        programme=programme,
        period=period,
        agency=agency_,
        city=city_,
        report=ProgressReport(programme=programme, period=period, agency=agency_, city=city_),
        access=Access(user_id=None),
        closed=False,
    )


def _built(slot: ReportSlot, ciudades: Programme) -> bytes:
    indicators = indicators_in_scope(programme=ciudades, agency=slot.agency, city=slot.city)
    return build_workbook(slot, indicators, {}, {}, {})


def test_a_workbook_of_another_report_is_refused(client, ciudades, ilo_coordinator_scl):
    login(client, ilo_coordinator_scl)
    content = _built(_slot_for(ciudades, "ILO", "CDMX"), ciudades)
    response = upload_bytes(client, content, "CIUDADES-2023-Q2-ILO-CDMX.xlsx")
    assert response.status_code == 302
    assert messages_of(response) == [
        "This workbook is the report of 2023-Q2 · ILO · CDMX, not of 2023-Q2 · ILO · SCL. "
        "Upload it on its own report page, or download this report's workbook."
    ]
    assert the_report() is None


def test_a_workbook_of_another_programme_is_refused(client, ciudades, ilo_coordinator_scl):
    login(client, ilo_coordinator_scl)
    other = Programme(code="OTRO")
    content = _built(_slot_for(other, "ILO", "SCL"), ciudades)
    response = upload_bytes(client, content, "OTRO.xlsx")
    assert messages_of(response) == [
        "This workbook belongs to the programme OTRO, not to CIUDADES."
    ]
    assert the_report() is None


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (
            lambda book: book["meta"]["B1"].__setattr__("value", book["meta"]["B1"].value + "x"),
            "This workbook was not downloaded from a report page, or its hidden sheet was "
            "altered. Download the report's workbook and enter the figures there.",
        ),
        (
            lambda book: book["Figures"]["A5"].__setattr__("value", "9.9.Z"),
            "Rows of the sheet “Figures” were moved or deleted. Download it again.",
        ),
        (
            lambda book: book["Narrative"].__setattr__("title", "Notes"),
            "The sheet “Narrative” was renamed or removed. Download the workbook again.",
        ),
    ],
    ids=["token", "rows", "sheet"],
)
def test_a_tampered_workbook_is_refused(client, ilo_coordinator_scl, tamper, message):
    login(client, ilo_coordinator_scl)
    book = download(client)
    tamper(book)
    response = upload(client, book)
    assert response.status_code == 302
    assert messages_of(response) == [message]
    assert the_report() is None


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "figures.csv",
            b"code,value\n1.2.A,5\n",
            "The file is not an Excel workbook (.xlsx). Upload the report's workbook.",
        ),
        (
            "figures.xlsx",
            b"%PDF-1.4 not a workbook",
            "The file is not an Excel workbook (.xlsx). Upload the report's workbook.",
        ),
        (
            "figures.xlsx",
            b"PK\x03\x04 a damaged archive",
            "The workbook cannot be read; it may be damaged. Save it again in Excel and retry.",
        ),
    ],
    ids=["csv", "pdf", "corrupt"],
)
def test_a_file_that_is_not_a_workbook_is_refused(
    client, ilo_coordinator_scl, name, content, message
):
    login(client, ilo_coordinator_scl)
    response = upload_bytes(client, content, name)
    assert response.status_code == 302
    assert messages_of(response) == [message]
    assert the_report() is None


def test_an_oversized_file_is_refused(client, ilo_coordinator_scl):
    login(client, ilo_coordinator_scl)
    book = download(client)
    with override_settings(EVIDENCE_MAX_BYTES=2048):
        response = upload(client, book)
    assert messages_of(response) == [
        "The file is larger than 2.0\xa0KB; a report workbook is much smaller."
    ]
    assert the_report() is None


def test_no_file_is_refused(client, ilo_coordinator_scl):
    login(client, ilo_coordinator_scl)
    response = client.post(report_url(action="workbook_upload"), {})
    assert response.status_code == 302
    assert messages_of(response) == ["Choose the report's workbook (.xlsx) to upload."]


def test_a_workbook_older_than_the_report_is_refused_with_409(
    client, ciudades, ilo_coordinator_scl
):
    login(client, ilo_coordinator_scl)
    indicators = scope_indicators(ciudades)
    count = next(i for i in indicators if i.measure == "count")
    book = download(client)  # version 0: no report yet
    enter(client, indicators, version=0)  # meanwhile saved on the page: version 1
    book["Figures"].cell(row_of(book["Figures"], count.code), 7).value = 9
    response = upload(client, book)
    assert response.status_code == 409
    assert response["Content-Disposition"].endswith('-errors.xlsx"')
    _annotated, problems = errors_sheet(response)
    assert len(problems) == 1
    message = problems[0][4]
    assert message.startswith("Nothing was saved: ")
    assert "the workbook has version 0; the report is now at version 1" in message
    report = the_report()
    assert report.version == 1
    assert saved(report, count).value == Decimal(FIGURES["count"])
