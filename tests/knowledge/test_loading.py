"""The Ciudades knowledge data: the final evaluation with its nine recommendations, the two
lessons learned and the four good practices, in Spanish (verbatim) and English, loaded once
however often the loader runs, all or nothing; no evaluator's name anywhere."""

import copy
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from knowledge.loading import CIUDADES, load_ciudades_knowledge, load_knowledge
from knowledge.models import Evaluation, Lesson, ManagementResponse, Recommendation
from monitoring.loading import LoadError

from .conftest import signed_in

pytestmark = pytest.mark.django_db

REC1_ES = (
    "En el Manual “Ruta de las Personas Migrantes y Refugiadas” (Santiago de Chile), definir "
    "protocolos de actualización y seguimiento periódico."
)
REC1_EN = (
    "In the Manual “Route for Migrants and Refugees” (Santiago de Chile), define protocols for "
    "updating it and for periodic follow-up."
)
# Named in the source (evaluation team, manager, EVAL officer): kept out of the project.
NAMES = ("Teodoro", "Sanz", "Velazco", "Olavarr", "Mireya", "Patiño", "Cybele", "Burga", "Vidal")


def test_it_loads_the_final_evaluation_as_the_source_describes_it(evaluation):
    assert evaluation.timing == "final" and evaluation.nature == "independent"
    assert evaluation.budget_amount == Decimal("32300.00") and evaluation.budget_currency == "USD"
    assert evaluation.end_date == dt.date(2023, 7, 31) and evaluation.dates_inferred
    assert evaluation.start_date is None
    assert evaluation.url == "https://webapps.ilo.org/ievaldiscovery/eval/3642"
    assert evaluation.title_es.endswith(
        "(Programa Conjunto Ciudades) – Evaluación final independiente"
    )
    assert "Regional Evaluation Officer" in evaluation.evaluators_en
    assert "Oficial Regional de Evaluación" in evaluation.evaluators_es
    assert evaluation.shareable


def test_it_loads_nine_recommendations_in_both_languages(evaluation):
    recs = {r.number: r for r in evaluation.recommendations.prefetch_related("addressee_agencies")}
    assert sorted(recs) == list(range(1, 10))
    assert recs[1].text_es.startswith(REC1_ES)
    assert recs[1].text_en.startswith(REC1_EN)
    assert all(r.text_es and r.text_en for r in recs.values())
    assert (recs[1].priority, recs[1].term, recs[1].timeframe_es, recs[1].timeframe_en) == (
        "high",
        "short",
        "Corto plazo",
        "Short term",
    )
    assert recs[1].resources_es == "Baja implicación de recursos"
    assert recs[1].resources_en == "Low resource implications"
    assert recs[8].priority == "medium"  # "Prioridad mediana" in the source
    assert [n for n, r in recs.items() if r.priority == "high"] == [1, 2, 3, 6, 7, 9]
    assert recs[9].addressees_en == (
        "ILO, IOM, UNHCR and other UN System agencies taking part in similar future Programmes"
    )
    assert recs[9].related_to_es == "Conclusión 14 Lecciones aprendidas 1 y 2"
    assert {a.code for a in recs[5].addressee_agencies.all()} == {"ILO", "IOM", "UNHCR"}
    assert [o.code for o in recs[7].outputs.all()] == ["1.2"] and recs[7].links_inferred
    # The footnote inside recommendation 3 in the source is not part of its text.
    assert "primera recomendación" not in recs[3].text_es
    assert not ManagementResponse.objects.exists()  # the sources document none


def test_it_loads_the_two_lessons_and_four_good_practices(evaluation, ciudades):
    lessons = {x.code: x for x in Lesson.objects.filter(programme=ciudades)}
    assert sorted(lessons) == ["GP1", "GP2", "GP3", "GP4", "LL3", "LL4"]
    ll3 = lessons["LL3"]
    assert ll3.kind == "lesson" and ll3.evaluation == evaluation
    assert "estos Comités solamente se reunieron una vez al año" in ll3.context_es
    assert "these Committees met only once a year" in ll3.context_en
    assert [(t.name_en, t.category_en) for t in ll3.themes.all()] == [
        ("Migration", "Conditions of work & equality")
    ]
    assert ll3.source_url == "https://webapps.ilo.org/ievaldiscovery/lessons/242853"
    assert [o.code for o in ll3.outputs.all()] == ["3.1"]
    assert [i.code for i in ll3.indicators.all()] == ["3B"]
    gp4 = lessons["GP4"]
    assert gp4.kind == "good_practice"
    assert "238 funcionarios/as públicos/as de municipios, de 19 países" in gp4.impact_es
    assert "238 public officials from municipalities in 19 countries" in gp4.impact_en
    assert gp4.cause_effect_es == gp4.cause_effect_en == ""  # empty in the source
    assert all(x.title_es and x.title_en and x.description_en for x in lessons.values())


def test_no_evaluator_is_named_in_the_data():
    text = CIUDADES.read_text(encoding="utf-8")
    assert [n for n in NAMES if n in text] == []


def test_loading_again_changes_nothing(evaluation, ciudades):
    before = list(Recommendation.objects.values_list("pk", "text_en"))
    again = load_ciudades_knowledge(ciudades)
    assert again.changes == 0
    assert list(Recommendation.objects.values_list("pk", "text_en")) == before


def forget_knowledge(programme) -> None:
    """As before the data was ever loaded (whether or not load_ciudades loads it)."""
    Evaluation.objects.filter(programme=programme).delete()
    Lesson.objects.filter(programme=programme).delete()


def test_a_bad_document_loads_nothing(ciudades):
    forget_knowledge(ciudades)
    document = json.loads(CIUDADES.read_text(encoding="utf-8"))
    broken = copy.deepcopy(document)
    broken["lessons"][-1]["outputs"] = ["9.9"]
    with pytest.raises(LoadError) as info:
        load_knowledge(ciudades, broken)
    assert str(info.value) == "lesson GP4, field 'outputs': unknown output '9.9' in CIUDADES."
    assert not Evaluation.objects.filter(programme=ciudades).exists()
    assert not Lesson.objects.filter(programme=ciudades).exists()


def test_the_command_loads_and_refuses_an_unknown_programme(ciudades):
    forget_knowledge(ciudades)
    out = io.StringIO()
    call_command("load_knowledge", "CIUDADES", stdout=out)
    assert "created: 1 evaluations, 6 lessons and good practices, 9 recommendations" in (
        out.getvalue()
    )
    with pytest.raises(CommandError, match="No programme 'NOPE'"):
        call_command("load_knowledge", "NOPE", stdout=io.StringIO())


@pytest.mark.parametrize(
    ("language", "text", "other"), [("es", REC1_ES, REC1_EN), ("en", REC1_EN, REC1_ES)]
)
def test_the_recommendation_page_shows_the_text_in_each_language(evaluation, language, text, other):
    page = signed_in("donor", language).get(
        "/programmes/CIUDADES/knowledge/evaluations/FINAL-2023/recommendations/1/"
    )
    assert page.status_code == 200
    body = page.content.decode()
    assert f'<html lang="{language}">' in body
    assert text in body and other not in body


@pytest.mark.parametrize(
    ("language", "phrase"),
    [("es", "se reunieron solamente una vez al año"), ("en", "met only once a year")],
)
def test_the_lesson_page_shows_the_lesson_in_each_language(evaluation, language, phrase):
    page = signed_in("coord.iom.scl", language).get("/programmes/CIUDADES/knowledge/lessons/LL3/")
    assert page.status_code == 200
    assert phrase in page.content.decode()
