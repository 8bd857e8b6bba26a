"""Bilingual content: every name people read has a Spanish and an English field
(``name_es``, ``name_en``). ``Bilingual`` gives the model a read-only attribute that returns the
one for the active language, falling back to Spanish (the programme's working language)."""

from typing import Any

from django.utils.translation import get_language

CONTENT_LANGUAGES = ("es", "en")


def active_content_language() -> str:
    lang = (get_language() or "es")[:2]
    return lang if lang in CONTENT_LANGUAGES else "es"


def pick(obj: Any, field: str, language: str | None = None) -> str:
    """The ``field`` of ``obj`` in ``language`` (default: active), else the Spanish text."""
    lang = language or active_content_language()
    return getattr(obj, f"{field}_{lang}", "") or getattr(obj, f"{field}_es", "") or ""


class Bilingual:
    """``name = Bilingual()`` on a model with ``name_es`` / ``name_en`` fields."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.field = name

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        return pick(obj, self.field)
