"""Small groups in survey results (issue 8): respondents are migrants, refugees and asylum
seekers, so whoever reads results from outside the survey's owners (a donor, the RCO, an
agency) never gets a group of fewer than SURVEY_MIN_GROUP_SIZE respondents — not its n, not
its answers — nor a group from which one could be worked out; the programme admin sees every
group. The page, the API, the survey's own export and the export catalogue agree.

The survey (tests/surveys/results_fixtures.py): twelve respondents, Santiago 7 (4 women,
3 men), Mexico City 5 (men). By sex: women 4 (fewer than 5), men 8 — the men are withheld too,
or 12 − 8 would give the women."""

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from monitoring.models import ApiToken
from surveys.disclosure import (
    COMPLEMENTARY,
    SMALL_GROUP,
    TOO_DETAILED,
    cell_counts,
    withheld_cells,
)
from surveys.models import Response, Survey

from ..surveys.results_fixtures import answer_twelve, build_kit, publish

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
OUTSIDERS = ["donor", "rco_viewer", "ilo_coordinator_scl", "iom_approver"]
ALL = (None,)  # the whole group of a one-attribute pattern


@pytest.fixture
def kit(ciudades):
    made = build_kit(ciudades)
    answer_twelve(made)
    return made


def page(client, kit, query: str = "") -> str:
    address = reverse("surveys:results", args=["CIUDADES", kit.survey.code, kit.survey.wave])
    response = client.get(f"{address}?{query}")
    assert response.status_code == 200
    return response.content.decode()


def row(html: str, label: str) -> str:
    """The ``sat`` table's row of this group."""
    table = html.split('id="responses-sat"')[1].split("</table>")[0]
    return table.split(f'<th scope="row">{label}</th>')[1].split("</tr>")[0]


def api_results(user, programme, code: str = "EMPLEO", **params) -> dict:
    key = ApiToken.issue(user=user, programme=programme, scope="read", days=1, name="t")[1]
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.get(f"/api/v1/surveys/{code}/results/", params)
    assert response.status_code == 200, response.content
    return response.json()


def sat_groups(payload: dict) -> dict[str, dict]:
    sat = next(q for q in payload["questions"] if q["question"] == "sat")
    return {g["group"]: g for g in sat["groups"]}


def csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


# ---- the pattern, as plain numbers --------------------------------------------------------


def test_it_withholds_a_small_group_and_the_next_smallest_beside_it():
    counts = {ALL: 19, ("female",): 3, ("male",): 10, ("",): 6}
    assert withheld_cells(counts, 5) == {("female",), ("",)}


def test_it_withholds_until_the_withheld_groups_hold_the_minimum_together():
    counts = {ALL: 29, ("A",): 1, ("B",): 2, ("C",): 6, ("D",): 20}
    assert withheld_cells(counts, 5) == {("A",), ("B",), ("C",)}


def test_it_withholds_nothing_when_every_group_is_large_enough():
    assert withheld_cells({ALL: 12, ("SCL",): 7, ("CDMX",): 5}, 5) == set()


def test_a_cross_table_cell_is_withheld_in_both_directions():
    rows = [{"city": "SCL", "sex": "female"}] * 4 + [{"city": "SCL", "sex": "male"}] * 3
    rows += [{"city": "CDMX", "sex": "male"}] * 5
    counts = cell_counts(rows, ["city", "sex"])
    assert (counts[(None, None)], counts[("SCL", None)], counts[(None, "male")]) == (12, 7, 8)
    # Women (4) and, as their complement, men (8); in Santiago both sexes (4, 3).
    assert withheld_cells(counts, 5) == {
        (None, "female"), (None, "male"), ("SCL", "female"), ("SCL", "male"),
    }  # fmt: skip


