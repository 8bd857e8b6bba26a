"""Lessons learned and good practices: the list with a full-text search (title, description
and context, in both languages) and filters (kind, theme, category, output, indicator), and
a lesson's page with every field of the ILO register."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .forms import LessonFilterForm
from .selectors import (
    LessonFilters,
    knowledge_access_for_user,
    lesson_filter_choices,
    lesson_get_for_user,
    lessons_for,
)


@login_required
@require_GET
def lesson_list(request: HttpRequest, code: str) -> HttpResponse:
    base = knowledge_access_for_user(user=request.user, programme_code=code)
    options = lesson_filter_choices(base)
    form = LessonFilterForm(request.GET or None, options=options)
    filters = LessonFilters()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        by_code = {
            "theme": {t.code: t for t in options["themes"]},
            "output": {o.code: o for o in options["outputs"]},
            "indicator": {i.code: i for i in options["indicators"]},
        }
        filters = LessonFilters(
            q=data["q"].strip(),
            kind=data["kind"],
            category=data["category"],
            **{name: table.get(data[name]) for name, table in by_code.items()},
        )
    context = {
        "programme": base.programme,
        "section": "lessons",
        "form": form,
        "filters": filters,
        "lessons": list(lessons_for(base, filters)),
        "only_approved": base.access.only_approved,
    }
    return render(request, "knowledge/lessons.html", context)


@login_required
@require_GET
def lesson_detail(request: HttpRequest, code: str, lesson: str) -> HttpResponse:
    slot = lesson_get_for_user(user=request.user, programme_code=code, lesson_code=lesson)
    context = {
        "programme": slot.programme,
        "section": "lessons",
        "lesson": slot.lesson,
        "only_approved": slot.access.only_approved,
    }
    return render(request, "knowledge/lesson.html", context)
