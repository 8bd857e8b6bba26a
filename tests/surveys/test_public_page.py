"""The public response page (/s/…): no login; the open link, an invitation's one-time link and
the thank-you page; a survey not open, a spent invitation, a wrong key or token each get a
clear answer, and nothing is stored on any refusal; Spanish and English."""

import re
import uuid

import pytest
from django.test import Client
from django.urls import reverse

from surveys.models import Invitation, Response, Survey
from tests.surveys.survey_fixtures import SurveyKit, answers, build_survey


@pytest.fixture
def kit(ciudades) -> SurveyKit:
    return build_survey(ciudades)


@pytest.fixture
def token_kit(ciudades) -> SurveyKit:
    return build_survey(ciudades, access=Survey.Access.TOKEN, code="MRRC-INV")


def browser(language: str = "en") -> Client:
    """A respondent's phone: its own address (the open link counts responses per address)."""
    return Client(HTTP_ACCEPT_LANGUAGE=language, REMOTE_ADDR=f"10.{uuid.uuid4().int % 250}.0.1")


def open_url(kit: SurveyKit) -> str:
    return reverse("survey_public:open", args=[kit.key])


def invitation_url(kit: SurveyKit, token: str) -> str:
    return reverse("survey_public:invitation", args=[kit.key, token])


def page(response) -> str:
    return response.content.decode()


def test_it_shows_the_questionnaire_without_signing_in(kit):
    response = browser().get(open_url(kit))
    html = page(response)
    assert response.status_code == 200
    assert "Sign out" not in html and "My programmes" not in html
    assert "<h1>Satisfaction with the centre</h1>" in html
    assert "<h2>Your visit</h2>" in html and "<h2>Follow-up</h2>" in html
    assert html.index("How satisfied are you") < html.index("Were you referred")


def test_it_renders_each_question_by_its_type(kit):
    html = page(browser().get(open_url(kit)))
    scale = re.findall(r'type="radio" name="q_sat" value="(\d)"', html)
    assert scale == ["1", "2", "3", "4", "5"]
    assert "<span>Very satisfied</span>" in html
    assert re.findall(r'type="checkbox" name="q_needs" value="(\w+)"', html) == [
        "housing",
        "school",
        "docs",
    ]
    assert re.findall(r'type="radio" name="q_referred" value="(\d)"', html) == ["1", "0"]
    assert 'name="q_age" inputmode="decimal"' in html
    assert "Between 0 and 120." in html
    assert '<textarea name="q_comments"' in html and 'maxlength="5000"' in html
    assert re.findall(r'type="radio" name="city" value="(\w+)"', html) == ["CDMX", "SCL"]


def test_it_marks_the_skip_chain_for_the_script(kit):
    html = page(browser().get(open_url(kit)))
    assert (
        'data-question="q_where" data-show-if="q_referred" data-show-if-values="[&quot;1&quot;]"'
        in html
    )
    assert 'data-show-if="q_where" data-show-if-values="[&quot;municipal&quot;]"' in html
    assert 'data-show-if="q_sat" data-show-if-values="[&quot;1&quot;, &quot;2&quot;]"' in html
    assert "Answer only if you answered “Yes” to “Were you referred to another service?”." in html
    assert '<script src="/static/js/survey.js" defer></script>' in html


def test_it_has_no_inline_script_or_style(kit):
    response = browser().get(open_url(kit))
    html = page(response)
    assert "Content-Security-Policy" in response.headers
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert " style=" not in html and "<style" not in html


def test_it_fits_a_phone(kit):
    html = page(browser().get(open_url(kit)))
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html


def test_it_speaks_spanish_to_a_spanish_browser(kit):
    html = page(browser("es").get(open_url(kit)))
    assert '<html lang="es">' in html
    assert "<h1>Satisfacción con el centro de atención</h1>" in html
    assert "¿Qué tan satisfecho/a está con la atención recibida?" in html
    assert "<span>Muy satisfecho/a</span>" in html
    assert "<span>Orientación legal</span>" in html
    assert "<span>Santiago de Chile</span>" in html
    assert "How satisfied" not in html


def test_lang_in_the_link_wins_over_the_browser(kit):
    html = page(browser("es").get(open_url(kit) + "?lang=en"))
    assert '<html lang="en">' in html
    assert "How satisfied are you with the service you received?" in html
    html = page(browser("en").get(open_url(kit) + "?lang=es"))
    assert "¿Qué tan satisfecho/a está con la atención recibida?" in html


def test_the_language_buttons_switch_the_page(kit):
    phone = browser("en")
    html = page(phone.get(open_url(kit) + "?lang=en"))
    # The buttons come back to the page itself, without the link's ?lang=.
    assert f'<input type="hidden" name="next" value="{open_url(kit)}">' in html
    switched = phone.post(reverse("set_language"), {"language": "es", "next": open_url(kit)})
    assert switched.status_code == 302 and switched["Location"] == open_url(kit)
    assert "¿Qué tan satisfecho/a" in page(phone.get(open_url(kit)))


def test_it_stores_an_answered_survey_and_thanks(kit):
    phone = browser("es")
    response = phone.post(open_url(kit), answers(q_age="34,5"))
    thanks = reverse("survey_public:thanks", args=[kit.key])
    assert response.status_code == 302 and response["Location"] == thanks
    stored = Response.objects.get(survey=kit.survey)
    assert (stored.language, stored.source, stored.answers.count()) == ("es", "web", 6)
    assert "Satisfacción con el centro de atención" in page(phone.get(thanks))


