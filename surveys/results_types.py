"""The shapes survey results take (DESIGN §7): a question and its options as the results and
the imports read them, one group's result and its cells, a question's results, and the plain
rows ``surveys.results`` computes from; ``SMALL_N``, under which a result warns."""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

SMALL_N = 30  # the evaluation reported percentages on 15–20 people; below this, warn


@dataclass(frozen=True)
class Option:
    """An answer level (scale), choice or yes/no, keyed as answers are stored."""

    key: str
    label: str
    top_box: bool = False
    value: Decimal | None = None  # a scale level's value, for the mean
    aliases: frozenset[str] = frozenset()  # folded spellings a publication may use


@dataclass(frozen=True)
class QuestionSpec:
    id: int
    code: str
    type: str
    text: str
    options: tuple[Option, ...] = ()
    show_if_id: int | None = None
    show_if_values: frozenset[str] = frozenset()
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    names: frozenset[str] = frozenset()  # folded code and texts, as a file's header may say


@dataclass(frozen=True)
class Cell:
    answer: str
    label: str
    count: int | None
    share: Decimal | None
    top_box: bool = False


@dataclass
class Result:
    """One question's result for one group of respondents."""

    group: str  # ALL or "attribute=value", as AggregateResult writes it
    group_label: str
    n: int | None  # respondents who answered (None: a publication did not print it)
    cells: list[Cell] = field(default_factory=list)
    top_box: Decimal | None = None
    mean: Decimal | None = None
    shown: int | None = None  # respondents the skip logic showed it to, when it has one
    texts: list[str] = field(default_factory=list)
    # Why the group is withheld from this viewer ("small_group", "complementary"; see
    # ``surveys.disclosure``), or "" when it is shown.
    withheld: str = ""

    @property
    def small(self) -> bool:
        return self.n is not None and self.n < SMALL_N

    @property
    def yes_share(self) -> Decimal | None:
        return next((c.share for c in self.cells if c.answer == "1"), None)


@dataclass
class QuestionResults:
    question: QuestionSpec
    results: list[Result]  # the whole group first, then one per attribute value
    published: bool = False
    source: str = ""

    @property
    def any_small(self) -> bool:
        return any(r.small for r in self.results)


@dataclass
class SurveyData:
    questions: list[QuestionSpec]
    responses: list[dict[str, Any]]  # id and the attributes
    answers: list[dict[str, Any]]  # response_id, question_id, number, choices, text
    aggregates: list[dict[str, Any]]  # AggregateResult values
    invitations: int
    group_labels: dict[tuple[str, str], str] = field(default_factory=dict)
