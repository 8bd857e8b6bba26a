"""Tests: the local settings with fast hashing. DATABASE_URL / REDIS_URL still apply, so CI
runs the same tests against PostgreSQL and Redis."""

import uuid

from .local import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {"version": 1, "disable_existing_loggers": False}

# Tests run tasks in-process (eagerly) even when REDIS_URL is set; the test with a real
# worker switches to the broker itself.
CELERY_TASK_ALWAYS_EAGER = True

# A file, not memory, so a worker process started by a test can open the test database.
# ``./dev test`` runs two shards at once (TEST_SHARD): each has a test database of its own.
_shard = env.str("TEST_SHARD", default="")  # noqa: F405
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    _name = f".test-db-{_shard}.sqlite3" if _shard else ".test-db.sqlite3"
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / _name)}  # noqa: F405
elif _shard:
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{_shard}"}  # noqa: F405

# A cache key prefix of its own per test run: with REDIS_URL the cache is the machine's Redis,
# shared with other runs, and counts kept there (rate limits) must not leak between runs.
CACHES["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"  # noqa: F405
