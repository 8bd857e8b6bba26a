"""The OpenAPI schema of /api/v1/: it generates without a warning, documents the token and
the error body of every operation, its interactive docs load only our own static files, and
schemathesis finds no server error and no response that contradicts it.

The schemathesis run reads the schema the server publishes, so it covers every GET endpoint
that exists when it runs (no list here to forget one). It is bounded: a fixed seed, a few
examples per operation, no shrinking, no example database."""

import io
import json
import re
import zlib
from typing import Any

import hypothesis
import pytest
import schemathesis
import werkzeug
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import Client
from drf_spectacular.drainage import GENERATOR_STATS
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from monitoring.api.throttling import TokenRateThrottle
from monitoring.models import ApiToken

SCHEMA_URL = "/api/v1/schema/"
ERROR_CODES = {"401", "403", "429"}


@pytest.fixture
def schema_json(client, db) -> dict[str, Any]:
    response = client.get(SCHEMA_URL, {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def test_the_schema_generates_without_warnings(db, tmp_path):
    GENERATOR_STATS.reset()  # only this generation's warnings count
    out = tmp_path / "schema.yaml"
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--file",
        str(out),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    assert "/api/v1/programmes/" in out.read_text()


def test_every_operation_documents_the_error_body(schema_json):
    error = schema_json["components"]["schemas"]["ApiError"]
    assert set(error["required"]) == {"status", "code", "detail"}
    ref = {"$ref": "#/components/schemas/ApiError"}
    operations = [
        (path, method, operation)
        for path, item in schema_json["paths"].items()
        for method, operation in item.items()
    ]
    assert len(operations) >= 16
    for path, method, operation in operations:
        responses = operation["responses"]
        assert set(responses) >= ERROR_CODES, (method, path)
        for code in ERROR_CODES:
            content = responses[code].get("content", {}).get("application/json", {})
            assert content.get("schema"), (method, path, code)
    listing = schema_json["paths"]["/api/v1/indicators/"]["get"]["responses"]
    assert listing["400"]["content"]["application/json"]["schema"] == ref
    assert listing["404"]["content"]["application/json"]["schema"] == ref
    assert "Retry-After" in listing["429"]["headers"]


def test_the_schema_documents_the_token_and_the_filters(schema_json):
    scheme = schema_json["components"]["securitySchemes"]["tokenAuth"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    operation = schema_json["paths"]["/api/v1/indicators/"]["get"]
    assert {"tokenAuth": []} in operation["security"]
    params = {p["name"]: p for p in operation["parameters"]}
    expected = {"programme", "outcome", "output", "city", "agency", "updated_since", "page"}
    assert expected <= set(params)
    assert params["updated_since"]["schema"] == {"type": "string", "format": "date-time"}
    targets = {p["name"] for p in schema_json["paths"]["/api/v1/targets/"]["get"]["parameters"]}
    assert {"indicator", "period", "city", "agency"} <= targets


def test_the_docs_load_their_scripts_from_our_static_files(client, db):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', page)
    assert any("swagger-ui-bundle.js" in s for s in scripts)
    for src in scripts:
        assert src.startswith(("/static/", "/api/v1/docs/")), src
    assert "<script>" not in page  # no inline script (CSP)
    init = client.get("/api/v1/docs/", {"script": ""})
    assert init.status_code == 200
    script = init.content.decode()
    assert "SwaggerUIBundle" in script
    # Swagger UI would otherwise fetch a badge from validator.swagger.io.
    assert '"validatorUrl": null' in script
    bundle = next(s for s in scripts if "swagger-ui-bundle.js" in s)
    served = client.get(bundle)
    assert served.status_code == 200
    served.close()


# --- schemathesis ----------------------------------------------------------------------------

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
# Examples per GET operation and persona: valid requests, then requests with invalid
# parameters (each must be refused with a documented status, never a 500).
POSITIVE_EXAMPLES = 15
NEGATIVE_EXAMPLES = 8
# The persona's credentials are sent, never generated ones. Each operation's examples come from
# a seed of its own (its name), so a run is repeatable.
CONFIG = {"seed": 7, "generation": {"with-security-parameters": False}}


@pytest.fixture
def wsgi_app(db, monkeypatch):
    """The site as a WSGI application inside the test's transaction. Django's own test client
    keeps its requests from closing the database connection (the transaction would end); a
    bare WSGI handler needs the same."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    # Hundreds of requests in a few seconds: throttling has its own test.
    monkeypatch.setattr(TokenRateThrottle, "allow_request", lambda self, request, view: True)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(params=["donor token", "rco session"])
def persona(request, donor, rco_viewer, ciudades) -> dict[str, Any]:
    """How each request authenticates: a donor's read token, or the RCO's browser session."""
    if request.param == "donor token":
        _, key = ApiToken.issue(user=donor, programme=ciudades, scope="read", days=1, name="st")
        return {"headers": {"Authorization": f"Token {key}"}}
    browser = Client()
    browser.force_login(rco_viewer)
    name = settings.SESSION_COOKIE_NAME
    return {"cookies": {name: browser.cookies[name].value}}


def _known_path_parameters(operation: Any, app: WSGIHandler, persona: dict) -> dict[str, Any]:
    """Path parameters of an object that exists: the first row of the matching list (for
    /things/{id}/, /things/?page_size=1), so details are tested on real objects too."""
    names = [p.name for p in operation.path_parameters]
    list_path = re.sub(r"\{[^}]+\}/$", "", operation.path)
    if not names or list_path == operation.path or "{" in list_path:
        return {}
    # Through the WSGI application: Django's test client would turn connection closing back on.
    headers = dict(persona.get("headers", {}))
    if "cookies" in persona:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in persona["cookies"].items())
    response = werkzeug.Client(app).get(list_path, query_string={"page_size": 1}, headers=headers)
    if response.status_code != 200 or response.mimetype != "application/json":
        return {}
    body = response.get_json()
    rows = body.get("results") if isinstance(body, dict) else None
    if not rows or not all(name in rows[0] for name in names):
        return {}
    return {name: rows[0][name] for name in names}


def _fuzz(
    operation: Any,
    persona: dict,
    mode: GenerationMode,
    examples: int,
    statuses: set[int],
    **fixed: Any,
) -> list[str]:
    """Run ``examples`` generated requests; return each distinct failure with a curl line.
    ``statuses`` collects the status codes answered."""
    failures: dict[str, str] = {}

    @hypothesis.seed(zlib.crc32(f"{operation.label} {mode.value}".encode()))
    @hypothesis.settings(
        max_examples=examples,
        database=None,
        deadline=None,
        print_blob=False,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(case=operation.as_strategy(mode, **fixed))
    def run(case: Any) -> None:
        # Each request in a savepoint: a database error in one (a 500) must not abort the
        # test's transaction for the requests after it.
        savepoint = transaction.savepoint_create()
        try:
            response = case.call(**persona)
            statuses.add(response.status_code)
            case.validate_response(response, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as exc:  # collect every failure, stop at none
            parts = exc.exceptions if isinstance(exc, BaseExceptionGroup) else (exc,)
            message = " | ".join(" ".join(str(e).split())[:400] for e in parts)
            failures.setdefault(message, case.as_curl_command(headers=persona.get("headers")))
        finally:
            transaction.savepoint_rollback(savepoint)

    try:
        run()
    except hypothesis.errors.Unsatisfiable:
        # No parameter of this operation can be made invalid (negative mode only).
        assert mode is GenerationMode.NEGATIVE
    return [f"{operation.label} [{mode.value}]: {m}\n    {curl}" for m, curl in failures.items()]


def test_every_get_endpoint_keeps_to_the_schema(wsgi_app, persona):
    schema = schemathesis.openapi.from_wsgi(
        f"{SCHEMA_URL}?format=json", wsgi_app, config=SchemathesisConfig.from_dict(CONFIG)
    )
    operations = [result.ok() for result in schema.include(method="GET").get_all_operations()]
    assert len(operations) >= 16
    failures: list[str] = []
    answered: dict[str, set[int]] = {}
    # Lists that need no parameter: each must have answered 200 at least once.
    open_lists = [
        op.label for op in operations if not any(p.is_required for p in op.iter_parameters())
    ]
    for operation in operations:
        statuses = answered.setdefault(operation.label, set())
        failures += _fuzz(operation, persona, GenerationMode.POSITIVE, POSITIVE_EXAMPLES, statuses)
        failures += _fuzz(operation, persona, GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES, set())
        known = _known_path_parameters(operation, wsgi_app, persona)
        if known:
            failures += _fuzz(
                operation, persona, GenerationMode.POSITIVE, 3, statuses, path_parameters=known
            )
    assert not failures, "\n".join(failures)
    # The persona got real answers, not only refusals.
    assert len(open_lists) >= 8
    never_ok = [label for label in open_lists if 200 not in answered[label]]
    assert never_ok == [], (
        f"never answered 200: {never_ok} (a parameter it needs that the schema calls optional?)"
    )
