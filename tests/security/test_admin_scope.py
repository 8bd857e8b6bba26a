"""What a programme admin reaches in the admin site (issue 8, permission audit).

Reports: DESIGN §3.3 says drafts are visible to their own agency only, so in the admin a
programme admin sees every report's status, but the narrative and figures of a draft or
returned report only when they belong to its agency; submitted and approved reports whole.
People: a programme admin sees and edits the members of their programmes and the accounts
they added themselves (before they have a membership), never anybody else's account without
a membership, and still adds a new coordinator end to end."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from budgets.models import BudgetLine, Expenditure
from indicators.models import Deliverable, Indicator, IndicatorValue, ProgressReport
from monitoring.models import Activity, Agency, City, Membership, Programme, ReportingPeriod

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-passphrase-1"
DRAFT_NARRATIVE = "MXADMINDRAFTnarrative"
DRAFT_FIGURE = Decimal(8_765_431)
RETURNED_NARRATIVE = "MXADMINRETURNEDnarrative"
RETURNED_FIGURE = Decimal(8_765_432)
SUBMITTED_NARRATIVE = "MXADMINSUBMITTEDnarrative"
SUBMITTED_FIGURE = Decimal(8_765_433)


def url(name: str, *args) -> str:
    return reverse(f"admin:{name}", args=args)


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root.admin", password=PASSWORD)


@pytest.fixture
def other_programme(db) -> Programme:
    return Programme.objects.create(
        code="OTRO", name_es="Otro", name_en="Other", short_name_es="Otro",
        short_name_en="Other", start_date=dt.date(2030, 1, 1), end_date=dt.date(2030, 12, 31),
    )  # fmt: skip


@pytest.fixture
def other_admin(other_programme):
    user = get_user_model().objects.create_user("otro.admin", password=PASSWORD, is_staff=True)
    Membership.objects.create(user=user, programme=other_programme, role="admin")
    return user


# ---- reports: drafts are their agency's -------------------------------------------------------


@pytest.fixture
def reports(ciudades) -> dict[str, ProgressReport]:
    """A quarter of its own, with ILO Santiago's draft, IOM Santiago's returned report and
    ILO Mexico City's submitted one, one value each."""
    period = ReportingPeriod.objects.create(
        programme=ciudades, code="2099-Q1", name_es="2099-Q1", name_en="2099-Q1",
        start_date=dt.date(2099, 1, 1), end_date=dt.date(2099, 3, 31),
        due_date=dt.date(2099, 4, 30),
    )  # fmt: skip
    indicator = Indicator.objects.filter(programme=ciudades).order_by("pk").first()
    out = {}
    for name, agency, city, narrative, figure in (
        ("draft", "ILO", "SCL", DRAFT_NARRATIVE, DRAFT_FIGURE),
        ("returned", "IOM", "SCL", RETURNED_NARRATIVE, RETURNED_FIGURE),
        ("submitted", "ILO", "CDMX", SUBMITTED_NARRATIVE, SUBMITTED_FIGURE),
    ):
        report = ProgressReport.objects.create(
            programme=ciudades, period=period, agency=Agency.objects.get(code=agency),
            city=City.objects.get(code=city), status=name, narrative_en=narrative,
            narrative_es=narrative, submitted_at=timezone.now() if name == "submitted" else None,
            return_reason=f"{narrative} reason" if name == "returned" else "",
        )  # fmt: skip
        IndicatorValue.objects.create(report=report, indicator=indicator, value=figure)
        out[name] = report
    return out


def figures(html: str) -> set[str]:
    """Which of the three reports' figures a page shows (plain or grouped)."""
    shown = set()
    for name, figure in (
        ("draft", DRAFT_FIGURE),
        ("returned", RETURNED_FIGURE),
        ("submitted", SUBMITTED_FIGURE),
    ):
        if str(int(figure)) in html or f"{int(figure):,}" in html:
            shown.add(name)
    return shown


def test_a_programme_admin_sees_a_drafts_status_but_not_its_words_or_figures(
    client, programme_admin, reports
):
    client.force_login(programme_admin)
    period = reports["draft"].period_id
    listing = client.get(url("indicators_progressreport_changelist"), {"period__id__exact": period})
    assert listing.status_code == 200
    for report in reports.values():  # every report is listed, with its status
        assert f"/admin/indicators/progressreport/{report.pk}/change/" in listing.content.decode()
    for name in ("draft", "returned"):
        page = client.get(url("indicators_progressreport_change", reports[name].pk))
        html = page.content.decode()
        assert page.status_code == 200
        assert name in html  # the status
        assert "narrative" not in html.lower() and "reason" not in html.lower()
        assert DRAFT_NARRATIVE not in html and RETURNED_NARRATIVE not in html
        assert figures(html) == set()


