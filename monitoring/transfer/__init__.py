"""Export a whole programme as one JSON document, and import it into another instance.

The document (``FORMAT`` version ``VERSION``) holds

- ``reference``: the shared records the programme uses (countries, cities, agencies,
  disaggregation dimensions with all their categories, budget categories, scales with their
  levels), each with its natural key (its code; a category's is its dimension's code and its
  own). On import a record with the same key is used as it is; a missing one is created.
- ``users``: everyone the programme's records name (members, who submitted, approved,
  restated, revised…), by username. Password hashes and staff flags only with ``with_users``;
  otherwise new accounts get an unusable password (an administrator sets one).
- ``records``: the programme and everything under it, model by model in an order where each
  record comes after those it refers to: framework, periods, targets, baselines, reports with
  their values, restatements and audit trail, budgets and expenditures, surveys with their
  responses. Each record keeps its id in the source; references between them use those ids,
  references to shared records their natural keys, references to users usernames.
- ``files``: evidence and deliverable files, base64, with their SHA-256.

Derived tables (rollups, data-quality findings, budget figures) are not exported: the import
recomputes them. Instance tables (API tokens, export jobs, engine runs, sessions) stay behind.

The import refuses a programme code that exists, runs in one transaction (all or nothing; the
files it stored are removed again if it fails) and recomputes the programme's figures."""

from .export import export_programme
from .load import ImportStats, check_document, import_programme
from .schema import FORMAT, VERSION, TransferError, programme_models, unclassified_models

__all__ = [
    "FORMAT",
    "VERSION",
    "ImportStats",
    "TransferError",
    "check_document",
    "export_programme",
    "import_programme",
    "programme_models",
    "unclassified_models",
]
