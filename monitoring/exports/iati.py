"""The programme as one IATI 2.03 activity (DESIGN §8): organisations, dates, countries, city
locations, budget, and results with their indicators, baselines and periods, each period with
targets and actuals by city (``location ref``) and disaggregation cell (``dimension``).

Figures come from the tidy results table (``result_rows``), so from approved data only; the
file says as of when and whether figures were restated since (``ExportStamp``). The official
schema is vendored in ``iati_schema/`` and ``validate_iati`` checks a document against it
without touching the network.

Codes are from the IATI codelists: OrganisationType 40 (multilateral), OrganisationRole 1
(funding) / 2 (accountable) / 4 (implementing), ActivityStatus, ActivityDateType, ActivityScope
3 (multi-national), GeographicLocationReach 1 (activity), GeographicVocabulary A4 (ISO 3166-1
alpha-2), GeographicLocationClass 2 (populated place), SectorVocabulary 1 (DAC 5-digit),
BudgetType 1 (original) / 2 (revised), BudgetStatus 2 (committed), OtherIdentifierType A1
(reporting organisation's own id), ResultType 1 (output) / 2 (outcome), IndicatorMeasure,
IndicatorVocabulary and ResultVocabulary 99 (reporting organisation), DescriptionType 1
(general) / 4 (other)."""

import datetime as dt
import re
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from django.db.models import Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from lxml import etree

from budgets.models import BudgetLine
from indicators.models import Baseline, Indicator
from indicators.selectors.results import ALL, LOP, TOTAL, ResultQuery, result_rows
from monitoring.bilingual import CONTENT_LANGUAGES
from monitoring.models import Outcome, Programme, ProgrammeAgency, ProgrammeCity, ReportingPeriod

from .stamp import ExportStamp, export_stamp

IATI_VERSION = "2.03"
SCHEMA_DIR = Path(__file__).with_name("iati_schema")
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Characters XML 1.0 cannot carry (a pasted control character would make lxml refuse the text).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

# IATI organisation identifiers of the agencies, keyed by our agency code. [inference] Our
# data has no IATI identifiers: these are the agencies' OECD DAC channel codes in the XM-DAC
# namespace, under which the agencies publish to IATI themselves.
AGENCY_ORG_IDS = {
    "FAO": "XM-DAC-41301",
    "ILO": "XM-DAC-41302",
    "IOM": "XM-DAC-47066",
    "UNDP": "XM-DAC-41114",
    "UNESCO": "XM-DAC-41304",
    "UNFPA": "XM-DAC-41119",
    "UNHABITAT": "XM-DAC-41120",
    "UNHCR": "XM-DAC-41121",
    "UNICEF": "XM-DAC-41122",
    "UNWOMEN": "XM-DAC-41146",
    "WFP": "XM-DAC-41140",
    "WHO": "XM-DAC-928",
}
# [inference] The programmes' DAC 5 sector, keyed by programme code, until programmes carry a
# sector of their own: 15190 "Facilitation of orderly, safe, regular and responsible migration
# and mobility" for Ciudades (a Migration MPTF programme on migrants' socio-economic
# integration). A programme not listed has no sector element.
PROGRAMME_SECTORS = {"CIUDADES": "15190"}
MULTILATERAL = "40"
FUNDING, ACCOUNTABLE, IMPLEMENTING = "1", "2", "4"
MEASURES = {"count": "1", "amount": "1", "percent": "2", "yes_no": "3", "level": "4", "text": "5"}
QUALITATIVE = "5"
OWN_VOCABULARY = "99"  # IndicatorVocabulary / ResultVocabulary: reporting organisation
CENT = Decimal("0.01")
HUNDRED = Decimal(100)


class IatiUnavailable(ValueError):
    """The programme cannot be published to IATI as it stands (the message says why)."""