def test_a_programme_admin_reads_a_submitted_report_whole(client, programme_admin, reports):
    client.force_login(programme_admin)
    html = client.get(url("indicators_progressreport_change", reports["submitted"].pk))
    assert SUBMITTED_NARRATIVE in html.content.decode()
    value = reports["submitted"].values.get()
    html = client.get(url("indicators_indicatorvalue_change", value.pk)).content.decode()
    assert figures(html) == {"submitted"}


def test_the_values_list_holds_no_drafts_figures_for_a_programme_admin(
    client, programme_admin, superuser, reports
):
    client.force_login(programme_admin)
    listing = client.get(url("indicators_indicatorvalue_changelist") + "?q=&all=").content
    assert figures(listing.decode()) == {"submitted"}
    for name in ("draft", "returned"):
        value = reports[name].values.get()
        page = client.get(url("indicators_indicatorvalue_change", value.pk))
        assert page.status_code == 302 and page["Location"] == url("index")  # "does not exist"
    submitted = reports["submitted"].values.get()
    assert client.get(url("indicators_indicatorvalue_change", submitted.pk)).status_code == 200

    client.force_login(superuser)
    listing = client.get(url("indicators_indicatorvalue_changelist") + "?all=").content
    assert figures(listing.decode()) == {"draft", "returned", "submitted"}
    html = client.get(url("indicators_progressreport_change", reports["draft"].pk))
    assert DRAFT_NARRATIVE in html.content.decode()


def test_a_programme_admin_who_coordinates_an_agency_reads_its_drafts(
    client, programme_admin, reports, ciudades
):
    Membership.objects.create(
        user=programme_admin, programme=ciudades, role="coordinator",
        agency=Agency.objects.get(code="ILO"), city=City.objects.get(code="SCL"),
    )  # fmt: skip
    client.force_login(programme_admin)
    html = client.get(url("indicators_progressreport_change", reports["draft"].pk))
    assert DRAFT_NARRATIVE in html.content.decode()
    listing = client.get(url("indicators_indicatorvalue_changelist") + "?all=").content
    assert figures(listing.decode()) == {"draft", "submitted"}  # IOM's returned one: not theirs


def test_draft_expenditures_are_their_agencys_in_the_admin(
    client, programme_admin, superuser, ciudades
):
    line = BudgetLine.objects.filter(programme=ciudades, view=BudgetLine.View.LINE).first()
    taken = Expenditure.objects.filter(line=line).values("period")
    free = ciudades.periods.exclude(pk__in=taken).order_by("start_date")[:2]
    draft, submitted = (
        Expenditure.objects.create(
            line=line,
            period=period,
            amount=Decimal(amount),
            as_of=period.end_date,
            status=status,
            note=f"{status} note",
        )
        for period, status, amount in zip(
            free, ("draft", "submitted"), ("1234.56", "2345.67"), strict=True
        )
    )
    client.force_login(programme_admin)
    assert client.get(url("budgets_expenditure_change", draft.pk))["Location"] == url("index")
    assert client.get(url("budgets_expenditure_change", submitted.pk)).status_code == 200
    client.force_login(superuser)
    assert client.get(url("budgets_expenditure_change", draft.pk)).status_code == 200


def test_deleting_an_activity_does_not_name_a_drafts_deliverables(
    client, programme_admin, superuser, reports, ciudades
):
    activity = Activity.objects.filter(programme=ciudades).order_by("pk").first()
    for name, report in (("draft", reports["draft"]), ("submitted", reports["submitted"])):
        Deliverable.objects.create(
            programme=ciudades, activity=activity, report=report, agency=report.agency,
            city=report.city, title_es=f"MXDELIV-{name}", title_en=f"MXDELIV-{name}",
            kind="study", date=dt.date(2099, 2, 1),
        )  # fmt: skip
    client.force_login(programme_admin)
    page = client.get(url("monitoring_activity_delete", activity.pk))
    html = page.content.decode()
    assert page.status_code == 200
    assert "MXDELIV-draft" not in html
    assert "Deliverable of a report you may not read" in html
    assert "MXDELIV-submitted" in html
    client.force_login(superuser)
    html = client.get(url("monitoring_activity_delete", activity.pk)).content.decode()
    assert "MXDELIV-draft" in html and "MXDELIV-submitted" in html


# ---- people ------------------------------------------------------------------------------------


