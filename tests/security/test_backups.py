"""Backup and restore (issue 8 §6): a backup of the test database with Ciudades loaded and an
evidence file attached, restored into a new empty database and file storage by the restore
command in a process of its own (as an operator runs it), reproduces the dashboards' figures
(rollup rows, the tidy results table, the budget figures) and the evidence byte for byte.

On PostgreSQL the new database is made with ``createdb`` next to the test database, under a
name of its own, and dropped afterwards; on SQLite it is a new file."""

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

from monitoring.backup import FILES, MANIFEST, BackupError, backup, restore

ROOT = Path(__file__).resolve().parents[2]
EVIDENCE = b"%PDF-1.4\n" + hashlib.sha256(b"informe").digest() * 2000 + b"\n%%EOF\n"


def figures() -> dict:
    """What the dashboards show, from the database this process is connected to: every rollup
    row, the results table, the budget figures, and each evidence file's checksum."""
    from budgets.models import BudgetFigure
    from indicators.models import IndicatorValue, Rollup
    from indicators.selectors.results import ResultQuery, result_rows
    from monitoring.models import Programme

    programme = Programme.objects.get(code="CIUDADES")
    evidence = {
        str(v.pk): hashlib.sha256(v.evidence.open("rb").read()).hexdigest()
        for v in IndicatorValue.objects.exclude(evidence="").order_by("pk")
    }
    return json.loads(
        json.dumps(
            {
                "rollups": list(Rollup.objects.order_by("pk").values()),
                "results": list(result_rows(ResultQuery(programme=programme))),
                "budget": list(BudgetFigure.objects.order_by("pk").values()),
                "evidence": evidence,
            },
            default=str,
        )
    )


FIGURES = (
    "import django, json; django.setup(); "
    "from tests.security.test_backups import figures; print(json.dumps(figures()))"
)


def run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    """manage.py or python in a process of its own, configured by the environment only."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "EMAIL_"))
    }
    clean.update(
        DJANGO_SETTINGS_MODULE="monitoring.settings.local",
        DJANGO_SECRET_KEY="backup-test-" + "k" * 60,
        DJANGO_DEBUG="false",
        **env,
    )
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=300
    )


def database_url(name: str) -> str:
    """The address of database ``name`` on the test database's server."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{name}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def _pg(program: str, *args: str, out: io.StringIO | None = None) -> None:
    db = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": db["PASSWORD"] or ""}
    server = [f"--host={db['HOST'] or '127.0.0.1'}", f"--port={db['PORT'] or 5432}"]
    done = subprocess.run(
        [program, *server, f"--username={db['USER']}", *args],
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    )
    if out is not None:
        out.write(done.stdout)


def tables_in(url: str) -> int:
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            return db.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'").fetchone()[
                0
            ]
    name = url.rsplit("/", 1)[1]
    query = "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'"
    out = io.StringIO()
    _pg(
        "psql",
        "--no-psqlrc",
        "--tuples-only",
        "--no-align",
        f"--dbname={name}",
        "-c",
        query,
        out=out,
    )
    return int(out.getvalue().strip())


@pytest.fixture
def empty_database(tmp_path):
    """A new database of the test database's kind, removed afterwards."""
    if connection.vendor == "sqlite":
        yield database_url(str(tmp_path / "restored.sqlite3"))
        return
    name = f"{connection.settings_dict['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    _pg("createdb", name)
    try:
        yield database_url(name)
    finally:
        _pg("dropdb", "--if-exists", "--force", name)


@pytest.fixture(scope="module")
def made_backup(django_db_setup, django_db_blocker, tmp_path_factory):
    """A backup of the test database with an evidence file attached, and the figures at that
    moment. The attachment is committed for the backup to see, then undone."""
    from indicators.models import IndicatorValue

    out = tmp_path_factory.mktemp("backups") / "nightly"
    with django_db_blocker.unblock():
        value = IndicatorValue.objects.filter(report__programme__code="CIUDADES").earliest("pk")
        name = default_storage.save("evidence/backup-test/informe.pdf", ContentFile(EVIDENCE))
        IndicatorValue.objects.filter(pk=value.pk).update(evidence=name)
        try:
            before = figures()
            manifest = backup(out)
        finally:
            IndicatorValue.objects.filter(pk=value.pk).update(evidence="")
            default_storage.delete(name)
    return out, manifest, before


