"""Bad input is refused with a message that names the field, and nothing is written: no
response, no action, no change of an action's version, no audit event."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from knowledge import services
from knowledge.models import ManagementResponse, ResponseAction
from monitoring.models import Agency, AuditEvent

from .conftest import DUE, action_url, agency, person, rec_url, signed_in

pytestmark = pytest.mark.django_db


def errors_of(page) -> str:
    assert page.status_code == 400, page.status_code
    return page.content.decode()


def nothing_written(since: int) -> bool:
    return AuditEvent.objects.filter(pk__gt=since, action__startswith="knowledge.").count() == 0


def last_event() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def test_a_rejection_without_a_comment_is_refused(evaluation):
    before = last_event()
    page = signed_in("rco").post(rec_url("respond"), {"decision": "rejected", "comment_es": " "})
    assert (
        "Comment (Spanish): A rejected recommendation needs a comment saying why (in Spanish or "
        "English)." in errors_of(page)
    )
    assert not ManagementResponse.objects.exists()
    assert nothing_written(before)


def test_an_unknown_response_is_refused(evaluation):
    page = signed_in("rco").post(rec_url("respond"), {"decision": "maybe"})
    assert (
        "Response: “maybe” is not a response: accepted, partially accepted or rejected."
        in errors_of(page)
    )
    assert not ManagementResponse.objects.exists()


ADD = {"description_en": "Do it", "owner_agency": "ILO", "due_on": DUE.isoformat()}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"due_on": ""}, "Due date: An action needs a due date (unless it is cancelled)."),
        ({"due_on": "31/02/2027"}, "Due date: Write the date as YYYY-MM-DD or DD/MM/YYYY."),
        ({"description_en": ""}, "Action (Spanish): Describe the action in Spanish or English."),
        ({"owner_agency": ""}, "Responsible agency: Choose the agency responsible for the action."),
        ({"owner_agency": "NOPE"}, "Responsible agency: “NOPE” is not an agency."),
        (
            {"owner_agency": "UNDP"},
            "Responsible agency: This agency does not take part in the programme.",
        ),
        ({"owner": "999999"}, "Responsible person: This person does not work in the programme."),
    ],
)
def test_an_action_with_bad_fields_is_refused(response, change, message):
    Agency.objects.create(
        code="UNDP", acronym_es="PNUD", acronym_en="UNDP", name_es="PNUD", name_en="UNDP"
    )
    before = last_event()
    page = signed_in("rco").post(rec_url("action_add"), ADD | change)
    assert message in errors_of(page)
    assert not ResponseAction.objects.exists()
    assert nothing_written(before)


def test_the_service_refuses_an_agency_outside_the_programme_and_a_donor_as_owner(response):
    undp = Agency.objects.create(
        code="UNDP", acronym_es="PNUD", acronym_en="UNDP", name_es="PNUD", name_en="UNDP"
    )
    with pytest.raises(ValidationError) as info:
        services.action_add(
            response=response,
            description_en="Do it",
            owner_agency=undp,
            owner=person("donor"),
            due_on=DUE,
            actor=person("rco"),
        )
    assert info.value.message_dict == {
        "owner_agency": ["This agency does not take part in the programme."],
        "owner": ["This person does not work in the programme."],
    }
    assert not ResponseAction.objects.exists()


def test_a_rejected_recommendation_takes_no_action(response):
    services.response_save(
        recommendation=response.recommendation,
        decision="rejected",
        comment_en="Out of scope.",
        actor=person("rco"),
        expected_version=1,
    )
    assert signed_in("rco").post(rec_url("action_add"), ADD).status_code == 403
    with pytest.raises(ValidationError, match="rejected: it takes no actions"):
        services.action_add(
            response=ManagementResponse.objects.get(pk=response.pk),
            description_en="Do it",
            owner_agency=agency("ILO"),
            due_on=DUE,
            actor=person("rco"),
        )
    assert not ResponseAction.objects.exists()


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        (
            {"status": "done", "completed_on": "TOMORROW"},
            "Completed on: The completion date cannot be in the future.",
        ),
        (
            {"status": "finished"},
            "Status: “finished” is not a status: planned, in progress, done or cancelled.",
        ),
        ({"status": ""}, "Status: This field is required."),
        ({"status": "done", "completed_on": "yesterday"}, "Completed on: Write the date as"),
    ],
)
def test_a_bad_status_change_is_refused(ilo_action, posted, message):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    if posted.get("completed_on") == "TOMORROW":
        posted = posted | {"completed_on": tomorrow.isoformat()}
    before = last_event()
    page = signed_in("coord.ilo.scl").post(
        action_url("action_status", ilo_action), posted | {"version": 1}
    )
    assert message in errors_of(page)
    ilo_action.refresh_from_db()
    assert (ilo_action.status, ilo_action.version, ilo_action.completed_on) == ("planned", 1, None)
    assert nothing_written(before)


def test_the_service_refuses_an_unknown_status_and_fields_it_does_not_change(ilo_action):
    with pytest.raises(ValidationError) as info:
        services.action_change(
            action=ilo_action,
            changes={"status": "finished"},
            actor=person("rco"),
            expected_version=1,
            today=DUE,
        )
    assert list(info.value.message_dict) == ["status"]
    with pytest.raises(ValidationError, match="cannot be changed here: response, version"):
        services.action_change(
            action=ilo_action,
            changes={"version": 9, "response": None},
            actor=person("rco"),
            expected_version=1,
            today=DUE,
        )
    ilo_action.refresh_from_db()
    assert (ilo_action.status, ilo_action.version) == ("planned", 1)


def test_a_due_date_can_be_removed_only_from_a_cancelled_action(ilo_action):
    edit = {
        "description_en": ilo_action.description_en,
        "owner_agency": "ILO",
        "due_on": "",
        "version": 1,
    }
    page = signed_in("approver.ilo").post(action_url("action_edit", ilo_action), edit)
    assert "Due date: An action needs a due date (unless it is cancelled)." in errors_of(page)
    ilo_action.refresh_from_db()
    assert ilo_action.due_on == DUE and ilo_action.version == 1

    services.action_change(
        action=ilo_action,
        changes={"status": "cancelled", "due_on": None},
        actor=person("approver.ilo"),
        expected_version=1,
        today=DUE,
    )
    ilo_action.refresh_from_db()
    assert (ilo_action.status, ilo_action.due_on, ilo_action.version) == ("cancelled", None, 2)


def test_an_outsider_cannot_be_named_owner(ilo_action, outsider):
    assert get_user_model().objects.filter(pk=outsider.pk).exists()
    page = signed_in("rco").post(
        action_url("action_edit", ilo_action),
        {
            "description_en": "x",
            "owner_agency": "ILO",
            "owner": outsider.pk,
            "due_on": DUE.isoformat(),
            "version": 1,
        },
    )
    assert "Responsible person: This person does not work in the programme." in errors_of(page)
    ilo_action.refresh_from_db()
    assert ilo_action.owner is None and ilo_action.version == 1
