"""Who may do what on the knowledge pages, persona by persona: members read; donors read only
what is marked shareable and never the internal progress notes; the RCO, the programme admin
and the addressed agencies' approvers respond; an agency's coordinators and approvers add and
change their own agency's actions (another agency's coordinator gets 403); outsiders and the
people of another programme get 404. A refusal changes nothing."""

import pytest
from django.urls import reverse

from knowledge.models import Evaluation, Lesson, ManagementResponse, Recommendation, ResponseAction

from .conftest import DUE, action_url, agency, person, rec_url, signed_in

pytestmark = pytest.mark.django_db

MEMBERS = [
    "coord.ilo.scl",
    "coord.ilo.cdmx",
    "coord.iom.scl",
    "approver.ilo",
    "approver.iom",
    "rco",
    "donor",
    "admin",
]
STRANGERS = ["outsider", "other.admin"]
NOTE = "NOTA-INTERNA"


@pytest.fixture
def strangers(outsider, other_programme) -> None:
    """The outsider and the other programme's admin exist."""


def pages(action: ResponseAction) -> list[str]:
    return [
        reverse("knowledge:evaluations", args=["CIUDADES"]),
        reverse("knowledge:evaluation", args=["CIUDADES", "FINAL-2023"]),
        rec_url("recommendation"),
        reverse("knowledge:tracking", args=["CIUDADES"]),
        reverse("knowledge:lessons", args=["CIUDADES"]),
        reverse("knowledge:lesson", args=["CIUDADES", "LL3"]),
    ]


@pytest.mark.parametrize("username", MEMBERS + STRANGERS)
def test_members_read_every_page_and_strangers_get_404(ilo_action, strangers, username):
    client = signed_in(username)
    expected = 404 if username in STRANGERS else 200
    assert [client.get(url).status_code for url in pages(ilo_action)] == [expected] * 6


def test_anonymous_visitors_are_sent_to_sign_in(ilo_action):
    from django.test import Client

    page = Client().get(rec_url("recommendation"))
    assert page.status_code == 302 and "/accounts/login/" in page["Location"]


def test_the_donor_never_sees_progress_notes(ilo_action):
    for url in (rec_url("recommendation"), reverse("knowledge:tracking", args=["CIUDADES"])):
        assert NOTE not in signed_in("donor").get(url).content.decode()
        assert NOTE in signed_in("coord.iom.scl").get(url).content.decode()


def test_the_donor_sees_only_shareable_records(ilo_action, evaluation, ciudades):
    Recommendation.objects.filter(evaluation=evaluation, number=1).update(shareable=False)
    Lesson.objects.filter(programme=ciudades, code="GP3").update(shareable=False)
    donor, coordinator = signed_in("donor"), signed_in("coord.ilo.scl")
    listing = reverse("knowledge:evaluation", args=["CIUDADES", "FINAL-2023"])
    assert 'id="recommendation-1"' not in donor.get(listing).content.decode()
    assert 'id="recommendation-1"' in coordinator.get(listing).content.decode()
    assert donor.get(rec_url("recommendation")).status_code == 404
    assert coordinator.get(rec_url("recommendation")).status_code == 200
    tracking = reverse("knowledge:tracking", args=["CIUDADES"])
    assert f'id="action-{ilo_action.pk}"' not in donor.get(tracking).content.decode()
    assert f'id="action-{ilo_action.pk}"' in coordinator.get(tracking).content.decode()
    lessons = reverse("knowledge:lessons", args=["CIUDADES"])
    assert 'id="lesson-GP3"' not in donor.get(lessons).content.decode()
    assert donor.get(reverse("knowledge:lesson", args=["CIUDADES", "GP3"])).status_code == 404
    assert 'id="lesson-GP3"' in coordinator.get(lessons).content.decode()

    Evaluation.objects.filter(pk=evaluation.pk).update(shareable=False)
    evaluations = donor.get(reverse("knowledge:evaluations", args=["CIUDADES"]))
    assert "FINAL-2023" not in evaluations.content.decode()
    assert donor.get(listing).status_code == 404
    assert donor.get(rec_url("recommendation", number=2)).status_code == 404
    assert coordinator.get(listing).status_code == 200


def test_records_of_another_programme_are_404_through_this_one(ilo_action, other_programme):
    other_action = ResponseAction.objects.get(response__recommendation__evaluation__code="EV-X")
    admin = signed_in("admin")
    assert admin.get(reverse("knowledge:evaluation", args=["CIUDADES", "EV-X"])).status_code == 404
    assert admin.get(rec_url("recommendation", evaluation="EV-X")).status_code == 404
    assert admin.get(action_url("action_edit", other_action)).status_code == 404
    refused = admin.post(
        action_url("action_status", other_action), {"status": "done", "version": 1}
    )
    assert refused.status_code == 404
    assert admin.get(rec_url("recommendation", code="OTHER", evaluation="EV-X")).status_code == 404
    other = signed_in("other.admin")
    assert other.get(rec_url("recommendation", code="OTHER", evaluation="EV-X")).status_code == 200


