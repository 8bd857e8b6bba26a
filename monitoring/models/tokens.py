"""API tokens for machine clients (DESIGN §8) and export jobs run in the background.

A token is shown once, when it is issued; only its SHA-256 digest is stored (the key is 256
random bits, so a slow password hash adds nothing). A token belongs to a user, works for one
programme, reads or also writes, expires, and can be revoked; its last use is recorded.

An export job running for longer than ``EXPORT_JOB_TIMEOUT`` seconds lost its worker (a live
one finishes well before): it is shown as failed and can be started again."""

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .programme import Programme

KEY_PREFIX = "cjt_"
MAX_DAYS = 366


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    class Scope(models.TextChoices):
        READ = "read", _("read")
        WRITE = "write", _("read and write")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("programme")
    )
    name = models.CharField(_("name"), max_length=100, help_text=_("What the token is for."))
    scope = models.CharField(_("scope"), max_length=8, choices=Scope.choices, default=Scope.READ)
    # The first characters of the key, to recognise a token in a list; never enough to use it.
    prefix = models.CharField(_("starts with"), max_length=12)
    key_digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        constraints = [
            models.CheckConstraint(
                condition=Q(scope__in=["read", "write"]),
                name="apitoken_scope_valid",
                violation_error_message=_("A token reads, or reads and writes."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(
        cls,
        *,
        user: models.Model,
        programme: Programme,
        scope: str,
        days: int,
        name: str,
        created_by: models.Model | None = None,
    ) -> tuple["ApiToken", str]:
        """A new token and its key. The key is returned once and never stored."""
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user,
            programme=programme,
            scope=scope,
            name=name,
            prefix=key[:10],
            key_digest=digest(key),
            created_by=created_by or user,
            expires_at=timezone.now() + dt.timedelta(days=days),
        )
        return token, key

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.WRITE

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            ApiToken.objects.filter(pk=self.pk, revoked_at__isnull=True).update(
                revoked_at=self.revoked_at
            )


# What a job whose worker stopped says (on its page, the requester's list and /ops/jobs/).
STALLED_ERROR = _("The worker preparing this export stopped before it was done. Start it again.")


def export_job_setting(name: str) -> int:
    """``EXPORT_JOB_TIMEOUT`` or ``EXPORT_JOB_KEEP_DAYS`` (set by the ops part of the
    settings when they load)."""
    return int(getattr(settings, name))


def stalled_before(now: dt.datetime | None = None) -> dt.datetime:
    """A job still running that started before this moment has lost its worker."""
    timeout = export_job_setting("EXPORT_JOB_TIMEOUT")
    return (now or timezone.now()) - dt.timedelta(seconds=timeout)


class ExportJobQuerySet(models.QuerySet):
    def stalled(self, now: dt.datetime | None = None) -> "ExportJobQuerySet":
        """Jobs still marked running past the timeout: their worker died."""
        return self.filter(status="running", started_at__lt=stalled_before(now))

    def failed_or_stalled(self, now: dt.datetime | None = None) -> "ExportJobQuerySet":
        """Jobs that will not finish by themselves: the ones to start again."""
        return self.filter(
            Q(status="failed") | Q(status="running", started_at__lt=stalled_before(now))
        )


class ExportJob(models.Model):
    """A large export built by a worker: who asked, what, how far it got, and the file."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("ready")
        FAILED = "failed", _("failed")

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="export_jobs", verbose_name=_("programme")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="export_jobs",
        verbose_name=_("requested by"),
    )
    kind = models.CharField(_("export"), max_length=20)
    fmt = models.CharField(_("format"), max_length=8)
    params = models.JSONField(_("filters"), default=dict, blank=True)
    language = models.CharField(_("language"), max_length=8, default="en")
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    rows_done = models.PositiveIntegerField(_("rows written"), default=0)
    rows_total = models.PositiveIntegerField(_("rows in all"), null=True, blank=True)
    file = models.FileField(_("file"), upload_to="exports/%Y/%m/", blank=True, max_length=300)
    filename = models.CharField(_("file name"), max_length=200, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = ExportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("export job")
        verbose_name_plural = _("export jobs")

    def __str__(self) -> str:
        return f"{self.kind}.{self.fmt} {self.get_status_display()}"

    @property
    def is_stalled(self) -> bool:
        return (
            self.status == self.Status.RUNNING
            and self.started_at is not None
            and self.started_at < stalled_before()
        )

    @property
    def shown_status(self) -> str:
        """The status as people are told it: a stalled job has failed."""
        return self.Status.FAILED if self.is_stalled else self.status

    @property
    def shown_error(self) -> str:
        if self.is_stalled:
            return str(STALLED_ERROR)
        return self.error if self.status == self.Status.FAILED else ""

    @property
    def percent(self) -> int | None:
        if self.status == self.Status.DONE:
            return 100
        if not self.rows_total:
            return None
        return min(99, int(100 * self.rows_done / self.rows_total))
