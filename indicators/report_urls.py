from django.urls import path

from . import report_views as views
from . import workbook_views

SLOT = "<str:period>/<str:agency>/<str:city>/"

urlpatterns = [
    path("", views.calendar, name="calendar"),
    path(SLOT, views.report, name="report"),
    path(f"{SLOT}return/", views.return_report, name="return"),
    path(f"{SLOT}approve/", views.approve_report, name="approve"),
    path(f"{SLOT}validate/", views.validate_report, name="validate"),
    path(f"{SLOT}restate/", views.restate, name="restate"),
    path(f"{SLOT}evidence/<int:value_id>/", views.evidence, name="evidence"),
    path(f"{SLOT}workbook/", workbook_views.download_workbook, name="workbook"),
    path(f"{SLOT}workbook/upload/", workbook_views.upload_workbook, name="workbook_upload"),
]
