"""URLs of the indicators API: progress reports, their values and workflow, and rollups."""

from django.urls import path

from . import reports, rollups

urlpatterns = [
    path("reports/", reports.ReportList.as_view(), name="reports"),
    path("reports/<int:pk>/", reports.ReportDetail.as_view(), name="report"),
    path("reports/<int:pk>/values/", reports.ReportValues.as_view(), name="report-values"),
    path("reports/<int:pk>/submit/", reports.SubmitReport.as_view(), name="report-submit"),
    path("reports/<int:pk>/return/", reports.ReturnReport.as_view(), name="report-return"),
    path("reports/<int:pk>/approve/", reports.ApproveReport.as_view(), name="report-approve"),
    path("reports/<int:pk>/validate/", reports.ValidateReport.as_view(), name="report-validate"),
    path("reports/<int:pk>/restate/", reports.RestateValue.as_view(), name="report-restate"),
    path("values/", reports.ValueList.as_view(), name="values"),
    path("rollups/", rollups.RollupList.as_view(), name="rollups"),
]
