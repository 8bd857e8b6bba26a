from django.urls import path

from . import activity_views as views

urlpatterns = [
    path("deliverables/", views.inventory, name="inventory"),
    path(
        "deliverables/add/<str:period>/<str:agency>/<str:city>/",
        views.deliverable_add,
        name="deliverable_add",
    ),
    path("deliverables/<int:pk>/file/", views.deliverable_file, name="deliverable_file"),
    path("deliverables/<int:pk>/remove/", views.deliverable_remove, name="deliverable_remove"),
    path("outputs/<str:output_code>/", views.output_detail, name="output"),
]
