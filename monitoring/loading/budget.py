"""The budget sections of a programme document: lines (and category splits of the same
money), totals as the source prints them, expenditures as reported, no-cost extensions.
Records are matched by their natural keys, so loading twice changes nothing."""

from typing import TYPE_CHECKING, Any

from budgets.models import BudgetLine, Expenditure, NoCostExtension, StatedTotal

from .dates import approved_at, parse_date
from .upsert import LoadError, to_decimal

if TYPE_CHECKING:
    from .programme import ProgrammeLoader


def _text(data: dict, key: str) -> str:
    value = data.get(key) or ""
    return value if isinstance(value, str) else str(value)


def load_budget(loader: "ProgrammeLoader") -> None:
    for b in loader.doc.get("budget_lines", []):
        _line(loader, b)
    for t in loader.doc.get("stated_budget_totals", []):
        _stated_total(loader, t)
    for e in loader.doc.get("expenditures", []):
        _expenditure(loader, e)
    for x in loader.doc.get("extensions", []):
        _extension(loader, x)


def _line_refs(loader: "ProgrammeLoader", b: dict, record: str) -> dict[str, Any]:
    agency = loader._ref(loader.agencies, "agency", record, "agency", b.get("agency"))
    country = loader._ref(loader.countries, "country", record, "country", b.get("country"))
    output = loader._ref(loader.outputs, "output", record, "output", b.get("output"))
    category = loader._ref(
        loader.budget_categories, "budget category", record, "category", b.get("category")
    )
    return {
        "programme_id": loader.programme.pk,
        "view": b.get("view", BudgetLine.View.LINE),
        "agency_id": agency.pk if agency else None,
        "country_id": country.pk if country else None,
        "output_id": output.pk if output else None,
        "category_id": category.pk if category else None,
    }


def _line_record(b: dict) -> str:
    parts = [b.get("agency"), b.get("country") or "*", b.get("output"), b.get("category")]
    kind = "category split" if b.get("view") == BudgetLine.View.CATEGORY_SPLIT else "budget line"
    return f"{kind} " + "/".join(str(p) for p in parts if p)


def _line(loader: "ProgrammeLoader", b: dict) -> BudgetLine:
    record = _line_record(b)
    amount = to_decimal(record, "amount", b.get("amount"))
    original = b.get("original_amount")
    return loader.up.save(
        BudgetLine,
        record,
        _line_refs(loader, b, record),
        {
            "currency": b.get("currency", "USD"),
            "amount": amount,
            "original_amount": to_decimal(record, "original_amount", original)
            if original is not None
            else amount,
            "source": _text(b, "source"),
        },
    )


def _stated_total(loader: "ProgrammeLoader", t: dict) -> None:
    record = f"stated budget total {t.get('category') or t.get('country') or 'programme'}"
    category = loader._ref(
        loader.budget_categories, "budget category", record, "category", t.get("category")
    )
    country = loader._ref(loader.countries, "country", record, "country", t.get("country"))
    loader.up.save(
        StatedTotal,
        record,
        {
            "programme_id": loader.programme.pk,
            "category_id": category.pk if category else None,
            "country_id": country.pk if country else None,
        },
        {
            "amount": to_decimal(record, "amount", t.get("amount")),
            "currency": t.get("currency", "USD"),
            "source": _text(t, "source"),
        },
    )


def _expenditure(loader: "ProgrammeLoader", e: dict) -> None:
    record = f"expenditure {e.get('agency')}/{e.get('country')}/{e.get('period')}"
    refs = _line_refs(loader, {**e, "view": BudgetLine.View.LINE}, record)
    line = BudgetLine.objects.filter(**refs).first()
    if line is None:
        raise LoadError(record, "agency", "no budget line for this agency and country.")
    period = loader._ref(loader.periods, "period", record, "period", e.get("period"))
    if period is None:
        raise LoadError(record, "period", "an expenditure needs its period.")
    as_of = parse_date(record, "as_of", e.get("as_of"))
    approved = e.get("status", "approved") == Expenditure.Status.APPROVED
    loader.up.save(
        Expenditure,
        record,
        {"line_id": line.pk, "period_id": period.pk, "cumulative": bool(e.get("cumulative"))},
        {
            "amount": to_decimal(record, "amount", e.get("amount")),
            "kind": e.get("kind", Expenditure.Kind.INTERIM),
            "as_of": as_of,
            "stated_budget": to_decimal(record, "stated_budget", e["stated_budget"])
            if e.get("stated_budget") is not None
            else None,
            "status": e.get("status", Expenditure.Status.APPROVED),
            # A reported figure was approved by its agency when it was reported: as of then.
            "approved_at": approved_at(record, e.get("as_of")) if approved else None,
            "note": _text(e, "note"),
            "source": _text(e, "source"),
        },
    )


def _extension(loader: "ProgrammeLoader", x: dict) -> None:
    record = f"no-cost extension {x.get('number')}"
    loader.up.save(
        NoCostExtension,
        record,
        {"programme_id": loader.programme.pk, "number": x.get("number")},
        {
            "months": x.get("months"),
            "previous_end_date": parse_date(record, "previous_end_date", x["previous_end_date"])
            if x.get("previous_end_date")
            else None,
            "new_end_date": parse_date(record, "new_end_date", x.get("new_end_date")),
            "reason_es": _text(x, "reason_es"),
            "reason_en": _text(x, "reason_en"),
            "source": _text(x, "source"),
        },
    )
