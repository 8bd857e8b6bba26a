"""Responses imported from CSV/XLSX uploads and KoboToolbox exports: a good file stores every
row with its answers checked like the public form checks them; the same file twice changes
nothing (a snapshot of responses and answers, ids included, is equal); a changed file updates
what changed; a bad file applies nothing and names each bad row and column; a Kobo export is
read with its group prefixes, ``_uuid`` and metadata; the feeds are told when responses
changed, and only then."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from budgets.imports import UploadInvalid, UploadRefused
from monitoring.models import AuditEvent
from surveys import feeds
from surveys.imports import import_responses
from surveys.models import Answer, Response

from .results_fixtures import build_kit, respond, snapshot

pytestmark = pytest.mark.django_db

GOOD_CSV = """id,city,sex,sat,service,needs,age,referred,useful,comments
a1,SCL,female,5,jobs,housing;docs,34,sí,4,Muy bien
a2,Ciudad de México,hombre,Satisfied,Legal advice,,51,no,,
a3,scl,F,3,health,school,"29,5",1,,"=HYPERLINK(""http://x"")"
"""


def csv_file(text: str, name: str = "responses.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), "text/csv")


def xlsx_file(rows: list[list], name: str = "responses.xlsx") -> SimpleUploadedFile:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return SimpleUploadedFile(name, out.getvalue())


@pytest.fixture
def kit(ciudades):
    return build_kit(ciudades)


@pytest.fixture
def admin_user(programme_admin):
    return programme_admin


def run(kit, file, actor):
    return import_responses(file=file, survey=kit.survey, actor=actor)


def stored(kit) -> dict[str, dict]:
    """Per external id: the attributes and each answer as its plainest value."""
    out: dict[str, dict] = {}
    for r in Response.objects.filter(survey=kit.survey).select_related("city"):
        out[r.external_id] = {"city": r.city.code if r.city else None, "sex": r.sex,
                              "source": r.source}  # fmt: skip
    for a in Answer.objects.filter(response__survey=kit.survey).select_related("question"):
        value = a.choices or (a.text if a.number is None else a.number.normalize())
        out[a.response.external_id][a.question.code] = value
    return out


def test_a_good_csv_stores_every_row_checked_like_the_public_form(kit, admin_user):
    summary = run(kit, csv_file(GOOD_CSV), admin_user)
    assert (summary.created, summary.updated, summary.unchanged) == (3, 0, 0)
    assert stored(kit) == {
        "a1": {"city": "SCL", "sex": "female", "source": "upload", "sat": Decimal(5),
               "service": ["jobs"], "needs": ["housing", "docs"], "age": Decimal(34),
               "referred": Decimal(1), "useful": Decimal(4), "comments": "Muy bien"},
        "a2": {"city": "CDMX", "sex": "male", "source": "upload", "sat": Decimal(4),
               "service": ["legal"], "age": Decimal(51), "referred": Decimal(0)},
        "a3": {"city": "SCL", "sex": "female", "source": "upload", "sat": Decimal(3),
               "service": ["health"], "needs": ["school"], "age": Decimal("29.5"),
               "referred": Decimal(1), "comments": '=HYPERLINK("http://x")'},
    }  # fmt: skip
    event = AuditEvent.objects.get(action="survey_responses_imported")
    assert event.new_value == {"file": "responses.csv", "source": "upload", "created": 3,
                               "updated": 0}  # fmt: skip


def test_a_good_xlsx_reads_number_date_and_boolean_cells(kit, admin_user):
    when = dt.datetime(2022, 10, 3, 9, 30)
    run(kit, xlsx_file([
        ["id", "Ciudad", "Sexo", "sat", "needs", "age", "referred", "submitted_at"],
        ["x1", "CDMX", "mujer", 4.0, "Vivienda; Escuela", 40, True, when],
        ["x2", "SCL", "otro", 2, None, 18.5, False, "2022-10-04"],
    ]), admin_user)  # fmt: skip
    assert stored(kit) == {
        "x1": {"city": "CDMX", "sex": "female", "source": "upload", "sat": Decimal(4),
               "needs": ["housing", "school"], "age": Decimal(40), "referred": Decimal(1)},
        "x2": {"city": "SCL", "sex": "other", "source": "upload", "sat": Decimal(2),
               "age": Decimal("18.5"), "referred": Decimal(0)},
    }  # fmt: skip
    moments = dict(Response.objects.values_list("external_id", "submitted_at"))
    assert moments["x1"] == when.replace(tzinfo=dt.UTC)  # the test settings' time zone is UTC
    assert moments["x2"] == dt.datetime(2022, 10, 4, tzinfo=dt.UTC)


KOBO_HEADER = [
    "start", "end", "group_visit/sat", "group_visit/service", "group_visit/needs",
    "group_visit/needs/housing", "group_visit/needs/school", "group_visit/needs/docs",
    "group_follow/referred", "group_follow/useful", "age", "city", "sex", "meta/instanceID",
    "_id", "_uuid", "_submission_time", "_validation_status", "_index", "__version__",
]  # fmt: skip


def kobo_rows() -> list[list]:
    return [
        KOBO_HEADER,
        ["2022-10-03T09:00", "2022-10-03T09:10", "5", "jobs", "housing docs", 1, 0, 1, "1", "4",
         "33", "SCL", "female", "uuid:aaa", 101, "aaa-111", "2022-10-03T12:10:00", "", 1, "v1"],
        ["2022-10-03T10:00", "2022-10-03T10:10", "2", "legal", "", 0, 0, 0, "0", "", "61",
         "CDMX", "male", "uuid:bbb", 102, "bbb-222", "2022-10-03T13:00:00", "", 2, "v1"],
    ]  # fmt: skip


def test_a_kobo_export_with_groups_uuid_and_metadata(kit, admin_user):
    summary = run(kit, xlsx_file(kobo_rows(), "kobo.xlsx"), admin_user)
    assert (summary.source, summary.created) == ("kobo", 2)
    assert stored(kit) == {
        "aaa-111": {"city": "SCL", "sex": "female", "source": "kobo", "sat": Decimal(5),
                    "service": ["jobs"], "needs": ["housing", "docs"], "referred": Decimal(1),
                    "useful": Decimal(4), "age": Decimal(33)},
        "bbb-222": {"city": "CDMX", "sex": "male", "source": "kobo", "sat": Decimal(2),
                    "service": ["legal"], "referred": Decimal(0), "age": Decimal(61)},
    }  # fmt: skip
    # Kobo writes the submission time in UTC.
    moment = Response.objects.get(external_id="aaa-111").submitted_at
    assert moment == dt.datetime(2022, 10, 3, 12, 10, tzinfo=dt.UTC)


def test_a_kobo_export_with_only_the_columns_per_option(kit, admin_user):
    rows = kobo_rows()
    keep = [i for i, h in enumerate(KOBO_HEADER) if h != "group_visit/needs"]
    run(kit, xlsx_file([[row[i] for i in keep] for row in rows], "kobo.xlsx"), admin_user)
    assert stored(kit)["aaa-111"]["needs"] == ["housing", "docs"]
    assert "needs" not in stored(kit)["bbb-222"]  # every option 0: not answered


def test_a_kobo_csv_with_labels_as_headers_and_values(kit, admin_user):
    text = (
        "¿Qué tan satisfecho/a está?;¿Qué servicio buscaba?;¿Le derivaron?;_uuid;_id\n"
        "Muy satisfecho/a;Orientación legal;Sí;ccc-333;7\n"
    )
    run(kit, csv_file(text, "kobo-labels.csv"), admin_user)
    assert stored(kit)["ccc-333"] == {"city": None, "sex": "", "source": "kobo",
                                      "sat": Decimal(5), "service": ["legal"],
                                      "referred": Decimal(1)}  # fmt: skip


def test_the_same_file_twice_changes_nothing(kit, admin_user, monkeypatch):
    calls = []
    monkeypatch.setattr(feeds, "responses_changed", calls.append, raising=False)
    run(kit, csv_file(GOOD_CSV), admin_user)
    run(kit, xlsx_file(kobo_rows(), "kobo.xlsx"), admin_user)
    before, events = snapshot(kit.survey), AuditEvent.objects.count()
    assert calls == [kit.survey, kit.survey]
    again = run(kit, csv_file(GOOD_CSV), admin_user)
    kobo_again = run(kit, xlsx_file(kobo_rows(), "kobo.xlsx"), admin_user)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert (kobo_again.created, kobo_again.updated, kobo_again.unchanged) == (0, 0, 2)
    assert snapshot(kit.survey) == before
    assert AuditEvent.objects.count() == events
    assert calls == [kit.survey, kit.survey]  # nothing changed: nothing to recompute


def test_a_changed_file_updates_what_changed(kit, admin_user):
    run(kit, csv_file(GOOD_CSV), admin_user)
    before = {row[2]: row for row in snapshot(kit.survey) if row[0] == "response"}
    changed = GOOD_CSV.replace("a2,Ciudad de México,hombre,Satisfied,", "a2,SCL,hombre,1,")
    changed = changed.replace("a1,SCL,female,5,jobs,housing;docs,34,sí,4,Muy bien",
                              "a1,SCL,female,5,jobs,,34,sí,4,Muy bien")  # fmt: skip
    summary = run(kit, csv_file(changed + "a4,CDMX,male,4,jobs,,22,no,,\n"), admin_user)
    assert (summary.created, summary.updated, summary.unchanged) == (1, 2, 1)
    now = stored(kit)
    assert (now["a2"]["city"], now["a2"]["sat"]) == ("SCL", Decimal(1))
    assert "needs" not in now["a1"]  # emptied: the answer is removed
    after = {row[2]: row for row in snapshot(kit.survey) if row[0] == "response"}
    assert after["a1"][1] == before["a1"][1]  # the same response, updated in place
    assert after["a1"][4] == before["a1"][4]  # its submission time kept


BAD_CSV = """id,city,sex,sat,service,needs,age,referred,colour
a1,SCL,female,6,jobs,,34,yes,red
a2,Lima,female,4,cooking,housing;pets,200,maybe,
,SCL,female,4,jobs,,abc,yes,
a1,SCL,female,4,jobs,,30,yes,
"""


def test_a_bad_file_applies_nothing_and_names_each_row_and_column(kit, admin_user):
    run(kit, csv_file(GOOD_CSV), admin_user)
    before = snapshot(kit.survey)
    with pytest.raises(UploadInvalid) as refused:
        run(kit, csv_file(BAD_CSV), admin_user)
    assert [(p.row, p.column) for p in refused.value.problems] == [
        (1, "colour"),
        (2, "sat"),
        (3, "city"), (3, "service"), (3, "needs"), (3, "age"), (3, "referred"),
        (4, "id"), (4, "age"),
        (5, "id"),
    ]  # fmt: skip
    messages = [p.message for p in refused.value.problems]
    assert "Not a level of the scale: “6” (the levels are 1, 2, 3, 4, 5)." in messages
    assert "Not one of the choices: “pets” (the choices are housing, school, docs)." in messages
    assert "The highest answer is 120." in messages
    assert "Repeats the id of row 2." in messages
    assert snapshot(kit.survey) == before


def test_an_id_of_a_response_given_on_the_public_page_is_refused(kit, admin_user):
    respond(kit, "a1", source=Response.Source.WEB, sat=2)
    with pytest.raises(UploadInvalid) as refused:
        run(kit, csv_file(GOOD_CSV), admin_user)
    assert [(p.row, p.column) for p in refused.value.problems] == [(2, "id")]
    assert Response.objects.filter(survey=kit.survey).count() == 1


@pytest.mark.parametrize(
    ("file", "message"),
    [
        (csv_file("sat,age\n4,30\n"), "Row 1 lacks the column id"),
        (csv_file("id,sat\n"), "The file has no rows below its header."),
        (SimpleUploadedFile("responses.pdf", b"%PDF-1.4"), "not a CSV or Excel"),
        (SimpleUploadedFile("responses.xlsx", b"PK\x03\x04broken"), "may be damaged"),
    ],
)
def test_a_file_that_cannot_be_used_is_refused_whole(kit, admin_user, file, message):
    with pytest.raises(UploadRefused, match=message):
        run(kit, file, admin_user)
    assert not Response.objects.filter(survey=kit.survey).exists()


def test_submission_times_as_iso_or_day_month_year(kit, admin_user):
    text = "id,submitted_at,sat\nd1,03/10/2022 09:30,4\nd2,2022-10-04T08:00:00-03:00,4\n"
    run(kit, csv_file(text), admin_user)
    moments = dict(Response.objects.values_list("external_id", "submitted_at"))
    assert moments["d1"] == dt.datetime(2022, 10, 3, 9, 30, tzinfo=dt.UTC)
    assert moments["d2"] == dt.datetime(2022, 10, 4, 11, 0, tzinfo=dt.UTC)
    with pytest.raises(UploadInvalid) as refused:
        run(kit, csv_file("id,submitted_at\nd3,2022-02-30\nd4,yesterday\n"), admin_user)
    assert [(p.row, p.column) for p in refused.value.problems] == [
        (2, "submitted_at"),
        (3, "submitted_at"),
    ]
