"""The quarterly report's workflow (DESIGN §3.3): save a draft, submit, return with a
reason, approve, validate, restate an approved value. Every service locks the report row,
refuses a stale version, writes all or nothing, records the audit event and requests the
recompute of what it changed once the transaction commits."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from monitoring.models import Activity, Agency, City, Programme, ReportingPeriod
from monitoring.services import audit_record

from ..engine.requests import request_recompute
from ..models import (
    ActivityProgress,
    DisaggregationCategory,
    Indicator,
    IndicatorValue,
    ProgressReport,
    Restatement,
)
from ..permissions import EDITABLE, period_is_closed

Status = ProgressReport.Status


@dataclass
class Entry:
    """What was entered for one indicator and cell (the total when ``category`` is None)."""

    indicator: Indicator
    category: DisaggregationCategory | None = None
    value: Decimal | None = None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    comment: str = ""
    evidence_url: str = ""
    evidence_file: File | None = None
    clear_evidence: bool = False

    @property
    def key(self) -> tuple[int, int | None]:
        return (self.indicator.pk, self.category.pk if self.category else None)

    @property
    def label(self) -> str:
        return cell_label(self.indicator, self.category)

    def is_empty(self) -> bool:
        return (
            self.value is None
            and self.numerator is None
            and self.denominator is None
            and not self.comment.strip()
            and not self.evidence_url
            and self.evidence_file is None
        )

    def figure(self) -> Decimal | None:
        """The value; for a percentage entered as numerator and denominator, computed."""
        if self.value is None and self.numerator is not None and self.denominator:
            return (self.numerator * 100 / self.denominator).quantize(
                Decimal("0.0001"), rounding=ROUND_HALF_UP
            )
        return self.value


def cell_label(indicator: Indicator, category: DisaggregationCategory | None) -> str:
    """How people name a figure: "1.2.A" for the total, "1.2.A · Sex: women" for a cell."""
    if category is None:
        return indicator.code
    return f"{indicator.code} · {category.dimension.name}: {category.name}"


@dataclass
class ActivityEntry:
    """An activity's status, progress and comment as reported with the quarter."""

    activity: Activity
    status: str = ""
    progress: int | None = None
    comment: str = ""


class StaleReport(Exception):
    """Somebody saved the report after this user opened it."""

    def __init__(self, current: ProgressReport) -> None:
        super().__init__(f"report {current.pk} is at version {current.version}")
        self.current = current


def _lock(report: ProgressReport, expected_version: int | None) -> ProgressReport:
    locked = (
        ProgressReport.objects.select_for_update(of=("self",))
        .select_related("programme", "period", "agency", "city")
        .get(pk=report.pk)
    )
    if expected_version is not None and locked.version != expected_version:
        raise StaleReport(locked)
    return locked


def _figures(report: ProgressReport) -> dict[str, str]:
    """The report's figures as text, for the audit trail."""
    out = {}
    for v in report.values.select_related("indicator", "category").order_by(
        "indicator__order", "indicator__code", "category__order"
    ):
        out[cell_label(v.indicator, v.category if v.category_id else None)] = v.display_value
    return out


@transaction.atomic
def report_save(
    *,
    programme: Programme,
    period: ReportingPeriod,
    agency: Agency | None,
    city: City,
    expected_version: int,
    entries: list[Entry],
    narrative_es: str,
    narrative_en: str,
    actor: User,
    submit: bool = False,
    in_scope: list[Indicator] | None = None,
    activities: list[ActivityEntry] | None = None,
) -> ProgressReport:
    """Save the report's values as a draft (creating the report on first save), and submit it
    when asked. ``expected_version`` is the version the user loaded (0 for a report not yet
    saved); anything else means somebody saved in between and nothing is written."""
    report = _report_for_saving(programme, period, agency, city, expected_version)
    if report.status not in EDITABLE:
        raise ValidationError(
            _("This report is %(status)s and can no longer be edited.")
            % {"status": report.get_status_display()}
        )
    if period_is_closed(period, programme):
        raise ValidationError(
            _("The period %(period)s is closed; its reports can no longer be edited.")
            % {"period": period.name}
        )
    _apply_entries(report, entries)
    if activities is not None:
        _apply_activities(report, activities)
    report.narrative_es = narrative_es.strip()
    report.narrative_en = narrative_en.strip()
    report.version += 1
    report.updated_by = actor
    fields = ["narrative_es", "narrative_en", "version", "updated_by", "updated_at"]
    if submit:
        _check_complete(report, in_scope or [], activities or [])
        old = report.status
        report.status = Status.SUBMITTED
        report.submitted_at = timezone.now()
        report.submitted_by = actor
        fields += ["status", "submitted_at", "submitted_by"]
        report.save(update_fields=fields)
        audit_record(
            actor=actor,
            programme=programme,
            action="report.submit",
            obj=report,
            old_value={"status": old},
            new_value={"status": report.status, "values": _figures(report)},
        )
    else:
        report.save(update_fields=fields)
    return report


