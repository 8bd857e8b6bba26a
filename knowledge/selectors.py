"""Reads for the knowledge pages, scoped to the viewer. Each ``*_get_for_user`` fetches one
object and authorises in one call: 404 outside the programme, for an object of another
programme, and for what a donor may not read (its existence is not disclosed). The querysets
mirror ``knowledge.permissions`` so a list never shows what the object's own page refuses."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from indicators.permissions import Access, access_for
from monitoring.models import Agency, FollowUpStatus, Programme, open_and_overdue
from monitoring.permissions import Viewer
from monitoring.selectors import programme_get_for_user

from .models import Evaluation, Lesson, Recommendation, ResponseAction, Theme
from .permissions import can_view_evaluation, can_view_lesson, can_view_recommendation

ACTION_RELATED = ("owner_agency", "owner", "updated_by")


@dataclass
class KnowledgeAccess:
    """A viewer in a programme's knowledge pages."""

    programme: Programme
    access: Access


@dataclass
class EvaluationSlot(KnowledgeAccess):
    evaluation: Evaluation


@dataclass
class RecommendationSlot(KnowledgeAccess):
    recommendation: Recommendation
    addressees: set[int]  # agency ids
    programme_agencies: set[int]


@dataclass
class ActionSlot(KnowledgeAccess):
    action: ResponseAction


def knowledge_access_for_user(*, user: Viewer, programme_code: str) -> KnowledgeAccess:
    programme = programme_get_for_user(user=user, code=programme_code)
    access = access_for(user, programme)
    if not access.is_member:
        raise Http404
    return KnowledgeAccess(programme, access)


def visible_evaluations(access: Access) -> Q:
    """``can_view_evaluation`` as a filter."""
    return Q(shareable=True) if access.only_approved else Q()


def visible_recommendations(access: Access, prefix: str = "") -> Q:
    """``can_view_recommendation`` as a filter (``prefix``: the path to the recommendation)."""
    if not access.only_approved:
        return Q()
    return Q(**{f"{prefix}shareable": True, f"{prefix}evaluation__shareable": True})


def visible_lessons(access: Access) -> Q:
    return Q(shareable=True) if access.only_approved else Q()


# ---- evaluations and recommendations -----------------------------------------------------


def evaluation_rows(base: KnowledgeAccess) -> QuerySet[Evaluation]:
    """The programme's evaluations with how many recommendations the viewer sees and how
    many of those have a response."""
    seen = visible_recommendations(base.access, "recommendations__")
    return (
        Evaluation.objects.filter(visible_evaluations(base.access), programme=base.programme)
        .annotate(
            n_recommendations=Count("recommendations", filter=seen, distinct=True),
            n_responded=Count(
                "recommendations",
                filter=seen & Q(recommendations__response__isnull=False),
                distinct=True,
            ),
        )
        .order_by("-end_date", "code")
    )


def evaluation_get_for_user(
    *, user: Viewer, programme_code: str, evaluation_code: str
) -> EvaluationSlot:
    base = knowledge_access_for_user(user=user, programme_code=programme_code)
    evaluation = Evaluation.objects.filter(programme=base.programme, code=evaluation_code).first()
    if evaluation is None or not can_view_evaluation(base.access, evaluation):
        raise Http404
    return EvaluationSlot(base.programme, base.access, evaluation)


# Not done and not cancelled (monitoring.models.followup.CLOSED_STATUSES, the other way round).
OPEN = (FollowUpStatus.PLANNED, FollowUpStatus.IN_PROGRESS)


@dataclass(frozen=True)
class RecommendationFilters:
    agency: Agency | None = None
    priority: str = ""
    response: str = ""  # a decision, or "none" for no response yet

    @property
    def active(self) -> bool:
        return bool(self.agency or self.priority or self.response)


def recommendations_of(
    slot: EvaluationSlot, filters: RecommendationFilters, today: dt.date
) -> QuerySet[Recommendation]:
    qs = Recommendation.objects.filter(
        visible_recommendations(slot.access), evaluation=slot.evaluation
    )
    if filters.agency is not None:
        qs = qs.filter(addressee_agencies=filters.agency)
    if filters.priority:
        qs = qs.filter(priority=filters.priority)
    if filters.response == "none":
        qs = qs.filter(response__isnull=True)
    elif filters.response:
        qs = qs.filter(response__decision=filters.response)
    actions = "response__actions__"
    open_ = Q(**{f"{actions}status__in": OPEN})
    return (
        qs.select_related("response")
        .prefetch_related("addressee_agencies")
        .annotate(
            n_actions=Count("response__actions", distinct=True),
            n_open=Count("response__actions", filter=open_, distinct=True),
            n_overdue=Count(
                "response__actions",
                filter=open_ & Q(**{f"{actions}due_on__lt": today}),
                distinct=True,
            ),
        )
        .order_by("number")
    )


