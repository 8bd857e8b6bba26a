"""The admin, usable by a programme admin: each programme-scoped model shows and accepts only
the programmes where the user is a programme admin; reference data (countries, cities,
agencies, categories) is read-only to them. Superusers see everything."""

from functools import reduce
from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import Membership, Programme

# model -> lookup path from that model to its Programme ("" for Programme itself)
PROGRAMME_PATHS: dict[type[models.Model], str] = {Programme: ""}


def scoped(model: type[models.Model], path: str) -> None:
    PROGRAMME_PATHS[model] = path


def administered_programmes(user: Any) -> QuerySet[Programme]:
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return Programme.objects.none()
    if user.is_superuser:
        return Programme.objects.all()
    return Programme.objects.filter(
        memberships__user=user, memberships__role=Membership.Role.ADMIN
    ).distinct()


def is_programme_admin(user: Any) -> bool:
    """Asked for every model of every admin page (its menu): answered once per request, kept
    on the request's user object."""
    if user.is_superuser:
        return True
    known = getattr(user, "_is_programme_admin", None)
    if known is None:
        known = administered_programmes(user).exists()
        if user.is_authenticated:
            user._is_programme_admin = known
    return bool(known)


def programme_of(obj: models.Model) -> Programme | None:
    path = PROGRAMME_PATHS[type(obj)]
    if not path:
        return obj  # type: ignore[return-value]
    return reduce(
        lambda o, attr: getattr(o, attr) if o is not None else None, path.split("__"), obj
    )  # type: ignore[arg-type, return-value]


def limit_to_programmes(qs: QuerySet, user: Any) -> QuerySet:
    if user.is_superuser:
        return qs
    path = PROGRAMME_PATHS.get(qs.model)
    if path is None:
        return qs
    lookup = f"{path}__in" if path else "pk__in"
    return qs.filter(**{lookup: administered_programmes(user)})


def _scoped_filter(model: type[models.Model], spec: Any) -> Any:
    """A filter by a related object, narrowed to the objects of the rows the user may see."""
    if isinstance(spec, str) and get_fields_from_path(model, spec)[-1].is_relation:
        return (spec, admin.RelatedOnlyFieldListFilter)
    return spec


class ProgrammeScopedAdmin(admin.ModelAdmin):
    """For models that belong to one programme (directly or through a parent)."""

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return limit_to_programmes(super().get_queryset(request), request.user)

    def get_list_filter(self, request: HttpRequest) -> Any:
        # The stock filters offer every programme's objects (their names, titles).
        filters = super().get_list_filter(request)
        if request.user.is_superuser:  # type: ignore[union-attr]
            return filters
        return [_scoped_filter(self.model, spec) for spec in filters]

    def _may_touch(self, request: HttpRequest, obj: models.Model | None) -> bool:
        user = request.user
        if user.is_superuser:  # type: ignore[union-attr]
            return True
        if not is_programme_admin(user):
            return False
        if obj is None:
            return True
        programme = programme_of(obj)
        return (
            programme is not None and administered_programmes(user).filter(pk=programme.pk).exists()
        )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_programme_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_touch(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_programme_admin(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_touch(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_touch(request, obj)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and getattr(field, "queryset", None) is not None:
            field.queryset = limit_to_programmes(field.queryset, request.user)  # type: ignore[arg-type]
        return field

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        """The outcomes, outputs, indicators… offered are those of the admin's programmes."""
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and getattr(field, "queryset", None) is not None:
            field.queryset = limit_to_programmes(field.queryset, request.user)  # type: ignore[arg-type]
        return field

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not self._may_touch(request, obj):
            raise PermissionDenied
        super().save_model(request, obj, form, change)


class ScopedInline(admin.TabularInline):
    """An inline whose foreign keys offer only the admin's programmes' objects."""

    extra = 0

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and getattr(field, "queryset", None) is not None:
            field.queryset = limit_to_programmes(field.queryset, request.user)  # type: ignore[arg-type]
        return field

    def _allowed(self, request: HttpRequest) -> bool:
        return is_programme_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)


class ReferenceDataAdmin(admin.ModelAdmin):
    """Shared reference data: programme admins read it; superusers maintain it."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_programme_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_programme_admin(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)  # type: ignore[union-attr]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)  # type: ignore[union-attr]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)  # type: ignore[union-attr]


class ReadOnlyScopedAdmin(ProgrammeScopedAdmin):
    """Records written only by services (the workflow, the audit trail): visible, not editable."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