def _report_for_saving(
    programme: Programme,
    period: ReportingPeriod,
    agency: Agency | None,
    city: City,
    expected_version: int,
) -> ProgressReport:
    existing = ProgressReport.objects.filter(
        programme=programme, period=period, agency=agency, city=city
    ).first()
    if existing is not None:
        return _lock(existing, expected_version)
    if expected_version != 0:
        raise ValidationError(_("This report no longer exists."))
    try:
        with transaction.atomic():  # a savepoint: two first saves at once, one wins
            report = ProgressReport(
                programme=programme, period=period, agency=agency, city=city, version=0
            )
            # The constraint is left to the database: a check here would read before the
            # other save commits and refuse with "already exists" instead of a stale save.
            report.full_clean(validate_unique=False, validate_constraints=False)
            report.save()
            return report
    except IntegrityError:
        current = ProgressReport.objects.get(
            programme=programme, period=period, agency=agency, city=city
        )
        raise StaleReport(current) from None


def _apply_entries(report: ProgressReport, entries: list[Entry]) -> None:
    """Validate every entry first, then write: a bad figure leaves nothing written (the
    transaction) and no evidence file stored (files are saved only after all is valid)."""
    existing = {(v.indicator_id, v.category_id): v for v in report.values.all()}
    errors: list[str] = []
    writes: list[tuple[Entry, IndicatorValue]] = []
    for entry in entries:
        value = existing.get(entry.key)
        if entry.is_empty():
            if value is not None:
                _delete_file_on_commit(value.evidence)
                value.delete()
            continue
        if value is None:
            value = IndicatorValue(
                report=report, indicator=entry.indicator, category=entry.category
            )
        elif _unchanged(value, entry):
            continue  # saved as it is: a draft saved again writes only what changed
        # The objects in hand, not a query per cell (clean() reads them).
        value.report, value.indicator, value.category = report, entry.indicator, entry.category
        value.value = entry.figure()
        value.numerator, value.denominator = entry.numerator, entry.denominator
        value.comment = entry.comment.strip()
        value.evidence_url = entry.evidence_url
        value.provenance = IndicatorValue.Provenance.ENTERED
        try:
            # The report, indicator and cell are ours, not the user's: no look-ups for them;
            # one figure per cell is the form's keys and the database's constraint.
            value.full_clean(
                exclude=["evidence", "report", "indicator", "category"], validate_unique=False
            )
        except ValidationError as error:
            errors += [f"{entry.label}: {m}" for m in error.messages]
        writes.append((entry, value))
    if errors:
        raise ValidationError(errors)
    for entry, value in writes:
        if (entry.clear_evidence or entry.evidence_file is not None) and value.evidence:
            _delete_file_on_commit(value.evidence)
            value.evidence = ""
        if entry.evidence_file is not None:
            value.evidence.save(
                entry.evidence_file.name or "evidence", entry.evidence_file, save=False
            )
        value.save()


def _unchanged(value: IndicatorValue, entry: Entry) -> bool:
    """Whether saving this entry would write the value as it is."""
    return (
        entry.evidence_file is None
        and not (entry.clear_evidence and value.evidence)
        and value.provenance == IndicatorValue.Provenance.ENTERED
        and value.value == entry.figure()
        and value.numerator == entry.numerator
        and value.denominator == entry.denominator
        and value.comment == entry.comment.strip()
        and value.evidence_url == entry.evidence_url
    )


