"""The workflow of a quarterly report: submit → return with a reason → resubmit → approve →
validate, separation of duties, the lock after the period closes, restatement with a reason,
stale workflow actions, and the audit trail shown on the report."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import reverse

from indicators import services
from indicators.models import IndicatorValue, ProgressReport, Restatement, Rollup
from monitoring.models import AuditEvent, Membership, ReportingPeriod

from .report_fixtures import PERIOD, enter, login, report_url, scope_indicators

pytestmark = pytest.mark.django_db


def user(name):
    return get_user_model().objects.get(username=name)


def the_report() -> ProgressReport:
    return ProgressReport.objects.get(
        programme__code="CIUDADES", period__code=PERIOD, agency__code="ILO", city__code="SCL"
    )


@pytest.fixture
def submitted(client, ciudades):
    """ILO Santiago's 2023-Q2 report, submitted by its coordinator."""
    login(client, user("coord.ilo.scl"))
    enter(client, scope_indicators(ciudades), version=0, action="submit")
    client.logout()
    return the_report()


def post(client, who, action, data=None):
    login(client, user(who))
    response = client.post(report_url(action=action), data or {})
    client.logout()
    return response


def test_the_whole_flow_with_return_and_the_audit_trail(
    client, ciudades, submitted, django_capture_on_commit_callbacks
):
    indicators = scope_indicators(ciudades)
    v = submitted.version

    # a return needs a reason; without one nothing changes
    response = post(client, "approver.ilo", "return", {"version": v, "reason": "  "})
    assert response.status_code == 302
    assert the_report().status == "submitted"

    post(client, "approver.ilo", "return", {"version": v, "reason": "1C: attach the list."})
    report = the_report()
    assert (report.status, report.return_reason) == ("returned", "1C: attach the list.")

    login(client, user("coord.ilo.scl"))
    page = client.get(report_url()).content.decode()
    assert "Returned for correction:" in page and "1C: attach the list." in page
    enter(client, indicators, version=report.version, action="submit")
    client.logout()
    assert the_report().status == "submitted"

    with django_capture_on_commit_callbacks(execute=True):
        post(client, "approver.ilo", "approve", {"version": the_report().version})
    report = the_report()
    assert (report.status, report.approved_by.username) == ("approved", "approver.ilo")
    count = next(i for i in indicators if i.measure == "count")
    rollup = Rollup.objects.get(
        indicator=count,
        period__code=PERIOD,
        scope=Rollup.Scope.CITY_AGENCY,
        city__code="SCL",
        agency__code="ILO",
        category=None,
    )
    assert rollup.actual == Decimal(5)

    post(client, "rco", "validate", {"version": report.version})
    report = the_report()
    assert (report.status, report.validated_by.username) == ("validated", "rco")

    actions = list(
        AuditEvent.objects.filter(object_id=str(report.pk), object_type="indicators.progressreport")
        .order_by("at", "id")
        .values_list("action", "actor__username", "reason")
    )
    assert actions == [
        ("report.submit", "coord.ilo.scl", ""),
        ("report.return", "approver.ilo", "1C: attach the list."),
        ("report.submit", "coord.ilo.scl", ""),
        ("report.approve", "approver.ilo", ""),
        ("report.validate", "rco", ""),
    ]
    login(client, user("coord.ilo.scl"))
    history = client.get(report_url()).content.decode()
    history = history[history.index('id="audit"') :]
    for label in ("submitted", "returned for correction", "approved", "validated"):
        assert label in history
    assert "Marta Quiroga" in history and "Elena Rivas" in history


