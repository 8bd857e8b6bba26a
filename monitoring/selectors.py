"""Reads, scoped to the viewer. Views never query models directly."""

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from .models import Membership, Outcome, Output, Programme
from .permissions import Viewer, can_view_programme


def programmes_for_user(*, user: Viewer) -> QuerySet[Programme]:
    """The programmes the user belongs to (every programme for a superuser)."""
    if not user.is_authenticated or not user.is_active:
        return Programme.objects.none()
    qs = Programme.objects.all()
    if not user.is_superuser:
        qs = qs.filter(memberships__user=user).distinct()
    return qs.order_by("code")


def programme_get_for_user(*, user: Viewer, code: str) -> Programme:
    """The programme with this code, if the user may see it; 404 otherwise (its existence is
    not disclosed to outsiders)."""
    programme = Programme.objects.filter(code=code).first()
    if programme is None or not can_view_programme(user, programme):
        raise Http404
    return programme


def memberships_for_user(*, user: Viewer) -> QuerySet[Membership]:
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(user=user).select_related("programme", "agency", "city")


def outcomes_with_outputs(*, programme: Programme) -> QuerySet[Outcome]:
    return (
        Outcome.objects.filter(programme=programme)
        .order_by("order", "code")
        .prefetch_related(
            Prefetch(
                "outputs",
                queryset=Output.objects.order_by("order", "code").prefetch_related("cities"),
            )
        )
    )
