"""Accounts and sessions (issue 8 §5): sign-in throttling, password rules, session and CSRF
cookies, CSRF on every unsafe request, security headers and a Content-Security-Policy that no
page needs to break.

Throttle counts live in the cache, which outlives each test's database transaction and is
shared by the whole run (Redis in CI): every test signs in from addresses of its own and, when
it counts failures per username, as a user of its own."""

import itertools
import logging
import re
import time
import uuid
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.exceptions import NoReverseMatch
from django.urls.resolvers import RegexPattern

from budgets.models import Expenditure
from indicators.models import IndicatorValue, ProgressReport
from monitoring.models import ApiToken, ExportJob, Output
from surveys.models import Question, Survey
from surveys.services import invitations_issue
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
LOGIN = "/accounts/login/"
WRONG = "not-the-password-0"
LOCKED = "Too many failed sign-in attempts for this username from your connection."
INVALID = "Please enter a correct username and password"


def an_address() -> str:
    """A documentation address (RFC 5737) no other test signs in from."""
    n = uuid.uuid4().int
    return f"198.51.{n % 250}.{(n >> 8) % 250 + 1}"


def a_user(**extra):
    return get_user_model().objects.create_user(
        f"alice-{uuid.uuid4().hex[:10]}", password=PASSWORD, **extra
    )


def sign_in(username: str, password: str, address: str, path: str = LOGIN, **headers):
    browser = Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR=address, **headers)
    response = browser.post(path, {"username": username, "password": password})
    return response, browser


def signed_in(browser: Client) -> bool:
    return "_auth_user_id" in browser.session


def form_error(response) -> str:
    return " ".join(response.context["form"].non_field_errors())


# --- throttling -------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_locks_a_username_from_one_address_after_five_failures():
    user, address = a_user(), an_address()
    for _ in range(5):
        response, _browser = sign_in(user.username, WRONG, address)
        assert response.status_code == 200
        assert INVALID in form_error(response)

    response, browser = sign_in(user.username, PASSWORD, address)

    assert response.status_code == 200
    assert LOCKED in form_error(response)
    assert "Try again in 15 minutes." in form_error(response)
    assert not signed_in(browser)
    assert LOCKED in response.content.decode()  # shown on the page, not only in the form


@pytest.mark.django_db
def test_four_failures_do_not_lock():
    user, address = a_user(), an_address()
    for _ in range(4):
        sign_in(user.username, WRONG, address)
    response, browser = sign_in(user.username, PASSWORD, address)
    assert response.status_code == 302
    assert signed_in(browser)


@pytest.mark.django_db
def test_the_lock_covers_that_address_only():
    user, address = a_user(), an_address()
    for _ in range(5):
        sign_in(user.username, WRONG, address)

    response, browser = sign_in(user.username, PASSWORD, an_address())

    assert response.status_code == 302
    assert signed_in(browser)


@pytest.mark.django_db
def test_the_username_is_matched_whatever_its_case_and_spaces():
    user, address = a_user(), an_address()
    for name in (user.username.upper(), f" {user.username}", user.username.title()) * 2:
        sign_in(name, WRONG, address)
    response, _browser = sign_in(user.username, PASSWORD, address)
    assert LOCKED in form_error(response)


@pytest.mark.django_db
def test_a_successful_sign_in_starts_the_count_again():
    user, address = a_user(), an_address()
    for _ in range(4):
        sign_in(user.username, WRONG, address)
    assert sign_in(user.username, PASSWORD, address)[0].status_code == 302
    for _ in range(4):
        sign_in(user.username, WRONG, address)

    response, browser = sign_in(user.username, PASSWORD, address)

    assert response.status_code == 302
    assert signed_in(browser)


@pytest.mark.django_db
def test_unknown_usernames_are_throttled_like_known_ones():
    address, name = an_address(), f"nobody-{uuid.uuid4().hex[:8]}"
    for _ in range(5):
        sign_in(name, WRONG, address)
    response, _browser = sign_in(name, WRONG, address)
    assert LOCKED in form_error(response)