def add_person(client, username: str):
    return client.post(
        url("auth_user_add"),
        {
            "username": username,
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )


def person_form(user, memberships: list[dict] | None = None) -> dict:
    data = {
        "username": user.username,
        "first_name": "Nueva",
        "last_name": "Coordinadora",
        "email": "",
        "is_active": "on",
        "memberships-TOTAL_FORMS": str(len(memberships or [])),
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    for n, membership in enumerate(memberships or []):
        data.update({f"memberships-{n}-{k}": v for k, v in membership.items()})
    return data


def refused(response) -> bool:
    """The admin's answers for an object out of reach: its "does not exist" redirect, or
    403/404."""
    return response.status_code in (403, 404) or (
        response.status_code == 302 and response["Location"] == url("index")
    )


@pytest.mark.parametrize("how", ["added_by_another_admin", "removed_from_the_programme"])
def test_a_programme_admin_cannot_reach_an_account_without_membership_they_did_not_add(
    client, programme_admin, other_admin, donor, how
):
    if how == "added_by_another_admin":  # another programme's new person, no membership yet
        theirs = Client()
        theirs.force_login(other_admin)
        assert add_person(theirs, "otro.nuevo").status_code == 302
        target = get_user_model().objects.get(username="otro.nuevo")
    else:  # the donor, once removed from Ciudades
        Membership.objects.filter(user=donor).delete()
        target = donor
    old_hash = target.password
    client.force_login(programme_admin)

    listing = client.get(url("auth_user_changelist")).content.decode()
    assert f"/admin/auth/user/{target.pk}/change/" not in listing
    assert refused(client.get(url("auth_user_change", target.pk)))
    assert refused(client.post(url("auth_user_change", target.pk), person_form(target)))
    password = url("auth_user_password_change", target.pk)
    assert refused(client.get(password))
    new = {"password1": "another-passphrase-2", "password2": "another-passphrase-2"}
    assert refused(client.post(password, {**new, "usable_password": "true"}))
    target.refresh_from_db()
    assert target.password == old_hash and target.first_name != "Nueva"
    # Nor can they pick the account for a membership of their own programme.
    form = client.get(url("monitoring_membership_add")).content.decode()
    assert f'<option value="{target.pk}"' not in form


def test_a_programme_admin_adds_a_coordinator_end_to_end(client, programme_admin, ciudades):
    client.force_login(programme_admin)
    response = add_person(client, "nueva.coord")
    person = get_user_model().objects.get(username="nueva.coord")
    assert response.status_code == 302
    assert response["Location"] == url("auth_user_change", person.pk)
    assert LogEntry.objects.filter(user=programme_admin, object_id=str(person.pk)).exists()
    # Their own new account, still without a membership: they see it and give it one.
    listing = client.get(url("auth_user_changelist")).content.decode()
    assert f"/admin/auth/user/{person.pk}/change/" in listing
    assert client.get(url("auth_user_change", person.pk)).status_code == 200
    ilo, scl = Agency.objects.get(code="ILO"), City.objects.get(code="SCL")
    membership = {"programme": ciudades.pk, "role": "coordinator", "agency": ilo.pk,
                  "city": scl.pk}  # fmt: skip
    response = client.post(url("auth_user_change", person.pk), person_form(person, [membership]))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert list(person.memberships.values_list("programme__code", "role", "agency__code")) == [
        ("CIUDADES", "coordinator", "ILO")
    ]
    person.refresh_from_db()
    assert (person.first_name, person.is_staff, person.is_superuser) == ("Nueva", False, False)
    # Now a member of Ciudades: still theirs to manage, password included.
    password = url("auth_user_password_change", person.pk)
    response = client.post(
        password,
        {"password1": "another-passphrase-2", "password2": "another-passphrase-2",
         "usable_password": "true"},
    )  # fmt: skip
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.check_password("another-passphrase-2")


def test_a_new_account_cannot_be_given_a_membership_in_another_programme(
    client, programme_admin, other_programme
):
    client.force_login(programme_admin)
    add_person(client, "nueva.otra")
    person = get_user_model().objects.get(username="nueva.otra")
    membership = {"programme": other_programme.pk, "role": "donor"}
    response = client.post(url("auth_user_change", person.pk), person_form(person, [membership]))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not person.memberships.exists()


def test_an_account_added_by_one_admin_stays_out_of_reach_of_another(
    client, programme_admin, other_admin
):
    """Even both being admins: the account is the adder's until it has a membership."""
    client.force_login(programme_admin)
    add_person(client, "de.ciudades")
    person = get_user_model().objects.get(username="de.ciudades")
    theirs = Client()
    theirs.force_login(other_admin)
    assert refused(theirs.get(url("auth_user_change", person.pk)))
    listing = theirs.get(url("auth_user_changelist")).content.decode()
    assert f"/admin/auth/user/{person.pk}/change/" not in listing
    assert client.get(url("auth_user_change", person.pk)).status_code == 200


def test_a_superuser_still_reaches_every_account(client, superuser, donor):
    Membership.objects.filter(user=donor).delete()
    client.force_login(superuser)
    assert client.get(url("auth_user_change", donor.pk)).status_code == 200
    listing = client.get(url("auth_user_changelist") + "?q=donor").content.decode()
    assert f"/admin/auth/user/{donor.pk}/change/" in listing
