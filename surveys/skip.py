"""Skip logic, as pure functions: which questions a respondent is shown, given the answers so
far. A question with a condition is shown only when the question it depends on is itself shown
and was answered with one of the condition's values; so chains (A → B → C) hide together.

Answers and condition values are compared as *tokens*, plain strings written the same way on
both sides (and by static/js/survey.js in the browser): "4" for scale level 4 or the number
4.0, "1"/"0" for yes/no, the value of each chosen choice, the stripped text otherwise."""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

# Numbers as text: what the page's inputs and a condition's values hold ("4", "-2.50", ".5").
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


@dataclass(frozen=True)
class Condition:
    """Show a question only if question ``on`` was answered with one of ``values``."""

    on: int
    values: frozenset[str]


def token(value: Any) -> str:
    """One answer value as a token: numbers without trailing zeros or exponent ("4", "4.5",
    "40"), whether given as numbers or written plainly as text ("4.0"); booleans as 1/0;
    anything else as its stripped text."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float | Decimal):
        number = Decimal(str(value))
    else:
        text = str(value).strip()
        if not _PLAIN_NUMBER.match(text):
            return text
        number = Decimal(text)
    if not number.is_finite():
        return str(value).strip()
    if number == 0:
        return "0"
    # normalize() alone writes 40 as "4E+1"; the "f" format writes it back out in full.
    return format(number.normalize(), "f")


def tokens(value: Any) -> frozenset[str]:
    """The tokens of one cleaned answer: none for no answer, one per choice for a list."""
    if value is None or value == "":
        return frozenset()
    if isinstance(value, list | tuple | set | frozenset):
        return frozenset(token(v) for v in value if v is not None and v != "")
    return frozenset({token(value)})


def condition(show_if: int | None, show_if_values: Iterable[Any] | None) -> Condition | None:
    """A question's condition from its ``show_if`` and ``show_if_values`` fields."""
    if show_if is None:
        return None
    return Condition(on=show_if, values=frozenset(token(v) for v in show_if_values or ()))


def shown(
    conditions: Mapping[int, Condition | None], answers: Mapping[int, frozenset[str]]
) -> frozenset[int]:
    """The questions shown, among ``conditions`` (question id → its condition or None), given
    ``answers`` (question id → tokens). A condition on a question that is not in
    ``conditions``, or a cycle of conditions, hides the question: it could never be reached."""
    decided: dict[int, bool] = {}

    def is_shown(question: int, path: frozenset[int]) -> bool:
        if question in decided:
            return decided[question]
        rule = conditions.get(question)
        if rule is None:
            result = question in conditions
        elif rule.on in path or rule.on not in conditions:
            result = False
        else:
            result = is_shown(rule.on, path | {question}) and bool(
                answers.get(rule.on, frozenset()) & rule.values
            )
        decided[question] = result
        return result

    return frozenset(q for q in conditions if is_shown(q, frozenset()))
