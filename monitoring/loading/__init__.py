"""Loading programme documents (JSON) into the database, idempotently and all-or-nothing."""

from .programme import FORMAT, ProgrammeLoader
from .upsert import LoadError

__all__ = ["FORMAT", "LoadError", "ProgrammeLoader"]
