"""Sign-in throttling against password guessing.

Failures are counted in the cache (Redis in a deployment, so every web process shares them):

- one username from one address: ``LOGIN_FAILURES_PER_ACCOUNT`` failures (5) within
  ``LOGIN_FAILURE_WINDOW_SECONDS`` (15 minutes) lock that username from that address for
  ``LOGIN_LOCKOUT_SECONDS`` (15 minutes);
- one username from anywhere: past ``LOGIN_FAILURES_PER_USERNAME`` failures, one attempt per
  ``LOGIN_SLOWDOWN_SECONDS``: guessing spread over many addresses is slowed, and the owner
  signing in from their own address is slowed too but never locked out by a stranger;
- one address, any username: ``LOGIN_FAILURES_PER_ADDRESS`` failures lock the address.

A successful sign-in clears its username's counts. The check sits in the authentication
backend, so the sign-in page, the admin's sign-in page and anything else calling
``authenticate`` with a request go through it; a throttled attempt raises ``LoginThrottled``
(a ``ValidationError``), which ``AuthenticationForm`` shows as the form's error. When the
cache does not answer, nobody is throttled and the failure is logged: a cache outage must not
lock everyone out nor turn sign-in into a server error."""

import hashlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import ngettext

log = logging.getLogger(__name__)
PREFIX = "signin"


class LoginThrottled(ValidationError):
    """Too many failed sign-ins; the message says for how long."""


def client_address(request: HttpRequest) -> str:
    """The sender's address. Behind N trusted proxies (``TRUSTED_PROXIES``), the N-th address
    from the right of X-Forwarded-For; anything further left was written by the sender."""
    proxies = int(getattr(settings, "TRUSTED_PROXIES", 0))
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if proxies and len(forwarded) >= proxies and forwarded[-proxies]:
        return forwarded[-proxies]
    return str(request.META.get("REMOTE_ADDR", ""))


def _digest(text: str) -> str:
    """Cache keys of fixed length and alphabet, whatever a username holds."""
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Attempt:
    username: str
    address: str

    @classmethod
    def of(cls, request: HttpRequest, username: str) -> "Attempt":
        return cls(username=username.strip().casefold(), address=client_address(request))

    def key(self, kind: str) -> str:
        user, address = _digest(self.username), _digest(self.address)
        return {
            "account": f"{PREFIX}:fail:{user}:{address}",
            "account-lock": f"{PREFIX}:lock:{user}:{address}",
            "username": f"{PREFIX}:fail-user:{user}",
            "username-slow": f"{PREFIX}:slow:{user}",
            "address": f"{PREFIX}:fail-addr:{address}",
            "address-lock": f"{PREFIX}:lock-addr:{address}",
        }[kind]


def _setting(name: str) -> int:
    return int(getattr(settings, name))


def _guarded[T](what: str, default: T, action: Callable[[], T]) -> T:
    """Run a cache operation; when the cache fails, log it and carry on unthrottled."""
    try:
        return action()
    except Exception as error:
        log.warning(
            "sign-in throttling unavailable (%s): %s: %s", what, type(error).__name__, error
        )
        return default


def _count(key: str, window: int) -> int:
    """One more failure within ``window`` seconds of the first; returns the count."""
    cache.add(key, 0, timeout=window)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        return 1


def _minutes(seconds: float) -> int:
    return max(1, math.ceil(seconds / 60))


def _refusal(attempt: Attempt, now: float) -> LoginThrottled | None:
    """Why this attempt may not be made now, if it may not."""
    locks = cache.get_many(
        [attempt.key("account-lock"), attempt.key("address-lock"), attempt.key("username-slow")]
    )
    account = locks.get(attempt.key("account-lock"))
    if account and account > now:
        minutes = _minutes(account - now)
        return LoginThrottled(
            ngettext(
                "Too many failed sign-in attempts for this username from your connection. "
                "Try again in %(minutes)d minute.",
                "Too many failed sign-in attempts for this username from your connection. "
                "Try again in %(minutes)d minutes.",
                minutes,
            )
            % {"minutes": minutes},
            code="throttled",
        )
    address = locks.get(attempt.key("address-lock"))
    if address and address > now:
        minutes = _minutes(address - now)
        return LoginThrottled(
            ngettext(
                "Too many failed sign-in attempts from your connection. "
                "Try again in %(minutes)d minute.",
                "Too many failed sign-in attempts from your connection. "
                "Try again in %(minutes)d minutes.",
                minutes,
            )
            % {"minutes": minutes},
            code="throttled",
        )
    slow = locks.get(attempt.key("username-slow"))
    if slow and slow > now:
        seconds = max(1, math.ceil(slow - now))
        return LoginThrottled(
            ngettext(
                "This username has had many failed sign-in attempts, so attempts are slowed "
                "down. Try again in %(seconds)d second.",
                "This username has had many failed sign-in attempts, so attempts are slowed "
                "down. Try again in %(seconds)d seconds.",
                seconds,
            )
            % {"seconds": seconds},
            code="throttled",
        )
    return None


def _record_failure(attempt: Attempt, now: float) -> None:
    window = _setting("LOGIN_FAILURE_WINDOW_SECONDS")
    lockout = _setting("LOGIN_LOCKOUT_SECONDS")
    if _count(attempt.key("account"), window) >= _setting("LOGIN_FAILURES_PER_ACCOUNT"):
        cache.set(attempt.key("account-lock"), now + lockout, timeout=lockout)
        cache.delete(attempt.key("account"))
        log.warning(
            "sign-in locked for a username from %s after repeated failures", attempt.address
        )
    if _count(attempt.key("username"), window) >= _setting("LOGIN_FAILURES_PER_USERNAME"):
        slowdown = _setting("LOGIN_SLOWDOWN_SECONDS")
        cache.set(attempt.key("username-slow"), now + slowdown, timeout=slowdown)
    if _count(attempt.key("address"), window) >= _setting("LOGIN_FAILURES_PER_ADDRESS"):
        cache.set(attempt.key("address-lock"), now + lockout, timeout=lockout)
        cache.delete(attempt.key("address"))
        log.warning("sign-in locked for address %s after repeated failures", attempt.address)


def _record_success(attempt: Attempt) -> None:
    """The owner proved who they are: their username's counts start again. The address's
    count stays, or one good account would let an address try many others."""
    cache.delete_many(
        [
            attempt.key("account"),
            attempt.key("account-lock"),
            attempt.key("username"),
            attempt.key("username-slow"),
        ]
    )


def throttle_refusal(request: HttpRequest, username: str) -> LoginThrottled | None:
    """Whether a sign-in attempt for ``username`` from this request is refused now."""
    attempt = Attempt.of(request, username)
    return _guarded("check", None, lambda: _refusal(attempt, time.time()))


class ThrottledModelBackend(ModelBackend):
    """Django's username/password backend behind the throttle. Calls without a request
    (management commands, tests' ``Client.login``) are not throttled: they are not someone on
    the network guessing."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if request is None or username is None:
            return super().authenticate(request, username=username, password=password, **kwargs)
        refusal = throttle_refusal(request, username)
        if refusal is not None:
            raise refusal
        user = super().authenticate(request, username=username, password=password, **kwargs)
        attempt = Attempt.of(request, username)
        if user is None:
            _guarded("record failure", None, lambda: _record_failure(attempt, time.time()))
        else:
            _guarded("record success", None, lambda: _record_success(attempt))
        return user

    async def aauthenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """The same throttle for asynchronous callers (ModelBackend's own would bypass it)."""
        return await sync_to_async(self.authenticate)(
            request, username=username, password=password, **kwargs
        )
