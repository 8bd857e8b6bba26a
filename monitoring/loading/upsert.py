"""Write a record only when it differs from what is stored, so loading the same document twice
changes nothing (not even ``updated_at``). Every failure becomes a ``LoadError`` that names the
record and the field."""

from collections import Counter
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models


class LoadError(Exception):
    """Bad data in a programme document. ``record`` says which record, ``field`` which field."""

    def __init__(self, record: str, field: str | None, message: str) -> None:
        self.record, self.field, self.message = record, field, message
        where = f"{record}, field '{field}'" if field else record
        super().__init__(f"{where}: {message}")


def validation_to_load_error(record: str, error: ValidationError) -> LoadError:
    if hasattr(error, "error_dict"):
        fields = [f for f in error.message_dict if f != NON_FIELD_ERRORS]
        field = fields[0] if fields else None
        messages = error.message_dict[field or NON_FIELD_ERRORS]
        return LoadError(record, field, " ".join(messages))
    return LoadError(record, None, " ".join(error.messages))


def to_optional_decimal(record: str, field: str, raw: Any) -> Decimal | None:
    """A number, or None when the document leaves it empty."""
    if raw is None or raw == "":
        return None
    return to_decimal(record, field, raw)


def to_decimal(record: str, field: str, raw: Any) -> Decimal:
    if raw is None or raw == "":
        raise LoadError(record, field, "a number is required.")
    if isinstance(raw, bool):
        raise LoadError(record, field, f"expected a number, got {raw!r}.")
    try:
        number = Decimal(str(raw))
    except InvalidOperation:
        raise LoadError(record, field, f"expected a number, got {raw!r}.") from None
    if not number.is_finite():
        raise LoadError(record, field, f"expected a finite number, got {raw!r}.")
    return number


class Upserter:
    """Counts what it created, updated and left unchanged, per model."""

    def __init__(self) -> None:
        self.created: Counter[str] = Counter()
        self.updated: Counter[str] = Counter()
        self.unchanged: Counter[str] = Counter()

    def save(
        self,
        model: type[models.Model],
        record: str,
        lookup: dict[str, Any],
        values: dict[str, Any],
        m2m: dict[str, list[models.Model]] | None = None,
    ) -> Any:
        obj = model._default_manager.filter(**lookup).first()
        created = obj is None
        dirty = created
        if obj is None:
            obj = model(**lookup, **values)
        else:
            for field, value in values.items():
                if getattr(obj, field) != value:
                    setattr(obj, field, value)
                    dirty = True
        if dirty:
            try:
                obj.full_clean()
            except ValidationError as error:
                raise validation_to_load_error(record, error) from None
            obj.save()
        m2m_dirty = self._set_m2m(obj, m2m or {})
        name = str(model._meta.verbose_name_plural)
        if created:
            self.created[name] += 1
        elif dirty or m2m_dirty:
            self.updated[name] += 1
        else:
            self.unchanged[name] += 1
        return obj

    @staticmethod
    def _set_m2m(obj: models.Model, m2m: dict[str, list[models.Model]]) -> bool:
        changed = False
        for field, wanted in m2m.items():
            manager = getattr(obj, field)
            current = {o.pk for o in manager.all()}
            if current != {o.pk for o in wanted}:
                manager.set(wanted)
                changed = True
        return changed

    def summary(self) -> str:
        def fmt(counter: Counter[str]) -> str:
            return ", ".join(f"{n} {name}" for name, n in sorted(counter.items())) or "nothing"

        return (
            f"created: {fmt(self.created)}\n"
            f"updated: {fmt(self.updated)}\n"
            f"unchanged: {sum(self.unchanged.values())} records"
        )

    @property
    def changes(self) -> int:
        return sum(self.created.values()) + sum(self.updated.values())
