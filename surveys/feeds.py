"""Indicators computed from survey questions (DESIGN §7): an ``IndicatorFeed`` declares that
an indicator is the share of respondents answering a question's top-box levels (or some of
its choices), or the mean answer, over the responses of the survey's period.

The figures are computed per city (the response's city) and for the programme (every
response, with a city or without), and stored as values approved by rule in the joint report
(no agency) of that city — or of the whole programme — and period, with provenance
"survey", the counts as numerator and denominator (so the engine weights cities by their
respondents), a source text, and the list of responses behind each value
(``FeedProvenance``).

``responses_changed(survey)`` recomputes the feeds of a survey and asks the engine to
recompute the indicators whose values changed: call it after storing, changing or deleting
responses, in the same transaction. It is idempotent, replaces only the values it computed,
and never overwrites a figure people entered or restated."""

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from indicators.engine import request_recompute
from indicators.models import Indicator, IndicatorValue, ProgressReport
from monitoring.models import City, ReportingPeriod
from monitoring.services import audit_record

from .models import Answer, FeedProvenance, IndicatorFeed, Question, Response, ScaleLevel, Survey

log = logging.getLogger(__name__)

Rule = IndicatorFeed.Rule
SURVEY = IndicatorValue.Provenance.SURVEY
CENT = Decimal("0.01")


@dataclass(frozen=True)
class AnswerRow:
    """One response's answer to the fed question, as stored."""

    response_id: int
    city_id: int | None
    number: Decimal | None = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Figure:
    """A computed figure for one city (``city_id``) or for the programme (``city_id`` None)."""

    city_id: int | None
    respondents: int  # who answered the question
    count: int | None  # of them, who gave a counted answer; None for a mean
    value: Decimal
    response_ids: tuple[int, ...]


@dataclass
class FeedOutcome:
    """What one feed's refresh did; ``skipped`` says why a figure was not stored."""

    feed_id: int
    written: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.written or self.removed)


# ---- computing (pure) -------------------------------------------------------------------


def answer_codes(row: AnswerRow) -> set[str]:
    """An answer as codes: its choices, else its number ("4" for a scale level, "1" for yes)."""
    if row.choices:
        return {str(c) for c in row.choices}
    if row.number is None:
        return set()
    return {f"{row.number.normalize():f}"}


def figure_for(
    city_id: int | None, rows: list[AnswerRow], counted: frozenset[str] | None
) -> Figure | None:
    """The share of ``rows`` answering any of ``counted`` (percent), or their mean when
    ``counted`` is None. Only respondents who answered count; None when nobody did."""
    if counted is None:
        answered = [r for r in rows if r.number is not None]
        if not answered:
            return None
        total = sum((r.number for r in answered if r.number is not None), Decimal(0))
        mean = (total / len(answered)).quantize(CENT, rounding=ROUND_HALF_UP)
        return Figure(city_id, len(answered), None, mean, tuple(r.response_id for r in answered))
    answered = [r for r in rows if answer_codes(r)]
    if not answered:
        return None
    count = sum(1 for r in answered if answer_codes(r) & counted)
    share = (Decimal(count) * 100 / len(answered)).quantize(CENT, rounding=ROUND_HALF_UP)
    return Figure(city_id, len(answered), count, share, tuple(r.response_id for r in answered))


def figures(rows: Iterable[AnswerRow], counted: frozenset[str] | None) -> list[Figure]:
    """One figure per city with answers, then one for the programme (all answers: responses
    without a city count for the programme only)."""
    rows = list(rows)
    by_city: dict[int, list[AnswerRow]] = defaultdict(list)
    for r in rows:
        if r.city_id is not None:
            by_city[r.city_id].append(r)
    out = [figure_for(city, by_city[city], counted) for city in sorted(by_city)]
    out.append(figure_for(None, rows, counted))
    return [f for f in out if f is not None]


# ---- reading ----------------------------------------------------------------------------


def counted_answers(feed: IndicatorFeed) -> frozenset[str] | None:
    """The answer codes a share counts (None: the rule is a mean)."""
    if feed.rule == Rule.MEAN:
        return None
    if feed.rule == Rule.CHOICES:
        return frozenset(str(v) for v in feed.values)
    question = feed.question
    if question.scale_id is None:
        # A yes/no question's top box is its "yes".
        return frozenset({"1"}) if question.type == Question.Type.YES_NO else frozenset()
    levels = ScaleLevel.objects.filter(scale_id=question.scale_id, top_box=True)
    return frozenset(str(v) for v in levels.values_list("value", flat=True))


def answer_rows(question: Question) -> list[AnswerRow]:
    """Every answer to the question, with its response's city, in one query. Rows are read
    into Python because the provenance lists every response anyway, and a choice inside a
    JSON list cannot be matched in SQL the same way on SQLite and PostgreSQL."""
    answers = Answer.objects.filter(question=question, response__survey_id=question.survey_id)
    return [
        AnswerRow(rid, city, number, tuple(choices or ()))
        for rid, city, number, choices in answers.order_by("response_id").values_list(
            "response_id", "response__city_id", "number", "choices"
        )
    ]