def test_the_thank_you_page_keeps_the_link_language(kit):
    response = browser("es").post(open_url(kit) + "?lang=en", answers())
    assert response["Location"].endswith("/thanks/?lang=en")
    assert Response.objects.get(survey=kit.survey).language == "en"


def test_an_open_link_accepts_two_responses(kit):
    browser().post(open_url(kit), answers())
    browser().post(open_url(kit), answers(q_sat="3"))
    assert Response.objects.filter(survey=kit.survey).count() == 2


def test_wrong_answers_come_back_named_with_what_was_answered_and_nothing_stored(kit):
    response = browser().post(open_url(kit), answers(q_sat="7", q_age="200", q_service="jobs"))
    html = page(response)
    assert response.status_code == 400
    assert (
        "“How satisfied are you with the service you received?”: choose one of the levels shown."
        in html
    )
    assert "“How old are you?”: the highest answer is 120." in html
    assert 'value="jobs" id="id_q_service_0" checked' in html  # kept for the respondent
    assert 'href="#question-q_age"' in html
    assert not Response.objects.filter(survey=kit.survey).exists()


def test_a_hidden_question_is_not_asked_on_the_page(kit):
    data = answers(q_referred="0", q_where="not-an-option")
    assert browser().post(open_url(kit), data).status_code == 302
    stored = Response.objects.get(survey=kit.survey)
    assert not stored.answers.filter(question__code="where").exists()


def test_a_filled_in_honeypot_is_refused(kit):
    html = page(browser().get(open_url(kit)))
    assert '<div class="hp" aria-hidden="true">' in html and 'tabindex="-1"' in html
    response = browser().post(open_url(kit), answers(website="http://buy.example"))
    assert response.status_code == 400
    assert "Your answers could not be accepted." in page(response)
    assert not Response.objects.filter(survey=kit.survey).exists()


def test_too_many_responses_from_one_address_are_refused(kit, settings):
    settings.SURVEY_RESPONSES_PER_HOUR_PER_ADDRESS = 1
    phone = browser()
    assert phone.post(open_url(kit), answers()).status_code == 302
    response = phone.post(open_url(kit), answers())
    assert response.status_code == 429
    assert "Too many responses have been sent from your connection" in page(response)
    assert Response.objects.filter(survey=kit.survey).count() == 1


# Invitations


def test_an_invitation_survey_asks_for_the_personal_link(token_kit):
    response = browser().get(open_url(token_kit))
    assert response.status_code == 403
    assert "This survey is answered by invitation only." in page(response)
    assert browser().post(open_url(token_kit), answers()).status_code == 403
    assert not Response.objects.filter(survey=token_kit.survey).exists()


def test_an_invitation_link_is_answered_once(token_kit):
    invitation, token = token_kit.invite()
    phone = browser()
    assert phone.get(invitation_url(token_kit, token)).status_code == 200
    assert phone.post(invitation_url(token_kit, token), answers()).status_code == 302
    assert Invitation.objects.get(pk=invitation.pk).used_at is not None
    again = phone.post(invitation_url(token_kit, token), answers(q_sat="1", q_why="otra vez"))
    assert again.status_code == 410
    assert "This invitation has already been used" in page(again)
    assert Response.objects.filter(survey=token_kit.survey).count() == 1
    assert phone.get(invitation_url(token_kit, token)).status_code == 410


def test_wrong_keys_and_tokens_get_the_same_404(token_kit, ciudades):
    _invitation, token = token_kit.invite()
    other = build_survey(ciudades, access=Survey.Access.TOKEN, code="OTHER")
    _other_invitation, other_token = other.invite()
    wrong_key = browser().get(reverse("survey_public:open", args=["no-such-key"]))
    wrong_token = browser().get(
        invitation_url(token_kit, token[:-1] + ("y" if token.endswith("x") else "x"))
    )
    foreign_token = browser().get(invitation_url(token_kit, other_token))
    no_key_token = browser().get(reverse("survey_public:invitation", args=["nope", token]))
    for response in (wrong_token, foreign_token, no_key_token):
        assert response.status_code == 404
        assert response.content == wrong_key.content


def test_a_draft_or_aggregate_survey_is_not_found_without_its_key(ciudades):
    never_opened = Survey.objects.create(
        programme=ciudades, code="DRAFT", title_es="B", title_en="D", access="open"
    )
    assert never_opened.public_key is None
    aggregate = build_survey(ciudades, code="PUBLISHED")
    Survey.objects.filter(pk=aggregate.survey.pk).update(kind=Survey.Kind.AGGREGATE)
    assert browser().get(open_url(aggregate)).status_code == 404


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (Survey.Status.DRAFT, "This survey is not open for answers yet."),
        (Survey.Status.CLOSED, "This survey is closed and no longer accepts answers."),
    ],
)
def test_a_survey_not_open_says_so_and_stores_nothing(ciudades, status, message):
    kit = build_survey(ciudades, status=status)
    token_kit = build_survey(ciudades, status=status, access="token", code="INV")
    _invitation, token = token_kit.invite()
    for url in (open_url(kit), invitation_url(token_kit, token)):
        shown = browser().get(url)
        assert (shown.status_code, message in page(shown)) == (403, True)
        assert browser().post(url, answers()).status_code == 403
    assert not Response.objects.filter(survey__in=[kit.survey, token_kit.survey]).exists()


def test_the_page_is_not_cached(token_kit):
    _invitation, token = token_kit.invite()
    response = browser().get(invitation_url(token_kit, token))
    assert "no-store" in response["Cache-Control"]


def test_the_page_costs_a_fixed_number_of_queries(kit, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        assert browser().get(open_url(kit)).status_code == 200
