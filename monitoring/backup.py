"""Backup and restore of a whole instance: the database and the uploaded files.

A backup is a directory holding

- ``database.dump`` (PostgreSQL: ``pg_dump --format=custom``) or ``database.sqlite3`` (SQLite:
  a copy made with SQLite's online backup API, consistent while the site runs);
- ``files.tar.gz``: every file of the default storage (evidence, deliverables, exports), read
  through the storage API, so it works for any storage, not only a local ``MEDIA_ROOT``;
- ``manifest.json``, written last: when, which code and migrations, the SHA-256 and size of
  both files, and the number of rows of every table. A directory without a manifest is an
  unfinished backup and is refused.

A restore checks the checksums first, refuses a database that is not empty (and a storage
that already holds any of the backup's files) unless forced, restores the database
(``pg_restore --single-transaction``: all or nothing), then the files, and compares every
table's row count with the manifest."""

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import File
from django.core.files.storage import Storage, default_storage
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

FORMAT = "conjunto-backup"
VERSION = 1
MANIFEST = "manifest.json"
FILES = "files.tar.gz"
DATABASE = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}
# libpq's environment variables for the connection options Django passes through.
PG_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "options": "PGOPTIONS",
}


class BackupError(Exception):
    """The backup or restore cannot go on; the message says why and what to do."""


@dataclass
class Restored:
    tables: int
    files: int
    missing_migrations: list[str] = field(default_factory=list)


# --- shared -----------------------------------------------------------------------------


def app_version() -> str:
    try:
        with (Path(settings.BASE_DIR) / "pyproject.toml").open("rb") as f:
            return str(tomllib.load(f)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _vendor(using: str) -> str:
    vendor = connections[using].vendor
    if vendor not in DATABASE:
        raise BackupError(f"Backups support PostgreSQL and SQLite, not {vendor}.")
    return vendor


def _tables(using: str) -> list[str]:
    """The tables of every installed model (auto-created many-to-many tables too)."""
    existing = set(connections[using].introspection.table_names())
    return sorted(
        {
            m._meta.db_table
            for m in apps.get_models(include_auto_created=True)
            if m._meta.managed and not m._meta.proxy and m._meta.db_table in existing
        }
    )


def _state(cursor: Any, tables: list[str], quote: Any) -> tuple[dict[str, int], dict]:
    """Rows per table and applied migrations, read through ``cursor``."""
    counts = {}
    for table in tables:
        cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")  # noqa: S608 (a table name)
        counts[table] = int(cursor.fetchone()[0])
    applied: dict[str, list[str]] = {}
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    for app, name in cursor.fetchall():
        applied.setdefault(app, []).append(name)
    return counts, applied


def database_state(using: str) -> tuple[dict[str, int], dict]:
    connection = connections[using]
    with connection.cursor() as cursor:
        return _state(cursor, _tables(using), connection.ops.quote_name)


def _pg_command(program: str, using: str, pg_bin: str | None) -> tuple[list[str], dict[str, str]]:
    """The program with the connection of ``using``; the password goes in the environment,
    never on the command line (where ``ps`` shows it)."""
    db = connections[using].settings_dict
    path = str(Path(pg_bin) / program) if pg_bin else shutil.which(program)
    if not path or not Path(path).exists():
        raise BackupError(
            f"{program} was not found. Install the PostgreSQL client programs of the server's "
            "major version (or newer), or give their directory with --pg-bin."
        )
    args = [path, "--no-password", f"--dbname={db['NAME']}"]
    if db.get("HOST"):
        args.append(f"--host={db['HOST']}")
    if db.get("PORT"):
        args.append(f"--port={db['PORT']}")
    if db.get("USER"):
        args.append(f"--username={db['USER']}")
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    for option, variable in PG_OPTIONS.items():
        if db.get("OPTIONS", {}).get(option):
            env[variable] = str(db["OPTIONS"][option])
    return args, env


def _run(args: list[str], env: dict[str, str], what: str) -> str:
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{what} failed: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout


def _storage_files(storage: Storage, directory: str = "") -> Iterator[str]:
    try:
        directories, files = storage.listdir(directory)
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in sorted(files):
        yield f"{directory}/{name}" if directory else name
    for sub in sorted(directories):
        yield from _storage_files(storage, f"{directory}/{sub}" if directory else sub)


# --- backup -------------------------------------------------------------------------------


def backup(out: Path, *, using: str = DEFAULT_DB_ALIAS, pg_bin: str | None = None) -> dict:
    """Write a backup of the database ``using`` and of the default storage into ``out``
    (a new or empty directory). Returns the manifest."""
    vendor = _vendor(using)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BackupError(f"{out} is not an empty directory; give a new one.")
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    out.chmod(0o700)  # personal data: readable by the operator only
    database = out / DATABASE[vendor]
    if vendor == "postgresql":
        rows, migrations = _pg_dump(database, using, pg_bin)
    else:
        rows, migrations = _sqlite_dump(database, using)
    stored = _archive_files(default_storage, out / FILES)
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "created_at": dt.datetime.now(dt.UTC).isoformat(),
        "app_version": app_version(),
        "database": {"vendor": vendor, "file": database.name},
        "migrations": migrations,
        "rows": rows,
        "stored_files": stored,
        "checksums": {
            p.name: {"sha256": sha256(p), "bytes": p.stat().st_size}
            for p in (database, out / FILES)
        },
    }
    for path in (database, out / FILES):
        path.chmod(0o600)
    partial = out / f".{MANIFEST}.partial"
    partial.write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
    partial.chmod(0o600)
    partial.rename(out / MANIFEST)
    return manifest


