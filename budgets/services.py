"""Writes of budgets (DESIGN §6): revisions (proposed with a reason, decided by the admin,
never below what is already spent), expenditures (entered as drafts, submitted, approved or
returned like progress) and their import from a spreadsheet (validated whole, applied in one
transaction). Each service audits what it changed and asks for the budget figures to be
recomputed once it commits."""

import datetime as dt
import logging
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from monitoring.degrade import note_deferred_work
from monitoring.models import ReportingPeriod
from monitoring.services import audit_record

from .figures import line_spend
from .models import BudgetLine, BudgetRevision, Expenditure

Status = Expenditure.Status
log = logging.getLogger(__name__)


def request_budget_refresh(programme_id: int) -> None:
    """Recompute the programme's budget figures once the caller's transaction commits."""

    def enqueue() -> None:
        from .tasks import recompute_budget

        try:
            recompute_budget.delay(programme_id)
        except Exception:  # broker down: the change is saved; the nightly run rebuilds figures
            log.warning("could not enqueue the budget figures of %s", programme_id, exc_info=True)
            note_deferred_work()

    transaction.on_commit(enqueue)


def spent_on(line: BudgetLine) -> Decimal:
    """What the line has spent so far, by its approved expenditures (0 when none)."""
    approved = list(line.expenditures.filter(status=Status.APPROVED).select_related("period"))
    return line_spend(approved).spent or Decimal(0)


def _check_not_below_spent(line: BudgetLine, amount: Decimal) -> None:
    spent = spent_on(line)
    if amount < spent:
        raise ValidationError(
            {
                "new_amount": _("%(amount)s is below what this line has already spent (%(spent)s).")
                % {"amount": f"{amount:,.2f}", "spent": f"{spent:,.2f}"}
            }
        )


@transaction.atomic
def revision_propose(
    *, line: BudgetLine, new_amount: Decimal, reason: str, actor: User
) -> BudgetRevision:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("A budget revision needs a reason.")})
    locked = BudgetLine.objects.select_for_update().get(pk=line.pk)
    if new_amount == locked.amount:
        raise ValidationError({"new_amount": _("The new amount is the same as the current one.")})
    _check_not_below_spent(locked, new_amount)
    revision = BudgetRevision(
        line=locked, old_amount=locked.amount, new_amount=new_amount, reason=reason,
        proposed_by=actor,
    )  # fmt: skip
    revision.full_clean()
    revision.save()
    audit_record(
        actor=actor, programme=locked.programme, action="budget.revision.propose", obj=locked,
        old_value=str(locked.amount), new_value=str(new_amount), reason=reason,
    )  # fmt: skip
    return revision


@transaction.atomic
def revision_decide(*, revision: BudgetRevision, approve: bool, actor: User) -> BudgetRevision:
    """Approve (the line takes the new amount) or reject a proposed revision."""
    locked = BudgetRevision.objects.select_for_update().get(pk=revision.pk)
    if locked.status != BudgetRevision.Status.PROPOSED:
        raise ValidationError(_("This revision was already decided."))
    if locked.proposed_by_id == actor.pk:
        raise ValidationError(_("You proposed this revision; somebody else must decide it."))
    line = BudgetLine.objects.select_for_update().get(pk=locked.line_id)
    if approve:
        if line.amount != locked.old_amount:
            raise ValidationError(
                _("The line changed since this revision was proposed (now %(amount)s).")
                % {"amount": f"{line.amount:,.2f}"}
            )
        _check_not_below_spent(line, locked.new_amount)
        line.amount = locked.new_amount
        line.save(update_fields=["amount", "updated_at"])
    locked.status = BudgetRevision.Status.APPROVED if approve else BudgetRevision.Status.REJECTED
    locked.decided_by, locked.decided_at = actor, timezone.now()
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    audit_record(
        actor=actor, programme=line.programme,
        action="budget.revision.approve" if approve else "budget.revision.reject", obj=line,
        old_value=str(locked.old_amount), new_value=str(locked.new_amount), reason=locked.reason,
    )  # fmt: skip
    if approve:
        request_budget_refresh(line.programme_id)
    return locked


