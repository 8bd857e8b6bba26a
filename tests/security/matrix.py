"""The premises of the permission matrix (``test_permission_matrix.py``, issue 8): the roles,
the objects each URL is asked about, and the policy saying who is let through.

The objects: the Ciudades programme as loaded, with reports (draft, submitted, approved after a
return), evidence, deliverables, expenditures, a revision, surveys with invitations, an export
job and API tokens added in every state that matters, made through the services where they
leave a trail (the audit trail of a report); and a second, small programme ("SEALED") whose
objects must stay out of reach of everybody in Ciudades.

Each object carries a marker (a distinctive string or figure in a comment, narrative, note,
title or reason): ``MARKERS`` says who may ever read it, so the matrix checks every response
body for leaks (a donor never reads a draft figure, nobody in Ciudades anything of SEALED)."""

import datetime as dt
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.core.files.base import ContentFile
from django.utils import timezone

from budgets.models import BudgetCategory, BudgetLine, BudgetRevision, Expenditure
from governance.models import (
    Agreement,
    Committee,
    Decision,
    Meeting,
    MeetingAction,
    Risk,
    RiskReview,
    Tool,
)
from indicators import services as report_services
from indicators.models import (
    Baseline,
    Deliverable,
    Indicator,
    IndicatorValue,
    ProgressReport,
    Target,
)
from indicators.selectors.reports import activities_in_scope, indicators_in_scope
from knowledge import services as knowledge_services
from knowledge.models import (
    Evaluation,
    Lesson,
    ManagementResponse,
    Recommendation,
    ResponseAction,
    Theme,
)
from monitoring.models import (
    Activity,
    Agency,
    ApiToken,
    City,
    Country,
    ExportJob,
    Membership,
    Outcome,
    Output,
    Programme,
    ProgrammeAgency,
    ProgrammeCity,
    ReportingPeriod,
)
from surveys import services as survey_services
from surveys.models import Answer, Response, Survey
from tests.surveys.survey_fixtures import SurveyKit, build_survey

PASSWORD = "ciudades-demo-2026"

# ---- roles --------------------------------------------------------------------------------

ANON = "anonymous"
OUTSIDER = "outsider"  # signed in, no membership anywhere
C_OWN = "coord_own"  # coord.ilo.scl: ILO in Santiago, whose objects are "own"
C_AGENCY = "coord_other_agency"  # coord.iom.scl: same city, another agency
C_CITY = "coord_other_city"  # coord.ilo.cdmx: same agency, another city
A_OWN = "approver_own"  # approver.ilo
A_OTHER = "approver_other"  # approver.iom
RCO = "rco"
DONOR = "donor"
ADMIN = "programme_admin"  # admin of Ciudades (staff: has the admin site)
SUPER = "superuser"
OTHER = "other_programme"  # admin and coordinator of SEALED only (staff)

ROLES = (ANON, OUTSIDER, C_OWN, C_AGENCY, C_CITY, A_OWN, A_OTHER, RCO, DONOR, ADMIN, SUPER, OTHER)
USERNAMES = {
    C_OWN: "coord.ilo.scl",
    C_AGENCY: "coord.iom.scl",
    C_CITY: "coord.ilo.cdmx",
    A_OWN: "approver.ilo",
    A_OTHER: "approver.iom",
    RCO: "rco",
    DONOR: "donor",
    ADMIN: "admin",
}
STAFF = frozenset({ADMIN, SUPER, OTHER})

# ---- markers: distinctive strings, and who may read them -----------------------------------

DRAFT = "MXDRAFTqz71"  # the ILO Santiago draft report: its narrative, a comment, evidence
SUBMITTED = "MXSUBMITqz72"  # the ILO Santiago submitted report
EXP_DRAFT = "MXEXPDRAFTqz73"  # a draft expenditure's note
EXP_SUBMITTED = "MXEXPSUBqz74"  # a submitted expenditure's note
REVISION = "MXREVISIONqz75"  # a proposed budget revision's reason
TEXT_ANSWER = "MXTEXTANSWERqz76"  # a respondent's free-text answer (may name people)
SEALED = "MXSEALEDqz77"  # anything of the other programme
RETURNED = "MXRETURNEDqz78"  # why the approved report was once returned
# Issue 9: a record not marked shareable with donors (an evaluation, recommendation, response,
# action, lesson, risk, committee, meeting, agreement or tool) and an internal note (an
# action's progress note, a risk review's note): the programme's people read them, donors never.
UNSHARED = "MXUNSHAREDqz79"
NOTE = "MXNOTEqz80"
# Figures: the draft's, the submitted report's, and the one the approved report was first
# submitted with (returned, then corrected); plain (audit trail, API) and grouped (pages).
DRAFT_FIGURES = ("7654321", "7,654,321")
SUBMITTED_FIGURES = ("7654322", "7,654,322")
RETURNED_FIGURES = ("7654329", "7,654,329")

ILO_PEOPLE = frozenset({C_OWN, C_CITY, A_OWN})
CIUDADES = frozenset({C_OWN, C_AGENCY, C_CITY, A_OWN, A_OTHER, RCO, DONOR, ADMIN})
# Who may follow an agency's report before approval: its people, the RCO, the admins.
WORKFLOW = ILO_PEOPLE | {RCO, ADMIN, SUPER}
# Who reads what is not shared with donors: everybody in Ciudades but the donor.
NOT_DONORS = (CIUDADES - {DONOR}) | {SUPER}
MARKERS: dict[str, frozenset[str]] = {
    DRAFT: ILO_PEOPLE | {SUPER},
    **dict.fromkeys(DRAFT_FIGURES, ILO_PEOPLE | {SUPER}),
    SUBMITTED: WORKFLOW,
    **dict.fromkeys(SUBMITTED_FIGURES, WORKFLOW),
    RETURNED: WORKFLOW,
    **dict.fromkeys(RETURNED_FIGURES, WORKFLOW),
    EXP_DRAFT: ILO_PEOPLE | {SUPER},
    EXP_SUBMITTED: ILO_PEOPLE | {RCO, ADMIN, SUPER},
    REVISION: ILO_PEOPLE | {RCO, ADMIN, SUPER},
    TEXT_ANSWER: frozenset({RCO, ADMIN, SUPER}),
    SEALED: frozenset({OTHER, SUPER}),
    UNSHARED: NOT_DONORS,
    NOTE: NOT_DONORS,
}

# The admin site follows the same markers: a programme's admin sees every report's status
# there, but a draft's (or returned report's) narrative, figures, evidence and deliverable
# titles, and draft expenditures, stay the agency's (DESIGN §3.3: "Drafts are visible to their
# own agency only"), as everywhere else.

PDF = b"%PDF-1.4\n% evidence\n"


@dataclass
class World:
    """The users and, per family of URL arguments, each named variant's arguments ("?": a
    query string, "~": a JSON body)."""

    users: dict[str, User | None]
    kwargs: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)  # never in any response
    objects: dict[str, Any] = field(default_factory=dict)

    def args(self, family: str, variant: str) -> dict[str, Any]:
        return self.kwargs[family][variant]

    def user(self, role: str) -> User:
        user = self.users[role]
        assert user is not None, role
        return user


def _today() -> dt.date:
    return timezone.localdate()


def _now() -> dt.datetime:
    return timezone.now()


def build_world() -> World:
    ciudades = Programme.objects.get(code="CIUDADES")
    users: dict[str, User | None] = {ANON: None}
    model = get_user_model()
    for role, username in USERNAMES.items():
        users[role] = model.objects.get(username=username)
    users[OUTSIDER] = model.objects.create_user("matrix.outsider", password=PASSWORD)
    users[SUPER] = model.objects.create_superuser("matrix.super", password=PASSWORD)
    world = World(users=users)
    sealed = _sealed_programme(world)
    _ciudades_objects(world, ciudades)
    _knowledge(world, ciudades, sealed)
    _governance(world, ciudades, sealed)
    _families(world, ciudades, sealed)
    return world


# ---- Ciudades -----------------------------------------------------------------------------


def _report(programme, period, agency, city, status, **extra) -> ProgressReport:
    return ProgressReport.objects.create(
        programme=programme, period=period, agency=agency, city=city, status=status, **extra
    )


def _value(report, indicator, marker: str, figure: int) -> IndicatorValue:
    value = IndicatorValue(report=report, indicator=indicator, value=Decimal(figure))
    value.comment = f"{marker} comment"
    value.evidence.save(f"{marker.lower()}.pdf", ContentFile(PDF + marker.encode()), save=False)
    value.save()
    return value


def _save(report_slot: tuple, actor: User, figure: int, marker: str, **extra: Any):
    """Save (and with ``submit=True`` submit) one figure through the service, as the report
    page does: the audit trail gets what it would get."""
    programme, period, agency, city, indicator = report_slot
    current = ProgressReport.objects.filter(
        programme=programme, period=period, agency=agency, city=city
    ).first()
    return report_services.report_save(
        programme=programme, period=period, agency=agency, city=city,
        expected_version=current.version if current else 0,
        entries=[report_services.Entry(indicator, value=Decimal(figure), comment=f"{marker} c")],
        narrative_es=f"{marker} narrativa", narrative_en=f"{marker} narrative", actor=actor,
        in_scope=[indicator], **extra,
    )  # fmt: skip


