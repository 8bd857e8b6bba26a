"""/programmes/<code>/exports/: the export page and the background jobs it starts."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.export_page, name="page"),
    path("jobs/<int:job_id>/", views.job_detail, name="job"),
    path("jobs/<int:job_id>/status.json", views.job_status, name="job_status"),
    path("jobs/<int:job_id>/download/", views.job_download, name="job_download"),
]
