"""Hostile input to the API's writing operations (issue 8, item 2): schemathesis against the
API's own schema for every POST, PUT and PATCH, with a coordinator's, an approver's and the
RCO's write tokens, on reports in each state (draft, submitted, approved, the historical joint
report) and on ids that do not exist. No request may end in a server error, a response that
contradicts the schema, or an undocumented status; and a refused write (any 4xx) must leave
every report, value, activity, restatement and audit row exactly as it was.

Then hostile values in well-formed saves (huge, negative, NaN, unicode, NUL, very long text):
each is refused with the field named, or stored exactly as sent.

Bounded: a fixed seed per operation, a few examples each, no shrinking (about 40 s)."""

import zlib
from decimal import Decimal
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.db.models import Q
from hypothesis import strategies as st
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from indicators import services
from indicators.models import (
    ActivityProgress,
    Deliverable,
    IndicatorValue,
    ProgressReport,
    Restatement,
)
from indicators.selectors.reports import activities_in_scope, indicators_in_scope
from monitoring.api.throttling import TokenRateThrottle
from monitoring.models import Agency, ApiToken, AuditEvent, City, Programme, ReportingPeriod
from tests.security.fuzzing import (
    HOSTILE_NUMBERS,
    HOSTILE_TEXTS,
    bounded,
    hostile_numbers,
    hostile_texts,
    in_savepoint,
    table_digest,
)

pytestmark = pytest.mark.django_db

SCHEMA_URL = "/api/v1/schema/?format=json"
PERIOD = "2023-Q2"  # the quarter the demo load reopens for entry
FIGURES = {"count": "5", "percent": "60", "yes_no": "1", "level": "2", "amount": "100"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,  # an error is the API's JSON body, never an HTML page
]
CONFIG = {"seed": 8, "generation": {"with-security-parameters": False}}
WRITE_METHODS = ("POST", "PUT", "PATCH")
# Examples per operation, persona and report; and with ids that schemathesis makes up.
ON_REPORT = 2
NEGATIVE_ON_REPORT = 1
MADE_UP_IDS = 2


# ---- the reports and the people -----------------------------------------------------------


def _user(username: str) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


def _slot(programme: Programme, agency: str, city: str) -> dict[str, Any]:
    return {
        "programme": programme,
        "period": ReportingPeriod.objects.get(programme=programme, code=PERIOD),
        "agency": Agency.objects.get(code=agency),
        "city": City.objects.get(code=city),
    }


def _report(programme: Programme, agency: str, city: str, *, to: str) -> ProgressReport:
    """A report of ``agency`` in ``city`` with every figure, taken to state ``to`` through the
    services, as its coordinator and approver would."""
    slot = _slot(programme, agency, city)
    scope = {"programme": programme, "agency": slot["agency"], "city": slot["city"]}
    indicators = indicators_in_scope(**scope)
    activities = [
        services.ActivityEntry(a, status="not_started") for a in activities_in_scope(**scope)
    ]
    coordinator = _user(f"coord.{agency.lower()}.{city.lower()}")
    report = services.report_save(
        **slot,
        expected_version=0,
        entries=[
            services.Entry(indicator=i, value=Decimal(FIGURES[i.measure])) for i in indicators
        ],
        activities=activities,
        narrative_es="Avance del trimestre.",
        narrative_en="Progress this quarter.",
        actor=coordinator,
    )
    if to == "draft":
        return report
    report = services.report_save(
        **slot,
        expected_version=report.version,
        entries=[],
        activities=activities,
        narrative_es=report.narrative_es,
        narrative_en=report.narrative_en,
        actor=coordinator,
        submit=True,
        in_scope=indicators,
    )
    if to == "submitted":
        return report
    return services.report_approve(report=report, actor=_user(f"approver.{agency.lower()}"))


@pytest.fixture
def reports(ciudades) -> dict[str, Any]:
    """One report in each state a write can meet."""
    return {
        "draft": _report(ciudades, "ILO", "CDMX", to="draft"),
        "submitted": _report(ciudades, "IOM", "SCL", to="submitted"),
        "approved": _report(ciudades, "IOM", "CDMX", to="approved"),
        "approved_other_agency": _report(ciudades, "ILO", "SCL", to="approved"),
        "historical_joint": ProgressReport.objects.filter(
            programme=ciudades, is_historical=True, agency__isnull=True, city__isnull=False
        ).first(),
    }


def _token(username: str, programme: Programme) -> str:
    _row, key = ApiToken.issue(
        user=_user(username), programme=programme, scope="write", days=1, name="fuzz"
    )
    return key