def _attach_evidence(report: ProgressReport, marker: str) -> IndicatorValue:
    value = report.values.get(category__isnull=True)
    value.evidence.save(f"{marker.lower()}.pdf", ContentFile(PDF + marker.encode()))
    return value


def _ciudades_objects(world: World, ciudades: Programme) -> None:
    coordinator, approver = world.user(C_OWN), world.user(A_OWN)
    ilo, scl = Agency.objects.get(code="ILO"), City.objects.get(code="SCL")
    periods = {p.code: p for p in ciudades.periods.all()}
    indicator = next(
        i
        for i in indicators_in_scope(programme=ciudades, agency=ilo, city=scl)
        if i.measure == Indicator.Measure.COUNT and not i.dimensions.exists()
    )
    # 2023-Q2 is open (the demo reopened it); 2023-Q1 (left empty, for opening a report) and
    # 2022-Q3 (submitted) are reopened here; 2022-Q4 (approved) is closed again once done.
    later = _today() + dt.timedelta(days=60)
    for code in ("2023-Q1", "2022-Q3", "2022-Q4"):
        ReportingPeriod.objects.filter(pk=periods[code].pk).update(reopened_until=later)
        periods[code].refresh_from_db()

    def slot(code: str) -> tuple:
        return (ciudades, periods[code], ilo, scl, indicator)

    activity = activities_in_scope(programme=ciudades, agency=ilo, city=scl)[0]
    draft = _save(
        slot("2023-Q2"), coordinator, 7_654_321, DRAFT,
        activities=[report_services.ActivityEntry(activity, "in_progress", 40, f"{DRAFT} a")],
    )  # fmt: skip
    submitted = _save(slot("2022-Q3"), coordinator, 7_654_322, SUBMITTED, submit=True)
    # Approved after one return: its history holds the figure first submitted and the reason.
    first = _save(slot("2022-Q4"), coordinator, 7_654_329, "approved", submit=True)
    report_services.report_return(report=first, reason=f"{RETURNED} reason", actor=approver)
    _save(slot("2022-Q4"), coordinator, 12, "approved", submit=True)
    approved = report_services.report_approve(report=first, actor=approver)
    ReportingPeriod.objects.filter(pk=periods["2022-Q4"].pk).update(reopened_until=None)
    values = {
        "draft": _attach_evidence(draft, DRAFT),
        "submitted": _attach_evidence(submitted, SUBMITTED),
        "approved": _attach_evidence(approved, "approved"),
    }
    joint = ProgressReport.objects.filter(
        programme=ciudades, agency__isnull=True, city__isnull=False, status="approved"
    ).select_related("period", "city")[0]
    deliverables = {
        name: Deliverable.objects.create(
            programme=ciudades,
            activity=activity,
            report=report,
            agency=ilo,
            city=scl,
            title_es=f"{marker} entregable",
            title_en=f"{marker} deliverable",
            kind="study",
            date=dt.date(2023, 5, 1),
            created_by=coordinator,
            file=ContentFile(PDF + marker.encode(), name=f"{name}-deliverable.pdf"),
        )
        for name, report, marker in (("draft", draft, DRAFT), ("approved", approved, "approved"))
    }
    line = BudgetLine.objects.get(
        programme=ciudades, view=BudgetLine.View.LINE, agency=ilo, country__code="CL"
    )
    expenditures = {
        "draft": Expenditure.objects.create(
            line=line, period=periods["2023-Q2"], amount=Decimal("1234.56"),
            as_of=dt.date(2023, 6, 30), status="draft", note=f"{EXP_DRAFT} note",
            entered_by=coordinator,
        ),
        "submitted": Expenditure.objects.create(
            line=line, period=periods["2023-Q1"], amount=Decimal("2345.67"),
            as_of=dt.date(2023, 3, 31), status="submitted", note=f"{EXP_SUBMITTED} note",
            entered_by=coordinator, submitted_by=coordinator,
        ),
        "approved": Expenditure.objects.filter(line=line, status="approved").first(),
    }  # fmt: skip
    revision = BudgetRevision.objects.create(
        line=line, old_amount=line.amount, new_amount=line.amount + 1000,
        reason=f"{REVISION} reason", status="proposed", proposed_by=approver,
    )  # fmt: skip
    open_kit = build_survey(ciudades, code="MATRIX-OPEN")
    _text_response(open_kit, ciudades)
    _ciudades_admin_records(ciudades, open_kit, indicator)
    token_kit = build_survey(ciudades, code="MATRIX-TOKEN", access=Survey.Access.TOKEN)
    _invitation, token = token_kit.invite("Ana")
    spent, spent_token = token_kit.invite("Beto")
    spent.used_at = _now()
    spent.save(update_fields=["used_at"])
    job = ExportJob.objects.create(
        programme=ciudades, requested_by=coordinator, kind="results", fmt="csv",
        status=ExportJob.Status.DONE, rows_done=1, rows_total=1, filename="results.csv",
        file=ContentFile(b"indicator\n1.1.A\n", name="results.csv"),
    )  # fmt: skip
    api_token, key = ApiToken.issue(
        user=coordinator, programme=ciudades, scope="write", days=30, name="matrix"
    )
    world.secrets += [key, token, spent_token]
    world.objects.update(
        ciudades=ciudades, periods=periods, reports={"draft": draft, "submitted": submitted,
        "approved": approved, "joint": joint}, values=values, deliverables=deliverables,
        line=line, expenditures=expenditures, revision=revision, open_kit=open_kit,
        token_kit=token_kit, token=token, spent_token=spent_token, job=job,
        api_token=api_token, indicator=indicator,
    )  # fmt: skip


def _text_response(kit: SurveyKit, programme: Programme) -> None:
    """One stored response whose free-text answer carries the marker."""
    response = Response.objects.create(
        survey=kit.survey, source=Response.Source.WEB, submitted_at=_now(), language="en",
        city=programme.cities.get(code="SCL"), sex="female", age_group="adult",
    )  # fmt: skip
    q = kit.questions
    Answer.objects.bulk_create(
        [
            Answer(response=response, question=q["sat"], number=Decimal(2)),
            Answer(response=response, question=q["why"], text=f"{TEXT_ANSWER} said Ana"),
            Answer(response=response, question=q["service"], choices=["jobs"]),
            Answer(response=response, question=q["age"], number=Decimal(30)),
            Answer(response=response, question=q["referred"], number=Decimal(0)),
        ]
    )


# ---- SEALED: the other programme ------------------------------------------------------------


