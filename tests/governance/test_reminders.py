"""Overdue reminders of meeting actions: sent once per due date to the responsible person and
the approvers of the responsible agency (the RCO when nobody else has an address), in Spanish
and English with the meeting's link; none for closed actions; one more when the due date is
moved and the new date passes; the Celery task runs the same service."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from governance.models import MeetingAction
from governance.reminders import send_overdue_action_reminders
from governance.tasks import send_overdue_action_reminders as reminder_task
from monitoring.followup import action_update, reminder_recipients

from .conftest import TODAY, user

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_emails(db) -> None:
    for person in get_user_model().objects.filter(memberships__programme__code="CIUDADES"):
        person.email = f"{person.username}@example.org"
        person.save(update_fields=["email"])


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    def run(today: dt.date) -> list[MeetingAction]:
        with django_capture_on_commit_callbacks(execute=True):
            return send_overdue_action_reminders(today)

    return run


def test_an_overdue_action_reminds_its_agency_once(iom_action, with_emails, send):
    assert [a.pk for a in send(TODAY)] == [iom_action.pk]
    (message,) = mail.outbox
    assert message.to == ["approver.iom@example.org"]
    assert message.subject.startswith("[CIUDADES] Acción vencida el 30/06/2022")
    assert "Action overdue since 30 June 2022" in message.subject
    assert "Acción: Enviar el acta a las contrapartes" in message.body
    assert "Action: Send the minutes to the counterparts" in message.body
    assert f"/programmes/CIUDADES/governance/meetings/{iom_action.meeting_id}/" in message.body
    iom_action.refresh_from_db()
    assert iom_action.overdue_reminded_for == dt.date(2022, 6, 30)
    # a second run, the same day or later, sends nothing more
    assert send(TODAY) == []
    assert send(TODAY + dt.timedelta(days=1)) == []
    assert len(mail.outbox) == 1


def test_moving_the_due_date_lets_one_more_reminder_go(iom_action, with_emails, send):
    send(TODAY)
    moved = action_update(
        iom_action,
        actor=user("approver.iom"),
        expected_version=1,
        programme=iom_action.meeting.committee.programme,
        changes={"due_on": dt.date(2026, 4, 1)},
        today=TODAY,
    )
    assert send(dt.date(2026, 4, 1)) == []  # due today: not overdue yet
    assert [a.pk for a in send(dt.date(2026, 4, 2))] == [moved.pk]
    assert len(mail.outbox) == 2
    assert send(dt.date(2026, 4, 3)) == []


def test_closed_actions_remind_nobody(iom_action, with_emails, send):
    MeetingAction.objects.filter(pk=iom_action.pk).update(
        status="done", completed_on=dt.date(2022, 6, 1)
    )
    assert send(TODAY) == []
    assert mail.outbox == []


def test_the_responsible_person_is_told_and_the_rco_when_nobody_else_has_an_address(
    iom_action, send
):
    assert reminder_recipients(iom_action, iom_action.meeting.committee.programme) == []
    assert send(TODAY) == []  # nobody to tell: not claimed, so it goes once somebody can
    iom_action.refresh_from_db()
    assert iom_action.overdue_reminded_for is None
    rco = user("rco")
    rco.email = "rco@example.org"
    rco.save(update_fields=["email"])
    assert reminder_recipients(iom_action, iom_action.meeting.committee.programme) == [
        "rco@example.org"
    ]
    coordinator = user("coord.iom.cdmx")
    coordinator.email = "coord.iom.cdmx@example.org"
    coordinator.save(update_fields=["email"])
    MeetingAction.objects.filter(pk=iom_action.pk).update(owner=coordinator)
    send(TODAY)
    (message,) = mail.outbox
    assert message.to == ["coord.iom.cdmx@example.org"]


def test_the_celery_task_sends_through_the_same_claim(
    iom_action, with_emails, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert reminder_task() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert reminder_task() == 0
    assert len(mail.outbox) == 1
