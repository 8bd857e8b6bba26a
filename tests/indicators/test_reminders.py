"""Report reminders: before the due date to the slot's coordinators, after it to them, then to
the agency's approver and the RCO, and to the approver when a report waits for approval; each
at most once, in Spanish and English, never about quarters that ended long ago.

Ciudades ended in 2023, so the tests add an open quarter, 2027-Q1 (due 15 April 2027), and
choose "today" around its due date. Its six slots (ILO, IOM, UNHCR × Santiago, Mexico City)
all owe a report."""

import datetime as dt
import io
import logging

import pytest
from celery.schedules import crontab
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from indicators import reminders
from indicators.models import Indicator, ProgressReport, ReminderSent
from indicators.reminders import send_due_reminders
from indicators.tasks import send_report_reminders
from monitoring.models import Agency, City, Membership, Programme, ReportingPeriod

pytestmark = pytest.mark.django_db

DUE = dt.date(2027, 4, 15)
SLOTS = [(a, c) for a in ("ILO", "IOM", "UNHCR") for c in ("CDMX", "SCL")]
COORDINATORS = {(a, c): f"coord.{a.lower()}.{c.lower()}@example.org" for a, c in SLOTS}
REPORT_LINK = "https://conjunto.example.org/programmes/CIUDADES/reports/2027-Q1/ILO/SCL/"


def days(n: int) -> dt.date:
    return DUE + dt.timedelta(days=n)


def new_quarter(programme: Programme, code: str, due: dt.date) -> ReportingPeriod:
    end = min(due, dt.date(due.year, 3, 31))
    return ReportingPeriod.objects.create(
        programme=programme,
        code=code,
        name_es=f"T1 {due.year}",
        name_en=f"Q1 {due.year}",
        start_date=end - dt.timedelta(days=89),
        end_date=end,
        due_date=due,
    )


@pytest.fixture
def quarter(ciudades) -> ReportingPeriod:
    # The demo reopens 2023-Q2 for late reports; closed again so only this quarter is live.
    ciudades.periods.update(reopened_until=None)
    return new_quarter(ciudades, "2027-Q1", DUE)


@pytest.fixture
def with_emails(db) -> None:
    for user in get_user_model().objects.filter(memberships__programme__code="CIUDADES"):
        user.email = f"{user.username}@example.org"
        user.save(update_fields=["email"])


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """Run the service as beat does, sending the e-mails its claims queue on commit."""

    def run(today: dt.date) -> list[ReminderSent]:
        with django_capture_on_commit_callbacks(execute=True):
            return send_due_reminders(today=today)

    return run


def recorded(period: ReportingPeriod) -> dict[tuple[str, str, str], str]:
    return {
        (r.kind, r.agency.code, r.city.code): r.recipients
        for r in ReminderSent.objects.filter(period=period).select_related("agency", "city")
    }


def report(period: ReportingPeriod, agency: str, city: str, **fields) -> ProgressReport:
    return ProgressReport.objects.create(
        programme=period.programme,
        period=period,
        agency=Agency.objects.get(code=agency),
        city=City.objects.get(code=city),
        **fields,
    )


def at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC)


def mail_to(address: str) -> list[mail.EmailMessage]:
    return [m for m in mail.outbox if address in m.to]


def test_it_reminds_each_slots_coordinator_once_before_the_due_date(quarter, with_emails, send):
    sent = send(days(-3))
    assert len(sent) == 6
    assert recorded(quarter) == {("due_soon", a, c): COORDINATORS[a, c] for a, c in SLOTS}
    assert len(mail.outbox) == 6
    (ilo_scl,) = mail_to("coord.ilo.scl@example.org")
    assert ilo_scl.to == ["coord.ilo.scl@example.org"]

    assert send(days(-3)) == []
    assert send(days(-2)) == []
    assert send(days(0)) == []
    assert len(mail.outbox) == 6
    assert ReminderSent.objects.filter(period=quarter).count() == 6


def test_it_reminds_nobody_before_the_reminder_window(quarter, with_emails, send):
    assert send(days(-8)) == []
    assert mail.outbox == []