def _sealed_programme(world: World) -> Programme:
    model = get_user_model()
    country = Country.objects.create(code="QX", name_es="Qx", name_en="Qx")
    city = City.objects.create(code="SEAL-C", country=country, name_es="Sc", name_en="Sc")
    agency = Agency.objects.create(
        code="SEALAG", acronym_es="SA", acronym_en="SA", name_es="Sa", name_en="Sa"
    )
    programme = Programme.objects.create(
        code="SEALED", name_es=f"{SEALED} programa", name_en=f"{SEALED} programme",
        short_name_es=f"{SEALED} prog", short_name_en=f"{SEALED} prog",
        start_date=dt.date(2024, 1, 1), end_date=_today() + dt.timedelta(days=365),
    )  # fmt: skip
    ProgrammeAgency.objects.create(programme=programme, agency=agency)
    ProgrammeCity.objects.create(programme=programme, city=city)
    other = model.objects.create_user(
        "matrix.other", password=PASSWORD, is_staff=True, first_name=SEALED
    )
    coordinator = model.objects.create_user(
        "matrix.sealed.coord", password=PASSWORD, first_name=SEALED
    )
    Membership.objects.create(user=other, programme=programme, role="admin")
    for person in (other, coordinator):
        Membership.objects.create(
            user=person, programme=programme, role="coordinator", agency=agency, city=city
        )
    world.users[OTHER] = other
    outcome = Outcome.objects.create(
        programme=programme, code="S1", title_es=f"{SEALED} r", title_en=f"{SEALED} outcome"
    )
    output = Output.objects.create(
        programme=programme, outcome=outcome, code="S1.1", title_es=f"{SEALED} p",
        title_en=f"{SEALED} output",
    )  # fmt: skip
    output.cities.set([city])
    activity = Activity.objects.create(
        programme=programme, output=output, country=country, city=city, code="S1.1.1",
        description_es=f"{SEALED} a", description_en=f"{SEALED} activity", lead_agency=agency,
    )  # fmt: skip
    indicator = Indicator.objects.create(
        programme=programme, code="S1.A", level="output", outcome=outcome, output=output,
        name_es=f"{SEALED} i", name_en=f"{SEALED} indicator", measure="count", time_rule="sum",
        place_rule="sum", direction="increase", target_kind="absolute",
    )  # fmt: skip
    indicator.cities.set([city])
    indicator.responsible_agencies.set([agency])
    target = Target.objects.create(
        indicator=indicator, original_value=Decimal(10), value=Decimal(10), source=SEALED
    )
    baseline = Baseline.objects.create(
        indicator=indicator, city=city, value=Decimal(0), date=dt.date(2024, 1, 1), source=SEALED
    )
    periods = {}
    for n, code in enumerate(("S-Q1", "S-Q2")):
        start = dt.date(2024, 1 + 3 * n, 1)
        periods[code] = ReportingPeriod.objects.create(
            programme=programme, code=code, name_es=code, name_en=code, start_date=start,
            end_date=start + dt.timedelta(days=89), due_date=_today() + dt.timedelta(days=30),
        )  # fmt: skip
    report = _report(programme, periods["S-Q1"], agency, city, "draft", updated_by=other,
                     narrative_es=f"{SEALED} n", narrative_en=f"{SEALED} narrative")  # fmt: skip
    value = _value(report, indicator, SEALED, 5)
    deliverable = Deliverable.objects.create(
        programme=programme, activity=activity, report=report, agency=agency, city=city,
        title_es=f"{SEALED} e", title_en=f"{SEALED} deliverable", kind="study",
        date=dt.date(2024, 2, 1), created_by=other,
        file=ContentFile(PDF + SEALED.encode(), name="sealed-deliverable.pdf"),
    )  # fmt: skip
    line = BudgetLine.objects.create(
        programme=programme, agency=agency, country=country, amount=Decimal(5000),
        original_amount=Decimal(5000), category=BudgetCategory.objects.first(),
    )  # fmt: skip
    expenditure = Expenditure.objects.create(
        line=line, period=periods["S-Q1"], amount=Decimal(100), as_of=dt.date(2024, 3, 31),
        status="draft", note=f"{SEALED} note", entered_by=other,
    )  # fmt: skip
    revision = BudgetRevision.objects.create(
        line=line, old_amount=Decimal(5000), new_amount=Decimal(6000), reason=f"{SEALED} r",
        status="proposed",
    )  # fmt: skip
    kit = build_survey(programme, code="SEALED-SURVEY")
    Survey.objects.filter(pk=kit.survey.pk).update(title_en=f"{SEALED} survey")
    _invitation, token = survey_services.invitations_issue(survey=kit.survey, labels=["x"])[0]
    assessment = Survey.objects.create(
        programme=programme, code="SEALED-ASSESS", kind=Survey.Kind.ASSESSMENT,
        title_es=f"{SEALED} ev", title_en=f"{SEALED} assessment",
    )  # fmt: skip
    job = ExportJob.objects.create(
        programme=programme, requested_by=other, kind="results", fmt="csv",
        status=ExportJob.Status.DONE, rows_done=1, rows_total=1, filename="sealed.csv",
        file=ContentFile(SEALED.encode(), name="sealed.csv"),
    )  # fmt: skip
    api_token, key = ApiToken.issue(
        user=other, programme=programme, scope="write", days=30, name=SEALED
    )
    world.secrets += [key, token]
    group = Group.objects.create(name="matrix-group")
    _admin_only_records(programme, agency, indicator, outcome, kit, other)
    world.objects["sealed"] = dict(
        programme=programme, agency=agency, city=city, outcome=outcome, output=output,
        activity=activity, indicator=indicator, target=target, baseline=baseline,
        periods=periods, report=report, value=value, deliverable=deliverable, line=line,
        expenditure=expenditure, revision=revision, kit=kit, token=token,
        assessment=assessment, job=job, api_token=api_token, coordinator=coordinator,
        group=group,
    )  # fmt: skip
    return programme


def _admin_only_records(
    programme: Programme,
    agency: Agency,
    indicator: Indicator,
    outcome: Outcome,
    kit: SurveyKit,
    actor: User,
) -> None:
    """One record of each model seen only in the admin, so that each admin page of SEALED's
    objects is asked too."""
    from budgets.models import NoCostExtension, StatedTotal, Transfer
    from indicators.models import IndicatorSupersession
    from monitoring.services import audit_record
    from surveys.models import AggregateResult, IndicatorFeed

    Transfer.objects.create(
        programme=programme, agency=agency, date=dt.date(2024, 2, 1), amount=Decimal(10)
    )
    NoCostExtension.objects.create(
        programme=programme, number=1, months=3, new_end_date=_today() + dt.timedelta(days=400)
    )
    StatedTotal.objects.create(programme=programme, amount=Decimal(5000))
    successor = Indicator.objects.create(
        programme=programme, code="S1.B", level="outcome", outcome=outcome,
        name_es=f"{SEALED} i2", name_en=f"{SEALED} indicator 2", measure="count",
        time_rule="sum", place_rule="sum", direction="increase", target_kind="absolute",
    )  # fmt: skip
    IndicatorSupersession.objects.create(
        predecessor=indicator, successor=successor, change="replaced"
    )
    question = kit.questions["sat"]
    AggregateResult.objects.create(
        survey=kit.survey, question=question, answer="5", respondents=3, count=1
    )
    IndicatorFeed.objects.create(indicator=indicator, question=question)
    Response.objects.create(
        survey=kit.survey, source=Response.Source.WEB, submitted_at=_now(), language="en"
    )
    audit_record(
        actor=actor, programme=programme, action="matrix.note", obj=indicator, reason=SEALED
    )


def _ciudades_admin_records(ciudades: Programme, kit: SurveyKit, indicator: Indicator) -> None:
    """What the Ciudades load has none of: a transfer, an indicator fed by a survey."""
    from budgets.models import Transfer
    from surveys.models import IndicatorFeed

    Transfer.objects.create(
        programme=ciudades, agency=Agency.objects.get(code="ILO"), date=dt.date(2021, 2, 1),
        amount=Decimal(10),
    )  # fmt: skip
    IndicatorFeed.objects.create(indicator=indicator, question=kit.questions["sat"])


# ---- issue 9: evaluations and lessons -------------------------------------------------------
#
# Ciudades: a shareable evaluation whose recommendations are shared (1, addressed to ILO,
# accepted, with an ILO action and an IOM action named to coord.ilo.cdmx), not shared (2,
# addressed to IOM, accepted, with an ILO action), not answered yet (3) and rejected (4); an
# evaluation not shared with donors (its recommendation 1 is shareable, the evaluation is
# not); a lesson shared and one not. Every action carries an internal progress note. SEALED:
# an evaluation with a recommendation, its response and an action, and a lesson.


def _evaluation(programme: Programme, code: str, title: str, shareable: bool) -> Evaluation:
    return Evaluation.objects.create(
        programme=programme, code=code, timing="final", nature="independent",
        title_es=f"{title} evaluación", title_en=f"{title} evaluation", shareable=shareable,
    )  # fmt: skip


def _recommendation(
    evaluation: Evaluation, number: int, text: str, shareable: bool, addressees: list[Agency]
) -> Recommendation:
    recommendation = Recommendation.objects.create(
        evaluation=evaluation, number=number, text_es=f"{text} recomendación",
        text_en=f"{text} recommendation", priority="high", shareable=shareable,
    )  # fmt: skip
    recommendation.addressee_agencies.set(addressees)
    return recommendation


def _response_action(
    response: ManagementResponse,
    agency: Agency,
    text: str,
    actor: User,
    owner: User | None = None,
    note: str = NOTE,
) -> ResponseAction:
    """An action of a management response, made through the service, with an internal
    progress note (SEALED's carries its own marker)."""
    action = knowledge_services.action_add(
        response=response, description_es=f"{text} acción", description_en=f"{text} action",
        owner_agency=agency, owner=owner, due_on=_today() + dt.timedelta(days=90), actor=actor,
    )  # fmt: skip
    action.progress_note = f"{note} progress note"
    action.save(update_fields=["progress_note"])
    return action


def _lesson(programme: Programme, code: str, text: str, shareable: bool) -> Lesson:
    return Lesson.objects.create(
        programme=programme, kind="lesson", code=code, title_es=f"{text} lección",
        title_en=f"{text} lesson", description_es=f"{text} descripción",
        description_en=f"{text} description", shareable=shareable,
    )  # fmt: skip


def _knowledge(world: World, ciudades: Programme, sealed: Programme) -> None:
    ilo, iom = Agency.objects.get(code="ILO"), Agency.objects.get(code="IOM")
    rco = world.user(RCO)

    def respond(recommendation, decision: str, comment: str, actor: User = rco):
        return knowledge_services.response_save(
            recommendation=recommendation, decision=decision, comment_es=f"{comment} c",
            comment_en=f"{comment} comment", actor=actor,
        )  # fmt: skip

    shared = _evaluation(ciudades, "MX-EV", "matrix", shareable=True)
    recommendations = {
        "shared": _recommendation(shared, 1, "shared", True, [ilo]),
        "unshared": _recommendation(shared, 2, UNSHARED, False, [iom]),
        "unanswered": _recommendation(shared, 3, "unanswered", True, [ilo]),
        "rejected": _recommendation(shared, 4, "rejected", True, [ilo]),
    }
    unshared = _evaluation(ciudades, "MX-EV-INT", UNSHARED, shareable=False)
    recommendations["in_unshared"] = _recommendation(unshared, 1, UNSHARED, True, [ilo])
    accepted = respond(recommendations["shared"], "accepted", "accepted")
    respond(recommendations["rejected"], "rejected", "rejected")
    private = respond(recommendations["unshared"], "accepted", UNSHARED)
    actions = {
        "ilo": _response_action(accepted, ilo, "ilo", rco),
        "iom": _response_action(accepted, iom, "iom", rco, owner=world.user(C_CITY)),
        "unshared": _response_action(private, ilo, UNSHARED, rco),
    }
    lessons = {
        "shared": _lesson(ciudades, "MX-LL1", "shared", shareable=True),
        "unshared": _lesson(ciudades, "MX-LL2", UNSHARED, shareable=False),
    }
    Theme.objects.get_or_create(
        code="MX-THEME", defaults={"name_es": "Tema", "name_en": "Theme"}
    )  # the admin's reference pages need one
    s, other = world.objects["sealed"], world.user(OTHER)
    s_evaluation = _evaluation(sealed, "SEAL-EV", SEALED, shareable=True)
    s_recommendation = _recommendation(s_evaluation, 1, SEALED, True, [s["agency"]])
    s_response = respond(s_recommendation, "accepted", SEALED, actor=other)
    s.update(
        evaluation=s_evaluation, recommendation=s_recommendation,
        response_action=_response_action(s_response, s["agency"], SEALED, other, note=SEALED),
        lesson=_lesson(sealed, "SEAL-LL", SEALED, shareable=True),
    )  # fmt: skip
    world.objects.update(
        evaluations={"shared": shared, "unshared": unshared}, recommendations=recommendations,
        response_actions=actions, lessons=lessons,
    )  # fmt: skip


