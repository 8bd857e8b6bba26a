"""Small groups stay hidden (issue 8). Respondents are migrants, refugees and asylum seekers:
whoever reads a survey's results from outside its owners (donors, the RCO, the agencies; see
``surveys.permissions.sees_small_groups``) must not be able to single one out by the
attributes the results are filtered or broken down by.

For them, a group of respondents (the whole group, a filter combination or a breakdown group)
with fewer than ``SURVEY_MIN_GROUP_SIZE`` people (default 5) is withheld: no n, no answers.
Withholding one group is not enough when the others are shown beside their total (the total
minus the others would give it), so a complementary group is withheld too: in every total
and its groups by one attribute, either nothing is withheld, or at least two groups of at
least the minimum together are (or the total itself). A filter combination is a group of the
same kind, so asking for a withheld group as a filter gets nothing either.

The pattern is worked out once per survey for every combination of up to three of the
attributes the respondents gave (a "cell"), whatever the query, so the page, the API and the
exports show the same cells; a group that combines more attributes (filters and breakdown
together) is withheld from them as too detailed. This defeats the differencing of one table,
and of a filter against the matching breakdown; it does not audit every set of queries (the
general cell-suppression problem, which statistical offices solve with τ-ARGUS); a larger
minimum buys more safety.

Page, API and exports all call ``Disclosure.results``."""

import heapq
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import combinations
from operator import itemgetter
from typing import Any

from django.conf import settings

from .models import Survey
from .results import (
    ALL,
    ATTRIBUTES,
    QuestionResults,
    Result,
    SurveyData,
    compute_results,
    is_answered,
    matches,
    published_results,
)
from .results_types import Cell as AnswerCell

DEFAULT_MIN_GROUP_SIZE = 5
SMALL_GROUP = "small_group"  # fewer respondents than the minimum
COMPLEMENTARY = "complementary"  # withheld so that a small group cannot be worked out
TOO_DETAILED = "too_detailed"  # combines more than MAX_COMBINED attributes
MAX_COMBINED = 3  # attributes an outsider may combine (filters and breakdown together)

# A cell: one value per attribute (in the order of the pattern's attributes), None for any;
# the whole group is all None.
Cell = tuple[str | None, ...]
Line = tuple[Cell, int]  # a total and the position of the attribute its groups break it by


def min_group_size() -> int:
    """``SURVEY_MIN_GROUP_SIZE``, which the ops settings part reads from the environment."""
    return int(getattr(settings, "SURVEY_MIN_GROUP_SIZE", DEFAULT_MIN_GROUP_SIZE))


# ---- the pattern (pure) --------------------------------------------------------------------


def cell_counts(
    rows: Iterable[Mapping[str, Any]], attributes: list[str], combined: int = MAX_COMBINED
) -> Counter[Cell]:
    """Respondents in every cell of up to ``combined`` attributes: each row counts in each
    such combination of its values (rows giving the same values are counted together)."""
    alike = Counter(tuple(row.get(a) or "" for a in attributes) for row in rows)
    width = len(attributes)
    if not width:
        return Counter({(): sum(alike.values())})
    # One getter per combination: it picks the combination's values and None (the item
    # after the values) for the other attributes.
    getters = [
        itemgetter(*(i if i in chosen else width for i in range(width)))
        for size in range(min(combined, width) + 1)
        for chosen in combinations(range(width), size)
    ]
    counts: Counter[Cell] = Counter()
    for values, n in alike.items():
        padded = (*values, None)
        for get in getters:
            cell = get(padded)
            counts[cell if width > 1 else (cell,)] += n  # one item: itemgetter gives it bare
    return counts


def _lines(counts: Mapping[Cell, int]) -> dict[Line, list[Cell]]:
    """Each total and its groups by one attribute (the groups add up to the total)."""
    lines: dict[Line, list[Cell]] = {}
    for cell in counts:
        for at, value in enumerate(cell):
            if value is not None:
                total = (*cell[:at], None, *cell[at + 1 :])
                lines.setdefault((total, at), []).append(cell)
    return lines


