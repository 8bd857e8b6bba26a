"""Deliverables reported with a quarter: added and removed while the report is editable,
with the file checked by the form and stored only once the record is valid."""

import datetime as dt

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils.translation import gettext as _

from monitoring.models import Activity
from monitoring.services import audit_record

from ..models import Deliverable, ProgressReport
from ..permissions import EDITABLE, period_is_closed


def _check_editable(report: ProgressReport) -> ProgressReport:
    locked = (
        ProgressReport.objects.select_for_update(of=("self",))
        .select_related("programme", "period")
        .get(pk=report.pk)
    )
    if locked.status not in EDITABLE or period_is_closed(locked.period, locked.programme):
        raise ValidationError(_("This report can no longer be edited."))
    return locked


@transaction.atomic
def deliverable_add(
    *,
    report: ProgressReport,
    activity: Activity,
    title_es: str,
    title_en: str,
    kind: str,
    date: dt.date,
    file: File | None,
    url: str,
    actor: User,
) -> Deliverable:
    locked = _check_editable(report)
    deliverable = Deliverable(
        programme=locked.programme,
        activity=activity,
        report=locked,
        agency=locked.agency,
        city=locked.city,
        title_es=title_es.strip(),
        title_en=title_en.strip(),
        kind=kind,
        date=date,
        url=url,
        created_by=actor,
    )
    deliverable.full_clean(exclude=["file"])
    if file is not None:
        deliverable.file.save(file.name or "deliverable", file, save=False)
    deliverable.save()
    audit_record(
        actor=actor,
        programme=locked.programme,
        action="deliverable.add",
        obj=locked,
        new_value={activity.code: deliverable.title_es},
    )
    return deliverable


@transaction.atomic
def deliverable_remove(*, deliverable: Deliverable, actor: User) -> None:
    if deliverable.report is None:
        raise ValidationError(_("This deliverable was not reported with a quarterly report."))
    locked = _check_editable(deliverable.report)
    storage, name = deliverable.file.storage, deliverable.file.name
    audit_record(
        actor=actor,
        programme=locked.programme,
        action="deliverable.remove",
        obj=locked,
        old_value={deliverable.activity.code: deliverable.title_es},
    )
    deliverable.delete()
    if name:
        transaction.on_commit(lambda: storage.delete(name))
