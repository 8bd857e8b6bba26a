"""The quarterly report page: a coordinator enters figures for their agency and city, saves a
draft, submits; validation names the indicator and the cell; nothing is saved half-way; a
stale save is refused with what changed; evidence is checked and served only as a download."""

import sys
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import QuerySet
from django.test import Client
from django.urls import reverse

from indicators.models import Indicator, IndicatorValue, ProgressReport
from monitoring.models import AuditEvent

from .report_fixtures import PERIOD, enter, form_data, login, report_url, scope_indicators

pytestmark = pytest.mark.django_db


def test_the_coordinator_sees_every_indicator_in_scope_with_target_and_last_quarter(
    client, ciudades, ilo_coordinator_scl
):
    login(client, ilo_coordinator_scl)
    response = client.get(report_url())
    assert response.status_code == 200
    page = response.content.decode()
    indicators = scope_indicators(ciudades)
    assert len(indicators) == 15
    for ind in indicators:
        assert f'id="indicator-{ind.code.lower().replace(".", "")}"' in page
    assert 'name="action" value="submit"' in page
    # 1.2.A asks for the total and each sex cell
    a12 = Indicator.objects.get(programme=ciudades, code="1.2.A")
    for category in (c for d in a12.dimensions.all() for c in d.categories.all()):
        assert f'name="i{a12.pk}_c{category.pk}"' in page


