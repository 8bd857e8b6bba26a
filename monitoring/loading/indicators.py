"""The indicator sections of a programme document: indicators with their baselines and
targets, and historical reports with their values, cells and stated components."""

from typing import TYPE_CHECKING, Any

from indicators.models import (
    Baseline,
    Indicator,
    IndicatorValue,
    ProgressReport,
    Target,
    ValueComponent,
)
from indicators.services import target_revise

from .dates import approved_at, parse_date
from .upsert import LoadError, to_decimal, to_optional_decimal

if TYPE_CHECKING:
    from .programme import ProgrammeLoader

TEXT_FIELDS = (
    "name_es",
    "name_en",
    "definition_es",
    "definition_en",
    "unit_es",
    "unit_en",
    "means_of_verification_es",
    "means_of_verification_en",
    "version_label_es",
    "version_label_en",
    "notes_es",
    "notes_en",
    "source",
)
RULE_FIELDS = ("measure", "time_rule", "place_rule", "agency_rule", "direction", "target_kind")


def _text(data: dict, key: str) -> str:
    value = data.get(key)
    return "" if value is None else str(value)


def load_indicator(loader: "ProgrammeLoader", data: dict[str, Any]) -> Indicator:
    record = f"indicator {data.get('code')}"
    outcome = loader._ref(loader.outcomes, "outcome", record, "outcome", data.get("outcome"))
    output = loader._ref(loader.outputs, "output", record, "output", data.get("output"))
    cities = loader._refs(loader.cities, "city", record, "cities", data.get("cities", []))
    if not cities:
        raise LoadError(record, "cities", "an indicator needs at least one city in scope.")
    loader._check_programme_cities(record, "cities", cities)
    values: dict[str, Any] = {k: _text(data, k) for k in TEXT_FIELDS}
    values.update({k: data.get(k) for k in RULE_FIELDS if data.get(k) is not None})
    values.update(
        level=data.get("level"),
        outcome_id=outcome.pk if outcome else None,
        output_id=output.pk if output else None,
        version=data.get("version", 1),
        is_active=bool(data.get("is_active", True)),
        order=data.get("order", 0),
    )
    indicator = loader.up.save(
        Indicator,
        record,
        {"programme_id": loader.programme.pk, "code": data["code"]},
        values,
        m2m={
            "cities": cities,
            "dimensions": loader._refs(
                loader.dimensions, "dimension", record, "dimensions", data.get("dimensions", [])
            ),
            "responsible_agencies": loader._refs(
                loader.agencies,
                "agency",
                record,
                "responsible_agencies",
                data.get("responsible_agencies", []),
            ),
        },
    )
    for n, b in enumerate(data.get("baselines", []), start=1):
        brecord = f"{record} › baseline #{n} (city {b.get('city') or 'ALL'})"
        city = loader._ref(loader.cities, "city", brecord, "city", b.get("city"))
        loader.up.save(
            Baseline,
            brecord,
            {"indicator_id": indicator.pk, "city_id": city.pk if city else None},
            {
                "value": to_decimal(brecord, "value", b.get("value")),
                "date": parse_date(brecord, "date", b.get("date")),
                "source": _text(b, "source"),
            },
        )
    for n, t in enumerate(data.get("targets", []), start=1):
        _load_target(loader, indicator, f"{record} › target #{n}", t)
    return indicator


def _load_target(loader: "ProgrammeLoader", indicator: Indicator, record: str, t: dict) -> None:
    record += f" (city {t.get('city') or 'ALL'}, period {t.get('period') or 'LOP'})"
    city = loader._ref(loader.cities, "city", record, "city", t.get("city"))
    agency = loader._ref(loader.agencies, "agency", record, "agency", t.get("agency"))
    period = loader._ref(loader.periods, "period", record, "period", t.get("period"))
    cell = loader._ref(loader.cells, "disaggregation cell", record, "category", t.get("category"))
    value = to_decimal(record, "value", t.get("value"))
    lookup = {
        "indicator_id": indicator.pk,
        "city_id": city.pk if city else None,
        "agency_id": agency.pk if agency else None,
        "period_id": period.pk if period else None,
        "category_id": cell.pk if cell else None,
    }
    existing = Target.objects.filter(**lookup).first()
    if existing is not None and existing.original_value != value and existing.value != value:
        # The document's target changed since it was first loaded: a revision, kept as one.
        target_revise(
            target=existing,
            new_value=value,
            actor=None,
            reason=f"Programme document reloaded: {_text(t, 'source') or 'no source given'}",
        )
        loader.up.updated[str(Target._meta.verbose_name_plural)] += 1
        return
    values: dict[str, Any] = {"source": _text(t, "source")}
    if existing is None:
        values.update(original_value=value, value=value)
    loader.up.save(Target, record, lookup, values)


