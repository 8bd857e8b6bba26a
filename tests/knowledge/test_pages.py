"""The evaluation page's filters (addressee, priority, response), the tracking page (every
action with its status, owner and due date, overdue ones highlighted, counts per status,
filters by agency, status and overdue), a fixed number of queries per page, and the admin
scoped to the programme admin's programmes."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from knowledge import services
from knowledge.models import Recommendation, ResponseAction

from .conftest import agency, person, rec_url, signed_in

pytestmark = pytest.mark.django_db

TRACKING = reverse("knowledge:tracking", args=["CIUDADES"])
EVALUATION = reverse("knowledge:evaluation", args=["CIUDADES", "FINAL-2023"])


def respond(evaluation, number: int, decision: str):
    return services.response_save(
        recommendation=evaluation.recommendations.get(number=number),
        decision=decision,
        comment_en="Because." if decision == "rejected" else "",
        actor=person("rco"),
    )


@pytest.fixture
def three_actions(evaluation):
    """Recommendation 1 accepted with an overdue ILO action, an IOM action in progress and a
    done UNHCR action; recommendation 2 rejected."""
    today = timezone.localdate()
    response = respond(evaluation, 1, "accepted")
    respond(evaluation, 2, "rejected")
    made = {}
    for code, due, status in (
        ("ILO", today - dt.timedelta(days=10), "planned"),
        ("IOM", today + dt.timedelta(days=30), "in_progress"),
        ("UNHCR", today - dt.timedelta(days=40), "planned"),
    ):
        made[code] = services.action_add(
            response=response,
            description_en=f"{code} action",
            owner_agency=agency(code),
            due_on=due,
            status=status,
            actor=person("rco"),
        )
    unhcr = made["UNHCR"]
    services.action_change(
        action=unhcr, changes={"status": "done"}, actor=person("rco"), expected_version=1,
        today=today,
    )  # fmt: skip
    return made


def codes(page) -> list[str]:
    assert page.status_code == 200
    return sorted(row["action"].owner_agency.code for row in page.context["rows"])


def test_the_tracking_page_counts_and_highlights(three_actions):
    client = signed_in("coord.iom.scl")
    page = client.get(TRACKING)
    assert codes(page) == ["ILO", "IOM", "UNHCR"]
    counts = page.context["counts"]
    assert (counts["planned"], counts["in_progress"], counts["done"], counts["overdue"]) == (
        1,
        1,
        1,
        1,
    )
    body = page.content.decode()
    assert f'<tr id="action-{three_actions["ILO"].pk}" class="overdue">' in body
    assert f'<tr id="action-{three_actions["UNHCR"].pk}">' in body  # done: not overdue
    assert codes(client.get(f"{TRACKING}?agency=IOM")) == ["IOM"]
    assert codes(client.get(f"{TRACKING}?overdue=on")) == ["ILO"]
    done = client.get(f"{TRACKING}?status=done")
    assert codes(done) == ["UNHCR"]
    assert done.context["counts"]["planned"] == 1  # the counts ignore the status filter
    assert client.get(f"{TRACKING}?agency=IOM").context["counts"]["total"] == 1


def test_a_bad_tracking_filter_is_ignored_with_a_message(three_actions):
    page = signed_in("rco").get(f"{TRACKING}?status=finished")
    assert codes(page) == ["ILO", "IOM", "UNHCR"]
    assert "Status: “finished” is not a status" in page.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", list(range(1, 10))),
        ("response=none", list(range(3, 10))),
        ("response=accepted", [1]),
        ("response=rejected", [2]),
        ("priority=medium", [4, 5, 8]),
        ("priority=high&response=none", [3, 6, 7, 9]),
        ("agency=UNHCR", [1, 2, 3, 4, 5, 6, 7, 8]),
    ],
)
def test_the_evaluation_page_filters_recommendations(three_actions, evaluation, query, expected):
    evaluation.recommendations.get(number=9).addressee_agencies.set([agency("ILO")])
    page = signed_in("donor").get(f"{EVALUATION}?{query}")
    assert [r.number for r in page.context["recommendations"]] == expected


def test_the_evaluation_page_counts_open_and_overdue_actions(three_actions):
    page = signed_in("rco").get(EVALUATION)
    first = page.context["recommendations"][0]
    assert (first.n_actions, first.n_open, first.n_overdue) == (3, 2, 1)


def test_pages_take_a_fixed_number_of_queries(three_actions, django_assert_max_num_queries):
    client = signed_in("coord.ilo.scl")
    for url, most in ((EVALUATION, 14), (TRACKING, 14), (rec_url("recommendation"), 24)):
        with django_assert_max_num_queries(most):
            assert client.get(url).status_code == 200


def test_the_admin_shows_a_programme_admin_only_their_programmes(three_actions, other_programme):
    admin = signed_in("admin")
    admin_user = person("admin")
    assert admin_user.is_staff
    listing = admin.get(reverse("admin:knowledge_recommendation_changelist"))
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 9
    actions = admin.get(reverse("admin:knowledge_responseaction_changelist"))
    assert actions.context["cl"].result_count == 3
    action = three_actions["ILO"]
    change = admin.post(
        reverse("admin:knowledge_responseaction_change", args=[action.pk]), {"status": "done"}
    )
    assert change.status_code == 403  # written by the pages' services only
    assert ResponseAction.objects.get(pk=action.pk).status == "planned"
    other = get_user_model().objects.get(username="other.admin")
    other.is_staff = True
    other.save(update_fields=["is_staff"])
    listing = signed_in("other.admin").get(reverse("admin:knowledge_recommendation_changelist"))
    assert listing.context["cl"].result_count == 1
    assert Recommendation.objects.count() == 10
