"""The catalogue of exports (DESIGN §8): which exports there are, in which formats, with which
filters, who may run them, what each file is called, and how each is built.

One catalogue serves the export page, the background jobs and the API, so the three agree
on formats, filters, refusals and file names. Every builder reads approved data only
(results, IATI and the fund's report from the rollups; budget and surveys from approved
expenditures, approved revisions and published or computed results), so whoever may run an
export may have all of it: members of the programme, donors included.

Filters arrive as text (a form, a query string) and leave ``clean_params`` as a small JSON
dictionary of codes, numbers and ISO dates, the form in which a job keeps them."""

import datetime as dt
import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from budgets.models import BudgetLine
from indicators.models import Indicator
from indicators.permissions import Access
from indicators.selectors.results import (
    ALL,
    LOP,
    ResultQuery,
    UnknownCode,
    result_count,
)
from monitoring.bilingual import CONTENT_LANGUAGES, active_content_language
from monitoring.models import ExportJob, Output, Programme
from surveys.models import Survey

from . import budget, surveys
from .iati import IatiUnavailable, build_iati_activities
from .mptf import NoSuchYear, build_mptf_report, reporting_years
from .results import build_xlsx, stream_csv, stream_json, write_csv
from .stamp import ExportStamp

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise as Label
else:
    Label = str

Progress = Callable[[int], None]
Chunks = Iterable[bytes]
DEFAULT_SYNC_MAX_ROWS = 50_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def sync_max_rows() -> int:
    """Exports larger than this many rows run as a background job (page) or are refused in
    favour of a streamed format (API)."""
    return int(getattr(settings, "EXPORT_SYNC_MAX_ROWS", DEFAULT_SYNC_MAX_ROWS))


@dataclass(frozen=True)
class Format:
    code: str
    label: Label
    content_type: str


FORMATS = {
    "csv": Format("csv", gettext_lazy("CSV"), "text/csv; charset=utf-8"),
    "xlsx": Format("xlsx", gettext_lazy("Excel workbook (XLSX)"), XLSX),
    "json": Format("json", gettext_lazy("JSON"), "application/json"),
    "xml": Format("xml", gettext_lazy("IATI 2.03 XML"), "application/xml"),
    "docx": Format("docx", gettext_lazy("Word document (DOCX)"), DOCX),
}

FILTER_LABELS: dict[str, Label] = {
    "city": gettext_lazy("City"),
    "agency": gettext_lazy("Agency"),
    "outcome": gettext_lazy("Outcome"),
    "output": gettext_lazy("Output"),
    "indicator": gettext_lazy("Indicator"),
    "period": gettext_lazy("Period"),
    "updated_since": gettext_lazy("Updated since"),
    "year": gettext_lazy("Year"),
    "language": gettext_lazy("Language"),
    "survey": gettext_lazy("Survey"),
    "wave": gettext_lazy("Wave"),
    "table": gettext_lazy("Table (CSV)"),
}
CODE_FILTERS = ("city", "agency", "outcome", "output", "indicator", "period")
BUDGET_TABLES: dict[str, Label] = {
    "figures": gettext_lazy("Figures per agency, country, outcome, output and category"),
    "lines": gettext_lazy("Budget lines"),
    "revisions": gettext_lazy("Approved revisions"),
    "expenditures": gettext_lazy("Approved expenditures"),
}


def is_member(access: Access) -> bool:
    return access.is_member


@dataclass(frozen=True)
class Export:
    """One export of the catalogue."""

    kind: str
    label: Label
    description: Label
    formats: tuple[str, ...]
    filters: tuple[str, ...] = ()
    # Budget and surveys: as budgets.permissions.sees_budget and surveys.views (members).
    may_run: Callable[[Access], bool] = is_member