def test_nobody_approves_what_they_submitted(client, ciudades):
    both = get_user_model().objects.create_user("both.ilo")
    for role, city in (("coordinator", "SCL"), ("approver", None)):
        Membership.objects.create(
            user=both,
            programme=ciudades,
            role=role,
            agency=ciudades.agencies.get(code="ILO"),
            city=ciudades.cities.get(code=city) if city else None,
        )
    login(client, both)
    enter(client, scope_indicators(ciudades), version=0, action="submit")
    page = client.get(report_url()).content.decode()
    assert "You submitted this report; another approver of your agency must approve it." in page
    assert client.post(report_url(action="approve"), {"version": 2}).status_code == 403
    with pytest.raises(ValidationError, match="You submitted this report"):
        services.report_approve(report=the_report(), actor=both)
    assert the_report().status == "submitted"


def test_the_approver_cannot_validate_and_the_rco_cannot_approve(client, submitted):
    assert post(client, "rco", "approve", {"version": submitted.version}).status_code == 403
    post(client, "approver.ilo", "approve", {"version": submitted.version})
    assert (
        post(client, "approver.ilo", "validate", {"version": the_report().version}).status_code
        == 403
    )
    assert the_report().status == "approved"


def test_a_stale_workflow_action_changes_nothing(client, submitted):
    login(client, user("approver.ilo"))
    response = client.post(
        report_url(action="approve"), {"version": submitted.version - 1}, follow=True
    )
    assert the_report().status == "submitted"
    assert "The report changed since you opened it." in response.content.decode()


def close(period_code=PERIOD):
    ReportingPeriod.objects.filter(programme__code="CIUDADES", code=period_code).update(
        reopened_until=None
    )


def test_after_the_period_closes_the_report_is_locked(client, ciudades):
    login(client, user("coord.ilo.scl"))
    indicators = scope_indicators(ciudades)
    enter(client, indicators, version=0)
    close()
    page = client.get(report_url()).content.decode()
    assert "the period is closed" in page
    assert 'id="report-form"' not in page
    response = client.post(report_url(), {"version": 1, "action": "save"})
    assert response.status_code == 403
    with pytest.raises(ValidationError, match="is closed; its reports can no longer be edited"):
        services.report_save(
            programme=ciudades,
            period=ReportingPeriod.objects.get(programme=ciudades, code=PERIOD),
            agency=ciudades.agencies.get(code="ILO"),
            city=ciudades.cities.get(code="SCL"),
            expected_version=1,
            entries=[],
            narrative_es="",
            narrative_en="",
            actor=user("coord.ilo.scl"),
        )


def test_grace_days_and_reopening_decide_when_a_period_closes(ciudades):
    from indicators.permissions import period_closes_on, period_is_closed

    period = ReportingPeriod.objects.get(programme=ciudades, code="2022-Q1")
    assert ciudades.grace_days == 15
    assert period_closes_on(period, ciudades) == period.due_date + dt.timedelta(days=15)
    assert not period_is_closed(period, ciudades, today=period.due_date + dt.timedelta(days=15))
    assert period_is_closed(period, ciudades, today=period.due_date + dt.timedelta(days=16))
    period.reopened_until = dt.date(2030, 1, 1)
    assert not period_is_closed(period, ciudades, today=dt.date(2029, 12, 31))
    period.status = ReportingPeriod.Status.LOCKED
    assert period_is_closed(period, ciudades, today=dt.date(2029, 12, 31))


def test_after_closing_a_submitted_report_can_be_approved_but_not_returned(client, submitted):
    close()
    response = post(client, "approver.ilo", "return", {"version": submitted.version, "reason": "x"})
    assert response.status_code == 403
    post(client, "approver.ilo", "approve", {"version": submitted.version})
    assert the_report().status == "approved"


