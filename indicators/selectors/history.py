"""An indicator's history: the workflow events of the reports that carry it (submitted,
returned, approved, validated) and the restatements of its figures, each with who, when,
the figure before and after, and the reason. A viewer sees the events of the reports they
may see; donors see approvals, validations and restatements only."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import CharField
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy

from monitoring.models import AuditEvent

from ..models import Indicator, IndicatorValue, ProgressReport
from ..permissions import Access, can_view_report

AUDIT_LABELS = {
    "report.submit": gettext_lazy("submitted"),
    "report.return": gettext_lazy("returned for correction"),
    "report.approve": gettext_lazy("approved"),
    "report.validate": gettext_lazy("validated"),
    "value.restate": gettext_lazy("figure restated"),
    "deliverable.add": gettext_lazy("deliverable added"),
    "deliverable.remove": gettext_lazy("deliverable removed"),
}
PUBLIC_ACTIONS = ("report.approve", "report.validate", "value.restate")
HISTORY_LIMIT = 50


@dataclass
class HistoryEntry:
    at: datetime
    actor: Any
    action: str
    report: ProgressReport
    before: str
    after: str
    reason: str

    @property
    def label(self) -> str:
        return str(AUDIT_LABELS.get(self.action, self.action))


def indicator_history(indicator: Indicator, access: Access) -> list[HistoryEntry]:
    """The latest events first, at most ``HISTORY_LIMIT`` (three queries whatever the data)."""
    report_ids = IndicatorValue.objects.filter(indicator=indicator, category=None).values(
        "report_id"
    )
    query = AuditEvent.objects.filter(
        object_type=ProgressReport._meta.label_lower,
        object_id__in=report_ids.annotate(key=Cast("report_id", CharField())).values("key"),
    )
    if access.only_approved:
        query = query.filter(action__in=PUBLIC_ACTIONS)
    events = list(query.select_related("actor").order_by("-at", "-id")[: HISTORY_LIMIT * 2])
    reports = ProgressReport.objects.select_related("period", "agency", "city").in_bulk(
        {int(e.object_id) for e in events}
    )
    out = []
    for e in events:
        report = reports.get(int(e.object_id))
        if report is None or not can_view_report(access, report):
            continue
        if e.action not in PUBLIC_ACTIONS and not _sees_workflow(access, report):
            continue
        before, after = _figure(e.old_value, indicator.code), _figure(e.new_value, indicator.code)
        if e.action == "value.restate" and not (before or after):
            continue  # another indicator's figure was restated
        out.append(HistoryEntry(e.at, e.actor, e.action, report, before, after, e.reason))
    return out[:HISTORY_LIMIT]


def _sees_workflow(access: Access, report: ProgressReport) -> bool:
    """The steps before approval (submissions, returns and their reasons) are the agency's,
    the RCO's and the admins' business; others see the approved figures and their changes."""
    return (
        access.superuser or access.is_rco or access.is_admin or access.of_agency(report.agency_id)
    )


def _figure(change: Any, code: str) -> str:
    """This indicator's figure in an audit value: its total, or its cells when restated."""
    if not isinstance(change, dict):
        return ""
    figures = change.get("values", change)
    parts = [f"{k}: {v}" if k != code else str(v) for k, v in figures.items()
             if k == code or str(k).startswith(f"{code} · ")]  # fmt: skip
    return "; ".join(parts)
