"""URLs of the budgets API (read only)."""

from django.urls import path

from . import api

urlpatterns = [
    path("budget-lines/", api.BudgetLineList.as_view(), name="budget-lines"),
    path("expenditures/", api.ExpenditureList.as_view(), name="expenditures"),
    path("budget-summary/", api.BudgetSummary.as_view(), name="budget-summary"),
]