class ResultRow(NamedTuple):
    """One tidy row, named as ``RESULT_COLUMNS`` (a test keeps the two in step)."""

    programme: str
    outcome: str
    output: str
    indicator: str
    indicator_name_es: str
    indicator_name_en: str
    measure: str
    city: str
    agency: str
    period: str
    disaggregation: str
    baseline: Decimal | None
    target: Decimal | None
    actual: Decimal | None
    achievement_pct: Decimal | None
    status: str
    approved_at: dt.datetime | None
    computed_at: dt.datetime | None


# ---------------------------------------------------------------- small builders


def _sub(parent: Any, tag: str, **attrs: str) -> Any:
    return etree.SubElement(parent, tag, {k.replace("_", "-"): v for k, v in attrs.items()})


def _narratives(parent: Any, tag: str, texts: Mapping[str, str], **attrs: str) -> Any:
    """``tag`` with one narrative per language that has a text (Spanish first)."""
    element = _sub(parent, tag, **attrs)
    for lang in CONTENT_LANGUAGES:
        text = NOT_XML.sub("", texts.get(lang) or "").strip()
        if text:
            etree.SubElement(element, "narrative", {XML_LANG: lang}).text = text
    return element


def _texts(obj: Any, field: str) -> dict[str, str]:
    return {lang: getattr(obj, f"{field}_{lang}", "") or "" for lang in CONTENT_LANGUAGES}


def _number(value: Decimal) -> str:
    """A decimal as the schema wants it: plain notation, no trailing zeros (400, 73.5)."""
    return format(value.normalize(), "f")


def _moment(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).replace(microsecond=0).isoformat()


def _comment_text(text: str) -> str:
    return " " + text.replace("--", "- -").rstrip("-") + " "


# ---------------------------------------------------------------- the document


def build_iati_activities(programme: Programme, *, stamp: ExportStamp | None = None) -> bytes:
    """The programme as an ``iati-activities`` document (UTF-8 bytes with declaration).
    Raises ``IatiUnavailable`` when the convening agency has no IATI identifier."""
    stamp = stamp or export_stamp(programme)
    root = etree.Element(
        "iati-activities",
        {"version": IATI_VERSION, "generated-datetime": _moment(stamp.generated_at)},
    )
    with translation.override("en"):
        root.append(etree.Comment(_comment_text(stamp.sentence())))
    root.append(_activity(programme, stamp))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _activity(programme: Programme, stamp: ExportStamp) -> Any:
    memberships = list(
        ProgrammeAgency.objects.filter(programme=programme)
        .select_related("agency")
        .order_by("-is_convening", "agency__code")
    )
    convening = next((m.agency for m in memberships if m.is_convening), None)
    if convening is None:
        raise IatiUnavailable(
            _("%(programme)s has no convening agency to report it.") % {"programme": programme.code}
        )
    reporting_ref = AGENCY_ORG_IDS.get(convening.code)
    if reporting_ref is None:
        raise IatiUnavailable(
            _("The convening agency of %(programme)s has no IATI organisation identifier.")
            % {"programme": programme.code}
        )
    activity = etree.Element(
        "iati-activity",
        {
            "last-updated-datetime": _moment(stamp.computed_at or stamp.generated_at),
            XML_LANG: "es",
            "default-currency": programme.currency,
            "hierarchy": "1",
        },
    )
    # [inference] The fund's own project number is not in our data: the identifier is the
    # reporting organisation's identifier and the programme's code.
    _sub(activity, "iati-identifier").text = f"{reporting_ref}-{programme.code}"
    _narratives(
        activity, "reporting-org", _texts(convening, "name"), ref=reporting_ref, type=MULTILATERAL
    )
    _narratives(activity, "title", _texts(programme, "name"))
    general = _texts(programme, "objective")
    if not any(general.values()):
        general = _texts(programme, "name")
    _narratives(activity, "description", general, type="1")
    _narratives(activity, "description", _stamp_sentences(stamp), type="4")
    _participating_orgs(activity, programme, memberships)
    _sub(activity, "other-identifier", ref=programme.code, type="A1")
    _dates(activity, programme)
    cities = list(
        ProgrammeCity.objects.filter(programme=programme)
        .select_related("city__country")
        .order_by("city__code")
    )
    _places(activity, programme, [pc.city for pc in cities])
    _budgets(activity, programme)
    for result in _results(programme, {pc.city.code for pc in cities}):
        activity.append(result)
    return activity


