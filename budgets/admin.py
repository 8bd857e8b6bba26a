from django.contrib import admin

from monitoring.admin_scoping import ProgrammeScopedAdmin, ReferenceDataAdmin, scoped

from .models import BudgetCategory, BudgetLine

scoped(BudgetLine, "programme")


@admin.register(BudgetCategory)
class BudgetCategoryAdmin(ReferenceDataAdmin):
    list_display = ("code", "scheme", "name_es", "name_en", "is_indirect", "order")
    list_filter = ("scheme",)


@admin.register(BudgetLine)
class BudgetLineAdmin(ProgrammeScopedAdmin):
    list_display = ("programme", "agency", "country", "output", "category", "currency", "amount")
    list_filter = ("programme", "agency", "country", "category")
