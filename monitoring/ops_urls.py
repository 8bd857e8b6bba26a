"""Operations pages for admins (issue 8)."""

urlpatterns: list = []
