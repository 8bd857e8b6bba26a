"""Load a programme's evaluations, recommendations, lessons and good practices from a
knowledge document (the JSON format of ``knowledge/data/ciudades.json``).

The whole document loads in one transaction or not at all. Records are matched by their keys
(theme code; evaluation code; recommendation number; lesson code), so loading the same
document again changes nothing. Management responses and actions are never loaded: they are
the programme's own work, entered on the pages."""

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import transaction

from indicators.models import Indicator
from monitoring.loading.dates import parse_date
from monitoring.loading.upsert import LoadError, Upserter, to_optional_decimal
from monitoring.models import Outcome, Output, Programme

from .models import Evaluation, Lesson, Recommendation, Theme

FORMAT = "conjunto.knowledge/1"
DATA = Path(__file__).resolve().parent / "data"
CIUDADES = DATA / "ciudades.json"

EVALUATION_TEXTS = ("title", "dates_note", "evaluators", "commissioned_by", "note")
RECOMMENDATION_TEXTS = ("text", "addressees", "timeframe", "resources", "related_to")
LESSON_TEXTS = (
    "title",
    "description",
    "intended_users",
    "context",
    "challenges",
    "success",
    "administrative_issues",
    "cause_effect",
    "impact",
    "replication",
    "note",
)


def load_ciudades_knowledge(programme: Programme) -> Upserter:
    """The Ciudades final evaluation, its nine recommendations, two lessons learned and four
    good practices, onto ``programme`` (the one ``load_ciudades`` loads)."""
    return load_knowledge(programme, json.loads(CIUDADES.read_text(encoding="utf-8")))


@transaction.atomic
def load_knowledge(programme: Programme, document: dict[str, Any]) -> Upserter:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise LoadError("document", "format", f"expected format {FORMAT!r}.")
    loader = _Loader(programme)
    themes = {t["code"]: loader.theme(t) for t in document.get("themes", [])}
    evaluations = {e["code"]: loader.evaluation(e) for e in document.get("evaluations", [])}
    for data in document.get("lessons", []):
        loader.lesson(data, themes, evaluations)
    return loader.up


def _texts(data: dict, fields: tuple[str, ...]) -> dict[str, str]:
    return {
        f"{field}_{lang}": str(data.get(f"{field}_{lang}") or "")
        for field in fields
        for lang in ("es", "en")
    }


def _codes(record: str, field: str, data: dict) -> list[str]:
    codes = data.get(field, [])
    if not isinstance(codes, list):
        raise LoadError(record, field, "expected a list of codes.")
    return codes


class _Loader:
    def __init__(self, programme: Programme) -> None:
        self.programme = programme
        self.up = Upserter()
        self.agencies = {a.code: a for a in programme.agencies.all()}
        self.outcomes = {o.code: o for o in Outcome.objects.filter(programme=programme)}
        self.outputs = {o.code: o for o in Output.objects.filter(programme=programme)}
        self.indicators = {i.code: i for i in Indicator.objects.filter(programme=programme)}

    def _refs(self, table: dict[str, Any], kind: str, record: str, field: str, data: dict) -> list:
        found = []
        for code in _codes(record, field, data):
            if code not in table:
                raise LoadError(record, field, f"unknown {kind} {code!r} in {self.programme.code}.")
            found.append(table[code])
        return found

    def theme(self, data: dict) -> Theme:
        return self.up.save(
            Theme,
            f"theme {data.get('code')}",
            {"code": data.get("code")},
            _texts(data, ("name", "category")),
        )

    def evaluation(self, data: dict) -> Evaluation:
        record = f"evaluation {data.get('code')}"
        budget = to_optional_decimal(record, "budget_amount", data.get("budget_amount"))
        values = {
            **_texts(data, EVALUATION_TEXTS),
            "timing": data.get("timing", ""),
            "nature": data.get("nature", ""),
            "start_date": _date(record, "start_date", data),
            "end_date": _date(record, "end_date", data),
            "dates_inferred": bool(data.get("dates_inferred", False)),
            "budget_amount": budget.quantize(Decimal("0.01")) if budget is not None else None,
            "budget_currency": data.get("budget_currency") or "",
            "url": data.get("url") or "",
            "shareable": bool(data.get("shareable", False)),
            "source": data.get("source_lines") or "",
        }
        evaluation = self.up.save(
            Evaluation,
            record,
            {"programme": self.programme, "code": data.get("code")},
            values,
        )
        for rec in data.get("recommendations", []):
            self.recommendation(evaluation, record, rec)
        return evaluation

    def recommendation(self, evaluation: Evaluation, parent: str, data: dict) -> Recommendation:
        record = f"{parent} › recommendation {data.get('number')}"
        values = {
            **_texts(data, RECOMMENDATION_TEXTS),
            "priority": data.get("priority", ""),
            "term": data.get("term") or "",
            "links_inferred": _inferred(data.get("outputs_basis")),
            "shareable": bool(data.get("shareable", False)),
            "source": data.get("source_lines") or "",
        }
        m2m: dict[str, list[Any]] = {
            "addressee_agencies": self._refs(
                self.agencies, "agency", record, "addressee_agencies", data
            ),
            "outcomes": self._refs(self.outcomes, "outcome", record, "outcomes", data),
            "outputs": self._refs(self.outputs, "output", record, "outputs", data),
        }
        return self.up.save(
            Recommendation,
            record,
            {"evaluation": evaluation, "number": data.get("number")},
            values,
            m2m,
        )

    def lesson(
        self, data: dict, themes: dict[str, Theme], evaluations: dict[str, Evaluation]
    ) -> Lesson:
        record = f"lesson {data.get('code')}"
        evaluation_code = data.get("evaluation")
        if evaluation_code is not None and evaluation_code not in evaluations:
            raise LoadError(record, "evaluation", f"unknown evaluation {evaluation_code!r}.")
        values = {
            **_texts(data, LESSON_TEXTS),
            "kind": data.get("kind", ""),
            "order": data.get("order", 0),
            "evaluation": evaluations.get(evaluation_code) if evaluation_code else None,
            "source": data.get("source") or "",
            "source_url": data.get("source_url") or "",
            "links_inferred": _inferred(data.get("links_basis")),
            "shareable": bool(data.get("shareable", False)),
        }
        if data.get("source_lines"):
            values["source"] = f"{values['source']} [{data['source_lines']}]".strip()
        m2m: dict[str, list[Any]] = {
            "themes": self._refs(themes, "theme", record, "themes", data),
            "outputs": self._refs(self.outputs, "output", record, "outputs", data),
            "indicators": self._refs(self.indicators, "indicator", record, "indicators", data),
        }
        return self.up.save(
            Lesson, record, {"programme": self.programme, "code": data.get("code")}, values, m2m
        )


def _date(record: str, field: str, data: dict) -> Any:
    raw = data.get(field)
    return None if raw in (None, "") else parse_date(record, field, raw)


def _inferred(basis: Any) -> bool:
    """A link the document marks as read from the text (``[inference] …``)."""
    return isinstance(basis, str) and basis.startswith("[inference]")