def _knowledge_families(world: World, c: dict[str, str], x: dict[str, str]) -> dict[str, Any]:
    o, s = world.objects, world.objects["sealed"]

    def rec(code: dict[str, str], recommendation) -> dict[str, Any]:
        evaluation = recommendation.evaluation.code
        return {**code, "evaluation": evaluation, "number": recommendation.number}

    sealed_code = s["evaluation"].code
    return {
        "evaluation": {
            **{k: {**c, "evaluation": e.code} for k, e in o["evaluations"].items()},
            "xprog": {**c, "evaluation": sealed_code},
            "other": {**x, "evaluation": sealed_code},
        },
        "recommendation": {
            **{k: rec(c, r) for k, r in o["recommendations"].items()},
            "xprog": rec(c, s["recommendation"]),
            "other": rec(x, s["recommendation"]),
        },
        "response_action": {
            **{k: {**c, "action_id": a.pk} for k, a in o["response_actions"].items()},
            "xprog": {**c, "action_id": s["response_action"].pk},
            "other": {**x, "action_id": s["response_action"].pk},
        },
        "lesson": {
            **{k: {**c, "lesson": lesson.code} for k, lesson in o["lessons"].items()},
            "xprog": {**c, "lesson": s["lesson"].code},
            "other": {**x, "lesson": s["lesson"].code},
        },
    }


# ---- issue 9: risks, committees, agreements and tools ----------------------------------------
#
# Ciudades: a shareable committee with a shareable meeting (a decision; an ILO action, and an
# IOM action named to coord.ilo.cdmx, both overdue so that the overview lists them) and a
# meeting not shared (an ILO action), and a committee not shared with a meeting that is (a
# donor reads neither); a shareable risk owned by ILO whose review has an internal note, and
# a risk of the whole programme not shared (its code is the marker: the heat map shows codes);
# an agreement with ILO shared and one with IOM not; a tool of ILO shared and one of IOM not.
# Every action has an internal progress note. SEALED: one of each.


def _meeting(committee: Committee, summary: str, shareable: bool) -> Meeting:
    return Meeting.objects.create(
        committee=committee, held_on=_today() - dt.timedelta(days=120),
        summary_es=f"{summary} resumen", summary_en=f"{summary} summary", shareable=shareable,
    )  # fmt: skip


def _meeting_action(
    meeting: Meeting,
    agency: Agency,
    text: str,
    owner: User | None = None,
    note: str = NOTE,
) -> MeetingAction:
    """An overdue action of a meeting with an internal progress note (SEALED's carries its
    own marker)."""
    return MeetingAction.objects.create(
        meeting=meeting, description_es=f"{text} acción", description_en=f"{text} action",
        owner_agency=agency, owner=owner, due_on=_today() - dt.timedelta(days=30),
        progress_note=f"{note} progress note",
    )  # fmt: skip


def _governance_records(
    programme: Programme, code: str, text: str, agency: Agency, shareable: bool
) -> dict[str, Any]:
    """A committee, a risk owned by ``agency``, an agreement it is party to and a tool of it,
    each titled ``text``."""
    committee = Committee.objects.create(
        programme=programme, code=f"{code}-C", kind="binational", scope="binational",
        name_es=f"{text} comité", name_en=f"{text} committee", shareable=shareable,
    )  # fmt: skip
    agreement = Agreement.objects.create(
        programme=programme, code=f"{code}-A", title_es=f"{text} convenio",
        title_en=f"{text} agreement", status="signed", shareable=shareable,
    )  # fmt: skip
    agreement.agencies.set([agency])
    tool = Tool.objects.create(
        programme=programme, code=f"{code}-T", title_es=f"{text} manual",
        title_en=f"{text} manual", kind="manual", agency=agency, shareable=shareable,
    )  # fmt: skip
    return {"committee": committee, "agreement": agreement, "tool": tool}


def _risk(
    programme: Programme, code: str, text: str, agency: Agency | None, shareable: bool
) -> Risk:
    return Risk.objects.create(
        programme=programme, code=code, title_es=f"{text} riesgo", title_en=f"{text} risk",
        category="political", likelihood=3, impact=4, owner_agency=agency,
        review_on=_today() + dt.timedelta(days=30), shareable=shareable,
    )  # fmt: skip


def _review(risk: Risk, actor: User, note: str) -> RiskReview:
    return RiskReview.objects.create(
        risk=risk, reviewed_on=_today() - dt.timedelta(days=10), reviewed_by=actor,
        likelihood=3, impact=4, status="open", note=f"{note} review note",
    )  # fmt: skip


def _governance(world: World, ciudades: Programme, sealed: Programme) -> None:
    ilo, iom = Agency.objects.get(code="ILO"), Agency.objects.get(code="IOM")
    shared = _governance_records(ciudades, "MX-G1", "shared", ilo, shareable=True)
    unshared = _governance_records(ciudades, "MX-G2", UNSHARED, iom, shareable=False)
    meetings = {
        "shared": _meeting(shared["committee"], "shared", shareable=True),
        "unshared": _meeting(shared["committee"], UNSHARED, shareable=False),
        "in_unshared": _meeting(unshared["committee"], UNSHARED, shareable=True),
    }
    Decision.objects.create(meeting=meetings["shared"], text_es="decisión", text_en="decision")
    actions = {
        "ilo": _meeting_action(meetings["shared"], ilo, "ilo"),
        "iom": _meeting_action(meetings["shared"], iom, "iom", owner=world.user(C_CITY)),
        "unshared": _meeting_action(meetings["unshared"], ilo, UNSHARED),
    }
    risks = {
        "shared": _risk(ciudades, "MX-R1", "shared", ilo, shareable=True),
        "unshared": _risk(ciudades, UNSHARED, UNSHARED, None, shareable=False),
    }
    _review(risks["shared"], world.user(A_OWN), NOTE)
    s, other = world.objects["sealed"], world.user(OTHER)
    s_records = _governance_records(sealed, "SEAL-G", SEALED, s["agency"], shareable=True)
    s_meeting = _meeting(s_records["committee"], SEALED, shareable=True)
    s_risk = _risk(sealed, "SEAL-R", SEALED, s["agency"], shareable=True)
    _review(s_risk, other, SEALED)
    s.update(
        **s_records, meeting=s_meeting, risk=s_risk,
        meeting_action=_meeting_action(s_meeting, s["agency"], SEALED, note=SEALED),
    )  # fmt: skip
    world.objects.update(
        governance={"shared": shared, "unshared": unshared}, meetings=meetings,
        meeting_actions=actions, risks=risks,
    )  # fmt: skip


def _governance_families(world: World, c: dict[str, str], x: dict[str, str]) -> dict[str, Any]:
    o, s = world.objects, world.objects["sealed"]
    families: dict[str, Any] = {}
    for family, key in (("committee", "committee_code"), ("agreement", "agreement_code"),
                        ("tool", "tool_code")):  # fmt: skip
        families[family] = {
            **{k: {**c, key: records[family].code} for k, records in o["governance"].items()},
            "xprog": {**c, key: s[family].code},
            "other": {**x, key: s[family].code},
        }
    families["risk"] = {
        **{k: {**c, "risk_code": risk.code} for k, risk in o["risks"].items()},
        "xprog": {**c, "risk_code": s["risk"].code},
        "other": {**x, "risk_code": s["risk"].code},
    }
    families["meeting"] = {
        **{k: {**c, "meeting_id": m.pk} for k, m in o["meetings"].items()},
        "xprog": {**c, "meeting_id": s["meeting"].pk},
        "other": {**x, "meeting_id": s["meeting"].pk},
    }
    families["meeting_action"] = {
        **{k: {**c, "action_id": a.pk} for k, a in o["meeting_actions"].items()},
        "xprog": {**c, "action_id": s["meeting_action"].pk},
        "other": {**x, "action_id": s["meeting_action"].pk},
    }
    return families


# ---- the URL arguments of each family, by variant -------------------------------------------


def _slot(report: ProgressReport) -> dict[str, str]:
    return {
        "code": report.programme.code,
        "period": report.period.code,
        "agency": report.agency.code if report.agency else "JOINT",
        "city": report.city.code if report.city else "ALL",
    }