def _pg_dump(database: Path, using: str, pg_bin: str | None) -> tuple[dict[str, int], dict]:
    """The dump, and the row counts and migrations of the very same snapshot: the site may
    write meanwhile, and the restore compares its rows with these."""
    args, env = _pg_command("pg_dump", using, pg_bin)
    connection = connections[using]
    if connection.in_atomic_block:
        raise BackupError("A backup runs in a transaction of its own, not inside another.")
    tables = _tables(using)
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        _run(
            [*args, "--format=custom", f"--snapshot={snapshot}", f"--file={database}"],
            env,
            "pg_dump",
        )
        return _state(cursor, tables, connection.ops.quote_name)


def _sqlite_dump(database: Path, using: str) -> tuple[dict[str, int], dict]:
    tables = _tables(using)
    _sqlite_copy(Path(_sqlite_name(using)), database)
    copy = sqlite3.connect(database)
    try:
        return _state(copy.cursor(), tables, connections[using].ops.quote_name)
    finally:
        copy.close()


def _sqlite_name(using: str) -> str:
    name = str(connections[using].settings_dict["NAME"])
    if name == ":memory:" or name.startswith("file::memory:"):
        raise BackupError("An in-memory SQLite database cannot be backed up or restored.")
    return name


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy of the committed data, even while the site
    writes, through a connection of its own."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def _archive_files(storage: Storage, target: Path) -> int:
    """Every stored file into one tar.gz, streamed (an export may be large)."""
    count = 0
    with tarfile.open(target, "w:gz") as tar:
        for name in _storage_files(storage):
            info = tarfile.TarInfo(name)
            info.size = storage.size(name)
            info.mode = 0o600
            with storage.open(name, "rb") as f:
                tar.addfile(info, f)
            count += 1
    return count


# --- restore ------------------------------------------------------------------------------


def read_manifest(source: Path) -> dict:
    path = source / MANIFEST
    if not path.is_file():
        raise BackupError(f"{source} holds no {MANIFEST}: not a backup, or an unfinished one.")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise BackupError(f"{path} is not valid JSON: {error}") from error
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise BackupError(f"{path} is not a {FORMAT} version {VERSION} manifest.")
    return manifest


def verify(source: Path, manifest: dict) -> None:
    """Every file the manifest lists is there with its checksum."""
    for name, expected in manifest["checksums"].items():
        path = source / name
        if not path.is_file():
            raise BackupError(f"{path} is missing.")
        if sha256(path) != expected["sha256"]:
            raise BackupError(f"{path} does not match its checksum: the backup is damaged.")


