"""Follow-up actions (issue 9): what someone promised to do by a date, with its status. The
same shape serves the actions of a management response to an evaluation's recommendation and
the follow-up actions of a committee meeting; each app makes a concrete model of
``FollowUpAction`` with a foreign key to what the action follows up.

An action is overdue when it is neither done nor cancelled and its due date has passed. The
overdue reminder goes out once per due date: ``overdue_reminded_for`` records the due date it
was sent for (claimed by a conditional update, ``monitoring.followup``), so moving the due date
lets one new reminder go when the new date passes. ``version`` counts saves: a save from a page
loaded before another person's save is refused (no lost update)."""

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..bilingual import Bilingual
from .geography import Agency


class FollowUpStatus(models.TextChoices):
    PLANNED = "planned", _("planned")
    IN_PROGRESS = "in_progress", _("in progress")
    DONE = "done", _("done")
    CANCELLED = "cancelled", _("cancelled")


CLOSED_STATUSES = (FollowUpStatus.DONE, FollowUpStatus.CANCELLED)


def open_and_overdue(today: dt.date) -> Q:
    """The actions still owed whose due date has passed."""
    return Q(due_on__lt=today) & ~Q(status__in=CLOSED_STATUSES)


class FollowUpAction(models.Model):
    Status = FollowUpStatus

    description_es = models.TextField(_("action (Spanish)"), blank=True)
    description_en = models.TextField(_("action (English)"), blank=True)
    description = Bilingual()
    owner_agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("responsible agency"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("responsible person"),
    )
    due_on = models.DateField(_("due date"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=FollowUpStatus.choices, default=FollowUpStatus.PLANNED
    )
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    progress_note = models.TextField(_("progress note"), blank=True)
    overdue_reminded_for = models.DateField(
        _("overdue reminder sent for due date"), null=True, blank=True, editable=False
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("updated by"),
    )

    class Meta:
        abstract = True
        ordering = ["due_on", "pk"]

    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES

    def is_overdue(self, today: dt.date) -> bool:
        return not self.is_closed() and self.due_on is not None and self.due_on < today

    @classmethod
    def action_constraints(cls, prefix: str) -> list[models.BaseConstraint]:
        """The rules every concrete model adds to its ``Meta.constraints`` (names must be
        unique in the database, hence the prefix)."""
        return [
            models.CheckConstraint(
                condition=~Q(description_es="") | ~Q(description_en=""),
                name=f"{prefix}_has_description",
                violation_error_message=_("Describe the action in Spanish or English."),
            ),
            models.CheckConstraint(
                condition=~Q(status=FollowUpStatus.DONE) | Q(completed_on__isnull=False),
                name=f"{prefix}_done_has_date",
                violation_error_message=_("A done action needs the date it was completed."),
            ),
        ]