def _stamp_sentences(stamp: ExportStamp) -> dict[str, str]:
    out = {}
    for lang in CONTENT_LANGUAGES:
        with translation.override(lang):
            out[lang] = stamp.sentence()
    return out


def _participating_orgs(
    activity: Any, programme: Programme, memberships: list[ProgrammeAgency]
) -> None:
    # [inference] The fund's IATI identifier is not in our data and no ref is better than a
    # wrong one (the attribute is optional): the fund is named only.
    fund = _texts(programme, "fund")
    if any(fund.values()):
        _narratives(activity, "participating-org", fund, role=FUNDING, type=MULTILATERAL)
    for membership in memberships:  # the convening agency first
        agency = membership.agency
        ref = AGENCY_ORG_IDS.get(agency.code)
        extra = {"ref": ref, "crs_channel_code": ref.rsplit("-", 1)[1]} if ref else {}
        for role in (ACCOUNTABLE, IMPLEMENTING):
            _narratives(
                activity,
                "participating-org",
                _texts(agency, "name"),
                role=role,
                type=MULTILATERAL,
                **extra,
            )


def _dates(activity: Any, programme: Programme) -> None:
    """Status and dates from the programme's dates (its end includes no-cost extensions).
    After the end the status is 3 (finalisation): closure (4) needs the fund's financial
    closing, which the platform does not record."""
    today = timezone.localdate()
    start, end = programme.start_date, programme.end_date
    status = "1" if today < start else "2" if today <= end else "3"
    _sub(activity, "activity-status", code=status)
    dates = [("1", start), ("3", end)]
    if today >= start:
        dates.append(("2", start))
    if today > end:
        dates.append(("4", end))
    for kind, day in sorted(dates):
        _sub(activity, "activity-date", type=kind, iso_date=day.isoformat())


def _places(activity: Any, programme: Programme, cities: list[Any]) -> None:
    countries = {city.country.code: city.country for city in cities}
    if len(countries) > 1:
        _sub(activity, "activity-scope", code="3")
    for code, share in _country_shares(programme, sorted(countries)).items():
        _narratives(
            activity,
            "recipient-country",
            _texts(countries[code], "name"),
            code=code,
            percentage=_number(share),
        )
    for city in cities:
        location = _sub(activity, "location", ref=city.code)
        _sub(location, "location-reach", code="1")
        _narratives(location, "name", _texts(city, "name"))
        government = _texts(city, "government")
        if any(government.values()):
            _narratives(location, "description", government)
        _sub(location, "administrative", vocabulary="A4", level="0", code=city.country.code)
        _sub(location, "location-class", code="2")
    sector = PROGRAMME_SECTORS.get(programme.code)
    if sector:
        _sub(activity, "sector", vocabulary="1", code=sector, percentage="100")


def _country_shares(programme: Programme, codes: list[str]) -> dict[str, Decimal]:
    """Each country's share of the budget lines (percentages adding to exactly 100), or equal
    shares when some country has no line."""
    if not codes:
        return {}
    amounts = dict(
        BudgetLine.objects.filter(
            programme=programme, view=BudgetLine.View.LINE, country__code__in=codes
        )
        .values_list("country__code")
        .annotate(total=Sum("amount"))
        .values_list("country__code", "total")
    )
    total = sum(amounts.values(), Decimal(0))
    if total <= 0 or any(not amounts.get(code) for code in codes):
        amounts, total = {code: Decimal(1) for code in codes}, Decimal(len(codes))
    shares = {
        code: (amounts[code] / total * HUNDRED).quantize(CENT, ROUND_HALF_UP) for code in codes
    }
    shares[codes[-1]] = HUNDRED - sum((shares[c] for c in codes[:-1]), Decimal(0))
    return shares


