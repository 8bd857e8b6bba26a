"""What the OpenAPI schema says beyond each view: how machine clients authenticate, and the
one error body (``monitoring.api.errors``) every endpoint may answer with.

Enable the hook in settings::

    SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] = [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "monitoring.api.schema.document_error_responses",
    ]

Importing this module registers the authentication scheme (the framework endpoints import
it; so should ``MonitoringConfig.ready``)."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

ERROR_COMPONENT = "ApiError"
ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The body of every error response.",
    "properties": {
        "status": {"type": "integer", "description": "The HTTP status code.", "example": 400},
        "code": {
            "type": "string",
            "description": "A machine-readable code: invalid, not_found, not_authenticated, "
            "authentication_failed, permission_denied, throttled, …",
            "example": "invalid",
        },
        "detail": {"type": "string", "description": "What went wrong, for a person to read."},
        "errors": {
            "type": "object",
            "description": "Validation errors only: the messages for each field or parameter "
            "at fault (non_field_errors for the request as a whole).",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "example": {"updated_since": ["Enter a valid date/time."]},
        },
    },
    "required": ["status", "code", "detail"],
}

ERROR_DESCRIPTIONS = {
    "400": "A parameter or field is not valid; `errors` names it.",
    "401": "No credentials, or a token that is unknown, malformed, revoked or expired.",
    "403": "Signed in, but not allowed (for instance a read-only token asked to write).",
    "404": "No such object among those you may see (or a page past the last one).",
    "429": "Too many requests for this token; `Retry-After` says when to try again.",
}

HEADERS = {
    "401": {
        "WWW-Authenticate": {
            "description": "How to authenticate: `Token`.",
            "schema": {"type": "string"},
        }
    },
    "429": {
        "Retry-After": {
            "description": "Seconds to wait before the next request.",
            "schema": {"type": "integer"},
        }
    },
}


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "monitoring.api.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "An API token issued on the account's token page or with "
                "`manage.py issue_token`, sent as `Authorization: Token <key>`. A token works "
                "for one programme; a read token cannot change anything."
            ),
        }


def _error_codes(operation: dict[str, Any]) -> list[str]:
    """The error statuses this operation can answer with."""
    parameters = operation.get("parameters", [])
    has_query = any(p.get("in") == "query" for p in parameters)
    has_path = any(p.get("in") == "path" for p in parameters)
    codes = ["401", "403", "429"]
    if has_query or "requestBody" in operation:
        codes.append("400")
    if has_path or has_query:  # an object you may not see; a page past the last one
        codes.append("404")
    return sorted(codes)


def document_error_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """A postprocessing hook: the Error component, and the error responses of every
    operation that its view did not document itself."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = ERROR_SCHEMA
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "put", "post", "patch", "delete", "head", "options"}:
                continue
            responses = operation.setdefault("responses", {})
            for code in _error_codes(operation):
                if code in responses:
                    continue
                response: dict[str, Any] = {
                    "description": ERROR_DESCRIPTIONS[code],
                    "content": {"application/json": {"schema": ERROR_REF}},
                }
                if code in HEADERS:
                    response["headers"] = HEADERS[code]
                responses[code] = response
    return result
