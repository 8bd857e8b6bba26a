"""Pages under /programmes/<code>/governance/ (see monitoring/urls.py)."""

from django.urls import path

from .views import committees, followup, risks

urlpatterns = [
    path("", committees.overview, name="committees"),
    path("committees/<str:committee_code>/", committees.committee, name="committee"),
    path(
        "committees/<str:committee_code>/meetings/new/",
        committees.meeting_add,
        name="meeting_add",
    ),
    path("meetings/<int:meeting_id>/", committees.meeting, name="meeting"),
    path("meetings/<int:meeting_id>/decisions/", committees.decision_add, name="decision_add"),
    path("meetings/<int:meeting_id>/actions/", committees.action_add, name="action_add"),
    path("actions/<int:action_id>/", committees.action_status, name="action_update"),
    path("risks/", risks.register, name="risks"),
    path("heat-map/", risks.heatmap, name="heatmap"),
    path("new-risk/", risks.add, name="risk_add"),
    path("risks/<str:risk_code>/", risks.detail, name="risk"),
    path("risks/<str:risk_code>/edit/", risks.edit, name="risk_edit"),
    path("risks/<str:risk_code>/review/", risks.review, name="risk_review"),
    path("follow-up/", followup.overview, name="follow_up"),
    path("agreements/<str:agreement_code>/", followup.agreement, name="agreement"),
    path(
        "agreements/<str:agreement_code>/status/",
        followup.agreement_status,
        name="agreement_status",
    ),
    path("tools/<str:tool_code>/", followup.tool, name="tool"),
    path("tools/<str:tool_code>/adoption/", followup.tool_adoption, name="tool_adoption"),
]