def _budgets(activity: Any, programme: Programme) -> None:
    """One budget for the whole programme per currency from its budget lines: the original
    amounts (type 1) and, when revisions changed them, the revised ones (type 2); without lines,
    the programme's total budget. [inference] Status 2 (committed): the lines are the budget
    the fund approved. The lines are not split by year, so neither is the budget."""
    sums = (
        BudgetLine.objects.filter(programme=programme, view=BudgetLine.View.LINE)
        .values("currency")
        .annotate(original=Sum("original_amount"), revised=Sum("amount"))
        .order_by("currency")
    )
    figures = [(s["currency"], s["original"], s["revised"]) for s in sums]
    if not figures and programme.budget_total > 0:
        figures = [(programme.currency, programme.budget_total, programme.budget_total)]
    for currency, original, revised in figures:
        kinds = [("1", original)] if original == revised else [("1", original), ("2", revised)]
        for kind, amount in kinds:
            budget = _sub(activity, "budget", type=kind, status="2")
            _sub(budget, "period-start", iso_date=programme.start_date.isoformat())
            _sub(budget, "period-end", iso_date=programme.end_date.isoformat())
            value = _sub(
                budget, "value", currency=currency, value_date=programme.start_date.isoformat()
            )
            value.text = format(amount.quantize(CENT), "f")


# ---------------------------------------------------------------- results


def _results(programme: Programme, city_codes: set[str]) -> Iterable[Any]:
    """One result per outcome (type 2) then one per output (type 1), each with its indicators
    (active ones, and superseded ones that have approved figures); results without indicators
    are left out (the schema wants at least one)."""
    rows: dict[int, list[ResultRow]] = defaultdict(list)
    by_code = {i.code: i for i in Indicator.objects.filter(programme=programme)}
    for raw in result_rows(ResultQuery(programme=programme)):
        row = ResultRow._make(raw)
        # Agency rows are left out: IATI has no place for them, and agency sums of a
        # consolidated indicator are gross, not the programme's figure.
        if row.agency == ALL and (row.city == ALL or row.city in city_codes):
            rows[by_code[row.indicator].pk].append(row)
    baselines: dict[int, list[Baseline]] = defaultdict(list)
    for baseline in Baseline.objects.filter(indicator__programme=programme).select_related("city"):
        baselines[baseline.indicator_id].append(baseline)
    spans = _spans(programme)
    chosen = [i for i in by_code.values() if i.is_active or i.pk in rows]
    chosen.sort(key=lambda i: (i.order, i.code))
    for outcome in Outcome.objects.filter(programme=programme).prefetch_related("outputs"):
        groups: list[tuple[str, Any, list[Indicator]]] = [
            ("2", outcome, [i for i in chosen if i.outcome_id == outcome.pk and not i.output_id])
        ]
        groups += [
            ("1", output, [i for i in chosen if i.output_id == output.pk])
            for output in outcome.outputs.all()
        ]
        for kind, parent, indicators in groups:
            if not indicators:
                continue
            result = etree.Element("result", type=kind)
            _narratives(result, "title", _texts(parent, "title"))
            _sub(result, "reference", vocabulary=OWN_VOCABULARY, code=parent.code)
            for indicator in indicators:
                result.append(
                    _indicator(indicator, baselines[indicator.pk], rows[indicator.pk], spans)
                )
            yield result


def _spans(programme: Programme) -> dict[str, tuple[dt.date, dt.date]]:
    """Each period code's dates; the life of the programme is its start to its end."""
    spans = {
        code: (start, end)
        for code, start, end in ReportingPeriod.objects.filter(programme=programme).values_list(
            "code", "start_date", "end_date"
        )
    }
    spans[LOP] = (programme.start_date, programme.end_date)
    return spans


