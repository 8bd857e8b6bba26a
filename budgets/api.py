"""The budgets API (DESIGN §6, §8), read only: budget lines, expenditures and the figures of
the budget dashboard. Who sees what follows the budget pages (``budgets.permissions``): every
member of a programme reads its lines and figures; expenditures as ``can_view_expenditure``
allows, and never anything but approved ones for a donor. A token reads its own programme
only; anybody else's programme is a 404, like on the web."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
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

from indicators.permissions import Access
from indicators.selectors.lookups import ProgrammeLookups
from monitoring.api.access import programme_access, programme_from_query, visible_programmes
from monitoring.models import Agency, City, Country, Output, Programme, ReportingPeriod

from .models import BudgetCategory, BudgetFigure, BudgetFinding, BudgetLine, Expenditure
from .permissions import sees_budget
from .selectors import (
    Where,
    budget_figures,
    budget_names,
    category_breakdown,
    execution_rows,
    finding_rows,
    pick,
    timeline,
)
from .selectors_entry import visible_expenditures

Scope = BudgetFigure.Scope
READ_ONLY = ["get", "head", "options"]

# ---- who reads which programme ------------------------------------------------------------


def readable_programmes(
    request: Request, may_read: Callable[[Access], bool]
) -> list[tuple[Programme, Access]]:
    """The programme of ``?programme=`` (404 if the requester may not see it), else every
    programme they may see (a token: its own), each with the requester's access, kept when
    ``may_read`` says so."""
    chosen = programme_from_query(request, required=False)
    programmes = [chosen] if chosen is not None else list(visible_programmes(request))
    pairs = [(p, programme_access(request, p)) for p in programmes]
    return [(p, access) for p, access in pairs if may_read(access)]


def expenditures_visible_to(access: Access) -> Q:
    """The expenditures this viewer may read: as on the budget pages, and for a donor (or a
    member with no other role) approved ones only."""
    visible = visible_expenditures(access)
    if access.only_approved:
        visible &= Q(status=Expenditure.Status.APPROVED)
    return visible


# ---- filters ----------------------------------------------------------------------------


def _code_filter(field_name: str, queryset: QuerySet, help_text: Any) -> filters.Filter:
    """A filter by code (unique across programmes): an unknown code is a 400 naming it."""
    return filters.ModelChoiceFilter(
        field_name=field_name, queryset=queryset, to_field_name="code", help_text=help_text
    )


class UpdatedSinceFilter(filters.IsoDateTimeFilter):
    """Changed at or after a moment, in any offset ISO 8601 allows (PostgreSQL takes
    offsets up to ±15:59 only, so the moment is compared in UTC)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("field_name", "updated_at")
        kwargs.setdefault("lookup_expr", "gte")
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet, value: dt.datetime | None) -> QuerySet:
        if value is not None:
            try:
                value = value.astimezone(dt.UTC)
            except OverflowError:  # a moment on 1 January 1 or 31 December 9999
                value = (dt.datetime.min if value.year == 1 else dt.datetime.max).replace(
                    tzinfo=dt.UTC
                )
        return super().filter(qs, value)


class IntegerFilter(filters.NumberFilter):
    """A whole number (django-filter's number filter takes decimals)."""

    field_class = forms.IntegerField


class StrictBooleanField(forms.Field):
    """true or false (1 or 0); anything else is an error, not "no filter"."""

    def to_python(self, value: Any) -> bool | None:
        text = str(value).strip().lower() if value is not None else ""
        if text in ("", "none"):
            return None
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise forms.ValidationError(_("Say true or false."), code="invalid")


class BooleanFilter(filters.BooleanFilter):
    field_class = StrictBooleanField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["widget"] = forms.TextInput  # the value as sent, not mapped to None
        super().__init__(*args, **kwargs)


PROGRAMME_HELP = gettext_lazy(
    "Programme code, e.g. CIUDADES. Without it: every programme you may see (a token: its own)."
)
CITY_HELP = gettext_lazy("City code; budgets are kept per country, so a city means its country.")