def test_restatement_keeps_the_old_figure_and_reason_and_asks_for_revalidation(
    client, ciudades, submitted, django_capture_on_commit_callbacks
):
    post(client, "approver.ilo", "approve", {"version": submitted.version})
    post(client, "rco", "validate", {"version": the_report().version})
    close()  # restatement is how a closed period's figure changes
    count = next(i for i in scope_indicators(ciudades) if i.measure == "count")
    report = the_report()
    cell = f"{count.pk}:total"

    response = post(
        client,
        "approver.ilo",
        "restate",
        {"version": report.version, "cell": cell, "value": "8", "reason": ""},
    )
    assert response.status_code == 400
    assert "A restatement needs a reason." in response.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            client,
            "approver.ilo",
            "restate",
            {
                "version": report.version,
                "cell": cell,
                "value": "8",
                "reason": "Duplicate list removed.",
            },
        )
    assert response.status_code == 302
    value = IndicatorValue.objects.get(report=report, indicator=count, category=None)
    assert value.value == 8
    restatement = Restatement.objects.get(value=value)
    assert (restatement.old_value, restatement.new_value, restatement.reason) == (
        Decimal(5),
        Decimal(8),
        "Duplicate list removed.",
    )
    report = the_report()
    assert report.status == "approved" and report.validated_by is None
    event = AuditEvent.objects.get(action="value.restate")
    assert event.old_value == {count.code: "5"} and event.new_value == {count.code: "8"}
    rollup = Rollup.objects.get(
        indicator=count,
        period__code=PERIOD,
        scope=Rollup.Scope.CITY_AGENCY,
        city__code="SCL",
        agency__code="ILO",
        category=None,
    )
    assert rollup.actual == Decimal(8)
    login(client, user("donor"))
    page = client.get(report_url()).content.decode()
    assert "Restated on" in page and "5 → 8" in page and "Duplicate list removed." in page


def test_restating_to_the_same_figure_or_a_bad_one_is_refused(client, ciudades, submitted):
    post(client, "approver.ilo", "approve", {"version": submitted.version})
    indicators = scope_indicators(ciudades)
    count = next(i for i in indicators if i.measure == "count")
    pct = next(i for i in indicators if i.measure == "percent")
    v = the_report().version
    same = post(
        client,
        "approver.ilo",
        "restate",
        {"version": v, "cell": f"{count.pk}:total", "value": "5", "reason": "r"},
    )
    assert f"{count.code}: the new figure is the same as the approved one." in same.content.decode()
    bad = post(
        client,
        "approver.ilo",
        "restate",
        {"version": v, "cell": f"{pct.pk}:total", "value": "140", "reason": "r"},
    )
    assert f"{pct.code}: a percentage must be between 0 and 100." in bad.content.decode()
    assert not Restatement.objects.exists()
    assert the_report().version == v


def test_the_indicators_history_shows_each_step_to_those_who_may_see_it(
    client, ciudades, submitted
):
    count = next(i for i in scope_indicators(ciudades) if i.measure == "count")
    post(
        client, "approver.ilo", "return", {"version": submitted.version, "reason": "Add the list."}
    )
    login(client, user("coord.ilo.scl"))
    enter(client, scope_indicators(ciudades), version=the_report().version, action="submit")
    client.logout()
    post(client, "approver.ilo", "approve", {"version": the_report().version})
    post(
        client,
        "approver.ilo",
        "restate",
        {
            "version": the_report().version,
            "cell": f"{count.pk}:total",
            "value": "6",
            "reason": "Typo.",
        },
    )
    url = reverse("dashboards:indicator", args=["CIUDADES", count.code])

    def history(who):
        login(client, user(who))
        page = client.get(url).content.decode()
        section = page[page.index('id="history"') : page.index("Source values")]
        return [row.split('"')[0] for row in section.split('class="history-')[1:]], section

    rows, section = history("rco")
    assert rows == ["valuerestate", "reportapprove", "reportsubmit", "reportreturn", "reportsubmit"]
    assert "<td>5</td><td>6</td><td>Typo.</td>" in section
    assert "Add the list." in section
    rows, _ = history("donor")
    assert rows == ["valuerestate", "reportapprove"]
    rows, _ = history("coord.iom.scl")
    assert rows == ["valuerestate", "reportapprove"]  # another agency's report: approved steps only
