"""Read endpoints of the results framework (DESIGN §3, §8): programmes, outcomes, outputs,
activities, indicators, targets, baselines and reporting periods.

Every list holds only the programmes the requester may see (``visible_programmes``: the
user's memberships, narrowed to a token's programme). Filters are django-filter filtersets;
a value that is not valid is a 400 that names the parameter. Each list has a fixed order
ending in the primary key, so pages never skip or repeat a row. Programmes are looked up by
their code (unique); everything else by id, and an id from a programme the requester may not
see is a 404."""

import datetime as dt
from typing import Any

from django import forms
from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.request import Request

from indicators.models import (
    Baseline,
    DisaggregationCategory,
    DisaggregationDimension,
    Indicator,
    Target,
    TargetRevision,
)
from monitoring.models import (
    Activity,
    Agency,
    City,
    Outcome,
    Output,
    Programme,
    ProgrammeAgency,
    ProgrammeCity,
    ReportingPeriod,
)

from . import schema as _schema  # noqa: F401  (registers the token authentication scheme)
from .access import visible_programmes

LIFE_OF_PROGRAMME = "LOP"

# --- filters ---------------------------------------------------------------------------------


class UpdatedSinceField(IsoDateTimeField):
    """An ISO 8601 date-time, compared in UTC: the database refuses offsets beyond ±15:59,
    and a date near year 1 or 9999 may not exist in UTC at all (400, not 500)."""

    def clean(self, value: Any) -> dt.datetime | None:
        cleaned = super().clean(value)
        if cleaned is None:
            return None
        try:
            return cleaned.astimezone(dt.UTC)
        except (OverflowError, ValueError) as exc:
            raise forms.ValidationError(_("Enter a valid date/time."), code="invalid") from exc


class UpdatedSinceFilter(filters.IsoDateTimeFilter):
    field_class = UpdatedSinceField


class StrictBooleanField(forms.Field):
    """true or false (1 or 0); anything else is an error, not an ignored filter."""

    VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        try:
            return self.VALUES[str(value).lower()]
        except KeyError:
            raise forms.ValidationError(_("Enter true or false."), code="invalid") from None


class StrictBooleanFilter(filters.BooleanFilter):
    field_class = StrictBooleanField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # django-filter's boolean widget turns any unknown word into "no filter".
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


def _visible(request: Request | None) -> QuerySet[Programme]:
    if request is None:
        return Programme.objects.none()
    return visible_programmes(request)


def programme_filter(field_name: str) -> filters.ModelChoiceFilter:
    return filters.ModelChoiceFilter(
        field_name=field_name,
        to_field_name="code",
        queryset=_visible,
        label=_("Programme code, e.g. CIUDADES (one you may see)."),
    )


def city_filter(field_name: str, **kwargs: Any) -> filters.ModelChoiceFilter:
    return filters.ModelChoiceFilter(
        field_name=field_name,
        to_field_name="code",
        queryset=City.objects.all(),
        label=_("City code, e.g. SCL or CDMX."),
        **kwargs,
    )


def agency_filter(field_name: str, **kwargs: Any) -> filters.ModelChoiceFilter:
    return filters.ModelChoiceFilter(
        field_name=field_name,
        to_field_name="code",
        queryset=Agency.objects.all(),
        label=_("Agency code, e.g. ILO, IOM or UNHCR."),
        **kwargs,
    )


def code_filter(field_name: str, label: Any) -> filters.CharFilter:
    """Codes are unique per programme and case-sensitive (1.4.A is not 1.4.a)."""
    return filters.CharFilter(field_name=field_name, lookup_expr="exact", label=label)


def updated_since_filter() -> UpdatedSinceFilter:
    return UpdatedSinceFilter(
        field_name="updated_at",
        lookup_expr="gte",
        label=_("Only rows changed at or after this ISO 8601 date-time."),
    )


class ProgrammeFilter(filters.FilterSet):
    programme = extend_schema_field(OpenApiTypes.STR)(programme_filter("pk"))
    city = city_filter("cities")
    agency = agency_filter("agencies")
    updated_since = updated_since_filter()

    class Meta:
        model = Programme
        fields: list[str] = []


