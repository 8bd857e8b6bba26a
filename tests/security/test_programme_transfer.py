"""A whole programme exported to one document and imported into an empty instance (issue 8
§6): a new database, migrated, gets Ciudades from the document alone, in a process of its own,
and shows the same results table and budget figures, the same records and the evidence byte
for byte. Refusals: a code that exists, a damaged or newer document, and a failure half-way
(nothing stays behind)."""

import base64
import copy
import hashlib
import io
import json
import os
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone

from indicators.models import IndicatorValue
from monitoring.models import AuditEvent, Programme
from monitoring.transfer import (
    TransferError,
    export_programme,
    import_programme,
    programme_models,
    unclassified_models,
)
from surveys.models import Answer, Response, Survey

ROOT = Path(__file__).resolve().parents[2]
EVIDENCE = b"%PDF-1.4\n" + hashlib.sha256(b"acta").digest() * 500 + b"\n%%EOF\n"


def figures(code: str = "CIUDADES") -> dict:
    """What the programme shows, with codes instead of this database's ids: the results table
    (without the time it was computed), the budget figures, the records per table, each
    evidence file's checksum, and what each audit event names."""
    from budgets.models import BudgetFigure
    from indicators.selectors.results import ResultQuery, result_rows

    programme = Programme.objects.get(code=code)
    results = [row[1:17] for row in result_rows(ResultQuery(programme=programme))]
    budget = sorted(
        BudgetFigure.objects.filter(programme=programme).values_list(
            "scope",
            "agency__code",
            "country__code",
            "category__code",
            "outcome__code",
            "output__code",
            "indicator__code",
            "currency",
            "budget",
            "revised",
            "transferred",
            "spent",
            "balance",
            "execution",
            "elapsed",
            "burn",
            "spent_as_of",
            "missing_expenditure",
            "indicator_actual",
            "cost_per_result",
        ),
        key=str,
    )
    records = {
        model._meta.label_lower: model._default_manager.filter(**{path: programme.pk}).count()
        for model, path in programme_models()
    }
    evidence = {
        f"{v.indicator.code} {v.report.period.code}": hashlib.sha256(
            v.evidence.open("rb").read()
        ).hexdigest()
        for v in IndicatorValue.objects.filter(report__programme=programme).exclude(evidence="")
    }
    audit = sorted(
        f"{e.action} {e.object_type} {_named(e)}"
        for e in AuditEvent.objects.filter(programme=programme)
    )
    return json.loads(
        json.dumps(
            {
                "results": results,
                "budget": budget,
                "records": records,
                "evidence": evidence,
                "audit": audit,
            },
            cls=DjangoJSONEncoder,
        )
    )


def _named(event: AuditEvent) -> str:
    """The object an audit event names, found by its id here."""
    if event.object_type != "indicators.indicatorvalue":
        return event.object_id
    value = IndicatorValue.objects.filter(pk=event.object_id).first()
    return f"{value.indicator.code} {value.report.period.code}" if value else "missing"


FIGURES = (
    "import django, json; django.setup(); "
    "from tests.security.test_programme_transfer import figures; print(json.dumps(figures()))"
)


def run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "EMAIL_"))
    }
    clean.update(
        DJANGO_SETTINGS_MODULE="monitoring.settings.local",
        DJANGO_SECRET_KEY="transfer-test-" + "k" * 60,
        DJANGO_DEBUG="false",
        **env,
    )
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=600
    )


def _pg(program: str, *args: str) -> None:
    db = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": db["PASSWORD"] or ""}
    server = [f"--host={db['HOST'] or '127.0.0.1'}", f"--port={db['PORT'] or 5432}"]
    subprocess.run(
        [program, *server, f"--username={db['USER']}", *args], env=env, check=True, timeout=60
    )


@pytest.fixture
def empty_instance(tmp_path):
    """The environment of a new, migrated instance with nothing loaded, removed afterwards."""
    media = str(tmp_path / "media")
    if connection.vendor == "sqlite":
        env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'instance.sqlite3'}"}
        name = None
    else:
        db = connection.settings_dict
        name = f"{db['NAME']}_transfer_{uuid.uuid4().hex[:8]}"
        _pg("createdb", name)
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        env = {"DATABASE_URL": f"postgres://{auth}@{host}/{name}"}
    env["DJANGO_MEDIA_ROOT"] = media
    try:
        migrated = run(["manage.py", "migrate", "--noinput", "-v", "0"], **env)
        assert migrated.returncode == 0, migrated.stderr
        yield env
    finally:
        if name:
            _pg("dropdb", "--if-exists", "--force", name)