@override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}})
@pytest.mark.django_db
def test_the_lock_ends_after_fifteen_minutes(monkeypatch):
    user, address = a_user(), an_address()
    for _ in range(5):
        sign_in(user.username, WRONG, address)
    assert LOCKED in form_error(sign_in(user.username, PASSWORD, address)[0])

    later = time.time() + 15 * 60 + 1
    monkeypatch.setattr(time, "time", lambda: later)  # the cache's clock and the throttle's
    response, browser = sign_in(user.username, PASSWORD, address)

    assert response.status_code == 302
    assert signed_in(browser)


@override_settings(LOGIN_FAILURES_PER_USERNAME=6)
@pytest.mark.django_db
def test_guessing_one_username_from_many_addresses_is_slowed():
    user = a_user()
    for _ in range(6):
        sign_in(user.username, WRONG, an_address())

    response, browser = sign_in(user.username, PASSWORD, an_address())

    assert not signed_in(browser)
    assert "attempts are slowed down. Try again in" in form_error(response)
    assert re.search(r"Try again in \d+ seconds?\.", form_error(response))


@override_settings(LOGIN_FAILURES_PER_ADDRESS=6)
@pytest.mark.django_db
def test_one_address_trying_many_usernames_is_locked_for_every_username():
    address = an_address()
    for _ in range(6):
        sign_in(f"guess-{uuid.uuid4().hex[:8]}", WRONG, address)
    user = a_user()

    response, browser = sign_in(user.username, PASSWORD, address)

    assert not signed_in(browser)
    assert "Too many failed sign-in attempts from your connection." in form_error(response)
    assert sign_in(user.username, PASSWORD, an_address())[0].status_code == 302


@pytest.mark.django_db
def test_the_admin_sign_in_page_is_throttled_too():
    staff, address = a_user(is_staff=True), an_address()
    for _ in range(5):
        sign_in(staff.username, WRONG, address, path="/admin/login/")

    response, browser = sign_in(staff.username, PASSWORD, address, path="/admin/login/")

    assert response.status_code == 200
    assert LOCKED in response.content.decode()
    assert not signed_in(browser)


@override_settings(TRUSTED_PROXIES=1)
@pytest.mark.django_db
def test_behind_a_proxy_the_address_it_saw_counts_not_what_the_sender_wrote():
    user, proxy, sender = a_user(), an_address(), an_address()
    for n in range(5):  # the sender writes a new address in front each time
        sign_in(user.username, WRONG, proxy, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}, {sender}")

    locked, _browser = sign_in(
        user.username, PASSWORD, proxy, HTTP_X_FORWARDED_FOR=f"10.9.9.9, {sender}"
    )
    other, _browser = sign_in(user.username, PASSWORD, proxy, HTTP_X_FORWARDED_FOR=an_address())

    assert LOCKED in form_error(locked)
    assert other.status_code == 302


@override_settings(
    CACHES={
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
)
@pytest.mark.django_db
def test_with_the_cache_down_sign_in_still_works_unthrottled_and_says_so_in_the_log(caplog):
    user, address = a_user(), an_address()
    with caplog.at_level(logging.WARNING, logger="monitoring.auth"):
        for _ in range(6):
            failed, _browser = sign_in(user.username, WRONG, address)
            assert failed.status_code == 200
            assert INVALID in form_error(failed)
        response, browser = sign_in(user.username, PASSWORD, address)

    assert response.status_code == 302
    assert signed_in(browser)
    assert any("sign-in throttling unavailable" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db
def test_calls_without_a_request_are_not_throttled():
    """Management commands and Client.login authenticate without a request."""
    user, address = a_user(), an_address()
    for _ in range(5):
        sign_in(user.username, WRONG, address)
    assert Client().login(username=user.username, password=PASSWORD)


@pytest.mark.django_db
def test_asynchronous_sign_in_goes_through_the_same_throttle():
    from asgiref.sync import async_to_sync
    from django.contrib.auth import aauthenticate
    from django.test import RequestFactory

    user, address = a_user(), an_address()
    for _ in range(5):
        sign_in(user.username, WRONG, address)
    request = RequestFactory().post(LOGIN, REMOTE_ADDR=address)
    with pytest.raises(ValidationError, match="Too many failed sign-in attempts"):
        async_to_sync(aauthenticate)(request, username=user.username, password=PASSWORD)


# --- passwords ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Tr0ub4dor&3", "at least 12 characters"),
        ("password1234", "too common"),
        ("839274619305", "entirely numeric"),
        ("maria.gonzalez.2026", "too similar to the username"),
    ],
)
@pytest.mark.django_db
def test_weak_passwords_are_refused(password, message):
    user = get_user_model()(username="maria.gonzalez", email="maria@example.org")
    with pytest.raises(ValidationError) as info:
        validate_password(password, user)
    assert any(message in m for m in info.value.messages), info.value.messages


