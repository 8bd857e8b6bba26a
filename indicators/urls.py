from django.urls import path

from . import dashboards

urlpatterns = [
    path("", dashboards.overview, name="overview"),
    path("outcomes/", dashboards.outcomes, name="outcomes"),
    path("cities/", dashboards.cities, name="cities"),
    path("agencies/", dashboards.agencies, name="agencies"),
    path("compliance/", dashboards.compliance, name="compliance"),
    path("quality/", dashboards.quality, name="quality"),
    path("indicators/<str:indicator_code>/", dashboards.indicator_detail, name="indicator"),
]
