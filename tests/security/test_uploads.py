"""Uploads (issue 8, permission audit): evidence files on report values, deliverable files,
expenditure uploads, survey response imports and report workbooks are checked by type, content
and size before anything is written; a refusal names the field and writes nothing; what is
stored is served only as a download (attachment, never a type a browser renders as a page,
``nosniff``, a sandboxing CSP) to whoever may see the report it belongs to.

Where things live: ``IndicatorValue.evidence`` and ``Deliverable.file`` are stored under
``evidence/<programme id>/<random>/<slugified name>`` (``indicators.models.reports.
evidence_path``), never under MEDIA_URL (the site serves no media directory); the views
``reports:evidence`` and ``activities:deliverable_file`` serve them after checking the report
(``can_view_report``)."""

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from budgets.models import Expenditure
from indicators.models import Deliverable, IndicatorValue, ProgressReport
from indicators.models.reports import evidence_path
from indicators.report_forms import check_evidence_file
from indicators.selectors.reports import activities_in_scope
from monitoring.models import Agency, City
from surveys.models import Response
from tests.indicators.report_fixtures import PERIOD, form_data, report_url, scope_indicators
from tests.surveys.results_fixtures import build_kit

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%%EOF\n"
HTML = b"<!doctype html><script>alert(document.cookie)</script>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
# Browsers render these as pages (or run their scripts); no download may carry them.
RENDERED = ("text/html", "image/svg+xml", "application/xhtml+xml", "text/xml", "application/xml")


def page(response) -> str:
    return response.content.decode().replace("\xa0", " ")


def evidence_files() -> list[str]:
    """Every file under evidence/ (the test storage is kept for the whole session: compare)."""
    try:
        return _walk("evidence")
    except FileNotFoundError:
        return []


def _walk(path: str) -> list[str]:
    dirs, files = default_storage.listdir(path)
    out = [f"{path}/{f}" for f in files]
    for d in dirs:
        out += _walk(f"{path}/{d}")
    return out


@pytest.fixture
def coordinator(client, ilo_coordinator_scl):
    client.force_login(ilo_coordinator_scl)
    return client


# ---- the evidence check itself ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("page.html", HTML),
        ("page.htm", HTML),
        ("page.xhtml", HTML),
        ("drawing.svg", SVG),
        ("script.js", b"alert(1)"),
        ("tool.exe", b"MZ\x90\x00"),
        ("no-extension", PDF),
        ("report.pdf.html", PDF),
    ],
)
def test_evidence_of_a_type_a_browser_could_run_is_refused(name, content):
    with pytest.raises(ValidationError, match="are not accepted"):
        check_evidence_file(SimpleUploadedFile(name, content), "1.4.A")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("list.pdf", HTML),  # HTML that says it is a PDF
        ("LIST.PDF", HTML),
        ("photo.png", SVG),
        ("photo.jpg", HTML),
        ("sheet.xlsx", HTML),
        ("data.csv", b"<svg onload=alert(1)>"),
        ("notes.txt", b"\n\n<html><script>alert(1)</script>"),
        ("notes.txt", b"\xef\xbb\xbf<html>"),
        ("notes.txt", b"          <script>alert(1)</script>"),  # behind a run of blanks
        ("notes.txt", b"\xef\xbb\xbf \r\n\t <html><body>"),
        ("notes.txt", b"binary\x00here"),
    ],
)
def test_evidence_whose_content_is_not_what_its_name_says_is_refused(name, content):
    with pytest.raises(ValidationError, match="content is not a"):
        check_evidence_file(SimpleUploadedFile(name, content), "1.4.A")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("list.pdf", PDF),
        ("photo.png", b"\x89PNG\r\n\x1a\n"),
        ("photo.jpeg", b"\xff\xd8\xff\xe0"),
        ("notes.txt", b"Attendance: 40 people; see <the list> attached."),
        ("data.csv", b"name,count\nA,1\n"),
    ],
)
def test_evidence_of_the_types_people_attach_is_taken(name, content):
    check_evidence_file(SimpleUploadedFile(name, content), "1.4.A")


