"""Fixtures of the governance tests: the Ciudades governance data loaded through the loader
(the session database has Ciudades without it), a risk owned by ILO, a meeting with an action
owned by IOM, and a signed-in browser per persona."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from governance import services
from governance.loading import load_ciudades_governance
from governance.models import Agreement, Committee, Meeting, MeetingAction, Risk, Tool
from monitoring.models import Agency, Membership, Programme

TODAY = dt.date(2026, 3, 2)


@pytest.fixture(autouse=True)
def _no_governance_data(request) -> None:
    """Every test starts without governance data, whether or not ``load_ciudades`` loaded
    it into the session database (rolled back with the test)."""
    if "db" not in request.fixturenames and not request.node.get_closest_marker("django_db"):
        return
    request.getfixturevalue("db")
    for model in (Risk, Committee, Agreement, Tool):
        model.objects.filter(programme__code="CIUDADES").delete()


@pytest.fixture
def loaded(ciudades) -> Programme:
    load_ciudades_governance(ciudades)
    return ciudades


def user(username: str):
    return get_user_model().objects.get(username=username)


@pytest.fixture
def browser():
    """``browser("coord.ilo.scl")``: a client signed in as that persona, asking for English."""

    def signed_in(who) -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user(who) if isinstance(who, str) else who)
        return client

    return signed_in


@pytest.fixture
def other_programme_admin(db):
    """The admin of another programme: Ciudades must stay out of reach."""
    other = Programme.objects.create(
        code="SEALED",
        name_es="Sellado",
        name_en="Sealed",
        short_name_es="Sellado",
        short_name_en="Sealed",
        start_date=dt.date(2021, 1, 1),
        end_date=dt.date(2024, 12, 31),
    )
    person = get_user_model().objects.create_user("sealed.admin", password="x")
    Membership.objects.create(user=person, programme=other, role=Membership.Role.ADMIN)
    return person


def risk_values(**extra) -> dict:
    values = {
        "code": "RX",
        "title_es": "Cambio de autoridades",
        "title_en": "Change of authorities",
        "category": Risk.Category.POLITICAL,
        "likelihood": 3,
        "impact": 4,
        "rating_basis": Risk.Basis.INFERRED,
        "mitigation_es": "Presentar el programa a las nuevas autoridades",
        "mitigation_en": "Present the programme to the new authorities",
        "status": Risk.Status.OPEN,
        "shareable": False,
    }
    values.update(extra)
    return values


@pytest.fixture
def ilo_risk(ciudades) -> Risk:
    """A risk owned by ILO, not shareable, rated 3 × 4 since 1 March 2025."""
    return services.risk_create(
        programme=ciudades,
        actor=user("approver.ilo"),
        values=risk_values(owner_agency=Agency.objects.get(code="ILO")),
        today=dt.date(2025, 3, 1),
    )


@pytest.fixture
def committee(ciudades) -> Committee:
    return Committee.objects.create(
        programme=ciudades,
        code="CCB-T",
        kind=Committee.Kind.BINATIONAL,
        scope=Committee.Scope.BINATIONAL,
        name_es="Comité binacional de prueba",
        name_en="Test binational committee",
        expected_meetings_per_year=4,
        shareable=True,
    )


@pytest.fixture
def meeting(committee) -> Meeting:
    return services.meeting_record(
        committee=committee,
        actor=user("rco"),
        held_on=dt.date(2022, 5, 10),
        summary_es="Revisión del plan anual",
        summary_en="Review of the annual plan",
        participants=[("OIT", 2), ("SIBISO", 1)],
        shareable=True,
        today=TODAY,
    )


@pytest.fixture
def iom_action(meeting) -> MeetingAction:
    return services.meeting_action_add(
        meeting=meeting,
        actor=user("rco"),
        description_es="Enviar el acta a las contrapartes",
        description_en="Send the minutes to the counterparts",
        due_on=dt.date(2022, 6, 30),
        owner_agency=Agency.objects.get(code="IOM"),
    )
