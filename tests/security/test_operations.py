"""Operations (issue 8 §7): the health endpoint, structured logs with request ids, the ops
settings, and the failed-jobs page for superusers and programme admins (with its filters and
the actions that are safe to repeat)."""

import copy
import datetime as dt
import io
import json
import logging
import socket
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError, connections
from django.test import Client, override_settings
from django.utils import timezone
from django.utils.module_loading import import_string

from indicators.models import Indicator, RecomputeRequest, RecomputeRun
from monitoring import health
from monitoring.celery import app as celery_app
from monitoring.logging import ContextFilter, JsonFormatter, logging_config
from monitoring.models import ExportJob, FailedTask, Outcome, Programme
from monitoring.settings import base as base_settings
from monitoring.settings.parts import ops as ops_settings
from monitoring.signals import record_task_failure
from tests.indicators.test_real_worker import reset_connections

pytestmark = pytest.mark.django_db


@celery_app.task(name="tests.security.explode")
def explode(number: int, *, word: str = "") -> None:
    raise ValueError(f"boom {number} {word}")


@celery_app.task(name="tests.security.context_of_a_log_line")
def context_of_a_log_line() -> dict:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "inside", (), None)
    ContextFilter().filter(record)
    return {"task_name": record.task_name, "task_id": record.task_id}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- /healthz -------------------------------------------------------------------------------


def test_health_reports_database_broker_last_recompute_and_pending_requests(client, ciudades):
    RecomputeRun.objects.all().delete()
    finished = timezone.now() - dt.timedelta(minutes=5)
    RecomputeRun.objects.create(
        kind="indicators", started_at=finished, finished_at=finished, ok=True
    )
    RecomputeRun.objects.create(kind="full", started_at=timezone.now(), ok=False, error="x")
    RecomputeRequest.objects.all().delete()
    indicator = Indicator.objects.filter(programme=ciudades).first()
    asked = timezone.now() - dt.timedelta(seconds=40)
    RecomputeRequest.objects.create(indicator=indicator, requested_at=asked)

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["broker"] == ("ok" if settings.REDIS_URL else "in-process")
    recompute = body["recompute"]
    assert recompute["last_success_at"] == finished.isoformat()
    assert recompute["last_success_age_seconds"] >= 300
    assert recompute["pending_requests"] == 1
    assert recompute["oldest_pending_age_seconds"] >= 40


def test_health_says_degraded_when_requests_wait_far_longer_than_the_sweep(client, ciudades):
    indicator = Indicator.objects.filter(programme=ciudades).first()
    asked = timezone.now() - dt.timedelta(hours=2)
    RecomputeRequest.objects.update_or_create(indicator=indicator, defaults={"requested_at": asked})
    body = client.get("/healthz").json()
    assert (body["status"], body["database"]) == ("degraded", "ok")
    assert body["recompute"]["oldest_pending_age_seconds"] >= 7200


def test_health_is_503_without_the_database_and_says_nothing_secret(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection to server at 10.1.2.3 failed: password for bob")

    with monkeypatch.context() as patched:
        patched.setattr(connections["default"], "create_cursor", refuse)
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["database"]) == ("error", "unavailable")
    text = response.content.decode()
    for secret in ("10.1.2.3", "password", "bob", "Traceback", str(settings.DATABASES)):
        assert secret not in text


def test_health_says_when_the_broker_is_down_and_stays_200(client):
    saved = celery_app.conf.broker_url
    celery_app.conf.broker_url = f"redis://127.0.0.1:{free_port()}/0"
    try:
        response = client.get("/healthz")
    finally:
        celery_app.conf.broker_url = saved
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["broker"]) == ("degraded", "unavailable")


def test_health_probes_a_broker_that_is_not_redis(client, tmp_path):
    saved = (celery_app.conf.broker_url, celery_app.conf.broker_transport_options)
    celery_app.conf.broker_url = "filesystem://"
    folder = str(tmp_path)
    celery_app.conf.broker_transport_options = {
        "data_folder_in": folder,
        "data_folder_out": folder,
    }
    try:
        assert health._probe_broker() == "ok"
    finally:
        celery_app.conf.broker_url, celery_app.conf.broker_transport_options = saved


# --- logs -----------------------------------------------------------------------------------