def _check_expenditure(e: Expenditure) -> None:
    if e.period.programme_id != e.line.programme_id:
        raise ValidationError({"period": _("The period belongs to another programme.")})
    if e.line.view != BudgetLine.View.LINE:
        raise ValidationError({"line": _("Expenditures are entered on budget lines.")})
    if e.as_of < e.period.start_date:
        raise ValidationError({"as_of": _("The 'as of' date is before the period starts.")})


@transaction.atomic
def expenditure_save(
    *,
    line: BudgetLine,
    period: ReportingPeriod,
    amount: Decimal,
    as_of: dt.date,
    kind: str = Expenditure.Kind.INTERIM,
    cumulative: bool = False,
    note: str = "",
    actor: User,
    expected_version: int | None = None,
    submit: bool = False,
) -> Expenditure:
    """Create or change the draft expenditure of a line for a period (and submit it)."""
    e = (
        Expenditure.objects.select_for_update()
        .filter(line=line, period=period, cumulative=cumulative)
        .order_by()  # the default ordering joins the line's nullable country: no FOR UPDATE
        .first()
    )
    if e is None:
        e = Expenditure(
            line=line, period=period, cumulative=cumulative, entered_by=actor, version=0
        )
    elif expected_version is not None and e.version != expected_version:
        raise ValidationError(
            _("Somebody changed this expenditure since you opened it (now %(amount)s); look again.")
            % {"amount": f"{e.amount:,.2f}"}
        )
    if e.pk and e.status != Status.DRAFT:
        raise ValidationError(
            _("This expenditure is %(status)s and can no longer be changed.")
            % {"status": e.get_status_display()}
        )
    e.amount, e.as_of, e.kind, e.note = amount, as_of, kind, note.strip()
    e.version += 1
    _check_expenditure(e)
    e.full_clean(validate_unique=False)
    if submit:
        e.status, e.submitted_by, e.submitted_at = Status.SUBMITTED, actor, timezone.now()
    e.save()
    if submit:
        _audit(e, actor, "expenditure.submit", Status.DRAFT)
    return e


def _audit(e: Expenditure, actor: User, action: str, old: str, reason: str = "") -> None:
    audit_record(
        actor=actor, programme=e.line.programme, action=action, obj=e,
        old_value={"status": old}, new_value={"status": e.status, "amount": str(e.amount)},
        reason=reason,
    )  # fmt: skip


def _locked(expenditure: Expenditure, expected_version: int | None) -> Expenditure:
    """The expenditure, locked; refused when it changed since the page that acts on it."""
    e = (
        Expenditure.objects.select_for_update(of=("self",))
        .select_related("line")
        .get(pk=expenditure.pk)
    )
    if expected_version is not None and e.version != expected_version:
        raise ValidationError(_("The expenditure changed since you opened the page; look again."))
    return e


@transaction.atomic
def expenditure_approve(
    *, expenditure: Expenditure, actor: User, expected_version: int | None = None
) -> Expenditure:
    e = _locked(expenditure, expected_version)
    if e.status != Status.SUBMITTED:
        raise ValidationError(_("Only a submitted expenditure can be approved."))
    if e.submitted_by_id == actor.pk:
        raise ValidationError(_("You submitted this expenditure; somebody else must approve it."))
    e.status, e.approved_by, e.approved_at = Status.APPROVED, actor, timezone.now()
    e.version += 1
    e.save(update_fields=["status", "approved_by", "approved_at", "version", "updated_at"])
    _audit(e, actor, "expenditure.approve", Status.SUBMITTED)
    request_budget_refresh(e.line.programme_id)
    return e


@transaction.atomic
def expenditure_return(
    *, expenditure: Expenditure, reason: str, actor: User, expected_version: int | None = None
) -> Expenditure:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the expenditure is returned.")})
    e = _locked(expenditure, expected_version)
    if e.status != Status.SUBMITTED:
        raise ValidationError(_("Only a submitted expenditure can be returned."))
    e.status = Status.DRAFT
    e.version += 1
    e.save(update_fields=["status", "version", "updated_at"])
    _audit(e, actor, "expenditure.return", Status.SUBMITTED, reason)
    return e
