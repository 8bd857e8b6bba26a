"""Survey results computed by hand: distribution, top-box share and mean, multiple-choice
shares of respondents, yes share, number mean, the under-30 warning (present at 29, absent at
30), breakdowns by city and sex, filters, skip logic's "shown to", the response rate with
invitations and with ``invited``, published results read back as results; and the selector's
fixed number of queries. Most tests need no database: the computations take plain rows."""

from decimal import Decimal

import pytest

from surveys import results
from surveys.models import Question
from surveys.results import ALL, Option, QuestionSpec, SurveyData

from .results_fixtures import SAT_ANSWERS, answer_twelve, build_kit, publish, respond

Type = Question.Type
LEVELS = tuple(
    Option(str(v), label, v >= 4, Decimal(v), frozenset({str(v), label.casefold()}))
    for v, label in [(1, "Very bad"), (2, "Bad"), (3, "Neither"), (4, "Good"), (5, "Very good")]
)
SAT = QuestionSpec(1, "sat", Type.SCALE, "Satisfied?", LEVELS)
NEEDS = QuestionSpec(
    2, "needs", Type.MULTIPLE, "Needs?",
    (Option("housing", "Housing"), Option("school", "School"), Option("docs", "Documents")),
)  # fmt: skip
REFERRED = QuestionSpec(
    3, "referred", Type.YES_NO, "Referred?", (Option("1", "yes"), Option("0", "no"))
)
USEFUL = QuestionSpec(4, "useful", Type.SCALE, "Useful?", LEVELS, 3, frozenset({"1"}))
AGE = QuestionSpec(5, "age", Type.NUMBER, "Age?")
COMMENTS = QuestionSpec(6, "comments", Type.TEXT, "Comments")


def survey_data(respondents: list[dict], answers: list[dict], **extra) -> SurveyData:
    return SurveyData(
        questions=[SAT, NEEDS, REFERRED, USEFUL, AGE, COMMENTS],
        responses=respondents,
        answers=answers,
        aggregates=extra.pop("aggregates", []),
        invitations=extra.pop("invitations", 0),
        group_labels={("city", "SCL"): "Santiago", ("city", "CDMX"): "Mexico City"},
    )


def twelve() -> SurveyData:
    """The twelve respondents of ``results_fixtures``: seven in Santiago, five in Mexico City."""
    people = [
        {"id": n, "city": "SCL" if n < 7 else "CDMX", "sex": "female" if n < 4 else "male"}
        for n in range(12)
    ]
    rows = [
        {"response_id": n, "question_id": SAT.id, "number": Decimal(v), "choices": [], "text": ""}
        for n, v in enumerate(SAT_ANSWERS)
    ]
    return survey_data(people, rows)


def by_code(blocks, code: str):
    return next(b for b in blocks if b.question.code == code)


def test_top_box_share_and_mean_by_hand():
    result = by_code(results.compute_results(twelve()), "sat").results[0]
    assert result.group == ALL
    assert result.n == 12
    assert result.top_box == Decimal("58.3")  # (4 + 3) / 12
    assert result.mean == Decimal("3.50")  # 42 / 12


def test_distribution_counts_and_shares_of_those_who_answered():
    result = by_code(results.compute_results(twelve()), "sat").results[0]
    assert [(c.answer, c.count, c.share) for c in result.cells] == [
        ("1", 1, Decimal("8.3")),
        ("2", 2, Decimal("16.7")),
        ("3", 2, Decimal("16.7")),
        ("4", 4, Decimal("33.3")),
        ("5", 3, Decimal("25.0")),
    ]
    assert [c.top_box for c in result.cells] == [False, False, False, True, True]


def test_multiple_choice_shares_are_of_respondents_and_may_exceed_100():
    picks = [["housing", "docs"], ["housing"], ["school", "housing"], []]
    answers = [
        {"response_id": n, "question_id": NEEDS.id, "number": None, "choices": c, "text": ""}
        for n, c in enumerate(picks)
    ]
    data = survey_data([{"id": n} for n in range(4)], answers)
    result = by_code(results.compute_results(data), "needs").results[0]
    assert result.n == 3  # the empty answer is not an answer
    assert [(c.answer, c.count, c.share) for c in result.cells] == [
        ("housing", 3, Decimal("100.0")),
        ("school", 1, Decimal("33.3")),
        ("docs", 1, Decimal("33.3")),
    ]