def test_evidence_over_the_limit_is_refused_naming_the_indicator(settings):
    settings.EVIDENCE_MAX_BYTES = 100
    with pytest.raises(ValidationError) as refused:
        check_evidence_file(SimpleUploadedFile("big.pdf", PDF + b"0" * 200), "1.4.A")
    assert refused.value.messages == ["1.4.A: the file is 215\xa0bytes; the limit is 100\xa0bytes."]


@pytest.mark.parametrize(
    "hostile",
    ["../../../etc/passwd.pdf", "<script>alert(1)</script>.pdf", "..\\..\\boot.ini.pdf",
     "a/b/c.pdf", "%2e%2e%2fx.pdf", "  .pdf"],
)  # fmt: skip
def test_a_stored_evidence_name_is_random_and_harmless(hostile, ciudades):
    report = ProgressReport(programme=ciudades)
    path = evidence_path(IndicatorValue(report=report), hostile)
    prefix, programme, token, name = path.split("/")
    assert (prefix, programme) == ("evidence", str(ciudades.pk))
    assert len(token) == 32 and int(token, 16) >= 0
    assert name.endswith(".pdf") and ".." not in name and "<" not in name and "\\" not in name


# ---- evidence through the report page: refused whole, nothing written --------------------------


def test_a_refused_file_saves_none_of_the_report_nor_any_other_file(coordinator, ciudades):
    stored_before = set(evidence_files())
    indicators = scope_indicators(ciudades)
    first, second = indicators[0], indicators[1]
    data: dict[str, Any] = form_data(indicators, version=0, fill=True)
    data[f"i{first.pk}_file"] = SimpleUploadedFile("good.pdf", PDF, "application/pdf")
    data[f"i{second.pk}_file"] = SimpleUploadedFile("page.pdf", HTML, "application/pdf")
    response = coordinator.post(report_url(), {**data, "action": "save"})
    assert response.status_code == 400
    assert f"{second.code}: the file&#x27;s content is not a .pdf file." in page(response)
    assert not ProgressReport.objects.filter(period__code=PERIOD, agency__code="ILO").exists()
    assert set(evidence_files()) == stored_before


def test_a_refused_file_leaves_a_saved_draft_as_it_was(coordinator, ciudades, settings):
    indicators = scope_indicators(ciudades)
    data = form_data(indicators, version=0, fill=True)
    assert coordinator.post(report_url(), {**data, "action": "save"}).status_code == 302
    report = ProgressReport.objects.get(period__code=PERIOD, agency__code="ILO", city__code="SCL")
    before = (report.version, sorted(report.values.values_list("indicator_id", "value")))
    stored_before = set(evidence_files())
    settings.EVIDENCE_MAX_BYTES = 50
    changed: dict[str, Any] = form_data(indicators, version=report.version, fill=True)
    changed[f"i{indicators[0].pk}_total"] = "999"
    changed[f"i{indicators[0].pk}_file"] = SimpleUploadedFile("big.pdf", PDF * 10)
    response = coordinator.post(report_url(), {**changed, "action": "save"})
    assert response.status_code == 400
    assert f"{indicators[0].code}: the file is 150 bytes; the limit is 50 bytes." in page(response)
    report.refresh_from_db()
    assert (report.version, sorted(report.values.values_list("indicator_id", "value"))) == before
    assert not report.values.exclude(evidence="").exists()
    assert set(evidence_files()) == stored_before


@pytest.mark.parametrize("link", ["javascript:alert(1)", "data:text/html,<script>x</script>",
                                  "vbscript:msgbox(1)", "file:///etc/passwd"])  # fmt: skip