def _next_to_withhold(
    total: Cell, groups: list[Cell], counts: Mapping[Cell, int], withheld: set[Cell], minimum: int
) -> Cell | None:
    """The cell to withhold so that this line gives no withheld cell away, if any."""
    if total not in counts:  # a total nobody printed: no sum to work a group out from
        return None
    hidden = [g for g in groups if g in withheld]
    if total in withheld:
        safe = bool(hidden)  # two unknowns at least in "total = sum of the groups"
    else:
        together = sum(counts[g] for g in hidden)
        safe = not hidden or (len(hidden) > 1 and together >= minimum)
    if safe:
        return None
    shown = [g for g in groups if g not in withheld]
    if shown:  # the smallest (ties: by value, so that every run withholds the same)
        return min(shown, key=lambda g: (counts[g], tuple(v or "" for v in g)))
    return total  # its only group is withheld and is the same people


def _lines_around(cell: Cell) -> Iterator[Line]:
    """The lines a cell is in: as a group (by each attribute it has a value of) and as a
    total (by each attribute it does not)."""
    for at, value in enumerate(cell):
        yield ((*cell[:at], None, *cell[at + 1 :]), at) if value is not None else (cell, at)


def _rank(line: Line) -> tuple:
    """The order lines are settled in: the coarsest totals first (a finer table under a
    withheld total often needs nothing more), then by attribute and values. A fixed order
    makes every process withhold the same cells."""
    total, at = line
    return (sum(v is not None for v in total), at, tuple((v is None, v or "") for v in total))


def withheld_cells(counts: Mapping[Cell, int], minimum: int) -> set[Cell]:
    """Cells under the minimum, and the complementary cells that keep them from being worked
    out of a total and the other groups. Only a line with a withheld cell can need another,
    so the lines around each newly withheld cell are (re)examined until none does."""
    lines = _lines(counts)
    withheld = {cell for cell, n in counts.items() if n < minimum}
    queued = {line for cell in withheld for line in _lines_around(cell) if line in lines}
    todo = [(_rank(line), line) for line in queued]
    heapq.heapify(todo)
    while todo:
        _rank_of, line = heapq.heappop(todo)
        queued.discard(line)
        more = _next_to_withhold(line[0], lines[line], counts, withheld, minimum)
        if more is None:
            continue
        withheld.add(more)
        for again in _lines_around(more):  # this line among them
            if again in lines and again not in queued:
                queued.add(again)
                heapq.heappush(todo, (_rank(again), again))
    return withheld


def withhold(result: Result, reason: str) -> None:
    """No n, no answers, no figure of any kind: only the group and why."""
    result.withheld = reason
    result.n = result.shown = result.top_box = result.mean = None
    result.cells = [AnswerCell(c.answer, c.label, None, None, c.top_box) for c in result.cells]
    result.texts = []


# ---- a survey's results, as a viewer may have them -----------------------------------------


@dataclass
class Disclosed:
    own: list[QuestionResults]  # from the survey's responses
    published: list[QuestionResults]
    kept: int | None  # respondents the filters keep (None: withheld)
    withheld: bool  # the filters keep a withheld group: no figures at all
    minimum: int | None  # None: the viewer sees every group


def _conditions(result: Result, filters: dict[str, str], by: str | None) -> dict[str, str]:
    if result.group == ALL or by is None:
        return filters
    return {**filters, by: result.group.partition("=")[2]}


