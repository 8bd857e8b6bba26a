"""Hostile values typed into the web forms (issue 8, item 2): the quarterly report, the budget
expenditure entry and upload, the public survey page, the API token form and the export
page's filters. Values: huge numbers (1e30, 10**40), negative, NaN and Infinity, "-0",
unicode (right to left, emoji, combining marks), empty, whitespace, 100,000 characters, NUL,
SQL- and HTML-looking text (tests/security/fuzzing.py).

For every value: never a server error; a refusal says what is wrong next to the name of the
field (its label, the indicator's code, the question's text, the column); a refusal writes
nothing (every row the form could touch is the same before and after); an accepted text is
stored exactly as typed (less the surrounding whitespace every form trims) and comes back
escaped on the page that shows it.

Each form gets the fixed list of values in the fields that take them, then a few generated
ones from a fixed seed (``derandomize``): the same examples on every run."""

import csv
import io
import re
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from html import unescape
from typing import Any

import hypothesis
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from hypothesis import strategies as st

from budgets.forms import parse_amount
from budgets.models import BudgetLine, Expenditure
from indicators.models import ActivityProgress, IndicatorValue, ProgressReport
from monitoring.models import ApiToken, AuditEvent, ExportJob, Programme
from surveys.models import Answer, Invitation, Response
from tests.indicators.report_fixtures import (
    enter,
    form_data,
    report_url,
    scope_indicators,
)
from tests.security.fuzzing import (
    HOSTILE_NUMBERS,
    HOSTILE_TEXTS,
    LONG,
    XSS,
    bounded,
    hostile_numbers,
    hostile_texts,
    hostile_values,
    in_savepoint,
    table_digest,
)
from tests.surveys.survey_fixtures import SurveyKit, answers, build_survey

pytestmark = pytest.mark.django_db

GENERATED = 6  # generated examples per form, after the fixed lists
EXTRA_TEXTS = ["javascript:alert(1)", "http://", "https://exa mple.com/<x>", "ftp://x"]


