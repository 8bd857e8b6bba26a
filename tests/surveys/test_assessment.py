"""The assessment page (DESIGN §7): a municipality × indicator heat map and dimension scores
with their coverage; "not assessed" is shown as such and is never a zero."""

import csv
import io
from decimal import Decimal

import plotly.graph_objects as go
import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from surveys.assessment import (
    Cell,
    Dimension,
    Item,
    Score,
    build_assessment_heatmap_figure,
    build_dimension_scores_figure,
    dimension_scores,
)
from surveys.assessment_views import assessment_data
from surveys.models import Survey

CODE = "MUNI-INTEGRATION-2023"
LEVELS = {0: "Absent", 1: "Basic", 2: "Specific", 3: "Institutionalised"}
DIMENSIONS = [
    Dimension("D1: Assistance", tuple(Item(c, c) for c in ("1.1", "1.2", "1.3", "1.4"))),
    Dimension("D2: Work", (Item("2.1", "e"), Item("2.2", "f"))),
]
CELLS = {
    ("Arica", "1.1"): Cell(3, "explicit"),
    ("Arica", "1.3"): Cell(0, "explicit"),  # absent: a level, counted
    ("Arica", "1.4"): Cell(2, "by_exclusion"),
    # 1.2, 2.1 and 2.2 not assessed for Arica
    ("Iquique", "2.1"): Cell(1, "aggregate"),
}


def _validated(fig: go.Figure) -> go.Figure:
    """Rebuild ``fig`` through Plotly's validators (ValueError on anything invalid)."""
    return go.Figure(fig.to_plotly_json())


def url(survey: str = CODE, query: str = "") -> str:
    path = reverse("survey_assessment:detail", args=("CIUDADES", survey))
    return path + (f"?{query}" if query else "")


# ---- pure ---------------------------------------------------------------------------------


def test_a_dimension_score_is_the_mean_over_the_items_assessed_with_its_coverage():
    scores = dimension_scores(DIMENSIONS, ["Arica", "Iquique"], CELLS)
    assert scores == [
        # (3 + 0 + 2) / 3, not (3 + 0 + 0 + 2) / 4: 1.2 is not assessed, 1.3 is a real zero
        Score("Arica", "D1: Assistance", 3, 4, Decimal("1.67")),
        Score("Arica", "D2: Work", 0, 2, None),
        Score("Iquique", "D1: Assistance", 0, 4, None),
        Score("Iquique", "D2: Work", 1, 2, Decimal("1.00")),
    ]
    assert scores[0].coverage == "3 of 4 assessed"
    assert scores[1].coverage == "0 of 2 assessed"


def test_the_heat_map_shows_not_assessed_cells_apart_from_zeros():
    fig = _validated(
        build_assessment_heatmap_figure(DIMENSIONS, ["Arica", "Iquique"], CELLS, LEVELS, "t")
    )
    levels, gaps = fig.data
    assert (levels.type, gaps.type) == ("heatmap", "heatmap")
    assert list(levels.x) == ["1.1", "1.2", "1.3", "1.4", "2.1", "2.2"]
    assert [list(r) for r in levels.z] == [
        [3, None, 0, 2, None, None],
        [None, None, None, None, 1, None],
    ]
    assert [list(r) for r in gaps.z] == [
        [None, 0, None, None, 0, 0],
        [0, 0, 0, 0, None, 0],
    ]
    assert gaps.name == "not assessed" and "not assessed" in gaps.hovertemplate
    assert (levels.zmin, levels.zmax) == (-0.5, 3.5)
    assert list(levels.colorbar.tickvals) == [0, 1, 2, 3]
    assert len(fig.layout.shapes) == 1  # the line between the two dimensions


def test_the_scores_chart_marks_a_dimension_not_assessed_instead_of_a_zero_bar():
    scores = dimension_scores(DIMENSIONS, ["Arica", "Iquique"], CELLS)
    fig = _validated(build_dimension_scores_figure(DIMENSIONS, scores, 3, "t"))
    d1, d2, missing = fig.data
    assert list(d1.y) == [1.67, None] and list(d1.text) == ["3/4", ""]
    assert list(d2.y) == [None, 1.0]
    assert (missing.type, missing.name, list(missing.x)) == (
        "scatter",
        "not assessed",
        ["Arica", "Iquique"],
    )
    assert [c[0] for c in missing.customdata] == ["D2", "D1"]