def test_yes_share_and_number_mean_and_texts():
    answers = [
        {"response_id": 0, "question_id": REFERRED.id, "number": Decimal(1), "choices": [],
         "text": ""},
        {"response_id": 1, "question_id": REFERRED.id, "number": Decimal(0), "choices": [],
         "text": ""},
        {"response_id": 2, "question_id": REFERRED.id, "number": Decimal(1), "choices": [],
         "text": ""},
        {"response_id": 0, "question_id": AGE.id, "number": Decimal(30), "choices": [], "text": ""},
        {"response_id": 1, "question_id": AGE.id, "number": Decimal(45), "choices": [], "text": ""},
        {"response_id": 2, "question_id": COMMENTS.id, "number": None, "choices": [],
         "text": " Good "},
        {"response_id": 1, "question_id": COMMENTS.id, "number": None, "choices": [], "text": " "},
    ]  # fmt: skip
    blocks = results.compute_results(survey_data([{"id": n} for n in range(3)], answers))
    assert by_code(blocks, "referred").results[0].yes_share == Decimal("66.7")
    assert by_code(blocks, "age").results[0].mean == Decimal("37.50")
    comments = by_code(blocks, "comments").results[0]
    assert (comments.n, comments.texts) == (1, ["Good"])


def _respondents(n: int) -> SurveyData:
    answers = [
        {"response_id": i, "question_id": SAT.id, "number": Decimal(4), "choices": [], "text": ""}
        for i in range(n)
    ]
    return survey_data([{"id": i} for i in range(n)], answers)


def test_the_warning_is_carried_under_30_respondents():
    result = by_code(results.compute_results(_respondents(29)), "sat").results[0]
    assert (result.n, result.small) == (29, True)


def test_no_warning_at_30_respondents():
    result = by_code(results.compute_results(_respondents(30)), "sat").results[0]
    assert (result.n, result.small) == (30, False)


def test_breakdown_by_city_gives_each_city_its_own_n_and_shares():
    sat = by_code(results.compute_results(twelve(), by="city"), "sat")
    groups = [(r.group, r.group_label, r.n, r.top_box, r.mean) for r in sat.results]
    # Santiago: 5 5 4 4 4 3 3 → top box 5/7, mean 28/7; Mexico City: 2 1 5 4 2 → 2/5, 14/5.
    assert groups == [
        ("all", "all respondents", 12, Decimal("58.3"), Decimal("3.50")),
        ("city=CDMX", "Mexico City", 5, Decimal("40.0"), Decimal("2.80")),
        ("city=SCL", "Santiago", 7, Decimal("71.4"), Decimal("4.00")),
    ]
    assert all(r.small for r in sat.results)


def test_breakdown_by_sex_and_a_filter_on_city():
    sat = by_code(results.compute_results(twelve(), {"city": "SCL"}, by="sex"), "sat")
    # Santiago's women answered 5 5 4 4; its men 4 3 3.
    assert [(r.group, r.n, r.top_box) for r in sat.results] == [
        ("all", 7, Decimal("71.4")),
        ("sex=female", 4, Decimal("100.0")),
        ("sex=male", 3, Decimal("33.3")),
    ]


def test_respondents_without_the_attribute_are_a_group_of_their_own():
    data = twelve()
    data.responses[0]["city"] = ""
    labels = [
        r.group_label for r in by_code(results.compute_results(data, by="city"), "sat").results
    ]
    assert labels == ["all respondents", "Mexico City", "Santiago", "not stated"]


def test_a_question_behind_skip_logic_says_how_many_it_was_shown_to():
    rows = [(0, REFERRED, 1), (1, REFERRED, 1), (2, REFERRED, 0), (3, REFERRED, 1), (0, USEFUL, 5)]
    answers = [
        {"response_id": r, "question_id": q.id, "number": Decimal(v), "choices": [], "text": ""}
        for r, q, v in rows
    ]
    blocks = results.compute_results(survey_data([{"id": n} for n in range(4)], answers))
    useful = by_code(blocks, "useful").results[0]
    assert (useful.n, useful.shown) == (1, 3)
    assert by_code(blocks, "referred").results[0].shown is None  # shown to everyone


def test_response_rate_over_invitations_issued_else_over_invited():
    assert results.response_rate(12, 0, 40) == Decimal("30.0")
    assert results.response_rate(12, 16, 40) == Decimal("75.0")  # invitations win
    assert results.response_rate(12, 0, None) is None


