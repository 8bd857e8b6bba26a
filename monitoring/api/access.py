"""Which programmes an API request may see, and with what roles. A token narrows its user's
access to the token's programme; what the user may do inside it is decided by the same
predicates as the web pages (``indicators.permissions``)."""

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.request import Request

from indicators.permissions import Access, access_for
from monitoring.models import Programme

from .authentication import request_token


def visible_programmes(request: Request) -> QuerySet[Programme]:
    user = request.user
    if not user.is_authenticated or not user.is_active:
        return Programme.objects.none()
    qs = Programme.objects.all()
    if not user.is_superuser:
        qs = qs.filter(memberships__user=user).distinct()
    token = request_token(request)
    if token is not None:
        qs = qs.filter(pk=token.programme_id)
    return qs.order_by("code")


def programme_access(request: Request, programme: Programme) -> Access:
    """The requester's access to ``programme``; none at all outside a token's programme."""
    token = request_token(request)
    if token is not None and token.programme_id != programme.pk:
        return Access(user_id=None)
    return access_for(request.user, programme)


def programme_from_query(request: Request, *, required: bool = True) -> Programme | None:
    """The programme named by ``?programme=CODE``: one the requester may see, or 404. Without
    the parameter: the token's programme, else the only visible one, else a clear 400."""
    code = request.query_params.get("programme")
    visible = visible_programmes(request)
    if code:
        programme = visible.filter(code=code).first()
        if programme is None:
            raise Http404(_("No programme %(code)s that you may see.") % {"code": code})
        return programme
    token = request_token(request)
    if token is not None:
        return token.programme
    if not required:
        return None
    only = list(visible[:2])
    if len(only) == 1:
        return only[0]
    raise exceptions.ValidationError(
        {"programme": [_("Say which programme, e.g. ?programme=CIUDADES.")]}
    )