def _indicator(
    indicator: Indicator,
    baselines: list[Baseline],
    rows: list[ResultRow],
    spans: Mapping[str, tuple[dt.date, dt.date]],
) -> Any:
    measure = MEASURES[indicator.measure]
    element = etree.Element("indicator", measure=measure)
    if measure in ("1", "2", "4") and indicator.direction != Indicator.Direction.MAINTAIN:
        element.set("ascending", "1" if indicator.direction == "increase" else "0")
    _narratives(element, "title", _texts(indicator, "name"))
    description = {
        lang: " ".join(
            part
            for part in (
                getattr(indicator, f"definition_{lang}"),
                "" if indicator.is_active else getattr(indicator, f"version_label_{lang}"),
            )
            if part
        )
        for lang in CONTENT_LANGUAGES
    }
    if any(description.values()):
        _narratives(element, "description", description)
    _sub(element, "reference", vocabulary=OWN_VOCABULARY, code=indicator.code)
    quantitative = measure != QUALITATIVE
    for baseline in sorted(baselines, key=lambda b: b.city.code if b.city else ""):
        node = _sub(element, "baseline", year=str(baseline.date.year))
        node.set("iso-date", baseline.date.isoformat())
        if quantitative:
            node.set("value", _number(baseline.value))
        if baseline.city:
            _sub(node, "location", ref=baseline.city.code)
    for (start, end), figures in _periods(rows, spans):
        period = _sub(element, "period")
        _sub(period, "period-start", iso_date=start.isoformat())
        _sub(period, "period-end", iso_date=end.isoformat())
        for field in ("target", "actual"):
            for row in figures:
                value = getattr(row, field)
                if value is not None and quantitative:
                    _figure(period, field, value, row)
    return element


def _periods(
    rows: list[ResultRow], spans: Mapping[str, tuple[dt.date, dt.date]]
) -> list[tuple[tuple[dt.date, dt.date], list[ResultRow]]]:
    """Rows grouped by the dates of their period, in time order with the life of the
    programme last; one figure per city and cell (a life-of-programme row wins over a period
    with the same dates)."""
    grouped: dict[tuple[dt.date, dt.date], dict[tuple[str, str], ResultRow]] = {}
    lop_span = spans[LOP]
    for row in rows:
        if row.target is None and row.actual is None:
            continue
        cells = grouped.setdefault(spans[row.period], {})
        key = (row.city, row.disaggregation)
        if key not in cells or row.period == LOP:
            cells[key] = row
    order = sorted(grouped, key=lambda span: (span == lop_span, span[1], span[0]))
    return [(span, list(grouped[span].values())) for span in order]


def _figure(period: Any, field: str, value: Decimal, row: ResultRow) -> None:
    node = _sub(period, field, value=_number(value))
    if row.city != ALL:
        _sub(node, "location", ref=row.city)
    if row.disaggregation != TOTAL:
        name, _eq, category = row.disaggregation.partition("=")
        _sub(node, "dimension", name=name, value=category)


# ---------------------------------------------------------------- validation

_schema_lock = threading.Lock()


@cache
def _schema() -> Any:
    """The vendored schema; its includes (iati-common.xsd, xml.xsd) resolve beside it."""
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    return etree.XMLSchema(etree.parse(str(SCHEMA_DIR / "iati-activities-schema.xsd"), parser))


def validate_iati(xml_bytes: bytes) -> list[str]:
    """The schema errors of an IATI activities document ("line N: message"); empty when it is
    valid. A document type declaration is refused (IATI files have none, and its entities are
    never resolved), and nothing is fetched from the network."""
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    try:
        document = etree.fromstring(xml_bytes, parser)
    except etree.XMLSyntaxError as error:
        return [f"line {error.lineno}: {error.msg}"]
    if document.getroottree().docinfo.doctype:
        return ["line 1: " + _("A document type declaration (DOCTYPE) is not allowed.")]
    schema = _schema()
    with _schema_lock:  # the schema's error log is shared by its callers
        try:
            if schema.validate(document):
                return []
        except etree.XMLSchemaValidateError as error:
            return [f"line 1: {error}"]
        return [f"line {e.line}: {e.message}" for e in schema.error_log]