def enrich(programme: Programme, user) -> IndicatorValue:
    """What the loaded data lacks and a programme in use has: an evidence file, an audit
    event naming a value, and a survey response."""
    value = IndicatorValue.objects.filter(report__programme=programme).latest("pk")
    value.evidence.save("acta.pdf", ContentFile(EVIDENCE), save=True)
    AuditEvent.objects.create(
        programme=programme,
        actor=user,
        action="value.restate",
        object_type="indicators.indicatorvalue",
        object_id=str(value.pk),
        object_repr=str(value),
        old_value={"value": "1"},
        new_value={"value": "2"},
        reason="checked",
    )
    survey = Survey.objects.filter(programme=programme, kind=Survey.Kind.AGGREGATE).earliest("pk")
    response = Response.objects.create(
        survey=survey, source="upload", external_id="r-1", submitted_at=timezone.now(), sex="female"
    )
    Answer.objects.create(response=response, question=survey.questions.earliest("pk"), number=4)
    return value


def rename(document: dict, code: str) -> None:
    """The same programme under another code."""
    document["programme"] = code
    (programmes,) = [b for b in document["records"] if b["model"] == "monitoring.programme"]
    programmes["rows"][0]["fields"]["code"] = code


@pytest.mark.django_db
def test_an_exported_programme_imported_into_an_empty_instance_shows_the_same_figures(
    ciudades, iom_approver, empty_instance, tmp_path
):
    enrich(ciudades, iom_approver)
    before = figures()
    out = tmp_path / "ciudades.json"
    call_command("export_programme", "CIUDADES", "--out", str(out), stdout=io.StringIO())

    imported = run(["manage.py", "import_programme", str(out)], **empty_instance)
    after = run(["-c", FIGURES], **empty_instance)

    assert imported.returncode == 0, imported.stderr
    assert "Programme CIUDADES imported" in imported.stdout
    assert "without a usable password" in imported.stdout
    assert after.returncode == 0, after.stderr
    after_figures = json.loads(after.stdout)
    assert after_figures == before
    assert len(before["results"]) > 50 and before["budget"]
    assert before["records"]["surveys.response"] > 1 and before["records"]["surveys.answer"] > 1
    assert before["records"]["monitoring.membership"] > 5
    assert list(before["evidence"].values()) == [hashlib.sha256(EVIDENCE).hexdigest()]
    assert any("value.restate indicators.indicatorvalue" in a for a in before["audit"])
    assert "missing" not in " ".join(before["audit"])


@pytest.mark.django_db
def test_the_document_is_versioned_and_keeps_secrets_out_unless_asked(
    ciudades, iom_approver, tmp_path
):
    enrich(ciudades, iom_approver)
    out = tmp_path / "ciudades.json"
    call_command("export_programme", "CIUDADES", "--out", str(out), stdout=io.StringIO())
    document = json.loads(out.read_text())

    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert document["format"] == "conjunto-programme" and document["version"] == 1
    assert document["programme"] == "CIUDADES"
    assert "0001_initial" in document["migrations"]["indicators"]
    assert {u["username"] for u in document["users"]} >= {"coord.ilo.scl", "approver.iom", "rco"}
    assert all("password" not in u and "is_superuser" not in u for u in document["users"])
    shared = {block["model"]: block["rows"] for block in document["reference"]}
    assert {tuple(r["key"]) for r in shared["monitoring.city"]} == {("SCL",), ("CDMX",)}
    assert ("sex", "female") in {
        tuple(r["key"]) for r in shared["indicators.disaggregationcategory"]
    }
    tables = {block["model"] for block in document["records"]}
    assert {"indicators.rollup", "monitoring.apitoken", "budgets.budgetfigure"}.isdisjoint(tables)
    (evidence,) = [f for f in document["files"] if not f.get("missing")]
    assert base64.b64decode(evidence["content"]) == EVIDENCE

    with_users = export_programme("CIUDADES", with_users=True)
    assert all(u["password"].startswith("md5$") for u in with_users["users"])


