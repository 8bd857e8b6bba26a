"""Admin for the programme admin: each model shows and accepts only the programmes where the
user is a programme admin (monitoring.admin_scoping). Responses and actions are written by the
pages' services (validated, versioned, audited): read here, not edited."""

from django.contrib import admin

from monitoring.admin_scoping import (
    ProgrammeScopedAdmin,
    ReadOnlyScopedAdmin,
    ReferenceDataAdmin,
    scoped,
)

from .models import Evaluation, Lesson, ManagementResponse, Recommendation, ResponseAction, Theme

scoped(Evaluation, "programme")
scoped(Recommendation, "evaluation__programme")
scoped(ManagementResponse, "recommendation__evaluation__programme")
scoped(ResponseAction, "response__recommendation__evaluation__programme")
scoped(Lesson, "programme")


@admin.register(Theme)
class ThemeAdmin(ReferenceDataAdmin):
    list_display = ("code", "name_es", "name_en", "category_es", "category_en")


@admin.register(Evaluation)
class EvaluationAdmin(ProgrammeScopedAdmin):
    list_display = ("code", "programme", "timing", "nature", "end_date", "shareable")
    list_filter = ("programme", "timing", "nature", "shareable")
    search_fields = ("code", "title_es", "title_en")


@admin.register(Recommendation)
class RecommendationAdmin(ProgrammeScopedAdmin):
    list_display = ("evaluation", "number", "priority", "term", "shareable")
    list_filter = ("evaluation", "priority", "term", "shareable")
    search_fields = ("text_es", "text_en")
    filter_horizontal = ("addressee_agencies", "outcomes", "outputs")


@admin.register(ManagementResponse)
class ManagementResponseAdmin(ReadOnlyScopedAdmin):
    list_display = ("recommendation", "decision", "responded_by", "responded_at", "version")
    list_filter = ("decision",)


@admin.register(ResponseAction)
class ResponseActionAdmin(ReadOnlyScopedAdmin):
    list_display = ("response", "owner_agency", "owner", "due_on", "status", "version")
    list_filter = ("status", "owner_agency")


@admin.register(Lesson)
class LessonAdmin(ProgrammeScopedAdmin):
    list_display = ("code", "programme", "kind", "title_es", "shareable")
    list_filter = ("programme", "kind", "shareable", "themes")
    search_fields = ("code", "title_es", "title_en", "description_es", "description_en")
    filter_horizontal = ("themes", "outputs", "indicators")
