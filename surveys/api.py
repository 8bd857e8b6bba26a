"""The surveys API (DESIGN §7, §8), read only: the surveys of the programmes you read, and a
survey's aggregated results as its results page and export compute them (``surveys.results``):
distribution, top-box share, mean, n per group, the under-30 flag, published results beside
the survey's own. Every member of a programme reads them, as on the web, with small groups
withheld as there (``surveys.disclosure``). Nothing here gives a response, an answer or a
respondent: free-text answers are counted, never quoted (as in the export), and groups are
those the results page offers."""

from typing import Any

from django.db.models import Count, IntegerField, Max, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from budgets.api import PROGRAMME_HELP, READ_ONLY, IntegerFilter, readable_programmes
from indicators.permissions import Access
from monitoring.api.access import programme_access, programme_from_query

from .disclosure import COMPLEMENTARY, MAX_COMBINED, SMALL_GROUP, TOO_DETAILED, Disclosure
from .models import AggregateResult, Invitation, Question, Survey
from .models import Response as SurveyResponse
from .permissions import sees_small_groups
from .results import (
    ATTRIBUTES,
    SMALL_N,
    QuestionResults,
    Result,
    SurveyData,
    published_respondents,
    response_rate,
    survey_results_data,
)
from .views import ResultsFilterForm
from .views import _attributes as result_attributes


def reads_surveys(access: Access) -> bool:
    """As the survey pages: every member of the programme."""
    return access.is_member


# ---- the list -------------------------------------------------------------------------------


def _count(model: Any) -> Coalesce:
    rows = model.objects.filter(survey=OuterRef("pk")).order_by().values("survey")
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")), 0)


