"""The admin is usable by a programme admin, and only for their own programmes."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from indicators.models import Indicator, ProgressReport, Target
from monitoring.models import AuditEvent, City, Membership, Outcome, Programme

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_programme(db) -> Programme:
    programme = Programme.objects.create(
        code="OTHER",
        name_es="Otro",
        name_en="Other",
        short_name_es="Otro",
        short_name_en="Other",
        start_date=dt.date(2024, 1, 1),
        end_date=dt.date(2025, 1, 1),
    )
    Outcome.objects.create(programme=programme, code="R1", title_es="Secreto", title_en="Secret")
    return programme


@pytest.fixture
def other_admin(other_programme):
    user = get_user_model().objects.create_user("other.admin", password="x" * 12, is_staff=True)
    Membership.objects.create(user=user, programme=other_programme, role="admin")
    return user


def url(name: str, *args) -> str:
    return reverse(f"admin:{name}", args=args)


def test_a_programme_admin_maintains_the_results_framework(client, programme_admin, ciudades):
    client.force_login(programme_admin)
    assert client.get(url("index")).status_code == 200
    listing = client.get(url("indicators_indicator_changelist") + "?all=")
    assert listing.status_code == 200
    assert "37 indicators" in listing.content.decode()
    indicator = Indicator.objects.get(programme=ciudades, code="1.4.A")
    assert client.get(url("indicators_indicator_change", indicator.pk)).status_code == 200


def test_coordinators_and_donors_have_no_admin(client, ilo_coordinator_scl, donor):
    for user in (ilo_coordinator_scl, donor):
        client.force_login(user)
        response = client.get(url("index"))
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_an_admin_of_another_programme_sees_nothing_of_ciudades(client, other_admin, ciudades):
    client.force_login(other_admin)
    html = client.get(url("monitoring_outcome_changelist")).content.decode()
    assert "Secret" in html and "Santiago and Mexico City" not in html
    r1 = Outcome.objects.get(programme=ciudades, code="R1")
    assert client.get(url("monitoring_outcome_change", r1.pk)).status_code in (302, 403, 404)
    response = client.post(url("monitoring_outcome_change", r1.pk), {"title_en": "hijacked"})
    assert response.status_code in (302, 403, 404)
    r1.refresh_from_db()
    assert r1.title_en != "hijacked"
    # Nor can they create records in Ciudades: the programme is not among the choices.
    form = client.get(url("monitoring_outcome_add")).content.decode()
    assert f'value="{ciudades.pk}"' not in form
    response = client.post(
        url("monitoring_outcome_add"),
        {
            "programme": ciudades.pk,
            "code": "R9",
            "order": 9,
            "title_es": "x",
            "title_en": "x",
        },
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Outcome.objects.filter(programme=ciudades, code="R9").exists()


def test_reference_data_is_read_only_for_programme_admins(client, programme_admin):
    client.force_login(programme_admin)
    scl = City.objects.get(code="SCL")
    assert client.get(url("monitoring_city_changelist")).status_code == 200
    response = client.post(
        url("monitoring_city_change", scl.pk),
        {
            "code": "SCL",
            "country": scl.country_id,
            "name_es": "Otra",
            "name_en": "Other",
        },
    )
    assert response.status_code == 403
    scl.refresh_from_db()
    assert scl.name_es == "Santiago de Chile"


def _target_form(target: Target, value: str, reason: str) -> dict:
    return {
        "value": value,
        "source": target.source,
        "revision_reason": reason,
        "revisions-TOTAL_FORMS": "0",
        "revisions-INITIAL_FORMS": "0",
        "revisions-MIN_NUM_FORMS": "0",
        "revisions-MAX_NUM_FORMS": "1000",
    }


def test_revising_a_target_needs_a_reason_and_keeps_the_original(client, programme_admin, ciudades):
    client.force_login(programme_admin)
    target = Target.objects.get(indicator__programme=ciudades, indicator__code="1.4.A")
    change = url("indicators_target_change", target.pk)
    refused = client.post(change, _target_form(target, "350", ""), HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 200
    assert "Say why the target changes." in refused.content.decode()
    target.refresh_from_db()
    assert target.value == 400
    accepted = client.post(change, _target_form(target, "350", "Steering committee, March 2022"))
    assert accepted.status_code == 302
    target.refresh_from_db()
    assert (target.original_value, target.value) == (400, 350)
    revision = target.revisions.get()
    assert (revision.old_value, revision.new_value, revision.revised_by) == (
        400,
        350,
        programme_admin,
    )
    event = AuditEvent.objects.get(action="target.revise", object_id=str(target.pk))
    assert (event.old_value, event.new_value, event.reason) == (
        "400.0000",
        "350",
        "Steering committee, March 2022",
    )
    assert event.actor == programme_admin and event.programme == ciudades


def test_adding_a_target_outside_the_scope_names_the_field(client, programme_admin, ciudades):
    client.force_login(programme_admin)
    indicator = Indicator.objects.get(programme=ciudades, code="2.2.E")
    response = client.post(
        url("indicators_target_add"),
        {
            "indicator": indicator.pk,
            "city": City.objects.get(code="CDMX").pk,
            "value": "10",
            "source": "",
            "revision_reason": "",
            "revisions-TOTAL_FORMS": "0",
            "revisions-INITIAL_FORMS": "0",
            "revisions-MIN_NUM_FORMS": "0",
            "revisions-MAX_NUM_FORMS": "1000",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert (
        "CDMX is outside the cities in scope of indicator 2.2.E (SCL)" in response.content.decode()
    )
    assert Target.objects.filter(indicator=indicator).count() == 1


def test_adding_a_target_records_its_original_value(client, programme_admin, ciudades):
    client.force_login(programme_admin)
    indicator = Indicator.objects.get(programme=ciudades, code="2.2.E")
    y2 = ciudades.periods.get(code="Y2")
    response = client.post(
        url("indicators_target_add"),
        {
            "indicator": indicator.pk,
            "city": City.objects.get(code="SCL").pk,
            "period": y2.pk,
            "value": "40",
            "source": "Annual plan 2021",
            "revision_reason": "",
            "revisions-TOTAL_FORMS": "0",
            "revisions-INITIAL_FORMS": "0",
            "revisions-MIN_NUM_FORMS": "0",
            "revisions-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302
    target = Target.objects.get(indicator=indicator, period=y2)
    assert (target.original_value, target.value) == (40, 40)
    assert AuditEvent.objects.filter(action="target.create", object_id=str(target.pk)).exists()


def test_reports_and_values_are_read_only_in_the_admin(client, programme_admin, ciudades):
    client.force_login(programme_admin)
    report = ProgressReport.objects.filter(programme=ciudades).first()
    page = client.get(url("indicators_progressreport_change", report.pk))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    response = client.post(url("indicators_progressreport_change", report.pk), {"status": "draft"})
    assert response.status_code == 403
    report.refresh_from_db()
    assert report.status == "approved"


class TestPeople:
    def test_a_programme_admin_adds_a_person_and_their_membership(
        self, client, programme_admin, ciudades
    ):
        client.force_login(programme_admin)
        response = client.post(
            url("auth_user_add"),
            {
                "username": "new.coordinator",
                "password1": "a-long-passphrase-1",
                "password2": "a-long-passphrase-1",
                "usable_password": "true",
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        user = get_user_model().objects.get(username="new.coordinator")
        assert not user.is_staff and not user.is_superuser
        change = client.get(url("auth_user_change", user.pk))
        assert change.status_code == 200
        html = change.content.decode()
        assert 'name="is_superuser"' not in html and 'name="user_permissions"' not in html

    def test_a_programme_admin_cannot_promote_anybody(
        self, client, programme_admin, ilo_coordinator_scl
    ):
        client.force_login(programme_admin)
        client.post(
            url("auth_user_change", ilo_coordinator_scl.pk),
            {
                "username": ilo_coordinator_scl.username,
                "is_superuser": "on",
                "is_staff": "on",
                "is_active": "on",
                "memberships-TOTAL_FORMS": "0",
                "memberships-INITIAL_FORMS": "0",
                "memberships-MIN_NUM_FORMS": "0",
                "memberships-MAX_NUM_FORMS": "1000",
            },
        )
        ilo_coordinator_scl.refresh_from_db()
        assert not ilo_coordinator_scl.is_superuser and not ilo_coordinator_scl.is_staff

    def test_people_of_other_programmes_are_out_of_reach(
        self, client, programme_admin, other_admin
    ):
        client.force_login(programme_admin)
        listing = client.get(url("auth_user_changelist")).content.decode()
        assert "other.admin" not in listing and "coord.ilo.scl" in listing
        assert client.get(url("auth_user_change", other_admin.pk)).status_code in (302, 403, 404)

    def test_a_superuser_is_never_editable_by_a_programme_admin(self, client, programme_admin):
        root = get_user_model().objects.create_superuser("root", password="x" * 12)
        Membership.objects.create(
            user=root, programme=Programme.objects.get(code="CIUDADES"), role="rco"
        )
        client.force_login(programme_admin)
        response = client.post(
            url("auth_user_change", root.pk), {"username": "root", "is_active": ""}
        )
        assert response.status_code in (302, 403, 404)
        root.refresh_from_db()
        assert root.is_active
