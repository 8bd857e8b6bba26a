"""Machine clients authenticate with ``Authorization: Token <key>`` (``Bearer`` works too)."""

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from monitoring.models import ApiToken
from monitoring.models.tokens import digest

KEYWORDS = (b"token", b"bearer")
# Writing the last-use time on every request would turn each read into a write.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class TokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                _("Send the header as 'Authorization: Token <key>'.")
            )
        try:
            key = parts[1].decode()
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(_("The token is not valid.")) from exc
        token = (
            ApiToken.objects.select_related("user", "programme")
            .filter(key_digest=digest(key))
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed(_("The token is not valid."))
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This token has been revoked."))
        if token.is_expired:
            raise exceptions.AuthenticationFailed(
                _("This token expired on %(date)s.") % {"date": f"{token.expires_at:%Y-%m-%d}"}
            )
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("The token's user account is disabled."))
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Token realm="api"'


def request_token(request: Request) -> ApiToken | None:
    """The token the request authenticated with, if any (None for a browser session)."""
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ApiToken) else None
