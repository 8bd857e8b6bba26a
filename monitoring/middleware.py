"""Refuse, before any view runs, what no database can store: a NUL character in the address's
query (PostgreSQL rejects it in text, which would otherwise surface as a server error)."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _


class RejectNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        for name, values in request.GET.lists():
            if "\x00" in name or any("\x00" in v for v in values):
                field = name.replace("\x00", "")[:40]
                message = _("The parameter %(name)s holds a NUL character.") % {"name": field}
                if request.path.startswith("/api/"):  # the API's error body
                    body = {"status": 400, "code": "invalid", "detail": message}
                    return JsonResponse(body | {"errors": {field: [message]}}, status=400)
                return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