def load_report(loader: "ProgrammeLoader", data: dict[str, Any]) -> ProgressReport:
    record = (
        f"report {data.get('period')} {data.get('agency') or 'JOINT'} {data.get('city') or 'ALL'}"
    )
    period = loader._ref(loader.periods, "period", record, "period", data.get("period"))
    agency = loader._ref(loader.agencies, "agency", record, "agency", data.get("agency"))
    city = loader._ref(loader.cities, "city", record, "city", data.get("city"))
    status = data.get("status", ProgressReport.Status.APPROVED)
    if status not in ProgressReport.APPROVED_STATUSES:
        raise LoadError(record, "status", "historical reports are loaded as approved or validated.")
    report = loader.up.save(
        ProgressReport,
        record,
        {
            "programme_id": loader.programme.pk,
            "period_id": period.pk,
            "agency_id": agency.pk if agency else None,
            "city_id": city.pk if city else None,
        },
        {
            "status": status,
            "is_historical": True,
            "as_of": parse_date(record, "as_of", data.get("as_of")),
            "approved_at": approved_at(record, data.get("approved_at")),
            **{k: _text(data, k) for k in ("narrative_es", "narrative_en", "source")},
        },
    )
    for v in data.get("values", []):
        _load_value(loader, report, record, v)
    return report


def _load_value(loader: "ProgrammeLoader", report: ProgressReport, record: str, v: dict) -> None:
    vrecord = f"{record} › value {v.get('indicator')}"
    indicator = loader._ref(
        loader.indicators, "indicator", vrecord, "indicator", v.get("indicator")
    )
    common = {
        "provenance": v.get("provenance", IndicatorValue.Provenance.REPORTED),
        "source": _text(v, "source"),
    }
    total = loader.up.save(
        IndicatorValue,
        vrecord,
        {"report_id": report.pk, "indicator_id": indicator.pk, "category_id": None},
        {
            "value": to_optional_decimal(vrecord, "value", v.get("value")),
            "numerator": to_optional_decimal(vrecord, "numerator", v.get("numerator")),
            "denominator": to_optional_decimal(vrecord, "denominator", v.get("denominator")),
            "text_value": _text(v, "text"),
            "quality_note_es": _text(v, "quality_note_es"),
            "quality_note_en": _text(v, "quality_note_en"),
            **common,
        },
    )
    for cell_code, amount in (v.get("cells") or {}).items():
        crecord = f"{vrecord} › cell {cell_code}"
        cell = loader._ref(loader.cells, "disaggregation cell", crecord, "cells", cell_code)
        loader.up.save(
            IndicatorValue,
            crecord,
            {"report_id": report.pk, "indicator_id": indicator.pk, "category_id": cell.pk},
            {"value": to_decimal(crecord, "value", amount), **common},
        )
    components = v.get("components") or []
    for n, c in enumerate(components, start=1):
        crecord = f"{vrecord} › component #{n}"
        city = loader._ref(loader.cities, "city", crecord, "city", c.get("city"))
        loader.up.save(
            ValueComponent,
            crecord,
            {"value_id": total.pk, "order": n},
            {
                "amount": to_optional_decimal(crecord, "amount", c.get("amount")),
                "city_id": city.pk if city else None,
                **{
                    k: _text(c, k) for k in ("label_es", "label_en", "unit_es", "unit_en", "source")
                },
            },
        )
    stale = ValueComponent.objects.filter(value=total, order__gt=len(components))
    if stale.exists():
        stale.delete()
        loader.up.updated[str(ValueComponent._meta.verbose_name_plural)] += 1
