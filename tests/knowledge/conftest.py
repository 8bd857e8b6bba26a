"""Fixtures of the knowledge tests: the Ciudades final evaluation loaded from the project's
data (the session database has Ciudades without it), a response and an action made through
the services, and a second programme whose records nobody in Ciudades may reach.

Personas, as elsewhere: the ILO coordinator in Santiago (coord.ilo.scl), the IOM coordinator
in Santiago (coord.iom.scl), the ILO and IOM approvers, the RCO, the donor, the programme
admin, an outsider, and the admin of the other programme."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from knowledge import services
from knowledge.loading import load_ciudades_knowledge
from knowledge.models import Evaluation, ManagementResponse, Recommendation, ResponseAction
from monitoring.models import Agency, Membership, Programme, ProgrammeAgency
from tests.conftest import PASSWORD

DUE = dt.date(2027, 3, 31)


def person(username: str) -> User:
    return get_user_model().objects.get(username=username)


def signed_in(username: str, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(person(username))
    return client


def agency(code: str) -> Agency:
    return Agency.objects.get(code=code)


def rec_url(name: str, number: int = 1, evaluation: str = "FINAL-2023", code: str = "CIUDADES"):
    return reverse(f"knowledge:{name}", args=[code, evaluation, number])


def action_url(name: str, action: ResponseAction, code: str = "CIUDADES") -> str:
    return reverse(f"knowledge:{name}", args=[code, action.pk])


@pytest.fixture
def evaluation(ciudades) -> Evaluation:
    load_ciudades_knowledge(ciudades)
    return Evaluation.objects.get(programme=ciudades, code="FINAL-2023")


@pytest.fixture
def recommendation(evaluation) -> Recommendation:
    return evaluation.recommendations.get(number=1)


@pytest.fixture
def response(recommendation) -> ManagementResponse:
    return services.response_save(
        recommendation=recommendation,
        decision=ManagementResponse.Decision.ACCEPTED,
        comment_es="Se definirá un protocolo de actualización.",
        comment_en="An update protocol will be defined.",
        actor=person("rco"),
    )


@pytest.fixture
def ilo_action(response) -> ResponseAction:
    """An ILO action without a named owner, due 31 March 2027, with an internal note."""
    action = services.action_add(
        response=response,
        description_es="Definir el protocolo de actualización del Manual",
        description_en="Define the Manual's update protocol",
        owner_agency=agency("ILO"),
        due_on=DUE,
        actor=person("approver.ilo"),
    )
    action.progress_note = "NOTA-INTERNA borrador con la municipalidad"
    action.save(update_fields=["progress_note"])
    return action


@pytest.fixture
def with_emails(db) -> None:
    for user in get_user_model().objects.filter(memberships__programme__code="CIUDADES"):
        user.email = f"{user.username}@example.org"
        user.save(update_fields=["email"])


@pytest.fixture
def other_programme(db) -> Programme:
    """A second programme (ILO takes part) with an evaluation, a recommendation, a response
    and an action, and its own admin."""
    programme = Programme.objects.create(
        code="OTHER",
        name_es="Otro",
        name_en="Other",
        short_name_es="Otro",
        short_name_en="Other",
        start_date=dt.date(2024, 1, 1),
        end_date=dt.date(2025, 1, 1),
    )
    ProgrammeAgency.objects.create(programme=programme, agency=agency("ILO"))
    evaluation = Evaluation.objects.create(
        programme=programme,
        code="EV-X",
        timing="mid_term",
        nature="internal",
        title_es="Evaluación secreta",
        title_en="Secret evaluation",
        shareable=True,
    )
    rec = Recommendation.objects.create(
        evaluation=evaluation, number=1, text_es="SECRETO", priority="high", shareable=True
    )
    user = get_user_model().objects.create_user("other.admin", password=PASSWORD)
    Membership.objects.create(user=user, programme=programme, role="admin")
    response = services.response_save(recommendation=rec, decision="accepted", actor=user)
    services.action_add(
        response=response,
        description_en="Secret action",
        owner_agency=agency("ILO"),
        due_on=dt.date(2024, 6, 1),
        actor=user,
    )
    return programme
