"""Expenditures uploaded as CSV or XLSX by a coordinator: a good file applies every row as a
submitted expenditure; a file with bad rows applies nothing and names each bad row (as the
spreadsheet numbers it: the header is row 1) and its column; Spanish headers, a decimal
comma and ``;`` separators are read; a cell that looks like a formula stays text; a file
too large or of another type is refused whole."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from budgets.forms import parse_amount
from budgets.models import Expenditure

from .test_expenditures import draft, line_of, url, user

pytestmark = pytest.mark.django_db

HEADER = "agency,country,period,amount,kind,as_of,cumulative,note"


def csv_file(
    *lines: str, name: str = "expenditures.csv", encoding: str = "utf-8"
) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, ("\n".join(lines) + "\n").encode(encoding), "text/csv")


def xlsx_file(rows: list[list]) -> SimpleUploadedFile:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return SimpleUploadedFile("expenditures.xlsx", out.getvalue())


def upload(client, file, who: str = "coord.ilo.scl"):
    client.force_login(user(who))
    return client.post(url("upload"), {"file": file})


def entered() -> list[tuple]:
    """What the upload could have written (every expenditure but the loaded LOP figures):
    ILO Chile's quarter, amount, kind, as of, cumulative, status and note."""
    rows = (
        Expenditure.objects.exclude(period__code="LOP")
        .order_by("period__start_date", "cumulative")
        .select_related("line__agency", "line__country", "period")
    )
    out = []
    for e in rows:
        assert (e.line.agency.code, e.line.country.code) == ("ILO", "CL")
        out.append(
            (e.period.code, str(e.amount), e.kind, str(e.as_of), e.cumulative, e.status, e.note)
        )
    return out


def problems(response) -> list[tuple[int, str]]:
    return [(p.row, p.column) for p in response.context["problems"]]


def test_a_good_csv_applies_every_row_as_submitted(client):
    response = upload(
        client,
        csv_file(
            HEADER,
            "ILO,CL,2021-Q1,1500.25,interim,2021-03-31,,",
            'ILO,Chile,2021-Q2,"2,000.00",certified,2021-06-30,no,bank statement',
            "OIT,cl,2021-Q3,30000,interim,30/09/2021,yes,",
        ),
    )
    assert response.status_code == 302
    assert entered() == [
        ("2021-Q1", "1500.25", "interim", "2021-03-31", False, "submitted", ""),
        ("2021-Q2", "2000.00", "certified", "2021-06-30", False, "submitted", "bank statement"),
        ("2021-Q3", "30000.00", "interim", "2021-09-30", True, "submitted", ""),
    ]
    assert {e.submitted_by for e in Expenditure.objects.exclude(period__code="LOP")} == {
        user("coord.ilo.scl")
    }
    page = client.get(url("lines")).content.decode()
    assert "3 expenditures uploaded and submitted for approval." in page


def test_a_good_xlsx_applies_every_row(client):
    response = upload(
        client,
        xlsx_file(
            [
                ["agency", "country", "period", "amount", "kind", "as_of", "cumulative", "note"],
                ["ILO", "CL", "2022-Q1", 1234.5, "interim", dt.datetime(2022, 3, 31), None, None],
                [None, None, None, None, None, None, None, None],  # a blank row is skipped
                ["ILO", "CL", "2022-Q2", "2.500,75", "certified", "2022-06-30", "sí", 42],
            ]
        ),
    )
    assert response.status_code == 302
    assert entered() == [
        ("2022-Q1", "1234.50", "interim", "2022-03-31", False, "submitted", ""),
        ("2022-Q2", "2500.75", "certified", "2022-06-30", True, "submitted", "42"),
    ]


def test_spanish_headers_semicolons_and_a_decimal_comma_are_accepted(client):
    response = upload(
        client,
        csv_file(
            "Agencia;País;Periodo;Monto;Tipo;Al;Acumulado;Nota",
            "OIT;Chile;2021-q4;1.234,56;provisional;31/12/2021;no;pagos de diciembre",
            "OIT;Chile;2022-Q1;987,5;certificado;2022-03-31;;",
            encoding="cp1252",  # as Excel on Windows saves it
        ),
    )
    assert response.status_code == 302
    assert entered() == [
        ("2021-Q4", "1234.56", "interim", "2021-12-31", False, "submitted", "pagos de diciembre"),
        ("2022-Q1", "987.50", "certified", "2022-03-31", False, "submitted", ""),
    ]


