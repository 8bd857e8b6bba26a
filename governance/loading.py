"""Loading a programme's risks, governance bodies, meetings, agreements and tools from a JSON
document (``governance/data/<programme>.json``), all-or-nothing.

Records are matched by code (meetings by committee and date, history rows by date and
status). A record that is missing is created with its history; one already there is left as
it stands, because from then on it lives on the platform (reviews, status updates) and a
second load must not undo that. Loading twice therefore changes nothing. Any bad value stops
the load with a ``LoadError`` naming the record and the field, and nothing is written."""

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction

from monitoring.loading import LoadError
from monitoring.loading.upsert import validation_to_load_error
from monitoring.models import Agency, City, Country, Outcome, Output, Programme, ReportingPeriod

from . import services
from .models import Agreement, Committee, Meeting, Risk, RiskReview, Tool

FORMAT = "conjunto.governance/1"
CIUDADES = Path(__file__).resolve().parent / "data" / "ciudades.json"


class GovernanceLoader:
    def __init__(self, programme: Programme, document: dict[str, Any]) -> None:
        if document.get("format") != FORMAT:
            raise LoadError("document", "format", f"expected {FORMAT!r}.")
        self.programme, self.document = programme, document
        self.created: Counter[str] = Counter()
        self.unchanged: Counter[str] = Counter()
        self.today = dt.date.today()

    # ---- lookups -----------------------------------------------------------------------------

    def _one(self, record: str, field: str, qs: models.QuerySet, code: str | None) -> Any:
        if code is None:
            return None
        found = qs.filter(code=code).first()
        if found is None:
            raise LoadError(record, field, f"{code!r} is not in the programme.")
        return found

    def city(self, record: str, code: str | None) -> City | None:
        return self._one(record, "city", self.programme.cities.all(), code)

    def agency(self, record: str, code: str | None, field: str = "agency") -> Agency | None:
        return self._one(record, field, self.programme.agencies.all(), code)

    @staticmethod
    def date(record: str, field: str, raw: str | None) -> dt.date | None:
        if raw is None:
            return None
        try:
            return dt.date.fromisoformat(raw)
        except (TypeError, ValueError):
            raise LoadError(record, field, f"expected a date YYYY-MM-DD, got {raw!r}.") from None

    def required_date(self, record: str, field: str, raw: str | None) -> dt.date:
        found = self.date(record, field, raw)
        if found is None:
            raise LoadError(record, field, "a date is required.")
        return found

    def _create(
        self, model: type[models.Model], record: str, lookup: dict[str, Any], values: dict[str, Any]
    ) -> tuple[Any, bool]:
        existing = model._default_manager.filter(**lookup).first()
        name = str(model._meta.verbose_name_plural)
        if existing is not None:
            self.unchanged[name] += 1
            return existing, False
        obj = model(**lookup, **values)
        try:
            obj.full_clean()
        except ValidationError as error:
            raise validation_to_load_error(record, error) from None
        obj.save()
        self.created[name] += 1
        return obj, True

    def _service(self, record: str, call: Any, **kwargs: Any) -> Any:
        try:
            return call(actor=None, today=self.today, **kwargs)
        except ValidationError as error:
            raise validation_to_load_error(record, error) from None

    # ---- records -----------------------------------------------------------------------------

    @transaction.atomic
    def load(self) -> "GovernanceLoader":
        for row in self.document.get("risks", []):
            self._risk(row)
        committees = {
            row["code"]: self._committee(row) for row in self.document.get("committees", [])
        }
        for row in self.document.get("meetings", []):
            self._meeting(row, committees)
        for row in self.document.get("agreements", []):
            self._agreement(row)
        for row in self.document.get("tools", []):
            self._tool(row)
        return self

    def _risk(self, row: dict[str, Any]) -> None:
        record = f"risk {row.get('code')}"
        fields = (
            "title_es",
            "title_en",
            "description_es",
            "description_en",
            "category",
            "likelihood",
            "impact",
            "rating_basis",
            "impact_described_es",
            "impact_described_en",
            "mitigation_es",
            "mitigation_en",
            "status",
            "shareable",
        )
        values = {name: row.get(name) for name in fields if name in row}
        values["source"] = row.get("source_lines", "")
        values["owner_agency"] = self.agency(record, row.get("owner_agency"), "owner_agency")
        values["first_reported"] = self._one(
            record,
            "first_reported",
            ReportingPeriod.objects.filter(programme=self.programme),
            row.get("first_reported"),
        )
        cities = [self.city(record, code) for code in row.get("cities", [])]
        outcomes = [
            self._one(record, "outcomes", Outcome.objects.filter(programme=self.programme), code)
            for code in row.get("outcomes", [])
        ]
        risk, created = self._create(
            Risk, record, {"programme": self.programme, "code": row.get("code")}, values
        )
        if created:
            risk.cities.set(cities)
            risk.outcomes.set(outcomes)
            RiskReview.objects.create(
                risk=risk,
                reviewed_on=self.required_date(record, "recorded_on", row.get("recorded_on")),
                likelihood=risk.likelihood,
                impact=risk.impact,
                rating_basis=risk.rating_basis,
                status=risk.status,
                note=f"Registrado desde la fuente / recorded from the source: {risk.source}",
            )

    def _committee(self, row: dict[str, Any]) -> Committee:
        record = f"committee {row.get('code')}"
        fields = (
            "kind",
            "name_es",
            "name_en",
            "scope",
            "members_es",
            "members_en",
            "functions_es",
            "functions_en",
            "expected_meetings_per_year",
            "frequency_es",
            "frequency_en",
            "shareable",
        )
        values = {name: row.get(name) for name in fields if name in row}
        values["source"] = row.get("source_lines", "")
        values["city"] = self.city(record, row.get("city"))
        values["country"] = self._one(record, "country", Country.objects.all(), row.get("country"))
        committee, _created = self._create(
            Committee, record, {"programme": self.programme, "code": row.get("code")}, values
        )
        return committee

    def _meeting(self, row: dict[str, Any], committees: dict[str, Committee]) -> None:
        record = f"meeting {row.get('committee')} {row.get('held_on')}"
        committee = committees.get(row.get("committee", ""))
        if committee is None:
            raise LoadError(
                record, "committee", f"{row.get('committee')!r} is not in the document."
            )
        held_on = self.required_date(record, "held_on", row.get("held_on"))
        if Meeting.objects.filter(committee=committee, held_on=held_on).exists():
            self.unchanged[str(Meeting._meta.verbose_name_plural)] += 1
            return
        participants = [(name, people) for name, people in row.get("participants", [])]
        self._service(
            record,
            services.meeting_record,
            committee=committee,
            held_on=held_on,
            summary_es=row.get("summary_es", ""),
            summary_en=row.get("summary_en", ""),
            participants=participants,
            shareable=bool(row.get("shareable")),
            source=row.get("source_lines", ""),
        )
        self.created[str(Meeting._meta.verbose_name_plural)] += 1

    def _agreement(self, row: dict[str, Any]) -> None:
        record = f"agreement {row.get('code')}"
        fields = (
            "title_es",
            "title_en",
            "parties_es",
            "parties_en",
            "notes_es",
            "notes_en",
            "link",
            "shareable",
        )
        values = {name: row.get(name) for name in fields if name in row}
        values["source"] = row.get("source_lines", "")
        values["city"] = self.city(record, row.get("city"))
        values["signed_on"] = self.date(record, "signed_on", row.get("signed_on"))
        values["valid_until"] = self.date(record, "valid_until", row.get("valid_until"))
        agencies = [self.agency(record, code, "agencies") for code in row.get("agencies", [])]
        agreement, created = self._create(
            Agreement, record, {"programme": self.programme, "code": row.get("code")}, values
        )
        if not created:
            return
        agreement.agencies.set(agencies)
        for update in row.get("updates", []):
            self._service(
                f"{record}, update {update.get('observed_on')}",
                services.agreement_status_record,
                agreement=agreement,
                status=update.get("status"),
                observed_on=self.date(record, "observed_on", update.get("observed_on")),
                note_es=update.get("note_es", ""),
                note_en=update.get("note_en", ""),
                source=update.get("source_lines", ""),
            )

    def _tool(self, row: dict[str, Any]) -> None:
        record = f"tool {row.get('code')}"
        values: dict[str, Any] = {
            name: row.get(name)
            for name in ("title_es", "title_en", "kind", "link", "shareable")
            if name in row
        }
        values["source"] = row.get("source_lines", "")
        values["agency"] = self.agency(record, row.get("agency"))
        values["city"] = self.city(record, row.get("city"))
        values["output"] = self._one(
            record, "output", Output.objects.filter(programme=self.programme), row.get("output")
        )
        values["produced_on"] = self.date(record, "produced_on", row.get("produced_on"))
        tool, created = self._create(
            Tool, record, {"programme": self.programme, "code": row.get("code")}, values
        )
        if not created:
            return
        for adoption in row.get("adoptions", []):
            self._service(
                f"{record}, status {adoption.get('observed_on')}",
                services.tool_adoption_record,
                tool=tool,
                status=adoption.get("status"),
                observed_on=self.date(record, "observed_on", adoption.get("observed_on")),
                institution=adoption.get("institution", ""),
                evidence_es=adoption.get("evidence_es", ""),
                evidence_en=adoption.get("evidence_en", ""),
                source=adoption.get("source_lines", ""),
            )

    def summary(self) -> str:
        def fmt(counter: Counter[str]) -> str:
            return ", ".join(f"{n} {name}" for name, n in sorted(counter.items())) or "nothing"

        kept = sum(self.unchanged.values())
        return f"governance created: {fmt(self.created)}; already there: {kept}"


def load_ciudades_governance(programme: Programme) -> GovernanceLoader:
    """Load the Ciudades risks, committees, meetings, agreements and tools into ``programme``
    (the lead's ``load_ciudades`` calls it after the programme itself)."""
    document = json.loads(CIUDADES.read_text(encoding="utf-8"))
    return GovernanceLoader(programme, document).load()