class OutcomeFilter(filters.FilterSet):
    programme = programme_filter("programme")
    code = code_filter("code", _("Outcome code."))

    class Meta:
        model = Outcome
        fields: list[str] = []


class OutputFilter(filters.FilterSet):
    programme = programme_filter("programme")
    outcome = code_filter("outcome__code", _("Outcome code."))
    city = city_filter("cities")
    code = code_filter("code", _("Output code."))

    class Meta:
        model = Output
        fields: list[str] = []


class ActivityFilter(filters.FilterSet):
    programme = programme_filter("programme")
    outcome = code_filter("output__outcome__code", _("Outcome code."))
    output = code_filter("output__code", _("Output code."))
    city = city_filter("city")
    agency = filters.ModelChoiceFilter(
        to_field_name="code",
        queryset=Agency.objects.all(),
        method="filter_agency",
        label=_("Agency code: activities it leads or takes part in."),
    )
    status = filters.ChoiceFilter(choices=Activity.Status.choices)
    code = code_filter("code", _("Activity code (codes restart per country)."))

    class Meta:
        model = Activity
        fields: list[str] = []

    def filter_agency(self, queryset: QuerySet, name: str, value: Agency) -> QuerySet:
        return queryset.filter(
            Q(lead_agency=value) | Q(pk__in=Activity.objects.filter(participating_agencies=value))
        )


class IndicatorFilter(filters.FilterSet):
    programme = programme_filter("programme")
    outcome = code_filter("outcome__code", _("Outcome code."))
    output = code_filter("output__code", _("Output code."))
    city = city_filter("cities", distinct=True)
    agency = agency_filter("responsible_agencies", distinct=True)
    level = filters.ChoiceFilter(choices=Indicator.Level.choices)
    measure = filters.ChoiceFilter(choices=Indicator.Measure.choices)
    active = StrictBooleanFilter(field_name="is_active", label=_("In use (true) or superseded."))
    code = code_filter("code", _("Indicator code."))
    updated_since = updated_since_filter()

    class Meta:
        model = Indicator
        fields: list[str] = []


class PeriodCodeFilter(filters.CharFilter):
    """A period code; LOP also matches what is set for the life of the programme (no
    period), as in the tidy results table."""

    def filter(self, qs: QuerySet, value: Any) -> QuerySet:
        if value in (None, ""):
            return qs
        condition = Q(period__code=value)
        if value == LIFE_OF_PROGRAMME:
            condition |= Q(period__isnull=True)
        return qs.filter(condition)


class TargetFilter(filters.FilterSet):
    programme = programme_filter("indicator__programme")
    outcome = code_filter("indicator__outcome__code", _("Outcome code."))
    output = code_filter("indicator__output__code", _("Output code."))
    indicator = code_filter("indicator__code", _("Indicator code."))
    city = city_filter("city")
    agency = agency_filter("agency")
    period = PeriodCodeFilter(
        label=_("Period code; LOP for the life of the programme."),
    )
    updated_since = updated_since_filter()

    class Meta:
        model = Target
        fields: list[str] = []


class BaselineFilter(filters.FilterSet):
    programme = programme_filter("indicator__programme")
    outcome = code_filter("indicator__outcome__code", _("Outcome code."))
    output = code_filter("indicator__output__code", _("Output code."))
    indicator = code_filter("indicator__code", _("Indicator code."))
    city = city_filter("city")

    class Meta:
        model = Baseline
        fields: list[str] = []


class PeriodFilter(filters.FilterSet):
    programme = programme_filter("programme")
    kind = filters.ChoiceFilter(choices=ReportingPeriod.Kind.choices)
    status = filters.ChoiceFilter(choices=ReportingPeriod.Status.choices)
    code = code_filter("code", _("Period code."))

    class Meta:
        model = ReportingPeriod
        fields: list[str] = []


# --- serializers -----------------------------------------------------------------------------