def test_formula_like_text_is_stored_as_text(client):
    formula = '=HYPERLINK("http://evil.example","click")'
    quoted = '"' + formula.replace('"', '""') + '"'  # as a spreadsheet writes it to CSV
    upload(
        client,
        csv_file(
            HEADER,
            f"ILO,CL,2021-Q1,100,interim,2021-03-31,,{quoted}",
            "ILO,CL,2021-Q2,100,interim,2021-06-30,,+1+2",
        ),
    )
    notes = [row[-1] for row in entered()]
    assert notes == [formula, "+1+2"]
    client.force_login(user("approver.ilo"))
    page = client.get(url("line", line_of("ILO", "CL").pk)).content.decode()
    assert "=HYPERLINK(&quot;http://evil.example&quot;,&quot;click&quot;)" in page


def test_a_formula_in_the_amount_is_not_a_number(client):
    response = upload(client, csv_file(HEADER, "ILO,CL,2021-Q1,=1000+1,interim,2021-03-31,,"))
    assert response.status_code == 400
    assert [(p.row, p.column, p.message) for p in response.context["problems"]] == [
        (2, "amount", "“=1000+1” is not an amount (write it like 1234.56 or 1234,56).")
    ]
    assert entered() == []


def test_a_bad_file_applies_nothing_and_names_each_bad_row(client):
    draft(quarter="2021-Q3", submit=True)  # already submitted: row 11 cannot change it
    before = entered()
    response = upload(
        client,
        csv_file(
            HEADER,
            "ILO,CL,2021-Q1,1000,interim,2021-03-31,,",  # 2: good
            "UNICEF,CL,2021-Q1,1000,interim,2021-03-31,,",  # 3: unknown agency
            "ILO,MX,2021-Q1,1000,interim,2021-03-31,,",  # 4: another city's line
            "ILO,CL,2021-Q2,abc,interim,2021-06-30,,",  # 5: not a number
            "ILO,CL,2021-Q4,-5,interim,2021-12-31,,",  # 6: negative
            "ILO,CL,2022-Q2,10,interim,2020-12-31,,",  # 7: as of before the quarter
            "ILO,CL,2022-Q3,10,interim,31/02/2022,,",  # 8: no such date
            "ILO,CL,2021-Q1,2000,interim,2021-03-31,,",  # 9: repeats row 2
            "ILO,CL,2019-Q1,10,interim,2019-03-31,,",  # 10: no such quarter
            "ILO,CL,2021-Q3,10,interim,2021-09-30,,",  # 11: already submitted
            "IOM,CL,2022-Q4,10,interim,2022-12-31,,",  # 12: another agency's line
            "ILO,CL,2023-Q1,10,final,2023-03-31,maybe,",  # 13: kind and cumulative
        ),
    )
    assert response.status_code == 400
    assert problems(response) == [
        (3, "agency"), (4, "country"), (5, "amount"), (6, "amount"), (7, "as_of"),
        (8, "as_of"), (9, "period"), (10, "period"), (11, "period"), (12, "agency"),
        (13, "cumulative"), (13, "kind"),
    ]  # fmt: skip
    messages = {(p.row, p.column): p.message for p in response.context["problems"]}
    assert messages[(3, "agency")] == "Unknown in this programme: “UNICEF”."
    assert messages[(4, "country")] == "You may not enter expenditures of ILO in Mexico."
    assert messages[(9, "period")].startswith("Repeats row 2")
    assert messages[(11, "period")] == (
        "This line's expenditure for 2021-Q3 is already submitted; it cannot change."
    )
    assert entered() == before
    page = response.content.decode()
    assert "Nothing was saved: 12 problems to correct." in page
    assert "<td>13</td><td>kind</td>" in page


def test_row_errors_name_the_columns_as_the_file_spells_them(client):
    response = upload(
        client,
        csv_file("agencia,pais,periodo,monto,tipo,fecha", "OIT,CL,2021-Q1,diez,interim,2021-03-31"),
    )
    assert [(p.row, p.column) for p in response.context["problems"]] == [(2, "monto")]


