"""Progress reports over the API: who sees which report and value (donors: approved only;
drafts: their own agency only), the coordinator's entry and submission, the approver's return,
approval and restatement, separation of duties, read tokens, CSRF for browser sessions, stale
versions, and figures refused with the field named and nothing written."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import get_random_string
from rest_framework.test import APIClient

from indicators import services
from indicators.api.reports import report_visibility
from indicators.models import Indicator, IndicatorValue, ProgressReport, Restatement
from indicators.permissions import access_for, can_view_report
from indicators.selectors.reports import activities_in_scope, indicators_in_scope
from monitoring.models import Agency, ApiToken, AuditEvent, City, Membership, ReportingPeriod

pytestmark = pytest.mark.django_db

PERIOD = "2023-Q2"  # the quarter the demo load reopens for entry
FIGURES = {"count": "5", "percent": "60", "yes_no": "1", "level": "2", "amount": "100"}


def user(name):
    return get_user_model().objects.get(username=name)


def token_client(username, scope="read"):
    """A machine client with a token of ``username`` for Ciudades."""
    _token, key = ApiToken.issue(
        user=user(username),
        programme=user(username).memberships.first().programme,
        scope=scope,
        days=30,
        name="test",
    )
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def url(name, *args):
    return reverse(f"api:{name}", args=args)


def slot(programme, agency="ILO", city="SCL"):
    return {
        "programme": programme,
        "period": ReportingPeriod.objects.get(programme=programme, code=PERIOD),
        "agency": Agency.objects.get(code=agency) if agency else None,
        "city": City.objects.get(code=city),
    }


def in_scope(programme, agency="ILO", city="SCL"):
    return indicators_in_scope(
        programme=programme,
        agency=Agency.objects.get(code=agency),
        city=City.objects.get(code=city),
    )


def full_entries(programme, agency="ILO", city="SCL"):
    return [
        services.Entry(indicator=i, value=Decimal(FIGURES[i.measure]))
        for i in in_scope(programme, agency, city)
    ]


def all_activities(programme, agency="ILO", city="SCL"):
    return [
        services.ActivityEntry(a, status="not_started")
        for a in activities_in_scope(
            programme=programme,
            agency=Agency.objects.get(code=agency),
            city=City.objects.get(code=city),
        )
    ]


def draft(programme, agency="ILO", city="SCL") -> ProgressReport:
    """A draft with every figure, saved by the slot's coordinator through the service."""
    return services.report_save(
        **slot(programme, agency, city),
        expected_version=0,
        entries=full_entries(programme, agency, city),
        activities=all_activities(programme, agency, city),
        narrative_es="",
        narrative_en="",
        actor=user(f"coord.{agency.lower()}.{city.lower()}"),
    )


def submitted(programme, agency="ILO", city="SCL") -> ProgressReport:
    report = draft(programme, agency, city)
    return services.report_save(
        **slot(programme, agency, city),
        expected_version=report.version,
        entries=[],
        activities=all_activities(programme, agency, city),
        narrative_es="",
        narrative_en="",
        actor=user(f"coord.{agency.lower()}.{city.lower()}"),
        submit=True,
        in_scope=in_scope(programme, agency, city),
    )


def returned(programme, agency="ILO", city="SCL") -> ProgressReport:
    report = submitted(programme, agency, city)
    return services.report_return(
        report=report, reason="Attach the list.", actor=user(f"approver.{agency.lower()}")
    )


def approved(programme, agency="ILO", city="SCL") -> ProgressReport:
    report = submitted(programme, agency, city)
    return services.report_approve(report=report, actor=user(f"approver.{agency.lower()}"))


def ids(response):
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


def every_page(client, path, **params):
    rows, page = [], 1
    while True:
        response = client.get(path, {**params, "page": page, "page_size": 5})
        assert response.status_code == 200, response.json()
        rows += response.json()["results"]
        if not response.json()["next"]:
            return rows
        page += 1


