"""The overdue reminders of meeting actions, sent by Celery beat once a day: each overdue
action's reminder goes out once per due date (claimed by a conditional update, see
``monitoring.followup.claim_overdue_reminders``); moving the due date lets one more go when
the new date passes. The e-mail leaves after the claim commits. An action with nobody to
write to is not claimed, so its reminder goes once somebody can receive it."""

import datetime as dt
from collections.abc import Sequence

from django.urls import reverse

from monitoring.followup import remind_overdue, reminder_recipients, send_action_reminder

from .models import MeetingAction


def send_overdue_action_reminders(today: dt.date) -> list[MeetingAction]:
    """Claim and send today's overdue reminders; returns the actions reminded of (none on a
    second run the same day)."""
    return remind_overdue(
        MeetingAction.objects.select_related(
            "meeting__committee__programme", "owner", "owner_agency"
        ),
        today=today,
        recipients=lambda a: reminder_recipients(a, a.meeting.committee.programme),
        deliver=_deliver,
    )


def _deliver(action: MeetingAction, recipients: Sequence[str]) -> None:
    programme = action.meeting.committee.programme
    url = reverse("governance:meeting", args=[programme.code, action.meeting_id])
    send_action_reminder(action, programme, recipients, url)