@pytest.mark.parametrize(
    ("file", "message"),
    [
        (csv_file("agency,country,period,amount,kind"), "Row 1 lacks the columns: as_of."),
        (csv_file(HEADER + ",comment", "ILO,CL"), "Unknown column “comment” in row 1."),
        (csv_file(HEADER), "The file has no rows below its header."),
        (SimpleUploadedFile("budget.xls", b"\xd0\xcf\x11\xe0 old excel"), "not a CSV or Excel"),
        (SimpleUploadedFile("budget.csv", b"PK\x03\x04 a zip"), "not a CSV or Excel"),
        (SimpleUploadedFile("budget.xlsx", b"PK\x03\x04 broken"), "cannot be read"),
    ],
)
def test_a_file_that_cannot_be_used_is_refused_whole(client, file, message):
    response = upload(client, file)
    assert response.status_code == 400
    assert any(message in e for e in response.context["form"].errors["file"])
    assert entered() == []


def test_a_file_over_the_size_limit_is_refused(client, settings):
    settings.EVIDENCE_MAX_BYTES = 200
    rows = [f"ILO,CL,2021-Q1,{n},interim,2021-03-31,," for n in range(20)]
    response = upload(client, csv_file(HEADER, *rows))
    assert response.status_code == 400
    assert response.context["form"].errors["file"] == ["The file is larger than 200\xa0bytes."]
    assert entered() == []


def test_only_coordinators_reach_the_upload(client):
    for name, status in (("coord.iom.cdmx", 200), ("approver.ilo", 403), ("donor", 403)):
        client.force_login(user(name))
        assert client.get(url("upload")).status_code == status


def test_the_template_lists_the_coordinators_lines(client):
    client.force_login(user("coord.ilo.scl"))
    response = client.get(url("upload_template"))
    assert response["Content-Disposition"] == 'attachment; filename="CIUDADES-expenditures.csv"'
    text = response.content.decode("utf-8-sig")
    assert text.splitlines() == [HEADER, "ILO,CL,,,interim,,,"]


def test_the_template_is_in_spanish_for_a_spanish_interface(client):
    client.force_login(user("coord.ilo.scl"))
    response = client.get(url("upload_template"), HTTP_ACCEPT_LANGUAGE="es")
    text = response.content.decode("utf-8-sig")
    assert text.splitlines() == [
        "agencia;país;periodo;monto;tipo;al;acumulado;nota",
        "ILO;CL;;;provisional;;;",
    ]


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1234.5", Decimal("1234.5")),
        ("1234,5", Decimal("1234.5")),
        ("1,234.56", Decimal("1234.56")),
        ("1.234,56", Decimal("1234.56")),
        ("1 234,56", Decimal("1234.56")),
        ("1.500", Decimal("1500")),  # three digits after one mark: grouping, not decimals
        ("1,500", Decimal("1500")),
        ("0,5", Decimal("0.5")),
        ("12.34.5", None),
        ("1,2,3.4,5", None),
        ("=1+2", None),
        ("", None),
    ],
)
def test_amounts_are_read_with_a_point_or_a_comma(text, amount):
    assert parse_amount(text) == amount


def test_an_xlsx_formula_is_never_evaluated(client):
    """Opened with cached values only: a formula nobody calculated reads as an empty cell."""
    response = upload(
        client,
        xlsx_file(
            [
                ["agency", "country", "period", "amount", "kind", "as_of"],
                ["ILO", "CL", "2022-Q1", "=2*500", "interim", "2022-03-31"],
            ]
        ),
    )
    assert response.status_code == 400
    assert [(p.row, p.column, p.message) for p in response.context["problems"]] == [
        (2, "amount", "This field is required.")
    ]
    assert entered() == []


def test_a_file_with_too_many_rows_is_refused(client, monkeypatch):
    monkeypatch.setattr("budgets.imports.MAX_ROWS", 2)
    rows = [f"ILO,CL,2021-Q{n},10,interim,2021-0{3 * n}-28,," for n in (1, 2, 3)]
    response = upload(client, csv_file(HEADER, *rows))
    assert response.context["form"].errors["file"] == [
        "The file has more than 2 rows; upload it in parts."
    ]
    assert entered() == []
