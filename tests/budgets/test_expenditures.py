"""Expenditures on the line page: the coordinator saves a draft and submits it, the agency's
approver approves (the budget figures follow) or returns it with a reason; nobody approves
their own submission; a stale save, a change after submission and bad fields are refused
with messages that name what is wrong, and nothing is written."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from budgets import services
from budgets.models import BudgetFigure, BudgetLine, Expenditure
from monitoring.models import AuditEvent, Membership, ReportingPeriod

pytestmark = pytest.mark.django_db


# Helpers shared by the budget entry tests ----------------------------------------------


def user(username: str):
    return get_user_model().objects.get(username=username)


def line_of(agency: str, country: str) -> BudgetLine:
    return BudgetLine.objects.get(
        programme__code="CIUDADES", view="line", agency__code=agency, country__code=country
    )


def period(code: str) -> ReportingPeriod:
    return ReportingPeriod.objects.get(programme__code="CIUDADES", code=code)


def url(name: str, *args) -> str:
    return reverse(f"budget_entry:{name}", args=["CIUDADES", *args])


def draft(
    agency: str = "ILO",
    country: str = "CL",
    quarter: str = "2023-Q1",
    amount: str = "4321.99",
    *,
    by: str = "coord.ilo.scl",
    submit: bool = False,
) -> Expenditure:
    """An expenditure entered through the service, as the coordinator's form would."""
    return services.expenditure_save(
        line=line_of(agency, country),
        period=period(quarter),
        amount=Decimal(amount),
        as_of=period(quarter).end_date,
        actor=user(by),
        submit=submit,
    )


def entry(quarter: str = "2023-Q1", amount: str = "4321.99", **extra) -> dict:
    data = {
        "period": quarter,
        "amount": amount,
        "kind": "interim",
        "as_of": period(quarter).end_date.isoformat(),
        "note": "",
        "version": "0",
        "action": "save",
    }
    return {**data, **extra}


def figure(agency: str, country: str) -> BudgetFigure:
    return BudgetFigure.objects.get(
        programme__code="CIUDADES", scope="agency_country", agency__code=agency,
        country__code=country,
    )  # fmt: skip


# The workflow ----------------------------------------------------------------------------


