"""Operations pages for admins (issue 8), under /ops/."""

from django.urls import path

from . import ops_views as views

urlpatterns = [
    path("jobs/", views.jobs, name="jobs"),
    path("jobs/tasks/<int:task_id>/retry/", views.retry_task, name="retry_task"),
    path("jobs/exports/<int:job_id>/retry/", views.retry_export, name="retry_export"),
    path("jobs/recompute-pending/", views.recompute_pending, name="recompute_pending"),
    path("jobs/recompute-all/", views.recompute_everything, name="recompute_all"),
]