def test_a_submitted_or_approved_report_is_not_reminded(quarter, with_emails, send):
    yesterday = at(days(-4))
    report(quarter, "ILO", "SCL", status="submitted", submitted_at=yesterday)
    report(quarter, "IOM", "CDMX", status="approved", submitted_at=yesterday, approved_at=yesterday)
    report(quarter, "UNHCR", "SCL", status="draft")
    report(quarter, "UNHCR", "CDMX", status="returned")
    send(days(-3))
    assert recorded(quarter) == {
        ("due_soon", "ILO", "CDMX"): "coord.ilo.cdmx@example.org",
        ("due_soon", "IOM", "SCL"): "coord.iom.scl@example.org",
        ("due_soon", "UNHCR", "CDMX"): "coord.unhcr.cdmx@example.org",
        ("due_soon", "UNHCR", "SCL"): "coord.unhcr.scl@example.org",
    }
    assert mail_to("coord.ilo.scl@example.org") == []


def test_overdue_goes_to_the_coordinator_then_the_approver_then_the_rco_each_once(
    quarter, with_emails, send
):
    assert {r.kind for r in send(days(1))} == {"overdue"}
    assert recorded(quarter)["overdue", "ILO", "SCL"] == "coord.ilo.scl@example.org"
    assert recorded(quarter)["overdue", "IOM", "CDMX"] == "coord.iom.cdmx@example.org"
    assert len(mail_to("coord.ilo.scl@example.org")) == 1
    assert send(days(6)) == []

    assert {r.kind for r in send(days(7))} == {"esc_approver"}
    assert recorded(quarter)["esc_approver", "ILO", "SCL"] == "approver.ilo@example.org"
    assert recorded(quarter)["esc_approver", "IOM", "CDMX"] == "approver.iom@example.org"
    # one message per slot of the agency: Santiago and Mexico City
    assert len(mail_to("approver.ilo@example.org")) == 2
    assert send(days(13)) == []

    assert {r.kind for r in send(days(14))} == {"esc_rco"}
    assert recorded(quarter)["esc_rco", "UNHCR", "SCL"] == "rco@example.org"
    assert len(mail_to("rco@example.org")) == 6
    assert send(days(15)) == []

    # the coordinators heard only of their own slot, and only once
    assert len(mail_to("coord.ilo.scl@example.org")) == 1
    assert len(mail.outbox) == 6 + 6 + 6
    assert ReminderSent.objects.filter(period=quarter).count() == 18


def test_a_missed_day_catches_up_with_every_step_owed(quarter, with_emails, send):
    sent = send(days(14))
    assert sorted((r.kind, r.agency.code, r.city.code) for r in sent if r.agency.code == "ILO") == [
        ("esc_approver", "ILO", "CDMX"),
        ("esc_approver", "ILO", "SCL"),
        ("esc_rco", "ILO", "CDMX"),
        ("esc_rco", "ILO", "SCL"),
        ("overdue", "ILO", "CDMX"),
        ("overdue", "ILO", "SCL"),
    ]
    assert len(sent) == 18


def test_a_report_submitted_late_stops_the_escalation(quarter, with_emails, send):
    send(days(1))
    report(quarter, "ILO", "SCL", status="submitted", submitted_at=at(days(5)))
    sent = send(days(7))
    assert len(sent) == 5
    assert ("esc_approver", "ILO", "SCL") not in recorded(quarter)
    assert recorded(quarter)["esc_approver", "ILO", "CDMX"] == "approver.ilo@example.org"


def test_it_reminds_the_approver_of_a_report_waiting_for_approval(quarter, with_emails, send):
    report(quarter, "IOM", "SCL", status="submitted", submitted_at=at(dt.date(2027, 4, 1)))
    assert send(dt.date(2027, 4, 6)) == []  # five days: not yet
    send(dt.date(2027, 4, 7))
    assert recorded(quarter) == {("awaiting", "IOM", "SCL"): "approver.iom@example.org"}
    (message,) = mail.outbox
    assert message.to == ["approver.iom@example.org"]
    assert message.subject == (
        "[CIUDADES] Informe trimestral 2027-Q1 OIM Santiago de Chile: enviado el 01/04/2027, "
        "pendiente de aprobación · Quarterly report 2027-Q1 IOM Santiago (Chile): submitted "
        "1 April 2027, awaiting approval"
    )
    assert "espera su aprobación desde hace 6 días" in message.body
    assert "awaiting your approval for 6 days" in message.body
    # not twice; the next day the other five slots are due soon
    assert [r.kind for r in send(dt.date(2027, 4, 8))] == ["due_soon"] * 5