class SurveyFilter(filters.FilterSet):
    programme = filters.CharFilter(method="_as_resolved", help_text=PROGRAMME_HELP)
    code = filters.CharFilter(help_text=gettext_lazy("Survey code."))
    wave = IntegerFilter()
    kind = filters.ChoiceFilter(choices=Survey.Kind.choices)
    status = filters.ChoiceFilter(choices=Survey.Status.choices)

    class Meta:
        model = Survey
        fields: list[str] = []

    def _as_resolved(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset


class SurveySerializer(serializers.ModelSerializer):
    programme = serializers.CharField(source="programme.code")
    period = serializers.CharField(source="period.code", allow_null=True)
    attributes = serializers.ListField(
        child=serializers.CharField(),
        help_text=gettext_lazy("Respondent attributes the survey asks."),
    )
    respondents = serializers.IntegerField(
        allow_null=True,
        help_text=gettext_lazy(
            "Respondents: the survey's responses; for published results, those the "
            "publication printed for all respondents."
        ),
    )
    responses = serializers.IntegerField(
        source="responses_held",
        help_text=gettext_lazy("Responses held (micro-data); 0 for published results."),
    )
    invitations_issued = serializers.IntegerField()
    response_rate_pct = serializers.DecimalField(
        max_digits=6,
        decimal_places=1,
        allow_null=True,
        help_text=gettext_lazy("Respondents ÷ invitations issued, else ÷ people invited."),
    )
    has_published_results = serializers.BooleanField()

    class Meta:
        model = Survey
        fields = [
            "id", "programme", "code", "wave", "kind", "status", "title_es", "title_en",
            "description_es", "description_en", "fielded_on", "period", "attributes", "invited",
            "invitations_issued", "responses", "respondents", "response_rate_pct",
            "has_published_results",
        ]  # fmt: skip
        read_only_fields = fields

    def to_representation(self, instance: Survey) -> dict[str, Any]:
        # The survey list page's rule: a publication's respondents are those it printed.
        s: Any = instance
        aggregate = s.kind == Survey.Kind.AGGREGATE
        s.respondents = s.published_n if aggregate else s.responses_held
        s.response_rate_pct = (
            response_rate(s.respondents, s.invitations_issued, s.invited) if s.respondents else None
        )
        s.has_published_results = bool(s.published_rows)
        return super().to_representation(instance)


class SurveyList(generics.ListAPIView):
    """The surveys of the programmes you read, one row per wave, with their response counts
    and rate (as on the survey list page). Ordered by programme, code, wave and id."""

    serializer_class = SurveySerializer
    filterset_class = SurveyFilter
    http_method_names = READ_ONLY

    def get_queryset(self) -> QuerySet[Survey]:
        if getattr(self, "swagger_fake_view", False):
            return Survey.objects.none()
        programmes = [p for p, _a in readable_programmes(self.request, reads_surveys)]
        printed = AggregateResult.objects.filter(survey=OuterRef("pk"), group="all")
        printed_n = printed.order_by().values("survey").annotate(n=Max("respondents"))
        return (
            Survey.objects.filter(programme__in=programmes)
            .select_related("programme", "period")
            .annotate(
                responses_held=_count(SurveyResponse),
                invitations_issued=_count(Invitation),
                published_n=Subquery(printed_n.values("n"), output_field=IntegerField()),
                published_rows=_count(AggregateResult),
            )
            .order_by("programme__code", "code", "wave", "id")
        )


# ---- a survey's results -----------------------------------------------------------------------


class CellSerializer(serializers.Serializer):
    answer = serializers.CharField(help_text=gettext_lazy("Level value, choice code, 1/0."))
    label = serializers.CharField()
    count = serializers.IntegerField(allow_null=True)
    share_pct = serializers.DecimalField(max_digits=None, decimal_places=None, allow_null=True)
    top_box = serializers.BooleanField()


class GroupSerializer(serializers.Serializer):
    group = serializers.CharField(help_text=gettext_lazy("'all', or attribute=value."))
    group_label = serializers.CharField()
    respondents = serializers.IntegerField(
        allow_null=True, help_text=gettext_lazy("Who answered the question (n).")
    )
    shown_to = serializers.IntegerField(
        allow_null=True, help_text=gettext_lazy("Whom the skip logic showed the question to.")
    )
    small_sample = serializers.BooleanField(
        help_text=gettext_lazy("Fewer than 30 respondents: read with care.")
    )
    suppressed = serializers.BooleanField(
        help_text=gettext_lazy(
            "Withheld to protect respondents: no n and no figures (see suppressed_reason)."
        )
    )
    suppressed_reason = serializers.ChoiceField(
        choices=[(r, r) for r in (SMALL_GROUP, COMPLEMENTARY, TOO_DETAILED)],
        allow_null=True,
        help_text=gettext_lazy(
            "small_group: fewer respondents than min_group_size; complementary: withheld so "
            "that a small group cannot be worked out from the total and the other groups; "
            "too_detailed: the filters and the breakdown combine more than three attributes."
        ),
    )
    top_box_pct = serializers.DecimalField(max_digits=None, decimal_places=None, allow_null=True)
    mean = serializers.DecimalField(max_digits=None, decimal_places=None, allow_null=True)
    answers = CellSerializer(many=True)


class QuestionResultSerializer(serializers.Serializer):
    question = serializers.CharField()
    text = serializers.CharField(help_text=gettext_lazy("In the language asked for."))
    text_es = serializers.CharField()
    text_en = serializers.CharField()
    type = serializers.ChoiceField(choices=Question.Type.choices)
    results = serializers.ChoiceField(
        choices=[("responses", "responses"), ("published", "published")],
        help_text=gettext_lazy(
            "responses: computed from the survey's responses; published: as a publication "
            "printed them (no micro-data)."
        ),
    )
    source = serializers.CharField()
    small_sample = serializers.BooleanField()
    groups = GroupSerializer(many=True)


class SurveyResultsSerializer(serializers.Serializer):
    programme = serializers.CharField()
    code = serializers.CharField()
    wave = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Survey.Kind.choices)
    status = serializers.ChoiceField(choices=Survey.Status.choices)
    title_es = serializers.CharField()
    title_en = serializers.CharField()
    fielded_on = serializers.DateField(allow_null=True)
    period = serializers.CharField(allow_null=True)
    respondents = serializers.IntegerField(allow_null=True)
    respondents_kept = serializers.IntegerField(
        allow_null=True,
        help_text=gettext_lazy("Responses the filters keep (null when withheld)."),
    )
    withheld = serializers.BooleanField(
        help_text=gettext_lazy(
            "The filters keep a group withheld to protect respondents: no figures are given."
        )
    )
    withheld_message = serializers.CharField(allow_null=True)
    min_group_size = serializers.IntegerField(
        allow_null=True,
        help_text=gettext_lazy(
            "Groups of fewer respondents are withheld from you (null: you see every group)."
        ),
    )
    invitations_issued = serializers.IntegerField()
    invited = serializers.IntegerField(allow_null=True)
    response_rate_pct = serializers.DecimalField(max_digits=6, decimal_places=1, allow_null=True)
    filters = serializers.DictField(child=serializers.CharField())
    by = serializers.ChoiceField(choices=[(a, a) for a in ATTRIBUTES], allow_null=True)
    small_sample_below = serializers.IntegerField()
    questions = QuestionResultSerializer(many=True)