EXPORTS: dict[str, Export] = {
    e.kind: e
    for e in (
        Export(
            "results",
            gettext_lazy("Results table"),
            gettext_lazy(
                "One row per indicator, place, period and disaggregation cell: baseline, "
                "target, actual and achievement."
            ),
            ("csv", "xlsx", "json"),
            (*CODE_FILTERS, "updated_since"),
        ),
        Export(
            "budget",
            gettext_lazy("Budget and expenditure"),
            gettext_lazy(
                "Approved budget and expenditure per agency, country, output and category; "
                "budget lines, approved revisions and approved expenditures."
            ),
            ("csv", "xlsx"),
            ("table",),
        ),
        Export(
            "surveys",
            gettext_lazy("Survey results"),
            gettext_lazy(
                "One survey wave: per question, the distribution, top-box share and mean, for "
                "all respondents and by each respondent attribute."
            ),
            ("csv", "xlsx"),
            ("survey", "wave"),
        ),
        Export(
            "iati",
            gettext_lazy("IATI activity"),
            gettext_lazy(
                "The programme as an IATI 2.03 activity: organisations, budget, results with "
                "baselines, targets and actuals by place and dimension."
            ),
            ("xml",),
        ),
        Export(
            "mptf",
            gettext_lazy("Fund's annual progress report"),
            gettext_lazy(
                "The Migration MPTF annual progress report: project information, results table "
                "and budget, ready for the narrative."
            ),
            ("docx",),
            ("year", "language"),
        ),
    )
}


def exports_for(access: Access) -> list[Export]:
    return [e for e in EXPORTS.values() if e.may_run(access)]


def can_view_export_job(access: Access, job: ExportJob) -> bool:
    """The member who asked for it, and the programme's admins."""
    if not access.is_member:
        return False
    return job.requested_by_id == access.user_id or access.is_admin


# ---- the programme's codes, for the selects and the checks ---------------------------------


class ExportChoices:
    """What each filter may be for one programme, as (value, label) pairs, fetched when first
    asked for (the page asks for all; the API for those it was given)."""

    def __init__(self, programme: Programme) -> None:
        self.programme = programme

    def for_filter(self, name: str) -> list[tuple[str, str]]:
        return list(getattr(self, name))

    @cached_property
    def city(self) -> list[tuple[str, str]]:
        cities = [(c.code, c.name) for c in self.programme.cities.order_by("programmecity__id")]
        return [*cities, (ALL, _("Programme totals only (ALL)"))]

    @cached_property
    def agency(self) -> list[tuple[str, str]]:
        agencies = [(a.code, a.acronym) for a in self.programme.agencies.order_by("code")]
        return [*agencies, (ALL, _("All agencies together only (ALL)"))]

    @cached_property
    def outcome(self) -> list[tuple[str, str]]:
        outcomes = self.programme.outcomes.order_by("order", "code")
        return [(o.code, f"{o.code} · {_short(o.title)}") for o in outcomes]

    @cached_property
    def output(self) -> list[tuple[str, str]]:
        outputs = Output.objects.filter(programme=self.programme).order_by(
            "outcome__order", "order", "code"
        )
        return [(o.code, f"{o.code} · {_short(o.title)}") for o in outputs]

    @cached_property
    def indicator(self) -> list[tuple[str, str]]:
        indicators = Indicator.objects.filter(programme=self.programme).order_by("order", "code")
        # A code may name several indicators (one per place): the filter takes them all.
        return list({i.code: (i.code, f"{i.code} · {_short(i.name)}") for i in indicators}.values())

    @cached_property
    def period(self) -> list[tuple[str, str]]:
        periods = self.programme.periods.order_by("end_date", "start_date")
        choices = [(p.code, p.name or p.code) for p in periods if p.code != LOP]
        return [*choices, (LOP, _("Life of the programme (LOP)"))]

    @cached_property
    def year(self) -> list[tuple[str, str]]:
        """The fund's report is annual for a reporting year, named by the year it ends in."""
        return [
            (str(y.end.year), f"{y.end.year} · {y.name} ({y.start:%Y-%m} – {y.end:%Y-%m})")
            for y in reporting_years(self.programme)
        ]

    @cached_property
    def language(self) -> list[tuple[str, str]]:
        names = {"es": _("Spanish"), "en": _("English")}
        return [(code, names[code]) for code in CONTENT_LANGUAGES]

    @cached_property
    def surveys(self) -> dict[str, list[int]]:
        """Each survey's waves, newest first."""
        out: dict[str, list[int]] = {}
        rows = Survey.objects.filter(programme=self.programme).order_by("code", "-wave")
        for code, wave in rows.values_list("code", "wave"):
            out.setdefault(code, []).append(wave)
        return out

    @cached_property
    def survey(self) -> list[tuple[str, str]]:
        titles = dict(
            (s.code, s.title)
            for s in Survey.objects.filter(programme=self.programme).order_by("code", "wave")
        )
        return [(code, f"{code} · {_short(titles[code])}") for code in self.surveys]

    @cached_property
    def wave(self) -> list[tuple[str, str]]:
        waves = sorted({w for ws in self.surveys.values() for w in ws})
        return [(str(w), str(w)) for w in waves]

    @property
    def table(self) -> list[tuple[str, str]]:
        return [(k, str(v)) for k, v in BUDGET_TABLES.items()]


