from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = _("Programmes")

    def ready(self) -> None:
        from . import signals

        signals.connect()  # failed Celery tasks are recorded for /ops/jobs/