@pytest.mark.django_db
def test_a_long_uncommon_password_is_accepted():
    user = get_user_model()(username="maria.gonzalez", email="maria@example.org")
    validate_password("lluvia-sobre-valparaíso-en-abril", user)


def test_no_secret_is_in_the_code():
    """Settings read secrets from the environment; the files that hold them locally (the
    generated key, a .env) are never committed."""
    ignored = (ROOT / ".gitignore").read_text().split()
    assert "/.secret_key" in ignored and "/.env" in ignored
    for module in (ROOT / "monitoring" / "settings").rglob("*.py"):
        text = module.read_text()
        assert not re.search(r"SECRET_KEY\s*=\s*[\"']", text), module
        assert not re.search(r"PASSWORD\s*=\s*[\"'][^\"']", text), module


# --- sessions, cookies and headers --------------------------------------------------------


def _cookie_header(response, name: str) -> str:
    return response.cookies[name].output().lower()


@pytest.mark.django_db
def test_the_session_cookie_is_http_only_same_site_lax_and_lasts_a_working_day():
    user = a_user()
    response, _browser = sign_in(user.username, PASSWORD, an_address())
    session = _cookie_header(response, "sessionid")
    assert "httponly" in session
    assert "samesite=lax" in session
    assert f"max-age={12 * 60 * 60}" in session


@pytest.mark.django_db
def test_the_csrf_cookie_is_http_only_and_same_site_lax(client):
    response = client.get(LOGIN)
    csrf = _cookie_header(response, "csrftoken")
    assert "httponly" in csrf
    assert "samesite=lax" in csrf


@pytest.mark.django_db
def test_every_response_carries_the_security_headers(client, rco_viewer):
    client.force_login(rco_viewer)
    for path in (LOGIN, "/programmes/CIUDADES/", "/api/v1/programmes/", "/healthz"):
        response = client.get(path)
        assert response["X-Content-Type-Options"] == "nosniff", path
        assert response["Referrer-Policy"] == "same-origin", path
        assert response["Cross-Origin-Opener-Policy"] == "same-origin", path
        assert response["X-Frame-Options"] == "DENY", path
        assert response["Cross-Origin-Resource-Policy"] == "same-origin", path
        policy = response["Permissions-Policy"]
        for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
            assert feature in policy, path


# --- CSRF on every unsafe request ----------------------------------------------------------

# Values for the parameters of every address, tried in turn until one reverses.
CANDIDATES = {
    "code": ["CIUDADES"],
    "format": ["json", ".json"],
    "app_label": ["auth", "monitoring"],
}
FALLBACK = ["1", "x"]


def _parameters(pattern) -> list[str]:
    converters = getattr(pattern.pattern, "converters", None)
    if converters:
        return list(converters)
    return list(pattern.pattern.regex.groupindex)


def _fragment(pattern, candidates: dict[str, list[str]]) -> str:
    """A sample of what one unnamed pattern matches (named ones are reversed instead)."""
    if isinstance(pattern.pattern, RegexPattern) and pattern.pattern.regex.match("no-such-thing/"):
        return "no-such-thing/"  # a catch-all
    text = str(pattern.pattern).removeprefix("^").removesuffix("$")
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: candidates.get(m[1], FALLBACK)[0], text)