def restore(
    source: Path,
    *,
    using: str = DEFAULT_DB_ALIAS,
    force: bool = False,
    pg_bin: str | None = None,
) -> Restored:
    """Restore the backup in ``source`` into the database ``using`` and the default storage.
    Both must be empty unless ``force`` (which empties the database first and overwrites the
    backup's files)."""
    manifest = read_manifest(source)
    verify(source, manifest)
    vendor = _vendor(using)
    if manifest["database"]["vendor"] != vendor:
        raise BackupError(
            f"This is a {manifest['database']['vendor']} backup; the database is {vendor}."
        )
    _check_migrations_known(manifest)
    tables = connections[using].introspection.table_names()
    if tables and not force:
        raise BackupError(
            f"The database is not empty ({len(tables)} tables). Restore into a new, empty "
            "database, or give --force to replace everything in it."
        )
    archive = source / FILES
    _check_storage_free(archive, force)
    database = source / manifest["database"]["file"]
    if vendor == "postgresql":
        _pg_restore(database, using, pg_bin, drop=[*tables] if force else [])
    else:
        connections[using].close()
        _sqlite_copy(database, Path(_sqlite_name(using)))
    connections[using].close()
    try:
        files = _restore_files(archive, force)
        _check_rows(manifest, using)
    except BackupError as error:
        raise BackupError(f"The database was restored, but: {error}") from error
    return Restored(tables=len(manifest["rows"]), files=files, missing_migrations=_unapplied(using))


def _check_migrations_known(manifest: dict) -> None:
    """A backup made by newer code has migrations this code does not know: restoring it here
    would leave a database the code cannot read."""
    known = MigrationLoader(None, ignore_no_migrations=True).disk_migrations
    labels = {config.label for config in apps.get_app_configs()}
    unknown = [
        f"{app}.{name}"
        for app, names in manifest["migrations"].items()
        for name in names
        if app in labels and (app, name) not in known
    ]
    if unknown:
        raise BackupError(
            "The backup was made by a newer version of the code (migrations unknown here: "
            + ", ".join(unknown[:5])
            + "). Deploy that version, then restore."
        )


def _unapplied(using: str) -> list[str]:
    applied = MigrationRecorder(connections[using]).applied_migrations()
    known = MigrationLoader(None, ignore_no_migrations=True).disk_migrations
    return sorted(f"{app}.{name}" for app, name in known if (app, name) not in applied)


def _check_storage_free(archive: Path, force: bool) -> None:
    if force:
        return
    with tarfile.open(archive, "r:gz") as tar:
        clashes = [
            m.name for m in tar.getmembers() if m.isfile() and default_storage.exists(m.name)
        ]
    if clashes:
        raise BackupError(
            f"The file storage already holds {len(clashes)} of the backup's files (e.g. "
            f"{clashes[0]}). Restore into an empty storage, or give --force to overwrite them."
        )


def _pg_restore(database: Path, using: str, pg_bin: str | None, drop: list[str]) -> None:
    args, env = _pg_command("pg_restore", using, pg_bin)
    # Readable and complete before anything in the database is touched.
    _run([args[0], "--list", str(database)], env, "pg_restore --list")
    if drop:
        connection = connections[using]
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS " + ", ".join(map(quote, drop)) + " CASCADE")
        connection.close()
    connections[using].close()
    _run(
        [
            *args,
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            str(database),
        ],
        env,
        "pg_restore",
    )


def _restore_files(archive: Path, force: bool) -> int:
    count = 0
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            if not member.isfile():
                continue
            extracted = tar.extractfile(member)
            if extracted is None:
                continue
            if force and default_storage.exists(member.name):
                default_storage.delete(member.name)
            try:
                saved = default_storage.save(member.name, File(extracted, name=member.name))
            except SuspiciousFileOperation as error:
                raise BackupError(f"{member.name}: refused ({error}).") from error
            if saved != member.name:
                raise BackupError(
                    f"{member.name} was stored as {saved}; restore into an empty storage."
                )
            count += 1
    return count


def _check_rows(manifest: dict, using: str) -> None:
    restored, _migrations = database_state(using)
    differ = {
        table: (rows, restored.get(table))
        for table, rows in manifest["rows"].items()
        if restored.get(table) != rows
    }
    if differ:
        table, (expected, found) = next(iter(differ.items()))
        raise BackupError(
            f"After the restore {len(differ)} tables differ from the backup "
            f"(e.g. {table}: {found} rows, the backup had {expected})."
        )
