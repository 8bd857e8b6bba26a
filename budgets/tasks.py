"""Celery adapter for the budget figures: a programme id in, one call, safe to run twice."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from .figures import refresh_budgets


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=2,
    max_retries=6,
)
def recompute_budget(programme_id: int) -> int:
    """After an approved expenditure or revision: this programme's figures and findings."""
    return refresh_budgets([programme_id])
