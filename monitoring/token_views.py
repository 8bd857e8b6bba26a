"""The account's API tokens: list, issue (the key is shown once), revoke. A user sees and
revokes only their own tokens; anybody else's is a 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from .forms_tokens import TokenForm
from .models import ApiToken


def _tokens_of(user: User) -> list[ApiToken]:
    return list(
        ApiToken.objects.filter(user=user)
        .select_related("programme")
        .order_by("-created_at", "-id")
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    """GET: the user's tokens and the form for a new one. POST: issue it and show its key,
    once: the response is not cached and the key is never stored."""
    assert isinstance(request.user, User)
    form = TokenForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        token, key = ApiToken.issue(
            user=request.user,
            programme=form.cleaned_data["programme"],
            scope=form.cleaned_data["scope"],
            days=form.cleaned_data["days"],
            name=form.cleaned_data["name"],
        )
        return render(request, "tokens/created.html", {"token": token, "key": key})
    return render(
        request,
        "tokens/list.html",
        {"form": form, "tokens": _tokens_of(request.user)},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    if token.revoked_at is None:
        token.revoke()
        messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("tokens:list")
