"""Overdue reminders for the actions of management responses, sent by Celery beat once a day.

An action that is neither done nor cancelled and whose due date has passed reminds its owner;
an action without an owner reminds the coordinators and approvers of its owner agency in that
programme. Each reminder goes out once per due date: the action is claimed by a conditional
update (``monitoring.followup.claim_overdue_reminders``), so a second run, or one overlapping
this one, claims nothing; moving the due date lets one new reminder go when it passes. An
action with nobody to write to is not claimed, so its reminder goes once somebody can get it."""

import datetime as dt
import logging
import re
import smtplib
from collections.abc import Sequence
from functools import partial

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse

from monitoring.followup import remind_overdue
from monitoring.models import Membership

from .models import ResponseAction

log = logging.getLogger(__name__)

AGENCY_ROLES = (Membership.Role.COORDINATOR, Membership.Role.APPROVER)


def send_overdue_action_reminders(today: dt.date) -> list[ResponseAction]:
    """Claim and send every overdue reminder owed on ``today``; return the actions claimed by
    this run. The e-mails leave once the claims commit."""
    return remind_overdue(
        ResponseAction.objects.select_related(
            "owner", "owner_agency", "response__recommendation__evaluation__programme"
        ),
        today=today,
        recipients=_recipients,
        deliver=partial(_deliver, today=today),
    )


def _recipients(action: ResponseAction) -> tuple[str, ...]:
    """The owner's address; without an owner, those of the owner agency's coordinators and
    approvers in the action's programme."""
    if action.owner is not None:
        return (action.owner.email,) if action.owner.email and action.owner.is_active else ()
    if action.owner_agency_id is None:
        return ()
    programme = action.response.recommendation.evaluation.programme
    people = User.objects.filter(
        is_active=True,
        memberships__programme=programme,
        memberships__agency_id=action.owner_agency_id,
        memberships__role__in=AGENCY_ROLES,
    ).exclude(email="")
    return tuple(dict.fromkeys(people.order_by("username").values_list("email", flat=True)))


def _deliver(action: ResponseAction, recipients: Sequence[str], *, today: dt.date) -> None:
    subject, body = render_reminder(action, today)
    try:
        EmailMessage(subject, body, None, list(recipients)).send()
    except (smtplib.SMTPException, OSError):
        # Claimed but not delivered: at most once means it is not retried.
        log.exception("Overdue reminder for action %s claimed but not delivered.", action.pk)


def render_reminder(action: ResponseAction, today: dt.date) -> tuple[str, str]:
    """Subject and body, Spanish first then English (users have no language preference)."""
    recommendation = action.response.recommendation
    evaluation = recommendation.evaluation
    programme = evaluation.programme
    url = reverse(
        "knowledge:recommendation", args=[programme.code, evaluation.code, recommendation.number]
    )
    assert action.due_on is not None  # an overdue action has a due date
    context = {
        "action": action,
        "recommendation": recommendation,
        "evaluation": evaluation,
        "programme": programme,
        "days": (today - action.due_on).days,
        "url": settings.SITE_URL.rstrip("/") + url,
    }
    subject = render_to_string("knowledge/emails/action_overdue_subject.txt", context)
    body = render_to_string("knowledge/emails/action_overdue.txt", context)
    lines = re.sub(r"[ \t]+\n", "\n", body)
    return " ".join(subject.split()), re.sub(r"\n{3,}", "\n\n", lines).strip() + "\n"