def browser(user: Any = None, **extra: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en", **extra)
    if user is not None:
        client.force_login(user)
    return client


def page(response: Any) -> str:
    return response.content.decode()


def block(html: str, element_id: str) -> str:
    """The text of the element with ``element_id`` (up to its section's end), unescaped."""
    start = html.find(f'id="{element_id}"')
    assert start >= 0, f"no #{element_id} on the page"
    end = min(i for i in (html.find("</div>", start), html.find("</section>", start)) if i > 0)
    return unescape(re.sub(r"<[^>]+>", " ", html[start:end]))


# Sent to every field of their kind; the rest of the fixed lists are shared among the fields.
EVERY_NUMBER_FIELD = ["1e30", "NaN", "-1", XSS]
EVERY_TEXT_FIELD = ["\x00", LONG]


def run_examples(
    check: Callable[[str, str], None],
    fields: list[str],
    *,
    numbers: list[str],
    texts: list[str],
    number_fields: set[str],
    generated: int = GENERATED,
) -> None:
    """The fixed values, numbers into the number fields and texts into the others: the worst
    into every field, the rest dealt out among them; then ``generated`` hypothesis examples
    anywhere. Each example is undone after it."""
    plan: list[tuple[str, str]] = []
    for kind, values, everywhere in (
        ([f for f in fields if f in number_fields], numbers, EVERY_NUMBER_FIELD),
        ([f for f in fields if f not in number_fields], texts, EVERY_TEXT_FIELD),
    ):
        if not kind:
            continue
        plan += [(kind[i % len(kind)], value) for i, value in enumerate(values)]
        plan += [(f, v) for f in kind for v in everywhere if (f, v) not in plan]
    for field, value in plan:
        in_savepoint(partial(check, field, value))

    @bounded(max_examples=generated)
    @hypothesis.given(field=st.sampled_from(fields), value=hostile_values())
    def generated_examples(field: str, value: str) -> None:
        in_savepoint(lambda: check(field, value))

    generated_examples()


def first_of(values: list[str], n: int) -> list[str]:
    """A spread of ``n`` values from a list (every value over the whole set of fields)."""
    return values[:: max(1, len(values) // n)][:n] if n < len(values) else values


# ---- the quarterly report ----------------------------------------------------------------


def report_state(programme: Programme) -> str:
    return table_digest(
        ProgressReport.objects.filter(programme=programme),
        IndicatorValue.objects.filter(report__programme=programme),
        ActivityProgress.objects.filter(report__programme=programme),
        AuditEvent.objects.filter(programme=programme),
    )


def test_the_report_form_refuses_by_field_or_stores_exactly(ciudades, ilo_coordinator_scl):
    client = browser(ilo_coordinator_scl)
    indicators = scope_indicators(ciudades)
    enter(client, indicators, version=0)  # a saved draft: version 1, every figure there
    report = ProgressReport.objects.get(
        programme=ciudades, period__code="2023-Q2", agency__code="ILO", city__code="SCL"
    )
    count = next(i for i in indicators if i.measure == "count" and i.dimensions.exists())
    percent = next(i for i in indicators if i.measure == "percent")
    dimension = count.dimensions.first()
    assert dimension is not None
    category = dimension.categories.first()
    assert category is not None
    activity = report.activity_progress.select_related("activity").first()
    assert activity is not None
    a = f"a{activity.activity_id}"
    # Field → what names it in the summary at the top of the page.
    labels = {
        f"i{count.pk}_total": count.code,
        f"i{percent.pk}_total": percent.code,
        f"i{percent.pk}_num": percent.code,
        f"i{count.pk}_c{category.pk}": count.code,
        f"i{count.pk}_comment": count.code,
        f"i{count.pk}_url": count.code,
        "narrative_en": "Narrative (English)",
        f"{a}_progress": activity.activity.code,
        f"{a}_comment": activity.activity.code,
        "version": "",  # hidden: a tampered page; its refusal says what, not where
    }
    numbers = {n for n in labels if n.endswith(("_total", "_num", "_den", "_progress"))}
    numbers |= {f"i{count.pk}_c{category.pk}", "version"}
    before = report_state(ciudades)

    def check(field: str, value: str) -> None:
        data = {**form_data(indicators, version=1, fill=True), "action": "save", field: value}
        if field.startswith(f"{a}_"):
            data[f"{a}_status"] = "in_progress"
        if field == f"i{percent.pk}_num":  # a numerator needs its denominator, and no total
            data.update({f"i{percent.pk}_den": "100000", f"i{percent.pk}_total": ""})
        response = client.post(report_url(), data)
        assert response.status_code in (302, 400, 409), (field, value[:80], response.status_code)
        if response.status_code != 302:
            html = page(response)
            summary = block(html, "form-errors" if response.status_code == 400 else "stale")
            if response.status_code == 400:
                assert labels[field] in summary, (field, value[:80], summary[:500])
                assert "correct:" in summary and summary.split("correct:")[1].strip()
            assert report_state(ciudades) == before, (field, value[:80])
            return
        saved = ProgressReport.objects.get(pk=report.pk)
        if field in numbers:
            if field == "version":
                return
            if field.endswith("_progress"):
                stored: Any = saved.activity_progress.get(activity=activity.activity).progress
                assert 0 <= stored <= 100
                return
            value_row = saved.values.filter(
                indicator__code=labels[field],
                category=category if "_c" in field else None,
            ).first()
            if value_row is None:  # an empty figure clears the cell
                assert not value.strip(), (field, value[:80])
                return
            figure = value_row.numerator if field.endswith("_num") else value_row.value
            assert figure is not None or not value.strip(), (field, value[:80])
            assert figure is None or (0 <= figure < Decimal(10) ** 14), (value[:80], figure)
            return
        if field.endswith("_url"):
            return  # a link that passed URLField's checks: http(s) or ftp(s) only
        if field.startswith("narrative"):
            stored = getattr(saved, field)
        elif field.startswith("a"):
            stored = saved.activity_progress.get(activity=activity.activity).comment
        else:
            stored = saved.values.get(indicator=count, category__isnull=True).comment
        assert stored == value.strip(), (field, value[:80], stored[:80])
        if escape(stored) != stored:  # markup in it: the page shows it escaped
            shown = page(client.get(report_url()))
            assert escape(stored) in shown, (field, value[:80])
            assert XSS not in shown

    run_examples(
        check,
        list(labels),
        numbers=HOSTILE_NUMBERS,
        texts=[*HOSTILE_TEXTS, *EXTRA_TEXTS],
        number_fields=numbers,
    )


# ---- budgets: the expenditure form and the upload -----------------------------------------


def budget_state() -> str:
    return table_digest(Expenditure.objects.all(), BudgetLine.objects.all())


@pytest.fixture
def line() -> BudgetLine:
    return BudgetLine.objects.get(
        programme__code="CIUDADES", view="line", agency__code="ILO", country__code="CL"
    )


def test_the_expenditure_form_refuses_by_field_or_stores_exactly(ilo_coordinator_scl, line):
    client = browser(ilo_coordinator_scl)
    url = reverse("budget_entry:enter", args=["CIUDADES", line.pk])
    base = {
        "period": "2023-Q2", "amount": "1000", "kind": "interim", "as_of": "2023-06-30",
        "note": "", "version": "0",
    }  # fmt: skip
    labels = {
        "amount": "Amount spent",
        "as_of": "As of",
        "note": "Note",
        "period": "Quarter",
        "kind": "Kind",
        "version": "Version",
    }
    before = budget_state()

    def check(field: str, value: str) -> None:
        response = client.post(url, {**base, field: value})
        assert response.status_code in (302, 400), (field, value[:80], response.status_code)
        if response.status_code == 400:
            summary = block(page(response), "entry-errors")
            assert labels[field] in summary, (field, value[:80], summary[:400])
            assert budget_state() == before, (field, value[:80])
            return
        saved = Expenditure.objects.filter(line=line).order_by("-pk").first()
        assert saved is not None
        if field == "amount":
            assert saved.amount == parse_amount(value), (value[:80], saved.amount)
            assert 0 <= saved.amount < Decimal(10) ** 14
        if field == "note":
            assert saved.note == value.strip()
            shown = page(client.get(reverse("budget_entry:line", args=["CIUDADES", line.pk])))
            assert escape(saved.note) in shown and XSS not in shown

    run_examples(
        check,
        list(labels),
        numbers=HOSTILE_NUMBERS,
        texts=HOSTILE_TEXTS,
        number_fields={"amount", "as_of", "version"},
    )


UPLOAD_ROW = {
    "agency": "ILO", "country": "CL", "period": "2023-Q2", "amount": "1000", "kind": "interim",
    "as_of": "2023-06-30", "cumulative": "no", "note": "",
}  # fmt: skip


def _csv_upload(row: dict[str, str]) -> SimpleUploadedFile:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(list(row))
    writer.writerow(list(row.values()))
    return SimpleUploadedFile("spent.csv", out.getvalue().encode(), content_type="text/csv")


def test_the_upload_refuses_by_row_and_column_or_stores_exactly(ilo_coordinator_scl, line):
    client = browser(ilo_coordinator_scl)
    url = reverse("budget_entry:upload", args=["CIUDADES"])
    before = budget_state()

    def check(column: str, value: str) -> None:
        response = client.post(url, {"file": _csv_upload({**UPLOAD_ROW, column: value})})
        assert response.status_code in (302, 400), (column, value[:80], response.status_code)
        if response.status_code == 400:
            html = page(response)
            if 'id="upload-problems"' in html:
                problems = block(html, "upload-problems")
                assert "2" in problems and column in problems, (column, value[:80], problems)
            else:  # the whole file refused (e.g. a NUL makes it no CSV): said on the field
                assert 'class="error"' in html, (column, value[:80])
            assert budget_state() == before, (column, value[:80])
            return
        saved = Expenditure.objects.filter(line=line).order_by("-pk").first()
        assert saved is not None and saved.status == Expenditure.Status.SUBMITTED
        if column == "note":
            assert saved.note == value.strip(), (value[:80], saved.note[:80])
        if column == "amount":
            assert 0 <= saved.amount < Decimal(10) ** 14

    run_examples(
        check,
        list(UPLOAD_ROW),
        numbers=first_of(HOSTILE_NUMBERS, 12),
        texts=first_of(HOSTILE_TEXTS, 10),
        number_fields={"amount", "as_of", "period", "cumulative"},
        generated=4,
    )


# ---- the public survey page ---------------------------------------------------------------


@pytest.fixture
def kit(ciudades, settings) -> SurveyKit:
    settings.SURVEY_RESPONSES_PER_HOUR_PER_ADDRESS = 10**6  # many answers from one test
    return build_survey(ciudades)


def survey_state(kit: SurveyKit) -> str:
    return table_digest(
        Response.objects.filter(survey=kit.survey),
        Answer.objects.filter(response__survey=kit.survey),
        Invitation.objects.filter(survey=kit.survey),
    )


def test_the_survey_page_refuses_by_question_or_stores_exactly(kit, programme_admin):
    phone = browser()
    url = reverse("survey_public:open", args=[kit.key])
    labels = {
        "q_age": kit.text("age"),
        "q_comments": kit.text("comments"),
        "q_sat": kit.text("sat"),
        "q_needs": kit.text("needs"),
        "q_service": kit.text("service"),
        "city": "City",
        "sex": "Sex",
    }
    before = survey_state(kit)

    def check(field: str, value: str) -> None:
        response = phone.post(url, answers(**{field: value}))
        assert response.status_code in (302, 400), (field, value[:80], response.status_code)
        if response.status_code == 400:
            errors = block(page(response), "survey-errors")
            assert labels[field][:60] in errors, (field, value[:80], errors[:400])
            assert survey_state(kit) == before, (field, value[:80])
            return
        stored = (
            Answer.objects.filter(
                response__survey=kit.survey, question=kit.questions[field.removeprefix("q_")]
            ).first()
            if field.startswith("q_")
            else None
        )
        if field == "q_comments":
            if not value.strip():
                assert stored is None  # an empty answer to an optional question
                return
            assert stored is not None and stored.text == value.strip()
            results = browser(programme_admin).get(
                reverse("surveys:results", args=["CIUDADES", kit.survey.code, kit.survey.wave])
            )
            assert results.status_code == 200
            assert escape(stored.text) in page(results) and XSS not in page(results)
        if field == "q_age":
            assert stored is not None and stored.number is not None
            assert 0 <= stored.number <= 120

    run_examples(
        check,
        list(labels),
        numbers=HOSTILE_NUMBERS,
        texts=HOSTILE_TEXTS,
        number_fields={"q_age", "q_sat"},
    )


# ---- the API token form -------------------------------------------------------------------


def test_the_token_form_refuses_by_field_or_stores_exactly(ilo_coordinator_scl):
    client = browser(ilo_coordinator_scl)
    url = reverse("tokens:list")
    base = {"name": "Script", "programme": "CIUDADES", "scope": "read", "days": "90"}
    labels = {
        "name": "Name",
        "programme": "Programme",
        "scope": "Scope",
        "days": "Valid for (days)",
    }
    before = table_digest(ApiToken.objects.all())

    def check(field: str, value: str) -> None:
        response = client.post(url, {**base, field: value})
        assert response.status_code in (200, 400), (field, value[:80], response.status_code)
        html = page(response)
        if response.status_code == 400:
            errors = unescape(re.sub(r"<[^>]+>", " ", html.split('class="error"', 1)[1]))
            assert labels[field] in errors[:2000], (field, value[:80], errors[:400])
            assert table_digest(ApiToken.objects.all()) == before, (field, value[:80])
            return
        token = ApiToken.objects.filter(user=ilo_coordinator_scl).order_by("-pk").first()
        assert token is not None
        if field == "name":
            assert token.name == value.strip()
            assert escape(token.name) in html and XSS not in html
            listing = page(client.get(url))
            assert escape(token.name) in listing and XSS not in listing
        if field == "days":
            assert 1 <= (token.expires_at - token.created_at).days <= 366

    run_examples(
        check,
        list(labels),
        numbers=HOSTILE_NUMBERS,
        texts=HOSTILE_TEXTS,
        number_fields={"days"},
    )


# ---- the export page's filters ------------------------------------------------------------

EXPORT_FILTERS = ["city", "agency", "outcome", "indicator", "period", "updated_since", "format"]


def test_the_export_page_refuses_by_filter_and_starts_nothing(rco_viewer):
    client = browser(rco_viewer)
    url = reverse("exports:page", args=["CIUDADES"])
    before = table_digest(ExportJob.objects.all())

    def check(field: str, value: str) -> None:
        response = client.post(url, {"kind": "results", "format": "csv", field: value})
        assert response.status_code in (200, 302, 400), (field, value[:80], response.status_code)
        if response.status_code == 400:
            html = page(response)
            assert f'id="id_results_{field}-error"' in html, (field, value[:80])
            assert table_digest(ExportJob.objects.all()) == before
            assert XSS not in html
            return
        if response.status_code == 200:  # the file itself, read to its end
            assert response["Content-Disposition"].startswith("attachment")
            download: Any = response
            assert download.getvalue() if not download.streaming else b"".join(download)

    run_examples(
        check,
        EXPORT_FILTERS,
        numbers=first_of(HOSTILE_NUMBERS, 10),
        texts=HOSTILE_TEXTS,
        number_fields={"updated_since"},
    )


def test_the_export_page_shows_hostile_query_values_escaped(rco_viewer):
    """The dashboard's filters carry over to the export page through the address."""
    client = browser(rco_viewer)
    url = reverse("exports:page", args=["CIUDADES"])

    @bounded(max_examples=GENERATED)
    @hypothesis.given(value=st.one_of(hostile_texts(), hostile_numbers()))
    def run(value: str) -> None:
        if "\x00" in value:  # no browser puts a NUL in an address
            value = value.replace("\x00", "")
        response = client.get(url, {"city": value, "period": value, "kind": value})
        assert response.status_code == 200
        assert XSS not in page(response)

    run()
    assert client.post(url, {"kind": XSS}).status_code == 404


# ---- regressions found by the runs above ----------------------------------------------------


def test_a_null_character_in_a_text_answer_is_refused_naming_the_question(kit):
    """PostgreSQL stores no NUL: the whole response used to fail with a server error (and
    SQLite kept the character). Now the answer is refused like any other, naming it."""
    response = browser().post(
        reverse("survey_public:open", args=[kit.key]), answers(q_comments="bien\x00mal")
    )
    assert response.status_code == 400
    errors = block(page(response), "survey-errors")
    assert f"“{kit.text('comments')}”: remove the null character from the answer." in errors
    assert not Response.objects.filter(survey=kit.survey).exists()


def test_a_refused_comment_or_link_names_its_indicator(ciudades, ilo_coordinator_scl):
    """The summary at the top used to say only "Comment: …" (and the comment's error is shown
    nowhere else), leaving the coordinator to find which of 15 indicators it was."""
    client = browser(ilo_coordinator_scl)
    indicators = scope_indicators(ciudades)
    first, second = indicators[0], indicators[1]
    data = form_data(indicators, version=0, fill=True)
    data[f"i{first.pk}_comment"] = "x" * 4001
    data[f"i{second.pk}_url"] = "javascript:alert(1)"
    response = client.post(report_url(), {**data, "action": "save"})
    assert response.status_code == 400
    summary = block(page(response), "form-errors")
    assert (
        f"{first.code} · Comment: Ensure this value has at most 4000 characters (it has 4001)."
        in summary
    )
    assert f"{second.code} · Evidence link: Enter a valid URL." in summary
    assert not ProgressReport.objects.filter(
        programme=ciudades, period__code="2023-Q2", agency__code="ILO", city__code="SCL"
    ).exists()