def test_a_group_identical_to_a_shown_total_is_never_its_only_secret():
    """Everyone in Mexico City is a man: "Mexico City, men" is Mexico City. When the men are
    withheld elsewhere, the city is withheld too, or it would give them away."""
    rows = [{"city": "CDMX", "sex": "male"}] * 6 + [{"city": "SCL", "sex": "male"}] * 3
    rows += [{"city": "SCL", "sex": "female"}] * 9
    withheld = withheld_cells(cell_counts(rows, ["city", "sex"]), 5)
    assert ("SCL", "male") in withheld and ("CDMX", "male") in withheld
    assert ("CDMX", None) in withheld


def test_no_line_gives_a_withheld_cell_away_and_every_process_withholds_the_same():
    """Five attributes, 400 respondents drawn at random (seeded): in every total and its
    groups by one attribute, the withheld cells are none, or two or more holding the
    minimum together, or the total and one group at least. Two interpreters with different
    hash seeds withhold the same cells."""
    script = (
        "import json, random, os; os.environ['DJANGO_SETTINGS_MODULE'] = "
        "'monitoring.settings.test'; import django; django.setup(); "
        "from surveys.disclosure import cell_counts, withheld_cells; r = random.Random(8); "
        "v = {'city': 'ABCDEFG', 'sex': 'fm-', 'age': 'abcd', 'status': 'rmas', 'type': 'pqr'}; "
        "rows = [{a: r.choice(c) for a, c in v.items()} for _ in range(400)]; "
        "counts = cell_counts(rows, list(v)); w = withheld_cells(counts, 5); "
        "print(json.dumps([sorted([list(c) for c in counts.items()], key=str), "
        "sorted([list(c) for c in w], key=str)]))"
    )
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    counted, withheld_list = json.loads(outputs[0])
    counts = {tuple(cell): n for cell, n in counted}
    withheld = {tuple(cell) for cell in withheld_list}
    assert 0 < len(withheld) < len(counts)
    lines: dict[tuple, list[tuple]] = {}
    for cell in counts:
        for at, value in enumerate(cell):
            if value is not None:
                lines.setdefault((*cell[:at], None, *cell[at + 1 :], at), []).append(cell)
    for key, groups in lines.items():
        total = key[:-1]
        hidden = [g for g in groups if g in withheld]
        if total in withheld:
            assert hidden, (total, groups)  # else the groups add up to it
        else:
            assert not hidden or (len(hidden) > 1 and sum(counts[g] for g in hidden) >= 5)
    assert all(counts[c] >= 5 for c in counts if c not in withheld)


# ---- the results page ----------------------------------------------------------------------


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_outside_the_owners_a_small_group_and_its_complement_are_withheld(
    client, kit, persona, request
):
    client.force_login(request.getfixturevalue(persona))
    html = page(client, kit, "by=sex")
    women, men = row(html, "female"), row(html, "male")
    assert "fewer than 5" in women and "withheld" in men
    for group in (women, men):
        assert "%" not in group and "(" not in group  # no share, no count
    assert "58.3 %" in row(html, "all respondents")  # the whole group stays
    assert 'id="small-groups-note"' in html


def test_the_programme_admin_sees_every_group(client, kit, programme_admin):
    client.force_login(programme_admin)
    html = page(client, kit, "by=sex")
    women = row(html, "female")
    assert "withheld" not in women and "fewer than 5" not in women
    assert '<td class="figure">4 ' in women and "100 %" in women  # 4 women, all top box
    assert 'id="small-groups-note"' not in html


def test_filters_that_keep_fewer_than_five_show_no_figures(client, kit, donor):
    client.force_login(donor)
    html = page(client, kit, "city=SCL&sex=male")  # 3 respondents
    assert 'id="withheld"' in html
    assert "they keep fewer than 5 respondents" in html
    assert 'id="responses-sat"' not in html
    assert "figures withheld for these filters" in html and "3 with these filters" not in html


