"""Load a programme document (the JSON format of ``programme_data/ciudades.json``): reference
data, the programme, its results framework, periods, indicators with baselines and targets,
the crosswalk, historical approved reports and budget lines.

The whole document loads in one transaction or not at all. Records are matched by their codes,
so loading the same document again changes nothing."""

from typing import Any

from django.db import transaction

from budgets.models import BudgetCategory
from indicators.models import (
    DisaggregationCategory,
    DisaggregationDimension,
    Indicator,
    IndicatorSupersession,
)

from ..models import (
    Activity,
    Agency,
    City,
    Country,
    Outcome,
    Output,
    Programme,
    ProgrammeAgency,
    ProgrammeCity,
    ReportingPeriod,
)
from .budget import load_budget
from .dates import parse_date
from .indicators import load_indicator, load_report
from .periods import quarter_spans
from .structure import check_unique_keys
from .surveys import load_surveys
from .upsert import LoadError, Upserter, to_decimal

FORMAT = "conjunto.programme/1"


def _text(data: dict, key: str) -> str:
    value = data.get(key)
    return "" if value is None else str(value)


class ProgrammeLoader:
    def __init__(self, document: dict[str, Any]) -> None:
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise LoadError("document", "format", f"expected format {FORMAT!r}.")
        self.doc = document
        self.up = Upserter()
        self.countries: dict[str, Country] = {}
        self.cities: dict[str, City] = {}
        self.agencies: dict[str, Agency] = {}
        self.dimensions: dict[str, DisaggregationDimension] = {}
        self.cells: dict[str, DisaggregationCategory] = {}
        self.budget_categories: dict[str, BudgetCategory] = {}
        self.outcomes: dict[str, Outcome] = {}
        self.outputs: dict[str, Output] = {}
        self.periods: dict[str, ReportingPeriod] = {}
        self.indicators: dict[str, Indicator] = {}

    # --- lookups ---------------------------------------------------------------------------

    def _ref(self, table: dict[str, Any], kind: str, record: str, field: str, code: Any) -> Any:
        if code is None:
            return None
        try:
            return table[code]
        except (KeyError, TypeError):
            raise LoadError(record, field, f"unknown {kind} {code!r}.") from None

    def _refs(self, table: dict[str, Any], kind: str, record: str, field: str, codes: Any) -> list:
        if not isinstance(codes, list):
            raise LoadError(record, field, "expected a list of codes.")
        return [self._ref(table, kind, record, field, code) for code in codes]

    # --- sections --------------------------------------------------------------------------

    @transaction.atomic
    def load(self) -> Upserter:
        check_unique_keys(self.doc)
        ref = self.doc.get("reference", {})
        self._load_reference(ref)
        self.programme = self._load_programme(self.doc["programme"])
        self._load_outcomes_outputs()
        self._load_activities()
        self._load_periods(self.doc.get("periods", {}))
        self._load_indicators()
        self._load_crosswalk()
        self._load_reports()
        load_budget(self)
        load_surveys(self)
        return self.up

    def _load_reference(self, ref: dict) -> None:
        for c in ref.get("countries", []):
            record = f"country {c.get('code')}"
            self.countries[c["code"]] = self.up.save(
                Country,
                record,
                {"code": c["code"]},
                {"name_es": c["name_es"], "name_en": c["name_en"]},
            )
        for c in ref.get("cities", []):
            record = f"city {c.get('code')}"
            country = self._ref(self.countries, "country", record, "country", c.get("country"))
            self.cities[c["code"]] = self.up.save(
                City,
                record,
                {"code": c["code"]},
                {
                    "country_id": country.pk,
                    **{
                        k: _text(c, k)
                        for k in ("name_es", "name_en", "government_es", "government_en")
                    },
                },
            )
        for a in ref.get("agencies", []):
            self.agencies[a["code"]] = self.up.save(
                Agency,
                f"agency {a.get('code')}",
                {"code": a["code"]},
                {k: a[k] for k in ("acronym_es", "acronym_en", "name_es", "name_en")},
            )
        for d in ref.get("dimensions", []):
            record = f"dimension {d.get('code')}"
            dim = self.up.save(
                DisaggregationDimension,
                record,
                {"code": d["code"]},
                {"name_es": d["name_es"], "name_en": d["name_en"], "order": d.get("order", 0)},
            )
            self.dimensions[d["code"]] = dim
            for n, c in enumerate(d.get("categories", []), start=1):
                cat = self.up.save(
                    DisaggregationCategory,
                    f"{record} › category {c.get('code')}",
                    {"dimension_id": dim.pk, "code": c["code"]},
                    {"name_es": c["name_es"], "name_en": c["name_en"], "order": n},
                )
                self.cells[f"{d['code']}={c['code']}"] = cat
        for b in ref.get("budget_categories", []):
            self.budget_categories[b["code"]] = self.up.save(
                BudgetCategory,
                f"budget category {b.get('code')}",
                {"code": b["code"]},
                {
                    "scheme": b["scheme"],
                    "name_es": b["name_es"],
                    "name_en": b["name_en"],
                    "order": b.get("order", 0),
                    "is_indirect": bool(b.get("is_indirect", False)),
                    "funds_outcome": b.get("funds_outcome"),
                },
            )

    def _load_programme(self, p: dict) -> Programme:
        record = f"programme {p.get('code')}"
        values: dict[str, Any] = {
            k: _text(p, k)
            for k in (
                "name_es",
                "name_en",
                "short_name_es",
                "short_name_en",
                "objective_es",
                "objective_en",
                "fund_es",
                "fund_en",
                "source",
            )
        }
        values.update(
            start_date=parse_date(record, "start_date", p.get("start_date")),
            end_date=parse_date(record, "end_date", p.get("end_date")),
            currency=p.get("currency", "USD"),
            budget_total=to_decimal(record, "budget_total", p.get("budget_total", 0)),
        )
        if "grace_days" in p:
            values["grace_days"] = p["grace_days"]
        programme = self.up.save(Programme, record, {"code": p["code"]}, values)
        for a in p.get("agencies", []):
            agency = self._ref(self.agencies, "agency", record, "agencies", a.get("agency"))
            self.up.save(
                ProgrammeAgency,
                f"{record} › agency {agency.code}",
                {"programme_id": programme.pk, "agency_id": agency.pk},
                {"is_convening": bool(a.get("convening", False))},
            )
        for code in p.get("cities", []):
            city = self._ref(self.cities, "city", record, "cities", code)
            self.up.save(
                ProgrammeCity,
                f"{record} › city {code}",
                {"programme_id": programme.pk, "city_id": city.pk},
                {},
            )
        return programme

    def _load_outcomes_outputs(self) -> None:
        pid = self.programme.pk
        for o in self.doc.get("outcomes", []):
            self.outcomes[o["code"]] = self.up.save(
                Outcome,
                f"outcome {o.get('code')}",
                {"programme_id": pid, "code": o["code"]},
                {
                    "order": o.get("order", 0),
                    **{
                        k: _text(o, k)
                        for k in ("title_es", "title_en", "objective_es", "objective_en", "source")
                    },
                },
            )
        for o in self.doc.get("outputs", []):
            record = f"output {o.get('code')}"
            outcome = self._ref(self.outcomes, "outcome", record, "outcome", o.get("outcome"))
            cities = self._refs(self.cities, "city", record, "cities", o.get("cities", []))
            self._check_programme_cities(record, "cities", cities)
            self.outputs[o["code"]] = self.up.save(
                Output,
                record,
                {"programme_id": pid, "code": o["code"]},
                {
                    "outcome_id": outcome.pk,
                    "order": o.get("order", 0),
                    **{k: _text(o, k) for k in ("title_es", "title_en", "source")},
                },
                m2m={"cities": cities},
            )

    def _check_programme_cities(self, record: str, field: str, cities: list[City]) -> None:
        allowed = set(self.programme.cities.values_list("pk", flat=True))
        for city in cities:
            if city.pk not in allowed:
                raise LoadError(record, field, f"{city.code} is not a city of the programme.")

    def _load_activities(self) -> None:
        pid = self.programme.pk
        for a in self.doc.get("activities", []):
            country_code = a.get("country")
            record = f"activity {a.get('code')} ({country_code or 'binational'})"
            output = self._ref(self.outputs, "output", record, "output", a.get("output"))
            country = self._ref(self.countries, "country", record, "country", country_code)
            city = self._ref(self.cities, "city", record, "city", a.get("city"))
            lead = self._ref(self.agencies, "agency", record, "lead_agency", a.get("lead_agency"))
            others = self._refs(
                self.agencies,
                "agency",
                record,
                "participating_agencies",
                a.get("participating_agencies", []),
            )
            self.up.save(
                Activity,
                record,
                {
                    "programme_id": pid,
                    "country_id": country.pk if country else None,
                    "code": a["code"],
                },
                {
                    "output_id": output.pk,
                    "city_id": city.pk if city else None,
                    "lead_agency_id": lead.pk if lead else None,
                    "order": a.get("order", 0),
                    "status": a.get("status", Activity.Status.PLANNED),
                    **{k: _text(a, k) for k in ("description_es", "description_en", "source")},
                },
                m2m={"participating_agencies": others},
            )

    def _load_periods(self, periods: dict) -> None:
        pid = self.programme.pk
        quarters = periods.get("quarters")
        spans = list(periods.get("spans", []))
        if quarters:
            spans = quarter_spans(quarters) + spans
        for p in spans:
            record = f"period {p.get('code')}"
            self.periods[p["code"]] = self.up.save(
                ReportingPeriod,
                record,
                {"programme_id": pid, "code": p["code"]},
                {
                    "kind": p.get("kind", ReportingPeriod.Kind.QUARTER),
                    "name_es": p["name_es"],
                    "name_en": p["name_en"],
                    "start_date": parse_date(record, "start_date", p.get("start_date")),
                    "end_date": parse_date(record, "end_date", p.get("end_date")),
                    "due_date": parse_date(record, "due_date", p.get("due_date")),
                    "status": p.get("status", ReportingPeriod.Status.OPEN),
                    "source": _text(p, "source"),
                },
            )

    def _load_indicators(self) -> None:
        for data in self.doc.get("indicators", []):
            indicator = load_indicator(self, data)
            self.indicators[indicator.code] = indicator

    def _load_crosswalk(self) -> None:
        for link in self.doc.get("crosswalk", []):
            record = f"crosswalk {link.get('predecessor')} → {link.get('successor')}"
            before = self._ref(
                self.indicators, "indicator", record, "predecessor", link.get("predecessor")
            )
            after = self._ref(
                self.indicators, "indicator", record, "successor", link.get("successor")
            )
            self.up.save(
                IndicatorSupersession,
                record,
                {"predecessor_id": before.pk, "successor_id": after.pk},
                {
                    "change": link.get("change"),
                    **{k: _text(link, k) for k in ("note_es", "note_en", "source")},
                },
            )

    def _load_reports(self) -> None:
        for data in self.doc.get("reports", []):
            load_report(self, data)
