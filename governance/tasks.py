"""Celery adapter for the meeting actions' overdue reminders: one call, safe to run twice
(each reminder is claimed once per due date before its e-mail leaves)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from . import reminders


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=30,
    max_retries=3,
)
def send_overdue_action_reminders() -> int:
    """Daily: the overdue meeting actions whose reminder for their due date has not gone."""
    return len(reminders.send_overdue_action_reminders(timezone.localdate()))
