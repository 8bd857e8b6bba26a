"""Fifty coordinators at once against gunicorn and the test database (issue 8 §3; DESIGN §10:
no lost update under concurrent edits). The engine is ``monitoring.loadtest``, the same one
``manage.py loadtest`` runs; here it is bounded (12 s of load, 2 workers × 4 threads).

The data is committed (the server reads it from its own connections) and removed at the end.
No timing is asserted: only what the users were told and what the database holds."""

from collections import Counter

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from indicators.models import ProgressReport
from monitoring import loadtest

USERS, PAIRS, SECONDS = 50, 5, 12


@pytest.fixture
def committed_plan(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        assert "test" in str(connection.settings_dict["NAME"]), "must run on the test database"
        try:
            yield loadtest.build(users=USERS, pairs=PAIRS, api_share=0.2, periods=40)
        finally:
            loadtest.remove()


def test_fifty_coordinators_at_once_lose_nothing(committed_plan, django_db_blocker, tmp_path):
    plan = committed_plan
    with django_db_blocker.unblock():
        with loadtest.Server(workers=2, threads=4, log_path=tmp_path / "gunicorn.log") as server:
            server.warm_up()
            outcome = loadtest.run(
                plan,
                server.host,
                server.port,
                seconds=SECONDS,
                baseline_seconds=2,
                server_cpu=server.cpu_seconds,
            )
            log = server.log_problems()
        verdict = loadtest.verify(outcome)
    figures = loadtest.render(outcome, verdict, server=f"test: {connection.vendor}")
    print(figures)  # shown with -s, and by pytest when the test fails
    assert verdict.problems == [], f"{figures}\n\ngunicorn:\n{log}"

    statuses = Counter(s.status for s in outcome.log.samples)
    assert not [code for code in statuses if code >= 500 or code == 0], figures
    # Every refusal was a clear one: a 409 saying the report changed since it was loaded, or a
    # 403 saying it can no longer be edited (the partner submitted it); nothing else.
    assert {w.outcome for w in outcome.log.writes} <= {"ok", "conflict", "refused"}, figures
    for c in plan.coordinators:
        tally = outcome.log.tallies[c.username]
        assert tally.error == ""
        assert tally.saves >= 1 and tally.submits >= 1, (c.username, tally, figures)
    # The pairs met on purpose: both loaded their new report and saved at once from version 0,
    # so in every pair one save was refused as stale, and the other was kept.
    first_quarter = plan.periods[0]
    for pair in range(plan.pairs):
        members = [c for c in plan.coordinators if c.pair == pair]
        slot = (first_quarter, members[0].agency, members[0].city)
        meeting = [w for w in outcome.log.writes if w.slot == slot and w.base == 0]
        assert sorted(w.outcome for w in meeting) == ["conflict", "ok"], (pair, meeting)
    assert verdict.conflicts >= PAIRS
    assert verdict.reports == len({w.slot for w in outcome.log.writes if w.outcome == "ok"})
    submitted = ProgressReport.objects.filter(
        programme__code=loadtest.PROGRAMME, status=ProgressReport.Status.SUBMITTED
    )
    with django_db_blocker.unblock():
        assert submitted.count() == verdict.submitted > 0
    assert outcome.log.samples and all(s.seconds > 0 for s in outcome.log.samples)
    for kind in ("page", "save", "submit", "api_save", "api_submit"):
        assert loadtest.latencies(outcome, "load", (kind,)), f"no {kind} requests"
        assert loadtest.latencies(outcome, "baseline", (kind,)), f"no {kind} alone"


@pytest.fixture
def small_plan(db):
    return loadtest.build(users=2, pairs=1, api_share=0, periods=2)


def test_the_check_sees_a_lost_update_and_a_refusal_without_reason(small_plan):
    """The checker is not vacuous: two saves acknowledged from the same version, a figure that
    is not the last acknowledged one, a submission that did not happen, an unclear refusal."""
    plan = small_plan
    a, b = plan.coordinators
    slot = (plan.periods[0], a.agency, a.city)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(User.objects.get(username=a.username))
    session = loadtest.Session(plan, a, browser=None, log=loadtest.Log())
    url = session.page_url(plan.periods[0])
    page = loadtest.parse_page(client.get(url).content.decode())
    assert page.version == 0 and page.csrf
    form, cells = session.page_form(7, page, "save")
    assert client.post(url, form).status_code == 302

    def write(user, base, cells, outcome="ok", action="save", status=302):
        return loadtest.Write(user, slot, "page", action, base, cells, status, outcome)

    log = loadtest.Log()
    other = dict(cells)
    other[("value", plan.indicators[0].code, "total")] = "1"
    log.writes = [
        write(a.username, 0, cells),
        write(b.username, 0, other),  # acknowledged from the same version: a lost update
        write(b.username, 1, {}, action="submit"),  # acknowledged, but the report is a draft
        write(b.username, 1, cells, outcome="failed", status=403),  # a refusal saying nothing
    ]
    outcome = loadtest.Outcome(plan, log, 1, 1, 1, 1)
    problems = "\n".join(loadtest.verify(outcome).problems)
    assert "lost update: saves from the same version [0]" in problems
    assert "at version 1 after 3 acknowledged saves" not in problems  # a failed write: unknown
    assert "submission acknowledged to loadtest.002, but the report is draft" in problems
    assert "page save" in problems and "403" in problems

    log.writes = [write(a.username, 0, other)]
    problems = "\n".join(loadtest.verify(loadtest.Outcome(plan, log, 1, 1, 1, 1)).problems)
    assert "value/L1/total: holds '700', the last acknowledged save sent '1'" in problems
    log.writes = [write(a.username, 0, cells)]
    assert loadtest.verify(loadtest.Outcome(plan, log, 1, 1, 1, 1)).problems == []


def test_a_coordinator_whose_partner_submitted_is_told_why(small_plan):
    """Two coordinators of one report: the second submits while the first has the page open.
    The first one's save is refused (403) on the report page with the reason, not a bare
    error page, and nothing they sent is written."""
    plan = small_plan
    first, second = (Client(HTTP_ACCEPT_LANGUAGE="en") for _ in range(2))
    a, b = plan.coordinators
    first.force_login(User.objects.get(username=a.username))
    second.force_login(User.objects.get(username=b.username))
    session_a = loadtest.Session(plan, a, browser=None, log=loadtest.Log())
    session_b = loadtest.Session(plan, b, browser=None, log=loadtest.Log())
    url = session_a.page_url(plan.periods[0])
    page_a = loadtest.parse_page(first.get(url).content.decode())
    page_b = loadtest.parse_page(second.get(url).content.decode())
    form_b, _cells = session_b.page_form(1, page_b, "submit")
    assert second.post(url, form_b).status_code == 302
    report = ProgressReport.objects.get(programme__code=loadtest.PROGRAMME)
    assert report.status == "submitted"

    form_a, _cells = session_a.page_form(2, page_a, "save")
    response = first.post(url, form_a)
    assert response.status_code == 403
    text = response.content.decode()
    assert "This report is submitted and can no longer be edited." in text
    assert 'id="report-status"' in text  # the report page, read-only, not an error page
    after = ProgressReport.objects.get(pk=report.pk)
    assert (after.status, after.version, after.narrative_en) == ("submitted", 1, "written 1")

    # Somebody outside the slot still gets the plain refusal.
    outsider = User.objects.create_user("loadtest.outsider")
    intruder = Client(HTTP_ACCEPT_LANGUAGE="en")
    intruder.force_login(outsider)
    assert intruder.post(url, form_a).status_code in (403, 404)
