"""Money moving: transfers from the fund to each agency, no-cost extensions, and what each
line spent per period (interim or certified, as of a date, approved like progress)."""

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from monitoring.models import Agency, Programme, ReportingPeriod

from .lines import BudgetLine


def MoneyField(verbose_name: Any, **kwargs: Any) -> models.DecimalField:
    """An amount of money: 14 digits before the point, 2 after."""
    return models.DecimalField(verbose_name, max_digits=16, decimal_places=2, **kwargs)


class Transfer(models.Model):
    """A tranche the fund transferred to a participating agency."""

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="transfers", verbose_name=_("programme")
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, verbose_name=_("agency"))
    date = models.DateField(_("date"))
    amount = MoneyField(_("amount"))
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    source = models.TextField(_("source"), blank=True)

    class Meta:
        ordering = ["programme", "date", "agency__code"]
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="transfer_amount_positive",
                violation_error_message=_("A transfer amount must be greater than zero."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.programme.code} → {self.agency.code} {self.date}: {self.amount}"


class NoCostExtension(models.Model):
    """More time, no more money: the programme's end date moves, with the reason."""

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="extensions", verbose_name=_("programme")
    )
    number = models.PositiveSmallIntegerField(_("number"))
    months = models.PositiveSmallIntegerField(_("months"))
    previous_end_date = models.DateField(_("end date before"), null=True, blank=True)
    new_end_date = models.DateField(_("new end date"))
    approved_on = models.DateField(_("approved on"), null=True, blank=True)
    reason_es = models.TextField(_("reason (Spanish)"), blank=True)
    reason_en = models.TextField(_("reason (English)"), blank=True)
    source = models.TextField(_("source"), blank=True)

    class Meta:
        ordering = ["programme", "number"]
        verbose_name = _("no-cost extension")
        verbose_name_plural = _("no-cost extensions")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "number"],
                name="extension_unique_number",
                violation_error_message=_(
                    "This programme already has an extension with this number."
                ),
            ),
            models.CheckConstraint(
                condition=Q(previous_end_date__isnull=True)
                | Q(new_end_date__gt=models.F("previous_end_date")),
                name="extension_moves_end_later",
                violation_error_message=_("An extension moves the end date later."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme.code} extension {self.number}: {self.new_end_date}"


class Expenditure(models.Model):
    """What a budget line spent in a period, or (``cumulative``) from the start of the
    programme up to ``as_of``, as the agency reports it. Only approved expenditures count."""

    class Kind(models.TextChoices):
        INTERIM = "interim", _("interim")
        CERTIFIED = "certified", _("certified")

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SUBMITTED = "submitted", _("submitted")
        APPROVED = "approved", _("approved")

    line = models.ForeignKey(
        BudgetLine, on_delete=models.PROTECT, related_name="expenditures", verbose_name=_("line")
    )
    period = models.ForeignKey(
        ReportingPeriod, on_delete=models.RESTRICT, related_name="+", verbose_name=_("period")
    )
    cumulative = models.BooleanField(
        _("cumulative"),
        default=False,
        help_text=_("The amount is everything spent from the start up to the 'as of' date."),
    )
    amount = MoneyField(_("amount spent"))
    kind = models.CharField(_("kind"), max_length=9, choices=Kind.choices, default=Kind.INTERIM)
    as_of = models.DateField(_("as of"))
    stated_budget = MoneyField(
        _("budget stated beside it"),
        null=True,
        blank=True,
        help_text=_("When the source states the line's budget next to the expenditure."),
    )
    status = models.CharField(
        _("status"), max_length=9, choices=Status.choices, default=Status.DRAFT
    )
    note = models.TextField(_("note"), blank=True)
    source = models.TextField(_("source"), blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["line", "period__start_date", "cumulative"]
        verbose_name = _("expenditure")
        verbose_name_plural = _("expenditures")
        constraints = [
            models.UniqueConstraint(
                fields=["line", "period", "cumulative"],
                name="expenditure_once_per_line_period",
                violation_error_message=_("This line already has an expenditure for this period."),
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0),
                name="expenditure_non_negative",
                violation_error_message=_("An expenditure cannot be negative."),
            ),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(approved_at__isnull=False),
                name="expenditure_approved_has_date",
                violation_error_message=_("An approved expenditure needs its approval date."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.line} {self.period.code}: {self.amount}"
