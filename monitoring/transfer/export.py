"""Export a programme as one JSON-ready document (see the package's docstring)."""

import base64
import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.files.storage import default_storage
from django.db import models

from ..backup import app_version
from .schema import (
    CHILDREN,
    FORMAT,
    REFERENCE,
    SECRET_USER_FIELDS,
    USER_FIELDS,
    VERSION,
    TransferError,
    _label,
    _relations,
    _schema,
    programme_models,
)


@dataclass
class _Keys:
    """Natural keys of the shared records and usernames the exported records name."""

    used: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    users: set[int] = field(default_factory=set)
    cache: dict[str, dict[int, list[Any]]] = field(default_factory=dict)

    def key(self, label: str, pk: int) -> list[Any]:
        if label not in self.cache:
            model = apps.get_model(label)
            self.cache[label] = {obj.pk: self._key_of(obj) for obj in model._default_manager.all()}
        self.used[label].add(pk)
        return self.cache[label][pk]

    def _key_of(self, obj: models.Model) -> list[Any]:
        parts: list[Any] = []
        for name in REFERENCE[_label(type(obj))]:
            f: Any = obj._meta.get_field(name)
            if f.is_relation:
                parts += self.key(_label(f.related_model), getattr(obj, f.attname))
            else:
                parts.append(getattr(obj, name))
        return parts


def _reference_to(
    target: type[models.Model], pk: Any, keys: _Keys, owned: set[str], where: str
) -> Any:
    if pk is None:
        return None
    label = _label(target)
    if target is get_user_model():
        keys.users.add(pk)
        return pk
    if label in REFERENCE:
        return keys.key(label, pk)
    if label in owned:
        return pk
    raise TransferError(f"{where} refers to a {label}, which does not travel with a programme.")


def _auto_many_to_many(model: type[models.Model]) -> list[Any]:
    """Many-to-many fields without a model of their own (the others are records)."""
    through = [(f, getattr(f.remote_field, "through", None)) for f in model._meta.many_to_many]
    return [f for f, t in through if t is not None and t._meta.auto_created]


def _export_rows(
    model: type[models.Model], queryset: models.QuerySet, keys: _Keys, owned: set[str]
) -> tuple[list[dict], list[str]]:
    rows, files = [], []
    relations = {f.name: f.related_model for f in _relations(model)}
    m2m = {f.name: f.related_model for f in _auto_many_to_many(model)}
    file_fields = [f.name for f in model._meta.concrete_fields if isinstance(f, models.FileField)]
    for item in serializers.serialize("python", queryset):
        values = item["fields"]
        where = f"{_label(model)} #{item['pk']}"
        for name, target in relations.items():
            values[name] = _reference_to(target, values[name], keys, owned, where)
        for name, target in m2m.items():
            values[name] = [_reference_to(target, pk, keys, owned, where) for pk in values[name]]
        files += [values[name] for name in file_fields if values[name]]
        rows.append({"id": item["pk"], "fields": values})
    return rows, files


def export_programme(code: str, *, with_users: bool = False) -> dict:
    """The programme ``code`` as a document (see the module's docstring)."""
    programme_model = apps.get_model("monitoring", "Programme")
    programme = programme_model.objects.filter(code=code).first()
    if programme is None:
        raise TransferError(f"There is no programme {code}.")
    keys, owned_models = _Keys(), programme_models()
    owned = {_label(m) for m, _path in owned_models}
    records, files = [], []
    for model, path in owned_models:
        queryset = model._default_manager.filter(**{path: programme.pk}).order_by("pk")
        rows, names = _export_rows(model, queryset, keys, owned)
        records.append({"model": _label(model), "rows": rows})
        files += names
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": dt.datetime.now(dt.UTC).isoformat(),
        "app_version": app_version(),
        "migrations": _schema(),
        "programme": programme.code,
        "with_users": with_users,
        "reference": _export_reference(keys),
        "users": _export_users(keys.users, with_users),
        "records": _usernames(records, keys),
        "files": _export_files(files),
    }


def _export_reference(keys: _Keys) -> list[dict]:
    for parent, (child, link) in CHILDREN.items():
        for pk in list(keys.used.get(parent, ())):
            for child_pk in (
                apps.get_model(child)
                ._default_manager.filter(**{link: pk})
                .values_list("pk", flat=True)
            ):
                keys.key(child, child_pk)
    out = []
    for label in REFERENCE:
        model = apps.get_model(label)
        pks = sorted(keys.used.get(label, ()))
        rows = []
        for item in serializers.serialize(
            "python", model._default_manager.filter(pk__in=pks).order_by("pk")
        ):
            values = item["fields"]
            for f in _relations(model):
                values[f.name] = keys.key(_label(f.related_model), values[f.name])
            rows.append({"id": item["pk"], "key": keys.key(label, item["pk"]), "fields": values})
        out.append({"model": label, "rows": rows})
    return out


def _export_users(pks: set[int], with_users: bool) -> list[dict]:
    names = USER_FIELDS + (SECRET_USER_FIELDS if with_users else ())
    users = get_user_model()._default_manager.filter(pk__in=pks).order_by("username")
    return [
        {
            n: (v.isoformat() if isinstance(v, dt.datetime) else v)
            for n, v in zip(names, row, strict=True)
        }
        for row in users.values_list(*names)
    ]


def _usernames(records: list[dict], keys: _Keys) -> list[dict]:
    """References to users as usernames (collected while the records were read)."""
    user_model = get_user_model()
    usernames = dict(
        user_model._default_manager.filter(pk__in=keys.users).values_list("pk", "username")
    )
    for block in records:
        model = apps.get_model(block["model"])
        names = [f.name for f in _relations(model) if f.related_model is user_model]
        for row in block["rows"]:
            for name in names:
                if row["fields"][name] is not None:
                    row["fields"][name] = usernames[row["fields"][name]]
    return records


def _export_files(names: Iterable[str]) -> list[dict]:
    out = []
    for name in sorted(set(names)):
        if not default_storage.exists(name):
            out.append({"name": name, "missing": True})
            continue
        with default_storage.open(name, "rb") as f:
            content = f.read()
        out.append(
            {
                "name": name,
                "sha256": hashlib.sha256(content).hexdigest(),
                "content": base64.b64encode(content).decode("ascii"),
            }
        )
    return out
