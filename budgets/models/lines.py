"""Budget lines (DESIGN §6). Categories are data: the fund's results-based categories and the
UNDG cost categories. Amounts are decimals in the line's currency.

A programme's *lines* (agency × country, with output and category where known) make its
budget. Sources often split the same money another way as well (Ciudades: by agency and
country in one table, by agency and category in an annex): those are kept as a *category
split* of the agency's budget, shown per category and reconciled with the lines, never
added to them."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from monitoring.bilingual import Bilingual
from monitoring.models import Agency, Country, Output, Programme, code_validator


class BudgetCategory(models.Model):
    class Scheme(models.TextChoices):
        FUND = "fund", _("fund's results-based categories")
        UNDG = "undg", _("UNDG cost categories")

    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    scheme = models.CharField(_("scheme"), max_length=8, choices=Scheme.choices)
    name_es = models.CharField(_("name (Spanish)"), max_length=150)
    name_en = models.CharField(_("name (English)"), max_length=150)
    is_indirect = models.BooleanField(
        _("indirect support costs"),
        default=False,
        help_text=_("Checked against the fund's ceiling on indirect costs."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    funds_outcome = models.PositiveSmallIntegerField(
        _("funds outcome number"),
        null=True,
        blank=True,
        help_text=_("For the fund's outcome categories: the outcome (1, 2, 3…) they pay for."),
    )

    name = Bilingual()

    class Meta:
        ordering = ["scheme", "order", "code"]
        verbose_name = _("budget category")
        verbose_name_plural = _("budget categories")

    def __str__(self) -> str:
        return self.name


class BudgetLine(models.Model):
    """Money approved for one agency in one country, optionally for one output and category;
    or, as a category split, one agency's budget for one category across its countries."""

    class View(models.TextChoices):
        LINE = "line", _("budget line")
        CATEGORY_SPLIT = "split", _("category split of the agency's budget")

    programme = models.ForeignKey(
        Programme,
        on_delete=models.CASCADE,
        related_name="budget_lines",
        verbose_name=_("programme"),
    )
    view = models.CharField(
        _("kind"), max_length=5, choices=View.choices, default=View.LINE, db_default=View.LINE
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, verbose_name=_("agency"))
    country = models.ForeignKey(
        Country,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("country"),
        help_text=_("Required for a budget line; empty for a category split."),
    )
    output = models.ForeignKey(
        Output, on_delete=models.RESTRICT, null=True, blank=True, verbose_name=_("output")
    )
    category = models.ForeignKey(
        BudgetCategory,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("category"),
        help_text=_("Empty when the source gives no breakdown."),
    )
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    original_amount = models.DecimalField(
        _("original amount"),
        max_digits=16,
        decimal_places=2,
        help_text=_("As first approved; revisions change the amount, never this."),
    )
    amount = models.DecimalField(
        _("amount (revised)"),
        max_digits=16,
        decimal_places=2,
        help_text=_("The amount in force: the original one, or the latest approved revision."),
    )
    source = models.TextField(_("source"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["programme", "agency__code", "country__code"]
        verbose_name = _("budget line")
        verbose_name_plural = _("budget lines")
        constraints = [
            models.UniqueConstraint(
                F("programme"),
                F("view"),
                F("agency"),
                Coalesce(F("country"), Value(0)),
                Coalesce(F("output"), Value(0)),
                Coalesce(F("category"), Value(0)),
                name="budgetline_unique",
                violation_error_message=_(
                    "A budget line for this agency, country, output and category already exists."
                ),
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0) & Q(original_amount__gte=0),
                name="budgetline_amount_non_negative",
                violation_error_message=_("A budget amount cannot be negative."),
            ),
            models.CheckConstraint(
                condition=(Q(view="line") & Q(country__isnull=False))
                | (Q(view="split") & Q(category__isnull=False)),
                name="budgetline_view_complete",
                violation_error_message=_(
                    "A budget line needs its country; a category split needs its category."
                ),
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"),
                name="budgetline_currency_iso",
                violation_error_message=_("Currency must be a three-letter ISO 4217 code."),
            ),
        ]

    def __str__(self) -> str:
        where = self.country.code if self.country_id and self.country else "*"
        what = f" {self.category.code}" if self.category_id and self.category else ""
        return f"{self.programme.code} {self.agency.code} {where}{what}: {self.amount}"

    def clean(self) -> None:
        if not self.programme_id:
            return
        if self.agency_id and not self.programme.agencies.filter(pk=self.agency_id).exists():
            raise ValidationError({"agency": _("This agency does not take part in the programme.")})
        if self.view == self.View.LINE and not self.country_id:
            raise ValidationError({"country": _("A budget line needs its country.")})
        if self.view == self.View.CATEGORY_SPLIT and not self.category_id:
            raise ValidationError({"category": _("A category split needs its category.")})
        if (
            self.country_id
            and not self.programme.cities.filter(country_id=self.country_id).exists()
        ):
            raise ValidationError({"country": _("The programme has no city in this country.")})
        output = self.output if self.output_id else None
        if output is not None and output.programme_id != self.programme_id:
            raise ValidationError({"output": _("It belongs to another programme.")})


class BudgetRevision(models.Model):
    """A change of a line's amount: from what, to what, why, and who approved it. Approved
    revisions set the line's amount; none brings it below what is already spent."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("proposed")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")

    line = models.ForeignKey(
        BudgetLine, on_delete=models.CASCADE, related_name="revisions", verbose_name=_("line")
    )
    old_amount = models.DecimalField(_("amount before"), max_digits=16, decimal_places=2)
    new_amount = models.DecimalField(_("amount after"), max_digits=16, decimal_places=2)
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PROPOSED
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    proposed_at = models.DateTimeField(_("proposed at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    source = models.TextField(_("source"), blank=True)

    class Meta:
        ordering = ["line", "proposed_at", "id"]
        verbose_name = _("budget revision")
        verbose_name_plural = _("budget revisions")
        constraints = [
            models.CheckConstraint(
                condition=~Q(reason=""),
                name="budgetrevision_has_reason",
                violation_error_message=_("A budget revision needs a reason."),
            ),
            models.CheckConstraint(
                condition=Q(new_amount__gte=0),
                name="budgetrevision_non_negative",
                violation_error_message=_("A budget amount cannot be negative."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.line}: {self.old_amount} → {self.new_amount} ({self.status})"


class StatedTotal(models.Model):
    """A total a source prints for all agencies (per category, say), kept as printed so the
    checks can compare it with the sum of the agencies' figures."""

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="stated_budget_totals"
    )
    category = models.ForeignKey(
        BudgetCategory, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("category")
    )
    country = models.ForeignKey(
        Country, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("country")
    )
    amount = models.DecimalField(_("amount as printed"), max_digits=16, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    source = models.TextField(_("source"), blank=True)

    class Meta:
        ordering = ["programme", "category__order"]
        verbose_name = _("stated budget total")
        verbose_name_plural = _("stated budget totals")
        constraints = [
            models.UniqueConstraint(
                F("programme"),
                Coalesce(F("category"), Value(0)),
                Coalesce(F("country"), Value(0)),
                name="statedtotal_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.programme.code} {self.category or self.country or 'total'}: {self.amount}"