def survey_for(request: Request, code: str) -> tuple[Survey, Access]:
    """The survey of this code in the programme asked for (its latest wave unless
    ``?wave=``), if the requester reads that programme's surveys; 404 otherwise."""
    wave = request.query_params.get("wave") or None
    if wave is not None and not (wave.isascii() and wave.isdigit() and 0 < int(wave) < 2**15):
        raise exceptions.ValidationError({"wave": [_("A wave is a positive whole number.")]})
    programme = programme_from_query(request)
    assert programme is not None
    # No survey code holds a NUL, and PostgreSQL cannot compare one (monitoring.middleware
    # refuses them in the query string, not in the path).
    if "\x00" in code:
        raise Http404(_("No survey %(code)s in this programme.") % {"code": code})
    access = programme_access(request, programme)
    if not reads_surveys(access):
        raise Http404
    surveys = Survey.objects.filter(programme=programme, code=code)
    survey = (surveys.filter(wave=int(wave)) if wave else surveys.order_by("-wave")).first()
    if survey is None and wave:
        raise Http404(_("Survey %(code)s has no wave %(wave)s.") % {"code": code, "wave": wave})
    if survey is None:
        raise Http404(_("No survey %(code)s in this programme.") % {"code": code})
    survey.programme = programme  # already fetched
    return survey, access


def _selection(request: Request, survey: Survey, data: SurveyData) -> tuple[dict, str | None]:
    """The filters and breakdown asked for, checked by the results page's own form; what
    the page would drop is a 400 here."""
    aggregate = survey.kind == Survey.Kind.AGGREGATE
    attributes = result_attributes(survey, data)
    wanted = {k: v for k, v in request.query_params.items() if k in (*ATTRIBUTES, "by")}
    form = ResultsFilterForm(attributes, data, wanted or None, filters=not aggregate)
    errors = {
        name: [
            _("Published results cannot be filtered; break them down with ?by= instead.")
            if aggregate
            else _("This survey's respondents did not give this attribute.")
        ]
        for name, value in wanted.items()
        if value and name not in form.fields
    }
    if errors:
        raise exceptions.ValidationError(errors)
    if form.is_bound and not form.is_valid():
        raise exceptions.ValidationError(form.errors)
    return form.selection()


def _group(r: Result) -> dict[str, Any]:
    """One group's result. ``r.texts`` stays out: free-text answers are counted, not quoted
    (as in the export; the results page shows them to the RCO and the admin only)."""
    return {
        "group": r.group, "group_label": r.group_label, "respondents": r.n,
        "shown_to": r.shown, "small_sample": r.small, "suppressed": bool(r.withheld),
        "suppressed_reason": r.withheld or None, "top_box_pct": r.top_box, "mean": r.mean,
        "answers": [
            {"answer": c.answer, "label": c.label, "count": c.count, "share_pct": c.share,
             "top_box": c.top_box}
            for c in r.cells
        ],
    }  # fmt: skip


