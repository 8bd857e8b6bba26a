"""Settings: security (issue 8). base.py calls ``apply(globals())`` at its end: read what base
defines from ``s`` and add or change entries in it.

Accounts and sessions: sign-in throttling (``monitoring.auth``), password rules, session and
CSRF cookies, and the security headers every response carries. Production adds what only
makes sense behind TLS (secure cookies, HSTS, the SSL redirect) in ``production.py``."""

from typing import Any

_VALIDATION = "django.contrib.auth.password_validation."


def apply(s: dict[str, Any]) -> None:
    env = s["env"]
    _sign_in(s, env)
    _passwords(s)
    _sessions(s, env)
    _headers(s)


def _sign_in(s: dict[str, Any], env: Any) -> None:
    """Every password check goes through the throttled backend: the sign-in page, the admin's
    sign-in page, and anything else that calls ``authenticate`` with a request."""
    s["AUTHENTICATION_BACKENDS"] = ["monitoring.auth.ThrottledModelBackend"]
    # This many failures for one username from one address within the window lock that
    # username from that address for LOGIN_LOCKOUT_SECONDS.
    s["LOGIN_FAILURES_PER_ACCOUNT"] = env.int("LOGIN_FAILURES_PER_ACCOUNT", default=5)
    s["LOGIN_FAILURE_WINDOW_SECONDS"] = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=15 * 60)
    s["LOGIN_LOCKOUT_SECONDS"] = env.int("LOGIN_LOCKOUT_SECONDS", default=15 * 60)
    # Guessing spread over many addresses: past this many failures for one username from
    # anywhere, that username is slowed to one attempt per LOGIN_SLOWDOWN_SECONDS (slowed,
    # not locked, so an attacker cannot lock its owner out).
    s["LOGIN_FAILURES_PER_USERNAME"] = env.int("LOGIN_FAILURES_PER_USERNAME", default=20)
    s["LOGIN_SLOWDOWN_SECONDS"] = env.int("LOGIN_SLOWDOWN_SECONDS", default=60)
    # One address trying many usernames (credential stuffing): locked for every username.
    s["LOGIN_FAILURES_PER_ADDRESS"] = env.int("LOGIN_FAILURES_PER_ADDRESS", default=50)
    # Behind N trusted proxies the client's address is the N-th from the right of
    # X-Forwarded-For (the survey page's setting, unless this one is given).
    s["TRUSTED_PROXIES"] = env.int(
        "DJANGO_TRUSTED_PROXIES", default=s.get("SURVEY_TRUSTED_PROXIES", 0)
    )


def _passwords(s: dict[str, Any]) -> None:
    s["AUTH_PASSWORD_VALIDATORS"] = [
        {"NAME": _VALIDATION + "UserAttributeSimilarityValidator"},
        {"NAME": _VALIDATION + "MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
        {"NAME": _VALIDATION + "CommonPasswordValidator"},
        {"NAME": _VALIDATION + "NumericPasswordValidator"},
    ]


def _sessions(s: dict[str, Any], env: Any) -> None:
    s["SESSION_COOKIE_HTTPONLY"] = True
    s["SESSION_COOKIE_SAMESITE"] = "Lax"
    # A working day; a shared office computer should not stay signed in for two weeks.
    s["SESSION_COOKIE_AGE"] = env.int("DJANGO_SESSION_COOKIE_AGE", default=12 * 60 * 60)
    s["SESSION_EXPIRE_AT_BROWSER_CLOSE"] = env.bool(
        "DJANGO_SESSION_EXPIRE_AT_BROWSER_CLOSE", default=False
    )
    # No script reads the CSRF cookie: forms carry the token, and the API's scripts (Swagger
    # UI, the browsable API) get it from the page.
    s["CSRF_COOKIE_HTTPONLY"] = True
    s["CSRF_COOKIE_SAMESITE"] = "Lax"


def _headers(s: dict[str, Any]) -> None:
    s["SECURE_CONTENT_TYPE_NOSNIFF"] = True
    s["SECURE_REFERRER_POLICY"] = "same-origin"
    s["SECURE_CROSS_ORIGIN_OPENER_POLICY"] = "same-origin"
    s["X_FRAME_OPTIONS"] = "DENY"
    # Powerful browser features no page of ours uses, switched off for every page.
    s["PERMISSIONS_POLICY"] = {
        feature: []
        for feature in (
            "accelerometer",
            "autoplay",
            "camera",
            "display-capture",
            "geolocation",
            "gyroscope",
            "magnetometer",
            "microphone",
            "midi",
            "payment",
            "usb",
        )
    }
    middleware: list[str] = s["MIDDLEWARE"]
    headers = "monitoring.headers.SecurityHeadersMiddleware"
    if headers not in middleware:
        middleware.insert(
            middleware.index("django.middleware.security.SecurityMiddleware") + 1, headers
        )
