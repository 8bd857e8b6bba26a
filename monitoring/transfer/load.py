"""Import a programme document into this instance: all or nothing, then its figures are
computed (see the package's docstring)."""

import base64
import hashlib
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.serializers.base import DeserializationError
from django.db import IntegrityError, models, transaction
from django.db.migrations.loader import MigrationLoader

from .schema import (
    FORMAT,
    PROJECT_APPS,
    REFERENCE,
    SECRET_USER_FIELDS,
    USER_FIELDS,
    VERSION,
    TransferError,
    _label,
    _relations,
    programme_models,
)


@dataclass
class ImportStats:
    records: dict[str, int] = field(default_factory=dict)
    reference_created: dict[str, int] = field(default_factory=dict)
    reference_reused: dict[str, int] = field(default_factory=dict)
    users_created: list[str] = field(default_factory=list)
    users_reused: list[str] = field(default_factory=list)
    files: int = 0
    missing_files: list[str] = field(default_factory=list)
    rollup_rows: int = 0

    def summary(self) -> str:
        created = sum(self.reference_created.values())
        reused = sum(self.reference_reused.values())
        return (
            f"{sum(self.records.values())} records in {len(self.records)} tables; shared "
            f"records: {created} created, {reused} already here; users: "
            f"{len(self.users_created)} created, {len(self.users_reused)} already here; "
            f"{self.files} files; {self.rollup_rows} rollup rows computed."
        )