def _question(block: QuestionResults, texts: dict[int, tuple[str, str]]) -> dict[str, Any]:
    q = block.question
    text_es, text_en = texts[q.id]
    return {
        "question": q.code, "text": q.text, "text_es": text_es, "text_en": text_en,
        "type": q.type, "results": "published" if block.published else "responses",
        "source": block.source, "small_sample": block.any_small,
        "groups": [_group(r) for r in block.results],
    }  # fmt: skip


def withheld_message(filters: dict[str, str], minimum: int) -> str:
    if filters:
        return _(
            "No figures are given for these filters: they keep fewer than %(minimum)s "
            "respondents, combine more than %(combined)s attributes, or their figures would "
            "let a smaller group be worked out. Remove a filter to see results."
        ) % {"minimum": minimum, "combined": MAX_COMBINED}
    return _(
        "This survey has fewer than %(minimum)s respondents: its figures are not given, so "
        "that no respondent can be singled out."
    ) % {"minimum": minimum}


def results_payload(request: Request, survey: Survey, access: Access) -> dict[str, Any]:
    """The results page's figures for the filters and breakdown asked for, as plain data,
    small groups withheld as on the page."""
    data = survey_results_data(survey)
    chosen, by = _selection(request, survey, data)
    aggregate = survey.kind == Survey.Kind.AGGREGATE
    shown = Disclosure(survey, data, full=sees_small_groups(access)).results(chosen, by)
    blocks = [*shown.own, *shown.published]
    texts = {
        pk: (es, en) for pk, es, en in survey.questions.values_list("pk", "text_es", "text_en")
    }
    respondents = published_respondents(data) if aggregate else len(data.responses)
    return {
        "programme": survey.programme.code, "code": survey.code, "wave": survey.wave,
        "kind": survey.kind, "status": survey.status, "title_es": survey.title_es,
        "title_en": survey.title_en, "fielded_on": survey.fielded_on,
        "period": survey.period.code if survey.period_id and survey.period else None,
        "respondents": respondents,
        "respondents_kept": shown.kept, "withheld": shown.withheld,
        "withheld_message": (
            withheld_message(chosen, shown.minimum)
            if shown.withheld and shown.minimum else None
        ),
        "min_group_size": shown.minimum,
        "invitations_issued": data.invitations, "invited": survey.invited,
        "response_rate_pct": (
            response_rate(respondents, data.invitations, survey.invited) if respondents else None
        ),
        "filters": chosen, "by": by, "small_sample_below": SMALL_N,
        "questions": [_question(b, texts) for b in blocks],
    }  # fmt: skip


ATTRIBUTE_HELP = gettext_lazy(
    "Keep the respondents with this value (responses only; values as the respondents gave them)."
)


class SurveyResults(APIView):
    """A survey's aggregated results, as on its results page and in its export: per question
    and group (all respondents, then each value of ``by``), the distribution, top-box share,
    mean, n and the under-30 flag; published results (no micro-data) beside the survey's
    own, labelled as such. Never a response, an answer or a respondent: free-text answers
    are counted, not quoted. Except for the programme admin, a group of fewer than
    ``min_group_size`` respondents is withheld (``suppressed``), and so is a second group
    when the total and the others would give it away; filters that keep such a group give
    no figures (``withheld``)."""

    http_method_names = READ_ONLY

    @extend_schema(
        parameters=[
            OpenApiParameter("programme", OpenApiTypes.STR, description=str(PROGRAMME_HELP)),
            OpenApiParameter(
                "wave",
                {"type": "integer", "minimum": 1, "maximum": 32767},
                description="The survey's wave (default: the latest).",
            ),
            OpenApiParameter(
                "by", OpenApiTypes.STR, enum=list(ATTRIBUTES), description="Break down by."
            ),
            *(
                OpenApiParameter(name, OpenApiTypes.STR, description=str(ATTRIBUTE_HELP))
                for name in ATTRIBUTES
            ),
        ],
        responses={200: SurveyResultsSerializer},
    )
    def get(self, request: Request, code: str) -> Response:
        survey, access = survey_for(request, code)
        return Response(SurveyResultsSerializer(results_payload(request, survey, access)).data)
