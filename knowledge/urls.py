"""Pages under /programmes/<code>/knowledge/ (see monitoring/urls.py)."""

from django.urls import path

from . import views, views_actions, views_lessons

RECOMMENDATION = "evaluations/<str:evaluation>/recommendations/<int:number>/"

urlpatterns = [
    path("", views.evaluation_list, name="evaluations"),
    path("evaluations/<str:evaluation>/", views.evaluation_detail, name="evaluation"),
    path(RECOMMENDATION, views.recommendation_detail, name="recommendation"),
    path(f"{RECOMMENDATION}response/", views.respond, name="respond"),
    path(f"{RECOMMENDATION}actions/", views_actions.action_add, name="action_add"),
    path("actions/<int:action_id>/status/", views_actions.action_status, name="action_status"),
    path("actions/<int:action_id>/edit/", views_actions.action_edit, name="action_edit"),
    path("tracking/", views_actions.tracking, name="tracking"),
    path("lessons/", views_lessons.lesson_list, name="lessons"),
    path("lessons/<str:lesson>/", views_lessons.lesson_detail, name="lesson"),
]