def code_of(
    source: str | None = None, *, many: bool = False, null: bool = False
) -> serializers.SlugRelatedField:
    """The code of a related object (or of each one), read-only; ``null`` when optional."""
    kwargs: dict[str, Any] = {"slug_field": "code", "read_only": True, "many": many}
    if null:
        kwargs["allow_null"] = True
    if source is not None:
        kwargs["source"] = source
    return serializers.SlugRelatedField(**kwargs)


class ProgrammeAgencySerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="agency.code", read_only=True)
    acronym_es = serializers.CharField(source="agency.acronym_es", read_only=True)
    acronym_en = serializers.CharField(source="agency.acronym_en", read_only=True)
    name_es = serializers.CharField(source="agency.name_es", read_only=True)
    name_en = serializers.CharField(source="agency.name_en", read_only=True)

    class Meta:
        model = ProgrammeAgency
        fields = ["code", "acronym_es", "acronym_en", "name_es", "name_en", "is_convening"]


class ProgrammeCitySerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="city.code", read_only=True)
    name_es = serializers.CharField(source="city.name_es", read_only=True)
    name_en = serializers.CharField(source="city.name_en", read_only=True)
    country = serializers.CharField(source="city.country.code", read_only=True)

    class Meta:
        model = ProgrammeCity
        fields = ["code", "name_es", "name_en", "country"]


class ProgrammeSerializer(serializers.ModelSerializer):
    agencies = ProgrammeAgencySerializer(source="programmeagency_set", many=True, read_only=True)
    cities = ProgrammeCitySerializer(source="programmecity_set", many=True, read_only=True)

    class Meta:
        model = Programme
        fields = [
            "code",
            "name_es",
            "name_en",
            "short_name_es",
            "short_name_en",
            "objective_es",
            "objective_en",
            "fund_es",
            "fund_en",
            "start_date",
            "end_date",
            "currency",
            "budget_total",
            "agencies",
            "cities",
            "updated_at",
        ]
        read_only_fields = fields


class OutcomeSerializer(serializers.ModelSerializer):
    programme = code_of()

    class Meta:
        model = Outcome
        fields = [
            "id",
            "programme",
            "code",
            "order",
            "title_es",
            "title_en",
            "objective_es",
            "objective_en",
        ]
        read_only_fields = fields


class OutputSerializer(serializers.ModelSerializer):
    programme = code_of()
    outcome = code_of()
    cities = code_of(many=True)

    class Meta:
        model = Output
        fields = ["id", "programme", "outcome", "code", "order", "title_es", "title_en", "cities"]
        read_only_fields = fields


class ActivitySerializer(serializers.ModelSerializer):
    programme = code_of()
    outcome = code_of("output.outcome")
    output = code_of()
    country = code_of(null=True)
    city = code_of(null=True)
    lead_agency = code_of(null=True)
    participating_agencies = code_of(many=True)

    class Meta:
        model = Activity
        fields = [
            "id",
            "programme",
            "outcome",
            "output",
            "code",
            "country",
            "city",
            "description_es",
            "description_en",
            "lead_agency",
            "participating_agencies",
            "status",
        ]
        read_only_fields = fields


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = DisaggregationCategory
        fields = ["code", "name_es", "name_en"]
        read_only_fields = fields


class DimensionSerializer(serializers.ModelSerializer):
    categories = CategorySerializer(many=True, read_only=True)

    class Meta:
        model = DisaggregationDimension
        fields = ["code", "name_es", "name_en", "categories"]
        read_only_fields = fields


class IndicatorSerializer(serializers.ModelSerializer):
    programme = code_of()
    outcome = code_of()
    output = code_of(null=True)
    dimensions = DimensionSerializer(many=True, read_only=True)
    cities = code_of(many=True)
    responsible_agencies = code_of(many=True)
    supersedes = code_of(many=True)

    class Meta:
        model = Indicator
        fields = [
            "id",
            "programme",
            "code",
            "version",
            "is_active",
            "level",
            "outcome",
            "output",
            "name_es",
            "name_en",
            "definition_es",
            "definition_en",
            "unit_es",
            "unit_en",
            "measure",
            "time_rule",
            "place_rule",
            "agency_rule",
            "direction",
            "target_kind",
            "dimensions",
            "cities",
            "responsible_agencies",
            "means_of_verification_es",
            "means_of_verification_en",
            "supersedes",
            "updated_at",
        ]
        read_only_fields = fields


class TargetRevisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = TargetRevision
        fields = ["old_value", "new_value", "reason", "revised_at"]
        read_only_fields = fields


class TargetSerializer(serializers.ModelSerializer):
    programme = serializers.CharField(source="indicator.programme.code", read_only=True)
    indicator = code_of()
    scope = serializers.ChoiceField(choices=Target.Scope.choices, read_only=True)
    city = code_of(null=True)
    agency = code_of(null=True)
    period = code_of(null=True)
    category = serializers.SerializerMethodField(
        help_text=_("The disaggregation cell as dimension=category; null for the total.")
    )
    revisions = TargetRevisionSerializer(many=True, read_only=True)

    class Meta:
        model = Target
        fields = [
            "id",
            "programme",
            "indicator",
            "scope",
            "city",
            "agency",
            "period",
            "category",
            "original_value",
            "value",
            "revisions",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "nullable": True, "example": "sex=female"})
    def get_category(self, target: Target) -> str | None:
        return target.category.cell if target.category is not None else None


class BaselineSerializer(serializers.ModelSerializer):
    programme = serializers.CharField(source="indicator.programme.code", read_only=True)
    indicator = code_of()
    city = code_of(null=True)

    class Meta:
        model = Baseline
        fields = ["id", "programme", "indicator", "city", "value", "date", "source"]
        read_only_fields = fields


class PeriodSerializer(serializers.ModelSerializer):
    programme = code_of()

    class Meta:
        model = ReportingPeriod
        fields = [
            "id",
            "programme",
            "code",
            "kind",
            "name_es",
            "name_en",
            "start_date",
            "end_date",
            "due_date",
            "status",
        ]
        read_only_fields = fields


# --- viewsets --------------------------------------------------------------------------------


class FrameworkViewSet(viewsets.ReadOnlyModelViewSet):
    """A read-only list and detail of one part of the framework, limited to the programmes
    the requester may see. ``programme_path`` leads from the model to its programme."""

    programme_path = "programme"

    def base_queryset(self) -> QuerySet:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet:
        visible = visible_programmes(self.request)
        return self.base_queryset().filter(**{f"{self.programme_path}__in": visible})


def _documented(name: str, plural: str) -> Any:
    """Summaries and descriptions of the list and the detail, from the viewset's docstring."""

    def decorate(cls: type) -> type:
        about = " ".join((cls.__doc__ or "").split()) if "__doc__" in cls.__dict__ else ""
        return extend_schema_view(
            list=extend_schema(
                summary=f"List {plural}",
                description=f"{about}\n\nThe {plural} of the programmes you may see, in a "
                "stable order ending in a unique key.".strip(),
            ),
            retrieve=extend_schema(
                summary=f"One {name}",
                description=f"{about}\n\n404 when it is not in a programme you may see.".strip(),
            ),
        )(cls)

    return decorate


@_documented("programme", "programmes")
class ProgrammeViewSet(FrameworkViewSet):
    """Programmes: names, dates, currency and budget, agencies (the convening one flagged)
    and cities."""

    serializer_class = ProgrammeSerializer
    filterset_class = ProgrammeFilter
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    programme_path = "pk"

    def base_queryset(self) -> QuerySet:
        return Programme.objects.order_by("code", "pk").prefetch_related(
            Prefetch(
                "programmeagency_set",
                queryset=ProgrammeAgency.objects.select_related("agency").order_by(
                    "-is_convening", "agency__code"
                ),
            ),
            Prefetch(
                "programmecity_set",
                queryset=ProgrammeCity.objects.select_related("city__country").order_by(
                    "city__code"
                ),
            ),
        )


@_documented("outcome", "outcomes")
class OutcomeViewSet(FrameworkViewSet):
    """Outcomes (resultados) with their specific objectives."""

    serializer_class = OutcomeSerializer
    filterset_class = OutcomeFilter

    def base_queryset(self) -> QuerySet:
        return Outcome.objects.select_related("programme").order_by(
            "programme__code", "order", "code", "pk"
        )


