"""Who may do what with ILO Chile's budget line, generated over every persona × every action
(see the lines, see a draft, a submitted or an approved expenditure on its page and in the
lists, enter, submit, approve, return, propose a revision, decide it, upload) — own and other
agency, own and other city, each role. Allowed means the page answers or the action takes
effect; refused means 403 for a member (404 for an outsider), or, in a list, the figure
absent, and nothing changed."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from budgets import services
from budgets.models import BudgetLine, BudgetRevision, Expenditure

from .test_expenditures import draft, entry, line_of, url, user
from .test_upload import HEADER, csv_file

pytestmark = pytest.mark.django_db

PERSONAS = [
    "coord.ilo.scl",  # coordinates the line: ILO in Santiago, Chile
    "coord.ilo.cdmx",  # own agency, other city (Mexico)
    "coord.iom.scl",  # other agency, own city
    "approver.ilo",  # own agency's approver
    "approver.iom",  # other agency's approver
    "rco",
    "donor",
    "admin",
    "outsider",
]
MEMBERS = set(PERSONAS) - {"outsider"}
ILO = {"coord.ilo.scl", "coord.ilo.cdmx", "approver.ilo"}
SHOWN = "4,321.99"  # the expenditure's amount as the pages print it

# action → (the expenditure's state before it, who is allowed)
ALLOWED = {
    "view_lines": ("approved", MEMBERS),
    "view_draft": ("draft", ILO),
    "view_submitted": ("submitted", ILO | {"rco", "admin"}),
    "view_approved": ("approved", MEMBERS),
    "list_draft": ("draft", ILO),
    "list_submitted": ("submitted", ILO | {"rco", "admin"}),
    "list_approved": ("approved", MEMBERS),
    "enter": ("draft", {"coord.ilo.scl"}),
    "submit": ("draft", {"coord.ilo.scl"}),
    "approve": ("submitted", {"approver.ilo"}),
    "return": ("submitted", {"approver.ilo"}),
    "propose": ("draft", {"approver.ilo", "admin"}),
    "decide": ("draft", {"admin"}),
    "upload": ("draft", {"coord.ilo.scl"}),
}
WRITES = {"enter", "submit", "approve", "return", "propose", "decide", "upload"}
# Coordinators of other lines reach the upload; their row for this line is refused by name.
UPLOAD_ROW_REFUSED = {"coord.ilo.cdmx": "country", "coord.iom.scl": "agency"}
CASES = [(action, persona) for action in ALLOWED for persona in PERSONAS]


def person(name: str):
    if name == "outsider":
        return get_user_model().objects.get_or_create(username="outsider")[0]
    return user(name)


def prepare(state: str) -> tuple[Expenditure, BudgetRevision]:
    """ILO Chile's 2023-Q1 expenditure in ``state``, and a revision the approver proposed."""
    e = draft(submit=state != "draft")
    if state == "approved":
        e = services.expenditure_approve(expenditure=e, actor=user("approver.ilo"))
    revision = services.revision_propose(
        line=line_of("ILO", "CL"), new_amount=Decimal("380000"), reason="More outreach",
        actor=user("approver.ilo"),
    )  # fmt: skip
    return e, revision


def snapshot() -> tuple[list, list, list]:
    return (
        list(Expenditure.objects.order_by("pk").values_list("pk", "status", "version", "amount")),
        list(BudgetRevision.objects.order_by("pk").values_list("pk", "status")),
        list(BudgetLine.objects.order_by("pk").values_list("pk", "amount")),
    )


def attempt(client, action: str, e: Expenditure, revision: BudgetRevision):
    version = {"version": str(e.version)}
    if action == "view_lines":
        return client.get(url("lines"))
    if action.startswith("view_"):
        return client.get(url("expenditure", e.pk))
    if action.startswith("list_"):
        return client.get(url("lines"))
    if action == "enter":
        return client.post(url("enter", e.line_id), entry("2023-Q2", "10"))
    if action in ("submit", "approve"):
        return client.post(url(action, e.pk), version)
    if action == "return":
        return client.post(url("return", e.pk), {**version, "reason": "Check the ledger"})
    if action == "propose":
        return client.post(url("propose", e.line_id), {"new_amount": "390000", "reason": "x"})
    if action == "decide":
        return client.post(url("revision_approve", revision.pk))
    if action == "upload":
        row = "ILO,CL,2023-Q2,10,interim,2023-06-30,,"
        return client.post(url("upload"), {"file": csv_file(HEADER, row)})
    raise AssertionError(action)


