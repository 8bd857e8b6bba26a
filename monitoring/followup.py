"""Services shared by follow-up actions (``monitoring.models.followup``): a status change with
the version check, the claim of overdue reminders so that each goes out once, and the
reminder e-mail itself (who hears of it, and the message)."""

import datetime as dt
import logging
import re
import smtplib
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from .models.access import Membership
from .models.followup import FollowUpAction, FollowUpStatus, open_and_overdue
from .services import audit_record

log = logging.getLogger(__name__)


class StaleAction(Exception):
    """Somebody saved the action after this user opened it."""

    def __init__(self, current: FollowUpAction) -> None:
        super().__init__(f"action {current.pk} is at version {current.version}")
        self.current = current


@transaction.atomic
def action_update[A: FollowUpAction](
    action: A,
    *,
    actor: Any,
    expected_version: int,
    programme: Any,
    changes: dict[str, Any],
    today: dt.date,
) -> A:
    """Apply ``changes`` (field → value) to the action if nobody saved it since the user loaded
    ``expected_version``; a done action gets today's date unless one is given. Validated before
    anything is written; audited."""
    locked = type(action)._default_manager.select_for_update().get(pk=action.pk)
    if locked.version != expected_version:
        raise StaleAction(locked)
    old = {name: _plain(getattr(locked, name)) for name in changes}
    for name, value in changes.items():
        setattr(locked, name, value)
    if locked.status == FollowUpStatus.DONE and locked.completed_on is None:
        locked.completed_on = today
    if locked.status != FollowUpStatus.DONE:
        locked.completed_on = None
    if locked.completed_on is not None and locked.completed_on > today:
        raise ValidationError({"completed_on": _("The completion date cannot be in the future.")})
    locked.full_clean()
    locked.version = F("version") + 1
    locked.updated_by = actor
    locked.save()
    locked.refresh_from_db()
    audit_record(
        actor=actor,
        programme=programme,
        action=f"{locked._meta.model_name}.update",
        obj=locked,
        old_value=old,
        new_value={name: _plain(getattr(locked, name)) for name in changes},
    )
    return locked


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    return value


def claim_overdue_reminders[A: FollowUpAction](actions: QuerySet[A], *, today: dt.date) -> list[A]:
    """The overdue actions whose reminder for their current due date has not gone out, each
    claimed by a conditional update so that a second run (or a retry) claims none of them.
    Send the reminders after the claim commits."""
    claimed: list[A] = []
    owed = actions.filter(open_and_overdue(today)).exclude(overdue_reminded_for=F("due_on"))
    for action in owed.order_by("pk"):
        won = (
            type(action)
            ._default_manager.filter(pk=action.pk)
            .filter(Q(overdue_reminded_for__isnull=True) | ~Q(overdue_reminded_for=F("due_on")))
            .update(overdue_reminded_for=F("due_on"))
        )
        if won:
            claimed.append(action)
    return claimed


def reminder_recipients(action: FollowUpAction, programme: Any) -> list[str]:
    """Who hears of an overdue action: its responsible person, and the approvers of its
    responsible agency in the programme; the programme's RCO when neither has an e-mail
    address (somebody must)."""
    addresses: list[str] = []
    if action.owner is not None and action.owner.is_active and action.owner.email:
        addresses.append(action.owner.email)
    members = Membership.objects.filter(programme=programme, user__is_active=True)
    if action.owner_agency_id is not None:
        addresses += members.filter(
            role=Membership.Role.APPROVER, agency_id=action.owner_agency_id
        ).values_list("user__email", flat=True)
    if not any(addresses):
        addresses += members.filter(role=Membership.Role.RCO).values_list("user__email", flat=True)
    return sorted({a for a in addresses if a})


def send_action_reminder(
    action: FollowUpAction, programme: Any, recipients: Sequence[str], url: str
) -> bool:
    """E-mail the overdue reminder of one action (Spanish first, then English: users have no
    language preference). ``url`` is the page of what the action follows up, absolute or
    relative to ``SITE_URL``. Call it after the claim has committed; a failed delivery is
    logged, not retried (at most once). Returns whether it left."""
    if not recipients:
        log.warning("Overdue action %s of %s: nobody to tell.", action.pk, programme)
        return False
    if url.startswith("/"):
        url = settings.SITE_URL.rstrip("/") + url
    context = {
        "action": action,
        "programme": programme,
        "url": url,
        "owner_agency": action.owner_agency,
    }
    subject = render_to_string("emails/action_reminder_subject.txt", context)
    text = render_to_string("emails/action_reminder.txt", context)
    body = re.sub(r"\n{3,}", "\n\n", re.sub(r"[ \t]+\n", "\n", text)).strip() + "\n"
    try:
        EmailMessage(" ".join(subject.split()), body, None, list(recipients)).send()
    except (smtplib.SMTPException, OSError):
        log.exception("Overdue reminder claimed but not delivered: action %s", action.pk)
        return False
    return True


def remind_overdue[A: FollowUpAction](
    actions: QuerySet[A],
    *,
    today: dt.date,
    recipients: Callable[[A], Sequence[str]],
    deliver: Callable[[A, Sequence[str]], Any],
) -> list[A]:
    """Claim and send every overdue reminder of ``actions`` owed on ``today``; returns the
    actions this run claimed (none on a second run the same day). ``recipients`` says who hears
    of an action; an action with nobody to tell is not claimed, so its reminder goes once
    somebody can receive it. ``deliver`` sends one reminder, after the claims commit."""
    owed = list(actions.filter(open_and_overdue(today)).exclude(overdue_reminded_for=F("due_on")))
    people = {action.pk: list(recipients(action)) for action in owed}
    for action in owed:
        if not people[action.pk]:
            log.warning("Overdue %s %s: nobody to tell.", action._meta.model_name, action.pk)
    reachable = [pk for pk, addresses in people.items() if addresses]
    with transaction.atomic():
        claimed = claim_overdue_reminders(actions.filter(pk__in=reachable), today=today)
        for action in claimed:
            transaction.on_commit(partial(deliver, action, people[action.pk]), robust=True)
    return claimed
