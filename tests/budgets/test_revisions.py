"""Budget revisions on the line page: the agency's approver (or the admin) proposes a new
amount with a reason; the programme admin, never the proposer, approves or rejects it. The
line keeps its original amount; no revision brings it below what it has already spent (ILO
Chile: 374,855 spent of 375,398, EVAL Tabla 8)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from budgets import services
from budgets.models import BudgetRevision
from monitoring.models import AuditEvent

from .test_expenditures import figure, line_of, period, url, user

pytestmark = pytest.mark.django_db


def propose(client, amount: str, reason: str = "Savings moved to Mexico", who="approver.ilo"):
    client.force_login(user(who))
    return client.post(
        url("propose", line_of("ILO", "CL").pk), {"new_amount": amount, "reason": reason}
    )


def test_a_revision_below_what_is_spent_is_refused_with_both_figures(client):
    response = propose(client, "300000")
    assert response.status_code == 400
    errors = response.context["revision_form"].errors["new_amount"]
    assert errors == ["300,000.00 is below what this line has already spent (374,855.00)."]
    assert "300,000.00 is below what this line has already spent (374,855.00)." in (
        response.content.decode()
    )
    assert not BudgetRevision.objects.exists()
    line = line_of("ILO", "CL")
    assert (line.amount, line.original_amount) == (Decimal("375398.00"), Decimal("375398.00"))


def test_a_revision_needs_a_reason(client):
    response = propose(client, "380000", reason="   ")
    assert response.status_code == 400
    assert response.context["revision_form"].errors["reason"] == ["This field is required."]
    assert not BudgetRevision.objects.exists()


def test_proposed_then_approved_by_the_admin_changes_the_amount_and_keeps_the_original(
    client, django_capture_on_commit_callbacks
):
    assert propose(client, "380.000,50").status_code == 302
    revision = BudgetRevision.objects.get()
    assert (revision.status, revision.old_amount, revision.new_amount) == (
        "proposed",
        Decimal("375398.00"),
        Decimal("380000.50"),
    )
    assert line_of("ILO", "CL").amount == Decimal("375398.00")  # not before the decision

    client.force_login(user("admin"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("revision_approve", revision.pk))
    assert response.status_code == 302
    line = line_of("ILO", "CL")
    assert (line.amount, line.original_amount) == (Decimal("380000.50"), Decimal("375398.00"))
    revision.refresh_from_db()
    assert (revision.status, revision.decided_by) == ("approved", user("admin"))
    assert figure("ILO", "CL").revised == Decimal("380000.50")
    assert figure("ILO", "CL").budget == Decimal("375398.00")
    events = AuditEvent.objects.filter(action__startswith="budget.revision").order_by("id")
    assert [(e.action, e.old_value, e.new_value, e.reason) for e in events] == [
        ("budget.revision.propose", "375398.00", "380000.50", "Savings moved to Mexico"),
        ("budget.revision.approve", "375398.00", "380000.50", "Savings moved to Mexico"),
    ]


def test_the_admin_rejects_and_the_line_stays(client):
    propose(client, "380000")
    revision = BudgetRevision.objects.get()
    client.force_login(user("admin"))
    client.post(url("revision_reject", revision.pk))
    revision.refresh_from_db()
    assert revision.status == "rejected"
    assert line_of("ILO", "CL").amount == Decimal("375398.00")


def test_the_proposer_cannot_decide(client):
    """The admin proposes: no approve button for them, the action is refused, and the
    service refuses as well."""
    propose(client, "380000", who="admin")
    revision = BudgetRevision.objects.get()
    page = client.get(url("line", revision.line_id))
    assert page.context["revisions"] == [(revision, False)]
    assert client.post(url("revision_approve", revision.pk)).status_code == 403
    with pytest.raises(ValidationError, match="somebody else must decide it"):
        services.revision_decide(revision=revision, approve=True, actor=user("admin"))
    revision.refresh_from_db()
    assert revision.status == "proposed"
    assert line_of("ILO", "CL").amount == Decimal("375398.00")


def test_approval_is_refused_when_spending_rose_above_the_new_amount(client):
    """Proposed at 376,000; meanwhile a cumulative 376,500 was approved: approving now would
    leave the line below what it spent."""
    propose(client, "376000")
    revision = BudgetRevision.objects.get()
    e = services.expenditure_save(
        line=line_of("ILO", "CL"),
        period=period("2023-Q2"),
        amount=Decimal("376500"),
        as_of=dt.date(2023, 9, 30),
        cumulative=True,
        actor=user("coord.ilo.scl"),
        submit=True,
    )
    services.expenditure_approve(expenditure=e, actor=user("approver.ilo"))
    client.force_login(user("admin"))
    response = client.post(url("revision_approve", revision.pk), follow=True)
    assert "376,000.00 is below what this line has already spent (376,500.00)." in (
        response.content.decode()
    )
    revision.refresh_from_db()
    assert revision.status == "proposed"
    assert line_of("ILO", "CL").amount == Decimal("375398.00")


def test_a_decided_revision_cannot_be_decided_again(client):
    propose(client, "380000")
    revision = BudgetRevision.objects.get()
    services.revision_decide(revision=revision, approve=False, actor=user("admin"))
    client.force_login(user("admin"))
    assert client.post(url("revision_approve", revision.pk)).status_code == 403
    assert line_of("ILO", "CL").amount == Decimal("375398.00")


def test_donors_and_other_agencies_see_approved_revisions_only(client):
    propose(client, "380000")
    revision = BudgetRevision.objects.get()
    for name in ("donor", "coord.iom.scl"):
        client.force_login(user(name))
        assert client.get(url("line", revision.line_id)).context["revisions"] == []
    for name in ("coord.ilo.cdmx", "rco", "admin"):
        client.force_login(user(name))
        assert len(client.get(url("line", revision.line_id)).context["revisions"]) == 1
    services.revision_decide(revision=revision, approve=True, actor=user("admin"))
    client.force_login(user("donor"))
    page = client.get(url("line", revision.line_id))
    assert [r.status for r, _ in page.context["revisions"]] == ["approved"]
    assert "380,000" in page.content.decode()
