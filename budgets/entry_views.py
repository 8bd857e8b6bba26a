"""Budget entry pages: the lines, a line (its expenditures, the coordinator's entry form, the
approver's approve and return, the revisions), an expenditure with its history, and the
upload. Each view: fetch and authorise through one selector → validate → one service →
redirect or render. Every action is a POST."""

import csv
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import services
from .forms import ExpenditureForm, RevisionForm, UploadForm, expenditure_initial
from .imports import UploadInvalid, UploadRefused, import_expenditures, template_header
from .models import Expenditure
from .permissions import (
    can_approve_expenditure,
    can_decide_revision,
    can_enter_expenditure,
    can_propose_revision,
    can_return_expenditure,
)
from .selectors_entry import (
    ExpenditureSlot,
    LineSlot,
    budget_access_for_user,
    enterable_lines,
    entry_periods,
    expenditure_get_for_user,
    expenditure_history,
    last_returns,
    line_expenditures,
    line_get_for_user,
    line_revisions,
    lines_overview,
    revision_get_for_user,
    upload_access_for_user,
)


def _user(request: HttpRequest) -> User:
    """The signed-in user (every view here requires one)."""
    assert isinstance(request.user, User)
    return request.user


def _line_url(programme_code: str, line_id: int) -> str:
    return reverse("budget_entry:line", args=[programme_code, line_id])


def _add_errors(form: Form, error: ValidationError) -> None:
    """A service's refusal on the form: on its field when the form has it."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


@login_required
@require_GET
def line_list(request: HttpRequest, code: str) -> HttpResponse:
    base = budget_access_for_user(user=request.user, programme_code=code)
    context = {
        "programme": base.programme,
        "overview": lines_overview(base),
        "only_approved": base.access.only_approved,
        "can_upload": bool(enterable_lines(base)),
    }
    return render(request, "budgets/lines.html", context)


@login_required
@require_GET
def line_detail(request: HttpRequest, code: str, line_id: int) -> HttpResponse:
    return _render_line(
        request, line_get_for_user(user=request.user, programme_code=code, line_id=line_id)
    )


def _entry_form(request: HttpRequest, slot: LineSlot, periods: list[Any]) -> ExpenditureForm:
    """A blank form, or the draft of ``?period=…&cumulative=1`` to change."""
    period = next((p for p in periods if p.code == request.GET.get("period")), None)
    draft = None
    if period is not None:
        draft = slot.line.expenditures.filter(
            period=period,
            cumulative=request.GET.get("cumulative") == "1",
            status=Expenditure.Status.DRAFT,
        ).first()
    return ExpenditureForm(periods=periods, initial=expenditure_initial(draft, period))


def _render_line(
    request: HttpRequest,
    slot: LineSlot,
    *,
    entry_form: ExpenditureForm | None = None,
    revision_form: RevisionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    access, line = slot.access, slot.line
    if entry_form is None and can_enter_expenditure(access, line, slot.city_countries):
        entry_form = _entry_form(request, slot, list(entry_periods(slot.programme)))
    if revision_form is None and can_propose_revision(access, line):
        revision_form = RevisionForm()
    expenditures = line_expenditures(slot)
    revisions = line_revisions(slot)
    context = {
        "programme": slot.programme,
        "line": line,
        "spent": services.spent_on(line),
        "expenditures": [_expenditure_row(slot, e) for e in expenditures],
        "returns": last_returns(expenditures),
        "entry_form": entry_form,
        "revision_form": revision_form,
        "revisions": [(r, can_decide_revision(access, r)) for r in revisions],
    }
    return render(request, "budgets/line.html", context, status=status)


def _expenditure_row(slot: LineSlot | ExpenditureSlot, e: Expenditure) -> dict[str, Any]:
    """An expenditure with what this viewer may do with it."""
    access = slot.access
    submitted = e.status == Expenditure.Status.SUBMITTED
    return {
        "e": e,
        "submit": can_enter_expenditure(access, e.line, slot.city_countries, e.status),
        "approve": can_approve_expenditure(access, e),
        "return": can_return_expenditure(access, e),
        "submitted_own": submitted
        and e.line.agency_id in access.approves
        and e.submitted_by_id == access.user_id,
    }


@login_required
@require_POST
def enter(request: HttpRequest, code: str, line_id: int) -> HttpResponse:
    """Save the coordinator's draft (``action=submit``: and submit it)."""
    slot = line_get_for_user(user=request.user, programme_code=code, line_id=line_id)
    if not can_enter_expenditure(slot.access, slot.line, slot.city_countries):
        raise PermissionDenied
    form = ExpenditureForm(request.POST, periods=entry_periods(slot.programme))
    if form.is_valid():
        submit = request.POST.get("action") == "submit"
        try:
            services.expenditure_save(
                line=slot.line,
                **form.service_arguments(),
                actor=_user(request),
                expected_version=form.cleaned_data["version"],
                submit=submit,
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            done = _("Expenditure submitted for approval.") if submit else _("Draft saved.")
            messages.success(request, done)
            return redirect(_line_url(code, line_id))
    return _render_line(request, slot, entry_form=form, status=400)


@login_required
@require_GET
def expenditure_detail(request: HttpRequest, code: str, expenditure_id: int) -> HttpResponse:
    slot = expenditure_get_for_user(
        user=request.user, programme_code=code, expenditure_id=expenditure_id
    )
    context = {
        "programme": slot.programme,
        "line": slot.expenditure.line,
        "row": _expenditure_row(slot, slot.expenditure),
        "history": expenditure_history(slot),
    }
    return render(request, "budgets/expenditure.html", context)


def _posted_version(request: HttpRequest) -> int | None:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return None


def _expenditure_action(
    request: HttpRequest,
    code: str,
    expenditure_id: int,
    allowed: Callable[[ExpenditureSlot], bool],
    call: Callable[[Expenditure, User], object],
    done: str,
) -> HttpResponse:
    slot = expenditure_get_for_user(
        user=request.user, programme_code=code, expenditure_id=expenditure_id
    )
    e = slot.expenditure
    if not allowed(slot):
        raise PermissionDenied
    if _posted_version(request) != e.version:  # the page showed another state of it
        messages.error(request, _("The expenditure changed since you opened the page; look again."))
    else:
        try:
            call(e, _user(request))
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, done)
    return redirect(_line_url(code, e.line_id))


