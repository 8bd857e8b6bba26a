"""/api/v1/rollups/: the achievement engine's figures (DESIGN §4), read-only. Rollups are
built from approved values only, so every member of a programme may read them, donors
included; a token reads its own programme's."""

from typing import Any

import django_filters
from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics

from monitoring.api.access import visible_programmes

from ..models import Rollup
from .reports import READ_ERRORS, CodeFilterSet, SinceFilter, StrictBooleanFilter
from .serializers import ALL, SCOPES, RollupSerializer

SCOPE_BY_NAME = {name: scope for scope, name in SCOPES.items()}


class RollupFilter(CodeFilterSet):
    agency_total = ALL

    agency = django_filters.CharFilter(
        method="filter_agency", help_text=gettext_lazy("An agency's code, or ALL.")
    )
    indicator = django_filters.CharFilter(
        method="filter_indicator", help_text=gettext_lazy("An indicator's code.")
    )
    outcome = django_filters.CharFilter(
        method="filter_outcome", help_text=gettext_lazy("An outcome's code.")
    )
    output = django_filters.CharFilter(
        method="filter_output", help_text=gettext_lazy("An output's code.")
    )
    scope = django_filters.ChoiceFilter(
        method="filter_scope",
        choices=[(name, name) for name in SCOPES.values()],
        help_text=gettext_lazy("Whose figure: the programme's, a city's, an agency's, or both."),
    )
    cell = django_filters.CharFilter(
        method="filter_cell", help_text=gettext_lazy("'total' or 'dimension=category'.")
    )
    latest = StrictBooleanFilter(
        method="filter_latest",
        help_text=gettext_lazy(
            "Only the newest row of each figure (of those the other filters select): its "
            "ltd_ columns are the life-of-programme figures."
        ),
    )
    updated_since = SinceFilter(
        field_name="computed_at",
        lookup_expr="gte",
        help_text=gettext_lazy("Rows computed at or after this time (ISO 8601)."),
    )

    class Meta:
        model = Rollup
        fields: list[str] = []

    def filter_scope(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return qs.filter(scope=SCOPE_BY_NAME[value])

    def filter_latest(self, qs: QuerySet[Any], name: str, value: bool) -> QuerySet[Any]:
        """The window sees the rows the other filters keep, whatever their order: Django
        filters on a window function in an outer query."""
        if not value:
            return qs
        newest = Window(
            RowNumber(),
            partition_by=[
                F("indicator_id"), F("scope"), F("city_id"), F("agency_id"), F("category_id")
            ],
            order_by=[F("as_of").desc(), F("period_id").desc()],
        )  # fmt: skip
        return qs.annotate(newest=newest).filter(newest=1)


@extend_schema_view(
    get=extend_schema(
        summary="Achievement rollups (approved data only)",
        description=(
            "One row per indicator × scope × city × agency × cell as of each period with "
            "approved data: the period's own figures (period_), the reporting year to date "
            "(ytd_) and the life of the programme to date (ltd_)."
        ),
        responses={200: RollupSerializer(many=True), **READ_ERRORS},
    )
)
class RollupList(generics.ListAPIView):
    serializer_class = RollupSerializer
    filterset_class = RollupFilter

    def get_queryset(self) -> QuerySet[Rollup]:
        # Framework order, the programme's figure before cities' and agencies', totals before
        # cells, periods in time order; the id last, so pages never overlap.
        return (
            Rollup.objects.filter(programme__in=visible_programmes(self.request))
            .select_related(
                "programme", "indicator", "city", "agency", "period", "category__dimension"
            )
            .order_by(
                "indicator__order",
                "indicator_id",
                "-scope",
                F("city_id").asc(nulls_first=True),
                F("agency_id").asc(nulls_first=True),
                F("category_id").asc(nulls_first=True),
                "as_of",
                "period_id",
                "id",
            )
        )
