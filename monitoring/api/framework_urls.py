"""API endpoints of the results framework (owned by a helper; stub)."""

urlpatterns: list = []
