"""Budgets (DESIGN §6): lines and their revisions, category splits and printed totals,
transfers, no-cost extensions, expenditures, and the derived figures and findings."""

from .execution import Expenditure, NoCostExtension, Transfer
from .figures import BudgetFigure, BudgetFinding
from .lines import BudgetCategory, BudgetLine, BudgetRevision, StatedTotal

__all__ = [
    "BudgetCategory",
    "BudgetFigure",
    "BudgetFinding",
    "BudgetLine",
    "BudgetRevision",
    "Expenditure",
    "NoCostExtension",
    "StatedTotal",
    "Transfer",
]