def test_the_email_is_in_spanish_then_english_with_the_absolute_report_link(
    quarter, with_emails, send, settings
):
    settings.SITE_URL = "https://conjunto.example.org/"
    send(days(-3))
    (message,) = mail_to("coord.ilo.scl@example.org")
    assert message.subject == (
        "[CIUDADES] Informe trimestral 2027-Q1 OIT Santiago de Chile: vence el 15/04/2027 · "
        "Quarterly report 2027-Q1 ILO Santiago (Chile): due 15 April 2027"
    )
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    body = message.body
    assert (
        "El informe trimestral de OIT en Santiago de Chile para T1 2027 vence el 15/04/2027: "
        in body
    )
    assert "quedan 3 días. Aún no ha sido enviado." in body
    assert "is due on 15 April 2027: 3 days left. It has not been submitted yet." in body
    assert "Fecha límite: 15/04/2027" in body
    assert "Due date: 15 April 2027" in body
    assert body.index("Fecha límite") < body.index("Due date")
    assert body.count(f"Informe: {REPORT_LINK}\n") == 1
    assert body.count(f"Report: {REPORT_LINK}\n") == 1
    assert "\n\n\n" not in body


def test_an_escalation_says_how_late_the_report_is(quarter, with_emails, send):
    send(days(14))
    (message,) = [m for m in mail_to("rco@example.org") if "OIT Santiago de Chile" in m.subject]
    assert message.subject == (
        "[CIUDADES] Informe trimestral 2027-Q1 OIT Santiago de Chile: atrasado 14 días, venció el "
        "15/04/2027 · Quarterly report 2027-Q1 ILO Santiago (Chile): overdue by 14 days, was due "
        "15 April 2027"
    )
    assert "Le escribimos como Oficina de la Coordinadora Residente" in message.body
    assert "(14 days overdue)" in message.body


def test_recipients_without_email_are_skipped_and_logged(quarter, with_emails, send, caplog):
    User = get_user_model()
    User.objects.filter(username="coord.ilo.scl").update(email="")
    with caplog.at_level(logging.WARNING, logger="indicators.reminders"):
        sent = send(days(-3))
    assert len(sent) == 5
    assert ("due_soon", "ILO", "SCL") not in recorded(quarter)
    assert "(no e-mail: coord.ilo.scl)" in caplog.text

    # not recorded, so it goes out once the coordinator has an address
    User.objects.filter(username="coord.ilo.scl").update(email="renata@example.org")
    assert [r.recipients for r in send(days(-2))] == ["renata@example.org"]


def test_a_second_coordinator_without_email_does_not_hold_back_the_first(
    quarter, with_emails, send, ciudades
):
    colleague = get_user_model().objects.create_user("coord2.ilo.scl", password="x" * 12)
    Membership.objects.create(
        user=colleague,
        programme=ciudades,
        role="coordinator",
        agency=Agency.objects.get(code="ILO"),
        city=City.objects.get(code="SCL"),
    )
    send(days(-3))
    assert recorded(quarter)["due_soon", "ILO", "SCL"] == "coord.ilo.scl@example.org"
    colleague.email = "coord2.ilo.scl@example.org"
    colleague.save()
    send(days(1))
    assert recorded(quarter)["overdue", "ILO", "SCL"] == (
        "coord.ilo.scl@example.org, coord2.ilo.scl@example.org"
    )
    (message,) = mail_to("coord2.ilo.scl@example.org")
    assert message.to == ["coord.ilo.scl@example.org", "coord2.ilo.scl@example.org"]


def test_a_claim_taken_by_an_overlapping_run_is_not_sent_again(
    quarter, with_emails, send, monkeypatch
):
    owed = reminders.reminders_owed(today=days(-3))
    ilo_scl = next(r for r in owed if r.slot.agency.code == "ILO" and r.slot.city.code == "SCL")
    # the other run claims this one after ours has listed what is owed
    ReminderSent.objects.create(
        programme=quarter.programme,
        period=quarter,
        agency=ilo_scl.slot.agency,
        city=ilo_scl.slot.city,
        kind="due_soon",
        recipients="coord.ilo.scl@example.org",
    )
    monkeypatch.setattr(reminders, "reminders_owed", lambda today: owed)
    sent = send(days(-3))
    assert len(sent) == 5
    assert mail_to("coord.ilo.scl@example.org") == []
    assert ReminderSent.objects.filter(period=quarter, kind="due_soon").count() == 6


