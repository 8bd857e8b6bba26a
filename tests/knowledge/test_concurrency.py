"""No lost update: two people open the same action; the first saves; the second's save is
refused with a 409 that shows what the first saved, and their input stays in the form at the
new version, so saving again replaces it knowingly. The same on the edit page and for the
response."""

import pytest

from knowledge import services
from knowledge.models import ResponseAction

from .conftest import DUE, action_url, person, rec_url, signed_in

pytestmark = pytest.mark.django_db


def test_a_stale_status_change_gets_409_with_the_other_persons_values(ilo_action):
    approver, coordinator = signed_in("approver.ilo"), signed_in("coord.ilo.scl")
    first = approver.post(
        action_url("action_status", ilo_action),
        {
            "status": "done",
            "progress_note": "Protocolo aprobado por la municipalidad",
            "version": 1,
        },
    )
    assert first.status_code == 302

    late = coordinator.post(
        action_url("action_status", ilo_action),
        {"status": "in_progress", "progress_note": "Borrador enviado", "version": 1},
    )
    assert late.status_code == 409
    body = late.content.decode()
    assert "Not saved: somebody else saved this action after you opened the page." in body
    assert "Saved by Marta Quiroga on" in body
    assert "<dt>Status</dt><dd>done</dd>" in body
    assert "<dd>Protocolo aprobado por la municipalidad</dd>" in body
    assert 'name="version" value="2"' in body
    assert "Borrador enviado" in body  # their input is kept
    ilo_action.refresh_from_db()
    assert (ilo_action.status, ilo_action.version, ilo_action.updated_by) == (
        "done",
        2,
        person("approver.ilo"),
    )

    again = coordinator.post(
        action_url("action_status", ilo_action),
        {"status": "in_progress", "progress_note": "Borrador enviado", "version": 2},
    )
    assert again.status_code == 302
    ilo_action.refresh_from_db()
    assert (ilo_action.status, ilo_action.completed_on, ilo_action.version) == (
        "in_progress",
        None,
        3,
    )


def test_a_stale_edit_gets_409(ilo_action):
    services.action_change(
        action=ilo_action,
        changes={"due_on": DUE.replace(day=15)},
        actor=person("rco"),
        expected_version=1,
        today=DUE,
    )
    page = signed_in("approver.ilo").post(
        action_url("action_edit", ilo_action),
        {"description_en": "Mine", "owner_agency": "ILO", "due_on": "2027-05-01", "version": 1},
    )
    assert page.status_code == 409
    body = page.content.decode()
    assert "Saved by Elena Rivas on" in body
    assert "<dt>Due date</dt><dd>March 15, 2027</dd>" in body
    assert ResponseAction.objects.get(pk=ilo_action.pk).description_en == (
        "Define the Manual's update protocol"
    )


def test_a_stale_response_is_refused(response):
    services.response_save(
        recommendation=response.recommendation,
        decision="partially_accepted",
        comment_en="Only in Santiago.",
        actor=person("admin"),
        expected_version=1,
    )
    page = signed_in("rco").post(
        rec_url("respond"), {"decision": "accepted", "comment_en": "All.", "version": 1}
    )
    assert page.status_code == 400
    assert "Somebody changed the response since you opened the page" in page.content.decode()
    response.refresh_from_db()
    assert (response.decision, response.version) == ("partially_accepted", 2)