def value_responses(value: IndicatorValue) -> QuerySet[Response]:
    """The responses a computed value was computed from (none for other values)."""
    return Response.objects.filter(
        pk__in=FeedProvenance.responses.through.objects.filter(feedprovenance__value=value).values(
            "response_id"
        )
    ).order_by("pk")


# ---- writing ----------------------------------------------------------------------------

REPORT_SOURCE = (
    "Joint report created to hold values computed from survey responses (approved by rule)."
)


class _Skip(Exception):
    """A figure that is not stored, and why."""


def _ours(value: IndicatorValue) -> bool:
    """Still the rule's figure: people have neither entered over it nor restated it."""
    return value.provenance == SURVEY and not value.restatements.exists()


def _figure_text(value: IndicatorValue | None) -> str:
    if value is None or value.value is None:
        return "—"
    text = f"{value.value.normalize():f}"
    if value.numerator is not None and value.denominator is not None:
        text += f" ({value.numerator.normalize():f}/{value.denominator.normalize():f})"
    return text


class _FeedRun:
    """One refresh of one feed, inside the caller's transaction."""

    def __init__(self, feed: IndicatorFeed) -> None:
        self.feed, self.indicator, self.question = feed, feed.indicator, feed.question
        self.survey: Survey = feed.question.survey
        self.period: ReportingPeriod | None = self.survey.period
        self.counted = counted_answers(feed)
        self.outcome = FeedOutcome(feed.pk)
        self.now = timezone.now()
        self.scope = set(self.indicator.cities.values_list("pk", flat=True))
        self.city_codes = dict(City.objects.values_list("pk", "code"))

    def run(self) -> FeedOutcome:
        owned = {
            (p.value.report.period_id, p.value.report.city_id): p
            for p in FeedProvenance.objects.filter(feed=self.feed).select_related("value__report")
        }
        kept: set[int] = set()
        if self.period is None:
            self.skip(None, "its survey has no reporting period")
        elif self.indicator.programme_id != self.survey.programme_id:
            self.skip(None, "the indicator belongs to another programme than the survey")
        else:
            for figure in figures(answer_rows(self.question), self.counted):
                prov = self.store(figure, owned.get((self.period.pk, figure.city_id)))
                if prov is not None:
                    kept.add(prov.pk)
        for prov in owned.values():
            if prov.pk not in kept:
                self.release(prov)
        return self.outcome

    def place(self, city_id: int | None) -> str:
        if city_id is None:
            return "the whole programme (responses with or without a city)"
        return f"city {self.city_codes.get(city_id, city_id)}"

    def skip(self, figure: Figure | None, reason: str) -> None:
        where = self.place(figure.city_id) if figure else "every place"
        message = f"{self.indicator.code} ← {self.question}: not stored for {where}: {reason}"
        self.outcome.skipped.append(message)
        log.warning("survey feed %s: %s", self.feed.pk, message)

    def store(self, figure: Figure, prov: FeedProvenance | None) -> FeedProvenance | None:
        """Write one figure (in a savepoint: a refused figure leaves nothing behind)."""
        try:
            with transaction.atomic():
                return self.save(figure, prov)
        except _Skip as refusal:
            self.skip(figure, str(refusal))
        except ValidationError as error:
            self.skip(figure, " ".join(error.messages))
        return None

    def check_slot(self, figure: Figure, prov: FeedProvenance | None) -> None:
        """Refuse a place outside the indicator's scope, and a slot people hold."""
        assert self.period is not None  # run() checked it
        if figure.city_id is None and self.indicator.place_rule == Indicator.PlaceRule.NONE:
            raise _Skip("the indicator has no programme total (place rule 'none')")
        if figure.city_id is not None and figure.city_id not in self.scope:
            raise _Skip("the city is outside the indicator's cities")
        if prov is not None and not _ours(prov.value):
            raise _Skip("people restated or entered the figure; it is theirs now")
        others = IndicatorValue.objects.filter(
            indicator=self.indicator,
            category__isnull=True,
            report__programme_id=self.survey.programme_id,
            report__period=self.period,
        )
        if prov is not None:
            others = others.exclude(pk=prov.value_id)
        others = (
            others.filter(report__city__isnull=True)
            if figure.city_id is None
            else others.filter(report__city_id=figure.city_id)
        )
        for other in others.select_related("report__agency", "survey_provenance"):
            who = other.report.agency.code if other.report.agency else "joint"
            computer = getattr(other, "survey_provenance", None)
            if computer is not None and _ours(other):
                raise _Skip(f"another survey feed computed this figure ({who} report)")
            raise _Skip(f"a figure entered by people ({who} report) is kept")

    def joint_report(self, city_id: int | None) -> ProgressReport:
        """The joint report of the city (or programme) and period; created approved when
        missing. An existing one that is not approved is people's work in progress."""
        reports = ProgressReport.objects.filter(
            programme_id=self.survey.programme_id, agency__isnull=True, period=self.period
        )
        reports = (
            reports.filter(city__isnull=True) if city_id is None else reports.filter(city=city_id)
        )
        report = reports.first()
        if report is None:
            report = ProgressReport(
                programme_id=self.survey.programme_id,
                city_id=city_id,
                period=self.period,
                status=ProgressReport.Status.APPROVED,
                approved_at=self.now,
                source=REPORT_SOURCE,
            )
            report.full_clean()
            report.save()
        elif not report.is_approved:
            raise _Skip(f"the joint report is {report.status}; the rule does not approve it")
        return report

    def source(self, figure: Figure) -> str:
        assert self.period is not None
        counted = ", ".join(sorted(self.counted or ()))
        rule = f"{self.feed.rule} ({counted})" if self.counted is not None else self.feed.rule
        tally = (
            f"mean of {figure.respondents} answers"
            if figure.count is None
            else f"{figure.count} of {figure.respondents} respondents who answered"
        )
        return (
            f"Computed from survey {self.survey.code} (wave {self.survey.wave}), question "
            f"{self.question.code}, rule {rule}: {tally}; {self.place(figure.city_id)}, "
            f"period {self.period.code}. Approved by rule; the responses behind it are listed "
            "in its survey provenance."
        )

    def save(self, figure: Figure, prov: FeedProvenance | None) -> FeedProvenance:
        self.check_slot(figure, prov)
        if prov is None:
            report = self.joint_report(figure.city_id)
            value = IndicatorValue(report=report, indicator=self.indicator)
            prov = FeedProvenance(feed=self.feed, value=value)
        value = prov.value
        before = (_figure_text(value) if prov.pk else "—", value.source, prov.count)
        share = figure.count is not None
        value.value = figure.value
        value.numerator = Decimal(figure.count or 0) if share else None
        value.denominator = Decimal(figure.respondents) if share else None
        value.provenance, value.source = SURVEY, self.source(figure)
        value.full_clean(exclude=["evidence"], validate_unique=False)
        ids = set(figure.response_ids)
        had = set(prov.responses.values_list("pk", flat=True)) if prov.pk else set()
        if prov.pk and before == (_figure_text(value), value.source, figure.count) and had == ids:
            self.outcome.unchanged += 1
            return prov
        value.save()
        prov.value, prov.respondents, prov.count = value, figure.respondents, figure.count
        prov.computed_at = self.now
        prov.save()
        prov.responses.set(ids)
        self.audit(value.report, before[0], _figure_text(value))
        self.outcome.written += 1
        return prov

    def release(self, prov: FeedProvenance) -> None:
        """A figure this feed stored earlier and no longer computes: removed while it is
        still the rule's; left to people (only the link dropped) once they restated it."""
        value, report = prov.value, prov.value.report
        if not _ours(value):
            prov.delete()
            log.warning("survey feed %s: value %s is people's now; kept", self.feed.pk, value.pk)
            return
        self.audit(report, _figure_text(value), "—")
        value.delete()
        if report.source == REPORT_SOURCE and not report.values.exists():
            report.delete()  # the rule created it for its values only
        self.outcome.removed += 1

    def audit(self, report: ProgressReport, old: str, new: str) -> None:
        audit_record(
            actor=None,
            programme=report.programme,
            action="value.survey_compute",
            obj=report,
            old_value={self.indicator.code: old},
            new_value={self.indicator.code: new},
            reason=f"Computed from survey {self.survey.code}, question {self.question.code}.",
        )


@transaction.atomic
def feed_refresh(*, feed: IndicatorFeed) -> FeedOutcome:
    """Recompute one feed: store the figures of its survey's period, replace those it stored
    before, remove those that no longer have answers. Does not ask for the engine's
    recompute (``responses_changed`` does)."""
    return _FeedRun(feed).run()


def responses_changed(survey: Survey) -> list[FeedOutcome]:
    """Recompute the feeds of this survey's questions and ask the engine to recompute the
    indicators whose values changed, once the transaction commits. Call it after storing,
    changing or deleting responses of the survey (or changing its period)."""
    with transaction.atomic():
        # Locked so two imports into the same survey compute one after the other.
        feeds = list(
            IndicatorFeed.objects.select_for_update(of=("self",))
            .filter(question__survey=survey)
            .select_related("indicator", "question__survey__period")
            .order_by("pk")
        )
        outcomes = [feed_refresh(feed=feed) for feed in feeds]
        request_recompute(
            feed.indicator_id
            for feed, outcome in zip(feeds, outcomes, strict=True)
            if outcome.changed
        )
    return outcomes
