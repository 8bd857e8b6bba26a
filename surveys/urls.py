from django.urls import path

from . import views

urlpatterns = [
    path("", views.survey_list, name="list"),
    path("<str:survey_code>/<int:wave>/", views.survey_results, name="results"),
    path("<str:survey_code>/<int:wave>/upload/", views.upload, name="upload"),
    path(
        "<str:survey_code>/<int:wave>/export.csv",
        views.export,
        {"fmt": "csv"},
        name="export_csv",
    ),
    path(
        "<str:survey_code>/<int:wave>/export.xlsx",
        views.export,
        {"fmt": "xlsx"},
        name="export_xlsx",
    ),
]
