"""The budgets API (/api/v1/budget-lines/, /expenditures/, /budget-summary/): a donor's token
reads the Ciudades budget as loaded and the dashboard's figures; drafts and submitted
expenditures reach only whom the budget pages show them to; filters narrow, and a bad value is
a 400 naming it; an outsider and another programme's token read nothing; nothing can be
written; pages are stable and conditional GET works."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from budgets import services
from budgets.figures import refresh_budgets
from budgets.models import BudgetLine, Expenditure
from budgets.selectors import Where, budget_figures, category_breakdown, pick
from monitoring.models import ApiToken, Membership, Programme
from tests.budgets.budget_fixtures import BudgetGold

from .test_expenditures import line_of, period, user

pytestmark = pytest.mark.django_db
API = "/api/v1"
D = Decimal
# The lines that reported spending (Tabla 8), in the API's order; UNHCR Mexico never did.
REPORTED = [("ILO", "CL"), ("ILO", "MX"), ("IOM", "CL"), ("IOM", "MX"), ("UNHCR", "CL")]


def api(key: str | None = None, *, login=None) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    if key is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    if login is not None:
        client.force_login(login)
    return client


def token(who, programme: Programme, scope: str = "read") -> str:
    return ApiToken.issue(user=who, programme=programme, scope=scope, days=30, name="test")[1]


def rows(client: APIClient, path: str, **params) -> list[dict]:
    response = client.get(f"{API}/{path}/", {"page_size": 1000, **params})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def by_agency(results: list[dict], field: str) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = {}
    for r in results:
        sums[r["agency"]] = sums.get(r["agency"], D(0)) + D(r[field])
    return sums


@pytest.fixture
def donor_api(donor, ciudades) -> APIClient:
    return api(token(donor, ciudades))


@pytest.fixture
def pending(ciudades) -> dict[str, Expenditure]:
    """UNHCR Mexico's missing expenditure, entered for 2023-Q1 as a draft, and a submitted
    one of UNHCR Chile for 2023-Q2."""
    enter = services.expenditure_save
    return {
        "draft": enter(line=line_of("UNHCR", "MX"), period=period("2023-Q1"),
                       amount=D("1111.11"), as_of=dt.date(2023, 3, 31),
                       actor=user("coord.unhcr.cdmx")),
        "submitted": enter(line=line_of("UNHCR", "CL"), period=period("2023-Q2"),
                           amount=D("2222.22"), as_of=dt.date(2023, 6, 30),
                           actor=user("coord.unhcr.scl"), submit=True),
    }  # fmt: skip


@pytest.fixture
def gold(donor) -> BudgetGold:
    """Another programme with a budget (four lines, a draft of 999), where the donor is a
    donor too."""
    made = BudgetGold()
    Membership.objects.create(user=donor, programme=made.programme, role=Membership.Role.DONOR)
    refresh_budgets([made.programme.pk])
    return made


# ---- budget lines ----------------------------------------------------------------------


def test_a_donor_token_reads_the_ciudades_budget_lines(donor_api):
    lines = rows(donor_api, "budget-lines", view="line")
    assert len(lines) == 6
    assert sum(D(r["current_amount"]) for r in lines) == D(1702370)
    expected = {"ILO": D(700850), "IOM": D(500760), "UNHCR": D(500760)}
    assert by_agency(lines, "current_amount") == expected
    assert by_agency(lines, "original_amount") == expected
    ilo_chile = next(r for r in lines if (r["agency"], r["country"]) == ("ILO", "CL"))
    line = line_of("ILO", "CL")
    assert ilo_chile == {
        "id": line.pk, "programme": "CIUDADES", "view": "line", "agency": "ILO",
        "country": "CL", "output": None, "category": None, "currency": "USD",
        "original_amount": "375398.00", "current_amount": "375398.00",
        "updated_at": line.updated_at.isoformat().replace("+00:00", "Z"),
    }  # fmt: skip
    # The category split (Annex 3g) is the same money again, by category: never added.
    split = rows(donor_api, "budget-lines", view="split")
    assert len(split) == 21 and {r["country"] for r in split} == {None}
    assert by_agency(split, "current_amount") == expected
    assert len(rows(donor_api, "budget-lines")) == 27


def test_the_lines_come_in_pages_of_a_stable_order_ending_in_the_id(donor_api):
    everything = [r["id"] for r in rows(donor_api, "budget-lines")]
    walked, url = [], f"{API}/budget-lines/?page_size=5"
    while url:
        page = donor_api.get(url).json()
        walked += [r["id"] for r in page["results"]]
        url = page["next"]
    assert walked == everything and len(set(walked)) == 27
    lines = rows(donor_api, "budget-lines", view="line")
    assert [(r["agency"], r["country"]) for r in lines] == [
        ("ILO", "CL"), ("ILO", "MX"), ("IOM", "CL"), ("IOM", "MX"), ("UNHCR", "CL"),
        ("UNHCR", "MX"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"agency": "IOM", "view": "line"}, [("IOM", "CL"), ("IOM", "MX")]),
        ({"country": "MX", "view": "line"}, [("ILO", "MX"), ("IOM", "MX"), ("UNHCR", "MX")]),
        ({"city": "CDMX"}, [("ILO", "MX"), ("IOM", "MX"), ("UNHCR", "MX")]),  # its country
        ({"category": "fund-indirect"}, [("ILO", None), ("IOM", None), ("UNHCR", None)]),
        ({"programme": "CIUDADES", "agency": "UNHCR", "city": "SCL"}, [("UNHCR", "CL")]),
        ({"output": "1.1"}, []),  # Ciudades' lines are not kept per output
    ],
)
def test_filters_narrow_the_lines(donor_api, params, expected):
    assert [(r["agency"], r["country"]) for r in rows(donor_api, "budget-lines", **params)] == (
        expected
    )


def test_updated_since_gives_the_lines_changed_since(donor_api):
    line = line_of("IOM", "MX")
    later = timezone.now() + dt.timedelta(seconds=1)
    assert rows(donor_api, "budget-lines", updated_since=later.isoformat()) == []
    BudgetLine.objects.filter(pk=line.pk).update(updated_at=later + dt.timedelta(minutes=5))
    changed = rows(donor_api, "budget-lines", updated_since=later.isoformat())
    assert [r["id"] for r in changed] == [line.pk]
    assert len(rows(donor_api, "budget-lines", updated_since="2020-01-01")) == 27


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("budget-lines", {"agency": "OIT"}, "agency"),
        ("budget-lines", {"country": "PE"}, "country"),
        ("budget-lines", {"city": "LIMA"}, "city"),
        ("budget-lines", {"category": "travel"}, "category"),
        ("budget-lines", {"view": "both"}, "view"),
        ("budget-lines", {"updated_since": "last week"}, "updated_since"),
        ("budget-lines", {"output": "9.9"}, "output"),
        ("expenditures", {"period": "2031-Q1"}, "period"),
        ("expenditures", {"status": "lost"}, "status"),
        ("expenditures", {"kind": "audited"}, "kind"),
        ("expenditures", {"line": "1.5"}, "line"),
        ("expenditures", {"cumulative": "sometimes"}, "cumulative"),
        ("budget-summary", {"agency": "WFP"}, "agency"),
        ("budget-summary", {"city": "LIMA"}, "city"),
        ("budget-summary", {"country": "MX", "city": "SCL"}, "city"),
    ],
)
def test_a_bad_filter_value_is_a_400_naming_it(donor_api, path, params, field):
    response = donor_api.get(f"{API}/{path}/", params)
    assert response.status_code == 400
    body = response.json()
    assert (body["status"], body["code"]) == (400, "invalid")
    assert list(body["errors"]) == [field]


# ---- expenditures ----------------------------------------------------------------------


def test_a_donor_reads_the_approved_expenditures(donor_api):
    spent = rows(donor_api, "expenditures")
    assert [(r["agency"], r["country"]) for r in spent] == REPORTED
    assert sum(D(r["amount"]) for r in spent) == D(1440732)
    ilo_chile = spent[0]
    expenditure = Expenditure.objects.get(line=line_of("ILO", "CL"))
    assert ilo_chile == {
        "id": expenditure.pk, "programme": "CIUDADES", "line": line_of("ILO", "CL").pk,
        "agency": "ILO", "country": "CL", "output": None, "currency": "USD", "period": "LOP",
        "period_start": "2020-11-01", "period_end": "2023-05-31", "cumulative": True,
        "amount": "374855.00", "kind": "interim", "as_of": "2023-08-03",
        "stated_budget": "375398.00", "status": "approved",
        "approved_at": "2023-08-03T12:00:00Z", "note": "", "source": expenditure.source,
        "updated_at": expenditure.updated_at.isoformat().replace("+00:00", "Z"),
    }  # fmt: skip
    # Nobody's name travels with an expenditure.
    assert not {"entered_by", "submitted_by", "approved_by"} & set(ilo_chile)


def test_a_donor_never_reads_a_draft_or_submitted_expenditure(donor_api, pending):
    spent = rows(donor_api, "expenditures")
    assert len(spent) == 5 and {r["status"] for r in spent} == {"approved"}
    assert rows(donor_api, "expenditures", status="draft") == []
    assert rows(donor_api, "expenditures", status="submitted") == []
    assert rows(donor_api, "expenditures", period="2023-Q1") == []


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("approver.unhcr", {"draft", "submitted"}),  # the agency's own people
        ("coord.unhcr.scl", {"draft", "submitted"}),
        ("rco", {"submitted"}),  # the RCO and the admin, once submitted
        ("admin", {"submitted"}),
        ("approver.ilo", set()),  # another agency: approved only
        ("coord.ilo.scl", set()),
    ],
)
def test_unapproved_expenditures_reach_whom_the_budget_pages_show_them_to(
    ciudades, pending, who, sees
):
    client = api(token(user(who), ciudades))
    unapproved = [r for r in rows(client, "expenditures") if r["status"] != "approved"]
    assert {r["status"] for r in unapproved} == sees
    assert len(rows(client, "expenditures", status="approved")) == 5


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"agency": "ILO"}, [("ILO", "CL"), ("ILO", "MX")]),
        ({"city": "SCL"}, [("ILO", "CL"), ("IOM", "CL"), ("UNHCR", "CL")]),
        ({"country": "MX", "agency": "UNHCR"}, []),
        ({"period": "LOP", "cumulative": "true", "kind": "interim"}, REPORTED),
        ({"cumulative": "false"}, []),
        ({"kind": "certified"}, []),
    ],
)
def test_filters_narrow_the_expenditures(donor_api, params, expected):
    got = [(r["agency"], r["country"]) for r in rows(donor_api, "expenditures", **params)]
    assert got == expected


def test_expenditures_filter_by_line_and_updated_since(donor_api):
    line = line_of("IOM", "MX")
    assert [r["line"] for r in rows(donor_api, "expenditures", line=line.pk)] == [line.pk]
    later = timezone.now() + dt.timedelta(seconds=1)
    assert rows(donor_api, "expenditures", updated_since=later.isoformat()) == []
    Expenditure.objects.filter(line=line).update(updated_at=later + dt.timedelta(minutes=1))
    assert [
        r["line"] for r in rows(donor_api, "expenditures", updated_since=later.isoformat())
    ] == [line.pk]


# ---- the budget dashboard's figures ------------------------------------------------------


def test_the_summary_gives_the_budget_dashboards_figures(donor_api, ciudades):
    response = donor_api.get(f"{API}/budget-summary/", {"programme": "CIUDADES"})
    assert response.status_code == 200
    summary = response.json()
    total = summary["total"]
    assert (total["budget"], total["revised_budget"], total["spent"]) == (
        "1702370.00", "1702370.00", "1440732.00",
    )  # fmt: skip
    # over the five lines that reported (1,451,455); UNHCR Mexico's line has not
    assert (total["execution_pct"], total["balance"], total["lines_without_expenditure"]) == (
        "99.26", None, 1,
    )  # fmt: skip
    assert {r["agency"]: (r["revised_budget"], r["spent"]) for r in summary["by_agency"]} == {
        "ILO": ("700850.00", "689832.00"),
        "IOM": ("500760.00", "501055.00"),
        "UNHCR": ("500760.00", "249845.00"),
    }
    missing = next(r for r in summary["by_agency_country"] if r["country"] == "MX"
                   and r["agency"] == "UNHCR")  # fmt: skip
    assert (missing["spent"], missing["execution_pct"], missing["burn"]) == (None, None, "no_data")
    assert {r["country"]: r["spent"] for r in summary["by_country"]} == {
        "CL": "899062.00", "MX": "541670.00",
    }  # fmt: skip
    assert {r["outcome"]: r["budget"] for r in summary["by_outcome"]} == {
        "R1": "597100.00", "R2": "108746.00", "R3": "182606.00",
    }  # fmt: skip
    assert summary["by_output"] == [] and summary["cost_per_result"] == []
    # Indirect support costs: 45,851 / 654,999 and 32,760 / 468,000, all at the 7 % ceiling.
    assert summary["indirect_ceiling_pct"] == "7.00"
    assert summary["indirect_costs"] == [
        {"agency": "ILO", "indirect": "45851.00", "direct": "654999.00", "share_pct": "7.00",
         "within_ceiling": True},
        {"agency": "IOM", "indirect": "32760.00", "direct": "468000.00", "share_pct": "7.00",
         "within_ceiling": True},
        {"agency": "UNHCR", "indirect": "32760.00", "direct": "468000.00", "share_pct": "7.00",
         "within_ceiling": True},
    ]  # fmt: skip
    assert summary["categories_from_split"] is True and len(summary["by_category"]) == 21
    assert {(f["check"], f["agency"], f["country"]) for f in summary["findings"]} >= {
        ("no_expenditure", "UNHCR", "MX"), ("overspent", "IOM", "MX"),
    }  # fmt: skip
    assert (summary["timeline"]["end"], len(summary["timeline"]["extensions"])) == ("2023-05-31", 2)


def test_the_summary_is_what_the_dashboards_selectors_give(donor_api, ciudades):
    summary = donor_api.get(f"{API}/budget-summary/", {"agency": "IOM"}).json()
    figure = pick(budget_figures(ciudades), Where(agency_id=line_of("IOM", "CL").agency_id))
    assert figure is not None
    assert (D(summary["total"]["spent"]), D(summary["total"]["execution_pct"])) == (
        figure.spent, figure.execution,
    )  # fmt: skip
    categories = category_breakdown(ciudades, Where(agency_id=figure.agency_id))
    assert [(r["category"], D(r["amount"])) for r in summary["by_category"]] == [
        (r["category"], r["amount"]) for r in categories.rows
    ]
    assert summary["agency"] == "IOM" and summary["country"] is None


def test_the_summary_for_an_agency_in_a_city_is_its_line_there(donor_api):
    summary = donor_api.get(f"{API}/budget-summary/", {"agency": "UNHCR", "city": "CDMX"}).json()
    assert (summary["agency"], summary["country"]) == ("UNHCR", "MX")
    total = summary["total"]
    assert (total["budget"], total["spent"], total["lines_without_expenditure"]) == (
        "250915.00", None, 1,
    )  # fmt: skip
    assert [(r["agency"], r["country"]) for r in summary["by_agency"]] == [("UNHCR", "MX")]
    assert [(r["agency"], r["country"]) for r in summary["by_country"]] == [("UNHCR", "MX")]
    assert [f["check"] for f in summary["findings"]] == ["no_expenditure"]


def test_a_draft_changes_no_figure_a_donor_reads(donor_api, pending):
    refresh_budgets()
    summary = donor_api.get(f"{API}/budget-summary/").json()
    assert (summary["total"]["spent"], summary["total"]["lines_without_expenditure"]) == (
        "1440732.00", 1,
    )  # fmt: skip


# ---- who reads nothing --------------------------------------------------------------------


def test_without_credentials_the_answer_is_401(db):
    for path in ("budget-lines", "expenditures", "budget-summary"):
        response = APIClient().get(f"{API}/{path}/", {"programme": "CIUDADES"})
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"


def test_an_outsider_reads_no_budget(outsider):
    client = api(login=outsider)
    assert rows(client, "budget-lines") == [] and rows(client, "expenditures") == []
    for path in ("budget-lines", "expenditures", "budget-summary"):
        response = client.get(f"{API}/{path}/", {"programme": "CIUDADES"})
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_another_programmes_token_reads_only_its_own(donor, gold):
    client = api(token(donor, gold.programme))
    lines = rows(client, "budget-lines")
    assert {r["programme"] for r in lines} == {"GOLD"} and len(lines) == 4
    spent = rows(client, "expenditures")
    assert {r["programme"] for r in spent} == {"GOLD"}
    assert D(999) not in {D(r["amount"]) for r in spent}  # its draft is not a donor's
    assert len(spent) == 5
    summary = client.get(f"{API}/budget-summary/").json()
    assert (summary["programme"], summary["total"]["spent"]) == ("GOLD", "1450.00")
    for path in ("budget-lines", "expenditures", "budget-summary"):
        assert client.get(f"{API}/{path}/", {"programme": "CIUDADES"}).status_code == 404


def test_a_session_reads_every_programme_it_belongs_to_and_output_codes_stay_apart(donor, gold):
    client = api(login=donor)
    assert {r["programme"] for r in rows(client, "budget-lines")} == {"CIUDADES", "GOLD"}
    # "1.1" is an output of both; only GOLD keeps a line for it.
    assert [r["programme"] for r in rows(client, "budget-lines", output="1.1")] == ["GOLD"]
    # Two programmes and no ?programme=: the summary asks which one.
    response = client.get(f"{API}/budget-summary/")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["programme"]


# ---- nothing is written ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["budget-lines", "expenditures", "budget-summary"])
def test_nothing_can_be_written(donor, ciudades, programme_admin, path):
    url = f"{API}/{path}/"
    read_only = api(token(donor, ciudades))
    for method in ("post", "put", "patch", "delete"):
        response = getattr(read_only, method)(url, {"amount": "1"}, format="json")
        assert response.status_code == 403, method
    for client in (api(token(programme_admin, ciudades, "write")), api(login=programme_admin)):
        for method in ("post", "put", "patch", "delete"):
            assert getattr(client, method)(url, {}, format="json").status_code == 405, method
    assert BudgetLine.objects.filter(programme=ciudades).count() == 27


# ---- conditional GET and query counts -------------------------------------------------------


def test_an_unchanged_page_answers_304(donor_api):
    first = donor_api.get(f"{API}/budget-lines/")
    assert first.status_code == 200 and first["ETag"]
    again = donor_api.get(f"{API}/budget-lines/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


@pytest.mark.parametrize(
    ("path", "most"), [("budget-lines", 5), ("expenditures", 5), ("budget-summary", 14)]
)
def test_each_endpoint_makes_a_fixed_number_of_queries(
    donor_api, pending, gold, path, most, django_assert_max_num_queries
):
    with django_assert_max_num_queries(most):
        assert donor_api.get(f"{API}/{path}/").status_code == 200


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        # Offsets beyond PostgreSQL's ±15:59, and moments that leave the calendar in UTC.
        ("budget-lines", {"updated_since": "2023-09-11T16:44:30-17:35"}, 200),
        ("expenditures", {"updated_since": "0001-01-01T00:00:00+05:00"}, 200),
        ("expenditures", {"updated_since": "9999-12-31T23:59:59-05:00"}, 200),
    ],
)
def test_odd_moments_are_answered_never_a_server_error(donor_api, path, params, status):
    assert donor_api.get(f"{API}/{path}/", params).status_code == status
