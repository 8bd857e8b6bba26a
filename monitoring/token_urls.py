"""The account's API tokens, under /account/tokens/ (namespace ``tokens``)."""

from django.urls import path

from . import token_views

urlpatterns = [
    path("", token_views.token_list, name="list"),
    path("<int:token_id>/revoke/", token_views.token_revoke, name="revoke"),
]