def _published(*rows) -> SurveyData:
    aggregates = [
        {"question_id": SAT.id, "group": g, "answer": a, "respondents": n, "count": None,
         "share": Decimal(s), "source": "Evaluation, p. 41"}
        for g, a, n, s in rows
    ]  # fmt: skip
    return survey_data([], [], aggregates=aggregates)


def test_published_shares_read_back_with_top_box_and_mean():
    data = _published(
        ("all", "5", 18, "50"), ("all", "4", 18, "30"), ("all", "Neither", 18, "10"),
        ("all", "2", 18, "10"), ("city=SCL", "5", 9, "60"),
    )  # fmt: skip
    (block,) = results.published_results(data)
    assert block.published and block.source == "Evaluation, p. 41"
    (everyone,) = block.results  # no breakdown asked: the whole group only
    assert (everyone.n, everyone.small) == (18, True)
    assert [(c.answer, c.share) for c in everyone.cells] == [
        ("1", None), ("2", Decimal("10")), ("3", Decimal("10")), ("4", Decimal("30")),
        ("5", Decimal("50")),
    ]  # fmt: skip
    assert everyone.top_box == Decimal("80")
    assert everyone.mean == Decimal("4.20")  # (2×10 + 3×10 + 4×30 + 5×50) / 100


def test_published_breakdown_and_partial_figures():
    data = _published(
        ("all", "5", 18, "50"), ("city=SCL", "5", 9, "60"), ("city=SCL", "4", 9, "20")
    )
    (block,) = results.published_results(data, by="city")
    everyone, santiago = block.results
    assert (santiago.group_label, santiago.n) == ("Santiago", 9)
    assert santiago.top_box == Decimal("80")  # every top-box level printed
    assert santiago.mean is None  # not the whole distribution
    assert everyone.top_box is None  # level 4 not printed: the top box is unknown


def test_a_published_combined_answer_is_the_top_box_when_it_covers_it():
    data = _published(("all", "4+5", 52, "73"), ("all", "Bad+1", 52, "9"), ("all", "b+c", 52, "5"))
    (block,) = results.published_results(data)
    (everyone,) = block.results
    printed = [(c.answer, c.label, c.share, c.top_box) for c in everyone.cells if c.share]
    assert printed == [
        ("4+5", "Good + Very good", Decimal("73"), True),
        ("1+2", "Very bad + Bad", Decimal("9"), False),
        ("b+c", "b+c", Decimal("5"), False),  # not levels of this scale: kept as printed
    ]
    assert everyone.top_box == Decimal("73")
    assert everyone.mean is None


def test_a_top_box_printed_twice_over_is_not_added_up():
    data = _published(("all", "4+5", 52, "73"), ("all", "5", 52, "40"))
    (block,) = results.published_results(data)
    assert block.results[0].top_box is None


def test_published_respondents_are_the_most_printed_for_everyone():
    data = _published(("all", "5", 33, "67"), ("all", "4", 25, "30"), ("city=SCL", "5", 40, "1"))
    assert results.published_respondents(data) == 33
    assert results.published_respondents(_published()) is None


def test_export_rows_name_the_question_group_and_warning():
    rows = results.export_rows(results.compute_results(twelve()))
    first = rows[0]
    assert (first["question"], first["group"], first["answer"], first["count"]) == (
        "sat", "all respondents", "1", 1,
    )  # fmt: skip
    assert (first["top_box"], first["mean"], first["small_n"], first["results"]) == (
        Decimal("58.3"), Decimal("3.50"), True, "responses",
    )  # fmt: skip


@pytest.mark.django_db
def test_the_selector_reads_everything_in_eight_queries(ciudades, django_assert_num_queries):
    kit = build_kit(ciudades)
    answer_twelve(kit)
    respond(kit, "extra", city=None, sex="", needs=["housing"], referred=1, useful=4)
    publish(kit, "all", 18, level_5="50")
    with django_assert_num_queries(8):
        data = results.survey_results_data(kit.survey)
    assert len(data.responses) == 13
    assert data.group_labels[("city", "SCL")] == "Santiago (Chile)"
    sat = by_code(results.compute_results(data), "sat").results[0]
    assert (sat.n, sat.top_box, sat.mean) == (12, Decimal("58.3"), Decimal("3.50"))
    useful = by_code(results.compute_results(data), "useful").results[0]
    assert (useful.n, useful.shown) == (1, 1)
    (published,) = results.published_results(data)
    assert published.results[0].cells[-1].share == Decimal("50.00")
