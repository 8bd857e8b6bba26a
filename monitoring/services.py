"""Writes of the programme core. Each service is atomic, validates before saving and returns
the object it wrote."""

from typing import Any

from django.contrib.auth.models import User
from django.db import models

from .models import AuditEvent, Programme


def audit_record(
    *,
    actor: User | None,
    programme: Programme | None,
    action: str,
    obj: models.Model,
    old_value: Any = None,
    new_value: Any = None,
    reason: str = "",
) -> AuditEvent:
    """Write one audit event. Called by the service that made the change, in its transaction."""
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        programme=programme,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:300],
        old_value=old_value,
        new_value=new_value,
        reason=reason,
    )
