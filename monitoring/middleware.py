"""Refuse, before any view runs, what the site must never read:

- a NUL character in the address's query (PostgreSQL rejects it in text, which would
  otherwise surface as a server error);
- a body larger than ``REQUEST_MAX_BYTES`` (files included), or a body that is not a file
  upload and is larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE``: a 413 with a clear message,
  decided on the declared Content-Length before CSRF or any view reads a byte of it. (A body
  without a Content-Length, as a chunked one, is read by Django as empty.)

Both answer the API (``/api/``) with its error body (``monitoring.api.errors``) and people
with a short page in their language."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
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


def request_max_bytes() -> int:
    return int(settings.REQUEST_MAX_BYTES)


def _declared_length(request: HttpRequest) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:  # Django reads such a body as empty too
        return 0


def _too_large(request: HttpRequest, size: int) -> str | None:
    """Why this body is refused, if it is."""
    sizes = {"size": filesizeformat(size)}
    if size > request_max_bytes():
        return _(
            "The request is too large (%(size)s): this site takes at most %(limit)s per "
            "request, files included. Send fewer or smaller files at a time."
        ) % {**sizes, "limit": filesizeformat(request_max_bytes())}
    fields_only = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if fields_only is not None and size > fields_only and not _is_upload(request):
        return _(
            "The request is too large (%(size)s): a form or API request without files may "
            "hold at most %(limit)s."
        ) % {**sizes, "limit": filesizeformat(fields_only)}
    return None


def _is_upload(request: HttpRequest) -> bool:
    return request.META.get("CONTENT_TYPE", "").lower().startswith("multipart/form-data")


def too_large_response(request: HttpRequest, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):  # the API's error body
        body = {"status": 413, "code": "request_too_large", "detail": message}
        return JsonResponse(body, status=413)
    # Rendered without the request: no context processor runs before authentication has.
    page = render_to_string("413.html", {"message": message})
    return HttpResponse(page, status=413, content_type="text/html; charset=utf-8")


class RequestSizeMiddleware:
    """Before CSRF and the views: a body over the limits is refused unread (413)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        message = _too_large(request, _declared_length(request))
        if message is not None:
            return too_large_response(request, message)
        return self.get_response(request)
