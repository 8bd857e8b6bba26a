"""Assertions shared by the tests."""

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models, transaction


def assert_refused(obj: models.Model, *, field: str | None, message: str) -> None:
    """``full_clean`` refuses ``obj`` with ``message`` on ``field`` (None: the whole record)."""
    with pytest.raises(ValidationError) as info:
        obj.full_clean()
    errors = info.value.message_dict
    key = field or NON_FIELD_ERRORS
    assert key in errors, f"expected an error on {key!r}, got {errors}"
    assert any(message in m for m in errors[key]), f"{message!r} not in {errors[key]}"


def assert_db_refuses(obj: models.Model) -> None:
    """The database itself refuses ``obj`` when validation is bypassed."""
    with pytest.raises(IntegrityError), transaction.atomic():
        obj.save()
