"""Who may do what with ILO Santiago's quarterly report, generated over every persona ×
every action (view, edit, submit, return, approve, validate, restate, workbook download and
upload) × every state: own and other agency, own and other city, each role. Allowed
means the page answers or the action takes effect; refused means 403 for a member, 404 for
an outsider, and the report unchanged."""

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from indicators import services
from indicators.models import ProgressReport

from .report_fixtures import PERIOD, enter, form_data, login, report_url, scope_indicators

pytestmark = pytest.mark.django_db

PERSONAS = [
    "coord.ilo.scl",  # the report's own coordinator
    "coord.ilo.cdmx",  # own agency, other city
    "coord.iom.scl",  # other agency, own city
    "approver.ilo",  # own agency's approver
    "approver.iom",  # other agency's approver
    "rco",
    "donor",
    "admin",
    "outsider",
]
MEMBERS = set(PERSONAS) - {"outsider"}

# (state, action) → who is allowed
ALLOWED = {
    ("draft", "view"): {"coord.ilo.scl", "coord.ilo.cdmx", "approver.ilo"},
    ("draft", "edit"): {"coord.ilo.scl"},
    ("draft", "submit"): {"coord.ilo.scl"},
    ("draft", "return"): set(),
    ("draft", "approve"): set(),
    ("draft", "validate"): set(),
    ("draft", "restate"): set(),
    ("draft", "download"): {"coord.ilo.scl"},
    ("draft", "upload"): {"coord.ilo.scl"},
    ("submitted", "view"): {"coord.ilo.scl", "coord.ilo.cdmx", "approver.ilo", "rco", "admin"},
    ("submitted", "edit"): set(),
    ("submitted", "submit"): set(),
    ("submitted", "return"): {"approver.ilo"},
    ("submitted", "approve"): {"approver.ilo"},
    ("submitted", "validate"): set(),
    ("submitted", "restate"): set(),
    ("submitted", "download"): set(),
    ("submitted", "upload"): set(),
    ("approved", "view"): MEMBERS,
    ("approved", "edit"): set(),
    ("approved", "submit"): set(),
    ("approved", "return"): set(),
    ("approved", "approve"): set(),
    ("approved", "validate"): {"rco"},
    ("approved", "restate"): {"approver.ilo"},
    ("approved", "download"): set(),
    ("approved", "upload"): set(),
}
CASES = [(s, a, p) for (s, a) in ALLOWED for p in PERSONAS]


def user(name):
    User = get_user_model()
    if name == "outsider":
        return User.objects.get_or_create(username="outsider")[0]
    return User.objects.get(username=name)


def prepare(client, programme, state) -> ProgressReport:
    login(client, user("coord.ilo.scl"))
    enter(
        client,
        scope_indicators(programme),
        version=0,
        action="save" if state == "draft" else "submit",
    )
    client.logout()
    report = ProgressReport.objects.get(period__code=PERIOD, agency__code="ILO", city__code="SCL")
    if state == "approved":
        report = services.report_approve(report=report, actor=user("approver.ilo"))
    return report


def attempt(client, programme, action, report):
    figures = form_data(scope_indicators(programme), version=report.version, fill=True)
    v = {"version": report.version}
    if action == "view":
        return client.get(report_url())
    if action in ("edit", "submit"):
        data = {**v, **figures, "action": "save" if action == "edit" else "submit"}
        return client.post(report_url(), data)
    if action == "return":
        return client.post(report_url(action="return"), {**v, "reason": "check 1C"})
    if action in ("approve", "validate"):
        return client.post(report_url(action=action), v)
    if action == "restate":
        return client.get(report_url(action="restate"))
    if action == "download":
        return client.get(report_url(action="workbook"))
    if action == "upload":  # the workbook as downloaded: a valid upload, saved as it is
        owner = Client()
        owner.force_login(user("coord.ilo.scl"))
        workbook = owner.get(report_url(action="workbook"))
        data = workbook.content if workbook.status_code == 200 else b"PK\x03\x04"
        upload = SimpleUploadedFile("report.xlsx", data)
        return client.post(report_url(action="workbook_upload"), {"workbook": upload})
    raise AssertionError(action)


@pytest.mark.parametrize(("state", "action", "persona"), CASES)
def test_permission_matrix(client, ciudades, state, action, persona):
    report = prepare(client, ciudades, state)
    login(client, user(persona))
    response = attempt(client, ciudades, action, report)
    after = ProgressReport.objects.get(pk=report.pk)
    if persona in ALLOWED[(state, action)]:
        assert response.status_code in (200, 302), response.status_code
        if action in ("edit", "submit", "return", "approve", "validate", "upload"):
            assert after.version == report.version + 1
    else:
        assert response.status_code == (404 if persona == "outsider" else 403)
        assert (after.status, after.version) == (report.status, report.version)