def recommendation_get_for_user(
    *, user: Viewer, programme_code: str, evaluation_code: str, number: int
) -> RecommendationSlot:
    base = knowledge_access_for_user(user=user, programme_code=programme_code)
    recommendation = (
        Recommendation.objects.filter(
            evaluation__programme=base.programme,
            evaluation__code=evaluation_code,
            number=number,
        )
        .select_related("evaluation", "response__responded_by")
        .prefetch_related("addressee_agencies", "outcomes", "outputs")
        .first()
    )
    if recommendation is None or not can_view_recommendation(base.access, recommendation):
        raise Http404
    return RecommendationSlot(
        base.programme,
        base.access,
        recommendation,
        {a.pk for a in recommendation.addressee_agencies.all()},
        set(base.programme.agencies.values_list("pk", flat=True)),
    )


def actions_of(slot: RecommendationSlot) -> list[ResponseAction]:
    response = getattr(slot.recommendation, "response", None)
    if response is None:
        return []
    return list(response.actions.select_related(*ACTION_RELATED).order_by("due_on", "pk"))


def action_get_for_user(*, user: Viewer, programme_code: str, action_id: int) -> ActionSlot:
    base = knowledge_access_for_user(user=user, programme_code=programme_code)
    action = (
        ResponseAction.objects.filter(
            pk=action_id, response__recommendation__evaluation__programme=base.programme
        )
        .select_related(*ACTION_RELATED, "response__recommendation__evaluation")
        .first()
    )
    if action is None or not can_view_recommendation(base.access, action.response.recommendation):
        raise Http404
    return ActionSlot(base.programme, base.access, action)


# ---- tracking -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionFilters:
    agency: Agency | None = None
    status: str = ""
    overdue: bool = False

    @property
    def active(self) -> bool:
        return bool(self.agency or self.status or self.overdue)


def tracked_actions(
    base: KnowledgeAccess, filters: ActionFilters, today: dt.date
) -> tuple[list[ResponseAction], dict[str, int]]:
    """The actions of every recommendation the viewer sees, filtered, and the count per
    status (and overdue) of those matching every filter but the status."""
    qs = ResponseAction.objects.filter(
        visible_recommendations(base.access, "response__recommendation__"),
        response__recommendation__evaluation__programme=base.programme,
    )
    if filters.agency is not None:
        qs = qs.filter(owner_agency=filters.agency)
    if filters.overdue:
        qs = qs.filter(open_and_overdue(today))
    counts: dict[str, Any] = qs.aggregate(
        overdue=Count("pk", filter=open_and_overdue(today)),
        total=Count("pk"),
        **{s: Count("pk", filter=Q(status=s)) for s in FollowUpStatus.values},
    )
    if filters.status:
        qs = qs.filter(status=filters.status)
    rows = list(
        qs.select_related(*ACTION_RELATED, "response__recommendation__evaluation").order_by(
            "due_on", "response__recommendation__number", "pk"
        )
    )
    return rows, counts


# ---- lessons ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LessonFilters:
    q: str = ""
    kind: str = ""
    theme: Theme | None = None
    category: str = ""  # the category's English name, as the register spells it
    output: Any = None
    indicator: Any = None

    @property
    def active(self) -> bool:
        return bool(
            self.q or self.kind or self.theme or self.category or self.output or self.indicator
        )


SEARCHED = ("title", "description", "context")


def lessons_for(base: KnowledgeAccess, filters: LessonFilters) -> QuerySet[Lesson]:
    qs = Lesson.objects.filter(visible_lessons(base.access), programme=base.programme)
    if filters.q:
        words = Q()
        for field in SEARCHED:
            for lang in ("es", "en"):
                words |= Q(**{f"{field}_{lang}__icontains": filters.q})
        qs = qs.filter(words)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.theme is not None:
        qs = qs.filter(themes=filters.theme)
    if filters.category:
        qs = qs.filter(themes__category_en=filters.category)
    if filters.output is not None:
        qs = qs.filter(outputs=filters.output)
    if filters.indicator is not None:
        qs = qs.filter(indicators=filters.indicator)
    return (
        qs.distinct()
        .prefetch_related("themes", "outputs", "indicators")
        .order_by("kind", "order", "code")
    )


def lesson_filter_choices(base: KnowledgeAccess) -> dict[str, list[Any]]:
    """What the lesson filters offer: the themes, categories, outputs and indicators that the
    lessons this viewer reads use."""
    lessons = Lesson.objects.filter(visible_lessons(base.access), programme=base.programme)
    themes = list(Theme.objects.filter(lessons__in=lessons).distinct().order_by("name_en"))
    categories = sorted({(t.category_en, t.category) for t in themes if t.category_en})
    outputs = list(base.programme.outputs.filter(lessons__in=lessons).distinct())
    indicators = list(
        base.programme.indicators.filter(lessons__in=lessons).distinct().order_by("code")
    )
    return {
        "themes": themes,
        "categories": categories,
        "outputs": outputs,
        "indicators": indicators,
    }


@dataclass
class LessonSlot(KnowledgeAccess):
    lesson: Lesson


def lesson_get_for_user(*, user: Viewer, programme_code: str, lesson_code: str) -> LessonSlot:
    base = knowledge_access_for_user(user=user, programme_code=programme_code)
    lesson = (
        Lesson.objects.filter(programme=base.programme, code=lesson_code)
        .select_related("evaluation")
        .prefetch_related("themes", "outputs", "indicators")
        .first()
    )
    if lesson is None or not can_view_lesson(base.access, lesson):
        raise Http404
    return LessonSlot(base.programme, base.access, lesson)
