"""One error body for every API failure:

    {"status": 400, "code": "invalid", "detail": "…", "errors": {"field": ["message", …]}}

Validation errors raised by services (Django's ``ValidationError``) become 400s that name the
field, like a serializer's."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    JsonResponse,
)
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler


def _django_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            ("non_field_errors" if k == "__all__" else k): [str(m) for m in v]
            for k, v in exc.message_dict.items()
        }
    return {"non_field_errors": [str(m) for m in exc.messages]}


def _flatten(detail: Any) -> dict[str, list[str]] | None:
    if isinstance(detail, dict):
        return {
            str(k): [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in detail.items()
        }
    if isinstance(detail, list):
        return {"non_field_errors": [str(m) for m in detail]}
    return None


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_django_errors(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = exception_handler(exc, context)
    if response is None:
        return None
    assert isinstance(exc, exceptions.APIException)
    errors = _flatten(exc.detail) if isinstance(exc, exceptions.ValidationError) else None
    if errors is not None:
        first = next(iter(errors.items()))
        detail = _("Invalid input: %(field)s: %(message)s") % {
            "field": first[0],
            "message": first[1][0] if first[1] else "",
        }
    else:
        detail = str(exc.detail) if not isinstance(exc.detail, (list, dict)) else str(exc)
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else getattr(exc, "default_code", "error")
    body: dict[str, Any] = {"status": response.status_code, "code": code, "detail": detail}
    if errors is not None:
        body["errors"] = errors
    response.data = body
    return response


@csrf_exempt  # it changes nothing; a token client's POST gets the JSON 404, not a CSRF page
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Any address under /api/v1/ that names no endpoint: the API's error body, not a page
    (an address missing only its final slash is redirected, as everywhere else)."""
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            query = request.META.get("QUERY_STRING", "")
            return HttpResponsePermanentRedirect(
                request.path + "/" + (f"?{query}" if query else "")
            )
    detail = _("There is no API endpoint at %(path)s.") % {"path": request.path[:200]}
    return JsonResponse({"status": 404, "code": "not_found", "detail": detail}, status=404)
