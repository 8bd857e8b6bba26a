"""URLs of the indicators API (stub)."""

urlpatterns: list = []