def test_it_saves_submits_and_approves_and_the_figures_follow(
    client, django_capture_on_commit_callbacks
):
    """UNHCR Mexico has no expenditure in Ciudades: its first approved one is its spending."""
    line = line_of("UNHCR", "MX")
    assert figure("UNHCR", "MX").spent is None
    client.force_login(user("coord.unhcr.cdmx"))
    response = client.post(url("enter", line.pk), entry("2021-Q3", "12.345,60", kind="certified"))
    assert response.status_code == 302
    e = Expenditure.objects.get(line=line, period__code="2021-Q3")
    assert (e.status, e.amount, e.kind, e.version) == ("draft", Decimal("12345.60"), "certified", 1)
    assert e.entered_by == user("coord.unhcr.cdmx")

    response = client.post(url("submit", e.pk), {"version": "1"})
    e.refresh_from_db()
    assert (e.status, e.submitted_by, e.version) == ("submitted", user("coord.unhcr.cdmx"), 2)

    client.force_login(user("approver.unhcr"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("approve", e.pk), {"version": "2"})
    assert response.status_code == 302
    e.refresh_from_db()
    assert (e.status, e.approved_by) == ("approved", user("approver.unhcr"))
    assert figure("UNHCR", "MX").spent == Decimal("12345.60")
    actions = AuditEvent.objects.filter(object_type="budgets.expenditure", object_id=str(e.pk))
    assert list(actions.order_by("id").values_list("action", flat=True)) == [
        "expenditure.submit",
        "expenditure.approve",
    ]


def test_the_line_page_shows_who_entered_submitted_and_approved(client):
    e = draft("UNHCR", "MX", "2021-Q3", by="coord.unhcr.cdmx", submit=True)
    services.expenditure_approve(expenditure=e, actor=user("approver.unhcr"))
    client.force_login(user("donor"))
    page = client.get(url("line", e.line_id)).content.decode()
    assert "4,321.99" in page
    assert "submitted by Andrés Villaseñor" in page
    assert "approved by Sofía Montalvo" in page


def test_the_approver_returns_it_with_a_reason(client):
    e = draft(submit=True)
    client.force_login(user("approver.ilo"))
    client.post(url("return", e.pk), {"version": str(e.version), "reason": "Use the Q1 ledger"})
    e.refresh_from_db()
    assert e.status == "draft"
    event = AuditEvent.objects.get(object_id=str(e.pk), action="expenditure.return")
    assert event.reason == "Use the Q1 ledger"
    client.force_login(user("coord.ilo.scl"))
    page = client.get(url("line", e.line_id)).content.decode()
    assert "Returned by Marta Quiroga: Use the Q1 ledger" in page


def test_a_return_without_a_reason_is_refused(client):
    e = draft(submit=True)
    client.force_login(user("approver.ilo"))
    response = client.post(
        url("return", e.pk), {"version": str(e.version), "reason": "  "}, follow=True
    )
    assert "Say why the expenditure is returned." in response.content.decode()
    e.refresh_from_db()
    assert e.status == "submitted"


def test_nobody_approves_their_own_submission(client, ciudades):
    """A coordinator who is also an approver of the agency submits: the approve button is
    not there, the action is refused, and the service refuses it too."""
    both = user("coord.ilo.scl")
    Membership.objects.create(
        user=both, programme=ciudades, role="approver", agency=line_of("ILO", "CL").agency
    )
    e = draft(submit=True)
    client.force_login(both)
    page = client.get(url("line", e.line_id)).content.decode()
    assert "another approver of your agency must approve it" in page
    assert client.post(url("approve", e.pk), {"version": str(e.version)}).status_code == 403
    with pytest.raises(Exception, match="somebody else must approve it"):
        services.expenditure_approve(expenditure=e, actor=both)
    e.refresh_from_db()
    assert e.status == "submitted"


def test_a_stale_save_is_refused(client):
    """Two tabs open at version 1; the first saves, the second is refused, nothing lost."""
    e = draft(amount="1000")
    client.force_login(user("coord.ilo.scl"))
    first = client.post(url("enter", e.line_id), entry(amount="1100", version="1"))
    assert first.status_code == 302
    second = client.post(url("enter", e.line_id), entry(amount="1200", version="1"))
    assert second.status_code == 400
    assert "Somebody changed this expenditure since you opened it (now 1,100.00)" in (
        second.content.decode()
    )
    e.refresh_from_db()
    assert (e.amount, e.version) == (Decimal("1100"), 2)


def test_a_stale_approval_is_refused(client):
    """The approver's page showed version 2; the coordinator's expenditure moved on since."""
    e = draft(submit=True)
    client.force_login(user("approver.ilo"))
    response = client.post(url("approve", e.pk), {"version": str(e.version - 1)}, follow=True)
    assert "changed since you opened the page" in response.content.decode()
    e.refresh_from_db()
    assert e.status == "submitted"


def test_a_submitted_expenditure_cannot_be_changed(client):
    e = draft(submit=True)
    client.force_login(user("coord.ilo.scl"))
    response = client.post(url("enter", e.line_id), entry(amount="1", version=str(e.version)))
    assert response.status_code == 400
    assert "This expenditure is submitted and can no longer be changed." in (
        response.content.decode()
    )
    e.refresh_from_db()
    assert e.amount == Decimal("4321.99")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"amount": "abc"}, "Amount spent", "“abc” is not an amount"),
        ({"amount": "-5"}, "Amount spent", "An amount cannot be negative."),
        ({"amount": "1234.567"}, "Amount spent", "An amount has at most two decimals."),
        ({"period": "2019-Q1"}, "Quarter", "“2019-Q1” is not a quarter of this programme"),
        ({"period": "LOP"}, "Quarter", "“LOP” is not a quarter of this programme"),
        ({"kind": "guess"}, "Kind", "“guess” is not a kind: interim or certified."),
        ({"as_of": "2022-12-31"}, "As of", "before the quarter starts (2023-01-01)"),
        ({"as_of": "31/02/2023"}, "As of", "Write the date as YYYY-MM-DD or DD/MM/YYYY."),
        ({"as_of": "2999-01-01"}, "As of", "cannot be in the future"),
    ],
)
def test_a_bad_field_is_named_and_nothing_is_saved(client, changes, field, message):
    line = line_of("ILO", "CL")
    client.force_login(user("coord.ilo.scl"))
    response = client.post(url("enter", line.pk), entry(**changes))
    assert response.status_code == 400
    errors = [f"{f.label}: {e}" for f in response.context["entry_form"] for e in f.errors]
    assert any(e.startswith(f"{field}: ") and message in e for e in errors), errors
    assert not line.expenditures.exclude(period__code="LOP").exists()