def _patterns(patterns=None, namespace="", params=(), prefix=""):
    """Every address the site answers: (name, sample path of an unnamed one, parameters)."""
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            fragment = prefix + _fragment(p, CANDIDATES)
            yield from _patterns(p.url_patterns, ns, (*params, *_parameters(p)), fragment)
        elif isinstance(p, URLPattern):
            name = f"{namespace}{p.name}" if p.name else None
            yield name, "/" + prefix + _fragment(p, CANDIDATES), [*params, *_parameters(p)]


def _reverse(name: str, params: list[str], candidates: dict[str, list[str]]) -> str | None:
    choices = [candidates.get(param, FALLBACK) for param in params]
    for values in itertools.product(*choices):
        try:
            return reverse(name, kwargs=dict(zip(params, values, strict=True)))
        except NoReverseMatch:
            continue
    return None


def every_address(
    candidates: dict[str, list[str]] = CANDIDATES, overrides: dict | None = None
) -> list[tuple[str, str]]:
    """(name, path) of every address with parameter values from ``candidates``; unnamed ones
    (the admin's shortcuts, the API's catch-all) by a sample path under their route."""
    found, missing = [], []
    for name, sample, params in _patterns():
        if name is None:
            assert resolve(sample), sample
            found.append((f"unnamed {sample}", sample))
            continue
        own = {k: [v] for k, v in (overrides or {}).get(name, {}).items()}
        path = _reverse(name, params, {**candidates, **own})
        if path is None:
            missing.append(name)
        else:
            found.append((name, path))
    assert not missing, f"no sample parameters reverse these addresses: {missing}"
    return found


def refused_for_csrf(response) -> bool:
    return response.status_code == 403 and b"CSRF" in response.content


def refused(response, method: str) -> bool:
    """Refused by the CSRF check, or by a view that takes no such method whatever the token
    (the API docs page renders its 403 without the reason; the API's catch-all is a 404)."""
    if refused_for_csrf(response):
        return True
    allow = response.get("Allow")
    if allow is not None and method.upper() not in allow:
        return response.status_code in (403, 405)
    return response.status_code == 404 and response.wsgi_request.path.startswith("/api/v1/no-")


def a_csrf_browser(user) -> Client:
    """A signed-in browser holding a CSRF cookie (as any visitor does after one page), whose
    requests carry no token: what a forged cross-site request looks like."""
    browser = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(user)
    browser.cookies["csrftoken"] = _get_new_csrf_string()
    return browser


@pytest.mark.django_db
def test_every_address_refuses_an_unsafe_request_without_a_csrf_token(rco_viewer):
    browser = a_csrf_browser(rco_viewer)
    accepted = []
    addresses = every_address()
    for (name, path), method in itertools.product(addresses, ("post", "put", "patch", "delete")):
        response = getattr(browser, method)(path, {}, content_type="application/json")
        if not refused(response, method):
            accepted.append((method.upper(), name, path, response.status_code))
    assert not accepted, f"accepted without a CSRF token: {accepted}"
    assert len(addresses) > 100  # the whole site was walked, admin and API included


@pytest.mark.django_db
def test_an_anonymous_post_without_a_token_is_refused_too(ciudades):
    browser = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    browser.cookies["csrftoken"] = _get_new_csrf_string()
    user = a_user()
    for path in (LOGIN, "/admin/login/", "/i18n/setlang/"):
        response = browser.post(path, {"username": user.username, "password": PASSWORD})
        assert refused_for_csrf(response), path
    assert "_auth_user_id" not in browser.session


@pytest.mark.django_db
def test_with_the_token_the_same_requests_pass_the_csrf_check(rco_viewer):
    """The control: the refusals above are the CSRF check's, not something else's."""
    browser = a_csrf_browser(rco_viewer)
    token = browser.cookies["csrftoken"].value  # the secret itself is a valid token too
    headers = {"X-CSRFToken": token}

    language = browser.post("/i18n/setlang/", {"language": "es", "next": "/"}, headers=headers)
    api = browser.post(
        "/api/v1/reports/999999/submit/", {}, content_type="application/json", headers=headers
    )

    assert language.status_code == 302
    assert api.status_code == 404
    assert not refused_for_csrf(api)