def test_a_slot_whose_agency_answers_for_no_indicator_there_is_not_reminded(
    quarter, with_emails, send, ciudades
):
    Indicator.responsible_agencies.through.objects.filter(
        indicator__programme=ciudades, agency__code="ILO"
    ).delete()
    sent = send(days(-3))
    assert sorted({r.agency.code for r in sent}) == ["IOM", "UNHCR"]
    assert len(sent) == 4


def test_a_closed_period_is_not_reminded(quarter, with_emails, send):
    quarter.status = ReportingPeriod.Status.CLOSED
    quarter.save()
    assert send(days(-3)) == []
    assert send(days(14)) == []


def test_historical_quarters_send_nothing(ciudades, with_emails, send):
    ciudades.periods.update(reopened_until=None)
    assert send(dt.date(2026, 11, 29)) == []
    # 77 days after the last quarter's due date (15 July 2023): past every window
    assert send(dt.date(2023, 9, 30)) == []
    assert mail.outbox == []
    assert not ReminderSent.objects.exists()


def test_late_escalations_stop_sixty_days_after_the_due_date(quarter, with_emails, send):
    assert send(days(61)) == []
    assert len(send(days(60))) == 12  # escalations only: the entry window closed on day 15
    assert {r.kind for r in ReminderSent.objects.all()} == {"esc_approver", "esc_rco"}


def test_a_reopened_quarter_reminds_its_coordinators_but_does_not_escalate(
    ciudades, with_emails, send
):
    # What the demo does: 2023-Q2 reopened for late reports, years after its due date.
    ciudades.periods.update(reopened_until=None)
    ciudades.periods.filter(code="2023-Q2").update(reopened_until=dt.date(2027, 1, 31))
    sent = send(dt.date(2026, 11, 29))
    assert {r.period.code for r in sent} == {"2023-Q2"}
    assert {r.kind for r in sent} == {"overdue"}
    assert send(dt.date(2026, 11, 30)) == []  # once
    ciudades.periods.filter(code="2023-Q2").update(reopened_until=None)
    ReminderSent.objects.all().delete()
    assert send(dt.date(2026, 12, 1)) == []  # closed again: nothing


def test_the_beat_runs_the_task_every_morning():
    entry = django_settings.CELERY_BEAT_SCHEDULE["daily-report-reminders"]
    assert entry["task"] == "indicators.tasks.send_report_reminders"
    assert entry["task"] == send_report_reminders.name
    assert entry["schedule"] == crontab(hour=7, minute=0)


def test_the_task_sends_what_is_owed_today_once(
    ciudades, with_emails, django_capture_on_commit_callbacks
):
    ciudades.periods.update(reopened_until=None)
    new_quarter(ciudades, "LIVE-Q1", timezone.localdate() + dt.timedelta(days=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert send_report_reminders.delay().get() == 6
        assert send_report_reminders.delay().get() == 0
    assert len(mail.outbox) == 6


def test_the_command_dry_run_prints_what_would_go_and_records_nothing(
    quarter, with_emails, django_capture_on_commit_callbacks
):
    out = io.StringIO()
    call_command("send_reminders", "--today", "2027-04-12", "--dry-run", stdout=out)
    assert (
        "due_soon CIUDADES 2027-Q1 ILO SCL (3 days) → coord.ilo.scl@example.org\n" in out.getvalue()
    )
    assert out.getvalue().endswith("6 reminders owed on 2027-04-12; dry run: nothing sent.\n")
    assert not ReminderSent.objects.exists()
    assert mail.outbox == []

    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_reminders", "--today", "2027-04-12", stdout=out)
    assert "due_soon CIUDADES 2027-Q1 ILO SCL → coord.ilo.scl@example.org\n" in out.getvalue()
    assert out.getvalue().endswith("6 reminders sent on 2027-04-12.\n")
    assert len(mail.outbox) == 6


def test_the_command_refuses_a_date_it_cannot_read(db):
    with pytest.raises(CommandError, match="expected a date as YYYY-MM-DD, got '12/04/2027'"):
        call_command("send_reminders", "--today", "12/04/2027", "--dry-run")
