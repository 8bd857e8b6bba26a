"""How the engine runs: after an approval (in-process when there is no broker), after a target
revision, when it fails half-way, and when a request was left behind."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.utils import timezone

from indicators import services, tasks
from indicators.engine import recompute, request_recompute
from indicators.engine import sql as engine_sql
from indicators.models import RecomputeRequest, RecomputeRun, Rollup
from tests.indicators.engine_fixtures import Gold

pytestmark = pytest.mark.django_db


@pytest.fixture
def gold(db) -> Gold:
    return Gold()


def test_approving_a_report_updates_the_rollups_when_it_commits(
    gold, django_capture_on_commit_callbacks
):
    ind = gold.indicator()
    gold.value(ind, "Q1", 10)
    recompute([ind.pk])
    report = gold.report("Q2", "A", "X", status="submitted")
    gold.value(ind, "Q2", 5, status="submitted")
    assert gold.rollup(ind, as_of="Q1").actual == 10
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.report_approve(report=report, actor=None)
    assert len(callbacks) == 1
    assert gold.rollup(ind, as_of="Q2").actual == 15
    assert not RecomputeRequest.objects.filter(indicator=ind).exists()


def test_approval_refuses_a_report_that_is_not_submitted(gold):
    report = gold.report("Q1", "A", "X", status="draft")
    with pytest.raises(ValidationError, match=r"This report is draft; it cannot be approved\."):
        services.report_approve(report=report, actor=None)
    report.refresh_from_db()
    assert report.status == "draft"


def test_revising_a_target_recomputes_status(gold, django_capture_on_commit_callbacks):
    ind = gold.indicator()
    target = gold.target(ind, 100)
    gold.value(ind, "Q4", 80)
    recompute([ind.pk])
    assert gold.rollup(ind).status == "at_risk"
    with django_capture_on_commit_callbacks(execute=True):
        services.target_revise(
            target=target, new_value=Decimal(80), reason="Budget cut", actor=None
        )
    assert gold.rollup(ind).status == "achieved"


def test_a_run_that_fails_half_way_leaves_the_previous_rollups(gold, monkeypatch):
    ind = gold.indicator()
    gold.value(ind, "Q1", 10)
    recompute([ind.pk])
    before = list(Rollup.objects.filter(indicator=ind).values_list("pk", "actual"))
    gold.value(ind, "Q2", 7)
    request_recompute([ind.pk])
    # The old rows are deleted, then the insert fails: the transaction must roll back.
    monkeypatch.setattr(
        engine_sql,
        "insert_rollups",
        lambda d, path, param: f"INSERT INTO no_such_table VALUES ({param})",
    )
    with pytest.raises(DatabaseError):
        recompute([ind.pk])
    assert list(Rollup.objects.filter(indicator=ind).values_list("pk", "actual")) == before
    failed = RecomputeRun.objects.order_by("-started_at").first()
    assert not failed.ok and "no_such_table" in failed.error
    assert RecomputeRequest.objects.filter(indicator=ind).exists()  # still owed
    monkeypatch.undo()
    recompute([ind.pk])
    assert gold.rollup(ind, as_of="Q2").actual == 17
    assert not RecomputeRequest.objects.filter(indicator=ind).exists()


def test_the_sweep_picks_up_requests_nobody_ran(gold):
    ind = gold.indicator()
    gold.value(ind, "Q1", 4)
    RecomputeRequest.objects.create(
        indicator=ind, requested_at=timezone.now() - dt.timedelta(minutes=5)
    )
    assert tasks.sweep_pending() > 0
    assert gold.rollup(ind, as_of="Q1").actual == 4
    assert not RecomputeRequest.objects.exists()


def test_a_fresh_request_is_left_to_its_own_task(gold):
    ind = gold.indicator()
    RecomputeRequest.objects.create(indicator=ind, requested_at=timezone.now())
    assert tasks.sweep_pending() == 0
    assert RecomputeRequest.objects.filter(indicator=ind).exists()


def test_without_a_broker_the_task_runs_in_process(gold, settings):
    assert settings.CELERY_TASK_ALWAYS_EAGER or settings.REDIS_URL
    ind = gold.indicator()
    gold.value(ind, "Q1", 3)
    result = tasks.recompute_indicators.apply(args=[[ind.pk]])
    assert result.successful() and result.result > 0
    assert gold.rollup(ind, as_of="Q1").actual == 3


def test_a_full_run_records_itself(gold):
    ind = gold.indicator()
    gold.value(ind, "Q1", 3)
    rows = tasks.recompute_all()
    run = RecomputeRun.objects.order_by("-started_at").first()
    assert run.ok and run.kind == "full" and run.rows == rows and run.seconds is not None


def test_the_sweep_rebuilds_rollups_that_vanished(ciudades):
    # What PostgreSQL does to an unlogged table after a crash.
    Rollup.objects.all().delete()
    assert tasks.sweep_pending() > 0
    assert Rollup.objects.filter(programme=ciudades, indicator__code="1.4.A").exists()
