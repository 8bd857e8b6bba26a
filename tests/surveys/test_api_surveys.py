"""The surveys API (/api/v1/surveys/, /api/v1/surveys/{code}/results/): a donor's token lists
the Ciudades surveys with their response counts and reads their results, the figures those of
the results page's selectors (published shares, top box, n, the under-30 flag, breakdowns);
no response, answer text or respondent ever reaches the API; a bad parameter is a 400 naming
it; an outsider and another programme's token read nothing; nothing can be written."""

import datetime as dt
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from monitoring.models import ApiToken, Membership, Programme
from surveys.models import Response, Survey
from surveys.results import (
    compute_results,
    published_respondents,
    published_results,
    response_rate,
    survey_results_data,
)

from .results_fixtures import answer_twelve, build_kit, respond

pytestmark = pytest.mark.django_db
API = "/api/v1"
D = Decimal


def api(key: str | None = None, *, login=None) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    if key is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    if login is not None:
        client.force_login(login)
    return client


def token(who, programme: Programme, scope: str = "read") -> str:
    return ApiToken.issue(user=who, programme=programme, scope=scope, days=30, name="test")[1]


def results(client: APIClient, code: str, expect: int = 200, **params) -> dict:
    response = client.get(f"{API}/surveys/{code}/results/", params)
    assert response.status_code == expect, response.content
    return response.json()


def question(payload: dict, code: str, kind: str = "published") -> dict:
    return next(q for q in payload["questions"] if q["question"] == code and q["results"] == kind)


def group(block: dict, name: str = "all") -> dict:
    return next(g for g in block["groups"] if g["group"] == name)


def shares(g: dict) -> dict[str, str | None]:
    return {c["answer"]: c["share_pct"] for c in g["answers"]}


@pytest.fixture
def donor_api(donor, ciudades) -> APIClient:
    return api(token(donor, ciudades))


@pytest.fixture
def admin_api(programme_admin, ciudades) -> APIClient:
    """The programme admin sees every group, however small (``surveys.permissions``)."""
    return api(token(programme_admin, ciudades))


@pytest.fixture
def kit(ciudades):
    """A survey with responses (twelve answers to ``sat``: top box 7 of 12 = 58.3 %)."""
    made = build_kit(ciudades)
    answer_twelve(made)
    return made


@pytest.fixture
def other(donor) -> Programme:
    """Another programme, with a survey of its own, where the donor is a donor too."""
    programme = Programme.objects.create(
        code="OTRO", name_es="Otro", name_en="Other", short_name_es="Otro",
        short_name_en="Other", start_date=dt.date(2024, 1, 1), end_date=dt.date(2025, 12, 31),
    )  # fmt: skip
    Membership.objects.create(user=donor, programme=programme, role=Membership.Role.DONOR)
    Survey.objects.create(programme=programme, code="OTRA", title_es="Otra", title_en="Other")
    return programme


# ---- the list ------------------------------------------------------------------------------


def test_a_donor_token_lists_the_ciudades_surveys_with_their_counts(donor_api, ciudades):
    response = donor_api.get(f"{API}/surveys/")
    assert response.status_code == 200
    listed = response.json()["results"]
    assert [s["code"] for s in listed] == [
        "EVAL-CCL", "EVAL-ENT", "EVAL-INST", "EVAL-OFF", "MUNI-INTEGRATION-2023",
    ]  # fmt: skip
    inst = next(s for s in listed if s["code"] == "EVAL-INST")
    survey = Survey.objects.get(programme=ciudades, code="EVAL-INST")
    assert inst == {
        "id": survey.pk, "programme": "CIUDADES", "code": "EVAL-INST", "wave": 1,
        "kind": "aggregate", "status": "closed", "title_es": survey.title_es,
        "title_en": "Survey of participating institutions (final evaluation, May 2023)",
        "description_es": survey.description_es, "description_en": survey.description_en,
        "fielded_on": "2023-05-01", "period": "2023-Q2",
        "attributes": ["city", "sex", "institution_type"], "invited": 65,
        "invitations_issued": 0, "responses": 0, "respondents": 33,
        "response_rate_pct": "50.8", "has_published_results": True,
    }  # fmt: skip
    # The list page's figures: a publication's respondents are those it printed.
    for row in listed:
        survey = Survey.objects.get(programme=ciudades, code=row["code"])
        data = survey_results_data(survey)
        answered = (
            published_respondents(data) if survey.kind == "aggregate" else len(data.responses)
        )
        rate = response_rate(answered or 0, data.invitations, survey.invited)
        assert row["respondents"] == answered
        assert (D(row["response_rate_pct"]) if row["response_rate_pct"] else None) == (
            rate if answered else None
        )
    counts = {s["code"]: (s["respondents"], s["invited"]) for s in listed}
    assert counts == {
        "EVAL-CCL": (117, 256), "EVAL-ENT": (44, 186), "EVAL-INST": (33, 65),
        "EVAL-OFF": (52, 104), "MUNI-INTEGRATION-2023": (9, None),
    }  # fmt: skip