# ---- who sees what ----------------------------------------------------------------------


def test_a_donor_token_lists_approved_reports_only_and_never_a_drafts_values(ciudades):
    ok = approved(ciudades, "ILO", "SCL")
    hidden = [
        draft(ciudades, "ILO", "CDMX"),
        submitted(ciudades, "IOM", "SCL"),
        returned(ciudades, "UNHCR", "SCL"),
    ]
    donor = token_client("donor")

    listed = every_page(donor, url("reports"))
    assert ok.pk in {r["id"] for r in listed}
    assert {r["status"] for r in listed} <= {"approved", "validated"}
    assert not {r.pk for r in hidden} & {r["id"] for r in listed}
    assert ids(donor.get(url("reports"), {"status": "draft"})) == set()

    for report in hidden:
        assert donor.get(url("report", report.pk)).status_code == 404
        assert donor.get(url("report-values", report.pk)).status_code == 404
        assert ids(donor.get(url("values"), {"report": report.pk})) == set()
    values = every_page(donor, url("values"), period=PERIOD)
    assert {v["report"] for v in values} == {ok.pk}
    assert len(values) == ok.values.count()

    detail = donor.get(url("report", ok.pk)).json()
    assert (detail["programme"], detail["period"], detail["agency"], detail["city"]) == (
        "CIUDADES",
        PERIOD,
        "ILO",
        "SCL",
    )
    assert (detail["submitted_by"], detail["approved_by"]) == ("coord.ilo.scl", "approver.ilo")
    one = next(v for v in detail["values"] if v["indicator"] == "1.4.A")
    assert (one["cell"], Decimal(one["value"]), one["provenance"]) == ("total", 5, "entered")


def test_drafts_stay_with_their_agency_and_submitted_reports_reach_the_rco(ciudades):
    mine = draft(ciudades, "ILO", "SCL")
    sent = submitted(ciudades, "IOM", "SCL")
    ilo = token_client("coord.ilo.scl")
    assert mine.pk in ids(ilo.get(url("reports"), {"status": "draft"}))
    assert ilo.get(url("report", sent.pk)).status_code == 404
    assert token_client("coord.ilo.cdmx").get(url("report", mine.pk)).status_code == 200
    rco = token_client("rco")
    assert rco.get(url("report", mine.pk)).status_code == 404
    assert rco.get(url("report", sent.pk)).status_code == 200


def test_the_visibility_condition_says_what_can_view_report_says(ciudades):
    """``report_visibility`` (SQL) and ``can_view_report`` (one report) must agree, for every
    persona and every status of agency and joint reports."""
    draft(ciudades, "ILO", "CDMX")
    submitted(ciudades, "IOM", "SCL")
    returned(ciudades, "UNHCR", "SCL")
    approved(ciudades, "ILO", "SCL")
    quarters = ReportingPeriod.objects.filter(programme=ciudades, kind="quarter").exclude(
        code=PERIOD
    )
    iom, cdmx, scl = (
        Agency.objects.get(code="IOM"),
        City.objects.get(code="CDMX"),
        City.objects.get(code="SCL"),
    )
    for status, period in zip(ProgressReport.Status.values, quarters, strict=False):
        for agency, city in ((iom, cdmx), (None, scl), (None, None)):
            ProgressReport.objects.create(
                programme=ciudades,
                period=period,
                agency=agency,
                city=city,
                status=status,
                approved_at=timezone.now() if status in ("approved", "validated") else None,
            )
    boss = get_user_model().objects.create_superuser("root", password="x")
    people = [*get_user_model().objects.filter(memberships__programme=ciudades).distinct()]
    people += [get_user_model().objects.create_user("nobody"), boss]
    everything = list(ProgressReport.objects.filter(programme=ciudades))
    for person in people:
        access = access_for(person, ciudades)
        by_query = set(
            ProgressReport.objects.filter(
                report_visibility(access), programme=ciudades
            ).values_list("pk", flat=True)
        )
        by_predicate = {r.pk for r in everything if can_view_report(access, r)}
        assert by_query == by_predicate, person.username