def test_an_evidence_link_must_be_a_web_address(coordinator, ciudades, link):
    indicators = scope_indicators(ciudades)
    data = form_data(indicators, version=0, fill=True)
    data[f"i{indicators[0].pk}_url"] = link
    response = coordinator.post(report_url(), {**data, "action": "save"})
    assert response.status_code == 400
    assert "Enter a valid URL." in page(response)
    assert not ProgressReport.objects.filter(period__code=PERIOD, agency__code="ILO").exists()


# ---- evidence downloads: who, and how -------------------------------------------------------


def _value_with_evidence(ciudades, user, name: str, content: bytes) -> IndicatorValue:
    """A draft value whose file came in some other way than the form (an older load, a
    restored backup): the download must be safe whatever the file is."""
    indicator = scope_indicators(ciudades)[0]
    report = ProgressReport.objects.create(
        programme=ciudades, period=ciudades.periods.get(code=PERIOD),
        agency=Agency.objects.get(code="ILO"), city=City.objects.get(code="SCL"), updated_by=user,
    )  # fmt: skip
    value = IndicatorValue(report=report, indicator=indicator, value=1)
    value.evidence.save(name, ContentFile(content), save=False)
    value.save()
    return value


def _evidence_url(value: IndicatorValue) -> str:
    return reverse("reports:evidence", args=["CIUDADES", PERIOD, "ILO", "SCL", value.pk])


def test_evidence_is_downloaded_only_by_who_may_see_its_report(client, ciudades):
    owner = _user("coord.ilo.scl")
    value = _value_with_evidence(ciudades, owner, "list.pdf", PDF)
    for username, status in [
        ("coord.ilo.scl", 200), ("coord.ilo.cdmx", 200), ("approver.ilo", 200),
        ("coord.iom.scl", 403), ("approver.iom", 403), ("rco", 403), ("donor", 403),
        ("admin", 403),
    ]:  # fmt: skip
        client.force_login(_user(username))
        response = client.get(_evidence_url(value))
        assert response.status_code == status, username
        if status == 200:
            assert b"".join(response.streaming_content) == PDF
    client.logout()
    anonymous = client.get(_evidence_url(value))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")


def test_evidence_is_served_as_an_attachment_of_its_own_type(coordinator, ciudades):
    value = _value_with_evidence(ciudades, _user("coord.ilo.scl"), "list.pdf", PDF)
    response = coordinator.get(_evidence_url(value))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("name", "content"),
    [("page.html", HTML), ("drawing.svg", SVG), ("page.xhtml", HTML), ("feed.xml", HTML),
     ("page.htm", HTML), ("noext", HTML)],
)  # fmt: skip
def test_a_file_that_came_in_another_way_is_never_served_as_a_page(
    coordinator, ciudades, name, content
):
    """The form refuses these; a file that got in otherwise (a load, a restored backup, the
    shell) is still only ever an opaque download."""
    value = _value_with_evidence(ciudades, _user("coord.ilo.scl"), name, content)
    response = coordinator.get(_evidence_url(value))
    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] not in RENDERED
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"


# ---- deliverable files ------------------------------------------------------------------------


def _draft_report(coordinator, ciudades) -> ProgressReport:
    data = form_data(scope_indicators(ciudades), version=0, fill=False)
    assert coordinator.post(report_url(), {**data, "action": "save"}).status_code == 302
    return ProgressReport.objects.get(period__code=PERIOD, agency__code="ILO", city__code="SCL")


def _add_deliverable(coordinator, ciudades, file) -> str:
    activity = activities_in_scope(
        programme=ciudades, agency=Agency.objects.get(code="ILO"), city=City.objects.get(code="SCL")
    )[0]
    data = {"activity": str(activity.pk), "title_es": "Guía", "title_en": "Guide",
            "kind": "manual", "date": "2023-05-10", "file": file}  # fmt: skip
    url = reverse("activities:deliverable_add", args=["CIUDADES", PERIOD, "ILO", "SCL"])
    return page(coordinator.post(url, data, follow=True))