def _families(world: World, ciudades: Programme, sealed: Programme) -> None:
    o, s = world.objects, world.objects["sealed"]
    r = o["reports"]
    c, x = {"code": ciudades.code}, {"code": sealed.code}
    xslot = {**_slot(s["report"]), "code": ciudades.code}  # another programme's slot, guessed
    kit, skit = o["open_kit"].survey, s["kit"].survey
    world.kwargs = {
        "none": {"-": {}},
        "programme": {"C": c, "O": x},
        "slot": {
            "draft": _slot(r["draft"]),
            "submitted": _slot(r["submitted"]),
            "approved": _slot(r["approved"]),
            "joint": _slot(r["joint"]),
            "xprog": xslot,
            "other": _slot(s["report"]),
        },
        "evidence": {
            "draft": {**_slot(r["draft"]), "value_id": o["values"]["draft"].pk},
            "submitted": {**_slot(r["submitted"]), "value_id": o["values"]["submitted"].pk},
            "approved": {**_slot(r["approved"]), "value_id": o["values"]["approved"].pk},
            # a draft's value asked for through the approved report's address
            "mismatch": {**_slot(r["approved"]), "value_id": o["values"]["draft"].pk},
            "xprog": {**_slot(r["approved"]), "value_id": s["value"].pk},
            "other": {**_slot(s["report"]), "value_id": s["value"].pk},
        },
        "deliverable": {
            "draft": {**c, "pk": o["deliverables"]["draft"].pk},
            "approved": {**c, "pk": o["deliverables"]["approved"].pk},
            "xprog": {**c, "pk": s["deliverable"].pk},
            "other": {**x, "pk": s["deliverable"].pk},
        },
        "output": {
            "C": {**c, "output_code": "1.1"},
            "xprog": {**c, "output_code": s["output"].code},
            "O": {**x, "output_code": s["output"].code},
        },
        "indicator": {
            "C": {**c, "indicator_code": o["indicator"].code},
            "xprog": {**c, "indicator_code": s["indicator"].code},
            "O": {**x, "indicator_code": s["indicator"].code},
        },
        "line": {
            "own": {**c, "line_id": o["line"].pk},
            "xprog": {**c, "line_id": s["line"].pk},
            "other": {**x, "line_id": s["line"].pk},
        },
        "expenditure": {
            "draft": {**c, "expenditure_id": o["expenditures"]["draft"].pk},
            "submitted": {**c, "expenditure_id": o["expenditures"]["submitted"].pk},
            "approved": {**c, "expenditure_id": o["expenditures"]["approved"].pk},
            "xprog": {**c, "expenditure_id": s["expenditure"].pk},
            "other": {**x, "expenditure_id": s["expenditure"].pk},
        },
        "revision": {
            "proposed": {**c, "revision_id": o["revision"].pk},
            "xprog": {**c, "revision_id": s["revision"].pk},
            "other": {**x, "revision_id": s["revision"].pk},
        },
        "survey": {
            "own": {**c, "survey_code": kit.code, "wave": kit.wave},
            "xprog": {**c, "survey_code": skit.code, "wave": skit.wave},
            "other": {**x, "survey_code": skit.code, "wave": skit.wave},
        },
        "assessment": {
            "own": {**c, "survey_code": "MUNI-INTEGRATION-2023"},
            "xprog": {**c, "survey_code": s["assessment"].code},
            "other": {**x, "survey_code": s["assessment"].code},
        },
        "public": {
            "open": {"key": o["open_kit"].key},
            "invitation_only": {"key": o["token_kit"].key},
            "unknown": {"key": "x" * 22},
        },
        "invitation": {
            "valid": {"key": o["token_kit"].key, "token": o["token"]},
            "spent": {"key": o["token_kit"].key, "token": o["spent_token"]},
            "unknown": {"key": o["token_kit"].key, "token": "y" * 32},
            # a valid token of another survey, on this survey's key
            "crossed": {"key": o["open_kit"].key, "token": o["token"]},
            "xprog": {"key": o["token_kit"].key, "token": s["token"]},
        },
        "job": {
            "own": {**c, "job_id": o["job"].pk},
            "xprog": {**c, "job_id": s["job"].pk},
            "other": {**x, "job_id": s["job"].pk},
        },
        "token": {"own": {"token_id": o["api_token"].pk}, "other": {"token_id": s["api_token"].pk}},
        "api_report": {
            "draft": {"pk": r["draft"].pk},
            "submitted": {"pk": r["submitted"].pk},
            "approved": {"pk": r["approved"].pk},
            "other": {"pk": s["report"].pk},
        },
        "api_programme": {"C": c, "O": x},
        "api_survey": {
            "C": {"code": kit.code, "?": f"programme={ciudades.code}"},
            "O": {"code": skit.code, "?": f"programme={sealed.code}"},
        },
        "query": {
            "all": {},
            "C": {"?": f"programme={ciudades.code}"},
            "O": {"?": f"programme={sealed.code}"},
        },
    }
    for name, model_name in (
        ("outcome", "outcome"), ("output", "output"), ("activity", "activity"),
        ("indicator", "indicator"), ("target", "target"), ("baseline", "baseline"),
        ("period", "period"),
    ):  # fmt: skip
        world.kwargs[f"api_{name}"] = {
            "C": {"pk": _ciudades_pk(ciudades, model_name)},
            "O": {"pk": _sealed_pk(s, model_name)},
        }
    # POST /api/v1/reports/ opens a report: a new slot of one's own, one that exists already
    # (answered with the report to whoever may see it), a new slot of SEALED.
    world.kwargs["report_open"] = {
        "new_own": {"~": {"programme": "CIUDADES", "period": "2023-Q1", "agency": "ILO",
                          "city": "SCL"}},
        "existing_draft": {"~": {"programme": "CIUDADES", "period": "2023-Q2", "agency": "ILO",
                                 "city": "SCL"}},
        "new_other": {"~": {"programme": "SEALED", "period": "S-Q2", "agency": "SEALAG",
                            "city": "SEAL-C"}},
    }  # fmt: skip
    world.kwargs.update(_knowledge_families(world, c, x))
    world.kwargs.update(_governance_families(world, c, x))
    world.kwargs["admin"] = _admin_objects(world, ciudades, sealed)
    world.kwargs.update(_operations(world, ciudades, sealed))


def _operations(world: World, ciudades: Programme, sealed: Programme) -> dict[str, Any]:
    """/ops/: a failed task anybody operating may send again, one only superusers may, and
    a failed export job of each programme."""
    from monitoring.models import FailedTask

    def task(name: str, programme: Programme | None = None) -> int:
        args = [programme.pk] if programme else []
        return FailedTask.objects.create(
            task_name=name, args=args, exception="boom", failed_at=_now(), programme=programme
        ).pk

    def failed_job(programme: Programme, user: User) -> int:
        return ExportJob.objects.create(
            programme=programme, requested_by=user, kind="results", fmt="csv",
            status=ExportJob.Status.FAILED, error="boom",
        ).pk  # fmt: skip

    return {
        "task": {
            "retryable": {"task_id": task("indicators.tasks.sweep_pending")},
            "superusers_only": {"task_id": task("indicators.tasks.recompute_all")},
            "C": {"task_id": task("budgets.tasks.recompute_budget", ciudades)},
            "O": {"task_id": task("budgets.tasks.recompute_budget", sealed)},
        },
        "failed_job": {
            "C": {"job_id": failed_job(ciudades, world.user(C_OWN))},
            "O": {"job_id": failed_job(sealed, world.user(OTHER))},
        },
    }


def _admin_objects(
    world: World, ciudades: Programme, sealed: Programme
) -> dict[str, dict[str, Any]]:
    """For each model in the admin: the id of one of its Ciudades objects (C) and of one of
    SEALED's (O) when it belongs to a programme; of any object (shared) when it is reference
    data; for people, a Ciudades coordinator, SEALED's coordinator and a superuser."""
    from django.contrib import admin

    from monitoring.admin_scoping import PROGRAMME_PATHS

    out: dict[str, dict[str, Any]] = {}
    for model in admin.site._registry:
        label = model._meta.label_lower
        objects = model._default_manager.order_by("pk")
        if label == "auth.user":
            out[label] = {
                "C": world.user(C_OWN).pk,
                "O": world.objects["sealed"]["coordinator"].pk,
                "super": world.user(SUPER).pk,
            }
        elif model in PROGRAMME_PATHS:
            path = PROGRAMME_PATHS[model]
            lookup = f"{path}__code" if path else "code"
            variants = {}
            for variant, code in (("C", ciudades.code), ("O", sealed.code)):
                first = objects.filter(**{lookup: code}).first()
                if first is not None:
                    variants[variant] = first.pk
            out[label] = variants
        else:
            first = objects.first()
            out[label] = {"shared": first.pk} if first is not None else {}
    return out