def test_filters_by_code_and_refuse_unknown_codes(ciudades):
    ilo = approved(ciudades, "ILO", "SCL")
    rco = token_client("rco")
    assert ids(rco.get(url("reports"), {"agency": "ILO", "city": "SCL", "period": PERIOD})) == {
        ilo.pk
    }
    joint = ids(rco.get(url("reports"), {"agency": "JOINT", "city": "ALL"}))
    assert joint and all(
        r.agency_id is None and r.city_id is None
        for r in ProgressReport.objects.filter(pk__in=joint)
    )
    assert ids(rco.get(url("reports"), {"updated_since": "2999-01-01T00:00:00Z"})) == set()
    far_offset = {"updated_since": "2001-12-27T11:33:47+17:02"}  # Python takes it; PostgreSQL not
    assert ilo.pk in ids(rco.get(url("reports"), far_offset))
    for params, field in (
        ({"city": "XYZ"}, "city"),
        ({"agency": "UNICEF"}, "agency"),
        ({"period": "2031-Q1"}, "period"),
        ({"status": "lost"}, "status"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"updated_since": "0001-01-01T00:00:00+14:00"}, "updated_since"),
    ):
        response = rco.get(url("reports"), params)
        assert response.status_code == 400, params
        assert field in response.json()["errors"]
    assert rco.get(url("reports"), {"programme": "NOPE"}).status_code == 404
    response = rco.get(url("values"), {"indicator": "9.9.Z"})
    assert response.status_code == 400 and "indicator" in response.json()["errors"]


def test_the_report_list_takes_a_fixed_number_of_queries(ciudades, django_assert_max_num_queries):
    for agency, city in (("ILO", "SCL"), ("IOM", "SCL"), ("UNHCR", "CDMX")):
        approved(ciudades, agency, city)
    donor = token_client("donor")
    with django_assert_max_num_queries(8):
        response = donor.get(url("reports"))
    assert response.json()["count"] >= 12
    with django_assert_max_num_queries(8):
        response = donor.get(url("values"), {"page_size": 1000})
    assert response.json()["count"] >= 3 * len(in_scope(ciudades))


# ---- entry and submission ---------------------------------------------------------------


def values_body(programme, version, agency="ILO", city="SCL"):
    return {
        "version": version,
        "values": [
            {"indicator": i.code, "value": FIGURES[i.measure]}
            for i in in_scope(programme, agency, city)
        ],
        "activities": [
            {"activity": a.activity.code, "status": "in_progress", "progress": 40}
            for a in all_activities(programme, agency, city)
        ],
        "narrative_en": "Quarter on plan.",
    }


def test_a_coordinator_with_a_write_token_opens_saves_and_submits(ciudades):
    coordinator = token_client("coord.ilo.scl", "write")
    where = {"programme": "CIUDADES", "period": PERIOD, "agency": "ILO", "city": "SCL"}
    opened = coordinator.post(url("reports"), where, format="json")
    assert opened.status_code == 201, opened.json()
    report = opened.json()
    assert (report["status"], report["version"], report["values"]) == ("draft", 1, [])
    again = coordinator.post(url("reports"), where, format="json")
    assert (again.status_code, again.json()["id"]) == (200, report["id"])

    saved = coordinator.patch(
        url("report-values", report["id"]), values_body(ciudades, 1), format="json"
    )
    assert saved.status_code == 200, saved.json()
    assert saved.json()["version"] == 2
    assert saved.json()["narrative_en"] == "Quarter on plan."
    row = IndicatorValue.objects.get(report=report["id"], indicator__code="1.4.A", category=None)
    assert row.value == 5
    assert {a["progress"] for a in saved.json()["activities"]} == {40}

    sent = coordinator.post(url("report-submit", report["id"]), {"version": 2}, format="json")
    assert sent.status_code == 200, sent.json()
    assert (sent.json()["status"], sent.json()["submitted_by"]) == ("submitted", "coord.ilo.scl")
    assert AuditEvent.objects.filter(
        object_id=str(report["id"]), action="report.submit", actor__username="coord.ilo.scl"
    ).exists()
    # submitted: no longer the coordinator's to change
    again = coordinator.patch(url("report-values", report["id"]), {"version": 3}, format="json")
    assert again.status_code == 403
    assert "submitted and can no longer be edited" in again.json()["detail"]