@pytest.mark.django_db
def test_importing_alongside_a_programme_reuses_the_shared_records(ciudades, iom_approver):
    """The same database, under another code: cities, agencies, dimensions and users are
    found by their keys, and the copy's figures equal the original's."""
    enrich(ciudades, iom_approver)
    before = figures()
    document = json.loads(json.dumps(export_programme("CIUDADES"), cls=DjangoJSONEncoder))
    rename(document, "CIUDADES-COPY")
    for block in document["records"]:
        if block["model"] == "surveys.survey":
            for row in block["rows"]:
                row["fields"]["public_key"] = None

    _programme, stats = import_programme(document)

    assert stats.reference_created == {}
    assert stats.users_created == []
    copy_figures = figures("CIUDADES-COPY")
    assert copy_figures["results"] == before["results"]
    assert copy_figures["budget"] == before["budget"]
    assert copy_figures["records"] == before["records"]
    assert copy_figures["evidence"] == before["evidence"]
    assert copy_figures["audit"] == before["audit"]


@pytest.mark.django_db
def test_a_programme_code_that_exists_is_refused(ciudades):
    document = export_programme("CIUDADES")
    with pytest.raises(TransferError, match="Programme CIUDADES exists here already"):
        import_programme(document)


@pytest.mark.django_db
def test_a_failure_half_way_leaves_nothing_behind(ciudades, iom_approver):
    enrich(ciudades, iom_approver)
    document = json.loads(json.dumps(export_programme("CIUDADES"), cls=DjangoJSONEncoder))
    rename(document, "BROKEN")
    newcomer = f"new-{uuid.uuid4().hex[:6]}"
    document["users"].append({"username": newcomer, "is_active": True})
    stored_before = set(_stored())
    last = next(b for b in reversed(document["records"]) if b["rows"])
    last["rows"][-1]["fields"][_a_reference_field(last["model"])] = 99_999_999

    with pytest.raises(TransferError, match="not in the document"):
        import_programme(document)

    assert not Programme.objects.filter(code="BROKEN").exists()
    assert not get_user_model().objects.filter(username=newcomer).exists()
    assert set(_stored()) == stored_before  # the evidence it had stored was removed again


def _a_reference_field(label: str) -> str:
    from django.apps import apps

    model = apps.get_model(label)
    owned = {m._meta.label_lower for m, _path in programme_models()}
    return next(
        f.name
        for f in model._meta.concrete_fields
        if f.many_to_one and f.related_model._meta.label_lower in owned
    )


def _stored(directory: str = "") -> list[str]:
    directories, files = default_storage.listdir(directory)
    found = [f"{directory}/{f}".lstrip("/") for f in files]
    for d in directories:
        found += _stored(f"{directory}/{d}".lstrip("/"))
    return found


@pytest.mark.django_db
def test_a_document_of_newer_code_or_another_kind_is_refused(ciudades):
    document = export_programme("CIUDADES")
    newer = copy.deepcopy(document)
    newer["migrations"]["monitoring"].append("9999_future")
    with pytest.raises(TransferError, match=r"newer version of the code.*monitoring\.9999_future"):
        import_programme(newer)
    with pytest.raises(TransferError, match="not a conjunto-programme document"):
        import_programme({"format": "something else"})
    with pytest.raises(TransferError, match="version 2"):
        import_programme({**document, "version": 2})


@pytest.mark.django_db
def test_a_document_cannot_write_outside_a_programme(ciudades):
    """A document is data: no table but a programme's, no user flag it did not declare."""
    document = export_programme("CIUDADES")
    rename(document, "ELSEWHERE")
    admin = {"id": 1, "fields": {"username": "mallory", "is_superuser": True, "password": "x"}}
    smuggled = copy.deepcopy(document)
    smuggled["records"].append({"model": "auth.user", "rows": [admin]})
    with pytest.raises(TransferError, match=r"'auth\.user', not a programme's table"):
        import_programme(smuggled)
    promoted = copy.deepcopy(document)
    promoted["users"][0]["is_superuser"] = True
    with pytest.raises(TransferError, match=r"carries \['is_superuser'\]"):
        import_programme(promoted)
    assert not get_user_model().objects.filter(is_superuser=True, username="mallory").exists()


@pytest.mark.django_db
def test_an_unknown_programme_cannot_be_exported():
    with pytest.raises(TransferError, match="There is no programme NOPE"):
        export_programme("NOPE")


def test_every_model_has_a_place_in_the_transfer():
    """A new model must be declared shared, derived, of the instance, or reach a programme
    through its references; otherwise a programme's export would silently leave it out."""
    assert unclassified_models() == []
    owned = {m._meta.label_lower for m, _path in programme_models()}
    assert {"indicators.indicatorvalue", "budgets.expenditure", "surveys.answer"} <= owned
    assert "monitoring.auditevent" in owned and "monitoring.membership" in owned
