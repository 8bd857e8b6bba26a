"""Writes of the follow-up page: a status observed for an agreement or a tool. The history is
append-only (nothing is overwritten, so two people recording at once lose nothing); an
agreement's ``status`` follows its latest observation."""

import datetime as dt

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from monitoring.services import audit_record

from ..models import Agreement, AgreementUpdate, Tool, ToolAdoption


def _check_observed_on(observed_on: dt.date, today: dt.date) -> None:
    if observed_on > today:
        raise ValidationError({"observed_on": _("A status cannot be observed in the future.")})


@transaction.atomic
def agreement_status_record(
    *,
    agreement: Agreement,
    actor: User | None,
    observed_on: dt.date,
    status: str,
    note_es: str = "",
    note_en: str = "",
    source: str = "",
    today: dt.date,
) -> AgreementUpdate:
    _check_observed_on(observed_on, today)
    locked = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if status in (Agreement.Status.SIGNED, Agreement.Status.IN_FORCE) and (
        locked.signed_on is not None and observed_on < locked.signed_on
    ):
        raise ValidationError(
            {
                "observed_on": _("The agreement was signed on %(date)s; this is before it.")
                % {"date": locked.signed_on.isoformat()}
            }
        )
    update = AgreementUpdate(
        agreement=locked,
        observed_on=observed_on,
        status=status,
        note_es=note_es.strip(),
        note_en=note_en.strip(),
        source=source,
        recorded_by=actor,
    )
    update.full_clean()
    update.save()
    latest = locked.updates.order_by("-observed_on", "-pk").first()
    if latest is not None and latest.status != locked.status:
        old = locked.status
        locked.status = latest.status
        locked.save(update_fields=["status"])
        audit_record(
            actor=actor,
            programme=locked.programme,
            action="agreement.status",
            obj=locked,
            old_value={"status": old},
            new_value={"status": locked.status, "observed_on": observed_on.isoformat()},
        )
    return update


@transaction.atomic
def tool_adoption_record(
    *,
    tool: Tool,
    actor: User | None,
    observed_on: dt.date,
    status: str,
    institution: str = "",
    evidence_es: str = "",
    evidence_en: str = "",
    source: str = "",
    today: dt.date,
) -> ToolAdoption:
    _check_observed_on(observed_on, today)
    if tool.produced_on is not None and observed_on < tool.produced_on:
        raise ValidationError(
            {
                "observed_on": _("The tool was produced on %(date)s; this is before it.")
                % {"date": tool.produced_on.isoformat()}
            }
        )
    adoption = ToolAdoption(
        tool=tool,
        observed_on=observed_on,
        status=status,
        institution=institution.strip(),
        evidence_es=evidence_es.strip(),
        evidence_en=evidence_en.strip(),
        source=source,
        recorded_by=actor,
    )
    adoption.full_clean()
    adoption.save()
    audit_record(
        actor=actor,
        programme=tool.programme,
        action="tool.adoption",
        obj=tool,
        new_value={
            "status": status,
            "observed_on": observed_on.isoformat(),
            "institution": adoption.institution,
        },
    )
    return adoption
