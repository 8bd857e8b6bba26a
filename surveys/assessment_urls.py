from django.urls import path

from . import assessment_views

urlpatterns = [
    path("<str:survey_code>/", assessment_views.assessment, name="detail"),
]
