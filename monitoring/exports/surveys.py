"""The survey export (DESIGN §7, §8): one survey wave's results per question, for all
respondents and then by each respondent attribute (city, sex, …) that respondents gave or the
publication printed, as CSV or XLSX. The rows are those of the survey's own export
(``surveys.results.export_rows``); free-text answers are never in them. Every text cell is
neutralised for spreadsheets.

Small groups are withheld as for any viewer outside the survey's owners
(``surveys.disclosure``): the catalogue's files are the same for everyone who may run them,
donors included, and stay on the server for whoever asked; the programme admin has every
group on the survey's own page and export."""

from typing import Any

from django.utils.translation import gettext as _

from surveys.disclosure import Disclosure, min_group_size
from surveys.models import Survey
from surveys.results import (
    ALL,
    ATTRIBUTES,
    EXPORT_COLUMNS,
    QuestionResults,
    SurveyData,
    export_rows,
    survey_results_data,
)

from . import csv_text
from .budget import Sheet, stamp_rows, workbook_bytes
from .stamp import ExportStamp

HEADER = [h for _k, h in EXPORT_COLUMNS]


def _with_breakdowns(
    blocks: list[QuestionResults], by_attribute: list[list[QuestionResults]]
) -> list[QuestionResults]:
    """Each question's whole group, followed by its groups for every attribute (a group
    already there, as when a publication printed no whole group, is not repeated)."""
    for breakdown in by_attribute:
        groups = {b.question.id: [r for r in b.results if r.group != ALL] for b in breakdown}
        for block in blocks:
            have = {r.group for r in block.results}
            block.results += [r for r in groups.get(block.question.id, []) if r.group not in have]
    return blocks


def survey_blocks(survey: Survey, data: SurveyData | None = None) -> list[QuestionResults]:
    """The survey's own results (not for a publication, which has no responses), then the
    published ones, each broken down by every attribute it can be, small groups withheld."""
    data = data or survey_results_data(survey)
    disclosure = Disclosure(survey, data, full=False)
    whole = disclosure.results({}, None)
    given = [a for a in ATTRIBUTES if any(r.get(a) for r in data.responses)]
    printed = {g.partition("=")[0] for g in (r["group"] for r in data.aggregates) if "=" in g}
    by_given = [disclosure.results({}, a) for a in given]
    by_printed = [disclosure.results({}, a) for a in ATTRIBUTES if a in printed]
    own = _with_breakdowns(whole.own, [b.own for b in by_given])
    return own + _with_breakdowns(whole.published, [b.published for b in by_printed])


def survey_table(survey: Survey) -> list[list[Any]]:
    return [[r.get(k) for k, _h in EXPORT_COLUMNS] for r in export_rows(survey_blocks(survey))]


def build_csv(survey: Survey, stamp: ExportStamp) -> bytes:
    return csv_text(HEADER, survey_table(survey)).encode()


def build_xlsx(survey: Survey, stamp: ExportStamp) -> bytes:
    about: list[list[Any]] = [
        [
            _("Results of survey %(survey)s, wave %(wave)s (%(programme)s)")
            % {"survey": survey.code, "wave": survey.wave, "programme": survey.programme.code}
        ],
        [survey.title],
        [
            _(
                "Per question and group of respondents: answers, shares, top-box share and "
                "mean; fewer_than_30 marks groups too small to read much into. Free-text "
                "answers are not included. To protect respondents, groups of fewer than "
                "%(minimum)s respondents, and groups from which one could be worked out, have "
                "no figures (suppressed says why)."
            )
            % {"minimum": min_group_size()}
        ],
        [],
        *stamp_rows(stamp),
    ]
    return workbook_bytes(about, [Sheet(_("results"), HEADER, survey_table(survey))])
