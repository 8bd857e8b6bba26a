"""The Celery app. With REDIS_URL set, tasks go to a broker and run in workers; without it
(the embedded default) ``task_always_eager`` runs them in-process. Settings are the
``CELERY_*`` names in ``monitoring.settings``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "monitoring.settings.local")

app = Celery("monitoring", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