def test_empty_data_gives_an_explaining_figure():
    fig = _validated(build_assessment_heatmap_figure([], [], {}, LEVELS, "t"))
    assert fig.data == () and "Nothing to show" in fig.layout.annotations[0].text


# ---- the Ciudades assessment ---------------------------------------------------------------


@pytest.mark.django_db
def test_the_loaded_assessment_has_26_indicators_9_municipalities_and_hand_checked_scores(
    ciudades,
):
    data = assessment_data(Survey.objects.get(programme=ciudades, code=CODE))
    assert [len(d.items) for d in data.dimensions] == [7, 9, 10]
    assert len(data.units) == 9 and data.units[0] == "Arica" and data.units[-1] == "Punta Arenas"
    assert data.levels[0] == "Absent" and data.levels[3].startswith("Institutionalised")
    scores = {
        (s.unit, s.dimension[:11]): s
        for s in dimension_scores(data.dimensions, data.units, data.cells)
    }
    # Arica, dimension 1: 1.1 = 1, 1.2 = 2, 1.3 = 2, the other four not assessed → 5 / 3
    arica = scores[("Arica", "Dimension 1")]
    assert (arica.score, arica.assessed, arica.items) == (Decimal("1.67"), 3, 7)
    # Valdivia's dimension 2 was not assessed (footnote 7): no score, not a zero.
    valdivia = scores[("Valdivia", "Dimension 2")]
    assert (valdivia.score, valdivia.assessed, valdivia.items) == (None, 0, 9)
    # Valdivia's dimension 3: only 3.1, reported absent (0) → a real zero over 1 of 10.
    governance = scores[("Valdivia", "Dimension 3")]
    assert (governance.score, governance.assessed) == (0, 1)


def _login(username: str, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(get_user_model().objects.get(username=username))
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["rco", "donor", "coord.ilo.scl", "approver.iom", "admin"])
def test_every_member_sees_the_page(ciudades, persona):
    response = _login(persona).get(url())
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-chart="chart-heatmap"' in html and 'data-chart="chart-scores"' in html
    assert "<script>" not in html
    assert "not assessed" in html and "3 of 7 assessed" in html


@pytest.mark.django_db
def test_an_anonymous_visitor_is_sent_to_log_in_and_an_outsider_gets_404(
    client, ciudades, outsider
):
    response = client.get(url())
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    client.force_login(outsider)
    assert client.get(url()).status_code == 404


@pytest.mark.django_db
def test_only_assessments_have_the_page(ciudades):
    client = _login("rco")
    assert client.get(url("EVAL-INST")).status_code == 404  # published results, not scored items
    assert client.get(url("NO-SUCH-SURVEY")).status_code == 404


@pytest.mark.django_db
def test_the_page_speaks_both_languages(ciudades):
    spanish = _login("rco", "es").get(url()).content.decode()
    assert "Políticas de integración de población inmigrante en municipios chilenos" in spanish
    assert "Dimensión 1: Asistencia a personas migrantes y refugiadas" in spanish
    english = _login("rco", "en").get(url()).content.decode()
    assert "Migrant-integration policies in Chilean municipalities" in english
    assert "Dimension 1: Assistance to migrants and refugees" in english


@pytest.mark.django_db
def test_the_charts_rows_download_as_csv(ciudades):
    client = _login("donor")
    heatmap = client.get(url(query="download=heatmap"))
    assert heatmap["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(heatmap.content.decode("utf-8-sig"))))
    assert len(rows) == 9 * 26
    cell = next(r for r in rows if r["respondent"] == "Valdivia" and r["item"] == "2.1")
    assert (cell["level"], cell["level_label"]) == ("", "not assessed")
    cell = next(r for r in rows if r["respondent"] == "Arica" and r["item"] == "1.2")
    assert (cell["level"], cell["evidence"]) == ("2", "the source names the municipality")
    scores = client.get(url(query="download=scores"))
    rows = list(csv.DictReader(io.StringIO(scores.content.decode("utf-8-sig"))))
    assert len(rows) == 9 * 3
    assert {k: rows[0][k] for k in ("respondent", "mean_level", "items_assessed", "items")} == {
        "respondent": "Arica",
        "mean_level": "1.67",
        "items_assessed": "3",
        "items": "7",
    }


@pytest.mark.django_db
def test_the_page_makes_a_fixed_number_of_queries(ciudades, django_assert_max_num_queries):
    client = _login("rco")
    # session, user, programme, membership, survey, questions, levels, responses, answers
    with django_assert_max_num_queries(10):
        assert client.get(url()).status_code == 200
