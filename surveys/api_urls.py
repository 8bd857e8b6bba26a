"""URLs of the surveys API (stub)."""

urlpatterns: list = []