@pytest.fixture
def json_log():
    """What the request logger writes, as the production handler formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("monitoring")
    logger.addHandler(handler)
    saved = logger.level
    logger.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(saved)


def test_every_response_carries_a_request_id_and_one_json_line(
    client, ilo_coordinator_scl, json_log
):
    client.force_login(ilo_coordinator_scl)
    response = client.get("/programmes/CIUDADES/reports/")
    assert response.status_code == 200
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32 and int(request_id, 16) >= 0
    [line] = [entry for entry in json_log() if entry["logger"] == "monitoring.request"]
    assert line["request_id"] == request_id
    assert line["level"] == "INFO"
    assert (line["method"], line["path"], line["status"]) == (
        "GET",
        "/programmes/CIUDADES/reports/",
        200,
    )
    assert line["user_id"] == ilo_coordinator_scl.pk
    assert line["duration_ms"] >= 0
    assert line["message"] == "GET /programmes/CIUDADES/reports/ 200"
    assert dt.datetime.fromisoformat(line["timestamp"]).tzinfo is not None


def test_a_callers_request_id_is_kept_and_a_malformed_one_replaced(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a.91")["X-Request-ID"] == "lb-7f3a.91"
    replaced = client.get("/healthz", HTTP_X_REQUEST_ID="evil\u2028id with spaces")
    assert replaced["X-Request-ID"] != "evil\u2028id with spaces"
    assert len(replaced["X-Request-ID"]) == 32
    assert len(client.get("/healthz", HTTP_X_REQUEST_ID="x" * 65)["X-Request-ID"]) == 32


def test_an_anonymous_request_logs_no_user_and_lines_inside_it_carry_its_id(client, json_log):
    response = client.get("/accounts/login/")
    lines = [e for e in json_log() if e["logger"] == "monitoring.request"]
    assert lines[-1]["request_id"] == response["X-Request-ID"]
    assert "user_id" not in lines[-1]


def test_the_json_formatter_writes_one_object_per_line_with_the_exception():
    try:
        raise RuntimeError("no luck")
    except RuntimeError:
        record = logging.LogRecord("x.y", logging.ERROR, __file__, 1, "failed %s", ("ñandú",), None)
        record.exc_info = __import__("sys").exc_info()
    record.task_name, record.task_id = "indicators.tasks.recompute_all", "abc"
    line = JsonFormatter().format(record)
    assert "\n" not in line  # one line, whatever the message and traceback hold
    entry = json.loads(line)
    assert (entry["level"], entry["logger"], entry["message"]) == ("ERROR", "x.y", "failed ñandú")
    assert (entry["task_name"], entry["task_id"]) == ("indicators.tasks.recompute_all", "abc")
    assert "RuntimeError: no luck" in entry["exception"]


def test_log_lines_written_inside_a_celery_task_name_the_task():
    result = context_of_a_log_line.apply(task_id="t-123")
    assert result.get() == {"task_name": "tests.security.context_of_a_log_line", "task_id": "t-123"}


def _settings_with(monkeypatch, **env):
    """Apply the ops part to a fresh copy of the base settings under this environment."""
    for name in ("LOG_FORMAT", "DJANGO_SETTINGS_MODULE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    s = {k: copy.deepcopy(v) for k, v in vars(base_settings).items() if k.isupper()}
    s["env"] = base_settings.env
    s["MIDDLEWARE"] = [m for m in s["MIDDLEWARE"] if not m.startswith("monitoring.")]
    ops_settings.apply(s)
    return s


def test_logs_are_json_in_production_and_plain_elsewhere_unless_asked(monkeypatch):
    production = _settings_with(
        monkeypatch, DJANGO_SETTINGS_MODULE="monitoring.settings.production"
    )
    assert production["LOGGING"]["handlers"]["console"]["formatter"] == "json"
    assert production["CELERY_WORKER_HIJACK_ROOT_LOGGER"] is False
    local = _settings_with(monkeypatch, DJANGO_SETTINGS_MODULE="monitoring.settings.local")
    assert local["LOGGING"]["handlers"]["console"]["formatter"] == "plain"
    assert "CELERY_WORKER_HIJACK_ROOT_LOGGER" not in local
    asked = _settings_with(monkeypatch, LOG_FORMAT="json")
    assert asked["LOGGING"]["handlers"]["console"]["formatter"] == "json"
    factories = [f["()"] for f in asked["LOGGING"]["formatters"].values() if "()" in f]
    factories += [f["()"] for f in asked["LOGGING"]["filters"].values()]
    assert [import_string(f) for f in factories] == [JsonFormatter, ContextFilter]


def test_the_ops_part_installs_its_middleware_in_order_and_bounds_each_wait(monkeypatch):
    s = _settings_with(monkeypatch)
    middleware = s["MIDDLEWARE"]
    assert middleware[0] == "monitoring.logging.RequestIdMiddleware"
    assert middleware.index("monitoring.degrade.DependencyFailureMiddleware") == 2
    messages = middleware.index("django.contrib.messages.middleware.MessageMiddleware")
    assert middleware[messages + 1] == "monitoring.degrade.DeferredWorkNoticeMiddleware"
    s = _settings_with(monkeypatch, RECOMPUTE_SWEEP_EVERY="15")
    assert s["CELERY_BEAT_SCHEDULE"]["sweep-pending-recomputes"]["schedule"] == 15.0


def test_with_redis_the_cache_forgives_and_postgres_connects_with_a_timeout(monkeypatch):
    monkeypatch.setattr(base_settings, "REDIS_URL", "redis://cache.internal:6379/0")
    monkeypatch.setattr(base_settings, "CELERY_BROKER_URL", "redis://cache.internal:6379/0")
    monkeypatch.setattr(
        base_settings,
        "DATABASES",
        {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "x", "OPTIONS": {}}},
    )
    s = _settings_with(monkeypatch)
    cache = s["CACHES"]["default"]
    assert cache["BACKEND"] == "monitoring.degrade.ForgivingRedisCache"
    assert cache["OPTIONS"] == {"socket_connect_timeout": 1, "socket_timeout": 1}
    assert s["DATABASES"]["default"]["OPTIONS"]["connect_timeout"] == 10
    assert s["CELERY_BROKER_TRANSPORT_OPTIONS"]["socket_connect_timeout"] == 2
    assert logging_config("plain")["handlers"]["console"]["filters"] == ["context"]


# --- /ops/jobs/ -----------------------------------------------------------------------------


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root.ops", password="x-very-long-1")


@pytest.fixture
def other_programme(ciudades):
    return Programme.objects.create(
        code="OTRO",
        name_es="Otro",
        name_en="Other",
        short_name_es="Otro",
        short_name_en="Other",
        start_date=dt.date(2030, 1, 1),
        end_date=dt.date(2030, 12, 31),
    )


def failed_task(
    name="indicators.tasks.recompute_indicators", *, days_ago=0, args=None, programme=None
):
    return FailedTask.objects.create(
        task_id=f"id-{name}-{days_ago}",
        task_name=name,
        programme=programme,
        args=args if args is not None else [[1, 2]],
        args_summary="[1, 2]",
        exception="OperationalError: the database system is shutting down",
        traceback='Traceback (most recent call last):\n  File "x.py"',
        retries=6,
        hostname="celery@worker-1",
        failed_at=timezone.now() - dt.timedelta(days=days_ago),
    )


def failed_export(programme, user):
    return ExportJob.objects.create(
        programme=programme,
        requested_by=user,
        kind="results",
        fmt="csv",
        language="en",
        status=ExportJob.Status.FAILED,
        error=f"The export of {programme.code} failed.",
        finished_at=timezone.now(),
    )


def test_a_failing_task_is_recorded_with_its_name_arguments_error_and_retries():
    task_id = "0f6c6a1e-failing"
    result = explode.apply(args=[42], kwargs={"word": "ñ"}, task_id=task_id, throw=False)
    assert result.failed()
    task = FailedTask.objects.get(task_id=task_id)
    assert task.task_name == "tests.security.explode"
    assert (task.args, task.kwargs) == ([42], {"word": "ñ"})
    assert task.args_summary == "42, word='ñ'"
    assert task.exception == "ValueError: boom 42 ñ"
    assert "raise ValueError" in task.traceback
    assert task.retries == 0


@pytest.mark.parametrize(
    "persona", ["ilo_coordinator_scl", "iom_approver", "rco_viewer", "donor", "outsider"]
)
def test_only_superusers_and_programme_admins_see_failed_jobs(client, persona, request):
    client.force_login(request.getfixturevalue(persona))
    assert client.get("/ops/jobs/").status_code == 403
    assert client.post("/ops/jobs/recompute-pending/").status_code == 403
    task = failed_task()
    assert client.post(f"/ops/jobs/tasks/{task.pk}/retry/").status_code == 403
    assert FailedTask.objects.get(pk=task.pk).retried_at is None


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/ops/jobs/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_programme_admin_sees_the_tasks_and_exports_of_their_programmes_only(
    client, programme_admin, ciudades, other_programme, rco_viewer
):
    task = failed_task(programme=ciudades)
    foreign_task = failed_task("budgets.tasks.recompute_budget", programme=other_programme)
    site_task = failed_task("indicators.tasks.sweep_pending", args=[])
    own = failed_export(ciudades, rco_viewer)
    foreign = failed_export(other_programme, rco_viewer)
    crashed = RecomputeRun.objects.create(
        kind="indicators",
        started_at=timezone.now(),
        finished_at=timezone.now(),
        error="OperationalError: server closed the connection",
    )
    killed = RecomputeRun.objects.create(
        kind="full", started_at=timezone.now() - dt.timedelta(hours=1)
    )
    running = RecomputeRun.objects.create(kind="indicators", started_at=timezone.now())
    client.force_login(programme_admin)

    response = client.get("/ops/jobs/")

    assert response.status_code == 200
    page = response.content.decode()
    assert f'id="task-{task.pk}"' in page
    assert "the database system is shutting down" in page
    assert f'id="task-{foreign_task.pk}"' not in page  # another programme's
    assert f'id="task-{site_task.pk}"' not in page  # the whole site's: superusers only
    assert "budgets.tasks.recompute_budget" not in page  # not even in the task filter
    assert "Traceback (most recent" not in page  # superusers only
    assert f'id="export-{own.pk}"' in page and f'id="export-{foreign.pk}"' not in page
    for run in (crashed, killed, running):  # engine runs are the whole site's
        assert f'id="run-{run.pk}"' not in page
    assert "server closed the connection" not in page
    assert "Engine runs concern the whole site: superusers follow them." in page
    assert "Full recompute" not in page  # superusers only


def test_a_superuser_sees_every_task_and_the_engine_runs(
    client, superuser, ciudades, other_programme
):
    tasks = [
        failed_task(programme=ciudades),
        failed_task("budgets.tasks.recompute_budget", programme=other_programme),
        failed_task("indicators.tasks.sweep_pending", args=[]),
    ]
    crashed = RecomputeRun.objects.create(
        kind="indicators", started_at=timezone.now(), finished_at=timezone.now(), error="gone"
    )
    killed = RecomputeRun.objects.create(
        kind="full", started_at=timezone.now() - dt.timedelta(hours=1)
    )
    running = RecomputeRun.objects.create(kind="indicators", started_at=timezone.now())
    client.force_login(superuser)
    page = client.get("/ops/jobs/").content.decode()
    for task in tasks:
        assert f'id="task-{task.pk}"' in page
    assert f'id="run-{crashed.pk}"' in page and f'id="run-{killed.pk}"' in page
    assert "did not finish" in page
    assert f'id="run-{running.pk}"' not in page  # still running, not failed
    only_otro = client.get("/ops/jobs/", {"programme": "OTRO", "show": "tasks"}).content.decode()
    assert f'id="task-{tasks[1].pk}"' in only_otro and f'id="task-{tasks[0].pk}"' not in only_otro


def test_a_superuser_sees_every_programme_and_the_traceback(
    client, superuser, ciudades, other_programme, rco_viewer
):
    failed_task()
    foreign = failed_export(other_programme, rco_viewer)
    client.force_login(superuser)
    page = client.get("/ops/jobs/").content.decode()
    assert f'id="export-{foreign.pk}"' in page
    assert "Traceback (most recent" in page
    assert "Full recompute" in page


def test_filters_by_kind_time_task_and_programme(
    client, programme_admin, ciudades, rco_viewer, superuser, other_programme
):
    recent = failed_task(programme=ciudades)
    old = failed_task(days_ago=3, programme=ciudades)
    other = failed_task("budgets.tasks.recompute_budget", args=[1], programme=ciudades)
    job = failed_export(ciudades, rco_viewer)
    foreign = failed_export(other_programme, rco_viewer)
    client.force_login(programme_admin)

    only_exports = client.get("/ops/jobs/", {"show": "exports"}).content.decode()
    assert f'id="export-{job.pk}"' in only_exports and 'id="failed-tasks"' not in only_exports

    today = client.get("/ops/jobs/", {"show": "tasks", "since": "1"}).content.decode()
    assert f'id="task-{recent.pk}"' in today and f'id="task-{old.pk}"' not in today
    assert 'id="failed-exports"' not in today

    week = client.get(
        "/ops/jobs/", {"task": "indicators.tasks.recompute_indicators", "since": "7"}
    ).content.decode()
    assert f'id="task-{old.pk}"' in week and f'id="task-{other.pk}"' not in week

    client.force_login(superuser)
    one = client.get("/ops/jobs/", {"programme": "OTRO", "show": "exports"}).content.decode()
    assert f'id="export-{foreign.pk}"' in one and f'id="export-{job.pk}"' not in one
    bad = client.get("/ops/jobs/", {"show": "<script>", "since": "forever"})
    assert bad.status_code == 200 and "<script>" not in bad.content.decode()


def test_sending_an_idempotent_task_again_runs_it_once(client, programme_admin, ciudades):
    indicator = Indicator.objects.filter(programme=ciudades).first()
    RecomputeRequest.objects.create(indicator=indicator, requested_at=timezone.now())
    task = failed_task(args=[[indicator.pk]], programme=ciudades)
    client.force_login(programme_admin)
    runs = RecomputeRun.objects.count()

    response = client.post(
        f"/ops/jobs/tasks/{task.pk}/retry/", {"query": "show=tasks&since=30&evil=1"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/ops/jobs/?show=tasks&since=30"
    task.refresh_from_db()
    assert task.retried_by == programme_admin and task.retried_at is not None
    assert RecomputeRun.objects.count() == runs + 1  # ran in-process (tests run tasks eagerly)
    assert not RecomputeRequest.objects.filter(indicator=indicator).exists()
    # a second click sends nothing
    assert client.post(f"/ops/jobs/tasks/{task.pk}/retry/").status_code == 403
    assert RecomputeRun.objects.count() == runs + 1
    page = client.get("/ops/jobs/").content.decode()
    assert "sent again on" in page and "admin" in page


def test_a_task_not_safe_to_repeat_has_no_button_and_is_refused(
    client, programme_admin, superuser, ciudades
):
    unknown = failed_task("monitoring.exports.tasks.run_export_job", args=[5], programme=ciudades)
    heavy = failed_task("indicators.tasks.recompute_all", args=[])
    client.force_login(programme_admin)
    page = client.get("/ops/jobs/").content.decode()
    assert f"/ops/jobs/tasks/{unknown.pk}/retry/" not in page
    assert "not safe to repeat from here" in page
    assert client.post(f"/ops/jobs/tasks/{unknown.pk}/retry/").status_code == 403
    assert client.post(f"/ops/jobs/tasks/{heavy.pk}/retry/").status_code == 404  # superusers
    assert client.post("/ops/jobs/recompute-all/").status_code == 403
    assert client.get(f"/ops/jobs/tasks/{heavy.pk}/retry/").status_code == 405
    client.force_login(superuser)
    assert f"/ops/jobs/tasks/{heavy.pk}/retry/" in client.get("/ops/jobs/").content.decode()


def test_a_task_that_fails_again_says_so_and_is_recorded_again(client, superuser):
    task = failed_task("indicators.tasks.recompute_indicators", args=[["not-an-id"]])
    client.force_login(superuser)
    response = client.post(f"/ops/jobs/tasks/{task.pk}/retry/", follow=True)
    assert response.status_code == 200
    assert "The task ran again and failed: ValueError. It is listed below." in (
        response.content.decode()
    )
    assert FailedTask.objects.filter(task_name=task.task_name).count() == 2
    task.refresh_from_db()
    assert task.retried_at is not None  # it was sent; the new failure is its own row


def test_a_task_the_broker_does_not_take_can_be_sent_again_later(client, superuser, ciudades):
    task = failed_task()
    indicator = Indicator.objects.filter(programme=ciudades).first()
    RecomputeRequest.objects.create(indicator=indicator, requested_at=timezone.now())
    client.force_login(superuser)
    keys = ("broker_url", "task_always_eager", "broker_transport_options")
    saved = {k: celery_app.conf[k] for k in keys}
    celery_app.conf.update(
        broker_url=f"redis://127.0.0.1:{free_port()}/0",
        task_always_eager=False,
        broker_transport_options={"socket_connect_timeout": 1},
    )
    try:
        response = client.post(f"/ops/jobs/tasks/{task.pk}/retry/", follow=True)
        pending = client.post("/ops/jobs/recompute-pending/", follow=True)
    finally:
        celery_app.conf.update(**saved)
        reset_connections()
    assert "the broker is not answering" in response.content.decode()
    task.refresh_from_db()
    assert (task.retried_at, task.retried_by) == (None, None)
    assert "the broker is not answering" in pending.content.decode()
    assert RecomputeRequest.objects.filter(indicator=indicator).exists()  # for the sweep


def record(name: str, args: list, kwargs: dict | None = None) -> FailedTask:
    """What the ``task_failure`` signal writes for a task of this name and arguments."""
    sender = SimpleNamespace(name=name, request=SimpleNamespace(retries=0, hostname="w"))
    record_task_failure(
        sender=sender, task_id=f"t-{name}", exception=ValueError("x"), args=args, kwargs=kwargs
    )
    return FailedTask.objects.get(task_id=f"t-{name}")


def test_a_failure_records_the_programme_its_arguments_name(ciudades, other_programme, donor):
    job = failed_export(other_programme, donor)
    indicators = list(Indicator.objects.filter(programme=ciudades).values_list("pk", flat=True))
    assert record("monitoring.exports.tasks.run_export_job", [job.pk]).programme == (
        other_programme
    )
    by_keyword = record("budgets.tasks.recompute_budget", [], {"programme_id": ciudades.pk})
    assert by_keyword.programme == ciudades
    assert record("indicators.tasks.recompute_indicators", [indicators[:3]]).programme == ciudades


def test_a_failure_of_the_whole_site_or_with_odd_arguments_names_no_programme(
    ciudades, other_programme
):
    outcome = Outcome.objects.create(
        programme=other_programme, code="X", title_es="x", title_en="x"
    )
    theirs = Indicator.objects.create(
        programme=other_programme, code="X.1", level="outcome", outcome=outcome,
        name_es="x", name_en="x",
        measure="count", time_rule="sum", place_rule="sum", direction="increase",
        target_kind="absolute",
    )  # fmt: skip
    ours = Indicator.objects.filter(programme=ciudades).first()
    mixed = record("indicators.tasks.recompute_indicators", [[ours.pk, theirs.pk]])
    assert mixed.programme is None  # two programmes: superusers only
    assert record("indicators.tasks.recompute_all", []).programme is None
    assert record("budgets.tasks.recompute_budget", [999_999]).programme is None
    odd = record("monitoring.exports.tasks.run_export_job", [{"not": "an id"}])
    assert odd.programme is None and odd.exception == "ValueError: x"  # still recorded


def test_a_programme_admin_cannot_send_again_what_is_not_theirs(
    client, programme_admin, ciudades, other_programme
):
    theirs = failed_task("budgets.tasks.recompute_budget", programme=other_programme)
    site = failed_task("indicators.tasks.sweep_pending", args=[])
    ours = failed_task("budgets.tasks.recompute_budget", args=[ciudades.pk], programme=ciudades)
    client.force_login(programme_admin)
    assert client.post(f"/ops/jobs/tasks/{theirs.pk}/retry/").status_code == 404
    assert client.post(f"/ops/jobs/tasks/{site.pk}/retry/").status_code == 404
    for task in (theirs, site):
        task.refresh_from_db()
        assert (task.retried_at, task.retried_by) == (None, None)
    assert client.post(f"/ops/jobs/tasks/{ours.pk}/retry/").status_code == 302
    ours.refresh_from_db()
    assert ours.retried_by == programme_admin


def test_a_superuser_sends_again_a_task_of_the_whole_site(client, superuser):
    site = failed_task("indicators.tasks.sweep_pending", args=[])
    client.force_login(superuser)
    assert client.post(f"/ops/jobs/tasks/{site.pk}/retry/").status_code == 302
    site.refresh_from_db()
    assert site.retried_by == superuser


def test_an_export_whose_worker_stopped_is_listed_and_queued_again(
    client,
    programme_admin,
    ciudades,
    rco_viewer,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.EXPORT_JOB_TIMEOUT = 600
    started = timezone.now() - dt.timedelta(seconds=601)
    stalled = ExportJob.objects.create(
        programme=ciudades, requested_by=rco_viewer, kind="results", fmt="csv",
        status=ExportJob.Status.RUNNING, started_at=started, rows_done=40, rows_total=100,
    )  # fmt: skip
    alive = ExportJob.objects.create(
        programme=ciudades, requested_by=rco_viewer, kind="results", fmt="csv",
        status=ExportJob.Status.RUNNING, started_at=timezone.now() - dt.timedelta(seconds=599),
    )  # fmt: skip
    client.force_login(programme_admin)
    page = client.get("/ops/jobs/", {"show": "exports"}).content.decode()
    assert f'id="export-{stalled.pk}"' in page and f'id="export-{alive.pk}"' not in page
    assert "The worker preparing this export stopped before it was done. Start it again." in page
    assert client.post(f"/ops/jobs/exports/{alive.pk}/retry/").status_code == 404  # running
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/ops/jobs/exports/{stalled.pk}/retry/")
    assert response.status_code == 302
    stalled.refresh_from_db()
    assert (stalled.status, stalled.error) == ("done", "")
    assert stalled.file.name


def test_the_export_job_settings_have_defaults_and_refuse_nonsense(monkeypatch):
    s = _settings_with(monkeypatch)
    assert (s["EXPORT_JOB_TIMEOUT"], s["EXPORT_JOB_KEEP_DAYS"]) == (1800, 7)
    clean = s["CELERY_BEAT_SCHEDULE"]["clean-export-jobs"]
    assert clean == {"task": "monitoring.exports.tasks.clean_export_jobs", "schedule": 3600.0}
    s = _settings_with(monkeypatch, EXPORT_JOB_TIMEOUT="600", EXPORT_JOB_KEEP_DAYS="30")
    assert (s["EXPORT_JOB_TIMEOUT"], s["EXPORT_JOB_KEEP_DAYS"]) == (600, 30)
    with pytest.raises(ImproperlyConfigured, match="EXPORT_JOB_KEEP_DAYS must be a positive"):
        _settings_with(monkeypatch, EXPORT_JOB_KEEP_DAYS="0")


def test_a_failed_export_is_queued_again_and_built(
    client,
    programme_admin,
    ciudades,
    rco_viewer,
    other_programme,
    django_capture_on_commit_callbacks,
):
    job = failed_export(ciudades, rco_viewer)
    foreign = failed_export(other_programme, rco_viewer)
    client.force_login(programme_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/ops/jobs/exports/{job.pk}/retry/")
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.status, job.error) == ("done", "")
    assert job.file.name
    assert client.post(f"/ops/jobs/exports/{foreign.pk}/retry/").status_code == 404
    assert client.post(f"/ops/jobs/exports/{job.pk}/retry/").status_code == 404  # not failed


def test_recompute_pending_clears_the_requests(client, programme_admin, ciudades):
    indicators = list(Indicator.objects.filter(programme=ciudades)[:2])
    for indicator in indicators:
        RecomputeRequest.objects.update_or_create(
            indicator=indicator, defaults={"requested_at": timezone.now()}
        )
    client.force_login(programme_admin)
    page = client.get("/ops/jobs/").content.decode()
    assert "indicators wait for a recompute" in page
    response = client.post("/ops/jobs/recompute-pending/", follow=True)
    assert "Recompute of 2 indicators requested." in response.content.decode()
    assert not RecomputeRequest.objects.exists()
    again = client.post("/ops/jobs/recompute-pending/", follow=True)
    assert "No recompute is pending." in again.content.decode()


def test_actions_need_the_csrf_token(programme_admin):
    browser = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(programme_admin)
    assert browser.post("/ops/jobs/recompute-pending/").status_code == 403


def test_the_page_speaks_spanish(programme_admin):
    browser = Client(HTTP_ACCEPT_LANGUAGE="es")
    browser.force_login(programme_admin)
    response = browser.get("/ops/jobs/")
    assert response.status_code == 200
    assert '<html lang="es">' in response.content.decode()


@override_settings(DEBUG=True)
def test_health_keeps_its_shape_in_debug(client):
    assert client.get("/healthz").json()["database"] == "ok"
