from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import health, views

urlpatterns = [
    path("", views.home, name="home"),
    path("programmes/<str:code>/framework/", views.programme_detail, name="programme_detail"),
    path("programmes/<str:code>/budget/", include(("budgets.urls", "budget"))),
    path("programmes/<str:code>/budget/", include(("budgets.entry_urls", "budget_entry"))),
    path("programmes/<str:code>/surveys/", include(("surveys.urls", "surveys"))),
    path(
        "programmes/<str:code>/assessments/",
        include(("surveys.assessment_urls", "survey_assessment")),
    ),
    path("s/", include(("surveys.public_urls", "survey_public"))),
    path("programmes/<str:code>/reports/", include(("indicators.report_urls", "reports"))),
    path("programmes/<str:code>/knowledge/", include(("knowledge.urls", "knowledge"))),
    path("programmes/<str:code>/governance/", include(("governance.urls", "governance"))),
    path("programmes/<str:code>/exports/", include(("monitoring.exports.urls", "exports"))),
    path("programmes/<str:code>/", include(("indicators.activity_urls", "activities"))),
    path("programmes/<str:code>/", include(("indicators.urls", "dashboards"))),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/tokens/", include(("monitoring.token_urls", "tokens"))),
    path("api/v1/", include(("monitoring.api.urls", "api"))),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("ops/", include(("monitoring.ops_urls", "ops"))),
]