def test_save_a_draft_then_submit(client, ciudades, ilo_coordinator_scl):
    login(client, ilo_coordinator_scl)
    indicators = scope_indicators(ciudades)
    data = form_data(indicators, version=0, fill=True)
    response = client.post(report_url(), {**data, "action": "save"})
    assert response.status_code == 302, response.content.decode()[:3000]
    report = ProgressReport.objects.get(
        programme=ciudades, period__code=PERIOD, agency__code="ILO", city__code="SCL"
    )
    assert report.status == "draft"
    assert report.version == 1
    assert report.values.filter(category__isnull=True).count() == len(indicators)
    assert not AuditEvent.objects.filter(action="report.submit").exists()

    response = client.post(
        report_url(), {**form_data(indicators, version=1, fill=True), "action": "submit"}
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == "submitted"
    assert report.submitted_by == ilo_coordinator_scl
    event = AuditEvent.objects.get(action="report.submit", object_id=str(report.pk))
    assert event.actor == ilo_coordinator_scl
    assert event.old_value == {"status": "draft"}
    assert event.new_value["status"] == "submitted"
    assert event.new_value["values"][indicators[0].code] != "—"


def test_submit_refuses_an_incomplete_report_and_names_what_is_missing(
    client, ciudades, ilo_coordinator_scl
):
    login(client, ilo_coordinator_scl)
    indicators = scope_indicators(ciudades)
    data = form_data(indicators, version=0, fill=True)
    data[f"i{indicators[2].pk}_total"] = ""
    response = client.post(report_url(), {**data, "action": "submit"})
    assert response.status_code == 400
    assert f"Missing: {indicators[2].code}" in response.content.decode()
    # nothing half-written: not even the report
    assert not ProgressReport.objects.filter(period__code=PERIOD, agency__code="ILO").exists()


@pytest.mark.parametrize(
    ("measure", "raw", "message"),
    [
        ("percent", "120", "Ensure this value is less than or equal to 100."),
        ("count", "3.5", "a count must be a whole number."),
        ("count", "-4", "Ensure this value is greater than or equal to 0."),
        ("count", "many", "Enter a number."),
    ],
)
def test_a_bad_figure_is_refused_naming_the_indicator_and_nothing_is_saved(
    client, ciudades, ilo_coordinator_scl, measure, raw, message
):
    login(client, ilo_coordinator_scl)
    indicators = scope_indicators(ciudades)
    target = next(i for i in indicators if i.measure == measure)
    data = form_data(indicators, version=0, fill=True)
    data[f"i{target.pk}_total"] = raw
    response = client.post(report_url(), {**data, "action": "save"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was saved" in page
    assert f"{target.code}: " in page and message in page
    assert not IndicatorValue.objects.filter(report__period__code=PERIOD).exists()


def test_a_bad_cell_is_named_by_indicator_dimension_and_category(
    client, ciudades, ilo_coordinator_scl
):
    login(client, ilo_coordinator_scl)
    indicators = scope_indicators(ciudades)
    ind = next(i for i in indicators if i.dimensions.exists() and i.measure == "count")
    category = ind.dimensions.first().categories.first()
    data = form_data(indicators, version=0, fill=True)
    data[f"i{ind.pk}_c{category.pk}"] = "2.5"
    response = client.post(report_url(), {**data, "action": "save"})
    assert response.status_code == 400
    label = f"{ind.code} · {category.dimension.name_en}: {category.name_en}"
    expected = f"{label}: a count must be a whole number."
    assert expected in response.content.decode()


def test_numerator_above_denominator_is_refused(client, ciudades, ilo_coordinator_scl):
    login(client, ilo_coordinator_scl)
    indicators = scope_indicators(ciudades)
    pct = next(i for i in indicators if i.measure == "percent")
    data = form_data(indicators, version=0, fill=True)
    data.update({f"i{pct.pk}_total": "", f"i{pct.pk}_num": "40", f"i{pct.pk}_den": "30"})
    response = client.post(report_url(), {**data, "action": "save"})
    assert response.status_code == 400
    assert (
        f"{pct.code}: the numerator (40) cannot exceed the denominator (30)."
        in response.content.decode()
    )


def test_a_percentage_from_numerator_and_denominator_is_computed(
    client, ciudades, ilo_coordinator_scl
):
    login(client, ilo_coordinator_scl)
    indicators = scope_indicators(ciudades)
    pct = next(i for i in indicators if i.measure == "percent")
    data = form_data(indicators, version=0, fill=True)
    data.update({f"i{pct.pk}_total": "", f"i{pct.pk}_num": "27", f"i{pct.pk}_den": "36"})
    assert client.post(report_url(), {**data, "action": "save"}).status_code == 302
    value = IndicatorValue.objects.get(report__period__code=PERIOD, indicator=pct, category=None)
    assert (value.value, value.numerator, value.denominator) == (
        Decimal(75),
        Decimal(27),
        Decimal(36),
    )


def test_cells_that_do_not_add_up_and_a_jump_from_last_quarter_are_shown_as_cautions(
    client, ciudades, ilo_coordinator_scl
):
    login(client, ilo_coordinator_scl)
    indicators = scope_indicators(ciudades)
    ind = next(i for i in indicators if i.dimensions.exists() and i.measure == "count")
    categories = list(ind.dimensions.first().categories.all())
    data = form_data(indicators, version=0, fill=True)
    data[f"i{ind.pk}_total"] = "10"
    data[f"i{ind.pk}_c{categories[0].pk}"] = "3"
    data[f"i{ind.pk}_c{categories[1].pk}"] = "4"
    assert client.post(report_url(), {**data, "action": "save"}).status_code == 302
    page = client.get(report_url()).content.decode()
    dimension = ind.dimensions.first().name_en
    assert (
        f"{ind.code}: the {dimension} cells add up to 7, not the total 10 (difference 3)." in page
    )


def test_spanish_decimal_comma_is_accepted(client, ciudades, ilo_coordinator_scl):
    login(client, ilo_coordinator_scl)
    indicators = scope_indicators(ciudades)
    amount_or_pct = next(i for i in indicators if i.measure == "percent")
    data = form_data(indicators, version=0, fill=True)
    data[f"i{amount_or_pct.pk}_total"] = "62,5"
    client.cookies["django_language"] = "es"
    response = client.post(report_url(), {**data, "action": "save"}, HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 302
    value = IndicatorValue.objects.get(
        report__period__code=PERIOD, indicator=amount_or_pct, category=None
    )
    assert value.value == Decimal("62.5")


def test_a_stale_save_is_refused_and_shows_what_changed(ciudades, ilo_coordinator_scl):
    """Two browsers (the coordinator at the office and at home) open version 1; the first
    saves, the second is refused with the other's figures beside its own, and nothing of it
    is written."""
    office, home = Client(HTTP_ACCEPT_LANGUAGE="en"), Client(HTTP_ACCEPT_LANGUAGE="en")
    login(office, ilo_coordinator_scl)
    login(home, ilo_coordinator_scl)
    indicators = scope_indicators(ciudades)
    enter(office, indicators, version=0)  # version 1
    for browser in (office, home):
        assert 'name="version" value="1"' in browser.get(report_url()).content.decode()
    first = form_data(indicators, version=1, fill=True)
    first[f"i{indicators[0].pk}_total"] = "11"
    assert office.post(report_url(), {**first, "action": "save"}).status_code == 302
    second = form_data(indicators, version=1, fill=True)
    second[f"i{indicators[0].pk}_total"] = "22"
    response = home.post(report_url(), {**second, "action": "save"})
    assert response.status_code == 409
    page = response.content.decode()
    assert "somebody else saved this report after you opened it" in page
    assert f"<td>{indicators[0].code}</td><td>11 %</td><td>22 %</td>" in page
    assert 'name="version" value="2"' in page  # saving again is a knowing overwrite
    value = IndicatorValue.objects.get(
        report__period__code=PERIOD, indicator=indicators[0], category=None
    )
    assert value.value == 11
    assert home.post(report_url(), {**second, "version": "2", "action": "save"}).status_code == 302
    value.refresh_from_db()
    assert value.value == 22


def test_evidence_is_checked_by_type_and_content_and_served_as_a_download(
    client, ciudades, ilo_coordinator_scl, settings, tmp_path
):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    login(client, ilo_coordinator_scl)
    indicators = scope_indicators(ciudades)
    key = f"i{indicators[0].pk}_file"

    data = form_data(indicators, version=0, fill=True)
    data[key] = SimpleUploadedFile("page.html", b"<script>alert(1)</script>", "text/html")
    response = client.post(report_url(), {**data, "action": "save"})
    assert response.status_code == 400
    assert (
        f"{indicators[0].code}: files of type &#x27;.html&#x27; are not accepted"
        in response.content.decode()
    )

    data[key] = SimpleUploadedFile("list.pdf", b"<html>not a pdf</html>", "application/pdf")
    response = client.post(report_url(), {**data, "action": "save"})
    assert (
        f"{indicators[0].code}: the file&#x27;s content is not a .pdf file."
        in response.content.decode()
    )

    settings.EVIDENCE_MAX_BYTES = 1000
    data[key] = SimpleUploadedFile("big.pdf", b"%PDF-1.4\n" + b"0" * 2000, "application/pdf")
    response = client.post(report_url(), {**data, "action": "save"})
    page = response.content.decode().replace("\xa0", " ")
    assert f"{indicators[0].code}: the file is 2.0 KB; the limit is 1000 bytes." in page
    assert not list(tmp_path.rglob("*"))  # nothing stored for a refused save

    # A good file beside a figure the service refuses (60 % is not 1 / 3): no file either.
    pct = next(i for i in indicators if i.measure == "percent")
    bad = {**data, f"i{pct.pk}_total": "60", f"i{pct.pk}_num": "1", f"i{pct.pk}_den": "3"}
    bad[key] = SimpleUploadedFile("ok.pdf", b"%PDF-1.4\n%%EOF", "application/pdf")
    settings.EVIDENCE_MAX_BYTES = 10_000
    response = client.post(report_url(), {**bad, "action": "save"})
    assert response.status_code == 400
    assert "does not match 1 / 3" in response.content.decode()
    assert not list(tmp_path.rglob("*"))

    settings.EVIDENCE_MAX_BYTES = 10_000
    data[key] = SimpleUploadedFile("attendance list.pdf", b"%PDF-1.4\n%%EOF", "application/pdf")
    assert client.post(report_url(), {**data, "action": "save"}).status_code == 302
    value = IndicatorValue.objects.get(
        report__period__code=PERIOD, indicator=indicators[0], category=None
    )
    assert value.evidence.name.endswith("/attendance-list.pdf")
    assert [p.name for p in tmp_path.rglob("*.pdf")] == ["attendance-list.pdf"]
    url = reverse("reports:evidence", args=["CIUDADES", PERIOD, "ILO", "SCL", value.pk])
    download = client.get(url)
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == b"%PDF-1.4\n%%EOF"


REPORT_PAGE_QUERIES = 22
CALENDAR_QUERIES = 9


def test_the_report_page_and_calendar_keep_their_query_budget(
    client, ciudades, ilo_coordinator_scl, django_assert_max_num_queries
):
    """However many figures, cells, activities and deliverables: a fixed number of queries."""
    login(client, ilo_coordinator_scl)
    indicators = scope_indicators(ciudades)
    data = form_data(indicators, version=0, fill=True)
    for ind in indicators:  # every cell too
        for d in ind.dimensions.all():
            for c in d.categories.all():
                data[f"i{ind.pk}_c{c.pk}"] = "1" if ind.measure == "count" else ""
    assert client.post(report_url(), {**data, "action": "save"}).status_code == 302
    with django_assert_max_num_queries(REPORT_PAGE_QUERIES):
        assert client.get(report_url()).status_code == 200
    with django_assert_max_num_queries(CALENDAR_QUERIES):
        assert client.get(reverse("reports:calendar", args=["CIUDADES"])).status_code == 200


SAVE_AGAIN_QUERIES = 30  # the request, the report locked and read back: no query per cell


def test_saving_a_draft_again_writes_only_what_changed(
    client, ciudades, ilo_coordinator_scl, django_assert_max_num_queries
):
    """A coordinator saves a draft, then saves again after changing one figure: one value is
    written, the others and the activities are left as they are, in a fixed number of
    queries (a full report's second save cost over 400 before)."""
    login(client, ilo_coordinator_scl)
    indicators = scope_indicators(ciudades)
    enter(client, indicators, version=0)
    before = dict(
        IndicatorValue.objects.filter(report__period__code=PERIOD, report__city__code="SCL")
        .filter(report__agency__code="ILO")
        .values_list("indicator_id", "updated_at")
    )
    data = form_data(indicators, version=1, fill=True)
    with django_assert_max_num_queries(SAVE_AGAIN_QUERIES):
        assert client.post(report_url(), {**data, "action": "save"}).status_code == 302
    data = form_data(indicators, version=2, fill=True)
    count = next(i for i in indicators if i.measure == "count")
    data[f"i{count.pk}_total"] = "7"
    assert client.post(report_url(), {**data, "action": "save"}).status_code == 302
    after = dict(
        IndicatorValue.objects.filter(report__period__code=PERIOD, report__city__code="SCL")
        .filter(report__agency__code="ILO")
        .values_list("indicator_id", "updated_at")
    )
    assert {pk for pk in after if after[pk] != before[pk]} == {count.pk}
    assert (
        IndicatorValue.objects.get(
            report__period__code=PERIOD, report__agency__code="ILO", indicator=count, category=None
        ).value
        == 7
    )
    assert (
        ProgressReport.objects.get(
            period__code=PERIOD, agency__code="ILO", city__code="SCL"
        ).version
        == 3
    )


def test_two_first_saves_at_once_one_wins_the_other_is_stale(
    ciudades, ilo_coordinator_scl, monkeypatch
):
    """Both browsers find no report and create it; the other's first save commits between
    this one's look-up and its insert. This one is refused as stale (409, "somebody else
    saved"), never as a 400 "already exists" (seen once under load)."""
    indicators = scope_indicators(ciudades)
    office, home = Client(HTTP_ACCEPT_LANGUAGE="en"), Client(HTTP_ACCEPT_LANGUAGE="en")
    login(office, ilo_coordinator_scl)
    login(home, ilo_coordinator_scl)
    real_first = QuerySet.first
    raced = []

    def the_other_commits_after_the_look_up(self):
        caller = sys._getframe(1).f_code.co_name
        if self.model is ProgressReport and caller == "_report_for_saving" and not raced:
            raced.append(True)
            found = real_first(self)
            enter(office, indicators, version=0)
            return found
        return real_first(self)

    monkeypatch.setattr(QuerySet, "first", the_other_commits_after_the_look_up)
    data = form_data(indicators, version=0, fill=True)
    data[f"i{indicators[0].pk}_total"] = "22"
    response = home.post(report_url(), {**data, "action": "save"})
    assert raced and response.status_code == 409
    assert "somebody else saved this report after you opened it" in response.content.decode()
    # In a real race the other save has committed; here it ran on this test's connection,
    # inside this request's transaction, so it rolled back with it: what is checked is the
    # answer, and that none of this user's figures were written.
    assert not IndicatorValue.objects.filter(
        report__period__code=PERIOD, indicator=indicators[0], value=22
    ).exists()
