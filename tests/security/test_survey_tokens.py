"""Survey response links (issue 8, permission audit): a one-time invitation link answers once;
its token cannot be guessed or told apart from garbage; a token opens only its own survey;
open links are rate-limited per address, and forging X-Forwarded-For does not get round it.
The tokens are stored only as their SHA-256 and never shown again."""

import hashlib
import re
import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from surveys.models import Invitation, Response, Survey
from tests.surveys.survey_fixtures import SurveyKit, answers, build_survey

URLSAFE = re.compile(r"^[A-Za-z0-9_-]+$")


@pytest.fixture
def token_kit(ciudades) -> SurveyKit:
    return build_survey(ciudades, access=Survey.Access.TOKEN, code="AUDIT-INV")


@pytest.fixture
def other_kit(ciudades) -> SurveyKit:
    return build_survey(ciudades, access=Survey.Access.TOKEN, code="AUDIT-OTHER")


@pytest.fixture
def open_kit(ciudades) -> SurveyKit:
    return build_survey(ciudades, code="AUDIT-OPEN")


def phone(address: str | None = None, **headers: Any) -> Client:
    """A respondent's browser, from its own address unless told."""
    headers.setdefault("HTTP_ACCEPT_LANGUAGE", "en")
    return Client(REMOTE_ADDR=address or f"10.9.{uuid.uuid4().int % 250}.1", **headers)


def invitation_url(kit: SurveyKit, token: str) -> str:
    return reverse("survey_public:invitation", args=[kit.key, token])


def open_url(kit: SurveyKit) -> str:
    return reverse("survey_public:open", args=[kit.key])


def stored(kit: SurveyKit) -> int:
    return Response.objects.filter(survey=kit.survey).count()


# ---- not guessable, not stored ---------------------------------------------------------------


def test_tokens_are_long_random_and_never_repeat(token_kit):
    issued = [token for _inv, token in (token_kit.invite(f"p{n}") for n in range(200))]
    assert len(set(issued)) == 200
    for token in issued:
        assert len(token) >= 32 and URLSAFE.match(token)  # 24 random bytes: 192 bits
    # no two share even a long prefix (they are not a counter in disguise)
    assert len({t[:8] for t in issued}) == 200


def test_only_the_tokens_hash_is_stored(token_kit):
    invitation, token = token_kit.invite()
    row = Invitation.objects.filter(pk=invitation.pk).values().get()
    assert token not in repr(row)
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()


def test_survey_keys_are_random_and_distinct(ciudades):
    keys = [build_survey(ciudades, code=f"AUDIT-K{n}").key for n in range(5)]
    assert len(set(keys)) == 5
    assert all(len(k) >= 22 and URLSAFE.match(k) for k in keys)  # 16 random bytes


# ---- one time only --------------------------------------------------------------------------


def test_an_invitation_answers_once_whoever_submits_it_again(token_kit):
    invitation, token = token_kit.invite()
    assert phone().post(invitation_url(token_kit, token), answers()).status_code == 302
    assert Invitation.objects.get(pk=invitation.pk).used_at is not None
    # the same link again, from another phone and another language: refused, nothing stored
    for browser in (phone(), phone(HTTP_ACCEPT_LANGUAGE="es")):
        again = browser.post(invitation_url(token_kit, token), answers(q_sat="1", q_why="x"))
        assert again.status_code == 410
        shown = browser.get(invitation_url(token_kit, token))
        assert shown.status_code == 410
        assert 'name="q_sat"' not in shown.content.decode()  # no form to fill in again
    assert stored(token_kit) == 1


def test_a_spent_token_opens_no_other_survey_either(token_kit, other_kit):
    _invitation, token = token_kit.invite()
    assert phone().post(invitation_url(token_kit, token), answers()).status_code == 302
    assert phone().post(invitation_url(other_kit, token), answers()).status_code == 404
    assert stored(other_kit) == 0


# ---- unknown, garbage and foreign tokens look the same ----------------------------------------