def test_a_withheld_group_cannot_be_had_as_a_filter(client, kit, donor):
    """8 men: enough on their own, but 12 − 8 would give the 4 women."""
    client.force_login(donor)
    html = page(client, kit, "sex=male")
    assert 'id="withheld"' in html and 'id="responses-sat"' not in html
    shown = page(client, kit, "city=CDMX")  # 5 in Mexico City, every city shown
    assert 'id="withheld"' not in shown and "5 with these filters" in shown


def test_the_minimum_is_a_setting(client, kit, donor, settings):
    assert settings.SURVEY_MIN_GROUP_SIZE == 5  # the default
    settings.SURVEY_MIN_GROUP_SIZE = 3
    client.force_login(donor)
    women = row(page(client, kit, "by=sex"), "female")
    assert '<td class="figure">4 ' in women and "withheld" not in women


def test_the_minimum_comes_from_the_environment_and_protects_or_refuses_to_start():
    def started(value: str) -> subprocess.CompletedProcess:
        code = (
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.SURVEY_MIN_GROUP_SIZE)"
        )
        env = {**os.environ, "SURVEY_MIN_GROUP_SIZE": value,
               "DJANGO_SETTINGS_MODULE": "monitoring.settings.local"}  # fmt: skip
        return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)  # fmt: skip

    assert started("10").stdout.strip() == "10"
    refused = started("1")
    assert refused.returncode != 0
    assert "SURVEY_MIN_GROUP_SIZE must be 2 or more." in refused.stderr


def test_a_survey_with_fewer_than_five_respondents_shows_no_figures(client, ciudades, donor):
    from ..surveys.results_fixtures import respond

    tiny = build_kit(ciudades, code="TINY")
    for n in range(3):
        respond(tiny, f"t{n}", sat=5)
    client.force_login(donor)
    html = page(client, tiny)
    assert "This survey has fewer than 5 respondents" in html and 'id="responses-sat"' not in html


def test_more_than_three_attributes_combined_are_too_detailed(client, kit, donor):
    """The seven in Santiago, alike in sex, age group and migratory status: a group of
    seven, but a fourth attribute is one too many for anyone outside the owners."""
    Response.objects.filter(survey=kit.survey).update(age_group="adult")
    santiago = Response.objects.filter(survey=kit.survey, city__code="SCL")
    santiago.update(sex="female", migratory_status="refugee")
    filters = {"city": "SCL", "sex": "female", "age_group": "adult"}
    payload = api_results(donor, kit.programme, **filters, by="migratory_status")
    groups = sat_groups(payload)
    assert (groups["all"]["respondents"], payload["respondents_kept"]) == (7, 7)
    refugees = groups["migratory_status=refugee"]
    assert (refugees["suppressed_reason"], refugees["respondents"]) == (TOO_DETAILED, None)
    client.force_login(donor)
    html = page(client, kit, "city=SCL&sex=female&age_group=adult&by=migratory_status")
    assert "withheld" in row(html, "refugee")


def test_a_publications_small_group_is_withheld_too(ciudades, donor, programme_admin):
    made = build_kit(ciudades, code="EVAL-X", kind=Survey.Kind.AGGREGATE)
    publish(made, "all", 20, level_5="50", level_4="50")
    publish(made, "city=SCL", 3, level_5="100")
    publish(made, "city=CDMX", 17, level_5="41", level_4="59")
    groups = sat_groups(api_results(donor, ciudades, "EVAL-X", by="city"))
    scl, cdmx = groups["city=SCL"], groups["city=CDMX"]
    assert (scl["suppressed_reason"], scl["respondents"], scl["answers"][4]["share_pct"]) == (
        SMALL_GROUP, None, None,
    )  # fmt: skip
    assert (cdmx["suppressed_reason"], cdmx["respondents"]) == (COMPLEMENTARY, None)
    assert (groups["all"]["respondents"], groups["all"]["suppressed"]) == (20, False)
    scl = sat_groups(api_results(programme_admin, ciudades, "EVAL-X", by="city"))["city=SCL"]
    assert (scl["respondents"], scl["suppressed"], scl["answers"][4]["share_pct"]) == (
        3, False, "100.00",
    )  # fmt: skip