@pytest.mark.parametrize(("action", "persona"), CASES)
def test_permission_matrix(client, action, persona):
    state, allowed = ALLOWED[action]
    e, revision = prepare(state)
    before = snapshot()
    client.force_login(person(persona))
    response = attempt(client, action, e, revision)
    if persona in allowed:
        assert response.status_code in (200, 302), response.status_code
        if action.startswith("list_"):
            assert SHOWN in response.content.decode()
        if action in WRITES:
            assert snapshot() != before
        return
    if action.startswith("list_") and persona != "outsider":
        assert response.status_code == 200
        assert SHOWN not in response.content.decode()
    elif action == "upload" and persona in UPLOAD_ROW_REFUSED:
        assert response.status_code == 400
        problems = [(p.row, p.column) for p in response.context["problems"]]
        assert problems == [(2, UPLOAD_ROW_REFUSED[persona])]
    else:
        assert response.status_code == (404 if persona == "outsider" else 403)
    assert snapshot() == before


def test_donors_see_approved_figures_only(client):
    """Submitted: absent from the donor's and another agency's pages, and its own page is
    refused them. Approved: there for everyone, with the spending it adds."""
    e = draft("UNHCR", "MX", "2021-Q3", by="coord.unhcr.cdmx", submit=True)
    for name in ("donor", "coord.iom.scl", "approver.iom"):
        client.force_login(user(name))
        lines = client.get(url("lines"))
        row = next(r for r in lines.context["overview"].rows if r.line.pk == e.line_id)
        assert (row.cells, row.spent) == ({}, None)
        assert SHOWN not in client.get(url("line", e.line_id)).content.decode()
        assert client.get(url("expenditure", e.pk)).status_code == 403
    services.expenditure_approve(expenditure=e, actor=user("approver.unhcr"))
    client.force_login(user("donor"))
    lines = client.get(url("lines"))
    row = next(r for r in lines.context["overview"].rows if r.line.pk == e.line_id)
    assert row.spent == Decimal("4321.99")
    assert [x.status for x in row.cells[e.period_id]] == ["approved"]
    page = client.get(url("expenditure", e.pk)).content.decode()
    assert SHOWN in page
    assert "submitted" not in page.split('id="audit"')[1]  # the history shows the approval only


def test_a_donor_is_offered_no_action(client):
    e = draft(submit=True)
    services.expenditure_approve(expenditure=e, actor=user("approver.ilo"))
    client.force_login(user("donor"))
    response = client.get(url("line", e.line_id))
    assert (response.context["entry_form"], response.context["revision_form"]) == (None, None)
    assert response.context["expenditures"][-1] == {
        "e": e, "submit": False, "approve": False, "return": False, "submitted_own": False,
    }  # fmt: skip
    assert '<form method="post" action="/programmes' not in response.content.decode()


def test_objects_of_another_programme_or_kind_are_not_found(client):
    """A category split has no expenditures to enter; an unknown id is not found."""
    split = BudgetLine.objects.filter(programme__code="CIUDADES", view="split").first()
    assert split is not None
    client.force_login(user("coord.ilo.scl"))
    assert client.get(url("line", split.pk)).status_code == 404
    assert client.get(url("expenditure", 999999)).status_code == 404
    assert client.post(url("revision_approve", 999999)).status_code == 404


def test_actions_are_post_only(client):
    e = draft(submit=True)
    client.force_login(user("approver.ilo"))
    assert client.get(url("approve", e.pk)).status_code == 405
    assert client.get(url("enter", e.line_id)).status_code == 405
    e.refresh_from_db()
    assert e.status == "submitted"


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(url("lines"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_actions_need_the_csrf_token():
    e = draft(submit=True)
    browser = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(user("approver.ilo"))
    assert browser.post(url("approve", e.pk), {"version": str(e.version)}).status_code == 403
    e.refresh_from_db()
    assert e.status == "submitted"
