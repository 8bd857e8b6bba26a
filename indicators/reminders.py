"""Reminders and escalations for the quarterly reports, sent by Celery beat once a day.

A slot (quarter × agency × city where the agency answers for an active indicator in that city)
whose report is not submitted reminds its coordinators shortly before the due date and again
once it is overdue; then the agency's approvers and, later, the programme's RCO are told. A
report left submitted too long reminds the agency's approvers. Each reminder goes out at most
once: its ``ReminderSent`` row is inserted first, and the table's unique constraint refuses a
second claim, even from a beat run overlapping this one."""

import datetime as dt
import logging
import re
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from monitoring.models import Agency, City, Membership, Programme, ReportingPeriod

from .models import Indicator, ProgressReport, ReminderSent
from .permissions import period_closes_on

log = logging.getLogger(__name__)

Kind = ReminderSent.Kind
Role = Membership.Role
Status = ProgressReport.Status
NOT_SUBMITTED = (None, Status.DRAFT, Status.RETURNED)
# Escalations and the approval reminder still go out after the entry window has closed, but
# only this long after the due date: loading a historical programme must not mail about 2021.
LATE_WINDOW_DAYS = 60
LATE_KINDS = (Kind.ESCALATED_APPROVER, Kind.ESCALATED_RCO, Kind.AWAITING_APPROVAL)
# Who hears of each kind: the slot's coordinators, the agency's approvers, the programme's RCO.
AUDIENCE: dict[str, str] = {
    Kind.DUE_SOON: Role.COORDINATOR,
    Kind.OVERDUE: Role.COORDINATOR,
    Kind.ESCALATED_APPROVER: Role.APPROVER,
    Kind.AWAITING_APPROVAL: Role.APPROVER,
    Kind.ESCALATED_RCO: Role.RCO,
}

SlotKey = tuple[int, int, int]  # period, agency, city


@dataclass(frozen=True)
class Slot:
    programme: Programme
    period: ReportingPeriod
    agency: Agency
    city: City
    report: ProgressReport | None


@dataclass(frozen=True)
class Reminder:
    """One reminder owed today. ``days``: left before the due date (due soon), past it
    (overdue and escalations), or since the report was submitted (awaiting approval)."""

    kind: str
    slot: Slot
    days: int
    recipients: tuple[str, ...]  # e-mail addresses
    without_email: tuple[str, ...]  # usernames of recipients who have none

    def describe(self) -> str:
        s = self.slot
        who = ", ".join(self.recipients) or "nobody"
        if self.without_email:
            who += f" (no e-mail: {', '.join(self.without_email)})"
        return (
            f"{self.kind} {s.programme.code} {s.period.code} {s.agency.code} {s.city.code} "
            f"({self.days} days) → {who}"
        )


def send_due_reminders(*, today: dt.date) -> list[ReminderSent]:
    """Claim and send every reminder owed on ``today``; return the ones claimed by this run.
    The e-mails leave once each claim commits, so a rolled-back claim sends nothing."""
    claimed = []
    for reminder in reminders_owed(today=today):
        if reminder.without_email:
            log.warning("Reminder without e-mail for some recipients: %s", reminder.describe())
        if not reminder.recipients:
            continue  # not recorded, so it goes out once someone has an address
        row = _claim(reminder)
        if row is not None:
            claimed.append(row)
    return claimed


def reminders_owed(*, today: dt.date) -> list[Reminder]:
    """Every reminder owed on ``today`` that is not recorded as sent, in every programme."""
    owed: list[Reminder] = []
    for programme in Programme.objects.order_by("code"):
        owed += _owed_in_programme(programme, today)
    return owed


def _owed_in_programme(programme: Programme, today: dt.date) -> list[Reminder]:
    slots = _live_slots(programme, today)
    if not slots:
        return []
    members = _members(programme)
    sent = _already_sent({s.period.pk for s in slots})
    owed = []
    for slot in slots:
        for kind, days in _kinds_due(slot, today):
            key = (slot.period.pk, slot.agency.pk, slot.city.pk, str(kind))
            if key in sent or not _in_window(slot, kind, today):
                continue
            people = _audience(members, kind, slot)
            owed.append(
                Reminder(
                    kind=kind,
                    slot=slot,
                    days=days,
                    recipients=tuple(dict.fromkeys(u.email for u in people if u.email)),
                    without_email=tuple(u.username for u in people if not u.email),
                )
            )
    return owed


def _live_periods(programme: Programme, today: dt.date) -> list[ReportingPeriod]:
    """Open quarters not long past their due date (or reopened); ``_in_window`` then decides
    per reminder. Future ones count: a report submitted early may wait for approval."""
    oldest = today - dt.timedelta(days=max(LATE_WINDOW_DAYS, programme.grace_days))
    return list(
        programme.periods.filter(
            Q(due_date__gte=oldest) | Q(reopened_until__gte=today),
            kind=ReportingPeriod.Kind.QUARTER,
            status=ReportingPeriod.Status.OPEN,
        ).order_by("start_date")
    )


def _live_slots(programme: Programme, today: dt.date) -> list[Slot]:
    periods = _live_periods(programme, today)
    if not periods:
        return []
    pairs = _reporting_pairs(programme)
    agencies = Agency.objects.in_bulk({a for a, _ in pairs})
    cities = City.objects.in_bulk({c for _, c in pairs})
    reports = {
        (r.period_id, r.agency_id, r.city_id): r
        for r in ProgressReport.objects.filter(
            programme=programme, period__in=periods, agency__isnull=False, city__isnull=False
        )
    }
    return [
        Slot(programme, period, agencies[a], cities[c], reports.get((period.pk, a, c)))
        for period in periods
        for a, c in pairs
    ]


