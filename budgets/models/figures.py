"""Derived: budget figures per scope (written by the budget job, never by hand) and the
budget's data-quality findings."""

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from indicators.models import Indicator
from monitoring.models import Agency, Country, Outcome, Output, Programme

from .lines import BudgetCategory


def _fk(model: type[models.Model], **extra: Any) -> models.ForeignKey:
    return models.ForeignKey(
        model, on_delete=models.CASCADE, related_name="+", db_constraint=False, **extra
    )


def MoneyField(verbose_name: Any, **kwargs: Any) -> models.DecimalField:
    """An amount of money: 14 digits before the point, 2 after."""
    return models.DecimalField(verbose_name, max_digits=16, decimal_places=2, **kwargs)


class BudgetFigure(models.Model):
    """Budget, revised budget, transferred, spent (approved expenditures), balance, execution
    rate and burn against elapsed time for one scope of one programme."""

    class Scope(models.TextChoices):
        PROGRAMME = "programme", _("programme")
        AGENCY = "agency", _("agency")
        COUNTRY = "country", _("country")
        AGENCY_COUNTRY = "agency_country", _("agency × country")
        CATEGORY = "category", _("category")
        OUTCOME = "outcome", _("outcome")
        OUTPUT = "output", _("output")

    class Burn(models.TextChoices):
        AHEAD = "ahead", _("spending ahead of time")
        ON_PACE = "on_pace", _("spending in step with time")
        BEHIND = "behind", _("spending far behind time")
        NO_DATA = "no_data", _("no expenditure reported")

    programme = _fk(Programme)
    scope = models.CharField(_("scope"), max_length=14, choices=Scope.choices)
    agency = _fk(Agency, null=True)
    country = _fk(Country, null=True)
    category = _fk(BudgetCategory, null=True)
    outcome = _fk(Outcome, null=True)
    output = _fk(Output, null=True)
    currency = models.CharField(_("currency"), max_length=3, default="USD")
    budget = MoneyField(_("original budget"), null=True)
    revised = MoneyField(_("revised budget"), null=True)
    transferred = MoneyField(_("transferred"), null=True)
    spent = MoneyField(_("spent"), null=True)
    balance = MoneyField(_("balance"), null=True)
    execution = models.DecimalField(
        _("execution rate (%)"), max_digits=7, decimal_places=2, null=True
    )
    elapsed = models.DecimalField(_("time elapsed (%)"), max_digits=7, decimal_places=2, null=True)
    burn = models.CharField(_("burn against time"), max_length=8, choices=Burn.choices)
    spent_as_of = models.DateField(_("spent as of"), null=True)
    missing_expenditure = models.PositiveSmallIntegerField(
        _("lines without expenditure"), default=0
    )
    indicator = _fk(Indicator, null=True)
    indicator_actual = models.DecimalField(
        _("indicator to date"), max_digits=18, decimal_places=4, null=True
    )
    cost_per_result = MoneyField(_("cost per result"), null=True)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        ordering = ["programme", "scope", "id"]
        verbose_name = _("budget figure")
        verbose_name_plural = _("budget figures")
        indexes = [models.Index(fields=["programme", "scope"], name="budgetfigure_scope")]

    def __str__(self) -> str:
        return f"{self.programme_id} {self.scope}: {self.spent}/{self.revised}"


class BudgetFinding(models.Model):
    """Something in the budget figures a person should look at."""

    class Check(models.TextChoices):
        INDIRECT_CEILING = "indirect_ceiling", _("indirect support costs above the fund's ceiling")
        SPLIT_MISMATCH = (
            "split_mismatch",
            _("category split does not add up to the agency's budget"),
        )
        STATED_TOTAL = "stated_total", _("printed total differs from the sum of the agencies")
        STATED_BUDGET = (
            "stated_budget",
            _("budget stated with the expenditure differs from the line"),
        )
        NO_EXPENDITURE = "no_expenditure", _("no expenditure reported for a line")
        OVERSPENT = "overspent", _("more spent than budgeted")

    programme = _fk(Programme)
    kind = models.CharField(_("check"), max_length=16, choices=Check.choices)
    agency = _fk(Agency, null=True)
    country = _fk(Country, null=True)
    category = _fk(BudgetCategory, null=True)
    details = models.JSONField(_("details"), default=dict)
    detected_at = models.DateTimeField(_("detected at"))

    class Meta:
        ordering = ["programme", "kind", "id"]
        verbose_name = _("budget finding")
        verbose_name_plural = _("budget findings")

    def __str__(self) -> str:
        return f"{self.programme_id} {self.kind}"