def test_unknown_garbage_and_foreign_tokens_get_one_and_the_same_404(token_kit, other_kit):
    _invitation, token = token_kit.invite()
    _other, foreign = other_kit.invite()
    baseline = phone().get(reverse("survey_public:open", args=["no-such-key"]))
    assert baseline.status_code == 404
    candidates = [
        token[:-1] + ("A" if token[-1] != "A" else "B"),  # one character off
        token.upper() if token.upper() != token else token.lower(),  # another case
        "x",
        "0" * 32,
        "é" * 40,
        "t" * 2000,
        token + "x",
        foreign,  # a valid token of another survey
    ]
    for candidate in candidates:
        for method in ("get", "post"):
            response = getattr(phone(), method)(invitation_url(token_kit, candidate), answers())
            assert response.status_code == 404, candidate
            assert response.content == baseline.content, candidate  # nothing tells them apart
            if len(candidate) >= 8:  # nor echoes the guess
                assert candidate[:20].encode() not in response.content
    # a real token under an unknown key: the same 404 too
    lost = phone().get(reverse("survey_public:invitation", args=["no-such-key", token]))
    assert (lost.status_code, lost.content) == (404, baseline.content)
    assert stored(token_kit) == stored(other_kit) == 0


def test_a_token_opens_only_its_own_survey_and_is_not_spent_by_trying_another(
    token_kit, other_kit, open_kit
):
    invitation, token = token_kit.invite()
    for kit in (other_kit, open_kit):
        assert phone().get(invitation_url(kit, token)).status_code == 404
        assert phone().post(invitation_url(kit, token), answers()).status_code == 404
        assert stored(kit) == 0
    assert Invitation.objects.get(pk=invitation.pk).used_at is None
    assert phone().post(invitation_url(token_kit, token), answers()).status_code == 302
    assert stored(token_kit) == 1


def test_the_invitation_page_is_neither_cached_nor_sent_on_as_a_referrer(token_kit):
    _invitation, token = token_kit.invite()
    response = phone().get(invitation_url(token_kit, token))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    # The token is in the address: other sites must never receive the full address in a
    # Referer header (at most the origin).
    policy = response["Referrer-Policy"].split(",")[-1].strip()
    assert policy in {"no-referrer", "same-origin", "origin", "strict-origin",
                      "origin-when-cross-origin", "strict-origin-when-cross-origin"}  # fmt: skip


# ---- open links: a limit per address ------------------------------------------------------------


def test_an_open_link_stops_storing_from_one_address_at_the_limit(open_kit, settings):
    settings.SURVEY_RESPONSES_PER_HOUR_PER_ADDRESS = 3
    settings.SURVEY_TRUSTED_PROXIES = 0
    same = "203.0.113.7"
    for _ in range(3):
        assert phone(same).post(open_url(open_kit), answers()).status_code == 302
    refused = phone(same).post(open_url(open_kit), answers())
    assert refused.status_code == 429
    assert stored(open_kit) == 3
    # forging X-Forwarded-For from the same address changes nothing without a trusted proxy
    for forged in ("198.51.100.1", "198.51.100.2, 198.51.100.3"):
        again = phone(same, HTTP_X_FORWARDED_FOR=forged).post(open_url(open_kit), answers())
        assert again.status_code == 429
    assert stored(open_kit) == 3
    # another address is still welcome
    assert phone("203.0.113.8").post(open_url(open_kit), answers()).status_code == 302
    assert stored(open_kit) == 4


def test_behind_a_proxy_the_limit_counts_the_address_the_proxy_saw(open_kit, settings):
    """With one trusted proxy the sender is the last X-Forwarded-For entry (the one the proxy
    wrote); whatever the sender wrote to the left of it proves nothing."""
    settings.SURVEY_RESPONSES_PER_HOUR_PER_ADDRESS = 2
    settings.SURVEY_TRUSTED_PROXIES = 1
    proxy = "192.0.2.1"
    for n in range(2):
        sent = phone(proxy, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}, 203.0.113.50")
        assert sent.post(open_url(open_kit), answers()).status_code == 302
    forged = phone(proxy, HTTP_X_FORWARDED_FOR="10.0.0.99, 203.0.113.50")
    assert forged.post(open_url(open_kit), answers()).status_code == 429
    other = phone(proxy, HTTP_X_FORWARDED_FOR="203.0.113.51")
    assert other.post(open_url(open_kit), answers()).status_code == 302
    assert stored(open_kit) == 3


def test_the_limit_is_per_survey(open_kit, ciudades, settings):
    settings.SURVEY_RESPONSES_PER_HOUR_PER_ADDRESS = 1
    second = build_survey(ciudades, code="AUDIT-OPEN-2")
    same = "203.0.113.9"
    assert phone(same).post(open_url(open_kit), answers()).status_code == 302
    assert phone(same).post(open_url(open_kit), answers()).status_code == 429
    assert phone(same).post(open_url(second), answers()).status_code == 302
