"""Settings, read from the environment only.

- ``local``: the embedded default (SQLite, Celery tasks in-process) unless ``DATABASE_URL`` /
  ``REDIS_URL`` say otherwise.
- ``test``: ``local`` plus fast password hashing.
- ``production``: refuses to start without ``DJANGO_SECRET_KEY`` and ``DJANGO_ALLOWED_HOSTS``.
"""
