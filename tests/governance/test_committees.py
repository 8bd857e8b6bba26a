"""Committees and meetings: recording a meeting with the institutions that took part, its
decisions and follow-up actions; updating an action (its own agency only; a stale page gets
409); the governance page with meetings per year against those expected and the overdue
actions; refusals named on their field; donors, outsiders and other programmes."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from governance import services
from governance.models import Committee, Decision, Meeting, MeetingAction
from monitoring.models import Agency

from .conftest import TODAY, user

pytestmark = pytest.mark.django_db


def url(name: str, *args) -> str:
    return reverse(f"governance:{name}", args=["CIUDADES", *args])


def meeting_data(**changes) -> dict:
    data = {
        "held_on": "2023-03-15",
        "summary_es": "Revisión de la planificación anual",
        "summary_en": "Review of the annual plan",
        "participants": "SIBISO: 3\nSTyFE\nOIT: 2",
        "minutes_url": "",
        "shareable": "on",
    }
    data.update(changes)
    return data


def update_data(action: MeetingAction, **changes) -> dict:
    prefix = f"a{action.pk}-"
    data = {
        "version": action.version,
        "status": action.status,
        "due_on": action.due_on.isoformat(),
        "completed_on": "",
        "progress_note": "",
    }
    data.update(changes)
    return {prefix + k: v for k, v in data.items()}


def test_an_agency_records_a_meeting_with_its_participants(browser, committee):
    response = browser("approver.iom").post(url("meeting_add", "CCB-T"), meeting_data())
    assert response.status_code == 302
    meeting = Meeting.objects.get(committee=committee)
    assert response["Location"] == url("meeting", meeting.pk)
    assert meeting.recorded_by == user("approver.iom")
    assert [(p.institution, p.people) for p in meeting.participants.all()] == [
        ("SIBISO", 3),
        ("STyFE", None),
        ("OIT", 2),
    ]
    page = browser("coord.ilo.cdmx").get(url("meeting", meeting.pk)).content.decode()
    assert "SIBISO · 3 people" in page and "STyFE" in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"held_on": "2999-01-01"}, "Held on: Record a meeting once it has been held"),
        (
            {"participants": "SIBISO\nsibiso: 2"},
            "Participating institutions: “sibiso” is listed twice.",
        ),
        (
            {"participants": "SIBISO: many"},
            "Participating institutions: Line 1: write the institution",
        ),
        ({"participants": ""}, "Participating institutions: This field is required."),
        (
            {"summary_es": "", "summary_en": ""},
            "Summary (Spanish): Summarise the meeting in Spanish or English.",
        ),
        ({"held_on": "15.03.23x"}, "Held on: Enter a valid date."),
    ],
)
def test_a_bad_meeting_is_refused_on_its_field_and_nothing_is_written(
    browser, committee, changes, message
):
    response = browser("rco").post(url("meeting_add", "CCB-T"), meeting_data(**changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Meeting.objects.filter(committee=committee).exists()


def test_decisions_and_actions_are_added_to_the_meeting(browser, meeting):
    client = browser("coord.ilo.scl")
    response = client.post(
        url("decision_add", meeting.pk), {"text_es": "Aprobar el plan", "text_en": ""}
    )
    assert response.status_code == 302
    decision = Decision.objects.get(meeting=meeting)
    action = {
        "description_es": "Circular el plan aprobado",
        "description_en": "Circulate the approved plan",
        "decision": decision.pk,
        "owner_agency": Agency.objects.get(code="ILO").pk,
        "owner": "",
        "due_on": "2022-07-31",
    }
    assert client.post(url("action_add", meeting.pk), action).status_code == 302
    added = MeetingAction.objects.get(meeting=meeting)
    assert (added.decision, added.owner_agency.code, added.status) == (decision, "ILO", "planned")
    early = client.post(url("action_add", meeting.pk), action | {"due_on": "2022-01-01"})
    assert early.status_code == 400
    assert (
        "Due date: The due date cannot be before the meeting (2022-05-10)."
        in early.content.decode()
    )
    nobody = client.post(url("action_add", meeting.pk), action | {"owner_agency": ""})
    assert "Responsible agency: Say who is responsible" in nobody.content.decode()
    donor_owner = client.post(url("action_add", meeting.pk), action | {"owner": user("donor").pk})
    assert "Responsible person: Select a valid choice" in donor_owner.content.decode()
    empty = client.post(url("decision_add", meeting.pk), {"text_es": "", "text_en": " "})
    assert "Decision (Spanish): Write the decision in Spanish or English." in empty.content.decode()
    assert MeetingAction.objects.filter(meeting=meeting).count() == 1
    assert Decision.objects.filter(meeting=meeting).count() == 1


def test_the_owner_agency_updates_its_action_and_marks_it_done(browser, iom_action):
    data = update_data(iom_action, status="done", progress_note="Minutes sent")
    response = browser("approver.iom").post(url("action_update", iom_action.pk), data)
    assert response.status_code == 302
    iom_action.refresh_from_db()
    assert (iom_action.status, iom_action.completed_on, iom_action.version) == (
        "done",
        timezone.localdate(),
        2,
    )
    assert iom_action.updated_by == user("approver.iom")


def test_another_agency_may_not_update_the_action(browser, iom_action):
    client = browser("coord.ilo.scl")
    page = client.get(url("meeting", iom_action.meeting_id))
    assert page.context["rows"][0]["form"] is None  # no update form offered
    response = client.post(
        url("action_update", iom_action.pk), update_data(iom_action, status="done")
    )
    assert response.status_code == 403
    iom_action.refresh_from_db()
    assert iom_action.status == "planned"


def test_a_stale_update_is_refused_with_409_and_nothing_is_saved(browser, iom_action):
    opened = update_data(iom_action, status="cancelled")
    first = update_data(iom_action, status="in_progress", progress_note="Drafting")
    assert browser("rco").post(url("action_update", iom_action.pk), first).status_code == 302
    response = browser("approver.iom").post(url("action_update", iom_action.pk), opened)
    assert response.status_code == 409
    assert "Somebody updated this action after you opened the page" in response.content.decode()
    assert "it is now “in progress”" in response.content.decode()
    iom_action.refresh_from_db()
    assert (iom_action.status, iom_action.version, iom_action.progress_note) == (
        "in_progress",
        2,
        "Drafting",
    )


def test_a_completion_date_in_the_future_is_refused(browser, iom_action):
    future = (timezone.localdate() + dt.timedelta(days=5)).isoformat()
    data = update_data(iom_action, status="done", completed_on=future)
    response = browser("approver.iom").post(url("action_update", iom_action.pk), data)
    assert response.status_code == 400
    assert "Completed on: The completion date cannot be in the future." in response.content.decode()
    iom_action.refresh_from_db()
    assert iom_action.status == "planned"


def test_the_governance_page_sets_meetings_per_year_against_those_expected(
    browser, loaded, committee, meeting, iom_action
):
    services.meeting_record(
        committee=committee,
        actor=None,
        held_on=dt.date(2022, 11, 3),
        summary_es="Cierre",
        summary_en="Closing",
        participants=[("OIM", None)],
        today=TODAY,
    )
    response = browser("rco").get(url("committees"))
    rows = {row.committee.code: row for row in response.context["rows"]}
    test = rows["CCB-T"]
    # the programme ran Nov 2020 - May 2023: two months of 2020, five of 2023, pro rata
    assert [(y.year, y.months, y.held, y.expected, y.short) for y in test.years] == [
        (2020, 2, 0, 1, True),
        (2021, 12, 0, 4, True),
        (2022, 12, 2, 4, True),
        (2023, 5, 0, 2, True),
    ]
    assert (test.last_meeting, test.open_actions, test.overdue_actions) == (
        dt.date(2022, 11, 3),
        1,
        1,
    )
    # the loaded bodies: the binational committee is expected once a year and has no meeting
    # on record (the sources give no date); the municipal coordination met on 2 August 2021
    assert [(y.year, y.held, y.short) for y in rows["CCB"].years][1:3] == [
        (2021, 0, True),
        (2022, 0, True),
    ]
    assert rows["MUNI-SCL"].years[1].held == 1 and rows["MUNI-SCL"].years[1].expected is None
    html = response.content.decode()
    assert "2022: 2 of 4 expected" in html
    assert "2021: 1 (no number expected)" in html
    assert '2020: 0 of 1 expected <span class="small">(2 months)</span>' in html
    assert [a.pk for a in response.context["overdue"]] == [iom_action.pk]
    assert "Send the minutes to the counterparts" in html


def test_donors_see_shareable_meetings_only_and_may_not_record(browser, committee, meeting):
    client = browser("donor")
    assert client.get(url("meeting", meeting.pk)).status_code == 200
    Meeting.objects.filter(pk=meeting.pk).update(shareable=False)
    assert client.get(url("meeting", meeting.pk)).status_code == 404
    assert client.get(url("committee", "CCB-T")).context["meetings"] == []
    assert browser("rco").get(url("committee", "CCB-T")).context["meetings"] == [meeting]
    Committee.objects.filter(pk=committee.pk).update(shareable=False)
    assert client.get(url("committee", "CCB-T")).status_code == 404
    Committee.objects.filter(pk=committee.pk).update(shareable=True)
    assert client.post(url("meeting_add", "CCB-T"), meeting_data()).status_code == 403
    assert Meeting.objects.filter(committee=committee).count() == 1


def test_donors_do_not_read_progress_notes(browser, iom_action):
    MeetingAction.objects.filter(pk=iom_action.pk).update(
        progress_note="Internal: waiting for IOM legal"
    )
    assert (
        "waiting for IOM legal"
        in browser("rco").get(url("meeting", iom_action.meeting_id)).content.decode()
    )
    assert (
        "waiting for IOM legal"
        not in browser("donor").get(url("meeting", iom_action.meeting_id)).content.decode()
    )
    assert (
        browser("donor")
        .post(url("action_update", iom_action.pk), update_data(iom_action))
        .status_code
        == 403
    )


def test_outsiders_and_other_programmes_get_404(
    browser, outsider, other_programme_admin, iom_action
):
    for person in (outsider, other_programme_admin):
        client = browser(person)
        for page in (
            url("committees"),
            url("committee", "CCB-T"),
            url("meeting", iom_action.meeting_id),
        ):
            assert client.get(page).status_code == 404
        assert (
            client.post(url("action_update", iom_action.pk), update_data(iom_action)).status_code
            == 404
        )
    assert browser("rco").get(url("meeting", 999999)).status_code == 404
