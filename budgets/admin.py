from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from indicators.permissions import access_for
from monitoring.admin_scoping import (
    ProgrammeScopedAdmin,
    ReferenceDataAdmin,
    administered_programmes,
    scoped,
)

from .models import (
    BudgetCategory,
    BudgetLine,
    BudgetRevision,
    Expenditure,
    NoCostExtension,
    StatedTotal,
    Transfer,
)
from .selectors_entry import visible_expenditures

scoped(BudgetLine, "programme")
scoped(BudgetRevision, "line__programme")
scoped(Expenditure, "line__programme")
scoped(Transfer, "programme")
scoped(NoCostExtension, "programme")
scoped(StatedTotal, "programme")


@admin.register(BudgetCategory)
class BudgetCategoryAdmin(ReferenceDataAdmin):
    list_display = ("code", "scheme", "name_es", "name_en", "is_indirect", "funds_outcome", "order")
    list_filter = ("scheme",)


@admin.register(BudgetLine)
class BudgetLineAdmin(ProgrammeScopedAdmin):
    list_display = (
        "programme", "view", "agency", "country", "output", "category", "currency",
        "original_amount", "amount",
    )  # fmt: skip
    list_filter = ("programme", "view", "agency", "country", "category")


@admin.register(BudgetRevision)
class BudgetRevisionAdmin(ProgrammeScopedAdmin):
    list_display = ("line", "old_amount", "new_amount", "status", "proposed_by", "decided_by")
    list_filter = ("status",)
    # Decided through the budget pages' service (never below spent, audited); read here.
    readonly_fields = (
        "line",
        "old_amount",
        "new_amount",
        "status",
        "proposed_by",
        "decided_by",
        "decided_at",
    )


def expenditures_shown_to(user: Any) -> Q:
    """As on the budget pages: a draft expenditure is its agency's (DESIGN §3.3), so a
    programme admin sees the submitted and approved ones, and drafts only of an agency they
    belong to; superusers see everything."""
    if user.is_superuser:
        return Q()
    where = Q(pk__in=[])
    for programme in administered_programmes(user):
        where |= Q(line__programme=programme) & visible_expenditures(access_for(user, programme))
    return where


@admin.register(Expenditure)
class ExpenditureAdmin(ProgrammeScopedAdmin):
    list_display = ("line", "period", "cumulative", "amount", "kind", "as_of", "status")
    list_filter = ("status", "kind", "period")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).filter(expenditures_shown_to(request.user))


@admin.register(Transfer)
class TransferAdmin(ProgrammeScopedAdmin):
    list_display = ("programme", "agency", "date", "amount", "currency", "reference")
    list_filter = ("programme", "agency")


@admin.register(NoCostExtension)
class NoCostExtensionAdmin(ProgrammeScopedAdmin):
    list_display = ("programme", "number", "months", "previous_end_date", "new_end_date")


@admin.register(StatedTotal)
class StatedTotalAdmin(ProgrammeScopedAdmin):
    list_display = ("programme", "category", "country", "amount", "currency")
