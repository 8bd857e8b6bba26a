"""Checks on the document as a whole, before anything is written: each section is a list of
records, and no two records of a section share a key (a duplicated code would otherwise
silently overwrite the first record)."""

from collections.abc import Callable
from typing import Any

from .upsert import LoadError

Key = Callable[[dict[str, Any]], Any]

SECTION_KEYS: dict[str, tuple[str, Key]] = {
    "outcomes": ("code", lambda r: r.get("code")),
    "outputs": ("code", lambda r: r.get("code")),
    "activities": ("code", lambda r: (r.get("country"), r.get("code"))),
    "indicators": ("code", lambda r: r.get("code")),
    "crosswalk": ("successor", lambda r: (r.get("predecessor"), r.get("successor"))),
    "reports": ("period", lambda r: (r.get("period"), r.get("agency"), r.get("city"))),
    "budget_lines": (
        "category",
        lambda r: (
            r.get("view", "line"),
            r.get("agency"),
            r.get("country"),
            r.get("output"),
            r.get("category"),
        ),
    ),
    "stated_budget_totals": ("category", lambda r: (r.get("category"), r.get("country"))),
    "expenditures": (
        "period",
        lambda r: (r.get("agency"), r.get("country"), r.get("period"), bool(r.get("cumulative"))),
    ),
    "extensions": ("number", lambda r: r.get("number")),
    "scales": ("code", lambda r: r.get("code")),
    "surveys": ("code", lambda r: (r.get("code"), r.get("wave", 1))),
}
REFERENCE_KEYS = ("countries", "cities", "agencies", "dimensions", "budget_categories")


def _check(section: str, records: Any, field: str, key: Key) -> None:
    if not isinstance(records, list):
        raise LoadError(section, None, "expected a list of records.")
    seen: dict[Any, int] = {}
    for n, record in enumerate(records):
        if not isinstance(record, dict):
            raise LoadError(f"{section}[{n}]", None, "expected an object.")
        k = key(record)
        if k in seen:
            raise LoadError(
                f"{section}[{n}] ({record.get('code', k)})",
                field,
                f"duplicate: the same key as {section}[{seen[k]}].",
            )
        seen[k] = n


def check_unique_keys(doc: dict[str, Any]) -> None:
    for section in REFERENCE_KEYS:
        _check(section, doc.get("reference", {}).get(section, []), "code", lambda r: r.get("code"))
    for section, (field, key) in SECTION_KEYS.items():
        _check(section, doc.get(section, []), field, key)
    for n, indicator in enumerate(doc.get("indicators", [])):
        for sub, key in (
            (
                "targets",
                lambda t: (t.get("city"), t.get("agency"), t.get("period"), t.get("category")),
            ),
            ("baselines", lambda b: b.get("city")),
        ):
            _check(
                f"indicators[{n}] ({indicator.get('code')}) › {sub}",
                indicator.get(sub, []),
                "city",
                key,
            )
    spans = doc.get("periods", {}).get("spans", [])
    _check("periods › spans", spans, "code", lambda r: r.get("code"))
    _check_survey_parts(doc)


def _check_survey_parts(doc: dict[str, Any]) -> None:
    """Levels of a scale; questions of a survey (across its sections), its published
    results, its responses and their answers."""
    for n, scale in enumerate(doc.get("scales", [])):
        name = f"scales[{n}] ({scale.get('code')})"
        _check(f"{name} › levels", scale.get("levels", []), "value", lambda r: r.get("value"))
    for n, survey in enumerate(doc.get("surveys", [])):
        name = f"surveys[{n}] ({survey.get('code')})"
        sections = survey.get("sections", [])
        _check(f"{name} › sections", sections, "title_es", lambda r: r.get("title_es"))
        questions = list(survey.get("questions", []))
        for section in sections:
            questions += section.get("questions", [])
        _check(f"{name} › questions", questions, "code", lambda r: r.get("code"))
        _check(
            f"{name} › results",
            survey.get("results", []),
            "answer",
            lambda r: (r.get("question"), r.get("group", "all"), str(r.get("answer"))),
        )
        responses = survey.get("responses", [])
        _check(f"{name} › responses", responses, "external_id", lambda r: r.get("external_id"))
        for m, response in enumerate(responses):
            _check(
                f"{name} › responses[{m}] ({response.get('external_id')}) › answers",
                response.get("answers", []),
                "question",
                lambda r: r.get("question"),
            )