@login_required
@require_POST
def submit(request: HttpRequest, code: str, expenditure_id: int) -> HttpResponse:
    """Submit a saved draft as it stands."""
    return _expenditure_action(
        request,
        code,
        expenditure_id,
        lambda s: can_enter_expenditure(
            s.access, s.expenditure.line, s.city_countries, s.expenditure.status
        ),
        lambda e, actor: services.expenditure_save(
            line=e.line,
            period=e.period,
            amount=e.amount,
            as_of=e.as_of,
            kind=e.kind,
            cumulative=e.cumulative,
            note=e.note,
            actor=actor,
            expected_version=e.version,
            submit=True,
        ),
        _("Expenditure submitted for approval."),
    )


@login_required
@require_POST
def approve(request: HttpRequest, code: str, expenditure_id: int) -> HttpResponse:
    return _expenditure_action(
        request,
        code,
        expenditure_id,
        lambda s: can_approve_expenditure(s.access, s.expenditure),
        lambda e, actor: services.expenditure_approve(
            expenditure=e, actor=actor, expected_version=e.version
        ),
        _("Expenditure approved. The budget figures will show it in a few seconds."),
    )


@login_required
@require_POST
def return_expenditure(request: HttpRequest, code: str, expenditure_id: int) -> HttpResponse:
    reason = request.POST.get("reason", "")
    return _expenditure_action(
        request,
        code,
        expenditure_id,
        lambda s: can_return_expenditure(s.access, s.expenditure),
        lambda e, actor: services.expenditure_return(
            expenditure=e, reason=reason, actor=actor, expected_version=e.version
        ),
        _("Expenditure returned to the coordinator."),
    )


@login_required
@require_POST
def propose(request: HttpRequest, code: str, line_id: int) -> HttpResponse:
    slot = line_get_for_user(user=request.user, programme_code=code, line_id=line_id)
    if not can_propose_revision(slot.access, slot.line):
        raise PermissionDenied
    form = RevisionForm(request.POST)
    if form.is_valid():
        try:
            services.revision_propose(
                line=slot.line,
                new_amount=form.cleaned_data["new_amount"],
                reason=form.cleaned_data["reason"],
                actor=_user(request),
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Revision proposed; the programme admin decides it."))
            return redirect(_line_url(code, line_id))
    return _render_line(request, slot, revision_form=form, status=400)


def _decide(request: HttpRequest, code: str, revision_id: int, approve: bool) -> HttpResponse:
    slot = revision_get_for_user(user=request.user, programme_code=code, revision_id=revision_id)
    if not can_decide_revision(slot.access, slot.revision):
        raise PermissionDenied
    try:
        services.revision_decide(revision=slot.revision, approve=approve, actor=_user(request))
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(
            request, _("Revision approved: the line has its new amount.") if approve
            else _("Revision rejected."),
        )  # fmt: skip
    return redirect(_line_url(code, slot.revision.line_id))


@login_required
@require_POST
def approve_revision(request: HttpRequest, code: str, revision_id: int) -> HttpResponse:
    return _decide(request, code, revision_id, approve=True)


@login_required
@require_POST
def reject_revision(request: HttpRequest, code: str, revision_id: int) -> HttpResponse:
    return _decide(request, code, revision_id, approve=False)


@login_required
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest, code: str) -> HttpResponse:
    base, enterable = upload_access_for_user(user=request.user, programme_code=code)
    form = UploadForm(request.POST or None, request.FILES or None)
    problems = []
    if request.method == "POST" and form.is_valid():
        try:
            saved = import_expenditures(form.cleaned_data["file"], base, _user(request))
        except UploadRefused as refused:
            form.add_error("file", str(refused))
        except UploadInvalid as invalid:
            problems = invalid.problems
        else:
            messages.success(
                request,
                ngettext(
                    "%(n)d expenditure uploaded and submitted for approval.",
                    "%(n)d expenditures uploaded and submitted for approval.",
                    len(saved),
                )
                % {"n": len(saved)},
            )
            return redirect("budget_entry:lines", code)
    context = {
        "programme": base.programme,
        "form": form,
        "problems": problems,
        "lines": enterable,
        "header": template_header(),
    }
    return render(request, "budgets/upload.html", context, status=400 if form.is_bound else 200)


@login_required
@require_GET
def upload_template(request: HttpRequest, code: str) -> HttpResponse:
    """A CSV to fill in: the header and a row per line this coordinator enters."""
    base, enterable = upload_access_for_user(user=request.user, programme_code=code)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(
        True, f"{base.programme.code}-expenditures.csv"
    )
    response.write("\ufeff")  # so that Excel reads the accents as UTF-8
    spanish = (get_language() or "").startswith("es")
    # Excel in Spanish separates with ";" (the comma is its decimal mark); both are read.
    writer = csv.writer(response, delimiter=";" if spanish else ",")
    writer.writerow(template_header())
    kind = "provisional" if spanish else "interim"
    for budget_line in enterable:
        assert budget_line.country is not None
        writer.writerow(
            [budget_line.agency.code, budget_line.country.code, "", "", kind, "", "", ""]
        )
    return response
