"""Writes of targets. Atomic, validated, audited."""

from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from monitoring.models import Agency, City, ReportingPeriod
from monitoring.services import audit_record

from ..engine.requests import request_recompute
from ..models import DisaggregationCategory, Indicator, Target, TargetRevision


@transaction.atomic
def target_create(
    *,
    indicator: Indicator,
    value: Decimal,
    city: City | None = None,
    agency: Agency | None = None,
    period: ReportingPeriod | None = None,
    category: DisaggregationCategory | None = None,
    source: str = "",
    actor: User | None = None,
) -> Target:
    target = Target(
        indicator=indicator,
        city=city,
        agency=agency,
        period=period,
        category=category,
        original_value=value,
        value=value,
        source=source,
    )
    target.full_clean()
    target.save()
    audit_record(
        actor=actor,
        programme=indicator.programme,
        action="target.create",
        obj=target,
        new_value=str(value),
    )
    request_recompute([indicator.pk])
    return target


@transaction.atomic
def target_revise(*, target: Target, new_value: Decimal, reason: str, actor: User | None) -> Target:
    """Move a target to ``new_value``; the original value stays and the revision is kept with
    its reason. The target row is locked so two revisions cannot interleave."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("A target revision needs a reason.")})
    locked = (
        Target.objects.select_for_update().select_related("indicator__programme").get(pk=target.pk)
    )
    old_value = locked.value
    if new_value == old_value:
        raise ValidationError({"value": _("The new value is the same as the current one.")})
    locked.value = new_value
    locked.full_clean()
    locked.save(update_fields=["value", "updated_at"])
    TargetRevision.objects.create(
        target=locked, old_value=old_value, new_value=new_value, reason=reason, revised_by=actor
    )
    audit_record(
        actor=actor,
        programme=locked.indicator.programme,
        action="target.revise",
        obj=locked,
        old_value=str(old_value),
        new_value=str(new_value),
        reason=reason,
    )
    request_recompute([locked.indicator_id])
    return locked
