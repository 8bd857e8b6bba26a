"""What the quarterly workflow keeps beside the values: restatements of approved values,
activity progress and deliverables reported with a quarter, and the reminders sent."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from monitoring.bilingual import Bilingual
from monitoring.models import Activity, Agency, City, Programme, ReportingPeriod

from .checks import AmountField
from .reports import IndicatorValue, ProgressReport, evidence_path


class Restatement(models.Model):
    """A change to an approved value: the figure before and after, why, by whom. The first
    restatement's 'before' is the figure as originally reported."""

    value = models.ForeignKey(
        IndicatorValue,
        on_delete=models.CASCADE,
        related_name="restatements",
        verbose_name=_("value"),
    )
    report_version = models.PositiveIntegerField(_("report version after the change"))
    old_value = AmountField(_("old value"), null=True, blank=True)
    old_numerator = AmountField(_("old numerator"), null=True, blank=True)
    old_denominator = AmountField(_("old denominator"), null=True, blank=True)
    old_text = models.TextField(_("old text"), blank=True)
    new_value = AmountField(_("new value"), null=True, blank=True)
    new_numerator = AmountField(_("new numerator"), null=True, blank=True)
    new_denominator = AmountField(_("new denominator"), null=True, blank=True)
    new_text = models.TextField(_("new text"), blank=True)
    reason = models.TextField(_("reason"))
    restated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("restated by"),
    )
    restated_at = models.DateTimeField(_("restated at"))

    class Meta:
        ordering = ["value", "restated_at", "id"]
        verbose_name = _("restatement")
        verbose_name_plural = _("restatements")
        constraints = [
            models.CheckConstraint(
                condition=~Q(reason=""),
                name="restatement_has_reason",
                violation_error_message=_("A restatement needs a reason."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.value.indicator.code}: {self.old_value} → {self.new_value}"


class ActivityProgress(models.Model):
    """An activity's status and progress as one agency reports it for one city and quarter."""

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", _("not started")
        IN_PROGRESS = "in_progress", _("in progress")
        COMPLETED = "completed", _("completed")
        CANCELLED = "cancelled", _("cancelled")

    report = models.ForeignKey(
        ProgressReport,
        on_delete=models.CASCADE,
        related_name="activity_progress",
        verbose_name=_("report"),
    )
    activity = models.ForeignKey(
        Activity, on_delete=models.CASCADE, related_name="progress", verbose_name=_("activity")
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    progress = models.PositiveSmallIntegerField(
        _("progress (%)"), null=True, blank=True, help_text=_("0 to 100.")
    )
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        ordering = ["report", "activity__order", "activity__code"]
        verbose_name = _("activity progress")
        verbose_name_plural = _("activity progress")
        constraints = [
            models.UniqueConstraint(
                fields=["report", "activity"],
                name="activity_progress_once_per_report",
                violation_error_message=_("This report already has this activity's progress."),
            ),
            models.CheckConstraint(
                condition=Q(progress__isnull=True) | Q(progress__lte=100),
                name="activity_progress_at_most_100",
                violation_error_message=_("Progress is at most 100 %."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.activity} {self.get_status_display()}"


class Deliverable(models.Model):
    """Something an activity produced (a study, a manual, a course, an event): the product
    inventory the evaluation had to rebuild by hand."""

    class Kind(models.TextChoices):
        STUDY = "study", _("study or report")
        MANUAL = "manual", _("manual, guide or protocol")
        TRAINING = "training", _("course or workshop")
        EVENT = "event", _("event or campaign")
        MEDIA = "media", _("communication or audiovisual material")
        TOOL = "tool", _("tool or system")
        AGREEMENT = "agreement", _("agreement")
        OTHER = "other", _("other")

    programme = models.ForeignKey(
        Programme,
        on_delete=models.CASCADE,
        related_name="deliverables",
        verbose_name=_("programme"),
    )
    activity = models.ForeignKey(
        Activity,
        on_delete=models.CASCADE,
        related_name="deliverables",
        verbose_name=_("activity"),
    )
    report = models.ForeignKey(
        ProgressReport,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deliverables",
        verbose_name=_("reported with"),
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("agency")
    )
    city = models.ForeignKey(
        City, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("city")
    )
    title_es = models.CharField(_("title (Spanish)"), max_length=300)
    title_en = models.CharField(_("title (English)"), max_length=300)
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to=evidence_path, blank=True, max_length=300)
    url = models.URLField(_("link"), blank=True, max_length=500)
    date = models.DateField(_("date"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("entered by"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    title = Bilingual()

    class Meta:
        ordering = ["programme", "activity__output__order", "activity__code", "date", "id"]
        verbose_name = _("deliverable")
        verbose_name_plural = _("deliverables")

    def __str__(self) -> str:
        return f"{self.activity.code}: {self.title}"


class ReminderSent(models.Model):
    """One reminder or escalation for one report slot; the unique constraint is what makes
    each go out at most once, however often the beat task runs."""

    class Kind(models.TextChoices):
        DUE_SOON = "due_soon", _("due soon (to the coordinator)")
        OVERDUE = "overdue", _("overdue (to the coordinator)")
        ESCALATED_APPROVER = "esc_approver", _("overdue, escalated to the agency approver")
        ESCALATED_RCO = "esc_rco", _("overdue, escalated to the RCO")
        AWAITING_APPROVAL = "awaiting", _("submitted, awaiting approval (to the approver)")

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    period = models.ForeignKey(ReportingPeriod, on_delete=models.CASCADE, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, null=True, related_name="+")
    city = models.ForeignKey(City, on_delete=models.CASCADE, null=True, related_name="+")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    recipients = models.TextField(_("recipients"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        ordering = ["-sent_at"]
        verbose_name = _("reminder sent")
        verbose_name_plural = _("reminders sent")
        constraints = [
            models.UniqueConstraint(
                F("period"),
                Coalesce(F("agency"), Value(0)),
                Coalesce(F("city"), Value(0)),
                F("kind"),
                name="reminder_once_per_slot_and_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.period_id} {self.agency_id} {self.city_id}"