class BudgetFilterSet(filters.FilterSet):
    """What budget lines and expenditures share. ``programme`` is resolved by the view (it
    decides what may be seen); it is declared here so that it is documented with the rest."""

    programme = filters.CharFilter(method="_as_resolved", help_text=PROGRAMME_HELP)
    output = filters.CharFilter(method="_output", help_text=gettext_lazy("Output code."))
    #: the path from the filtered model to its budget line ("" for a line itself)
    line_path = ""

    def _as_resolved(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset

    def _path(self, field: str) -> str:
        return f"{self.line_path}{field}"

    def _city(self, queryset: QuerySet, name: str, value: City) -> QuerySet:
        return queryset.filter(**{self._path("country"): value.country_id})

    def _output(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Output codes repeat across programmes: the code must name an output of the
        programmes being read, else a 400."""
        programmes = self.queryset.values(self._path("programme_id"))
        if not Output.objects.filter(programme__in=programmes, code=value).exists():
            raise exceptions.ValidationError(
                {name: [_("No output %(code)s in this programme.") % {"code": value}]}
            )
        return queryset.filter(**{self._path("output__code"): value})


class BudgetLineFilter(BudgetFilterSet):
    agency = _code_filter("agency", Agency.objects.all(), gettext_lazy("Agency code, e.g. ILO."))
    country = _code_filter("country", Country.objects.all(), gettext_lazy("ISO country code."))
    city = filters.ModelChoiceFilter(
        queryset=City.objects.all(), to_field_name="code", method="_city", help_text=CITY_HELP
    )
    category = _code_filter(
        "category", BudgetCategory.objects.all(), gettext_lazy("Budget category code.")
    )
    view = filters.ChoiceFilter(
        choices=BudgetLine.View.choices,
        help_text=gettext_lazy(
            "line: the programme's budget lines (agency × country). split: another breakdown "
            "of the same money (an agency's budget by category); never add the two."
        ),
    )
    updated_since = UpdatedSinceFilter(
        help_text=gettext_lazy("Lines changed at or after this time (ISO 8601).")
    )

    class Meta:
        model = BudgetLine
        fields: list[str] = []


class ExpenditureFilter(BudgetFilterSet):
    line_path = "line__"
    agency = _code_filter(
        "line__agency", Agency.objects.all(), gettext_lazy("Agency code, e.g. ILO.")
    )
    country = _code_filter(
        "line__country", Country.objects.all(), gettext_lazy("ISO country code.")
    )
    city = filters.ModelChoiceFilter(
        queryset=City.objects.all(), to_field_name="code", method="_city", help_text=CITY_HELP
    )
    line = IntegerFilter(field_name="line", help_text=gettext_lazy("Budget line id."))
    period = filters.CharFilter(method="_period", help_text=gettext_lazy("Reporting period code."))
    status = filters.ChoiceFilter(
        choices=Expenditure.Status.choices,
        help_text=gettext_lazy("Donors' tokens read approved expenditures only."),
    )
    kind = filters.ChoiceFilter(choices=Expenditure.Kind.choices)
    cumulative = BooleanFilter(
        help_text=gettext_lazy("true: amounts spent from the start up to their 'as of' date.")
    )
    updated_since = UpdatedSinceFilter(
        help_text=gettext_lazy("Expenditures changed at or after this time (ISO 8601).")
    )

    class Meta:
        model = Expenditure
        fields: list[str] = []

    def _period(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        programmes = self.queryset.values("line__programme_id")
        if not ReportingPeriod.objects.filter(programme__in=programmes, code=value).exists():
            raise exceptions.ValidationError(
                {name: [_("No period %(code)s in this programme.") % {"code": value}]}
            )
        return queryset.filter(period__code=value)


# ---- budget lines -------------------------------------------------------------------------


class BudgetLineSerializer(serializers.ModelSerializer):
    programme = serializers.CharField(source="programme.code")
    agency = serializers.CharField(source="agency.code")
    country = serializers.CharField(source="country.code", allow_null=True)
    output = serializers.CharField(source="output.code", allow_null=True)
    category = serializers.CharField(source="category.code", allow_null=True)
    current_amount = serializers.DecimalField(
        source="amount",
        max_digits=16,
        decimal_places=2,
        help_text=gettext_lazy(
            "The amount in force: the original, or the latest approved revision."
        ),
    )

    class Meta:
        model = BudgetLine
        fields = [
            "id", "programme", "view", "agency", "country", "output", "category", "currency",
            "original_amount", "current_amount", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class BudgetLineList(generics.ListAPIView):
    """Budget lines of the programmes you read: agency × country (× output, × category where
    known), their original and current amounts. Ordered by programme, kind, agency, country,
    category, output and id."""

    serializer_class = BudgetLineSerializer
    filterset_class = BudgetLineFilter
    http_method_names = READ_ONLY

    def get_queryset(self) -> QuerySet[BudgetLine]:
        if getattr(self, "swagger_fake_view", False):
            return BudgetLine.objects.none()
        programmes = [p for p, _a in readable_programmes(self.request, sees_budget)]
        return (
            BudgetLine.objects.filter(programme__in=programmes)
            .select_related("programme", "agency", "country", "output", "category")
            .order_by(
                "programme__code", "view", "agency__code", "country__code",
                "category__order", "category__code", "output__code", "id",
            )
        )  # fmt: skip


# ---- expenditures -------------------------------------------------------------------------


class ExpenditureSerializer(serializers.ModelSerializer):
    programme = serializers.CharField(source="line.programme.code")
    line = serializers.IntegerField(source="line_id")
    agency = serializers.CharField(source="line.agency.code")
    country = serializers.CharField(source="line.country.code", allow_null=True)
    output = serializers.CharField(source="line.output.code", allow_null=True)
    currency = serializers.CharField(source="line.currency")
    period = serializers.CharField(source="period.code")
    period_start = serializers.DateField(source="period.start_date")
    period_end = serializers.DateField(source="period.end_date")

    class Meta:
        model = Expenditure
        fields = [
            "id", "programme", "line", "agency", "country", "output", "currency", "period",
            "period_start", "period_end", "cumulative", "amount", "kind", "as_of",
            "stated_budget", "status", "approved_at", "note", "source", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class ExpenditureList(generics.ListAPIView):
    """What each budget line spent per period (or, ``cumulative``, from the start up to its
    "as of" date), interim or certified. Donors read approved expenditures only; an agency's
    own people also their drafts, the RCO and admins submitted ones (as on the budget pages).
    Ordered by programme, agency, country, line, period start, cumulative and id."""

    serializer_class = ExpenditureSerializer
    filterset_class = ExpenditureFilter
    http_method_names = READ_ONLY

    def get_queryset(self) -> QuerySet[Expenditure]:
        if getattr(self, "swagger_fake_view", False):
            return Expenditure.objects.none()
        visible = Q(pk__in=[])
        for programme, access in readable_programmes(self.request, sees_budget):
            visible |= Q(line__programme=programme) & expenditures_visible_to(access)
        return (
            Expenditure.objects.filter(visible)
            .select_related(
                "line__programme", "line__agency", "line__country", "line__output", "period"
            )
            .order_by(
                "line__programme__code", "line__agency__code", "line__country__code", "line_id",
                "period__start_date", "cumulative", "id",
            )
        )  # fmt: skip


# ---- the budget dashboard's figures ---------------------------------------------------------


def _money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True, **kwargs)


def _pct(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=7, decimal_places=2, allow_null=True, **kwargs)


def _code(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(allow_null=True, **kwargs)


class FigureSerializer(serializers.Serializer):
    """One scope's figures, from approved expenditures only."""

    agency = _code()
    country = _code()
    category = _code()
    outcome = _code()
    output = _code()
    budget = _money(help_text=gettext_lazy("As first approved."))
    revised_budget = _money(help_text=gettext_lazy("In force (after approved revisions)."))
    transferred = _money()
    spent = _money(help_text=gettext_lazy("Approved expenditures; null: nothing reported."))
    balance = _money(help_text=gettext_lazy("null while a line has not reported."))
    execution_pct = _pct(help_text=gettext_lazy("Spent ÷ budget of the lines that reported."))
    elapsed_pct = _pct()
    burn = serializers.ChoiceField(choices=BudgetFigure.Burn.choices)
    spent_as_of = serializers.DateField(allow_null=True)
    lines_without_expenditure = serializers.IntegerField()


class CategoryRowSerializer(serializers.Serializer):
    agency = serializers.CharField()
    category = serializers.CharField()
    category_name = serializers.CharField()
    amount = _money()
    share_of_agency_pct = _pct()
    indirect = serializers.BooleanField()


class IndirectRowSerializer(serializers.Serializer):
    agency = serializers.CharField()
    indirect = _money()
    direct = _money()
    share_pct = _pct(help_text=gettext_lazy("Indirect support costs ÷ direct costs."))
    within_ceiling = serializers.BooleanField()


class CostPerResultSerializer(serializers.Serializer):
    output = serializers.CharField()
    indicator = serializers.CharField()
    indicator_actual = serializers.DecimalField(max_digits=18, decimal_places=4, allow_null=True)
    spent = _money()
    cost_per_result = _money()


class FindingSerializer(serializers.Serializer):
    check = serializers.ChoiceField(choices=BudgetFinding.Check.choices)
    agency = _code()
    country = _code()
    category = _code()
    text = serializers.CharField()


class ExtensionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    months = serializers.IntegerField()
    new_end_date = serializers.DateField()


class TimelineSerializer(serializers.Serializer):
    start = serializers.DateField()
    original_end = serializers.DateField()
    end = serializers.DateField(help_text=gettext_lazy("Moved by the no-cost extensions."))
    extensions = ExtensionSerializer(many=True)


class BudgetSummarySerializer(serializers.Serializer):
    programme = serializers.CharField()
    currency = serializers.CharField()
    agency = _code(help_text=gettext_lazy("The agency filter, if any."))
    country = _code(help_text=gettext_lazy("The country filter (or the city's), if any."))
    computed_at = serializers.DateTimeField(allow_null=True)
    timeline = TimelineSerializer()
    total = FigureSerializer(
        allow_null=True, help_text=gettext_lazy("The figures of the filters' scope.")
    )
    by_agency = FigureSerializer(many=True)
    by_agency_country = FigureSerializer(many=True)
    by_country = FigureSerializer(many=True)
    by_outcome = FigureSerializer(many=True)
    by_output = FigureSerializer(many=True)
    by_category = CategoryRowSerializer(many=True)
    categories_from_split = serializers.BooleanField(
        help_text=gettext_lazy(
            "true: the budget by category is the category split of each agency's budget "
            "(all its countries; spending by category not reported)."
        )
    )
    indirect_ceiling_pct = _pct()
    indirect_costs = IndirectRowSerializer(many=True)
    cost_per_result = CostPerResultSerializer(many=True)
    findings = FindingSerializer(many=True)


@dataclass
class Places:
    """A programme's agencies, cities and countries by code (ids as values; a city's value
    is its country), read once for the summary's filters and its rows."""

    lookups: ProgrammeLookups
    agencies: dict[str, int]
    cities: dict[str, int]
    countries: dict[str, int]

    @classmethod
    def of(cls, programme: Programme) -> "Places":
        lookups = ProgrammeLookups(programme)
        cities = {c.code: c.country_id for c in lookups.cities}
        countries = Country.objects.filter(pk__in=cities.values()).values_list("code", "pk")
        return cls(lookups, {a.code: a.pk for a in lookups.agencies}, cities, dict(countries))


class SummaryQuery(serializers.Serializer):
    """The summary's filters, checked against the programme's own agencies and places."""

    agency = serializers.CharField(required=False, allow_blank=True)
    country = serializers.CharField(required=False, allow_blank=True)
    city = serializers.CharField(required=False, allow_blank=True)

    def where(self, places: Places) -> Where:
        data = self.validated_data
        errors: dict[str, list[str]] = {}
        for name, known in (
            ("agency", places.agencies), ("country", places.countries), ("city", places.cities)
        ):  # fmt: skip
            if data.get(name) and data[name] not in known:
                errors[name] = [
                    _("%(code)s is not one of the programme's: %(known)s.")
                    % {"code": data[name], "known": ", ".join(sorted(known))}
                ]
        if errors:
            raise exceptions.ValidationError(errors)
        in_city = places.cities.get(data.get("city") or "")
        country = places.countries.get(data.get("country") or "") or in_city
        if in_city and country != in_city:
            raise exceptions.ValidationError({"city": [_("This city is in another country.")]})
        return Where(agency_id=places.agencies.get(data.get("agency") or ""), country_id=country)


def _figure(f: BudgetFigure) -> dict[str, Any]:
    return {
        "agency": f.agency.code if f.agency_id and f.agency else None,
        "country": f.country.code if f.country_id and f.country else None,
        "category": f.category.code if f.category_id and f.category else None,
        "outcome": f.outcome.code if f.outcome_id and f.outcome else None,
        "output": f.output.code if f.output_id and f.output else None,
        "budget": f.budget,
        "revised_budget": f.revised,
        "transferred": f.transferred,
        "spent": f.spent,
        "balance": f.balance,
        "execution_pct": f.execution,
        "elapsed_pct": f.elapsed,
        "burn": f.burn,
        "spent_as_of": f.spent_as_of,
        "lines_without_expenditure": f.missing_expenditure,
    }


def _execution(row: dict[str, Any]) -> dict[str, Any]:
    """An execution row of the dashboard (``selectors.execution_row``) as a figure."""
    return {
        "agency": row["agency"] or None, "country": row["country"] or None, "category": None,
        "outcome": None, "output": None, "budget": row["budget"],
        "revised_budget": row["revised"], "transferred": None, "spent": row["spent"],
        "balance": row["balance"], "execution_pct": row["execution"],
        "elapsed_pct": row["elapsed"], "burn": row["burn"], "spent_as_of": row["as_of"],
        "lines_without_expenditure": row["missing"],
    }  # fmt: skip


def _by_country(figures: list[BudgetFigure], where: Where) -> list[dict[str, Any]]:
    """Per country; with an agency chosen, that agency's figures per country."""
    scope = Scope.AGENCY_COUNTRY if where.agency_id else Scope.COUNTRY
    return [
        _figure(f)
        for f in figures
        if f.scope == scope
        and (not where.agency_id or f.agency_id == where.agency_id)
        and (not where.country_id or f.country_id == where.country_id)
    ]


def _outputs(programme: Programme) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per output: its figures, and its cost per result (one row per indicator)."""
    rows = BudgetFigure.objects.filter(programme=programme, scope=Scope.OUTPUT).select_related(
        "output", "indicator"
    )
    figures, costs = [], []
    for f in rows.order_by("output__code", "indicator__code", "id"):
        if f.indicator_id is None:
            figures.append(_figure(f))
            continue
        assert f.output is not None and f.indicator is not None
        costs.append(
            {"output": f.output.code, "indicator": f.indicator.code,
             "indicator_actual": f.indicator_actual, "spent": f.spent,
             "cost_per_result": f.cost_per_result}
        )  # fmt: skip
    return figures, costs


def budget_summary(programme: Programme, where: Where, places: Places) -> dict[str, Any]:
    """What the budget dashboard shows, for the same filters, as plain data."""
    figures = budget_figures(programme)
    time = timeline(programme)
    categories = category_breakdown(programme, where)
    names = budget_names(places.lookups)
    findings = finding_rows(programme, where, names)
    by_output, costs = _outputs(programme)
    ceiling = programme.indirect_ceiling
    agency_codes = {pk: code for code, pk in places.agencies.items()}
    country_codes = {pk: code for code, pk in places.countries.items()}
    category_codes = dict(BudgetCategory.objects.values_list("pk", "code"))
    return {
        "programme": programme.code,
        "currency": programme.currency,
        "agency": agency_codes.get(where.agency_id or 0),
        "country": country_codes.get(where.country_id or 0),
        "computed_at": min((f.computed_at for f in figures), default=None),
        "timeline": {
            "start": time.start, "original_end": time.original_end, "end": time.end,
            "extensions": [
                {"number": e.number, "months": e.months, "new_end_date": e.new_end_date}
                for e in time.extensions
            ],
        },
        "total": _figure(total) if (total := pick(figures, where)) else None,
        "by_agency": [_execution(r) for r in execution_rows(figures, where, Scope.AGENCY)],
        "by_agency_country": [
            _execution(r) for r in execution_rows(figures, where, Scope.AGENCY_COUNTRY)
        ],
        "by_country": _by_country(figures, where),
        "by_outcome": [_figure(f) for f in figures if f.scope == Scope.OUTCOME],
        "by_output": by_output,
        "by_category": [
            {"agency": r["agency"], "category": r["category"], "category_name": r["category_name"],
             "amount": r["amount"], "share_of_agency_pct": r["share"], "indirect": r["indirect"]}
            for r in categories.rows
        ],
        "categories_from_split": categories.from_split,
        "indirect_ceiling_pct": ceiling,
        "indirect_costs": [
            {"agency": r["agency"], "indirect": r["indirect"], "direct": r["direct"],
             "share_pct": r["share"], "within_ceiling": r["share"] <= ceiling}
            for r in categories.indirect
        ],
        "cost_per_result": costs,
        "findings": [
            {"check": f.kind, "agency": agency_codes.get(f.agency_id or 0),
             "country": country_codes.get(f.country_id or 0),
             "category": category_codes.get(f.category_id or 0), "text": text}
            for f, text in findings
        ],
    }  # fmt: skip


class BudgetSummary(APIView):
    """The figures of the budget dashboard: budget, revised budget, approved spending,
    balance and execution rate for the filters' scope and per agency, agency × country,
    country, outcome and output; the budget by category and each agency's indirect support
    costs against the fund's ceiling; cost per result; the budget's findings. Spending counts
    approved expenditures only. Outcomes and outputs are the whole programme's."""

    http_method_names = READ_ONLY

    @extend_schema(
        parameters=[
            OpenApiParameter("programme", OpenApiTypes.STR, description=str(PROGRAMME_HELP)),
            OpenApiParameter("agency", OpenApiTypes.STR, description="Agency code, e.g. ILO."),
            OpenApiParameter("country", OpenApiTypes.STR, description="ISO country code."),
            OpenApiParameter("city", OpenApiTypes.STR, description=str(CITY_HELP)),
        ],
        responses={200: BudgetSummarySerializer},
    )
    def get(self, request: Request) -> Response:
        programme = programme_from_query(request)
        assert programme is not None
        if not sees_budget(programme_access(request, programme)):
            raise Http404
        query = SummaryQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        places = Places.of(programme)
        data = budget_summary(programme, query.where(places), places)
        return Response(BudgetSummarySerializer(data).data)
