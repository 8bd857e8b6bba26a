"""The header (row 1): what each column names, in an upload (``id``, response fields in
English or Spanish, question codes) or a KoboToolbox export (``_uuid``/``_id``, questions by
code or text without their group prefixes, a multiple-choice question's columns per option,
metadata ignored). Unknown or repeated columns are problems of row 1."""

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from budgets.imports import RowProblem, UploadRefused, fold

from ..results import Option, QuestionSpec
from .cells import cell_text
from .values import Lookups, Type, find_option

KOBO_IDS = ("_uuid", "_id")
KOBO_META = {"start", "end", "today", "deviceid", "username", "simserial", "subscriberid",
             "phonenumber", "audit", "instanceid", "instancename", "__version__"}  # fmt: skip
FIELDS = {
    "id": "id", "external id": "id", "id externo": "id",
    "city": "city", "ciudad": "city", "sex": "sex", "sexo": "sex",
    "age group": "age_group", "grupo de edad": "age_group", "grupo etario": "age_group",
    "migratory status": "migratory_status", "situacion migratoria": "migratory_status",
    "institution type": "institution_type", "tipo de institucion": "institution_type",
    "submitted at": "submitted_at", "fecha de respuesta": "submitted_at", "fecha": "submitted_at",
    "language": "language", "idioma": "language",
}  # fmt: skip

Position = tuple[int, str]  # column index, header as written


@dataclass
class Columns:
    kobo: bool
    id: Position = (-1, "")
    fields: dict[str, Position] = field(default_factory=dict)
    questions: dict[int, Position] = field(default_factory=dict)
    options: dict[int, dict[str, Position]] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)

    def problem(self, column: str, message: str, **params: Any) -> None:
        self.problems.append(RowProblem(1, column, message % {"column": column, **params}))


def _question(look: Lookups, written: str) -> QuestionSpec | None:
    """The question a header names: by code or text, whole or without its group prefixes."""
    for name in (written, written.rsplit("/", 1)[-1]):
        found = look.by_code.get(name) or look.by_name.get(fold(name))
        if found is not None:
            return found
    return None


def _option_column(look: Lookups, written: str) -> tuple[QuestionSpec, Option] | None:
    """A Kobo column per option of a multiple-choice question: ``group/q3/a``."""
    parent, _sep, last = written.rpartition("/")
    question = _question(look, parent) if parent else None
    option = find_option(question, last) if question and question.type == Type.MULTIPLE else None
    return None if question is None or option is None else (question, option)


def _kobo_meta(written: str) -> bool:
    parts = written.casefold().split("/")
    return written.startswith("_") or parts[0] in ("meta", "formhub") or parts[-1] in KOBO_META


def _meaning(written: str, look: Lookups, kobo: bool) -> Any:
    """What a header names: "id", a response field's name, a question, (question, option)
    for a Kobo column per option, "" for what is ignored, None when unknown. A question
    whose code is written exactly wins over a field of the same name."""
    if kobo and written in (*KOBO_IDS, "_submission_time"):
        return "id" if written in KOBO_IDS else "submitted_at"
    canonical = FIELDS.get(fold(written))
    exact = look.by_code.get(written)
    if exact is not None or canonical is None or (kobo and canonical == "id"):
        found = exact or _question(look, written) or _option_column(look, written)
        return found or ("" if kobo and _kobo_meta(written) else None)
    return canonical


def columns_for(header: list[Any], look: Lookups) -> Columns:
    """Each column's meaning; unknown or repeated columns are problems of row 1."""
    written = [cell_text(h) for h in header]
    cols = Columns(kobo=bool({*KOBO_IDS, "_submission_time"} & set(written)))
    kobo_id = next((k for k in KOBO_IDS if k in written), "")  # _uuid, else _id
    seen: dict[Any, str] = {}
    for index, name in enumerate(written):
        if not name or (cols.kobo and name in KOBO_IDS and name != kobo_id):
            continue  # blank, or Kobo's other id
        meaning = _meaning(name, look, cols.kobo)
        key = meaning.id if isinstance(meaning, QuestionSpec) else meaning
        if meaning is None:
            unknown = _("Unknown column “%(column)s”: no question of this survey has this code.")
            cols.problem(name, unknown)
        elif isinstance(meaning, tuple):
            cols.options.setdefault(meaning[0].id, {})[meaning[1].key] = (index, name)
        elif key in seen:
            cols.problem(name, _("The column “%(column)s” repeats “%(other)s”."), other=seen[key])
        elif meaning != "":
            seen[key] = name
            if isinstance(meaning, QuestionSpec):
                cols.questions[meaning.id] = (index, name)
            elif meaning == "id":
                cols.id = (index, name)
            else:
                cols.fields[meaning] = (index, name)
    if cols.id[0] < 0:
        raise UploadRefused(
            _("Row 1 lacks the column id (each response's own id; _uuid in a KoboToolbox export).")
        )
    return cols
