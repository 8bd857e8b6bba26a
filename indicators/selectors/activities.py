"""Reads for activities and deliverables: what approved reports say."""

from django.http import Http404

from monitoring.models import Activity, Output, Programme

from ..models import ActivityProgress, Deliverable, ProgressReport


def output_get_for_programme(programme: Programme, code: str) -> Output:
    output = Output.objects.filter(programme=programme, code=code).select_related("outcome").first()
    if output is None:
        raise Http404
    return output


def approved_deliverables(programme: Programme) -> list[Deliverable]:
    """Deliverables of approved or validated reports, and any entered outside a report."""
    return list(
        Deliverable.objects.filter(programme=programme)
        .exclude(report__isnull=False, report__status__in=["draft", "submitted", "returned"])
        .select_related("activity__output", "agency", "city", "report__period")
        .order_by(
            "activity__output__order", "activity__output__code", "activity__code", "date", "id"
        )
    )


def latest_activity_progress(
    programme: Programme, activities: list[Activity]
) -> dict[int, list[ActivityProgress]]:
    """For each activity, the latest approved status from each agency × city."""
    rows = (
        ActivityProgress.objects.filter(
            activity__in=activities,
            report__programme=programme,
            report__status__in=ProgressReport.APPROVED_STATUSES,
        )
        .select_related("report__agency", "report__city", "report__period")
        .order_by(
            "activity_id", "report__agency__code", "report__city__code", "-report__period__end_date"
        )
    )
    out: dict[int, list[ActivityProgress]] = {}
    seen: set[tuple[int, int | None, int | None]] = set()
    for p in rows:
        key = (p.activity_id, p.report.agency_id, p.report.city_id)
        if key not in seen:
            seen.add(key)
            out.setdefault(p.activity_id, []).append(p)
    return out