def test_a_survey_with_responses_counts_them_and_its_invitations(donor_api, kit):
    row = next(s for s in donor_api.get(f"{API}/surveys/", {"code": "EMPLEO"}).json()["results"])
    assert (row["kind"], row["responses"], row["respondents"], row["invited"]) == (
        "responses", 12, 12, 40,
    )  # fmt: skip
    assert (row["response_rate_pct"], row["has_published_results"]) == ("30.0", False)


@pytest.mark.parametrize(
    ("params", "codes"),
    [
        ({"kind": "assessment"}, ["MUNI-INTEGRATION-2023"]),
        ({"code": "EVAL-OFF", "wave": "1"}, ["EVAL-OFF"]),
        ({"status": "open"}, []),
        ({"programme": "CIUDADES", "kind": "aggregate", "status": "closed"},
         ["EVAL-CCL", "EVAL-ENT", "EVAL-INST", "EVAL-OFF"]),
    ],
)  # fmt: skip
def test_filters_narrow_the_list(donor_api, params, codes):
    response = donor_api.get(f"{API}/surveys/", params)
    assert [s["code"] for s in response.json()["results"]] == codes


@pytest.mark.parametrize(
    ("params", "field"),
    [({"kind": "census"}, "kind"), ({"status": "paused"}, "status"), ({"wave": "two"}, "wave")],
)
def test_a_bad_list_filter_is_a_400_naming_it(donor_api, params, field):
    response = donor_api.get(f"{API}/surveys/", params)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


# ---- published results (the four evaluation surveys) --------------------------------------


def test_the_institutions_rate_the_relevance_as_the_evaluation_printed(donor_api, ciudades):
    payload = results(donor_api, "EVAL-INST", programme="CIUDADES")
    assert (payload["kind"], payload["respondents"], payload["response_rate_pct"]) == (
        "aggregate", 33, "50.8",
    )  # fmt: skip
    relevance = question(payload, "2")
    everyone = group(relevance)
    # 67 % very high + 30 % high relevance, of 33 institutions
    assert (shares(everyone)["5"], shares(everyone)["4"]) == ("67.00", "30.00")
    assert (everyone["respondents"], everyone["top_box_pct"], everyone["small_sample"]) == (
        33, "97.00", False,
    )  # fmt: skip
    assert "L801" in relevance["source"]
    joint = group(question(payload, "8"))
    assert shares(joint)["4"] == "76.00"  # the agencies' joint work helped "a lot"
    # Every figure is the results page's.
    survey = Survey.objects.get(programme=ciudades, code="EVAL-INST")
    page = published_results(survey_results_data(survey))
    assert [q["question"] for q in payload["questions"]] == [b.question.code for b in page]
    for block, got in zip(page, payload["questions"], strict=True):
        for result, g in zip(block.results, got["groups"], strict=True):
            assert (g["group"], g["respondents"], g["small_sample"]) == (
                result.group, result.n, result.small,
            )  # fmt: skip
            assert g["top_box_pct"] == (None if result.top_box is None else f"{result.top_box}")
            assert [(c["answer"], c["share_pct"]) for c in g["answers"]] == [
                (c.answer, None if c.share is None else f"{c.share}") for c in result.cells
            ]


def test_published_results_break_down_by_city_with_the_small_sample_flag(donor_api):
    policies = question(results(donor_api, "EVAL-OFF", by="city"), "8.1")
    by_group = {g["group"]: g for g in policies["groups"]}
    assert list(by_group) == ["all", "city=CDMX", "city=SCL"]
    assert {k: (g["respondents"], g["small_sample"], g["top_box_pct"])
            for k, g in by_group.items()} == {
        "all": (52, False, "77.00"),
        "city=CDMX": (13, True, "77.00"),  # fewer than 30: read with care
        "city=SCL": (39, False, "77.00"),
    }  # fmt: skip
    assert by_group["city=SCL"]["group_label"] == "Santiago (Chile)"
    assert policies["small_sample"] is True
    # Without the breakdown, the whole group only.
    assert [g["group"] for g in question(results(donor_api, "EVAL-OFF"), "8.1")["groups"]] == [
        "all"
    ]


