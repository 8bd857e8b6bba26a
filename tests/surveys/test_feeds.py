"""Survey → indicator (DESIGN §7): an indicator computed from a survey question becomes values
approved by rule, per city and for the programme, with provenance down to the responses;
changing the responses recomputes them; figures people entered are never overwritten."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from indicators.models import (
    Indicator,
    IndicatorValue,
    ProgressReport,
    RecomputeRequest,
    Rollup,
)
from indicators.services.reports import Entry, value_restate
from monitoring.models import Agency, AuditEvent, City, ReportingPeriod
from surveys.feeds import (
    AnswerRow,
    Figure,
    figures,
    responses_changed,
    value_responses,
)
from surveys.models import (
    Answer,
    FeedProvenance,
    IndicatorFeed,
    Question,
    Response,
    Scale,
    ScaleLevel,
    Survey,
)

pytestmark = pytest.mark.django_db
PERIOD = "2022-Q3"
TOP = frozenset({"4", "5"})

# ---- the computation, by hand -----------------------------------------------------------


def row(rid: int, city: int | None, number: int | None = None, *choices: str) -> AnswerRow:
    return AnswerRow(rid, city, None if number is None else Decimal(number), choices)


SCL, CDMX = 1, 2
LEVELS = [
    row(1, SCL, 5), row(2, SCL, 4), row(3, SCL, 2), row(4, SCL, 3),
    row(5, CDMX, 5), row(6, CDMX, 1), row(7, CDMX, 4),
    row(8, None, 5),
    row(9, SCL),  # an empty answer: not a respondent of the question
]  # fmt: skip


def test_top_box_share_is_computed_per_city_and_for_the_programme():
    # Santiago: 5 and 4 of 5, 4, 2, 3 → 2 of 4; Mexico City: 5 and 4 of 5, 1, 4 → 2 of 3;
    # the programme adds the response without a city: 5 of 8.
    assert figures(LEVELS, TOP) == [
        Figure(SCL, 4, 2, Decimal("50.00"), (1, 2, 3, 4)),
        Figure(CDMX, 3, 2, Decimal("66.67"), (5, 6, 7)),
        Figure(None, 8, 5, Decimal("62.50"), (1, 2, 3, 4, 5, 6, 7, 8)),
    ]


def test_a_choices_share_counts_respondents_giving_any_of_the_choices():
    rows = [
        row(1, SCL, None, "docs", "school"),
        row(2, SCL, None, "housing"),
        row(3, SCL, None, "school", "housing"),
        row(4, CDMX, None, "docs"),
        row(5, CDMX, None),  # no choice: did not answer
    ]
    counted = frozenset({"docs", "school"})
    assert figures(rows, counted) == [
        Figure(SCL, 3, 2, Decimal("66.67"), (1, 2, 3)),
        Figure(CDMX, 1, 1, Decimal("100.00"), (4,)),
        Figure(None, 4, 3, Decimal("75.00"), (1, 2, 3, 4)),
    ]


def test_a_yes_no_answer_counts_as_its_one_or_zero():
    rows = [row(1, SCL, 1), row(2, SCL, 0), row(3, SCL, 1)]
    assert figures(rows, frozenset({"1"}))[0] == Figure(SCL, 3, 2, Decimal("66.67"), (1, 2, 3))


def test_a_mean_is_over_those_who_answered():
    # Santiago (5 + 4 + 2 + 3) / 4 = 3.5; Mexico City (5 + 1 + 4) / 3 = 3.33; all 29 / 8 = 3.63
    assert figures(LEVELS, None) == [
        Figure(SCL, 4, None, Decimal("3.50"), (1, 2, 3, 4)),
        Figure(CDMX, 3, None, Decimal("3.33"), (5, 6, 7)),
        Figure(None, 8, None, Decimal("3.63"), (1, 2, 3, 4, 5, 6, 7, 8)),
    ]


def test_nobody_answering_gives_no_figure():
    assert figures([row(1, SCL)], TOP) == []
    assert figures([], None) == []


# ---- stored values ----------------------------------------------------------------------


@pytest.fixture
def kit(ciudades):
    """A satisfaction survey of 2022-Q3 feeding 1.2.D (percent, weighted, both cities)."""
    scale = Scale.objects.create(code="test-sat-5", name_es="Satisfacción", name_en="Satisfaction")
    for value in range(1, 6):
        ScaleLevel.objects.create(
            scale=scale, value=value, label_es=str(value), label_en=str(value), top_box=value >= 4
        )
    survey = Survey.objects.create(
        programme=ciudades,
        code="SAT-TEST",
        title_es="Satisfacción",
        title_en="Satisfaction",
        period=ReportingPeriod.objects.get(programme=ciudades, code=PERIOD),
    )
    question = Question.objects.create(
        survey=survey, code="sat", type="scale", scale=scale, text_es="¿?", text_en="?"
    )
    indicator = Indicator.objects.get(programme=ciudades, code="1.2.D")
    feed = IndicatorFeed.objects.create(indicator=indicator, question=question)
    return survey, question, indicator, feed


def respond(survey, question, key: str, city: str | None, level: int | None) -> Response:
    response = Response.objects.create(
        survey=survey,
        external_id=key,
        source="upload",
        submitted_at=timezone.now(),
        city=City.objects.get(code=city) if city else None,
    )
    if level is not None:
        Answer.objects.create(response=response, question=question, number=level)
    return response


def answered(kit, levels: dict[str, tuple[str | None, int | None]]) -> dict[str, Response]:
    survey, question, _indicator, _feed = kit
    return {key: respond(survey, question, key, city, lv) for key, (city, lv) in levels.items()}


HAND = {
    "s1": ("SCL", 5), "s2": ("SCL", 4), "s3": ("SCL", 2), "s4": ("SCL", 3),
    "m1": ("CDMX", 5), "m2": ("CDMX", 1), "m3": ("CDMX", 4),
    "x1": (None, 5),
    "s5": ("SCL", None),  # answered nothing
}  # fmt: skip


def value_of(indicator, city: str | None) -> IndicatorValue:
    return IndicatorValue.objects.select_related("report").get(
        indicator=indicator,
        category=None,
        report__period__code=PERIOD,
        report__agency=None,
        **({"report__city__code": city} if city else {"report__city__isnull": True}),
    )


def computed(indicator) -> list[tuple]:
    """The computed values as rows, with the responses behind each."""
    values = IndicatorValue.objects.filter(indicator=indicator, provenance="survey")
    return sorted(
        (
            v.report.city.code if v.report.city else "ALL",
            v.value,
            v.numerator,
            v.denominator,
            tuple(value_responses(v).values_list("external_id", flat=True)),
        )
        for v in values.select_related("report__city")
    )


def test_it_stores_values_approved_by_rule_in_the_joint_reports(kit):
    survey, _question, indicator, _feed = kit
    answered(kit, HAND)
    [outcome] = responses_changed(survey)
    assert (outcome.written, outcome.skipped) == (3, [])
    scl = value_of(indicator, "SCL")
    assert (scl.value, scl.numerator, scl.denominator) == (Decimal(50), 2, 4)
    assert scl.provenance == IndicatorValue.Provenance.SURVEY
    report = scl.report
    assert (report.agency, report.status) == (None, ProgressReport.Status.APPROVED)
    assert report.approved_at is not None
    assert "survey SAT-TEST (wave 1), question sat, rule top_box (4, 5)" in scl.source
    assert "2 of 4 respondents who answered; city SCL, period 2022-Q3" in scl.source
    programme = value_of(indicator, None)
    assert (programme.value, programme.numerator, programme.denominator) == (Decimal("62.5"), 5, 8)
    assert "the whole programme" in programme.source
    assert set(RecomputeRequest.objects.values_list("indicator_id", flat=True)) >= {indicator.pk}


def test_provenance_lists_the_exact_responses_behind_each_value(kit):
    survey, _question, indicator, feed = kit
    answered(kit, HAND)
    responses_changed(survey)
    assert computed(indicator) == [
        ("ALL", Decimal("62.5"), 5, 8, ("s1", "s2", "s3", "s4", "m1", "m2", "m3", "x1")),
        ("CDMX", Decimal("66.67"), 2, 3, ("m1", "m2", "m3")),
        ("SCL", Decimal(50), 2, 4, ("s1", "s2", "s3", "s4")),
    ]
    provenance = FeedProvenance.objects.get(value=value_of(indicator, "CDMX"))
    assert (provenance.feed, provenance.respondents, provenance.count) == (feed, 3, 2)


def test_adding_or_changing_a_response_recomputes_the_value(kit):
    survey, question, indicator, _feed = kit
    answered(kit, HAND)
    responses_changed(survey)
    RecomputeRequest.objects.all().delete()
    respond(survey, question, "s6", "SCL", 5)  # Santiago: 3 of 5
    Answer.objects.filter(response__external_id="m2").update(number=4)  # Mexico City: 3 of 3
    [outcome] = responses_changed(survey)
    assert outcome.written == 3
    assert computed(indicator)[1:] == [
        ("CDMX", Decimal(100), 3, 3, ("m1", "m2", "m3")),
        ("SCL", Decimal(60), 3, 5, ("s1", "s2", "s3", "s4", "s6")),
    ]
    assert value_of(indicator, None).value == Decimal("77.78")  # 7 of 9
    assert list(RecomputeRequest.objects.values_list("indicator_id", flat=True)) == [indicator.pk]


def test_recomputing_twice_changes_nothing(kit):
    survey, _question, indicator, _feed = kit
    answered(kit, HAND)
    responses_changed(survey)
    RecomputeRequest.objects.all().delete()

    def state() -> tuple:
        values = list(
            IndicatorValue.objects.filter(indicator=indicator)
            .order_by("pk")
            .values_list("pk", "value", "numerator", "denominator", "source", "updated_at")
        )
        links = list(FeedProvenance.objects.order_by("pk").values_list("pk", "computed_at"))
        through = FeedProvenance.responses.through.objects
        return values, links, sorted(through.values_list("feedprovenance_id", "response_id"))

    before, events = state(), AuditEvent.objects.count()
    [outcome] = responses_changed(survey)
    assert (outcome.changed, outcome.unchanged) == (False, 3)
    assert state() == before
    assert AuditEvent.objects.count() == events
    assert not RecomputeRequest.objects.exists()  # nothing changed: nothing to recompute


def test_a_figure_people_entered_is_never_overwritten(kit, ciudades):
    survey, _question, indicator, _feed = kit
    answered(kit, HAND)
    responses_changed(survey)  # Santiago's figure is computed first…
    ilo = ProgressReport.objects.create(
        programme=ciudades,
        agency=Agency.objects.get(code="ILO"),
        city=City.objects.get(code="SCL"),
        period=ReportingPeriod.objects.get(programme=ciudades, code=PERIOD),
    )
    entered = IndicatorValue.objects.create(report=ilo, indicator=indicator, value=Decimal(80))
    [outcome] = responses_changed(survey)  # …then the ILO enters one for Santiago
    assert outcome.removed == 1
    assert outcome.skipped == [
        "1.2.D ← SAT-TEST.sat: not stored for city SCL: a figure entered by people "
        "(ILO report) is kept"
    ]
    entered.refresh_from_db()
    assert (entered.value, entered.provenance) == (Decimal(80), "entered")
    assert [c[0] for c in computed(indicator)] == ["ALL", "CDMX"]


def test_a_restated_value_is_left_to_people(kit, ciudades):
    survey, question, indicator, _feed = kit
    answered(kit, HAND)
    responses_changed(survey)
    admin = get_user_model().objects.get(username="admin")
    scl = value_of(indicator, "SCL")
    value_restate(
        report=scl.report,
        entry=Entry(indicator=indicator, value=Decimal(55)),
        reason="A late paper questionnaire",
        actor=admin,
    )
    respond(survey, question, "s6", "SCL", 5)
    [outcome] = responses_changed(survey)
    scl.refresh_from_db()
    assert scl.value == Decimal(55)
    assert not FeedProvenance.objects.filter(value=scl).exists()
    assert "people restated or entered the figure" in outcome.skipped[0]
    [again] = responses_changed(survey)  # the value is no longer the rule's: left alone
    assert "a figure entered by people (joint report) is kept" in again.skipped[0]
    scl.refresh_from_db()
    assert scl.value == Decimal(55)


def test_two_feeds_of_one_indicator_do_not_overwrite_each_other(kit):
    survey, question, indicator, _feed = kit
    other = Question.objects.create(
        survey=survey, code="sat2", type="scale", scale=question.scale, text_es="¿?", text_en="?"
    )
    IndicatorFeed.objects.create(indicator=indicator, question=other)
    for key, (city, level) in HAND.items():
        response = respond(survey, question, key, city, level)
        Answer.objects.create(response=response, question=other, number=1)
    first, second = responses_changed(survey)
    assert (first.written, second.written) == (3, 0)
    assert second.skipped[0].endswith("another survey feed computed this figure (joint report)")
    assert value_of(indicator, "SCL").value == Decimal(50)  # the first feed's figure


def test_removing_every_response_removes_the_values_and_the_reports_made_for_them(kit):
    survey, _question, indicator, _feed = kit
    answered(kit, HAND)
    responses_changed(survey)
    survey.responses.all().delete()
    [outcome] = responses_changed(survey)
    assert outcome.removed == 3
    assert not IndicatorValue.objects.filter(indicator=indicator, provenance="survey").exists()
    assert not ProgressReport.objects.filter(period__code=PERIOD, agency=None).exists()


def test_a_joint_report_in_draft_is_not_approved_by_the_rule(kit, ciudades):
    survey, _question, _indicator, _feed = kit
    draft = ProgressReport.objects.create(
        programme=ciudades,
        city=City.objects.get(code="SCL"),
        period=ReportingPeriod.objects.get(programme=ciudades, code=PERIOD),
    )
    answered(kit, HAND)
    [outcome] = responses_changed(survey)
    assert outcome.written == 2
    assert "the joint report is draft" in outcome.skipped[0]
    assert not draft.values.exists()


def test_a_city_outside_the_indicators_scope_and_a_missing_programme_total_are_skipped(
    kit, ciudades
):
    survey, _question, _indicator, feed = kit
    santiago_only = Indicator.objects.get(programme=ciudades, code="1C")  # percent, place none
    feed.indicator = santiago_only
    feed.save()
    answered(kit, HAND)
    [outcome] = responses_changed(survey)
    assert outcome.written == 1
    assert [s.split(": not stored for ")[1] for s in outcome.skipped] == [
        "city CDMX: the city is outside the indicator's cities",
        "the whole programme (responses with or without a city): the indicator has no "
        "programme total (place rule 'none')",
    ]
    assert computed(santiago_only) == [("SCL", Decimal(50), 2, 4, ("s1", "s2", "s3", "s4"))]


def test_a_survey_without_a_period_feeds_nothing(kit):
    survey, _question, indicator, _feed = kit
    answered(kit, HAND)
    Survey.objects.filter(pk=survey.pk).update(period=None)
    survey.refresh_from_db()
    [outcome] = responses_changed(survey)
    assert "its survey has no reporting period" in outcome.skipped[0]
    assert computed(indicator) == []


def test_a_mean_and_a_choices_feed(kit, ciudades):
    survey, question, indicator, feed = kit
    feed.rule, feed.values = IndicatorFeed.Rule.CHOICES, ["5"]
    feed.save()
    answered(kit, HAND)
    responses_changed(survey)
    # Santiago: one of four answered 5; the programme: three of eight.
    assert [c[1:4] for c in computed(indicator)] == [
        (Decimal("37.5"), 3, 8),
        (Decimal("33.33"), 1, 3),
        (Decimal(25), 1, 4),
    ]
    level = Indicator.objects.get(programme=ciudades, code="1.2.D")
    level.pk, level.code, level.measure = None, "S.LEVEL", Indicator.Measure.LEVEL
    level.place_rule = Indicator.PlaceRule.MEAN
    level.save()
    level.cities.set(City.objects.filter(code__in=["SCL", "CDMX"]))
    IndicatorFeed.objects.create(indicator=level, question=question, rule="mean")
    responses_changed(survey)
    assert [c[:4] for c in computed(level)] == [
        ("ALL", Decimal("3.63"), None, None),
        ("CDMX", Decimal("3.33"), None, None),
        ("SCL", Decimal("3.5"), None, None),
    ]


def test_the_engine_takes_the_computed_figures(kit, django_capture_on_commit_callbacks):
    survey, _question, indicator, _feed = kit
    answered(kit, HAND)
    with django_capture_on_commit_callbacks(execute=True):
        responses_changed(survey)
    rollups = Rollup.objects.filter(
        indicator=indicator, period__code=PERIOD, category=None, agency=None
    )
    by_scope = {(r.scope, r.city.code if r.city else None): r for r in rollups}
    assert by_scope[(Rollup.Scope.CITY, "SCL")].actual == Decimal(50)
    assert by_scope[(Rollup.Scope.CITY, "CDMX")].actual == Decimal("66.67")
    # The programme's figure counts every respondent, the one without a city included.
    assert by_scope[(Rollup.Scope.PROGRAMME, None)].actual == Decimal("62.5")
    assert dt.date(2022, 9, 30) == by_scope[(Rollup.Scope.PROGRAMME, None)].as_of
