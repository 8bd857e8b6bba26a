from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from monitoring.admin_scoping import ProgrammeScopedAdmin, ReferenceDataAdmin, scoped

from . import services
from .models import (
    AggregateResult,
    Choice,
    IndicatorFeed,
    Question,
    Response,
    Scale,
    ScaleLevel,
    Section,
    Survey,
)

scoped(Survey, "programme")
scoped(Question, "survey__programme")
scoped(Response, "survey__programme")
scoped(AggregateResult, "survey__programme")
scoped(IndicatorFeed, "indicator__programme")


class ScaleLevelInline(admin.TabularInline):
    model = ScaleLevel
    extra = 0


@admin.register(Scale)
class ScaleAdmin(ReferenceDataAdmin):
    list_display = ("code", "name_es", "name_en")
    inlines = [ScaleLevelInline]


class SectionInline(admin.TabularInline):
    model = Section
    extra = 0


class ChoiceInline(admin.TabularInline):
    model = Choice
    extra = 0


@admin.register(Survey)
class SurveyAdmin(ProgrammeScopedAdmin):
    list_display = ("programme", "code", "wave", "kind", "status", "title_es", "fielded_on")
    list_filter = ("programme", "kind", "status")
    inlines = [SectionInline]
    actions = ["copy_for_new_wave", "open_survey"]

    @admin.action(description=_("Copy for a new wave"))
    def copy_for_new_wave(self, request: HttpRequest, queryset: QuerySet[Survey]) -> None:
        for survey in queryset:
            copy = services.survey_copy_wave(survey=survey)
            self.message_user(
                request,
                _("%(code)s: wave %(wave)s created.") % {"code": copy.code, "wave": copy.wave},
                messages.SUCCESS,
            )

    @admin.action(description=_("Open for answers"))
    def open_survey(self, request: HttpRequest, queryset: QuerySet[Survey]) -> None:
        for survey in queryset:
            services.survey_open(survey=survey)


@admin.register(Question)
class QuestionAdmin(ProgrammeScopedAdmin):
    list_display = ("survey", "code", "order", "type", "text_es", "required", "show_if")
    list_filter = ("survey", "type")
    inlines = [ChoiceInline]


@admin.register(Response)
class ResponseAdmin(ProgrammeScopedAdmin):
    list_display = ("survey", "external_id", "source", "submitted_at", "city", "sex")
    list_filter = ("survey", "source")


@admin.register(AggregateResult)
class AggregateResultAdmin(ProgrammeScopedAdmin):
    list_display = ("survey", "question", "group", "answer", "respondents", "share")
    list_filter = ("survey",)


@admin.register(IndicatorFeed)
class IndicatorFeedAdmin(ProgrammeScopedAdmin):
    list_display = ("indicator", "question", "rule", "values")
