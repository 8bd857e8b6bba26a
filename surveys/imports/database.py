"""Applying validated rows to the database, in bulk and only what differs, and the import as
a whole: read, validate and apply in one transaction (nothing written when a row is refused),
audited, then the follow-ups of changed responses."""

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from budgets.imports import UploadRefused
from monitoring.services import audit_record

from ..models import Answer, Response, Survey
from .cells import cell_text, read_cells
from .columns import columns_for
from .rows import Incoming, validate
from .values import lookups_for

ANSWER_FIELDS = ["number", "choices", "text"]


@dataclass
class ImportSummary:
    source: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def _response_changes(response: Response, fields: dict[str, Any]) -> list[str]:
    """Set the fields that differ; their names."""
    changed = []
    for name, value in fields.items():
        if value is None and name == "submitted_at":
            continue  # not in the file: the time of the first import stays
        attribute = "city_id" if name == "city" else name  # no query for the city
        new = value.pk if name == "city" and value is not None else value
        if getattr(response, attribute) != new:
            setattr(response, attribute, new)
            changed.append(name)
    return changed


def _answer_changes(
    response: Response, incoming: Incoming, current: dict[tuple[int, int], Answer], out: dict
) -> bool:
    """Queue the answers to create, update and delete; whether any differs."""
    changed = False
    for question_id, value in incoming.answers.items():
        answer = current.get((response.pk, question_id))
        if value is None:
            if answer is not None:
                out["delete"].append(answer.pk)
                changed = True
        elif answer is None:
            out["create"].append(Answer(response=response, question_id=question_id, **value))
            changed = True
        elif any(getattr(answer, k) != v for k, v in value.items()):
            for k, v in value.items():
                setattr(answer, k, v)
            out["update"].append(answer)
            changed = True
    return changed


def apply(
    survey: Survey, rows: list[Incoming], existing: dict[str, Response], source: str
) -> ImportSummary:
    """Write only what differs, in bulk (the rows were validated, and the database's
    constraints stand behind that: no per-row ``full_clean`` and its queries)."""
    summary = ImportSummary(source)
    now = timezone.now()
    new = [
        Response(survey=survey, external_id=r.external_id, source=source,
                 **{**r.fields, "submitted_at": r.fields.get("submitted_at") or now})
        for r in rows
        if r.external_id not in existing
    ]  # fmt: skip
    Response.objects.bulk_create(new)
    responses = {**existing, **{r.external_id: r for r in new}}
    old_answers = Answer.objects.filter(response__in=list(existing.values()))
    current = {(a.response_id, a.question_id): a for a in old_answers}
    answers: dict[str, list] = {"create": [], "update": [], "delete": []}
    changed, names = [], set()
    for incoming in rows:
        response = responses[incoming.external_id]
        fields = _response_changes(response, {**incoming.fields, "source": source})
        answered = _answer_changes(response, incoming, current, answers)
        if incoming.external_id not in existing:
            summary.created += 1
        elif fields or answered:
            summary.updated += 1
            changed.append(response)
            names.update(fields)
        else:
            summary.unchanged += 1
    if names:
        Response.objects.bulk_update(changed, sorted(names), batch_size=500)
    Answer.objects.filter(pk__in=answers["delete"]).delete()
    Answer.objects.bulk_update(answers["update"], ANSWER_FIELDS, batch_size=500)
    Answer.objects.bulk_create(answers["create"], batch_size=1000)
    return summary


def _responses_changed(survey: Survey) -> None:
    """Indicators fed by the survey are recomputed by ``surveys.feeds`` where it exists."""
    try:
        from .. import feeds
    except ImportError:
        return
    follow_up = getattr(feeds, "responses_changed", None)
    if callable(follow_up):
        follow_up(survey)


def import_responses(*, file: File, survey: Survey, actor: User) -> ImportSummary:
    """Read, validate and apply a file of responses (``UploadRefused`` / ``UploadInvalid``
    otherwise, with nothing written); then the follow-ups of changed responses."""
    cells = read_cells(file)
    if not cells or not any(cell_text(c) for c in cells[0]):
        raise UploadRefused(_("The file is empty."))
    with transaction.atomic():
        # One import per survey at a time: two files adding the same new id would collide.
        list(Survey.objects.select_for_update().filter(pk=survey.pk).values_list("pk"))
        look = lookups_for(survey)
        cols = columns_for(cells[0], look)
        source = Response.Source.KOBO if cols.kobo else Response.Source.UPLOAD
        ids = {cell_text(row[cols.id[0]]) for row in cells[1:] if cols.id[0] < len(row)} - {""}
        existing = {r.external_id: r for r in survey.responses.filter(external_id__in=ids)}
        summary = apply(survey, validate(cells, cols, look, existing), existing, source)
        if summary.changed:
            counts = {"created": summary.created, "updated": summary.updated}
            audit_record(
                actor=actor,
                programme=survey.programme,
                action="survey_responses_imported",
                obj=survey,
                new_value={"file": file.name, "source": source, **counts},
            )
    if summary.changed:
        _responses_changed(survey)
    return summary
