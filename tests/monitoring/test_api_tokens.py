"""API tokens: authentication with a token and every way it is refused, one programme per
token, read tokens that cannot write, last use, throttling per token; the account page that
lists, issues (the key shown once) and revokes them; the ``issue_token`` command."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.urls import include, path
from django.utils import timezone
from rest_framework.test import APIClient

from monitoring.api.throttling import TokenRateThrottle
from monitoring.models import ApiToken, Membership, Outcome, Programme
from monitoring.models.tokens import digest

API = "/api/v1"
TOKENS = "/account/tokens/"


def __getattr__(name: str) -> list:
    """``urlpatterns``: the site's URLs, with the token page mounted at /account/tokens/ if
    monitoring/urls.py does not mount it yet (read when a test first resolves a URL)."""
    if name != "urlpatterns":
        raise AttributeError(name)
    from monitoring.urls import urlpatterns as site

    if any(getattr(p, "namespace", None) == "tokens" for p in site):
        return site
    return [path("account/tokens/", include(("monitoring.token_urls", "tokens"))), *site]


with_token_page = pytest.mark.urls(__name__)


def _issue(user, programme: Programme, scope: str = "read", days: int = 30) -> tuple[ApiToken, str]:
    return ApiToken.issue(user=user, programme=programme, scope=scope, days=days, name="script")


def _api(key: str | None = None, header: str | None = None) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    elif key is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def donor_token(donor, ciudades) -> tuple[ApiToken, str]:
    return _issue(donor, ciudades)


@pytest.fixture
def other_programme(db) -> Programme:
    programme = Programme.objects.create(
        code="OTRO",
        name_es="Otro programa",
        name_en="Another programme",
        short_name_es="Otro",
        short_name_en="Other",
        start_date=dt.date(2024, 1, 1),
        end_date=dt.date(2025, 12, 31),
        budget_total=Decimal(1000),
    )
    Outcome.objects.create(programme=programme, code="R1", title_es="R", title_en="R")
    return programme


def assert_error(response, status: int, code: str, detail: str) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert detail in body["detail"]


# --- authentication --------------------------------------------------------------------------


def test_a_valid_token_reads(donor_token):
    response = _api(donor_token[1]).get(f"{API}/programmes/")
    assert response.status_code == 200
    assert [r["code"] for r in response.json()["results"]] == ["CIUDADES"]


def test_a_bearer_header_works_too(donor_token):
    response = _api(header=f"Bearer {donor_token[1]}").get(f"{API}/programmes/")
    assert response.status_code == 200


def test_a_revoked_token_is_refused(donor_token):
    token, key = donor_token
    token.revoke()
    response = _api(key).get(f"{API}/programmes/")
    assert_error(response, 401, "authentication_failed", "This token has been revoked.")
    assert response["WWW-Authenticate"] == 'Token realm="api"'


def test_an_expired_token_is_refused(donor_token):
    token, key = donor_token
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(days=1))
    assert_error(
        _api(key).get(f"{API}/programmes/"), 401, "authentication_failed", "This token expired on"
    )


def test_an_unknown_token_is_refused(db):
    assert_error(
        _api("cjt_not-a-real-key").get(f"{API}/programmes/"),
        401,
        "authentication_failed",
        "The token is not valid.",
    )


@pytest.mark.parametrize("header", ["Token", "Token one two", "Bearer"])
def test_a_malformed_header_is_refused(db, header):
    assert_error(
        _api(header=header).get(f"{API}/programmes/"),
        401,
        "authentication_failed",
        "Send the header as 'Authorization: Token <key>'.",
    )


def test_no_credentials_is_a_401(db):
    assert_error(
        _api().get(f"{API}/programmes/"),
        401,
        "not_authenticated",
        "Authentication credentials were not provided.",
    )


def test_a_disabled_users_token_is_refused(donor, donor_token):
    donor.is_active = False
    donor.save()
    assert_error(
        _api(donor_token[1]).get(f"{API}/programmes/"),
        401,
        "authentication_failed",
        "The token's user account is disabled.",
    )


def test_a_token_for_one_programme_cannot_see_another(donor, ciudades, other_programme):
    Membership.objects.create(user=donor, programme=other_programme, role="donor")
    _, key = _issue(donor, ciudades)
    client = _api(key)
    codes = [r["code"] for r in client.get(f"{API}/programmes/").json()["results"]]
    assert codes == ["CIUDADES"]
    outcomes = client.get(f"{API}/outcomes/", {"page_size": 1000}).json()["results"]
    assert {o["programme"] for o in outcomes} == {"CIUDADES"}
    other_outcome = Outcome.objects.get(programme=other_programme)
    assert_error(client.get(f"{API}/outcomes/{other_outcome.pk}/"), 404, "not_found", "")
    assert_error(client.get(f"{API}/programmes/OTRO/"), 404, "not_found", "")
    # The same user signed in with a session sees both.
    session = APIClient()
    session.force_login(donor)
    assert session.get(f"{API}/outcomes/{other_outcome.pk}/").status_code == 200


def test_a_read_token_cannot_write(ilo_coordinator_scl, ciudades):
    _, key = _issue(ilo_coordinator_scl, ciudades, scope="read")
    client = _api(key)
    message = "This token can only read. Issue a token with the write scope to change data."
    assert_error(client.post(f"{API}/programmes/", {}), 403, "permission_denied", message)
    assert_error(
        client.patch(f"{API}/programmes/CIUDADES/", {"name_en": "x"}),
        403,
        "permission_denied",
        message,
    )
    assert_error(client.delete(f"{API}/programmes/CIUDADES/"), 403, "permission_denied", message)


def test_a_write_token_gets_past_the_scope_check(ilo_coordinator_scl, ciudades):
    _, key = _issue(ilo_coordinator_scl, ciudades, scope="write")
    # The framework endpoints are read-only: the refusal is the method, not the token.
    assert_error(_api(key).post(f"{API}/programmes/", {}), 405, "method_not_allowed", "POST")


def test_the_last_use_is_recorded(donor_token):
    token, key = donor_token
    assert token.last_used_at is None
    before = timezone.now()
    assert _api(key).get(f"{API}/programmes/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert token.last_used_at >= before
    stale = timezone.now() - dt.timedelta(hours=1)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=stale)
    _api(key).get(f"{API}/programmes/")
    token.refresh_from_db()
    assert token.last_used_at > stale


# --- throttling ------------------------------------------------------------------------------


@pytest.fixture
def low_rate(settings, monkeypatch):
    """Three requests a minute per token. DRF reads the rates into a class attribute when it
    is imported, so the attribute is patched along with the setting."""
    rates = {"token": "3/minute", "anon": "3/minute"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", rates)


def _forget_throttle(token: ApiToken) -> None:
    cache.delete(TokenRateThrottle.cache_format % {"scope": "token", "ident": f"token-{token.pk}"})


def test_the_request_past_the_rate_is_a_429(low_rate, donor, ciudades):
    token, key = _issue(donor, ciudades)
    other, other_key = _issue(donor, ciudades)
    _forget_throttle(token)
    _forget_throttle(other)
    client = _api(key)
    for _ in range(3):
        assert client.get(f"{API}/periods/").status_code == 200
    response = client.get(f"{API}/periods/")
    assert_error(response, 429, "throttled", "Request was throttled.")
    assert int(response["Retry-After"]) > 0
    # Per token: another token of the same user still has its own allowance.
    assert _api(other_key).get(f"{API}/periods/").status_code == 200
    _forget_throttle(token)
    _forget_throttle(other)


# --- the account page ------------------------------------------------------------------------


@with_token_page
def test_the_token_page_needs_a_signed_in_user(client, db):
    response = client.get(TOKENS)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@with_token_page
def test_it_lists_only_your_own_tokens(client, donor, rco_viewer, ciudades):
    mine, _ = _issue(donor, ciudades)
    ApiToken.issue(user=rco_viewer, programme=ciudades, scope="read", days=5, name="rco secret")
    client.force_login(donor)
    response = client.get(TOKENS)
    assert response.status_code == 200
    page = response.content.decode()
    assert mine.prefix in page
    assert "rco secret" not in page
    assert 'name="programme"' in page


@with_token_page
def test_a_donor_issues_a_read_token_and_sees_the_key_once(client, donor, ciudades):
    client.force_login(donor)
    response = client.post(
        TOKENS, {"name": "Fund report", "programme": "CIUDADES", "scope": "read", "days": 90}
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get(user=donor, name="Fund report")
    key = response.context["key"]
    assert token.key_digest == digest(key)
    assert key in response.content.decode()
    assert token.scope == "read"
    assert token.programme == ciudades
    assert timezone.now() + dt.timedelta(days=89) < token.expires_at
    assert token.expires_at <= timezone.now() + dt.timedelta(days=90)
    # The list never shows it again; the key works.
    assert key not in client.get(TOKENS).content.decode()
    assert _api(key).get(f"{API}/programmes/").status_code == 200


@with_token_page
def test_a_donor_cannot_issue_a_write_token(client, donor, ciudades):
    client.force_login(donor)
    response = client.post(
        TOKENS, {"name": "w", "programme": "CIUDADES", "scope": "write", "days": 90}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["scope"] == [
        "Your role in programme CIUDADES only reads: issue a read token."
    ]
    assert not ApiToken.objects.filter(user=donor).exists()


@with_token_page
def test_a_coordinator_may_issue_a_write_token(client, ilo_coordinator_scl, ciudades):
    client.force_login(ilo_coordinator_scl)
    response = client.post(
        TOKENS, {"name": "w", "programme": "CIUDADES", "scope": "write", "days": 7}
    )
    assert response.status_code == 200
    assert ApiToken.objects.get(user=ilo_coordinator_scl).scope == "write"


@with_token_page
@pytest.mark.parametrize("days", ["0", "367", "-1", "many"])
def test_the_lifetime_is_1_to_366_days(client, donor, days):
    client.force_login(donor)
    response = client.post(
        TOKENS, {"name": "x", "programme": "CIUDADES", "scope": "read", "days": days}
    )
    assert response.status_code == 400
    assert "days" in response.context["form"].errors
    assert not ApiToken.objects.filter(user=donor).exists()


@with_token_page
def test_only_programmes_you_are_a_member_of(client, outsider, other_programme, ciudades):
    client.force_login(outsider)
    page = client.get(TOKENS).content.decode()
    assert "CIUDADES" not in page
    response = client.post(
        TOKENS, {"name": "x", "programme": "CIUDADES", "scope": "read", "days": 5}
    )
    assert response.status_code == 400
    assert "programme" in response.context["form"].errors
    assert not ApiToken.objects.filter(user=outsider).exists()


@with_token_page
def test_you_revoke_your_own_token(client, donor, donor_token):
    token, key = donor_token
    client.force_login(donor)
    response = client.post(f"{TOKENS}{token.pk}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert _api(key).get(f"{API}/programmes/").status_code == 401
    assert "revoked on" in client.get(TOKENS).content.decode()


@with_token_page
def test_someone_elses_token_is_a_404(client, rco_viewer, donor_token):
    token, key = donor_token
    client.force_login(rco_viewer)
    assert client.post(f"{TOKENS}{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert _api(key).get(f"{API}/programmes/").status_code == 200


@with_token_page
def test_revoking_takes_a_post(client, donor, donor_token):
    client.force_login(donor)
    assert client.get(f"{TOKENS}{donor_token[0].pk}/revoke/").status_code == 405
    donor_token[0].refresh_from_db()
    assert donor_token[0].revoked_at is None


# --- the command -----------------------------------------------------------------------------


def _command(*args: str) -> list[str]:
    out = io.StringIO()
    call_command("issue_token", *args, stdout=out)
    return out.getvalue().splitlines()


def test_the_command_prints_the_key_once(donor, ciudades):
    lines = _command(
        "--user", "donor", "--programme", "CIUDADES", "--scope", "read", "--days", "90"
    )
    key = lines[0]
    token = ApiToken.objects.get(user=donor)
    assert token.key_digest == digest(key)
    assert sum(key in line for line in lines) == 1
    assert lines[1].startswith(f"Expires {token.expires_at:%Y-%m-%d}")
    assert (token.scope, token.programme, token.name) == (
        "read",
        ciudades,
        "CIUDADES read (command line)",
    )
    assert _api(key).get(f"{API}/programmes/").status_code == 200


def test_the_command_issues_a_write_token_to_a_coordinator(ilo_coordinator_scl, ciudades):
    lines = _command(
        "--user", "coord.ilo.scl", "--programme", "CIUDADES", "--scope", "write", "--name", "sync"
    )
    token = ApiToken.objects.get(user=ilo_coordinator_scl)
    assert (token.scope, token.name) == ("write", "sync")
    assert token.key_digest == digest(lines[0])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", "nobody", "--programme", "CIUDADES"], "No user named 'nobody'."),
        (["--user", "donor", "--programme", "NOPE"], "No programme with code 'NOPE'."),
        (
            ["--user", "outsider", "--programme", "CIUDADES"],
            "--programme: You are not a member of programme CIUDADES.",
        ),
        (
            ["--user", "donor", "--programme", "CIUDADES", "--scope", "write"],
            "--scope: Your role in programme CIUDADES only reads: issue a read token.",
        ),
        (
            ["--user", "donor", "--programme", "CIUDADES", "--days", "0"],
            "--days: A token lasts from 1 to 366 days.",
        ),
        (
            ["--user", "donor", "--programme", "CIUDADES", "--days", "367"],
            "--days: A token lasts from 1 to 366 days.",
        ),
        (["--user", "donor", "--programme", "CIUDADES", "--scope", "admin"], "invalid choice"),
    ],
)
def test_the_command_refuses(outsider, args, message):
    with pytest.raises(CommandError) as info:
        _command(*args)
    assert message in str(info.value)
    assert not ApiToken.objects.exists()