@pytest.mark.django_db
def test_the_api_with_a_session_needs_the_token_but_a_token_client_does_not(ciudades, rco_viewer):
    session = a_csrf_browser(rco_viewer)
    refused = session.post("/api/v1/reports/999999/submit/", {}, content_type="application/json")
    _token, key = ApiToken.issue(
        user=rco_viewer, programme=ciudades, scope="write", days=1, name="csrf test"
    )
    machine = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Token {key}")
    answered = machine.post("/api/v1/reports/999999/submit/", {}, content_type="application/json")

    assert refused_for_csrf(refused)
    assert answered.status_code == 404  # the view ran: no report with that id


# --- Content-Security-Policy and no inline script -------------------------------------------


class _ScriptFinder(HTMLParser):
    """Inline scripts (a <script> without src that is not a JSON data block) and inline event
    handlers (on* attributes), with the tag each sits in."""

    def __init__(self) -> None:
        super().__init__()
        self.inline: list[str] = []
        self.handlers: list[str] = []
        self.javascript_urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            kind = (attributes.get("type") or "").lower()
            if not attributes.get("src") and kind not in (
                "application/json",
                "application/ld+json",
            ):
                self.inline.append(self.get_starttag_text() or tag)
        for name, value in attrs:
            if name.lower().startswith("on"):
                self.handlers.append(f"<{tag} {name}=…>")
            if value and value.strip().lower().startswith("javascript:"):
                self.javascript_urls.append(f"<{tag} {name}={value}>")


def script_problems(html: str) -> list[str]:
    finder = _ScriptFinder()
    finder.feed(html)
    return finder.inline + finder.handlers + finder.javascript_urls


def csp_problems(response) -> list[str]:
    policy = response.get("Content-Security-Policy", "")
    if not policy:
        return ["no Content-Security-Policy header"]
    directives = {
        d.strip().split()[0]: d.strip().split()[1:] for d in policy.split(";") if d.strip()
    }
    scripts = directives.get("script-src", directives.get("default-src", []))
    problems = []
    if not scripts:
        problems.append("no script-src")
    for bad in ("'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"):
        if bad in scripts:
            problems.append(f"script-src allows {bad}")
    if directives.get("object-src") != ["'none'"]:
        problems.append("object-src is not 'none'")
    if "frame-ancestors" not in directives:
        problems.append("no frame-ancestors")
    return problems


def a_public_survey(programme) -> Survey:
    """An open questionnaire with skip logic, so the public page draws all it can."""
    survey = Survey.objects.create(
        programme=programme,
        code="CSP-CHECK",
        kind=Survey.Kind.RESPONSES,
        title_es="Encuesta",
        title_en="Survey",
        access=Survey.Access.OPEN,
        status=Survey.Status.OPEN,
        public_key=f"csp-{uuid.uuid4().hex[:12]}",
        attributes=["city", "sex"],
    )
    asked = Question.objects.create(
        survey=survey, code="Q1", order=1, type="yes_no", text_es="¿Sí?", text_en="Yes?"
    )
    Question.objects.create(
        survey=survey,
        code="Q2",
        order=2,
        type="text",
        text_es="¿Por qué?",
        text_en="Why?",
        required=False,
        show_if=asked,
        show_if_values=["1"],
    )
    return survey


