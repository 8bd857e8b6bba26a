"""The management-response workflow end to end: the RCO responds to recommendation 1, the
ILO coordinator in Santiago adds an action for ILO with herself as owner, the action goes
overdue and she is reminded once (in Spanish and English) however often beat runs; moving the
due date sends one new reminder when the new date passes; a done action is not reminded.
Without an owner, the owner agency's coordinators and approvers are reminded."""

import datetime as dt
import logging

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from knowledge.models import ManagementResponse, ResponseAction
from knowledge.reminders import send_overdue_action_reminders
from knowledge.tasks import send_overdue_action_reminders as reminder_task
from monitoring.models import AuditEvent

from .conftest import DUE, action_url, person, rec_url, signed_in

pytestmark = pytest.mark.django_db

SITE = "https://conjunto.example.org"
LINK = f"{SITE}/programmes/CIUDADES/knowledge/evaluations/FINAL-2023/recommendations/1/"


@pytest.fixture
def remind(django_capture_on_commit_callbacks):
    """Run the service as beat does, sending the e-mails its claims queue on commit."""

    def run(today: dt.date) -> list[ResponseAction]:
        with django_capture_on_commit_callbacks(execute=True):
            return send_overdue_action_reminders(today)

    return run


def day(n: int) -> dt.date:
    return DUE + dt.timedelta(days=n)


@override_settings(SITE_URL=SITE)
def test_response_then_action_then_one_overdue_reminder(evaluation, with_emails, remind):
    rco = signed_in("rco")
    answered = rco.post(rec_url("respond"), {"decision": "accepted", "comment_en": "Agreed."})
    assert answered.status_code == 302
    response = ManagementResponse.objects.get(recommendation__number=1)
    assert (response.decision, response.comment_en, response.responded_by) == (
        "accepted",
        "Agreed.",
        person("rco"),
    )

    coordinator = person("coord.ilo.scl")
    added = signed_in("coord.ilo.scl").post(
        rec_url("action_add"),
        {
            "description_es": "Definir el protocolo de actualización",
            "description_en": "Define the update protocol",
            "owner_agency": "ILO",
            "owner": coordinator.pk,
            "due_on": DUE.isoformat(),
        },
    )
    action = ResponseAction.objects.get(response=response)
    assert added.status_code == 302 and added["Location"].endswith(f"#action-{action.pk}")
    assert (action.owner, action.owner_agency.code, action.due_on, action.status) == (
        coordinator,
        "ILO",
        DUE,
        "planned",
    )
    assert list(
        AuditEvent.objects.filter(action__startswith="knowledge.").values_list("action", flat=True)
    ) == ["knowledge.action.add", "knowledge.response.save"]

    assert remind(DUE) == []  # due today: not overdue yet
    assert [a.pk for a in remind(day(1))] == [action.pk]
    assert [m.to for m in mail.outbox] == [["coord.ilo.scl@example.org"]]
    message = mail.outbox[0]
    assert message.subject == (
        "[CIUDADES] Acción atrasada, recomendación 1: venció el 31/03/2027 · "
        "Overdue action, recommendation 1: was due 31 March 2027"
    )
    assert "venció el 31/03/2027 y aún no está terminada: 1 día de atraso" in message.body
    assert "was due on 31 March 2027 and is not finished: 1 day overdue" in message.body
    assert "Acción: Definir el protocolo de actualización" in message.body
    assert "Action: Define the update protocol" in message.body
    assert LINK in message.body

    assert remind(day(1)) == []  # run twice the same day
    assert remind(day(9)) == []  # and on later days
    assert len(mail.outbox) == 1

    moved = signed_in("coord.ilo.scl").post(
        action_url("action_edit", action),
        {
            "description_es": action.description_es,
            "description_en": action.description_en,
            "owner_agency": "ILO",
            "owner": coordinator.pk,
            "due_on": day(20).isoformat(),
            "version": action.version,
        },
    )
    assert moved.status_code == 302
    assert remind(day(15)) == []  # the new date has not passed
    assert [a.pk for a in remind(day(21))] == [action.pk]
    assert remind(day(22)) == []
    assert len(mail.outbox) == 2
    assert "20 April 2027" in mail.outbox[1].subject

    action.refresh_from_db()
    signed_in("coord.ilo.scl").post(
        action_url("action_status", action), {"status": "done", "version": action.version}
    )
    action.refresh_from_db()
    assert action.status == "done" and action.completed_on is not None
    action.due_on = day(25)  # even with a new past date, a done action owes nothing
    action.save(update_fields=["due_on"])
    assert remind(day(40)) == []
    assert len(mail.outbox) == 2


def test_without_an_owner_the_agencys_people_are_reminded(ilo_action, with_emails, remind):
    assert [a.pk for a in remind(day(3))] == [ilo_action.pk]
    assert [sorted(m.to) for m in mail.outbox] == [
        ["approver.ilo@example.org", "coord.ilo.cdmx@example.org", "coord.ilo.scl@example.org"]
    ]


def test_nobody_with_an_address_leaves_the_reminder_owed(ilo_action, remind, caplog):
    with caplog.at_level(logging.WARNING, logger="monitoring.followup"):
        assert remind(day(3)) == []
    assert f"Overdue responseaction {ilo_action.pk}: nobody to tell." in caplog.text
    ilo_action.refresh_from_db()
    assert ilo_action.overdue_reminded_for is None
    assert mail.outbox == []
    approver = person("approver.ilo")
    approver.email = "approver.ilo@example.org"
    approver.save(update_fields=["email"])
    assert [a.pk for a in remind(day(4))] == [ilo_action.pk]
    assert [m.to for m in mail.outbox] == [["approver.ilo@example.org"]]


def test_cancelled_and_done_actions_are_not_reminded(ilo_action, with_emails, remind):
    ResponseAction.objects.filter(pk=ilo_action.pk).update(status="cancelled")
    assert remind(day(3)) == []
    ResponseAction.objects.filter(pk=ilo_action.pk).update(status="done", completed_on=DUE)
    assert remind(day(3)) == []
    assert mail.outbox == []


def test_the_daily_task_sends_todays_reminders_once(
    ilo_action, with_emails, django_capture_on_commit_callbacks
):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    ResponseAction.objects.filter(pk=ilo_action.pk).update(due_on=yesterday)
    with django_capture_on_commit_callbacks(execute=True):
        assert reminder_task.delay().get() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert reminder_task.delay().get() == 0
    assert len(mail.outbox) == 1
