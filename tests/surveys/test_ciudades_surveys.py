"""The Ciudades surveys as loaded from the programme document: the four evaluation surveys of
May 2023 (published results, no micro-data) and the municipal integration-policy assessment;
loading is idempotent and names the record and field of bad data."""

import copy
import json
import re
from decimal import Decimal

import pytest
from django.db.models import Count, Sum

from monitoring.loading import LoadError, ProgrammeLoader
from monitoring.management.commands.load_ciudades import DOCUMENT
from surveys.models import AggregateResult, Answer, Question, Scale, Survey

pytestmark = pytest.mark.django_db

# code: (invited, respondents, profile question whose printed distribution adds up to them)
EVALUATION = {
    "EVAL-INST": (65, 33, "1a"),
    "EVAL-OFF": (104, 52, "1"),
    "EVAL-ENT": (186, 44, "1"),
    "EVAL-CCL": (256, 117, "1"),
}


@pytest.fixture
def document() -> dict:
    return json.loads(DOCUMENT.read_text(encoding="utf-8"))


def published(survey: str, question: str, answer: str, group: str = "all") -> AggregateResult:
    return AggregateResult.objects.get(
        survey__programme__code="CIUDADES",
        survey__code=survey,
        question__code=question,
        group=group,
        answer=answer,
    )


@pytest.mark.parametrize(("code", "expected"), EVALUATION.items())
def test_the_four_evaluation_surveys_with_their_invited_and_respondents(ciudades, code, expected):
    invited, respondents, profile = expected
    survey = Survey.objects.get(programme=ciudades, code=code)
    assert (survey.kind, survey.status, survey.invited) == ("aggregate", "closed", invited)
    assert (survey.fielded_on.year, survey.fielded_on.month, survey.period.code) == (
        2023,
        5,
        "2023-Q2",
    )
    assert not survey.responses.exists()  # published results only
    rows = survey.aggregates.filter(question__code=profile, group="all")
    assert set(rows.values_list("respondents", flat=True)) == {respondents}
    assert rows.aggregate(n=Sum("count"))["n"] == respondents
    assert f"{invited} sent, {respondents} answered" in survey.source
    assert (
        f"{invited}" in survey.description_en and f"{respondents} answered" in survey.description_en
    )


def test_institutions_rate_the_relevance_very_high_67_and_high_30_percent(ciudades):
    very_high, high = published("EVAL-INST", "2", "5"), published("EVAL-INST", "2", "4")
    assert (very_high.share, very_high.respondents) == (Decimal(67), 33)
    assert (high.share, high.respondents) == (Decimal(30), 33)
    assert "EVAL L801" in very_high.source
    question = very_high.question
    assert question.type == "scale"
    levels = {lv.value: (lv.label_es, lv.top_box) for lv in question.scale.levels.all()}
    assert levels[5] == ("Muy alta relevancia", True)
    assert levels[4] == ("Alta relevancia", True)
    assert not levels[3][1]


def test_joint_work_of_the_agencies_helped_a_lot_76_and_of_the_two_cities_56_percent(ciudades):
    agencies, cities = published("EVAL-INST", "8", "4"), published("EVAL-INST", "9", "4")
    assert (agencies.share, cities.share) == (Decimal(76), Decimal(56))
    assert "L1248" in agencies.source and "L1248" in cities.source
    mucho = agencies.question.scale.levels.get(value=4)
    assert (mucho.label_es, mucho.label_en, mucho.top_box) == ("Mucho", "A lot", True)
    assert "ACNUR" in agencies.question.text_es and "UNHCR" in agencies.question.text_en


def test_other_published_figures_keep_their_printed_values(ciudades):
    assert published("EVAL-OFF", "6", "4+5").share == 73  # officials: useful or very useful
    assert published("EVAL-ENT", "16", "4+5").share == 85
    assert published("EVAL-CCL", "17", "4+5").share == 71
    assert published("EVAL-CCL", "14", "1").share == 93  # completed the certification
    assert published("EVAL-INST", "6.1", "4").respondents == 25
    santiago = published("EVAL-OFF", "8.1", "3+4", group="city=SCL")
    assert (santiago.share, santiago.respondents) == (Decimal(77), 39)
    # A share the source does not print is derived from the counts, and says so.
    profile = published("EVAL-INST", "1a", "cl")
    assert (profile.count, profile.share) == (21, Decimal("63.64"))
    assert "[derived]" in profile.source


