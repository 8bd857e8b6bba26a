"""The public response page: no login. A survey is reached by its unguessable key, and either
answered by anyone with the open link or, for invitation-only surveys, with a personal link
that carries a one-time token. A wrong key and a wrong token get the same 404, so neither can
be told apart from the other or enumerated."""

import hmac
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from . import submission
from .forms import ResponseForm, questionnaire_load
from .models import Invitation, Survey
from .services import token_hash

# What the page says, and with which status, for each refusal.
REFUSALS: dict[type[submission.SubmissionRefused], tuple[str, int]] = {
    submission.SurveyNotOpen: ("not_open", 403),
    submission.InvitationRequired: ("needs_invitation", 403),
    submission.InvitationUsed: ("used", 410),
    submission.TooManyResponses: ("too_many", 429),
}

View = Callable[..., HttpResponse]


def with_query_language(view: View) -> View:
    """``?lang=en`` (or ``es``) shows the page in that language, whatever the browser asks:
    a link sent to respondents can fix their language."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        lang = request.GET.get("lang", "")
        if lang not in dict(settings.LANGUAGES):
            return view(request, *args, **kwargs)
        with translation.override(lang):
            request.LANGUAGE_CODE = lang
            return view(request, *args, **kwargs)

    return wrapper


def _survey_or_404(key: str) -> Survey:
    survey = (
        Survey.objects.select_related("programme")
        .filter(public_key=key, kind=Survey.Kind.RESPONSES)
        .first()
    )
    if survey is None:
        raise Http404
    return survey


def _invitation_or_404(survey: Survey, token: str) -> Invitation:
    """Found by the hash of its token (the token itself is never stored nor compared), then
    the hashes compared in constant time: a database whose collation ignores case would
    otherwise match a hash written in capitals."""
    wanted = token_hash(token)
    invitation = Invitation.objects.filter(survey=survey, token_hash=wanted).first()
    if invitation is None or not hmac.compare_digest(invitation.token_hash, wanted):
        raise Http404
    return invitation


def _client_address(request: HttpRequest) -> str:
    """The sender's address, for the open link's rate limit. Behind N trusted proxies
    (``SURVEY_TRUSTED_PROXIES = N``), the N-th address from the right of X-Forwarded-For;
    anything further left was written by the sender and proves nothing."""
    proxies = int(getattr(settings, "SURVEY_TRUSTED_PROXIES", 0))
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if proxies and len(forwarded) >= proxies and forwarded[-proxies]:
        return forwarded[-proxies]
    return str(request.META.get("REMOTE_ADDR", ""))


def _same_language(request: HttpRequest, url: str) -> str:
    lang = request.GET.get("lang", "")
    return f"{url}?lang={lang}" if lang in dict(settings.LANGUAGES) else url


def _message(request: HttpRequest, survey: Survey, reason: str, status: int) -> HttpResponse:
    context = {"survey": survey, "reason": reason}
    return render(request, "surveys/public/message.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
@with_query_language
def open_link(request: HttpRequest, key: str) -> HttpResponse:
    survey = _survey_or_404(key)
    if survey.access != Survey.Access.OPEN:
        return _message(request, survey, "needs_invitation", 403)
    return _answer(request, survey, invitation=None)


@never_cache
@require_http_methods(["GET", "POST"])
@with_query_language
def invitation_link(request: HttpRequest, key: str, token: str) -> HttpResponse:
    survey = _survey_or_404(key)
    invitation = _invitation_or_404(survey, token)
    return _answer(request, survey, invitation=invitation)


@require_GET
@with_query_language
def thanks(request: HttpRequest, key: str) -> HttpResponse:
    survey = _survey_or_404(key)
    return render(request, "surveys/public/thanks.html", {"survey": survey})


def _answer(request: HttpRequest, survey: Survey, *, invitation: Invitation | None) -> HttpResponse:
    """The questionnaire (GET), or the answers stored (POST) and the thank-you page."""
    if survey.status != Survey.Status.OPEN:
        return _message(request, survey, "not_open", 403)
    if invitation is not None and invitation.used_at is not None:
        return _message(request, survey, "used", 410)
    questionnaire = questionnaire_load(survey)
    if request.method != "POST":
        return _render_form(request, ResponseForm(questionnaire))
    try:
        submission.response_submit(
            questionnaire=questionnaire,
            data=request.POST,
            language=translation.get_language() or settings.LANGUAGE_CODE,
            invitation=invitation,
            client=_client_address(request),
        )
    except submission.AnswersInvalid as invalid:
        return _render_form(request, invalid.form, status=400)
    except submission.SubmissionRefused as refused:
        reason, status = REFUSALS[type(refused)]
        return _message(request, survey, reason, status)
    url = reverse("survey_public:thanks", args=[survey.public_key])
    return redirect(_same_language(request, url))


def _render_form(request: HttpRequest, form: ResponseForm, status: int = 200) -> HttpResponse:
    survey = form.questionnaire.survey
    context = {"survey": survey, "form": form, "groups": form.slots()}
    return render(request, "surveys/public/answer.html", context, status=status)
