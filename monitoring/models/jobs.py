"""Background jobs that failed for good (issue 8, operations): every Celery task whose last
attempt raised, recorded by the ``task_failure`` signal (``monitoring.signals``) so that an
administrator sees it on /ops/jobs/ and can send it again when that is safe. A failure whose
arguments name one programme (an export job, a programme's budget, indicators of one
programme) records it, so that programme's admins see it; any other is for superusers only."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .programme import Programme


class FailedTask(models.Model):
    """One Celery task that failed after its retries. The arguments are kept as sent (tasks
    take primitive ids only), so an idempotent task can be sent again as it was."""

    task_id = models.CharField(_("task id"), max_length=64, blank=True)
    task_name = models.CharField(_("task"), max_length=200)
    args = models.JSONField(_("arguments"), default=list, blank=True)
    kwargs = models.JSONField(_("keyword arguments"), default=dict, blank=True)
    args_summary = models.CharField(_("arguments in short"), max_length=300, blank=True)
    programme = models.ForeignKey(
        Programme,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("programme"),
        help_text=_("The programme the task worked for; empty when it concerns the whole site."),
    )
    exception = models.TextField(_("error"))
    traceback = models.TextField(_("traceback"), blank=True)
    retries = models.PositiveIntegerField(_("retries"), default=0)
    hostname = models.CharField(_("worker"), max_length=200, blank=True)
    failed_at = models.DateTimeField(_("failed at"))
    retried_at = models.DateTimeField(_("sent again at"), null=True, blank=True)
    retried_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent again by"),
    )

    class Meta:
        ordering = ["-failed_at", "-id"]
        verbose_name = _("failed task")
        verbose_name_plural = _("failed tasks")
        indexes = [models.Index(fields=["-failed_at"], name="failedtask_failed_at")]

    def __str__(self) -> str:
        return f"{self.task_name} {self.failed_at:%Y-%m-%d %H:%M:%S}"