def _ciudades_pk(ciudades: Programme, name: str) -> int:
    models = {
        "outcome": Outcome.objects.filter(programme=ciudades),
        "output": Output.objects.filter(programme=ciudades),
        "activity": Activity.objects.filter(programme=ciudades),
        "indicator": Indicator.objects.filter(programme=ciudades),
        "target": Target.objects.filter(indicator__programme=ciudades),
        "baseline": Baseline.objects.filter(indicator__programme=ciudades),
        "period": ReportingPeriod.objects.filter(programme=ciudades),
    }
    first = models[name].order_by("pk").first()
    assert first is not None, name
    return first.pk


def _sealed_pk(sealed: dict[str, Any], name: str) -> int:
    if name == "period":
        return sealed["periods"]["S-Q1"].pk
    return sealed[name].pk


# ---- the policy -----------------------------------------------------------------------------
#
# Each URL pattern (by its namespaced name, with ".format" for DRF's format-suffix twins; by its
# view's dotted path when it has no name) maps to a Rule: for each HTTP method it accepts, the
# family of URL arguments it is asked with, and for each variant of that family the roles that
# are let through. Everybody else must be refused:
#
#   anonymous, page that needs a login   302 to the login page (the admin's own for /admin/)
#   anonymous, API                       401
#   signed in                            403 or 404; always 404 for an object of a programme
#                                        the role does not belong to, or one guessed through
#                                        another programme's address (existence not disclosed)
#   signed in, admin site                302 to the admin login (not staff), 403, or the
#                                        admin's "does not exist" redirect to its index
#
# "Let through" means anything else that is not a server error: a page, a download, a
# redirect after a change, or a 400/409 naming what is wrong with the (deliberately empty) input.
# A 405 fails too (the policy names a method the view does not take), and every method the
# policy does not name must be a 405 (``test_no_pattern_takes_a_method_the_policy_does_not_name``).

ALL = frozenset(ROLES)
SIGNED_IN = ALL - {ANON}
NOBODY: frozenset[str] = frozenset()
IN_CIUDADES = CIUDADES | {SUPER}  # who sees Ciudades
IN_SEALED = frozenset({OTHER, SUPER})  # who sees SEALED
COORDINATORS = frozenset({C_OWN, C_AGENCY, C_CITY})
SUBMITTED_READERS = WORKFLOW

Allowed = dict[str, frozenset[str]]  # variant -> roles let through


@dataclass(frozen=True)
class Rule:
    methods: dict[str, tuple[str, Allowed]]  # method -> (family, variant -> roles)
    api: bool = False  # anonymous is refused with 401, not a redirect to the login page
    login: bool = True  # the page needs a login (anonymous refused by redirect / 401)
    body: dict[str, Any] = field(default_factory=dict)  # method -> form or JSON body
    url: str = ""  # for a pattern without a name: the address to ask
    any_method: bool = False  # takes any method (the API catch-all, the login form): not probed
    # The same answer whoever asks (the OpenAPI schema, generated without the request's user):
    # asked once anonymously and once signed in, not once per role.
    same_for_all: bool = False


def _rule(
    api: bool = False,
    login: bool = True,
    body: dict | None = None,
    same_for_all: bool = False,
    any_method: bool = False,
    **methods: Any,
) -> Rule:
    parsed = {}
    for method, spec in methods.items():
        family, allowed = spec
        parsed[method] = (family, {k: frozenset(v) for k, v in allowed.items()})
    return Rule(
        parsed, api=api, login=login, body=body or {}, same_for_all=same_for_all,
        any_method=any_method,
    )  # fmt: skip


def page(**methods: Any) -> Rule:
    return _rule(**methods)


def api(**methods: Any) -> Rule:
    return _rule(api=True, **methods)


def programme(
    c: AbstractSet[str] = IN_CIUDADES, o: AbstractSet[str] = IN_SEALED
) -> tuple[str, Allowed]:
    return ("programme", {"C": frozenset(c), "O": frozenset(o)})


def signed_in() -> tuple[str, Allowed]:
    return ("none", {"-": SIGNED_IN})


# The RCO's joint report (approved) is asked only where it is treated differently: reading
# and restating it.
SLOT_READ = {
    "draft": ILO_PEOPLE | {SUPER},
    "submitted": SUBMITTED_READERS,
    "approved": IN_CIUDADES,
    "joint": IN_CIUDADES,
    "xprog": NOBODY,
    "other": IN_SEALED,
}
SLOT_EDIT = {
    "draft": {C_OWN},
    "submitted": NOBODY,
    "approved": NOBODY,
    "xprog": NOBODY,
    "other": {OTHER},
}


def slot(**allowed: frozenset[str] | set[str]) -> tuple[str, Allowed]:
    """Slot variants: nobody unless named."""
    variants = dict.fromkeys(SLOT_EDIT, NOBODY)
    variants.update({k: frozenset(v) for k, v in allowed.items()})
    return ("slot", variants)


API_READ = {
    "draft": ILO_PEOPLE | {SUPER},
    "submitted": SUBMITTED_READERS,
    "approved": IN_CIUDADES,
    "other": IN_SEALED,
}


def api_report(**allowed: frozenset[str] | set[str]) -> tuple[str, Allowed]:
    variants = dict.fromkeys(API_READ, NOBODY)
    variants.update({k: frozenset(v) for k, v in allowed.items()})
    return ("api_report", variants)


def of_programme(
    family: str, c: frozenset[str] = IN_CIUDADES, o: frozenset[str] = IN_SEALED
) -> tuple[str, Allowed]:
    """An object of Ciudades, the same object's id guessed through Ciudades' address, and an
    object of SEALED."""
    return (family, {"C": c, "xprog": NOBODY, "O": o})


def own_xprog_other(family: str, own: Any, other: Any) -> tuple[str, Allowed]:
    return (family, {"own": own, "xprog": NOBODY, "other": other})


# Issue 9: who runs the whole programme (answers an evaluation's recommendations with the
# approvers of the agencies addressed, changes every action, risk, agreement and tool).
RESPONDERS = frozenset({RCO, ADMIN, SUPER})


def ours_and_sealed(family: str, **allowed: frozenset[str]) -> tuple[str, Allowed]:
    """Issue 9's records: the Ciudades variants named, SEALED's guessed through Ciudades'
    address (nobody) and SEALED's own (its people: its admin, who coordinates there too)."""
    return (family, {**allowed, "xprog": NOBODY, "other": IN_SEALED})


def action_changers(family: str) -> tuple[str, Allowed]:
    """Who changes an action: the ILO's (its coordinators in any city and its approver); the
    IOM's, whose named owner is coord.ilo.cdmx; the ILO's on a record not shared with donors.
    And the RCO and the admins."""
    return ours_and_sealed(
        family,
        ilo=ILO_PEOPLE | RESPONDERS,
        iom=frozenset({C_AGENCY, A_OTHER, C_CITY}) | RESPONDERS,
        unshared=ILO_PEOPLE | RESPONDERS,
    )


# A record of ILO's (shared) and one of IOM's (not shared): who changes each.
AGENCY_CHANGERS = (ILO_PEOPLE | RESPONDERS, frozenset({C_AGENCY, A_OTHER}) | RESPONDERS)


def shared_or_not(
    family: str, shared: frozenset[str] = IN_CIUDADES, unshared: frozenset[str] = NOT_DONORS
) -> tuple[str, Allowed]:
    """A record shared with donors and one that is not (by default: who reads them)."""
    return ours_and_sealed(family, shared=shared, unshared=unshared)


VERSION = {"version": 1}