def _reporting_pairs(programme: Programme) -> list[tuple[int, int]]:
    """(agency, city) pairs that owe a report: the agency answers for an active indicator in
    the city (the same indicators the report page asks for)."""
    rows = (
        Indicator.objects.filter(
            programme=programme,
            is_active=True,
            responsible_agencies__isnull=False,
            cities__isnull=False,
        )
        .exclude(measure=Indicator.Measure.TEXT)
        .values_list("responsible_agencies", "cities")
    )
    return sorted({(a, c) for a, c in rows})


def _members(programme: Programme) -> list[Membership]:
    return list(
        Membership.objects.filter(
            programme=programme, role__in=set(AUDIENCE.values()), user__is_active=True
        )
        .select_related("user")
        .order_by("user__username")
    )


def _audience(members: list[Membership], kind: str, slot: Slot) -> list[User]:
    role = AUDIENCE[kind]
    return [
        m.user
        for m in members
        if m.role == role
        and (role == Role.RCO or m.agency_id == slot.agency.pk)
        and (role != Role.COORDINATOR or m.city_id == slot.city.pk)
    ]


def _already_sent(period_ids: Iterable[int]) -> set[tuple[int, int, int, str]]:
    return {
        (p, a, c, k)
        for p, a, c, k in ReminderSent.objects.filter(period__in=period_ids).values_list(
            "period_id", "agency_id", "city_id", "kind"
        )
    }


def _kinds_due(slot: Slot, today: dt.date) -> list[tuple[str, int]]:
    """The reminders this slot's state calls for today, with their day counts."""
    report = slot.report
    status = report.status if report is not None else None
    if status in NOT_SUBMITTED:
        left = (slot.period.due_date - today).days
        if 0 <= left <= settings.REPORT_REMINDER_DAYS_BEFORE:
            return [(Kind.DUE_SOON, left)]
        ladder = [
            (Kind.OVERDUE, 1),
            (Kind.ESCALATED_APPROVER, settings.REPORT_ESCALATE_APPROVER_AFTER),
            (Kind.ESCALATED_RCO, settings.REPORT_ESCALATE_RCO_AFTER),
        ]
        return [(kind, -left) for kind, after in ladder if -left >= after]
    if status == Status.SUBMITTED and report is not None and report.submitted_at is not None:
        waited = (today - timezone.localdate(report.submitted_at)).days
        if waited > settings.REPORT_APPROVAL_REMINDER_AFTER:
            return [(Kind.AWAITING_APPROVAL, waited)]
    return []


def _in_window(slot: Slot, kind: str, today: dt.date) -> bool:
    """Coordinators' reminders while the period is open for entry (reopened included);
    escalations and approval reminders up to ``LATE_WINDOW_DAYS`` after the due date only,
    so reopening a quarter years later for a late report does not escalate it again."""
    if kind in LATE_KINDS:
        return (today - slot.period.due_date).days <= LATE_WINDOW_DAYS
    return today <= period_closes_on(slot.period, slot.programme)


def _claim(reminder: Reminder) -> ReminderSent | None:
    """Record the reminder, then send it once the record commits. None: already recorded
    (by an earlier run, or by one running at the same time)."""
    s = reminder.slot
    try:
        with transaction.atomic():
            row = ReminderSent.objects.create(
                programme=s.programme,
                period=s.period,
                agency=s.agency,
                city=s.city,
                kind=reminder.kind,
                recipients=", ".join(reminder.recipients),
            )
            transaction.on_commit(partial(_deliver, reminder), robust=True)
    except IntegrityError:
        return None
    return row


def _deliver(reminder: Reminder) -> None:
    subject, body = render_reminder(reminder)
    try:
        EmailMessage(subject, body, None, list(reminder.recipients)).send()
    except (smtplib.SMTPException, OSError):
        # Recorded but not delivered: at most once means it is not retried.
        log.exception("Reminder recorded but not delivered: %s", reminder.describe())


def render_reminder(reminder: Reminder) -> tuple[str, str]:
    """Subject and body, Spanish first then English (users have no language preference)."""
    s = reminder.slot
    url = reverse(
        "reports:report", args=[s.programme.code, s.period.code, s.agency.code, s.city.code]
    )
    context = {
        "kind": str(reminder.kind),
        "days": reminder.days,
        "programme": s.programme,
        "period": s.period,
        "agency": s.agency,
        "city": s.city,
        "report": s.report,
        "submitted_on": _submitted_on(s.report),
        "url": settings.SITE_URL.rstrip("/") + url,
    }
    subject = render_to_string("emails/report_reminder_subject.txt", context)
    body = render_to_string("emails/report_reminder.txt", context)
    # Text templates leave blank lines where tags stood; mail headers take one line.
    lines = re.sub(r"[ \t]+\n", "\n", body)
    return " ".join(subject.split()), re.sub(r"\n{3,}", "\n\n", lines).strip() + "\n"


def _submitted_on(report: ProgressReport | None) -> dt.date | None:
    if report is None or report.submitted_at is None:
        return None
    return timezone.localdate(report.submitted_at)
