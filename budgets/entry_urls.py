"""The budget entry pages, under programmes/<code>/budget/ (the dashboard owns the root)."""

from django.urls import path

from . import entry_views as views

urlpatterns = [
    path("lines/", views.line_list, name="lines"),
    path("lines/<int:line_id>/", views.line_detail, name="line"),
    path("lines/<int:line_id>/expenditure/", views.enter, name="enter"),
    path("lines/<int:line_id>/revisions/", views.propose, name="propose"),
    path("expenditures/<int:expenditure_id>/", views.expenditure_detail, name="expenditure"),
    path("expenditures/<int:expenditure_id>/submit/", views.submit, name="submit"),
    path("expenditures/<int:expenditure_id>/approve/", views.approve, name="approve"),
    path("expenditures/<int:expenditure_id>/return/", views.return_expenditure, name="return"),
    path("revisions/<int:revision_id>/approve/", views.approve_revision, name="revision_approve"),
    path("revisions/<int:revision_id>/reject/", views.reject_revision, name="revision_reject"),
    path("upload/", views.upload, name="upload"),
    path("upload/template.csv", views.upload_template, name="upload_template"),
]
