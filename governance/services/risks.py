"""Writes of the risk register: enter a risk, change it (refused when somebody saved it after
the page was loaded), record a review. Each is atomic, validated before anything is written,
audited, and leaves a review row whenever the rating or the status changes, so the heat map
can be drawn as it stood on any earlier date."""

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from monitoring.models import City, Outcome, Programme
from monitoring.services import audit_record

from ..models import Risk, RiskReview

TRACKED = ("likelihood", "impact", "rating_basis", "status")


class StaleRisk(Exception):
    """Somebody saved the risk after this user opened it."""

    def __init__(self, current: Risk) -> None:
        super().__init__(f"risk {current.code} is at version {current.version}")
        self.current = current


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    return value


def _state(risk: Risk) -> dict[str, Any]:
    fields = [f.name for f in Risk._meta.concrete_fields if f.editable and f.name != "programme"]
    return {name: _plain(getattr(risk, name)) for name in fields}


def _review_row(risk: Risk, actor: User, on: dt.date, note: str) -> RiskReview:
    return RiskReview.objects.create(
        risk=risk,
        reviewed_on=on,
        reviewed_by=actor,
        likelihood=risk.likelihood,
        impact=risk.impact,
        rating_basis=risk.rating_basis,
        status=risk.status,
        note=note,
    )


def _check_m2m(programme: Programme, cities: Iterable[City], outcomes: Iterable[Outcome]) -> None:
    if any(not programme.cities.filter(pk=c.pk).exists() for c in cities):
        raise ValidationError({"cities": _("This city is not part of the programme.")})
    if any(o.programme_id != programme.pk for o in outcomes):
        raise ValidationError({"outcomes": _("It belongs to another programme.")})


@transaction.atomic
def risk_create(
    *,
    programme: Programme,
    actor: User,
    values: dict[str, Any],
    cities: Iterable[City] = (),
    outcomes: Iterable[Outcome] = (),
    today: dt.date,
) -> Risk:
    """A new risk, with its first review row (its rating and status as entered, today)."""
    cities, outcomes = list(cities), list(outcomes)
    risk = Risk(programme=programme, updated_by=actor, **values)
    risk.full_clean()
    _check_m2m(programme, cities, outcomes)
    risk.save()
    risk.cities.set(cities)
    risk.outcomes.set(outcomes)
    _review_row(risk, actor, today, _("Risk entered."))
    audit_record(
        actor=actor, programme=programme, action="risk.create", obj=risk, new_value=_state(risk)
    )
    return risk


@transaction.atomic
def risk_update(
    *,
    risk: Risk,
    actor: User,
    expected_version: int,
    values: dict[str, Any],
    cities: Iterable[City],
    outcomes: Iterable[Outcome],
    today: dt.date,
    note: str = "",
) -> Risk:
    """Change a risk if nobody saved it since the user loaded ``expected_version``; a change
    of rating or status leaves a review row dated today."""
    locked = Risk.objects.select_for_update().get(pk=risk.pk)
    if locked.version != expected_version:
        raise StaleRisk(locked)
    old = _state(locked)
    for name, value in values.items():
        setattr(locked, name, value)
    locked.full_clean()
    cities, outcomes = list(cities), list(outcomes)
    _check_m2m(locked.programme, cities, outcomes)
    changed = any(old[name] != _plain(getattr(locked, name)) for name in TRACKED)
    locked.version = F("version") + 1
    locked.updated_by = actor
    locked.save()
    locked.refresh_from_db()
    locked.cities.set(cities)
    locked.outcomes.set(outcomes)
    if changed:
        _review_row(locked, actor, today, note or _("Changed on the risk's form."))
    audit_record(
        actor=actor,
        programme=locked.programme,
        action="risk.update",
        obj=locked,
        old_value=old,
        new_value=_state(locked),
    )
    return locked


@transaction.atomic
def risk_review(
    *,
    risk: Risk,
    actor: User,
    expected_version: int,
    reviewed_on: dt.date,
    likelihood: int | None,
    impact: int | None,
    rating_basis: str,
    status: str,
    review_on: dt.date | None,
    note: str,
    today: dt.date,
) -> RiskReview:
    """Record a review: the rating and status from ``reviewed_on`` (not in the future, not
    before the risk was first reported nor before its latest review) and the next review."""
    locked = Risk.objects.select_for_update().get(pk=risk.pk)
    if locked.version != expected_version:
        raise StaleRisk(locked)
    _check_review_date(locked, reviewed_on, today)
    old = _state(locked)
    locked.likelihood, locked.impact = likelihood, impact
    locked.rating_basis, locked.status = rating_basis, status
    locked.review_on = review_on
    locked.full_clean()
    locked.version = F("version") + 1
    locked.updated_by = actor
    locked.save()
    locked.refresh_from_db()
    review = _review_row(locked, actor, reviewed_on, note)
    audit_record(
        actor=actor,
        programme=locked.programme,
        action="risk.review",
        obj=locked,
        old_value=old,
        new_value=_state(locked),
        reason=note,
    )
    return review


def _check_review_date(risk: Risk, reviewed_on: dt.date, today: dt.date) -> None:
    if reviewed_on > today:
        raise ValidationError({"reviewed_on": _("A review cannot be dated in the future.")})
    period = risk.first_reported
    if period is not None and reviewed_on < period.start_date:
        raise ValidationError(
            {
                "reviewed_on": _(
                    "The review cannot be before the risk was first reported "
                    "(%(period)s starts on %(start)s)."
                )
                % {"period": period.name, "start": period.start_date.isoformat()}
            }
        )
    latest = risk.reviews.order_by("-reviewed_on").values_list("reviewed_on", flat=True).first()
    if latest is not None and reviewed_on < latest:
        raise ValidationError(
            {
                "reviewed_on": _(
                    "The risk was last reviewed on %(date)s; a review cannot be older."
                )
                % {"date": latest.isoformat()}
            }
        )