def test_questionnaires_are_bilingual_complete_and_every_result_cites_a_line(ciudades):
    questions = Question.objects.filter(survey__programme=ciudades, survey__kind="aggregate")
    counts = dict(
        questions.values_list("survey__code")
        .annotate(n=Count("id"))
        .values_list("survey__code", "n")
    )
    assert counts == {"EVAL-INST": 79, "EVAL-OFF": 16, "EVAL-ENT": 35, "EVAL-CCL": 24}
    for q in questions:
        assert q.text_es.strip() and q.text_en.strip(), q
        assert "..." not in q.text_es + q.text_en, q
    results = AggregateResult.objects.filter(survey__programme=ciudades)
    assert results.count() == 69
    for r in results:
        assert re.search(r"L\d+", r.source), r
    # Matrix items are scale questions; skip logic follows the questionnaire.
    contribution = Question.objects.get(survey__code="EVAL-INST", code="12.2.1")
    assert (contribution.show_if.code, contribution.show_if_values) == ("12.1.1", ["4", "3", "2"])


def test_the_municipal_assessment_is_loaded_as_scored_items(ciudades):
    survey = Survey.objects.get(programme=ciudades, code="MUNI-INTEGRATION-2023")
    assert survey.kind == "assessment"
    assert [s.title_en for s in survey.sections.all()] == [
        "Dimension 1: Assistance to migrants and refugees",
        "Dimension 2: Work and economic development",
        "Dimension 3: Institutional governance",
    ]
    assert [s.questions.count() for s in survey.sections.all()] == [7, 9, 10]
    assert set(survey.questions.values_list("type", "scale__code")) == {("scale", "assessment-0-3")}
    scale = Scale.objects.get(code="assessment-0-3")
    assert list(scale.levels.values_list("value", flat=True)) == [0, 1, 2, 3]
    assert list(survey.responses.values_list("respondent", flat=True)) == [
        "Arica", "Iquique", "Copiapó", "Valparaíso", "Rancagua",
        "Concepción", "Valdivia", "Puerto Montt", "Punta Arenas",
    ]  # fmt: skip
    answers = Answer.objects.filter(response__survey=survey)
    assert answers.count() == 83  # only the cells the coding scores; the rest are not assessed
    arica_12 = answers.get(response__respondent="Arica", question__code="1.2")
    assert (arica_12.number, arica_12.evidence) == (2, "explicit")
    assert "L203-L212" in arica_12.text
    valdivia = answers.filter(response__respondent="Valdivia")
    assert not valdivia.filter(question__section__order=2).exists()  # D2 not assessed
    assert "[inference]" in survey.description_en and "[inference]" in survey.source


def test_a_changed_share_is_updated_in_place_and_an_unscored_cell_is_removed(document, ciudades):
    inst = next(s for s in document["surveys"] if s["code"] == "EVAL-INST")
    next(r for r in inst["results"] if r["question"] == "9")["share"] = 57
    muni = next(s for s in document["surveys"] if s["code"] == "MUNI-INTEGRATION-2023")
    arica = next(r for r in muni["responses"] if r["external_id"] == "arica")
    arica["answers"] = [a for a in arica["answers"] if a["question"] != "1.2"]
    stats = ProgrammeLoader(document).load()
    assert stats.updated == {"published results": 1, "answers": 1}
    assert published("EVAL-INST", "9", "4").share == 57
    assert not Answer.objects.filter(response__respondent="Arica", question__code="1.2").exists()


def test_a_new_programme_loads_its_surveys_and_then_stays_unchanged(document):
    document["programme"]["code"] = "CIUDADES2"
    first = ProgrammeLoader(copy.deepcopy(document)).load()
    assert (first.created["surveys"], first.created["questions"]) == (5, 180)
    assert first.created.get("scales", 0) == 0  # scales are shared, matched by code
    assert ProgrammeLoader(copy.deepcopy(document)).load().changes == 0


@pytest.mark.parametrize(
    ("mutate", "record", "field", "message"),
    [
        (
            lambda d: d["surveys"][0]["sections"][1]["questions"][0].update(scale="nope"),
            "survey EVAL-INST › question 2",
            "scale",
            "unknown scale 'nope'",
        ),
        (
            lambda d: d["surveys"][0]["results"][2].update(share=140),
            "survey EVAL-INST › result 2/all/5",
            None,
            "aggregate_share_percent",
        ),
        (
            lambda d: d["surveys"][4]["responses"][0]["answers"][0].update(question="9.9"),
            "survey MUNI-INTEGRATION-2023 › response arica",
            "answers",
            "unknown question '9.9'",
        ),
        (
            lambda d: d["surveys"][1]["questions"].append(dict(d["surveys"][1]["questions"][0])),
            "surveys[1] (EVAL-OFF) › questions[16] (1)",
            "code",
            "duplicate",
        ),
    ],
)
def test_bad_survey_records_are_named(document, mutate, record, field, message):
    document["programme"]["code"] = "FRESH"
    mutate(document)
    with pytest.raises(LoadError) as info:
        ProgrammeLoader(document).load()
    assert (info.value.record, info.value.field) == (record, field)
    assert message in info.value.message