def test_a_restore_into_an_empty_database_gives_the_same_figures_and_files(
    made_backup, empty_database, tmp_path
):
    out, _manifest, before = made_backup
    media = tmp_path / "media"
    env = {"DATABASE_URL": empty_database, "DJANGO_MEDIA_ROOT": str(media)}

    restored = run(["manage.py", "restore", str(out)], **env)

    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "with the backup's row counts" in restored.stdout
    after = run(["-c", FIGURES], **env)
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout) == before
    assert len(before["evidence"]) == 1
    assert before["evidence"] == {
        k: hashlib.sha256(EVIDENCE).hexdigest() for k in before["evidence"]
    }
    assert len(before["results"]) > 50 and before["budget"] and before["rollups"]
    assert (media / "evidence/backup-test/informe.pdf").read_bytes() == EVIDENCE

    again = run(["manage.py", "restore", str(out)], **env)
    forced = run(["manage.py", "restore", str(out), "--force"], **env)

    assert again.returncode != 0
    assert "The database is not empty" in again.stderr
    assert forced.returncode == 0, forced.stderr
    assert "with the backup's row counts" in forced.stdout


def test_files_already_in_the_storage_are_not_overwritten(made_backup, empty_database, tmp_path):
    out, _manifest, _before = made_backup
    media = tmp_path / "media"
    (media / "evidence/backup-test").mkdir(parents=True)
    (media / "evidence/backup-test/informe.pdf").write_bytes(b"another file")
    env = {"DATABASE_URL": empty_database, "DJANGO_MEDIA_ROOT": str(media)}

    refused = run(["manage.py", "restore", str(out)], **env)

    assert refused.returncode != 0
    assert "already holds 1 of the backup's files" in refused.stderr
    assert (media / "evidence/backup-test/informe.pdf").read_bytes() == b"another file"
    assert tables_in(empty_database) == 0  # the database was left as it was


def test_the_manifest_says_when_what_and_with_which_checksums(made_backup):
    out, manifest, _before = made_backup
    written = json.loads((out / MANIFEST).read_text())
    assert written == manifest
    assert manifest["database"]["vendor"] == connection.vendor
    assert manifest["app_version"] == "0.1.0"
    assert "0001_initial" in manifest["migrations"]["monitoring"]
    assert manifest["rows"]["monitoring_programme"] >= 1
    assert manifest["rows"]["indicators_rollup"] > 0
    assert set(manifest["checksums"]) == {manifest["database"]["file"], FILES}
    for name, check in manifest["checksums"].items():
        content = (out / name).read_bytes()
        assert hashlib.sha256(content).hexdigest() == check["sha256"]
        assert len(content) == check["bytes"]
    assert manifest["created_at"].startswith("20")


def test_the_backup_is_readable_by_its_owner_only(made_backup):
    out, _manifest, _before = made_backup
    assert out.stat().st_mode & 0o777 == 0o700
    for path in out.iterdir():
        assert path.stat().st_mode & 0o777 == 0o600, path


@pytest.mark.django_db
def test_a_restore_into_a_database_that_is_not_empty_is_refused(made_backup):
    out, _manifest, _before = made_backup
    with pytest.raises(BackupError, match="The database is not empty"):
        restore(out)


@pytest.mark.django_db
def test_a_damaged_backup_is_refused_before_anything_is_touched(made_backup, tmp_path):
    out, manifest, _before = made_backup
    damaged = tmp_path / "damaged"
    shutil.copytree(out, damaged)
    dump = damaged / manifest["database"]["file"]
    content = bytearray(dump.read_bytes())
    content[len(content) // 2] ^= 0xFF
    dump.write_bytes(bytes(content))
    with pytest.raises(BackupError, match="does not match its checksum"):
        restore(damaged, force=True)


@pytest.mark.django_db
def test_an_unfinished_backup_is_refused(made_backup, tmp_path):
    out, _manifest, _before = made_backup
    unfinished = tmp_path / "unfinished"
    shutil.copytree(out, unfinished)
    (unfinished / MANIFEST).unlink()
    with pytest.raises(BackupError, match="unfinished"):
        restore(unfinished, force=True)


@pytest.mark.django_db
def test_a_backup_of_newer_code_is_refused(made_backup, tmp_path):
    out, manifest, _before = made_backup
    newer = tmp_path / "newer"
    shutil.copytree(out, newer)
    manifest = {**manifest, "migrations": {**manifest["migrations"]}}
    manifest["migrations"]["monitoring"] = [*manifest["migrations"]["monitoring"], "9999_future"]
    (newer / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(BackupError, match=r"newer version of the code.*monitoring\.9999_future"):
        restore(newer, force=True)


def test_a_backup_goes_into_a_new_or_empty_directory_only(tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "something").write_text("x")
    with pytest.raises(BackupError, match="not an empty directory"):
        backup(tmp_path / "old")


def test_the_commands_explain_a_refusal(tmp_path):
    missing = run(["manage.py", "restore", str(tmp_path / "nothing-here")])
    assert missing.returncode != 0
    assert "Restore failed." in missing.stderr and "holds no manifest.json" in missing.stderr
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "x").write_text("x")
    refused = run(["manage.py", "backup", "--out", str(taken)])
    assert refused.returncode != 0
    assert "No backup was made." in refused.stderr