RESPONDERS = {"approver.ilo", "approver.iom", "rco", "admin"}


@pytest.mark.parametrize("username", MEMBERS + STRANGERS)
def test_who_responds_to_a_recommendation(evaluation, strangers, username):
    answer = signed_in(username).post(
        rec_url("respond"), {"decision": "partially_accepted", "comment_en": "In part."}
    )
    expected = 404 if username in STRANGERS else 302 if username in RESPONDERS else 403
    assert answer.status_code == expected
    saved = ManagementResponse.objects.filter(recommendation__evaluation=evaluation).exists()
    assert saved == (username in RESPONDERS)


def test_an_approver_of_an_agency_not_addressed_cannot_respond(recommendation):
    recommendation.addressee_agencies.set([agency("ILO")])
    assert (
        signed_in("approver.iom").post(rec_url("respond"), {"decision": "accepted"}).status_code
        == 403
    )
    assert (
        signed_in("approver.ilo").post(rec_url("respond"), {"decision": "accepted"}).status_code
        == 302
    )


# who → (the agency they name as owner, the answer)
ADDING = {
    "coord.ilo.scl": ("ILO", 302),
    "coord.iom.scl": ("IOM", 302),
    "approver.ilo": ("ILO", 302),
    "rco": ("UNHCR", 302),
    "admin": ("IOM", 302),
    "donor": ("ILO", 403),
    "outsider": ("ILO", 404),
    "other.admin": ("ILO", 404),
}


@pytest.mark.parametrize("username", list(ADDING))
def test_who_adds_an_action(response, strangers, username):
    owner, expected = ADDING[username]
    added = signed_in(username).post(
        rec_url("action_add"),
        {"description_en": "Do it", "owner_agency": owner, "due_on": DUE.isoformat()},
    )
    assert added.status_code == expected
    created = ResponseAction.objects.filter(response=response)
    assert [a.owner_agency.code for a in created] == ([owner] if expected == 302 else [])


def test_a_coordinator_cannot_name_another_agency(response):
    refused = signed_in("coord.iom.scl").post(
        rec_url("action_add"),
        {"description_en": "Do it", "owner_agency": "ILO", "due_on": DUE.isoformat()},
    )
    assert refused.status_code == 400
    assert "Responsible agency: You can name your own agency only." in refused.content.decode()
    assert not ResponseAction.objects.filter(response=response).exists()


CHANGERS = {"coord.ilo.scl", "coord.ilo.cdmx", "approver.ilo", "rco", "admin"}


@pytest.mark.parametrize("username", MEMBERS + STRANGERS)
def test_who_changes_an_ilo_action(ilo_action, strangers, username):
    client = signed_in(username)
    form = client.get(action_url("action_edit", ilo_action))
    marked = client.post(
        action_url("action_status", ilo_action),
        {"status": "in_progress", "progress_note": "Avance", "version": ilo_action.version},
    )
    expected = 404 if username in STRANGERS else 302 if username in CHANGERS else 403
    assert (form.status_code, marked.status_code) == (
        200 if expected == 302 else expected,
        expected,
    )
    ilo_action.refresh_from_db()
    assert ilo_action.status == ("in_progress" if username in CHANGERS else "planned")
    assert ilo_action.version == (2 if username in CHANGERS else 1)


def test_the_person_named_owner_changes_the_action(ilo_action):
    ResponseAction.objects.filter(pk=ilo_action.pk).update(owner=person("coord.iom.scl"))
    marked = signed_in("coord.iom.scl").post(
        action_url("action_status", ilo_action), {"status": "done", "version": 1}
    )
    assert marked.status_code == 302
    ilo_action.refresh_from_db()
    assert ilo_action.status == "done" and ilo_action.updated_by == person("coord.iom.scl")


def test_forms_are_offered_only_to_who_may_use_them(ilo_action):
    coordinator = signed_in("coord.ilo.scl").get(rec_url("recommendation")).content.decode()
    other = signed_in("coord.iom.scl").get(rec_url("recommendation")).content.decode()
    donor = signed_in("donor").get(rec_url("recommendation")).content.decode()
    status_form = action_url("action_status", ilo_action)
    assert status_form in coordinator and status_form not in other and status_form not in donor
    assert 'id="add-action"' in coordinator and 'id="add-action"' in other
    assert 'id="add-action"' not in donor
    respond = rec_url("respond")
    assert respond not in coordinator and respond not in donor
    assert respond in signed_in("approver.iom").get(rec_url("recommendation")).content.decode()
