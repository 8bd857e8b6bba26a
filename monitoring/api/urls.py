"""/api/v1/: every app's endpoints, the OpenAPI schema and its interactive docs."""

from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularSwaggerSplitView,
)

from . import results
from .errors import api_not_found

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("results/", results.ResultsView.as_view(), name="results"),
    path("", include("monitoring.api.exports")),
    path("", include("monitoring.api.framework_urls")),
    path("", include("indicators.api.urls")),
    path("", include("budgets.api_urls")),
    path("", include("surveys.api_urls")),
    re_path(r"^[\s\S]*$", api_not_found),  # any address, even one with a newline in it
]