def sample_pages(programme, user) -> tuple[dict[str, list[str]], dict[str, dict[str, str]]]:
    """Parameters naming real objects of Ciudades, so each page renders what it is for, and
    per-address overrides where two addresses name different kinds of object alike."""
    joint = (
        ProgressReport.objects.filter(programme=programme, agency__isnull=True, city__isnull=False)
        .select_related("period", "city")
        .first()
    )
    assert joint is not None
    survey = a_public_survey(programme)
    assessment = Survey.objects.get(programme=programme, kind=Survey.Kind.ASSESSMENT)
    _invitation, invitation_token = invitations_issue(survey=survey, labels=["csp"])[0]
    job = ExportJob.objects.create(
        programme=programme, requested_by=user, kind="results", fmt="csv"
    )
    token, _key = ApiToken.issue(user=user, programme=programme, scope="read", days=1, name="x")
    line = programme.budget_lines.earliest("pk")
    expenditure = Expenditure.objects.filter(line__programme=programme).earliest("pk")
    value = IndicatorValue.objects.filter(report=joint).first()
    samples = {
        "code": programme.code,
        "period": joint.period.code,
        "agency": "JOINT",
        "city": joint.city.code if joint.city else "",
        "value_id": str(value.pk if value else 1),
        "line_id": str(line.pk),
        "expenditure_id": str(expenditure.pk),
        "survey_code": survey.code,
        "wave": str(survey.wave),
        "key": survey.public_key,
        "token": invitation_token,
        "job_id": str(job.pk),
        "token_id": str(token.pk),
        "output_code": Output.objects.filter(programme=programme).earliest("pk").code,
        "indicator_code": "1.4.A",
    }
    overrides = {"survey_assessment:detail": {"survey_code": assessment.code}}
    return {param: [value] for param, value in samples.items()}, overrides


@pytest.mark.django_db
def test_no_page_the_rco_sees_has_inline_script_and_every_one_carries_the_csp(ciudades, rco_viewer):
    samples, overrides = sample_pages(ciudades, rco_viewer)
    browser = Client(HTTP_ACCEPT_LANGUAGE="en", HTTP_ACCEPT="text/html")
    browser.force_login(rco_viewer)
    problems, html_pages = [], []
    for name, path in every_address({**CANDIDATES, **samples}, overrides):
        if name in ("logout", "set_language") or path.startswith("/admin/"):
            continue  # signing out ends the walk; the admin is walked by its own test
        response = browser.get(path)
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        html_pages.append(name)
        body = b"".join(response) if response.streaming else response.content
        for problem in script_problems(body.decode()) + csp_problems(response):
            problems.append(f"{name} {path} [{response.status_code}]: {problem}")
    assert not problems, "\n".join(problems)
    expected = {
        "home", "programme_detail", "dashboards:overview", "dashboards:indicator",
        "reports:calendar", "reports:report", "budget:dashboard", "surveys:results",
        "survey_assessment:detail", "budget_entry:line", "budget_entry:expenditure",
        "survey_public:open", "survey_public:invitation", "exports:page", "exports:job",
        "tokens:list", "api:docs", "api:programme-list", "activities:inventory",
    }  # fmt: skip
    assert expected <= set(html_pages), expected - set(html_pages)


# The admin has no template or widget of ours: its shared templates (index, sign-in, change
# list, add and change forms with inlines, password change) are drawn through a few models.
ADMIN_MODELS = ["monitoring/programme", "indicators/indicator", "surveys/survey", "auth/user"]


@pytest.mark.django_db
def test_the_admin_pages_have_no_inline_script_either(ciudades, programme_admin):
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(programme_admin)
    paths = ["/admin/", "/admin/password_change/"]
    for model in ADMIN_MODELS:
        changelist = f"/admin/{model}/"
        page = browser.get(changelist).content.decode()
        first = re.search(rf'href="({re.escape(changelist)}\d+/change/)[^"]*"', page)
        assert first, changelist
        paths += [changelist, changelist + "add/", first.group(1)]
    problems = []
    for path in paths:
        response = browser.get(path)
        assert response.status_code in (200, 403), path  # some models are read-only here
        for problem in script_problems(response.content.decode()) + csp_problems(response):
            problems.append(f"{path}: {problem}")
    signed_out = Client(HTTP_ACCEPT_LANGUAGE="en").get("/admin/login/")
    for problem in script_problems(signed_out.content.decode()) + csp_problems(signed_out):
        problems.append(f"/admin/login/: {problem}")
    assert not problems, "\n".join(problems)


def test_the_policy_checker_finds_what_it_must():
    """The checks above would catch an inline script, a handler and a javascript: link."""
    html = (
        '<script>alert(1)</script><script src="/static/x.js"></script>'
        '<script type="application/json" id="d">{}</script>'
        '<button onclick="go()">x</button><a href="javascript:go()">y</a>'
    )
    assert len(script_problems(html)) == 3
