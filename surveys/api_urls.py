"""URLs of the surveys API (read only)."""

from django.urls import path

from . import api

urlpatterns = [
    path("surveys/", api.SurveyList.as_view(), name="surveys"),
    path("surveys/<str:code>/results/", api.SurveyResults.as_view(), name="survey-results"),
]
