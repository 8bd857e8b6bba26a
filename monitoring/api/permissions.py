"""The default permission of every endpoint (rest_framework.views must not be imported here:
DRF imports this module while it is itself being imported)."""

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _
from rest_framework import permissions
from rest_framework.request import Request

from .authentication import request_token

if TYPE_CHECKING:
    from rest_framework.views import APIView


class TokenScope(permissions.BasePermission):
    """Signed in (session or token); a read-only token cannot change anything."""

    message = _("This token can only read. Issue a token with the write scope to change data.")

    def has_permission(self, request: Request, view: "APIView") -> bool:
        if not (request.user and request.user.is_authenticated and request.user.is_active):
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        token = request_token(request)
        return token is None or token.can_write