def test_submit_refuses_an_incomplete_report(ciudades):
    coordinator = token_client("coord.ilo.scl", "write")
    report = services.report_save(
        **slot(ciudades),
        expected_version=0,
        entries=full_entries(ciudades)[:1],
        narrative_es="",
        narrative_en="",
        actor=user("coord.ilo.scl"),
    )
    response = coordinator.post(url("report-submit", report.pk), {"version": 1}, format="json")
    assert response.status_code == 400
    assert "give the status of every activity" in response.json()["detail"]
    assert ProgressReport.objects.get(pk=report.pk).status == "draft"


def test_put_replaces_the_figures_and_patch_changes_only_what_is_sent(ciudades):
    report = draft(ciudades)
    coordinator = token_client("coord.ilo.scl", "write")
    one = coordinator.patch(
        url("report-values", report.pk),
        {
            "version": report.version,
            "values": [
                {"indicator": "1.4.A", "value": "7", "comment": "two workshops"},
                {"indicator": "1.4.A", "cell": "sex=female", "value": "4"},
                {"indicator": "2A", "value": None},
            ],
        },
        format="json",
    )
    assert one.status_code == 200, one.json()
    figures = {(v["indicator"], v["cell"]): v for v in one.json()["values"]}
    assert Decimal(figures["1.4.A", "total"]["value"]) == 7
    assert figures["1.4.A", "total"]["comment"] == "two workshops"
    assert Decimal(figures["1.4.A", "sex=female"]["value"]) == 4
    assert ("2A", "total") not in figures  # cleared
    assert Decimal(figures["3B", "total"]["value"]) == 5  # not sent: unchanged
    assert len(one.json()["activities"]) == len(all_activities(ciudades))

    two = coordinator.patch(
        url("report-values", report.pk),
        {"version": one.json()["version"], "values": [{"indicator": "1.4.A", "value": "8"}]},
        format="json",
    )
    figures = {(v["indicator"], v["cell"]): v for v in two.json()["values"]}
    assert figures["1.4.A", "total"]["comment"] == "two workshops"  # kept by PATCH

    three = coordinator.put(
        url("report-values", report.pk),
        {"version": two.json()["version"], "values": [{"indicator": "1.4.A", "value": "9"}]},
        format="json",
    )
    assert three.status_code == 200, three.json()
    assert [(v["indicator"], v["cell"], v["comment"]) for v in three.json()["values"]] == [
        ("1.4.A", "total", "")
    ]
    assert three.json()["activities"] == []


def test_a_read_token_cannot_write(ciudades):
    report = draft(ciudades)
    reader = token_client("coord.ilo.scl", "read")
    response = reader.patch(
        url("report-values", report.pk), values_body(ciudades, report.version), format="json"
    )
    assert response.status_code == 403
    assert "can only read" in response.json()["detail"]
    for action in ("report-submit", "report-approve"):
        assert reader.post(url(action, report.pk), {"version": 1}, format="json").status_code == 403
    assert reader.post(url("reports"), {}, format="json").status_code == 403
    assert ProgressReport.objects.get(pk=report.pk).version == report.version