class Disclosure:
    """The results of one survey for one viewer: every group for its owners (``full``);
    for anybody else, small groups and their complements withheld."""

    def __init__(self, survey: Survey, data: SurveyData, *, full: bool) -> None:
        self.survey, self.data, self.full = survey, data, full
        self.minimum = min_group_size()
        self.attributes = [a for a in ATTRIBUTES if any(r.get(a) for r in data.responses)]
        self._patterns: dict[frozenset[int], tuple[Counter[Cell], set[Cell]]] = {}
        self._answered: dict[int, frozenset[int]] = {}

    def results(self, filters: dict[str, str], by: str | None) -> Disclosed:
        data = self.data
        aggregate = self.survey.kind == Survey.Kind.AGGREGATE
        own = [] if aggregate else compute_results(data, filters, by)
        published = published_results(data, by)
        kept = sum(1 for r in data.responses if matches(r, filters))
        if self.full:
            return Disclosed(own, published, kept, False, None)
        everyone = frozenset(r["id"] for r in data.responses)
        withheld = not aggregate and self.why_withheld(everyone, filters) is not None
        for block in own:
            self._protect_own(block, filters, by, everyone=withheld)
        for block in published:
            self._protect_published(block)
        return Disclosed(own, published, None if withheld else kept, withheld, self.minimum)

    def why_withheld(self, pool: frozenset[int], conditions: dict[str, str]) -> str | None:
        """Why the respondents of ``pool`` that meet ``conditions`` are withheld, if they are."""
        counts, withheld = self._pattern(pool)
        cell = self._cell(conditions)
        if cell is None:
            return SMALL_GROUP
        if sum(v is not None for v in cell) > MAX_COMBINED:
            kept = sum(1 for r in self.data.responses if r["id"] in pool and matches(r, conditions))
            return SMALL_GROUP if kept < self.minimum else TOO_DETAILED
        if counts.get(cell, 0) < self.minimum:
            return SMALL_GROUP
        return COMPLEMENTARY if cell in withheld else None

    def _cell(self, conditions: dict[str, str]) -> Cell | None:
        """The cell of these conditions; None when no respondent can meet them. An attribute
        nobody gave ("not stated" for all) adds no condition."""
        if any(value for name, value in conditions.items() if name not in self.attributes):
            return None
        return tuple(conditions.get(a) for a in self.attributes)

    def _pattern(self, pool: frozenset[int]) -> tuple[Counter[Cell], set[Cell]]:
        if pool not in self._patterns:
            rows = [r for r in self.data.responses if r["id"] in pool]
            counts = cell_counts(rows, self.attributes)
            self._patterns[pool] = (counts, withheld_cells(counts, self.minimum))
        return self._patterns[pool]

    def _answered_by(self, question_id: int) -> frozenset[int]:
        """Who answered the question: the pool its groups are counted in."""
        if not self._answered:
            specs = {q.id: q for q in self.data.questions}
            answered: dict[int, set[int]] = {q: set() for q in specs}
            for row in self.data.answers:
                spec = specs.get(row["question_id"])
                if spec is not None and is_answered(spec, row):
                    answered[spec.id].add(row["response_id"])
            self._answered = {q: frozenset(ids) for q, ids in answered.items()}
        return self._answered.get(question_id, frozenset())

    def _protect_own(
        self, block: QuestionResults, filters: dict[str, str], by: str | None, *, everyone: bool
    ) -> None:
        pool = self._answered_by(block.question.id)
        for result in block.results:
            reason = self.why_withheld(pool, _conditions(result, filters, by))
            if reason is None and everyone:  # the filters' respondents are withheld
                reason = COMPLEMENTARY
            if reason is not None:
                withhold(result, reason)

    def _protect_published(self, block: QuestionResults) -> None:
        """A publication's groups with their printed n, as one total and its groups (an n it
        did not print cannot be judged and is left as printed)."""
        printed = [r for r in block.results if r.n is not None]
        attributes = sorted({r.group.partition("=")[0] for r in printed if r.group != ALL})
        cells = {r.group: _published_cell(r.group, attributes) for r in printed}
        counts = {cells[r.group]: r.n for r in printed if r.n is not None}
        withheld = withheld_cells(counts, self.minimum)
        for r in printed:
            if cells[r.group] in withheld:
                small = counts[cells[r.group]] < self.minimum
                withhold(r, SMALL_GROUP if small else COMPLEMENTARY)


def _published_cell(group: str, attributes: list[str]) -> Cell:
    attribute, _sep, value = group.partition("=")
    return tuple(value if a == attribute else None for a in attributes)