def test_the_municipal_assessment_results_name_no_municipality(donor_api):
    payload = results(donor_api, "MUNI-INTEGRATION-2023")
    assert (payload["kind"], payload["respondents"], payload["small_sample_below"]) == (
        "assessment", 9, 30,
    )  # fmt: skip
    regularisation = group(question(payload, "1.1", "responses"))
    assert (regularisation["respondents"], regularisation["top_box_pct"]) == (9, "22.2")
    assert regularisation["mean"] == "1.22"
    assert {c["answer"]: c["count"] for c in regularisation["answers"]} == {
        "0": 0, "1": 7, "2": 2, "3": 0,
    }  # fmt: skip
    text = str(payload)
    for private in ("Arica", "Valdivia", "L203-L212", "explicit"):
        assert private not in text  # respondents, findings and evidence stay on the page


# ---- results computed from responses ----------------------------------------------------------


def test_results_from_responses_are_the_results_pages(donor_api, kit):
    payload = results(donor_api, "EMPLEO", by="city")  # 5 and 7 respondents: both shown
    sat = question(payload, "sat", "responses")
    everyone = group(sat)
    assert (everyone["respondents"], everyone["top_box_pct"], everyone["mean"]) == (
        12, "58.3", "3.50",
    )  # fmt: skip
    assert everyone["answers"][0] == {
        "answer": "1", "label": "Very dissatisfied", "count": 1, "share_pct": "8.3",
        "top_box": False,
    }  # fmt: skip
    assert everyone["small_sample"] is True
    assert (everyone["suppressed"], everyone["suppressed_reason"]) == (False, None)
    assert [g["group"] for g in sat["groups"]] == ["all", "city=CDMX", "city=SCL"]
    page = compute_results(survey_results_data(kit.survey), {}, "city")
    block = next(b for b in page if b.question.code == "sat")
    assert [(g["respondents"], g["top_box_pct"]) for g in sat["groups"]] == [
        (r.n, f"{r.top_box}") for r in block.results
    ]
    assert sat["text_es"] == "¿Qué tan satisfecho/a está?"
    assert sat["text"] == sat["text_en"] == "How satisfied are you?"  # asked in English


def test_a_filter_keeps_the_respondents_the_page_would(admin_api, kit):
    payload = results(admin_api, "EMPLEO", sex="male", city="SCL")
    assert (payload["respondents"], payload["respondents_kept"]) == (12, 3)
    assert (payload["withheld"], payload["min_group_size"]) == (False, None)
    assert payload["filters"] == {"city": "SCL", "sex": "male"}
    assert group(question(payload, "sat", "responses"))["respondents"] == 3


def test_a_donor_never_reads_a_response(donor_api, kit, rco_viewer, ciudades):
    respond(kit, "c1", comments="Me llamo Ana Pérez y vivo en Recoleta")
    for n in range(2, 6):  # five answers: not a small group
        respond(kit, f"c{n}", comments=f"Comentario {n}")
    for client in (donor_api, api(token(rco_viewer, ciudades))):
        body = client.get(f"{API}/surveys/EMPLEO/results/", {"by": "city"}).content.decode()
        assert "Ana Pérez" not in body and "Recoleta" not in body
        for external_id in Response.objects.filter(survey=kit.survey).values_list(
            "external_id", flat=True
        ):
            assert f'"{external_id}"' not in body
        comments = group(question(results(client, "EMPLEO"), "comments", "responses"))
        assert (comments["respondents"], comments["answers"]) == (5, [])  # counted, not quoted
    for path in ("responses", "answers", "respondents"):
        assert donor_api.get(f"{API}/surveys/EMPLEO/{path}/").status_code == 404


