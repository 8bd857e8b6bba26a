"""Settings: scaling (issue 8). base.py calls ``apply(globals())`` at its end: read what base
defines from ``s`` and add or change entries in it."""

from typing import Any


def apply(s: dict[str, Any]) -> None:
    """Nothing yet."""