POLICY: dict[str, Rule] = {
    # ---- the programme core, accounts ----------------------------------------------------
    "home": page(GET=signed_in()),
    "programme_detail": page(GET=programme()),
    # Django's own: the login form takes PUT as POST, the language switch any method.
    "login": _rule(
        login=False, any_method=True, GET=("none", {"-": ALL}), POST=("none", {"-": ALL})
    ),
    "logout": _rule(login=False, POST=("none", {"-": ALL})),
    "set_language": _rule(
        login=False,
        any_method=True,
        GET=("none", {"-": ALL}),
        POST=("none", {"-": ALL}),
        body={"POST": {"language": "en", "next": "/"}},
    ),
    "healthz": _rule(login=False, GET=("none", {"-": ALL})),
    "tokens:list": page(GET=signed_in(), POST=signed_in()),
    "tokens:revoke": page(POST=("token", {"own": {C_OWN}, "other": {OTHER}})),
    # ---- dashboards ----------------------------------------------------------------------
    "dashboards:overview": page(GET=programme()),
    "dashboards:outcomes": page(GET=programme()),
    "dashboards:cities": page(GET=programme()),
    "dashboards:agencies": page(GET=programme()),
    "dashboards:compliance": page(GET=programme()),
    "dashboards:quality": page(GET=programme()),
    "dashboards:indicator": page(GET=of_programme("indicator")),
    # ---- quarterly reports ---------------------------------------------------------------
    "reports:calendar": page(GET=programme(c=IN_CIUDADES - {DONOR})),
    "reports:report": page(GET=("slot", SLOT_READ), POST=("slot", SLOT_EDIT)),
    "reports:return": page(POST=slot(submitted={A_OWN})),
    "reports:approve": page(POST=slot(submitted={A_OWN})),
    "reports:validate": page(POST=slot(approved={RCO})),
    # The joint report is restated by the RCO or the programme admin (DESIGN §3.3).
    "reports:restate": page(
        GET=slot(approved={A_OWN}, joint={RCO, ADMIN, SUPER}),
        POST=slot(approved={A_OWN}, joint={RCO, ADMIN, SUPER}),
    ),
    "reports:evidence": page(
        GET=(
            "evidence",
            {
                "draft": ILO_PEOPLE | {SUPER},
                "submitted": SUBMITTED_READERS,
                "approved": IN_CIUDADES,
                "mismatch": NOBODY,
                "xprog": NOBODY,
                "other": IN_SEALED,
            },
        )
    ),
    "reports:workbook": page(GET=("slot", SLOT_EDIT)),
    "reports:workbook_upload": page(POST=("slot", SLOT_EDIT)),
    # ---- activities and deliverables ------------------------------------------------------
    "activities:inventory": page(GET=programme()),
    "activities:deliverable_add": page(POST=("slot", SLOT_EDIT)),
    "activities:deliverable_file": page(
        GET=(
            "deliverable",
            {
                "draft": ILO_PEOPLE | {SUPER},
                "approved": IN_CIUDADES,
                "xprog": NOBODY,
                "other": IN_SEALED,
            },
        )
    ),
    "activities:deliverable_remove": page(
        POST=(
            "deliverable",
            {"draft": {C_OWN}, "approved": NOBODY, "xprog": NOBODY, "other": {OTHER}},
        )
    ),
    "activities:output": page(GET=of_programme("output")),
    # ---- budgets ------------------------------------------------------------------------------
    "budget:dashboard": page(GET=programme()),
    "budget_entry:lines": page(GET=programme()),
    "budget_entry:line": page(GET=own_xprog_other("line", IN_CIUDADES, IN_SEALED)),
    "budget_entry:enter": page(POST=own_xprog_other("line", {C_OWN}, {OTHER})),
    "budget_entry:propose": page(
        POST=own_xprog_other("line", {A_OWN, ADMIN, SUPER}, {OTHER, SUPER})
    ),
    "budget_entry:expenditure": page(
        GET=(
            "expenditure",
            {
                "draft": ILO_PEOPLE | {SUPER},
                "submitted": SUBMITTED_READERS,
                "approved": IN_CIUDADES,
                "xprog": NOBODY,
                "other": IN_SEALED,
            },
        )
    ),
    "budget_entry:submit": page(
        POST=(
            "expenditure",
            {
                "draft": {C_OWN},
                "submitted": NOBODY,
                "approved": NOBODY,
                "xprog": NOBODY,
                "other": {OTHER},
            },
        )
    ),
    "budget_entry:approve": page(
        POST=(
            "expenditure",
            {
                "draft": NOBODY,
                "submitted": {A_OWN},
                "approved": NOBODY,
                "xprog": NOBODY,
                "other": NOBODY,
            },
        )
    ),
    "budget_entry:return": page(
        POST=(
            "expenditure",
            {
                "draft": NOBODY,
                "submitted": {A_OWN},
                "approved": NOBODY,
                "xprog": NOBODY,
                "other": NOBODY,
            },
        )
    ),
    "budget_entry:revision_approve": page(
        POST=("revision", {"proposed": {ADMIN, SUPER}, "xprog": NOBODY, "other": IN_SEALED})
    ),
    "budget_entry:revision_reject": page(
        POST=("revision", {"proposed": {ADMIN, SUPER}, "xprog": NOBODY, "other": IN_SEALED})
    ),
    "budget_entry:upload": page(
        GET=programme(c=COORDINATORS, o={OTHER}), POST=programme(c=COORDINATORS, o={OTHER})
    ),
    "budget_entry:upload_template": page(GET=programme(c=COORDINATORS, o={OTHER})),
    # ---- surveys ------------------------------------------------------------------------------
    "surveys:list": page(GET=programme()),
    "surveys:results": page(GET=own_xprog_other("survey", IN_CIUDADES, IN_SEALED)),
    "surveys:upload": page(
        GET=own_xprog_other("survey", {RCO, ADMIN, SUPER}, IN_SEALED),
        POST=own_xprog_other("survey", {RCO, ADMIN, SUPER}, IN_SEALED),
    ),
    "surveys:export_csv": page(GET=own_xprog_other("survey", IN_CIUDADES, IN_SEALED)),
    "surveys:export_xlsx": page(GET=own_xprog_other("survey", IN_CIUDADES, IN_SEALED)),
    "survey_assessment:detail": page(GET=own_xprog_other("assessment", IN_CIUDADES, IN_SEALED)),
    "survey_public:open": _rule(
        login=False,
        GET=("public", {"open": ALL, "invitation_only": NOBODY, "unknown": NOBODY}),
        POST=("public", {"open": ALL, "invitation_only": NOBODY, "unknown": NOBODY}),
    ),
    "survey_public:invitation": _rule(
        login=False,
        GET=(
            "invitation",
            {"valid": ALL, "spent": NOBODY, "unknown": NOBODY, "crossed": NOBODY, "xprog": NOBODY},
        ),
        POST=(
            "invitation",
            {"valid": ALL, "spent": NOBODY, "unknown": NOBODY, "crossed": NOBODY, "xprog": NOBODY},
        ),
    ),
    "survey_public:thanks": _rule(
        login=False, GET=("public", {"open": ALL, "invitation_only": ALL, "unknown": NOBODY})
    ),
    # ---- exports ------------------------------------------------------------------------------
    "exports:page": page(
        GET=programme(), POST=programme(), body={"POST": {"kind": "results", "format": "csv"}}
    ),
    "exports:job": page(GET=own_xprog_other("job", {C_OWN, ADMIN, SUPER}, IN_SEALED)),
    "exports:job_status": page(GET=own_xprog_other("job", {C_OWN, ADMIN, SUPER}, IN_SEALED)),
    "exports:job_download": page(GET=own_xprog_other("job", {C_OWN, ADMIN, SUPER}, IN_SEALED)),
    # ---- evaluations and lessons (issue 9) ---------------------------------------------------
    # Members read; a donor reads what is marked shareable (an evaluation's page only when the
    # evaluation is, a recommendation's only when it and its evaluation are) and never the
    # actions' progress notes (the UNSHARED and NOTE markers). The response: the RCO, the
    # admins and the approvers of an agency the recommendation is addressed to. Actions: added
    # by those and the addressed agencies' coordinators once there is a response that is not a
    # rejection; changed by their agency's coordinators (any city) and approver, the person
    # named as owner, the RCO and the admins.
    "knowledge:evaluations": page(GET=programme()),
    "knowledge:evaluation": page(GET=shared_or_not("evaluation")),
    "knowledge:recommendation": page(
        GET=ours_and_sealed(
            "recommendation",
            shared=IN_CIUDADES,
            unshared=NOT_DONORS,
            in_unshared=NOT_DONORS,
            rejected=IN_CIUDADES,
        ),
    ),
    "knowledge:respond": page(
        POST=ours_and_sealed(
            "recommendation",
            shared=RESPONDERS | {A_OWN},
            unshared=RESPONDERS | {A_OTHER},
            unanswered=RESPONDERS | {A_OWN},
        ),
    ),
    "knowledge:action_add": page(
        POST=ours_and_sealed(
            "recommendation",
            shared=ILO_PEOPLE | RESPONDERS,
            unshared=RESPONDERS | {C_AGENCY, A_OTHER},
            unanswered=NOBODY,
            rejected=NOBODY,
        ),
    ),
    "knowledge:action_status": page(POST=action_changers("response_action")),
    "knowledge:action_edit": page(
        GET=action_changers("response_action"), POST=action_changers("response_action")
    ),
    "knowledge:tracking": page(GET=programme()),
    "knowledge:lessons": page(GET=programme()),
    "knowledge:lesson": page(GET=shared_or_not("lesson")),
    # ---- risks, committees, agreements and tools (issue 9) -----------------------------------
    # Members read; a donor reads what is marked shareable (a meeting only when its committee
    # is too), never review or progress notes. Meetings, their decisions and actions are
    # recorded by the agencies' people, the RCO and the admins; a risk, an action, an agreement
    # or a tool is changed by its agency's people (a risk of the whole programme by the RCO
    # and the admins only), an action also by the person named as its owner.
    "governance:committees": page(GET=programme()),
    "governance:committee": page(GET=shared_or_not("committee")),
    "governance:meeting_add": page(
        GET=shared_or_not("committee", shared=NOT_DONORS),
        POST=shared_or_not("committee", shared=NOT_DONORS),
    ),
    "governance:meeting": page(
        GET=ours_and_sealed(
            "meeting", shared=IN_CIUDADES, unshared=NOT_DONORS, in_unshared=NOT_DONORS
        )
    ),
    "governance:decision_add": page(POST=shared_or_not("meeting", shared=NOT_DONORS)),
    "governance:action_add": page(POST=shared_or_not("meeting", shared=NOT_DONORS)),
    "governance:action_update": page(POST=action_changers("meeting_action")),
    "governance:risks": page(GET=programme()),
    "governance:heatmap": page(GET=programme()),
    "governance:risk_add": page(GET=programme(c=NOT_DONORS), POST=programme(c=NOT_DONORS)),
    "governance:risk": page(GET=shared_or_not("risk")),
    "governance:risk_edit": page(
        GET=shared_or_not("risk", shared=ILO_PEOPLE | RESPONDERS, unshared=RESPONDERS),
        POST=shared_or_not("risk", shared=ILO_PEOPLE | RESPONDERS, unshared=RESPONDERS),
    ),
    "governance:risk_review": page(
        POST=shared_or_not("risk", shared=ILO_PEOPLE | RESPONDERS, unshared=RESPONDERS)
    ),
    "governance:follow_up": page(GET=programme()),
    "governance:agreement": page(GET=shared_or_not("agreement")),
    "governance:agreement_status": page(POST=shared_or_not("agreement", *AGENCY_CHANGERS)),
    "governance:tool": page(GET=shared_or_not("tool")),
    "governance:tool_adoption": page(POST=shared_or_not("tool", *AGENCY_CHANGERS)),
    # ---- the API ------------------------------------------------------------------------------
    # The schema and its documentation are public: they describe the API, not its data.
    "api:schema": _rule(api=True, login=False, GET=("none", {"-": ALL}), same_for_all=True),
    "api:docs": _rule(api=True, login=False, GET=("none", {"-": ALL}), same_for_all=True),
    "api:api-root": api(GET=signed_in()),
    "api:api-root.format": api(GET=signed_in()),
    "api:results": api(GET=("query", {"C": IN_CIUDADES, "O": IN_SEALED})),
    "api:export-results": api(GET=("query", {"C": IN_CIUDADES, "O": IN_SEALED})),
    "api:export-budget": api(GET=("query", {"C": IN_CIUDADES, "O": IN_SEALED})),
    "api:export-surveys": api(GET=("query", {"C": IN_CIUDADES, "O": IN_SEALED})),
    "api:export-iati": api(GET=("query", {"C": IN_CIUDADES, "O": IN_SEALED})),
    "api:export-mptf": api(GET=("query", {"C": IN_CIUDADES, "O": IN_SEALED})),
    "api:reports": _rule(
        api=True,
        GET=("query", {"all": SIGNED_IN}),
        POST=(
            "report_open",
            {"new_own": {C_OWN}, "existing_draft": ILO_PEOPLE | {SUPER}, "new_other": {OTHER}},
        ),
    ),
    "api:report": api(GET=("api_report", API_READ)),
    "api:report-values": _rule(
        api=True,
        GET=("api_report", API_READ),
        PUT=api_report(draft={C_OWN}, other={OTHER}),
        PATCH=api_report(draft={C_OWN}, other={OTHER}),
        body={"PUT": VERSION, "PATCH": VERSION},
    ),
    "api:report-submit": _rule(
        api=True, POST=api_report(draft={C_OWN}, other={OTHER}), body={"POST": VERSION}
    ),
    "api:report-return": _rule(
        api=True, POST=api_report(submitted={A_OWN}), body={"POST": {**VERSION, "reason": "x"}}
    ),
    "api:report-approve": _rule(
        api=True, POST=api_report(submitted={A_OWN}), body={"POST": VERSION}
    ),
    "api:report-validate": _rule(api=True, POST=api_report(approved={RCO}), body={"POST": VERSION}),
    "api:report-restate": _rule(
        api=True, POST=api_report(approved={A_OWN}), body={"POST": VERSION}
    ),
    "api:values": api(GET=("query", {"all": SIGNED_IN})),
    "api:rollups": api(GET=("query", {"all": SIGNED_IN})),
    "api:budget-lines": api(GET=("query", {"all": SIGNED_IN})),
    "api:expenditures": api(GET=("query", {"all": SIGNED_IN})),
    "api:budget-summary": api(GET=("query", {"C": IN_CIUDADES, "O": IN_SEALED})),
    "api:surveys": api(GET=("query", {"all": SIGNED_IN})),
    "api:survey-results": api(GET=("api_survey", {"C": IN_CIUDADES, "O": IN_SEALED})),
    # ---- operations (/ops/): programme admins and superusers ----------------------------
    # A programme admin sends again only the failed tasks that worked for their programmes
    # and requeues only their programmes' export jobs; the whole site's tasks (a sweep, a
    # full recompute) are for superusers.
    "ops:jobs": page(GET=("none", {"-": STAFF})),
    "ops:retry_task": page(
        POST=(
            "task",
            {
                "retryable": {SUPER},
                "superusers_only": {SUPER},
                "C": {ADMIN, SUPER},
                "O": IN_SEALED,
            },
        ),
    ),
    "ops:retry_export": page(POST=("failed_job", {"C": {ADMIN, SUPER}, "O": IN_SEALED})),
    "ops:recompute_pending": page(POST=("none", {"-": STAFF})),
    "ops:recompute_all": page(POST=("none", {"-": {SUPER}})),
    # Any other address under /api/v1/: the API's 404, whoever asks, whatever the method.
    "monitoring.api.errors.api_not_found": Rule(
        {"GET": ("none", {"-": NOBODY})},
        api=True,
        login=False,
        url="/api/v1/no-such-endpoint/",
        any_method=True,
    ),
}
for _name in ("programme", "outcome", "output", "activity", "indicator", "target", "baseline",
              "period"):  # fmt: skip
    for _suffix in ("", ".format"):
        POLICY[f"api:{_name}-list{_suffix}"] = api(GET=("query", {"all": SIGNED_IN}))
        POLICY[f"api:{_name}-detail{_suffix}"] = api(
            GET=(f"api_{_name}", {"C": IN_CIUDADES, "O": IN_SEALED})
        )


