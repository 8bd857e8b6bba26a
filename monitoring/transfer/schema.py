"""Which models travel with a programme, and how: shared records by natural key, the
programme's own records by id, derived and instance tables not at all."""

from collections import defaultdict
from typing import Any

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.migrations.recorder import MigrationRecorder

FORMAT = "conjunto-programme"
VERSION = 1
PROJECT_APPS = ("monitoring", "indicators", "budgets", "surveys")
# Shared records and their natural keys, in the order they are created.
REFERENCE: dict[str, tuple[str, ...]] = {
    "monitoring.country": ("code",),
    "monitoring.city": ("code",),
    "monitoring.agency": ("code",),
    "indicators.disaggregationdimension": ("code",),
    "indicators.disaggregationcategory": ("dimension", "code"),
    "budgets.budgetcategory": ("code",),
    "surveys.scale": ("code",),
    "surveys.scalelevel": ("scale", "value"),
}
# Shared records exported whole with their parent (a dimension with all its categories).
CHILDREN = {
    "indicators.disaggregationdimension": ("indicators.disaggregationcategory", "dimension"),
    "surveys.scale": ("surveys.scalelevel", "scale"),
}
# Rebuilt from the records by the engine and the budget job after an import.
DERIVED = {
    "indicators.rollup",
    "indicators.qualityissue",
    "indicators.recomputerequest",
    "indicators.recomputerun",
    "indicators.recomputeunit",
    "budgets.budgetfigure",
    "budgets.budgetfinding",
}
# Belong to the instance, not to the programme.
INSTANCE = {"monitoring.apitoken", "monitoring.exportjob", "monitoring.failedtask"}
USER_FIELDS = ("username", "first_name", "last_name", "email", "is_active")
SECRET_USER_FIELDS = ("password", "is_staff", "is_superuser", "last_login", "date_joined")


class TransferError(Exception):
    """The export or import cannot go on; the message says why."""


def _label(model: Any) -> str:
    return model._meta.label_lower


def _relations(model: type[models.Model]) -> list[Any]:
    """The model's foreign keys (one-to-one included)."""
    return [f for f in model._meta.concrete_fields if f.is_relation and f.many_to_one]


def programme_models() -> list[tuple[type[models.Model], str]]:
    """The project's models that belong to a programme, with the lookup from each to its
    programme, ordered so that every model comes after the models it refers to."""
    programme = apps.get_model("monitoring", "Programme")
    paths: dict[type[models.Model], str] = {programme: "pk"}
    candidates = [
        m
        for m in apps.get_models()
        if m._meta.app_label in PROJECT_APPS
        and _label(m) not in {*REFERENCE, *DERIVED, *INSTANCE}
        and m is not programme
    ]
    changed = True
    while changed:  # shortest paths, through required references first
        changed = False
        for model in candidates:
            routes = [
                (
                    f.null,
                    f.name
                    if f.related_model is programme
                    else f"{f.name}__{paths[f.related_model]}",
                )
                for f in _relations(model)
                if f.related_model in paths and f.related_model is not model
            ]
            if routes:
                best = min(routes, key=lambda r: (r[0], r[1].count("__")))[1]
                if paths.get(model) != best:
                    paths[model], changed = best, True
    return [(m, paths[m]) for m in _dependency_order(list(paths))]


def _dependency_order(owned: list[type[models.Model]]) -> list[type[models.Model]]:
    ordered: list[type[models.Model]] = []
    remaining = set(owned)
    while remaining:
        ready = sorted(
            (
                m
                for m in remaining
                if not any(
                    f.related_model in remaining and f.related_model is not m for f in _relations(m)
                )
            ),
            key=_label,
        )
        if not ready:
            raise TransferError(
                f"Records refer to each other in a circle: {sorted(map(_label, remaining))}"
            )
        ordered += ready
        remaining -= set(ready)
    return ordered


def unclassified_models() -> list[str]:
    """Project models that are neither shared, derived, of the instance, nor under a
    programme: a new model must be placed in one of these before it can travel."""
    owned = {_label(m) for m, _path in programme_models()}
    return sorted(
        _label(m)
        for m in apps.get_models()
        if m._meta.app_label in PROJECT_APPS
        and _label(m) not in {*owned, *REFERENCE, *DERIVED, *INSTANCE}
    )


def _schema(using: str = DEFAULT_DB_ALIAS) -> dict[str, list[str]]:
    applied: dict[str, list[str]] = defaultdict(list)
    for app, name in sorted(MigrationRecorder(connections[using]).applied_migrations()):
        applied[app].append(name)
    return dict(applied)
