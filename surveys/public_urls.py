"""The public response page (no login), under /s/: the open link, an invitation's personal
link, and the thank-you page."""

from django.urls import path

from . import public_views

urlpatterns = [
    path("<str:key>/", public_views.open_link, name="open"),
    path("<str:key>/t/<str:token>/", public_views.invitation_link, name="invitation"),
    path("<str:key>/thanks/", public_views.thanks, name="thanks"),
]