def _short(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_filters(choices: ExportChoices, params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The filters of an export as people read them: label and the chosen value's name."""
    out = []
    for name, value in params.items():
        label = FILTER_LABELS.get(name)
        if label is None:
            continue
        if name == "updated_since":
            moment = dt.datetime.fromisoformat(value)
            text = formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")
        else:
            names = dict(choices.for_filter(name)) if name != "wave" else {}
            text = names.get(str(value), str(value))
        out.append((str(label), text))
    return out


# ---- checking what was asked for -----------------------------------------------------------


def _no_such(name: str, value: str) -> str:
    return _("There is no %(filter)s “%(value)s” in this programme.") % {
        "filter": str(FILTER_LABELS[name]).lower(),
        "value": value,
    }


def _since(text: str) -> str:
    """An ISO date (midnight, in the server's time zone) or date and time, kept in UTC."""
    try:
        moment = parse_datetime(text)
        if moment is None and (day := parse_date(text)) is not None:
            moment = dt.datetime.combine(day, dt.time.min)
        if moment is not None and timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        utc = moment.astimezone(dt.UTC) if moment is not None else None
    except (ValueError, OverflowError):  # 2023-02-30, or past the calendar's ends
        utc = None
    if utc is None:
        raise ValidationError(
            _("Enter a date as YYYY-MM-DD, or a date and time as YYYY-MM-DDTHH:MM.")
        )
    return utc.isoformat()


def clean_params(
    choices: ExportChoices, export: Export, data: Mapping[str, Any]
) -> tuple[str, dict[str, Any]]:
    """The format and the filters of a request, checked against the programme; raises a
    ``ValidationError`` naming each field that is wrong. Empty values are no filter."""
    errors: dict[str, list[str]] = {}
    text = {k: str(data.get(k) or "").strip() for k in ("format", *export.filters)}
    fmt = text["format"] or export.formats[0]
    if fmt not in export.formats:
        errors["format"] = [
            _("“%(value)s” is not a format of this export; choose one of %(formats)s.")
            % {"value": fmt, "formats": ", ".join(export.formats)}
        ]
    params: dict[str, Any] = {}
    for name in export.filters:
        value = text[name]
        if not value:
            continue
        try:
            params[name] = _clean_one(choices, name, value)
        except ValidationError as error:
            errors[name] = error.messages
    if export.kind == "surveys" and "survey" not in errors:
        _clean_survey(choices, params, errors)
    if errors:
        raise ValidationError(errors)
    if export.kind == "mptf":
        params.setdefault("language", active_content_language())
    return fmt, params


def _clean_one(choices: ExportChoices, name: str, value: str) -> Any:
    if name == "updated_since":
        return _since(value)
    if name == "wave":  # checked against the survey in _clean_survey
        if not (value.isascii() and value.isdigit()):
            raise ValidationError(_("A wave is a whole number, such as 1 or 2."))
        return int(value)
    if value not in {v for v, _label in choices.for_filter(name)}:
        raise ValidationError(_no_such(name, value))
    return int(value) if name == "year" else value


def _clean_survey(choices: ExportChoices, params: dict[str, Any], errors: dict) -> None:
    """A survey is required; without a wave, its latest."""
    if "survey" not in params:
        errors["survey"] = [_("Choose a survey.")]
        return
    waves = choices.surveys[params["survey"]]
    if "wave" not in params:
        params["wave"] = waves[0]
    elif params["wave"] not in waves and "wave" not in errors:
        errors["wave"] = [
            _("Survey %(survey)s has no wave %(wave)s (it has %(waves)s).")
            % {
                "survey": params["survey"],
                "wave": params["wave"],
                "waves": ", ".join(str(w) for w in sorted(waves)),
            }
        ]


# ---- one export asked for, and how it is built ---------------------------------------------


@dataclass(frozen=True)
class ExportRun:
    """One export with its format and cleaned filters, in a language."""

    programme: Programme
    kind: str
    fmt: str
    params: dict[str, Any] = field(default_factory=dict)
    language: str = "en"

    @property
    def export(self) -> Export:
        return EXPORTS[self.kind]

    @property
    def format(self) -> Format:
        return FORMATS[self.fmt]

    @property
    def streams(self) -> bool:
        """Written as it is read (memory stays flat), so the API serves any size."""
        return self.kind == "results" and self.fmt in ("csv", "json")

    def filename(self, stamp: ExportStamp) -> str:
        """``<PROGRAMME>-<kind>[-<part>]-<as of>.<ext>``; the part names the survey and wave,
        the budget table or the report's year."""
        p = self.params
        part = ""
        if self.kind == "surveys":
            part = f"-{p['survey']}-{p['wave']}"
        elif self.kind == "budget" and self.fmt == "csv" and p.get("table", "figures") != "figures":
            part = f"-{p['table']}"
        elif self.kind == "mptf" and p.get("year"):
            part = f"-{p['year']}"
        as_of = stamp.as_of_date or timezone.localdate(stamp.generated_at)
        return f"{self.programme.code}-{self.kind}{part}-{as_of.isoformat()}.{self.fmt}"

    def size(self) -> int:
        return BUILDERS[self.kind].size(self)

    def chunks(self, stamp: ExportStamp) -> Chunks:
        """The file, streamed where the format allows, else as one piece."""
        return BUILDERS[self.kind].chunks(self, stamp)

    def write(self, stamp: ExportStamp, out: IO[bytes], progress: Progress | None = None) -> int:
        """The file written to ``out``; returns the rows written."""
        return BUILDERS[self.kind].write(self, stamp, out, progress)


@dataclass(frozen=True)
class Builder:
    size: Callable[[ExportRun], int]
    chunks: Callable[[ExportRun, ExportStamp], Chunks]
    write_to: Callable[[ExportRun, ExportStamp, IO[bytes], Progress | None], int | None] | None = (
        None
    )

    def write(
        self, run: ExportRun, stamp: ExportStamp, out: IO[bytes], progress: Progress | None
    ) -> int:
        if self.write_to is not None:
            written = self.write_to(run, stamp, out, progress)
            if written is not None:
                return written
        else:
            for chunk in self.chunks(run, stamp):
                out.write(chunk)
        rows = run.size()
        if progress is not None:
            progress(rows)
        return rows


def results_query(run: ExportRun, *, cells: bool = True) -> ResultQuery:
    p = run.params
    since = p.get("updated_since")
    return ResultQuery(
        programme=run.programme,
        city=p.get("city"),
        agency=p.get("agency"),
        outcome=p.get("outcome"),
        output=p.get("output"),
        indicator=p.get("indicator"),
        period=p.get("period"),
        updated_since=dt.datetime.fromisoformat(since) if since else None,
        cells=cells,
    )


def _results_chunks(run: ExportRun, stamp: ExportStamp) -> Chunks:
    query = results_query(run)
    if run.fmt == "csv":
        return stream_csv(query, stamp)
    if run.fmt == "json":
        return stream_json(query, stamp)
    return [build_xlsx(query, stamp)]


def _results_write(
    run: ExportRun, stamp: ExportStamp, out: IO[bytes], progress: Progress | None
) -> int | None:
    query = results_query(run)
    if run.fmt == "csv":
        text = io.TextIOWrapper(out, encoding="utf-8", newline="")
        try:
            return write_csv(query, stamp, text, progress)
        finally:
            text.flush()
            text.detach()  # ``out`` stays open for whoever saves it
    if run.fmt == "xlsx":
        out.write(build_xlsx(query, stamp, progress))
        return None
    for chunk in _results_chunks(run, stamp):
        out.write(chunk)
    return None


def _budget_chunks(run: ExportRun, stamp: ExportStamp) -> Chunks:
    if run.fmt == "csv":
        return [budget.build_csv(run.programme, stamp, table=run.params.get("table", "figures"))]
    return [budget.build_xlsx(run.programme, stamp)]


def _budget_size(run: ExportRun) -> int:
    return BudgetLine.objects.filter(programme=run.programme).count()


def _survey(run: ExportRun) -> Survey:
    code, wave = run.params.get("survey", ""), run.params.get("wave")
    survey = None
    if wave is not None:
        survey = Survey.objects.filter(programme=run.programme, code=code, wave=wave).first()
    if survey is None:
        raise UnknownCode("survey", f"{code} {wave}")
    survey.programme = run.programme
    return survey


def _surveys_chunks(run: ExportRun, stamp: ExportStamp) -> Chunks:
    build = surveys.build_csv if run.fmt == "csv" else surveys.build_xlsx
    return [build(_survey(run), stamp)]


def _surveys_size(run: ExportRun) -> int:
    survey = _survey(run)
    return survey.responses.count() + survey.aggregates.count()


def _iati_chunks(run: ExportRun, stamp: ExportStamp) -> Chunks:
    return [build_iati_activities(run.programme, stamp=stamp)]


def _mptf_chunks(run: ExportRun, stamp: ExportStamp) -> Chunks:
    p = run.params
    language = p.get("language") or run.language
    return [build_mptf_report(run.programme, year=p.get("year"), language=language, stamp=stamp)]


def _programme_size(run: ExportRun) -> int:
    """IATI and the fund's report hold every figure of the programme."""
    return result_count(ResultQuery(programme=run.programme))


BUILDERS: dict[str, Builder] = {
    "results": Builder(
        lambda run: result_count(results_query(run)), _results_chunks, _results_write
    ),
    "budget": Builder(_budget_size, _budget_chunks),
    "surveys": Builder(_surveys_size, _surveys_chunks),
    "iati": Builder(_programme_size, _iati_chunks),
    "mptf": Builder(_programme_size, _mptf_chunks),
}


# What a builder may refuse (a code the programme lacks, a year it has no report for, a
# programme IATI cannot take): said on the field concerned, never an error page.
REFUSALS = (UnknownCode, NoSuchYear, IatiUnavailable)


def unknown_code_message(error: UnknownCode) -> str:
    label = FILTER_LABELS.get(error.field)
    if label is None:
        return _("“%(value)s” is not in this programme.") % {"value": error.code}
    return _no_such(error.field, error.code)


def refusal(error: Exception) -> tuple[str | None, str]:
    """The field a refusal is about (None: the request as a whole) and its message."""
    if isinstance(error, UnknownCode):
        return error.field, unknown_code_message(error)
    if isinstance(error, NoSuchYear):
        return "year", str(error)
    return None, str(error)