# ---- the API and the exports say the same --------------------------------------------------


def test_the_api_flags_withheld_groups_for_a_donor(kit, donor, ciudades):
    payload = api_results(donor, ciudades, by="sex")
    groups = sat_groups(payload)
    women, men = groups["sex=female"], groups["sex=male"]
    assert (women["suppressed"], women["suppressed_reason"]) == (True, SMALL_GROUP)
    assert (men["suppressed"], men["suppressed_reason"]) == (True, COMPLEMENTARY)
    for group in (women, men):
        assert group["respondents"] is None and group["top_box_pct"] is None
        assert group["mean"] is None
        assert {(a["count"], a["share_pct"]) for a in group["answers"]} == {(None, None)}
    assert (groups["all"]["respondents"], groups["all"]["top_box_pct"]) == (12, "58.3")
    assert payload["min_group_size"] == 5


def test_the_api_gives_no_figures_for_filters_that_keep_a_withheld_group(kit, donor, ciudades):
    payload = api_results(donor, ciudades, sex="male")
    assert (payload["withheld"], payload["respondents_kept"]) == (True, None)
    assert "Remove a filter" in payload["withheld_message"]
    everyone = sat_groups(payload)["all"]
    assert (everyone["suppressed"], everyone["respondents"]) == (True, None)


def test_the_api_gives_the_admin_every_group(kit, programme_admin, ciudades):
    payload = api_results(programme_admin, ciudades, by="sex")
    women = sat_groups(payload)["sex=female"]
    assert (women["suppressed"], women["respondents"], women["top_box_pct"]) == (False, 4, "100.0")
    assert payload["min_group_size"] is None


def test_page_export_catalogue_and_api_agree_for_a_donor(client, kit, donor, ciudades):
    client.force_login(donor)
    address = reverse("surveys:export_csv", args=["CIUDADES", "EMPLEO", 1])
    own = csv_rows(client.get(f"{address}?by=sex").content)
    catalogue = client.post(
        "/programmes/CIUDADES/exports/", {"kind": "surveys", "format": "csv", "survey": "EMPLEO"}
    )
    assert catalogue.status_code == 200
    listed = csv_rows(catalogue.content)
    api = sat_groups(api_results(donor, ciudades, by="sex"))
    for rows in (own, listed):
        sat = [r for r in rows if r["question"] == "sat"]
        women = [r for r in sat if r["group"] == "female"]
        men = [r for r in sat if r["group"] == "male"]
        assert women and {r["suppressed"] for r in women} == {
            api["sex=female"]["suppressed_reason"]
        }
        assert men and {r["suppressed"] for r in men} == {api["sex=male"]["suppressed_reason"]}
        for r in women + men:
            assert (r["respondents"], r["count"], r["share_pct"], r["top_box_pct"]) == (
                "", "", "", "",
            )  # fmt: skip
        everyone = {r["respondents"] for r in sat if r["group"] == "all respondents"}
        assert everyone == {"12"}
    # The catalogue breaks down by every attribute: the cities (7 and 5) are shown.
    santiago = [r for r in listed if r["question"] == "sat" and r["group"] == "Santiago (Chile)"]
    assert {r["respondents"] for r in santiago} == {"7"} and {
        r["suppressed"] for r in santiago
    } == {""}


def test_the_admins_own_export_has_every_group(client, kit, programme_admin):
    client.force_login(programme_admin)
    address = reverse("surveys:export_csv", args=["CIUDADES", "EMPLEO", 1])
    rows = csv_rows(client.get(f"{address}?by=sex").content)
    women = [r for r in rows if r["question"] == "sat" and r["group"] == "female"]
    assert {(r["respondents"], r["suppressed"]) for r in women} == {("4", "")}