def _delete_file_on_commit(file: Any) -> None:
    """Remove a replaced evidence file, once the change that replaced it has committed."""
    if file:
        storage, name = file.storage, file.name
        transaction.on_commit(lambda: storage.delete(name))


def _apply_activities(report: ProgressReport, activities: list[ActivityEntry]) -> None:
    existing = {p.activity_id: p for p in report.activity_progress.all()}
    for entry in activities:
        saved = existing.get(entry.activity.pk)
        if not entry.status:
            if saved is not None:
                saved.delete()
            continue
        progress = 100 if entry.status == ActivityProgress.Status.COMPLETED else entry.progress
        if saved is not None and (saved.status, saved.progress, saved.comment) == (
            entry.status,
            progress,
            entry.comment.strip(),
        ):
            continue
        row = saved or ActivityProgress(report=report, activity=entry.activity)
        row.status, row.progress, row.comment = entry.status, progress, entry.comment.strip()
        row.full_clean(exclude=["report", "activity"], validate_unique=False)
        row.save()


def _check_complete(
    report: ProgressReport, in_scope: list[Indicator], activities: list[ActivityEntry]
) -> None:
    have = set(
        report.values.filter(category__isnull=True, value__isnull=False).values_list(
            "indicator_id", flat=True
        )
    )
    missing = [i.code for i in in_scope if i.pk not in have]
    unreported = [a.activity.code for a in activities if not a.status]
    if unreported:
        raise ValidationError(
            _("Before submitting, give the status of every activity. Missing: %(codes)s.")
            % {"codes": ", ".join(unreported)}
        )
    if missing:
        raise ValidationError(
            _(
                "Before submitting, enter the total of every indicator (0 when nothing "
                "happened this quarter). Missing: %(codes)s."
            )
            % {"codes": ", ".join(missing)}
        )


def _transition(
    report: ProgressReport,
    *,
    expected_version: int | None,
    allowed_from: tuple[str, ...],
    verb: str,
) -> ProgressReport:
    locked = _lock(report, expected_version)
    if locked.status not in allowed_from:
        raise ValidationError(
            _("This report is %(status)s; it cannot be %(verb)s.")
            % {"status": locked.get_status_display(), "verb": verb}
        )
    return locked


@transaction.atomic
def report_return(
    *, report: ProgressReport, reason: str, actor: User, expected_version: int | None = None
) -> ProgressReport:
    """Send a submitted report back to its coordinator, who can edit it again."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the report is returned.")})
    locked = _transition(
        report,
        expected_version=expected_version,
        allowed_from=(Status.SUBMITTED,),
        verb=_("returned"),
    )
    locked.status = Status.RETURNED
    locked.return_reason = reason
    locked.version += 1
    locked.save(update_fields=["status", "return_reason", "version", "updated_at"])
    audit_record(
        actor=actor,
        programme=locked.programme,
        action="report.return",
        obj=locked,
        old_value={"status": Status.SUBMITTED},
        new_value={"status": Status.RETURNED},
        reason=reason,
    )
    return locked


@transaction.atomic
def report_approve(
    *, report: ProgressReport, actor: User | None, expected_version: int | None = None
) -> ProgressReport:
    """Approve a submitted report: its values start counting. Nobody approves what they
    submitted. The rollups of its indicators are recomputed once the approval commits."""
    locked = _transition(
        report,
        expected_version=expected_version,
        allowed_from=(Status.SUBMITTED,),
        verb=_("approved"),
    )
    if actor is not None and locked.submitted_by_id == actor.pk:
        raise ValidationError(_("You submitted this report; somebody else must approve it."))
    locked.status = Status.APPROVED
    locked.approved_at = timezone.now()
    locked.approved_by = actor
    locked.return_reason = ""
    locked.version += 1
    locked.save(
        update_fields=[
            "status", "approved_at", "approved_by", "return_reason", "version", "updated_at"
        ]
    )  # fmt: skip
    audit_record(
        actor=actor,
        programme=locked.programme,
        action="report.approve",
        obj=locked,
        old_value={"status": Status.SUBMITTED},
        new_value={"status": Status.APPROVED, "values": _figures(locked)},
    )
    request_recompute(locked.values.values_list("indicator_id", flat=True))
    return locked


@transaction.atomic
def report_validate(
    *, report: ProgressReport, actor: User, expected_version: int | None = None
) -> ProgressReport:
    """The RCO's second tier: the approved figures are confirmed for the programme."""
    locked = _transition(
        report,
        expected_version=expected_version,
        allowed_from=(Status.APPROVED,),
        verb=_("validated"),
    )
    if locked.approved_by_id == actor.pk:
        raise ValidationError(_("You approved this report; somebody else must validate it."))
    locked.status = Status.VALIDATED
    locked.validated_at = timezone.now()
    locked.validated_by = actor
    locked.version += 1
    locked.save(update_fields=["status", "validated_at", "validated_by", "version", "updated_at"])
    audit_record(
        actor=actor,
        programme=locked.programme,
        action="report.validate",
        obj=locked,
        old_value={"status": Status.APPROVED},
        new_value={"status": Status.VALIDATED},
    )
    request_recompute(locked.values.values_list("indicator_id", flat=True))
    return locked