@pytest.mark.parametrize(
    ("file", "message"),
    [
        (SimpleUploadedFile("guide.html", HTML), "files of type &#x27;.html&#x27; are not"),
        (SimpleUploadedFile("guide.svg", SVG), "files of type &#x27;.svg&#x27; are not"),
        (SimpleUploadedFile("guide.pdf", HTML), "content is not a .pdf file"),
        (SimpleUploadedFile("guide.pdf", PDF * 100), "the limit is 1000 bytes"),
    ],
)
def test_a_deliverable_file_is_checked_like_evidence(
    coordinator, ciudades, settings, file, message
):
    settings.EVIDENCE_MAX_BYTES = 1000
    _draft_report(coordinator, ciudades)
    stored_before = set(evidence_files())
    html = _add_deliverable(coordinator, ciudades, file)
    assert message in html
    assert "File:" in html  # the message names the field
    assert not Deliverable.objects.filter(report__period__code=PERIOD).exists()
    assert set(evidence_files()) == stored_before


def test_a_deliverable_file_is_never_served_as_a_page(coordinator, ciudades):
    report = _draft_report(coordinator, ciudades)
    assert report.city is not None
    activity = activities_in_scope(programme=ciudades, agency=report.agency, city=report.city)[0]
    deliverable = Deliverable.objects.create(
        programme=ciudades, activity=activity, report=report, agency=report.agency,
        city=report.city, title_es="g", title_en="g", kind="manual", date="2023-05-10",
        file=ContentFile(HTML, name="guide.html"),
    )  # fmt: skip
    url = reverse("activities:deliverable_file", args=["CIUDADES", deliverable.pk])
    response = coordinator.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    for other in ("coord.iom.scl", "donor", "rco"):  # a draft's file stays with its agency
        coordinator.force_login(_user(other))
        assert coordinator.get(url).status_code == 403


# ---- expenditure uploads -----------------------------------------------------------------------

BUDGET_HEADER = "agency,country,period,amount,kind,as_of,cumulative,note"


def _budget_upload(client, file):
    client.force_login(_user("coord.ilo.scl"))
    return client.post(reverse("budget_entry:upload", args=["CIUDADES"]), {"file": file})


def _entered() -> int:
    return Expenditure.objects.exclude(period__code="LOP").count()


@pytest.mark.parametrize(
    "file",
    [
        SimpleUploadedFile("expenditures.html", HTML),
        SimpleUploadedFile("expenditures.xlsx", HTML),
        SimpleUploadedFile("expenditures.svg", SVG),
        SimpleUploadedFile("expenditures.csv", b"PK\x03\x04zip in disguise"),
    ],
)
def test_an_expenditure_upload_of_another_type_is_refused_on_its_field(client, file):
    response = _budget_upload(client, file)
    assert response.status_code == 400
    assert response.context["form"].errors["file"] == [
        "The file is not a CSV or Excel (.xlsx) file."
    ]
    assert _entered() == 0


def test_an_oversized_expenditure_upload_is_refused_on_its_field(client, settings):
    settings.EVIDENCE_MAX_BYTES = 100
    rows = "\n".join(f"ILO,CL,2021-Q1,{n},interim,2021-03-31,," for n in range(10))
    response = _budget_upload(
        client, SimpleUploadedFile("e.csv", f"{BUDGET_HEADER}\n{rows}\n".encode())
    )
    assert response.status_code == 400
    assert response.context["form"].errors["file"] == ["The file is larger than 100\xa0bytes."]
    assert _entered() == 0


