"""Skip logic as pure functions (surveys/skip.py): answers and condition values compared as
tokens; a question shows only when the question it depends on shows and holds one of its
values, so chains hide together. The same rules run in static/js/survey.js."""

from decimal import Decimal

import pytest

from surveys.skip import Condition, condition, shown, token, tokens

A, B, C, D = 1, 2, 3, 4


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (4, "4"),
        ("4", "4"),
        ("4.0", "4"),
        (Decimal("4.00"), "4"),
        (Decimal("40"), "40"),
        (Decimal("12.50"), "12.5"),
        ("-2.50", "-2.5"),
        (".5", "0.5"),
        (Decimal("-0"), "0"),
        (True, "1"),
        (False, "0"),
        (" municipal ", "municipal"),
        ("1e3", "1e3"),  # not how any input writes a number: kept as text
    ],
)
def test_it_writes_each_value_as_one_token(value, expected):
    assert token(value) == expected


def test_it_makes_no_tokens_of_no_answer_and_one_per_choice():
    assert tokens(None) == frozenset()
    assert tokens("") == frozenset()
    assert tokens([]) == frozenset()
    assert tokens(["housing", "docs"]) == {"housing", "docs"}
    assert tokens(Decimal("5")) == {"5"}


def test_it_reads_a_condition_from_the_question_fields():
    assert condition(None, [1]) is None
    assert condition(A, [1, "2", 3.0]) == Condition(on=A, values=frozenset({"1", "2", "3"}))
    assert condition(A, None) == Condition(on=A, values=frozenset())


def chain() -> dict[int, Condition | None]:
    """A (yes/no) → B if A is yes → C if B is "municipal"; D has no condition."""
    return {
        A: None,
        B: Condition(on=A, values=frozenset({"1"})),
        C: Condition(on=B, values=frozenset({"municipal"})),
        D: None,
    }


def test_it_shows_every_question_without_conditions():
    assert shown({A: None, D: None}, {}) == {A, D}


def test_it_shows_a_chain_when_each_link_holds():
    answers = {A: tokens(Decimal(1)), B: tokens("municipal")}
    assert shown(chain(), answers) == {A, B, C, D}


def test_it_hides_the_rest_of_the_chain_when_its_first_link_fails():
    # B still holds "municipal" (answered before A changed): C must hide with B all the same.
    answers = {A: tokens(Decimal(0)), B: tokens("municipal")}
    assert shown(chain(), answers) == {A, D}


def test_it_hides_the_end_of_the_chain_when_the_middle_answer_differs():
    answers = {A: tokens(Decimal(1)), B: tokens("ngo")}
    assert shown(chain(), answers) == {A, B, D}


def test_it_hides_dependents_of_an_unanswered_question():
    assert shown(chain(), {}) == {A, D}


def test_it_shows_a_question_when_any_chosen_choice_is_among_its_values():
    rules = {A: None, B: Condition(on=A, values=frozenset({"school", "docs"}))}
    assert shown(rules, {A: tokens(["housing", "docs"])}) == {A, B}
    assert shown(rules, {A: tokens(["housing"])}) == {A}


def test_it_compares_scale_levels_and_numbers_by_value():
    rules = {A: None, B: Condition(on=A, values=frozenset({token(1), token("2")}))}
    assert shown(rules, {A: tokens(Decimal("2"))}) == {A, B}
    assert shown(rules, {A: tokens(Decimal("2.0"))}) == {A, B}
    assert shown(rules, {A: tokens(Decimal("3"))}) == {A}


def test_it_never_shows_a_question_in_a_cycle_or_depending_on_an_unknown_question():
    rules = {
        A: Condition(on=B, values=frozenset({"1"})),
        B: Condition(on=A, values=frozenset({"1"})),
        C: Condition(on=99, values=frozenset({"1"})),
        D: None,
    }
    everything = {q: frozenset({"1"}) for q in (A, B, C, D, 99)}
    assert shown(rules, everything) == {D}