def test_day_first_dates_and_a_decimal_comma_are_read(client):
    line = line_of("ILO", "CL")
    client.force_login(user("coord.ilo.scl"))
    client.post(url("enter", line.pk), entry(amount="1234,5", as_of="15/02/2023", cumulative="on"))
    e = line.expenditures.get(period__code="2023-Q1")
    assert (e.amount, e.as_of, e.cumulative) == (Decimal("1234.50"), dt.date(2023, 2, 15), True)


def test_the_change_link_opens_the_draft_in_the_form(client):
    e = draft(amount="777")
    client.force_login(user("coord.ilo.scl"))
    response = client.get(url("line", e.line_id) + "?period=2023-Q1")
    form = response.context["entry_form"]
    assert (form["amount"].value(), form["version"].value(), form["period"].value()) == (
        "777.00",
        1,
        "2023-Q1",
    )


def test_the_lines_page_shows_revised_amount_spent_and_each_quarter(
    client, django_assert_max_num_queries
):
    draft(submit=True)
    client.force_login(user("approver.ilo"))
    with django_assert_max_num_queries(10):
        response = client.get(url("lines"))
    rows = {(r.line.agency.code, r.line.country.code): r for r in response.context["overview"].rows}
    assert len(rows) == 6
    ilo_cl = rows[("ILO", "CL")]
    assert (ilo_cl.line.amount, ilo_cl.spent) == (Decimal("375398.00"), Decimal("374855.00"))
    assert ilo_cl.balance == Decimal("543.00")
    assert rows[("UNHCR", "MX")].spent is None
    codes = [p.code for p in response.context["overview"].periods]
    assert codes == ["LOP", "2023-Q1"]
    [submitted] = ilo_cl.cells[period("2023-Q1").pk]
    assert (submitted.status, submitted.amount) == ("submitted", Decimal("4321.99"))


def test_the_pages_speak_spanish(client):
    e = draft(submit=True)
    client.force_login(user("coord.ilo.scl"))
    for page in (url("lines"), url("line", e.line_id), url("expenditure", e.pk), url("upload")):
        response = client.get(page, HTTP_ACCEPT_LANGUAGE="es")
        assert response.status_code == 200
        assert response.headers["Content-Language"] == "es"
    response = client.post(
        url("enter", e.line_id), entry("2023-Q2", "1.234,50"), HTTP_ACCEPT_LANGUAGE="es"
    )
    assert response.status_code == 302
    assert line_of("ILO", "CL").expenditures.get(period__code="2023-Q2").amount == Decimal(
        "1234.50"
    )


def test_the_approval_service_refuses_a_version_it_did_not_see(ciudades):
    """The page posts the version it showed; the service checks it under the row lock."""
    from django.contrib.auth import get_user_model
    from django.core.exceptions import ValidationError

    from budgets import services
    from budgets.models import BudgetLine, Expenditure
    from monitoring.models import ReportingPeriod

    User = get_user_model()
    line = BudgetLine.objects.get(
        programme=ciudades, view="line", agency__code="UNHCR", country__code="MX"
    )
    period = ReportingPeriod.objects.get(programme=ciudades, code="2023-Q2")
    e = services.expenditure_save(
        line=line, period=period, amount=Decimal("10"), as_of=period.end_date,
        actor=User.objects.get(username="coord.unhcr.cdmx"), submit=True,
    )  # fmt: skip
    approver = User.objects.get(username="approver.unhcr")
    with pytest.raises(ValidationError, match="changed since you opened the page"):
        services.expenditure_approve(expenditure=e, actor=approver, expected_version=e.version - 1)
    with pytest.raises(ValidationError, match="changed since you opened the page"):
        services.expenditure_return(
            expenditure=e, reason="r", actor=approver, expected_version=e.version + 1
        )
    assert Expenditure.objects.get(pk=e.pk).status == "submitted"
    services.expenditure_approve(expenditure=e, actor=approver, expected_version=e.version)
    assert Expenditure.objects.get(pk=e.pk).status == "approved"