PERSONAS = {
    "coordinator": "coord.ilo.cdmx",  # enters the draft
    "approver": "approver.iom",  # returns or approves the submitted report, restates IOM's
    "rco": "rco",  # validates, enters and restates the joint report
}


def written_state(programme: Programme) -> str:
    """Everything a write through the API could change, as one digest."""
    reports = ProgressReport.objects.filter(programme=programme)
    return table_digest(
        reports,
        IndicatorValue.objects.filter(report__programme=programme),
        ActivityProgress.objects.filter(report__programme=programme),
        Restatement.objects.all(),
        Deliverable.objects.all(),
        AuditEvent.objects.filter(Q(programme=programme) | Q(programme__isnull=True)),
    )


# ---- the WSGI application ------------------------------------------------------------------


@pytest.fixture
def wsgi_app(db, monkeypatch):
    """The site as a WSGI application inside the test's transaction (as in
    tests/monitoring/test_api_schema.py): a bare WSGI handler would close the database
    connection at the end of each request, ending the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    monkeypatch.setattr(TokenRateThrottle, "allow_request", lambda self, request, view: True)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _fuzz(
    operation: Any,
    headers: dict[str, str],
    mode: GenerationMode,
    examples: int,
    *,
    before: str,
    programme: Programme,
    answered: dict[str, set[int]],
    seed: str,
    **fixed: Any,
) -> list[str]:
    """``examples`` generated requests; each distinct failure with a curl line to replay it.
    A refused write must leave ``written_state`` as ``before``."""
    failures: dict[str, str] = {}
    label = f"{operation.label} {mode.value} {seed}"

    @hypothesis.seed(zlib.crc32(label.encode()))
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
        savepoint = transaction.savepoint_create()
        try:
            response = case.call(headers=headers)
            answered.setdefault(operation.label, set()).add(response.status_code)
            case.validate_response(response, checks=CHECKS)
            if 400 <= response.status_code < 500:
                after = written_state(programme)
                assert after == before, f"refused with {response.status_code} but wrote"
        except (Exception, BaseExceptionGroup) as exc:  # collect every failure
            parts = exc.exceptions if isinstance(exc, BaseExceptionGroup) else (exc,)
            message = " | ".join(" ".join(str(e).split())[:400] for e in parts)
            failures.setdefault(message, case.as_curl_command(headers=headers)[:400])
        finally:
            transaction.savepoint_rollback(savepoint)

    try:
        run()
    except hypothesis.errors.Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE  # nothing of it can be made invalid
    return [f"{operation.label} [{mode.value}]: {m}\n    {c}" for m, c in failures.items()]


def test_writing_operations_keep_to_the_schema_and_refusals_write_nothing(
    wsgi_app, ciudades, reports
):
    schema = schemathesis.openapi.from_wsgi(
        SCHEMA_URL, wsgi_app, config=SchemathesisConfig.from_dict(CONFIG)
    )
    operations: list[Any] = [
        result.ok()  # type: ignore[union-attr]  # an invalid schema fails here, as it should
        for method in WRITE_METHODS
        for result in schema.include(method=method).get_all_operations()
    ]
    labels = {op.label for op in operations}
    # The writing operations the README lists: open, save (PUT and PATCH) and each action.
    assert {
        "POST /api/v1/reports/",
        "PUT /api/v1/reports/{id}/values/",
        "PATCH /api/v1/reports/{id}/values/",
        "POST /api/v1/reports/{id}/submit/",
        "POST /api/v1/reports/{id}/return/",
        "POST /api/v1/reports/{id}/approve/",
        "POST /api/v1/reports/{id}/validate/",
        "POST /api/v1/reports/{id}/restate/",
    } <= labels, labels
    before = written_state(ciudades)
    failures: list[str] = []
    answered: dict[str, set[int]] = {}
    tokens = {persona: _token(username, ciudades) for persona, username in PERSONAS.items()}
    for persona in PERSONAS:
        headers = {"Authorization": f"Token {tokens[persona]}"}
        for operation in operations:
            common: dict[str, Any] = {"before": before, "programme": ciudades, "answered": answered}
            # Ids schemathesis makes up, then each report (its seed named by the report's
            # state, not its id, which differs between databases and runs).
            targets: list[tuple[str, dict[str, Any]]] = [("made-up ids", {})]
            names = [p.name for p in operation.path_parameters]
            if names:
                targets += [
                    (key, {"path_parameters": {names[0]: report.pk}})
                    for key, report in reports.items()
                ]
            for target, fixed in targets:
                seed = f"{persona} {target}"
                for mode, examples in (
                    (GenerationMode.POSITIVE, ON_REPORT if fixed else MADE_UP_IDS),
                    (GenerationMode.NEGATIVE, NEGATIVE_ON_REPORT if fixed else MADE_UP_IDS),
                ):
                    failures += _fuzz(
                        operation, headers, mode, examples, seed=seed, **common, **fixed
                    )
    by_label = {op.label: op for op in operations}
    for persona, label, report_key, body, expected in explicit_cases(reports):
        headers = {"Authorization": f"Token {tokens[persona]}"}
        failures += _explicit(
            by_label[label],
            headers,
            report=reports[report_key] if report_key else None,
            body=body,
            expected=expected,
            before=before,
            programme=ciudades,
            answered=answered,
        )
    assert not failures, "\n".join(failures)
    # Every operation both succeeded and was refused for a reason at least once.
    for label in labels:
        assert answered[label] & {200, 201}, (label, answered[label])
        assert answered[label] & {400, 403, 404, 409}, (label, answered[label])


OPEN = "POST /api/v1/reports/"
PUT = "PUT /api/v1/reports/{id}/values/"
PATCH = "PATCH /api/v1/reports/{id}/values/"


def _action(name: str) -> str:
    return f"POST /api/v1/reports/{{id}}/{name}/"


def _open(agency: str, city: str, period: str = PERIOD, **other: Any) -> dict[str, Any]:
    return {"programme": "CIUDADES", "period": period, "agency": agency, "city": city, **other}


def explicit_cases(
    reports: dict[str, ProgressReport],
) -> list[tuple[str, str, str | None, Any, set[int]]]:
    """Well-formed requests generated data would rarely hit: each writing operation's success
    (with the right version), and its refusals for role, state, stale version and bad figures:
    (persona, operation, report, body, the statuses it may answer)."""
    v = {key: r.version for key, r in reports.items()}
    joint = reports["historical_joint"]
    joint_value = joint.values.order_by("pk").first()
    assert joint_value is not None
    iom = reports["approved"]
    assert iom.city is not None
    count = next(
        i.code
        for i in indicators_in_scope(programme=iom.programme, agency=iom.agency, city=iom.city)
        if i.measure == "count"
    )
    hostile = "=1+1 <script>alert(1)</script> 👩🏽‍🚀 \u202e"
    return [
        # The coordinator of ILO in CDMX.
        ("coordinator", OPEN, None, _open("ILO", "CDMX"), {200}),
        ("coordinator", OPEN, None, _open("ILO", "CDMX", "2023-Q1"), {200, 403}),
        ("coordinator", OPEN, None, _open("UNHCR", "CDMX"), {403}),
        ("coordinator", OPEN, None, _open("ILO", "CDMX", extra=1), {400}),
        ("coordinator", OPEN, None, _open("'; DROP TABLE x; --", "\x00"), {400}),
        ("coordinator", OPEN, None, _open("ILO", "CDMX", "9" * 5000), {400}),
        ("coordinator", PATCH, "draft", {"version": v["draft"], "narrative_en": hostile}, {200}),
        ("coordinator", PATCH, "draft", {"version": v["draft"] - 1}, {409}),
        ("coordinator", PATCH, "draft", {"version": 10**40}, {409}),
        ("coordinator", PUT, "draft", {"version": v["draft"]}, {200}),
        ("coordinator", PUT, "submitted", {"version": v["submitted"]}, {404}),
        ("coordinator", _action("submit"), "draft", {"version": v["draft"]}, {200}),
        ("coordinator", _action("submit"), "draft", {"version": -1}, {400}),
        ("coordinator", _action("approve"), "draft", {}, {403}),
        # The approver of IOM.
        ("approver", _action("return"), "submitted", {"reason": hostile}, {200}),
        ("approver", _action("return"), "submitted", {"reason": " "}, {400}),
        ("approver", _action("approve"), "submitted", {"version": v["submitted"]}, {200}),
        ("approver", _action("approve"), "approved_other_agency", {}, {403}),
        (
            "approver",
            _action("restate"),
            "approved",
            {"version": v["approved"], "indicator": count, "value": 7, "reason": hostile},
            {200},
        ),
        (
            "approver",
            _action("restate"),
            "approved",
            {"version": v["approved"], "indicator": count, "value": -7, "reason": "x"},
            {400},
        ),
        (
            "approver",
            _action("restate"),
            "approved",
            {"version": v["approved"], "indicator": count, "value": "1e30", "reason": "x"},
            {400},
        ),
        ("approver", PATCH, "submitted", {"version": v["submitted"]}, {403}),
        # The RCO.
        ("rco", _action("validate"), "approved", {"version": v["approved"]}, {200}),
        ("rco", _action("validate"), "submitted", {}, {403}),
        ("rco", OPEN, None, _open("JOINT", "SCL"), {201}),
        (
            "rco",
            _action("restate"),
            "historical_joint",
            {"version": v["historical_joint"], "value_id": joint_value.pk, "value": 1,
             "reason": "Corrected."},
            {200},
        ),
        (
            "rco",
            _action("restate"),
            "historical_joint",
            {"version": v["historical_joint"], "value_id": 10**40, "value": 1, "reason": "r"},
            {400},
        ),
    ]  # fmt: skip


def _explicit(
    operation: Any,
    headers: dict[str, str],
    *,
    report: ProgressReport | None,
    body: Any,
    expected: set[int],
    before: str,
    programme: Programme,
    answered: dict[str, set[int]],
) -> list[str]:
    path = {"id": report.pk} if report is not None else None
    case = operation.Case(path_parameters=path, body=body, media_type="application/json")
    savepoint = transaction.savepoint_create()
    try:
        response = case.call(headers=headers)
        answered.setdefault(operation.label, set()).add(response.status_code)
        assert response.status_code in expected, (response.status_code, response.text[:300])
        case.validate_response(response, checks=CHECKS)
        if 400 <= response.status_code < 500:
            assert written_state(programme) == before, "refused but wrote"
    except (Exception, BaseExceptionGroup) as exc:
        parts = exc.exceptions if isinstance(exc, BaseExceptionGroup) else (exc,)
        message = " | ".join(" ".join(str(e).split())[:400] for e in parts)
        return [f"{operation.label} {body!r:.200}: {message}"]
    finally:
        transaction.savepoint_rollback(savepoint)
    return []


# ---- hostile values in well-formed requests ------------------------------------------------


def _client(username: str, programme: Programme) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Token {_token(username, programme)}")
    return client


def _flat_errors(body: dict[str, Any]) -> dict[str, list[str]]:
    return body.get("errors") or {}


@pytest.fixture
def draft(ciudades) -> ProgressReport:
    return _report(ciudades, "ILO", "CDMX", to="draft")


def _count_indicator(report: ProgressReport) -> str:
    assert report.city is not None
    indicators = indicators_in_scope(
        programme=report.programme, agency=report.agency, city=report.city
    )
    return next(i.code for i in indicators if i.measure == "count")


def _percent_indicator(report: ProgressReport) -> str | None:
    assert report.city is not None
    indicators = indicators_in_scope(
        programme=report.programme, agency=report.agency, city=report.city
    )
    return next((i.code for i in indicators if i.measure == "percent"), None)


HOSTILE_JSON_NUMBERS: list[Any] = [
    1e30,
    10**40,
    -(10**40),
    -1,
    -0.0,
    1e-30,
    0.00001,
    True,
    [],
    {},
    *HOSTILE_NUMBERS,
]


def test_hostile_figures_are_refused_by_field_and_nothing_is_written(ciudades, draft):
    """Each figure through PATCH: a 400 naming ``values[0].value`` and nothing written, or a
    200 that stores the number sent (never a 500)."""
    client = _client("coord.ilo.cdmx", ciudades)
    code = _count_indicator(draft)
    url = f"/api/v1/reports/{draft.pk}/values/"
    before = written_state(ciudades)

    @bounded(max_examples=25)
    @hypothesis.given(
        figure=st.one_of(st.sampled_from(HOSTILE_JSON_NUMBERS), hostile_numbers()),
        field=st.sampled_from(["value", "numerator", "denominator"]),
    )
    def run(figure: Any, field: str) -> None:
        def call() -> None:
            body = {"version": draft.version, "values": [{"indicator": code, field: figure}]}
            response = client.patch(url, body, format="json")
            assert response.status_code in (200, 400), (figure, response.content[:500])
            if response.status_code == 400:
                errors = _flat_errors(response.json())
                assert any(k.startswith("values[0]") for k in errors), (figure, errors)
                assert written_state(ciudades) == before, figure
            else:
                stored = IndicatorValue.objects.get(
                    report=draft, indicator__code=code, category__isnull=True
                )
                assert stored.value == Decimal(str(figure).strip()), (figure, stored.value)

        in_savepoint(call)

    for figure in HOSTILE_JSON_NUMBERS:  # the fixed list in full, then generated ones
        run.hypothesis.inner_test(figure=figure, field="value")
    run()


def test_a_percentage_beyond_its_bounds_is_refused(ciudades, draft):
    code = _percent_indicator(draft)
    if code is None:  # pragma: no cover - Ciudades has percentages in every scope
        pytest.fail("no percentage indicator in scope")
    client = _client("coord.ilo.cdmx", ciudades)
    before = written_state(ciudades)
    for item in (
        {"value": 101},
        {"value": "1e30"},
        {"numerator": 5, "denominator": 0},
        {"numerator": 7, "denominator": 5},
        {"numerator": 5},
    ):
        response = client.patch(
            f"/api/v1/reports/{draft.pk}/values/",
            {"version": draft.version, "values": [{"indicator": code, **item}]},
            format="json",
        )
        assert response.status_code == 400, (item, response.json())
        assert any(k.startswith("values[0].") for k in _flat_errors(response.json())), item
        assert written_state(ciudades) == before, item


def test_hostile_text_is_refused_by_field_or_stored_exactly(ciudades, draft):
    """Narratives and comments: NUL and over-long comments refused with the field named; any
    other text (unicode, RTL, emoji, SQL, HTML, 100,000 characters of narrative) stored as
    sent, less the surrounding whitespace the form also trims."""
    client = _client("coord.ilo.cdmx", ciudades)
    code = _count_indicator(draft)
    url = f"/api/v1/reports/{draft.pk}/values/"
    before = written_state(ciudades)

    @bounded(max_examples=15)
    @hypothesis.given(
        text=hostile_texts(), where=st.sampled_from(["narrative_en", "comment", "activity"])
    )
    def run(text: str, where: str) -> None:
        body: dict[str, Any] = {"version": draft.version}
        if where == "comment":
            body["values"] = [{"indicator": code, "value": 3, "comment": text}]
            field = "values[0].comment"
        elif where == "activity":
            activity = draft.activity_progress.select_related("activity").first()
            assert activity is not None
            body["activities"] = [
                {"activity": activity.activity.code, "status": "in_progress", "comment": text}
            ]
            field = "activities[0].comment"
        else:
            body[where] = text
            field = where

        def call() -> None:
            response = client.patch(url, body, format="json")
            assert response.status_code in (200, 400), (text[:80], response.content[:300])
            if response.status_code == 400:
                errors = _flat_errors(response.json())
                assert field in errors, (text[:80], errors)
                assert written_state(ciudades) == before
                return
            assert "\x00" not in text
            saved = ProgressReport.objects.get(pk=draft.pk)
            if where == "comment":
                stored = saved.values.get(indicator__code=code, category__isnull=True).comment
            elif where == "activity":
                stored = saved.activity_progress.get(
                    activity__code=body["activities"][0]["activity"]
                ).comment
            else:
                stored = saved.narrative_en
            assert stored == text.strip()
            # And it comes back as JSON exactly as stored.
            detail = client.get(f"/api/v1/reports/{draft.pk}/").json()
            if where == "narrative_en":
                assert detail["narrative_en"] == stored

        in_savepoint(call)

    for text in HOSTILE_TEXTS:
        for where in ("narrative_en", "comment"):
            run.hypothesis.inner_test(text=text, where=where)
    run()


def test_a_lone_surrogate_in_json_is_refused_not_a_server_error(ciudades, draft):
    """JSON may escape half of a surrogate pair ("\\ud800"), which no database can store."""
    client = _client("coord.ilo.cdmx", ciudades)
    before = written_state(ciudades)
    body = '{"version": VERSION, "narrative_en": "x\\ud800y"}'.replace(
        "VERSION", str(draft.version)
    )
    response = client.generic(
        "PATCH",
        f"/api/v1/reports/{draft.pk}/values/",
        body,
        content_type="application/json",
    )
    assert response.status_code == 400, response.content[:300]
    assert "narrative_en" in response.json()["errors"]
    assert written_state(ciudades) == before


def test_a_post_to_an_address_that_is_no_endpoint_gets_the_json_404(ciudades):
    """A token client writing to an address under /api/v1/ that names no endpoint (an id
    that is not a number, a newline in the address) gets the API's JSON 404, not Django's
    HTML page about CSRF, nor its HTML 404 (the catch-all did not match a newline)."""
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en", enforce_csrf_checks=True)  # as a real client
    client.credentials(HTTP_AUTHORIZATION=f"Token {_token('rco', ciudades)}")
    for path in (
        "/api/v1/reports/-1/validate/",
        "/api/v1/reports/x/values/",
        "/api/v1/nothing/",
        "/api/v1/reports/1%0A2/restate/",
        "/api/v1/nothing%0A",
    ):
        response = client.post(path, {}, format="json")
        assert response.status_code == 404, (path, response.status_code)
        assert response["Content-Type"] == "application/json"
        assert response.json()["code"] == "not_found"
