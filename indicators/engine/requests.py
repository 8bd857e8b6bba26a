"""Asking for a recompute: durable (a row written with the change) and prompt (a task
enqueued when the transaction commits)."""

import datetime as dt
import logging
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from monitoring.degrade import note_deferred_work

from ..models import RecomputeRequest

log = logging.getLogger(__name__)


def request_recompute(indicator_ids: Iterable[int]) -> None:
    """Mark these indicators stale, in the caller's transaction, and enqueue their recompute
    once it commits. If the broker is unreachable the marks stay and the sweep catches up."""
    ids = sorted({int(i) for i in indicator_ids})
    if not ids:
        return
    now = timezone.now()
    RecomputeRequest.objects.bulk_create(
        [RecomputeRequest(indicator_id=i, requested_at=now) for i in ids],
        update_conflicts=True,
        unique_fields=["indicator"],
        update_fields=["requested_at"],
    )

    def enqueue() -> None:
        from ..tasks import recompute_indicators

        try:
            recompute_indicators.delay(ids)
        except Exception:  # broker down: the request rows remain for the sweep
            log.warning(
                "could not enqueue recompute of %s; the sweep will retry", ids, exc_info=True
            )
            note_deferred_work()  # the user is told the figures follow shortly

    transaction.on_commit(enqueue)


def pending_indicator_ids(older_than: dt.timedelta = dt.timedelta(0)) -> list[int]:
    cutoff = timezone.now() - older_than
    return list(
        RecomputeRequest.objects.filter(requested_at__lte=cutoff)
        .order_by("indicator_id")
        .values_list("indicator_id", flat=True)
    )


def clear_requests(indicator_ids: list[int] | None, *, up_to: dt.datetime) -> None:
    """Forget requests made before the recompute started (later ones still need a run)."""
    stale = RecomputeRequest.objects.filter(requested_at__lte=up_to)
    if indicator_ids is not None:
        stale = stale.filter(indicator_id__in=indicator_ids)
    stale.delete()
