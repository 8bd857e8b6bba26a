"""Every governance page opens in Spanish and in English with the loaded Ciudades data, the
content in the language asked for; the list pages cost the same number of queries whatever
the number of committees, meetings, agreements and tools."""

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from governance import services
from governance.models import Committee, Meeting, Tool

from .conftest import user

pytestmark = pytest.mark.django_db


def pages(programme) -> list[str]:
    meeting = Meeting.objects.filter(committee__programme=programme).order_by("held_on").first()
    args = ["CIUDADES"]
    return [
        reverse("governance:committees", args=args),
        reverse("governance:committee", args=[*args, "CCB"]),
        reverse("governance:meeting", args=[*args, meeting.pk]),
        reverse("governance:meeting_add", args=[*args, "CCB"]),
        reverse("governance:risks", args=args),
        reverse("governance:heatmap", args=args),
        reverse("governance:risk", args=[*args, "R1"]),
        reverse("governance:risk_add", args=args),
        reverse("governance:risk_edit", args=[*args, "R1"]),
        reverse("governance:follow_up", args=args),
        reverse("governance:agreement", args=[*args, "AC-CDMX"]),
        reverse("governance:tool", args=[*args, "MANUAL-RUTA"]),
    ]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("es", ["Cambio de gobierno municipal en Santiago", "Comité de Coordinación binacional"]),
        ("en", ["Change of municipal government in Santiago", "Binational Coordination Committee"]),
    ],
)
def test_the_pages_open_in_both_languages(loaded, language, expected):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user("rco"))
    text = ""
    for page in pages(loaded):
        response = client.get(page)
        assert response.status_code == 200, page
        assert f'<html lang="{language}">' in response.content.decode()
        text += response.content.decode()
    for phrase in expected:
        assert phrase in text


def queries(client: Client, page: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(page).status_code == 200
    return len(ctx.captured_queries)


def test_the_list_pages_cost_the_same_whatever_the_data(loaded, browser):
    client = browser("rco")
    lists = [
        reverse(f"governance:{name}", args=["CIUDADES"])
        for name in ("committees", "follow_up", "risks", "heatmap")
    ]
    before = [queries(client, page) for page in lists]
    for n in range(5):
        committee = Committee.objects.create(
            programme=loaded,
            code=f"X{n}",
            kind="other",
            scope="binational",
            name_es=f"Comité {n}",
            name_en=f"Committee {n}",
            expected_meetings_per_year=2,
        )
        services.meeting_record(
            committee=committee,
            actor=None,
            held_on=dt.date(2022, 3, n + 1),
            summary_es="x",
            summary_en="x",
            participants=[("OIT", 1)],
            today=dt.date(2026, 1, 1),
        )
        tool = Tool.objects.create(
            programme=loaded, code=f"T{n}", title_es="t", title_en="t", kind="guide"
        )
        services.tool_adoption_record(
            tool=tool,
            actor=None,
            observed_on=dt.date(2025, 1, 1),
            status="produced",
            today=dt.date(2026, 1, 1),
        )
    assert [queries(client, page) for page in lists] == before
    assert max(before) <= 15
