"""Budget lines (DESIGN §6). Categories are data: the fund's results-based categories and the
UNDG cost categories. Amounts are decimals in the line's currency."""

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

    name = Bilingual()

    class Meta:
        ordering = ["scheme", "order", "code"]
        verbose_name = _("budget category")
        verbose_name_plural = _("budget categories")

    def __str__(self) -> str:
        return self.name


class BudgetLine(models.Model):
    """Money approved for one agency in one country, optionally for one output and category."""

    programme = models.ForeignKey(
        Programme,
        on_delete=models.CASCADE,
        related_name="budget_lines",
        verbose_name=_("programme"),
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, verbose_name=_("agency"))
    country = models.ForeignKey(Country, on_delete=models.PROTECT, verbose_name=_("country"))
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
    amount = models.DecimalField(_("approved amount"), max_digits=16, decimal_places=2)
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
                F("agency"),
                F("country"),
                Coalesce(F("output"), Value(0)),
                Coalesce(F("category"), Value(0)),
                name="budgetline_unique",
                violation_error_message=_(
                    "A budget line for this agency, country, output and category already exists."
                ),
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0),
                name="budgetline_amount_non_negative",
                violation_error_message=_("A budget amount cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"),
                name="budgetline_currency_iso",
                violation_error_message=_("Currency must be a three-letter ISO 4217 code."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme.code} {self.agency.code} {self.country.code}: {self.amount}"

    def clean(self) -> None:
        if not self.programme_id:
            return
        if self.agency_id and not self.programme.agencies.filter(pk=self.agency_id).exists():
            raise ValidationError({"agency": _("This agency does not take part in the programme.")})
        if (
            self.country_id
            and not self.programme.cities.filter(country_id=self.country_id).exists()
        ):
            raise ValidationError({"country": _("The programme has no city in this country.")})
        output = self.output if self.output_id else None
        if output is not None and output.programme_id != self.programme_id:
            raise ValidationError({"output": _("It belongs to another programme.")})