def test_an_upload_cannot_enter_another_agencys_spending_and_applies_nothing(client):
    """A row for a line the coordinator does not enter (IOM Chile, for ILO's coordinator) is
    refused by name, and the good row beside it is not applied either."""
    body = (
        f"{BUDGET_HEADER}\n"
        "ILO,CL,2021-Q1,100,interim,2021-03-31,,fine\n"
        "IOM,CL,2021-Q1,100,interim,2021-03-31,,not mine\n"
    )
    response = _budget_upload(client, SimpleUploadedFile("e.csv", body.encode()))
    assert response.status_code == 400
    problems = " ".join(str(p) for p in response.context["problems"])
    assert "3" in problems and "IOM" in problems
    assert _entered() == 0


def test_hostile_cells_come_back_escaped_never_as_markup(client):
    body = f"{BUDGET_HEADER}\n<script>alert(1)</script>,CL,2021-Q1,1,interim,2021-03-31,,x\n"
    response = _budget_upload(client, SimpleUploadedFile("e.csv", body.encode()))
    assert response.status_code == 400
    assert "<script>alert(1)</script>" not in response.content.decode()
    assert _entered() == 0


# ---- survey response imports ------------------------------------------------------------------


@pytest.fixture
def survey_kit(ciudades):
    return build_kit(ciudades, code="AUDIT-IMPORT")


def _survey_upload(client, kit, file):
    client.force_login(_user("rco"))
    url = reverse("surveys:upload", args=["CIUDADES", kit.survey.code, kit.survey.wave])
    return client.post(url, {"file": file})


@pytest.mark.parametrize(
    ("file", "message"),
    [
        (SimpleUploadedFile("responses.html", HTML), "not a CSV or Excel"),
        (SimpleUploadedFile("responses.xlsx", HTML), "not a CSV or Excel"),
        (SimpleUploadedFile("responses.xlsx", b"PK\x03\x04broken"), "may be damaged"),
        (SimpleUploadedFile("responses.csv", b"id,sat\n" + b"r,4\n" * 100), "larger than"),
    ],
)
def test_a_survey_import_is_checked_by_type_content_and_size(
    client, survey_kit, settings, file, message
):
    settings.EVIDENCE_MAX_BYTES = 300
    response = _survey_upload(client, survey_kit, file)
    assert response.status_code == 400
    assert any(message in e for e in response.context["form"].errors["file"])
    assert not Response.objects.filter(survey=survey_kit.survey).exists()


def test_html_in_a_survey_file_is_data_never_markup(client, survey_kit):
    body = b"id,sat,age\nr1,<script>alert(1)</script>,30\nr2,4,<img src=x onerror=alert(1)>\n"
    response = _survey_upload(client, survey_kit, SimpleUploadedFile("responses.csv", body))
    assert response.status_code == 400
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
    assert not Response.objects.filter(survey=survey_kit.survey).exists()


def test_only_the_rco_and_the_admin_import_responses(client, survey_kit):
    url = reverse("surveys:upload", args=["CIUDADES", survey_kit.survey.code, 1])
    for username in ("coord.ilo.scl", "approver.ilo", "donor"):
        client.force_login(_user(username))
        file = SimpleUploadedFile("responses.csv", b"id,sat\nr1,4\n")
        assert client.post(url, {"file": file}).status_code == 403
    assert not Response.objects.filter(survey=survey_kit.survey).exists()


# ---- report workbooks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "message"),
    [
        (SimpleUploadedFile("report.xlsx", HTML), "is not an Excel workbook"),
        (SimpleUploadedFile("report.html", HTML), "is not an Excel workbook"),
        (SimpleUploadedFile("report.xlsx", b"PK\x03\x04" + b"0" * 500), "larger than"),
    ],
)
def test_a_workbook_upload_is_checked_and_changes_nothing(
    coordinator, ciudades, settings, file, message
):
    report = _draft_report(coordinator, ciudades)
    settings.EVIDENCE_MAX_BYTES = 300
    url = report_url(action="workbook_upload")
    response = coordinator.post(url, {"workbook": file}, follow=True)
    assert message in page(response)
    report.refresh_from_db()
    assert report.version == 1 and not report.values.exists()


def _user(username: str):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)