@_documented("output", "outputs")
class OutputViewSet(FrameworkViewSet):
    """Outputs (productos) of each outcome and the cities they are delivered in."""

    serializer_class = OutputSerializer
    filterset_class = OutputFilter

    def base_queryset(self) -> QuerySet:
        return (
            Output.objects.select_related("programme", "outcome")
            .prefetch_related(Prefetch("cities", queryset=City.objects.order_by("code")))
            .order_by("programme__code", "outcome__order", "order", "code", "pk")
        )


@_documented("activity", "activities")
class ActivityViewSet(FrameworkViewSet):
    """Activities of each output: country (null when binational), city, lead and
    participating agencies, status. Codes restart per country."""

    serializer_class = ActivitySerializer
    filterset_class = ActivityFilter

    def base_queryset(self) -> QuerySet:
        return (
            Activity.objects.select_related(
                "programme", "output__outcome", "country", "city", "lead_agency"
            )
            .prefetch_related(
                Prefetch("participating_agencies", queryset=Agency.objects.order_by("code"))
            )
            .order_by("programme__code", "output__order", "output__code", "order", "code", "pk")
        )


@_documented("indicator", "indicators")
class IndicatorViewSet(FrameworkViewSet):
    """Indicators and how they add up (DESIGN §3.1): measure, time, place and agency rules,
    direction, target kind, disaggregation dimensions with their categories, cities in scope
    and responsible agencies."""

    serializer_class = IndicatorSerializer
    filterset_class = IndicatorFilter

    def base_queryset(self) -> QuerySet:
        return (
            Indicator.objects.select_related("programme", "outcome", "output")
            .prefetch_related(
                Prefetch(
                    "dimensions",
                    queryset=DisaggregationDimension.objects.order_by(
                        "order", "code"
                    ).prefetch_related(
                        Prefetch(
                            "categories",
                            queryset=DisaggregationCategory.objects.order_by("order", "code"),
                        )
                    ),
                ),
                Prefetch("cities", queryset=City.objects.order_by("code")),
                Prefetch("responsible_agencies", queryset=Agency.objects.order_by("code")),
                Prefetch("supersedes", queryset=Indicator.objects.order_by("code")),
            )
            .order_by("programme__code", "-is_active", "order", "code", "pk")
        )


@_documented("target", "targets")
class TargetViewSet(FrameworkViewSet):
    """Targets by scope (programme, city, city × agency), period (null: life of the
    programme) and disaggregation cell (null: the total), with the original value and each
    revision and its reason."""

    serializer_class = TargetSerializer
    filterset_class = TargetFilter
    programme_path = "indicator__programme"

    def base_queryset(self) -> QuerySet:
        return (
            Target.objects.select_related(
                "indicator__programme", "city", "agency", "period", "category__dimension"
            )
            .prefetch_related(
                Prefetch("revisions", queryset=TargetRevision.objects.order_by("revised_at", "pk"))
            )
            .order_by(
                "indicator__programme__code",
                "indicator__order",
                "indicator__code",
                "period__start_date",
                "period__code",
                "city__code",
                "agency__code",
                "category__code",
                "pk",
            )
        )


@_documented("baseline", "baselines")
class BaselineViewSet(FrameworkViewSet):
    """Baselines per indicator, for one city or (city null) the whole programme."""

    serializer_class = BaselineSerializer
    filterset_class = BaselineFilter
    programme_path = "indicator__programme"

    def base_queryset(self) -> QuerySet:
        return Baseline.objects.select_related("indicator__programme", "city").order_by(
            "indicator__programme__code", "indicator__order", "indicator__code", "city__code", "pk"
        )


@_documented("reporting period", "reporting periods")
class PeriodViewSet(FrameworkViewSet):
    """Reporting periods: quarters, the fund's reporting years and custom spans."""

    serializer_class = PeriodSerializer
    filterset_class = PeriodFilter

    def base_queryset(self) -> QuerySet:
        return ReportingPeriod.objects.select_related("programme").order_by(
            "programme__code", "start_date", "end_date", "code", "pk"
        )