# ---- the admin site -------------------------------------------------------------------------
#
# Every model registered in the admin is named here with the kind of its ModelAdmin; a model
# added to the admin without an entry fails the matrix. Staff only (the programme admins and
# superusers); a programme admin sees and changes only their programmes' objects. Each model's
# pages are asked with one of its Ciudades objects and one of SEALED's. Two economies, the admin
# pages being the slowest of the site: a POST is asked of the roles it must refuse (for those it
# lets through it would only render the GET's form again), and a superuser, whose reach is the
# same everywhere, is asked on Ciudades' objects only.

ADMIN_KINDS = {
    "auth.group": "stock",  # Django's own: superusers only
    "auth.user": "people",
    "monitoring.programme": "programme",
    **dict.fromkeys(
        ["monitoring.country", "monitoring.city", "monitoring.agency",
         "indicators.disaggregationdimension", "budgets.budgetcategory", "surveys.scale"],
        "reference",
    ),
    **dict.fromkeys(
        ["monitoring.auditevent", "indicators.indicatorvalue", "indicators.progressreport"],
        "read_only",
    ),
    **dict.fromkeys(
        ["monitoring.outcome", "monitoring.output", "monitoring.activity",
         "monitoring.reportingperiod", "monitoring.membership", "indicators.indicator",
         "indicators.target", "indicators.indicatorsupersession", "budgets.budgetline",
         "budgets.budgetrevision", "budgets.expenditure", "budgets.transfer",
         "budgets.nocostextension", "budgets.statedtotal", "surveys.survey", "surveys.question",
         "surveys.response", "surveys.aggregateresult", "surveys.indicatorfeed",
         "knowledge.evaluation", "knowledge.recommendation", "knowledge.lesson",
         "governance.risk", "governance.committee", "governance.meeting",
         "governance.meetingaction", "governance.agreement", "governance.tool"],
        "scoped",
    ),
    "knowledge.theme": "reference",
    **dict.fromkeys(
        ["knowledge.managementresponse", "knowledge.responseaction", "governance.riskreview"],
        "read_only",
    ),
}  # fmt: skip
ADMIN_SITE = {
    "admin:index": {"GET": STAFF},
    "admin:login": {"GET": ALL, "POST": ALL},
    "admin:logout": {"POST": ALL},  # staff are signed out; anybody else sent to the login
    "admin:password_change": {"GET": STAFF, "POST": STAFF},
    "admin:password_change_done": {"GET": STAFF},
    "admin:autocomplete": {"GET": NOBODY},  # without its parameters: refused to all
    "admin:jsi18n": {"GET": STAFF},
    "admin:view_on_site": {"GET": NOBODY},  # no model has a page of its own on the site
    "admin:app_list": {"GET": STAFF},
    "admin/(?P<url>.*)$": {"GET": NOBODY},
}


def admin_expectation(kind: str, action: str, method: str, variant: str) -> frozenset[str]:
    """Who is let through one admin page of a model of ``kind``: ``action`` is changelist,
    add, change, delete, history, redirect (the old object address) or password; ``variant``
    is C (a Ciudades object), O (a SEALED one), shared (reference data) or super (a superuser's
    account)."""
    owner = {
        "C": frozenset({ADMIN, SUPER}),
        "O": IN_SEALED,
        "shared": STAFF,
        "super": frozenset({SUPER}),
    }
    if action == "redirect":
        return STAFF
    if kind == "stock":
        return frozenset({SUPER})
    if action == "changelist":
        return STAFF
    if kind == "read_only":
        if action in ("add", "delete") or (action == "change" and method == "POST"):
            return NOBODY
        return owner[variant]
    if kind == "reference":
        if action in ("add", "delete") or (action == "change" and method == "POST"):
            return frozenset({SUPER})
        return STAFF
    if kind == "programme" and action in ("add", "delete"):
        return frozenset({SUPER})
    if kind == "people" and action == "delete":
        return frozenset({SUPER})
    if action == "add":
        return STAFF
    return owner[variant]
