"""Health of the running system (DESIGN §9–10): what load balancers and operators probe.

``/healthz`` answers 200 when the database answers and 503 otherwise (so a load balancer
takes the instance out only for that); the body says more for operators: the broker, the last
successful recompute and its age, and the recompute requests still owed. Each probe gives up
within about two seconds; nothing in the body is secret (no addresses, no error texts)."""

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Min
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

PROBE_SECONDS = 1.5
# Requests may wait for the sweep (RECOMPUTE_SWEEP_AFTER) and then a few more minutes of sweeps
# before the status says that nothing is catching up.
PENDING_GRACE_SECONDS = 300


def _age(moment: dt.datetime | None, now: dt.datetime) -> int | None:
    return None if moment is None else max(0, int((now - moment).total_seconds()))


def _probe_database() -> dict[str, Any] | None:
    """The engine's state, read in one short transaction; None when the database fails."""
    from indicators.models import RecomputeRequest, RecomputeRun

    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute(f"SET LOCAL statement_timeout = {int(PROBE_SECONDS * 1000)}")
                cursor.execute("SELECT 1")
            last_ok = (
                RecomputeRun.objects.filter(ok=True, finished_at__isnull=False)
                .order_by("-finished_at")
                .values_list("finished_at", flat=True)
                .first()
            )
            pending = RecomputeRequest.objects.aggregate(n=Count("pk"), oldest=Min("requested_at"))
    except Exception:  # any database failure means "not ready", never a crash
        return None
    now = timezone.now()
    return {
        "last_success_at": last_ok.isoformat() if last_ok else None,
        "last_success_age_seconds": _age(last_ok, now),
        "pending_requests": pending["n"],
        "oldest_pending_age_seconds": _age(pending["oldest"], now),
    }


def _probe_broker() -> str:
    """``ok`` or ``unavailable`` for a real broker; ``in-process`` without one."""
    from monitoring.celery import app

    url = str(app.conf.broker_url or "")
    if not url or url.startswith("memory://"):
        return "in-process"
    try:
        if url.startswith(("redis://", "rediss://", "unix://")):
            import redis

            client = redis.Redis.from_url(
                url, socket_connect_timeout=PROBE_SECONDS, socket_timeout=PROBE_SECONDS
            )
            try:
                client.ping()
            finally:
                client.close()
        else:
            with app.connection_for_write(connect_timeout=PROBE_SECONDS) as conn:
                conn.ensure_connection(max_retries=1, timeout=PROBE_SECONDS)
    except Exception:  # unreachable, refused, timed out: the same for a load balancer
        return "unavailable"
    return "ok"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 with ``status`` ``ok``, or ``degraded`` when the broker is down or recompute
    requests are long overdue; 503 with ``status`` ``error`` when the database is down."""
    recompute = _probe_database()
    broker = _probe_broker()
    if recompute is None:
        return JsonResponse(
            {"status": "error", "database": "unavailable", "broker": broker}, status=503
        )
    degraded = broker == "unavailable" or _overdue(recompute)
    return JsonResponse(
        {
            "status": "degraded" if degraded else "ok",
            "database": "ok",
            "broker": broker,
            "recompute": recompute,
        }
    )


def _overdue(recompute: dict[str, Any]) -> bool:
    """Requests older than the sweep's delay plus a few sweeps: nothing is catching up."""
    age = recompute["oldest_pending_age_seconds"]
    return age is not None and age > settings.RECOMPUTE_SWEEP_AFTER + PENDING_GRACE_SECONDS
