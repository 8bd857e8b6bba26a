"""The lessons and good practices list: full-text search over title, description and context
in both languages, filters by kind, theme, category, output and indicator; bad filters are
ignored with a message; a fixed number of queries."""

import pytest
from django.urls import reverse

from .conftest import signed_in

pytestmark = pytest.mark.django_db

URL = reverse("knowledge:lessons", args=["CIUDADES"])
ALL = ["GP1", "GP2", "GP3", "GP4", "LL3", "LL4"]


def listed(query: str = "", username: str = "coord.ilo.scl", language: str = "en") -> list[str]:
    page = signed_in(username, language).get(f"{URL}?{query}" if query else URL)
    assert page.status_code == 200
    return sorted(lesson.code for lesson in page.context["lessons"])


def test_it_lists_every_lesson_and_good_practice(evaluation):
    assert listed() == ALL


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=una+vez+al+a%C3%B1o", ["LL3"]),  # Spanish description and context
        ("q=once+a+year", ["LL3"]),  # English
        ("q=E-Campus", ["GP4"]),  # description, in both
        ("q=Emprende+Hoy", ["LL4"]),  # context only
        ("q=REVICTIMIZARLA", ["GP2"]),  # any case, Spanish context
        ("q=tripartism", ["GP1"]),
        ("q=zzzz", []),
        ("kind=lesson", ["LL3", "LL4"]),
        ("kind=good_practice", ["GP1", "GP2", "GP3", "GP4"]),
        ("theme=migration", ["LL3"]),
        ("category=Organizational+issues", ["LL4"]),
        ("output=1.1", ["GP2", "GP4", "LL4"]),
        ("indicator=2.2.D", ["GP2"]),
        ("output=1.1&kind=lesson", ["LL4"]),
        ("q=Ruta&kind=good_practice", ["GP2", "GP4"]),
    ],
)
def test_search_and_filters(evaluation, query, expected):
    assert listed(query) == expected


def test_a_bad_filter_is_ignored_with_a_message(evaluation):
    page = signed_in("coord.ilo.scl").get(f"{URL}?theme=astrology")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Theme: Select a valid choice. astrology is not one of the available choices." in body
    assert "That filter was ignored." in body
    assert sorted(lesson.code for lesson in page.context["lessons"]) == ALL


def test_the_list_takes_a_fixed_number_of_queries(evaluation, django_assert_max_num_queries):
    client = signed_in("donor")
    with django_assert_max_num_queries(16):
        assert client.get(f"{URL}?q=a&kind=lesson").status_code == 200
