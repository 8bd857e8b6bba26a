"""Celery adapter for the overdue-action reminders: one call, safe to run twice (each reminder
is claimed by a conditional update before its e-mail leaves)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from . import reminders

TRANSIENT = (OperationalError, InterfaceError)


@shared_task(acks_late=True, autoretry_for=TRANSIENT, retry_backoff=30, max_retries=3)
def send_overdue_action_reminders() -> int:
    """Daily: remind the owners of overdue management-response actions, once per due date."""
    return len(reminders.send_overdue_action_reminders(timezone.localdate()))