@pytest.mark.parametrize(
    ("code", "params", "field"),
    [
        ("EMPLEO", {"by": "religion"}, "by"),
        ("EMPLEO", {"by": "age_group"}, "by"),  # nobody gave an age group
        ("EMPLEO", {"city": "LIMA"}, "city"),
        ("EMPLEO", {"age_group": "adult"}, "age_group"),
        ("EMPLEO", {"wave": "0"}, "wave"),
        ("EMPLEO", {"wave": "first"}, "wave"),
        ("EMPLEO", {"wave": "²"}, "wave"),  # a digit, not a number
        ("EVAL-OFF", {"city": "SCL"}, "city"),  # published results: break down, never filter
        ("EVAL-INST", {"by": "city"}, "by"),  # the publication printed no city groups
    ],
)
def test_a_bad_results_parameter_is_a_400_naming_it(donor_api, kit, code, params, field):
    body = results(donor_api, code, 400, **params)
    assert list(body["errors"]) == [field]


def test_an_unknown_survey_or_wave_is_a_404(donor_api, kit):
    assert results(donor_api, "NOPE", 404)["code"] == "not_found"
    assert results(donor_api, "EMPLEO", 404, wave=2)["detail"] == "Survey EMPLEO has no wave 2."
    assert results(donor_api, "EMPLEO", wave=1)["wave"] == 1


def test_a_code_with_a_nul_names_no_survey(donor_api):
    assert results(donor_api, "EVAL\x00INST", 404)["code"] == "not_found"


def test_the_latest_wave_unless_another_is_asked_for(donor_api, kit, ciudades):
    Survey.objects.create(
        programme=ciudades, code="EMPLEO", wave=2, title_es="Segunda", title_en="Second",
        copied_from=kit.survey,
    )  # fmt: skip
    assert (results(donor_api, "EMPLEO")["wave"], results(donor_api, "EMPLEO")["respondents"]) == (
        2, 0,
    )  # fmt: skip
    assert results(donor_api, "EMPLEO", wave=1)["respondents"] == 12
    listed = donor_api.get(f"{API}/surveys/", {"code": "EMPLEO"}).json()["results"]
    assert [s["wave"] for s in listed] == [1, 2]


# ---- who reads nothing ---------------------------------------------------------------------


def test_without_credentials_the_answer_is_401(db):
    assert APIClient().get(f"{API}/surveys/").status_code == 401
    assert APIClient().get(f"{API}/surveys/EVAL-INST/results/").status_code == 401


def test_an_outsider_reads_no_survey(outsider):
    client = api(login=outsider)
    assert client.get(f"{API}/surveys/").json()["results"] == []
    assert client.get(f"{API}/surveys/", {"programme": "CIUDADES"}).status_code == 404
    assert results(client, "EVAL-INST", 404, programme="CIUDADES")["code"] == "not_found"


def test_another_programmes_token_reads_only_its_own(donor, other):
    client = api(token(donor, other))
    assert [s["code"] for s in client.get(f"{API}/surveys/").json()["results"]] == ["OTRA"]
    assert client.get(f"{API}/surveys/", {"programme": "CIUDADES"}).status_code == 404
    assert results(client, "EVAL-INST", 404)["code"] == "not_found"  # not in its programme
    assert results(client, "EVAL-INST", 404, programme="CIUDADES")["code"] == "not_found"
    assert results(client, "OTRA")["programme"] == "OTRO"


# ---- nothing is written ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["surveys/", "surveys/EVAL-INST/results/"])
def test_nothing_can_be_written(donor, programme_admin, ciudades, path):
    url = f"{API}/{path}"
    for method in ("post", "put", "patch", "delete"):
        response = getattr(api(token(donor, ciudades)), method)(url, {}, format="json")
        assert response.status_code == 403, method
        response = getattr(api(login=programme_admin), method)(url, {}, format="json")
        assert response.status_code == 405, method
    assert Survey.objects.filter(programme=ciudades).count() == 5


@pytest.mark.parametrize("respondents", [3, 40])
def test_the_results_make_a_fixed_number_of_queries(
    donor_api, ciudades, respondents, django_assert_max_num_queries
):
    made = build_kit(ciudades, code="FIJO")
    for n in range(respondents):
        respond(made, f"f{n}", sat=4, service="jobs", needs=["docs"], age=30, comments="ok")
    with django_assert_max_num_queries(16):
        assert donor_api.get(f"{API}/surveys/FIJO/results/", {"by": "city"}).status_code == 200
    with django_assert_max_num_queries(8):
        assert donor_api.get(f"{API}/surveys/").status_code == 200
