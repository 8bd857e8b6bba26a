"""Settings: scaling (issue 8). base.py calls ``apply(globals())`` at its end: read what base
defines from ``s`` and add or change entries in it.

- A read replica: ``DATABASE_REPLICA_URL`` adds the database alias ``replica``; the router in
  ``monitoring.db_router`` sends the reads of dashboards and of the API's GET requests there
  and everything else to ``default``. Unset (or empty), every query goes to ``default``.
- The nightly recompute, split between workers (``indicators.engine.claims``): how many
  indicators a unit holds, when a unit nobody finished is sent again, and how long a worker
  may stall inside one before PostgreSQL ends its session and frees the unit."""

from typing import Any

REPLICA = "replica"


def apply(s: dict[str, Any]) -> None:
    env = s["env"]
    databases = s["DATABASES"]
    replica_url = env.str("DATABASE_REPLICA_URL", default="")
    s["DATABASE_READ_REPLICA"] = REPLICA if replica_url else ""
    if replica_url:
        replica = env.db_url_config(replica_url)
        default = databases["default"]
        for key in ("ATOMIC_REQUESTS", "CONN_MAX_AGE", "CONN_HEALTH_CHECKS"):
            if key in default:
                replica.setdefault(key, default[key])
        # Tests never open the replica: it mirrors the test database.
        replica["TEST"] = {"MIRROR": "default"}
        databases[REPLICA] = replica
    # Both are inert without a replica: every query goes to the default database.
    s["DATABASE_ROUTERS"] = [*s.get("DATABASE_ROUTERS", []), "monitoring.db_router.ReplicaRouter"]
    s["MIDDLEWARE"].append("monitoring.db_router.ReplicaReadsMiddleware")

    s["RECOMPUTE_UNIT_INDICATORS"] = env.int("RECOMPUTE_UNIT_INDICATORS", default=100)
    s["RECOMPUTE_UNIT_RESEND_AFTER"] = env.int("RECOMPUTE_UNIT_RESEND_AFTER", default=600)
    s["RECOMPUTE_UNIT_CLAIM_TIMEOUT"] = env.int("RECOMPUTE_UNIT_CLAIM_TIMEOUT", default=600)