def test_a_browser_session_writes_only_with_the_csrf_token(ciudades):
    report = draft(ciudades)
    browser = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(user("coord.ilo.scl"))
    body = {"version": report.version, "values": [{"indicator": "1.4.A", "value": "6"}]}
    response = browser.patch(url("report-values", report.pk), body, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    secret = get_random_string(32)
    browser.cookies["csrftoken"] = secret
    response = browser.patch(
        url("report-values", report.pk),
        body,
        content_type="application/json",
        HTTP_X_CSRFTOKEN=secret,
    )
    assert response.status_code == 200, response.json()
    assert (
        IndicatorValue.objects.get(report=report, indicator__code="1.4.A", category=None).value == 6
    )


# ---- refusals ---------------------------------------------------------------------------


def test_bad_figures_are_400_naming_the_field_and_nothing_is_saved(ciudades):
    report = draft(ciudades)
    before = {
        (v.indicator.code, v.category_id): v.value
        for v in report.values.select_related("indicator")
    }
    coordinator = token_client("coord.ilo.scl", "write")
    cases = [
        ([{"indicator": "1.4.A", "value": "-3"}], "values[1].value", "greater than or equal to 0"),
        ([{"indicator": "1.4.A", "value": "lots"}], "values[1].value", "A valid number"),
        ([{"indicator": "1.4.A", "value": "2.5"}], "values[1].value", "whole number"),
        ([{"indicator": "1C", "value": "120"}], "values[1].value", "between 0 and 100"),
        ([{"indicator": "1C", "numerator": "3"}], "values[1].denominator", "give both"),
        (
            [{"indicator": "1C", "numerator": "6", "denominator": "5"}],
            "values[1].numerator",
            "cannot exceed",
        ),
        (
            [{"indicator": "1C", "value": "90", "numerator": "1", "denominator": "2"}],
            "values[1].value",
            "does not match",
        ),
        (
            [{"indicator": "3B", "numerator": "1", "denominator": "2"}],
            "values[1].numerator",
            "for percentages",
        ),
        ([{"indicator": "1.4.A", "cell": "sex=robot", "value": "1"}], "values[1].cell", "no cell"),
        (
            [{"indicator": "9.9.Z", "value": "1"}],
            "values[1].indicator",
            "not one of the indicators",
        ),
        ([{"indicator": "1.4.A", "text": "many"}], "values[1].text", "Text indicators"),
        ([{"indicator": "1.1.C", "value": "2"}], "values[1].value", "1 (yes) or 0 (no)"),
        ([{"indicator": "2A", "value": "3"}], "values[1].cell", "given twice"),
        (
            [{"indicator": "1.4.A", "cell": "sex=female", "value": "1", "comment": "x"}],
            "values[1].comment",
            "a disaggregation cell takes a value only",
        ),
        ([{"value": "1"}], "values[1].indicator", "required"),
    ]
    for items, field, message in cases:
        response = coordinator.patch(
            url("report-values", report.pk),
            {"version": report.version, "values": [{"indicator": "2A", "value": "11"}, *items]},
            format="json",
        )
        assert response.status_code == 400, (items, response.json())
        errors = response.json()["errors"]
        assert field in errors, (items, errors)
        assert any(message in m for m in errors[field]), (items, errors)
    refreshed = ProgressReport.objects.get(pk=report.pk)
    assert refreshed.version == report.version
    after = {
        (v.indicator.code, v.category_id): v.value
        for v in refreshed.values.select_related("indicator")
    }
    assert after == before  # not even the good figure (2A = 11) was written


def test_a_stale_version_is_a_409_and_changes_nothing(ciudades):
    report = draft(ciudades)
    coordinator = token_client("coord.ilo.scl", "write")
    body = {"version": report.version - 1, "values": [{"indicator": "1.4.A", "value": "42"}]}
    response = coordinator.patch(url("report-values", report.pk), body, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "stale"
    assert "it is now at version 1" in response.json()["detail"]
    assert (
        IndicatorValue.objects.get(report=report, indicator__code="1.4.A", category=None).value == 5
    )

    sent = submitted(ciudades, "IOM", "SCL")
    approver = token_client("approver.iom", "write")
    stale = approver.post(url("report-approve", sent.pk), {"version": 1}, format="json")
    assert stale.status_code == 409
    assert ProgressReport.objects.get(pk=sent.pk).status == "submitted"


def test_another_agencys_coordinator_is_refused(ciudades):
    mine = draft(ciudades, "ILO", "SCL")
    done = approved(ciudades, "ILO", "CDMX")
    other = token_client("coord.iom.scl", "write")
    body = {"version": mine.version, "values": [{"indicator": "1.4.A", "value": "1"}]}
    assert other.patch(url("report-values", mine.pk), body, format="json").status_code == 404
    assert (
        other.post(url("report-submit", mine.pk), {"version": 1}, format="json").status_code == 404
    )
    response = other.patch(url("report-values", done.pk), body, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == "Only the coordinator of ILO in CDMX enters this report."
    opened = other.post(
        url("reports"),
        {"programme": "CIUDADES", "period": PERIOD, "agency": "ILO", "city": "SCL"},
        format="json",
    )
    assert opened.status_code == 403
    unknown = other.post(
        url("reports"),
        {"programme": "CIUDADES", "period": PERIOD, "agency": "UNICEF", "city": "LIM"},
        format="json",
    )
    assert unknown.status_code == 400 and {"agency", "city"} <= set(unknown.json()["errors"])
    assert (
        IndicatorValue.objects.get(report=mine, indicator__code="1.4.A", category=None).value == 5
    )


def test_a_closed_period_is_refused_with_the_reason(ciudades):
    report = draft(ciudades)
    ReportingPeriod.objects.filter(programme=ciudades, code=PERIOD).update(reopened_until=None)
    response = token_client("coord.ilo.scl", "write").patch(
        url("report-values", report.pk), {"version": report.version}, format="json"
    )
    assert response.status_code == 403
    assert "is closed; its reports can no longer be edited" in response.json()["detail"]


# ---- approval, return, validation, restatement ------------------------------------------


def test_an_approver_approves_and_the_donor_then_sees_the_figures(ciudades):
    report = submitted(ciudades)
    donor = token_client("donor")
    assert donor.get(url("report", report.pk)).status_code == 404
    response = token_client("approver.ilo", "write").post(
        url("report-approve", report.pk), {"version": report.version}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["approved_by"]) == (
        "approved",
        "approver.ilo",
    )
    assert donor.get(url("report", report.pk)).status_code == 200

    rco = token_client("rco", "write")
    own = token_client("approver.ilo", "write").post(
        url("report-validate", report.pk), {}, format="json"
    )
    assert own.status_code == 403 and own.json()["detail"] == "Only the RCO validates reports."
    validated = rco.post(url("report-validate", report.pk), {}, format="json")
    assert (validated.status_code, validated.json()["validated_by"]) == (200, "rco")
    again = rco.post(url("report-approve", report.pk), {}, format="json")
    assert again.status_code == 403


def test_nobody_approves_what_they_submitted(ciudades):
    both = get_user_model().objects.create_user("both.ilo")
    ilo, scl = Agency.objects.get(code="ILO"), City.objects.get(code="SCL")
    Membership.objects.create(
        user=both, programme=ciudades, role="coordinator", agency=ilo, city=scl
    )
    Membership.objects.create(user=both, programme=ciudades, role="approver", agency=ilo)
    report = draft(ciudades)
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(both)
    assert (
        client.post(url("report-submit", report.pk), {"version": 1}, format="json").status_code
        == 200
    )
    response = client.post(url("report-approve", report.pk), {}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == "You submitted this report; somebody else must approve it."
    assert ProgressReport.objects.get(pk=report.pk).status == "submitted"
    other = token_client("approver.iom", "write")
    assert other.post(url("report-approve", report.pk), {}, format="json").status_code == 404


def test_a_return_needs_a_reason_and_goes_back_to_the_coordinator(ciudades):
    report = submitted(ciudades)
    approver = token_client("approver.ilo", "write")
    for body in ({}, {"reason": "   "}):
        response = approver.post(url("report-return", report.pk), body, format="json")
        assert response.status_code == 400
        assert response.json()["errors"]["reason"] == ["Say why the report is returned."]
    assert ProgressReport.objects.get(pk=report.pk).status == "submitted"
    response = approver.post(
        url("report-return", report.pk),
        {"version": report.version, "reason": "1C: attach the list."},
        format="json",
    )
    assert (response.json()["status"], response.json()["return_reason"]) == (
        "returned",
        "1C: attach the list.",
    )
    seen = token_client("coord.ilo.scl").get(url("report", report.pk)).json()
    assert seen["return_reason"] == "1C: attach the list."
    assert token_client("donor").get(url("report", report.pk)).status_code == 404
    coordinator = token_client("coord.ilo.scl", "write")
    response = coordinator.post(url("report-return", report.pk), {"reason": "x"}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == "Only an approver of ILO returns its reports."


def test_a_restatement_needs_a_reason_and_keeps_the_old_figure(ciudades):
    report = approved(ciudades)
    value = report.values.get(indicator__code="1.4.A", category=None)
    approver = token_client("approver.ilo", "write")
    body = {"version": report.version, "value_id": value.pk, "value": "6"}
    response = approver.post(url("report-restate", report.pk), body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["reason"] == ["A restatement needs a reason."]
    assert IndicatorValue.objects.get(pk=value.pk).value == 5

    bad = approver.post(
        url("report-restate", report.pk), {**body, "value": "6.5", "reason": "typo"}, format="json"
    )
    assert bad.status_code == 400 and "value" in bad.json()["errors"]

    response = approver.post(
        url("report-restate", report.pk), {**body, "reason": "One list was missing."}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["version"] == report.version + 1
    restatement = Restatement.objects.get(value=value)
    assert (restatement.old_value, restatement.new_value, restatement.reason) == (
        5,
        6,
        "One list was missing.",
    )
    by_cell = approver.post(
        url("report-restate", report.pk),
        {
            "version": report.version + 1,
            "indicator": "1.4.A",
            "cell": "total",
            "value": "7",
            "reason": "Again.",
        },
        format="json",
    )
    assert by_cell.status_code == 200, by_cell.json()
    coordinator = token_client("coord.ilo.scl", "write")
    refused = coordinator.post(
        url("report-restate", report.pk), {**body, "reason": "x"}, format="json"
    )
    assert refused.status_code == 403
    assert refused.json()["detail"] == "Only an approver of ILO restates its reports' figures."


# ---- the schema -------------------------------------------------------------------------


def test_the_schema_documents_filters_bodies_and_refusals(client):
    client.force_login(user("donor"))
    schema = client.get(reverse("api:schema"), {"format": "json"}).json()
    paths = schema["paths"]
    listing = paths["/api/v1/reports/"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {
        "programme", "city", "agency", "period", "status", "updated_since", "page", "page_size",
    }  # fmt: skip
    assert set(listing["responses"]) >= {"200", "400", "401", "403", "404"}
    for action in ("submit", "return", "approve", "validate", "restate"):
        post = paths[f"/api/v1/reports/{{id}}/{action}/"]["post"]
        assert set(post["responses"]) >= {"200", "400", "403", "404", "409"}, action
        assert list(post["requestBody"]["content"]) == ["application/json"]
    body = schema["components"]["schemas"]["ReturnInputRequest"]
    assert "reason" in body["required"]
    assert set(paths["/api/v1/reports/{id}/values/"]) >= {"get", "put", "patch"}
    rollups = {p["name"] for p in paths["/api/v1/rollups/"]["get"]["parameters"]}
    assert rollups >= {
        "programme", "indicator", "outcome", "output", "city", "agency", "period",
        "updated_since", "scope", "cell", "latest",
    }  # fmt: skip
    assert Indicator.objects.filter(code="1.4.A").exists()