def check_document(document: Any) -> None:
    """A programme document this code can read, refused with the reason otherwise."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise TransferError(f"This is not a {FORMAT} document.")
    if document.get("version") != VERSION:
        raise TransferError(
            f"This document is version {document.get('version')}; this code reads {VERSION}."
        )
    known = MigrationLoader(None, ignore_no_migrations=True).disk_migrations
    unknown = [
        f"{app}.{name}"
        for app, names in document.get("migrations", {}).items()
        for name in names
        if app in PROJECT_APPS and (app, name) not in known
    ]
    if unknown:
        raise TransferError(
            "The document was exported by a newer version of the code (migrations unknown "
            f"here: {', '.join(unknown[:5])}). Upgrade this instance first."
        )
    _check_contents(document)


def _check_contents(document: dict) -> None:
    """Only the tables a programme export writes: a document is data, and must not be able
    to create anything else here (an administrator account, say)."""
    owned = {_label(m) for m, _path in programme_models()}
    for block in document.get("records", []):
        if block.get("model") not in owned:
            raise TransferError(
                f"The document holds {block.get('model')!r}, not a programme's table."
            )
    for block in document.get("reference", []):
        if block.get("model") not in REFERENCE:
            raise TransferError(f"The document holds {block.get('model')!r}, not a shared table.")
    allowed = {*USER_FIELDS, *(SECRET_USER_FIELDS if document.get("with_users") else ())}
    for user in document.get("users", []):
        extra = set(user) - allowed
        if extra:
            raise TransferError(f"User {user.get('username')!r} carries {sorted(extra)}.")
    programmes = [b for b in document.get("records", []) if b["model"] == "monitoring.programme"]
    if len(programmes) != 1 or len(programmes[0]["rows"]) != 1:
        raise TransferError("The document must hold exactly one programme.")
    if programmes[0]["rows"][0]["fields"].get("code") != document.get("programme"):
        raise TransferError("The document's programme code does not match its programme record.")


def import_programme(document: dict) -> tuple[models.Model, ImportStats]:
    """Create the programme of ``document`` and everything under it, all or nothing, and
    compute its figures."""
    from indicators.engine import refresh_indicators

    check_document(document)
    code = document["programme"]
    if apps.get_model("monitoring", "Programme").objects.filter(code=code).exists():
        raise TransferError(f"Programme {code} exists here already; nothing was imported.")
    importer = _Importer(document)
    try:
        with transaction.atomic():
            programme = importer.run()
            indicators = list(programme.indicators.values_list("pk", flat=True))  # type: ignore[attr-defined]
            importer.stats.rollup_rows = refresh_indicators(indicators).rows
    except (
        IntegrityError,
        DeserializationError,
        ValidationError,
        LookupError,
        ValueError,
    ) as error:
        importer.remove_files()
        raise TransferError(f"Nothing was imported: {type(error).__name__}: {error}") from error
    except BaseException:
        importer.remove_files()
        raise
    return programme, importer.stats


class _Importer:
    def __init__(self, document: dict) -> None:
        self.document = document
        self.stats = ImportStats()
        # (label, id in the document) → id here
        self.ids: dict[tuple[str, Any], int] = {}
        self.keys: dict[tuple[str, tuple], int] = {}
        self.users: dict[str, int] = {}
        self.files = {f["name"]: f for f in document.get("files", [])}
        self.stored: list[str] = []

    def run(self) -> models.Model:
        for block in self.document["reference"]:
            self._reference(apps.get_model(block["model"]), block["rows"])
        self._users(self.document["users"])
        deferred: list[tuple[type[models.Model], int, str, Any]] = []
        for block in self.document["records"]:
            model = apps.get_model(block["model"])
            for row in block["rows"]:
                self._record(model, row, deferred)
            self.stats.records[block["model"]] = len(block["rows"])
        for model, pk, attname, old in deferred:  # references to a record of the same table
            model._default_manager.filter(pk=pk).update(**{attname: self.ids[(_label(model), old)]})
        self._remap_audit_trail()
        programme_id = self.ids[("monitoring.programme", self._programme_row()["id"])]
        return apps.get_model("monitoring", "Programme").objects.get(pk=programme_id)

    def _programme_row(self) -> dict:
        block = next(b for b in self.document["records"] if b["model"] == "monitoring.programme")
        return block["rows"][0]

    def _local_key(self, model: type[models.Model], key: list[Any]) -> dict[str, Any]:
        """The lookup of a shared record by its natural key (parents resolved here)."""
        lookup, rest = {}, list(key)
        for name in REFERENCE[_label(model)]:
            f: Any = model._meta.get_field(name)
            if f.is_relation:
                size = len(REFERENCE[_label(f.related_model)])
                lookup[f.attname] = self.keys[(_label(f.related_model), tuple(rest[:size]))]
                rest = rest[size:]
            else:
                lookup[name] = rest.pop(0)
        return lookup

    def _reference(self, model: type[models.Model], rows: list[dict]) -> None:
        label = _label(model)
        for row in rows:
            lookup = self._local_key(model, row["key"])
            existing = model._default_manager.filter(**lookup).first()
            if existing is None:
                fields = dict(row["fields"])
                for f in _relations(model):
                    key = fields[f.name]
                    fields[f.name] = (
                        None if key is None else self.keys[(_label(f.related_model), tuple(key))]
                    )
                existing = self._save(model, fields)
                self.stats.reference_created[label] = self.stats.reference_created.get(label, 0) + 1
            else:
                self.stats.reference_reused[label] = self.stats.reference_reused.get(label, 0) + 1
            self.keys[(label, tuple(row["key"]))] = existing.pk
            self.ids[(label, row["id"])] = existing.pk

    def _users(self, rows: list[dict]) -> None:
        user_model = get_user_model()
        for row in rows:
            user = user_model._default_manager.filter(username=row["username"]).first()
            if user is None:
                user = user_model(**{k: v for k, v in row.items() if k != "password"})
                if row.get("password"):
                    user.password = row["password"]
                else:
                    user.set_unusable_password()
                user.save()
                self.stats.users_created.append(user.username)
            else:
                self.stats.users_reused.append(user.username)
            self.users[user.username] = user.pk

    def _record(self, model: type[models.Model], row: dict, deferred: list) -> None:
        label, fields = _label(model), dict(row["fields"])
        user_model = get_user_model()
        later = []
        for f in _relations(model):
            value, target = fields[f.name], f.related_model
            if value is None:
                continue
            if target is user_model:
                fields[f.name] = self.users[value]
            elif _label(target) in REFERENCE:
                fields[f.name] = self.keys[(_label(target), tuple(value))]
            elif target is model:
                later.append((f.attname, value))
                fields[f.name] = None
            else:
                fields[f.name] = self._id(_label(target), value, label)
        for m2m in model._meta.many_to_many:
            if m2m.name in fields:
                other = _label(m2m.related_model)
                if other in REFERENCE:
                    fields[m2m.name] = [self.keys[(other, tuple(v))] for v in fields[m2m.name]]
                else:
                    fields[m2m.name] = [self._id(other, v, label) for v in fields[m2m.name]]
        obj = self._save(model, fields)
        self.ids[(label, row["id"])] = obj.pk
        deferred += [(model, obj.pk, attname, old) for attname, old in later]

    def _id(self, label: str, old: Any, where: str) -> int:
        try:
            return self.ids[(label, old)]
        except KeyError:
            raise TransferError(
                f"A {where} refers to {label} #{old}, which is not in the document."
            ) from None

    def _save(self, model: type[models.Model], fields: dict[str, Any]) -> models.Model:
        """Through Django's deserializer (values as the serializer wrote them), with a new id;
        ``raw`` keeps the recorded times (created, updated) as they were."""
        item = {"model": _label(model), "pk": None, "fields": fields}
        (deserialized,) = serializers.deserialize("python", [item])
        self._store_files(deserialized.object)
        deserialized.save()
        return deserialized.object

    def _store_files(self, obj: models.Model) -> None:
        for f in obj._meta.concrete_fields:
            if not isinstance(f, models.FileField):
                continue
            name = getattr(obj, f.attname)
            if not name:
                continue
            entry = self.files.get(str(name))
            if entry is None or entry.get("missing"):
                self.stats.missing_files.append(str(name))
                continue
            content = base64.b64decode(entry["content"])
            if hashlib.sha256(content).hexdigest() != entry["sha256"]:
                raise TransferError(f"The file {name} does not match its checksum.")
            target = f.generate_filename(obj, PurePosixPath(str(name)).name)
            stored = default_storage.save(target, ContentFile(content))
            self.stored.append(stored)
            setattr(obj, f.attname, stored)
            self.stats.files += 1

    def _remap_audit_trail(self) -> None:
        """Audit events name their object by type and id: the ids are this instance's now."""
        events = apps.get_model("monitoring", "AuditEvent")
        programme = self.ids[("monitoring.programme", self._programme_row()["id"])]
        for event in events.objects.filter(programme_id=programme):
            new = self.ids.get((event.object_type, _as_id(event.object_id)))
            if new is not None and str(new) != event.object_id:
                events.objects.filter(pk=event.pk).update(object_id=str(new))

    def remove_files(self) -> None:
        for name in self.stored:
            default_storage.delete(name)


def _as_id(text: str) -> Any:
    return int(text) if text.isdigit() else text
