"""The approved values behind a figure ("how was this computed")."""

from django.db.models import Prefetch, QuerySet

from ..models import Indicator, IndicatorValue, ProgressReport, ValueComponent
from .rollups import Filters


def source_values(indicator: Indicator, filters: Filters) -> QuerySet[IndicatorValue]:
    qs = (
        IndicatorValue.objects.filter(
            indicator=indicator, report__status__in=ProgressReport.APPROVED_STATUSES
        )
        .select_related("report__period", "report__city", "report__agency", "category__dimension")
        .prefetch_related(
            Prefetch("components", queryset=ValueComponent.objects.select_related("city"))
        )
        .order_by(
            "report__period__end_date",
            "report__city__code",
            "report__agency__code",
            "category__dimension__order",
            "category__order",
        )
    )
    if filters.city:
        qs = qs.filter(report__city=filters.city)
    if filters.agency:
        qs = qs.filter(report__agency=filters.agency)
    if filters.as_of:
        qs = qs.filter(report__period__end_date__lte=filters.as_of)
    return qs
