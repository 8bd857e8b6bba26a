"""URLs of the budgets API (stub)."""

urlpatterns: list = []