@transaction.atomic
def value_restate(
    *,
    report: ProgressReport,
    entry: Entry,
    reason: str,
    actor: User,
    expected_version: int | None = None,
) -> IndicatorValue:
    """Change an approved figure. The figure before and after are kept with the reason; a
    validated report goes back to approved, for the RCO to validate the new figure."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("A restatement needs a reason.")})
    locked = _transition(
        report,
        expected_version=expected_version,
        allowed_from=(Status.APPROVED, Status.VALIDATED),
        verb=_("restated"),
    )
    value = locked.values.filter(indicator=entry.indicator, category=entry.category).first()
    if value is None:
        value = IndicatorValue(report=locked, indicator=entry.indicator, category=entry.category)
    old = _snapshot(value)
    value.value = entry.figure()
    value.numerator, value.denominator = entry.numerator, entry.denominator
    if entry.comment.strip():
        value.comment = entry.comment.strip()
    new = _snapshot(value)
    if old == new:
        raise ValidationError(
            _("%(label)s: the new figure is the same as the approved one.") % {"label": entry.label}
        )
    try:
        value.full_clean(exclude=["evidence"], validate_unique=False)
    except ValidationError as error:
        raise ValidationError([f"{entry.label}: {m}" for m in error.messages]) from None
    value.save()
    locked.version += 1
    fields = ["version", "updated_at"]
    if locked.status == Status.VALIDATED:
        locked.status = Status.APPROVED
        locked.validated_at = None
        locked.validated_by = None
        fields += ["status", "validated_at", "validated_by"]
    locked.save(update_fields=fields)
    Restatement.objects.create(
        value=value,
        report_version=locked.version,
        **{f"old_{k}": v for k, v in old.items()},
        **{f"new_{k}": v for k, v in new.items()},
        reason=reason,
        restated_by=actor,
        restated_at=timezone.now(),
    )
    audit_record(
        actor=actor,
        programme=locked.programme,
        action="value.restate",
        obj=locked,
        old_value={entry.label: _text(old)},
        new_value={entry.label: _text(new)},
        reason=reason,
    )
    request_recompute([entry.indicator.pk])
    return value


def _snapshot(value: IndicatorValue) -> dict[str, Any]:
    return {
        "value": value.value,
        "numerator": value.numerator,
        "denominator": value.denominator,
        "text": value.text_value,
    }


def _text(snapshot: dict[str, Any]) -> str:
    if snapshot["value"] is None:
        return "—"
    text = f"{snapshot['value'].normalize():f}"
    if snapshot["numerator"] is not None and snapshot["denominator"] is not None:
        text += f" ({snapshot['numerator'].normalize():f}/{snapshot['denominator'].normalize():f})"
    return text
