"""The admin for risks, committees, agreements and tools, scoped to the programmes the user
administers (monitoring.admin_scoping). Histories written by the services (risk reviews,
status updates, tool adoption) are read-only here: the pages record them with who and when."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from monitoring.admin_scoping import ProgrammeScopedAdmin, ReadOnlyScopedAdmin, ScopedInline, scoped

from .models import (
    Agreement,
    AgreementUpdate,
    Committee,
    Decision,
    Meeting,
    MeetingAction,
    MeetingParticipation,
    Risk,
    RiskReview,
    Tool,
    ToolAdoption,
)

scoped(Risk, "programme")
scoped(RiskReview, "risk__programme")
scoped(Committee, "programme")
scoped(Meeting, "committee__programme")
scoped(MeetingParticipation, "meeting__committee__programme")
scoped(Decision, "meeting__committee__programme")
scoped(MeetingAction, "meeting__committee__programme")
scoped(Agreement, "programme")
scoped(AgreementUpdate, "agreement__programme")
scoped(Tool, "programme")
scoped(ToolAdoption, "tool__programme")


class HistoryInline(ScopedInline):
    """A history the pages write (with who and when): shown, not edited here."""

    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RiskReviewInline(HistoryInline):
    model = RiskReview
    fields = (
        "reviewed_on",
        "likelihood",
        "impact",
        "rating_basis",
        "status",
        "reviewed_by",
        "note",
    )
    readonly_fields = fields


@admin.register(Risk)
class RiskAdmin(ProgrammeScopedAdmin):
    list_display = (
        "code",
        "title_en",
        "category",
        "likelihood",
        "impact",
        "rating_basis",
        "owner_agency",
        "status",
        "review_on",
        "shareable",
    )
    list_filter = ("programme", "category", "status", "owner_agency", "shareable")
    search_fields = ("code", "title_es", "title_en")
    filter_horizontal = ("cities", "outcomes")
    # The rating and status change on the risk's page, which keeps the review history.
    readonly_fields = ("likelihood", "impact", "rating_basis", "status")
    inlines = [RiskReviewInline]


@admin.register(RiskReview)
class RiskReviewAdmin(ReadOnlyScopedAdmin):
    list_display = ("risk", "reviewed_on", "likelihood", "impact", "status", "reviewed_by")
    list_filter = ("status",)


class ParticipationInline(ScopedInline):
    model = MeetingParticipation


class DecisionInline(ScopedInline):
    model = Decision


@admin.register(Committee)
class CommitteeAdmin(ProgrammeScopedAdmin):
    list_display = (
        "code",
        "name_en",
        "kind",
        "scope",
        "city",
        "country",
        "expected_meetings_per_year",
        "shareable",
    )
    list_filter = ("programme", "kind", "scope", "shareable")


@admin.register(Meeting)
class MeetingAdmin(ProgrammeScopedAdmin):
    list_display = ("committee", "held_on", "shareable", "recorded_by")
    list_filter = ("committee", "shareable")
    inlines = [ParticipationInline, DecisionInline]


@admin.register(MeetingAction)
class MeetingActionAdmin(ProgrammeScopedAdmin):
    list_display = ("meeting", "description_en", "owner_agency", "due_on", "status", "version")
    list_filter = ("status", "owner_agency")
    # Status changes go through the meeting page (version check, audit); read here.
    readonly_fields = ("status", "completed_on", "progress_note", "version", "updated_by")


class AgreementUpdateInline(HistoryInline):
    model = AgreementUpdate
    fields = ("observed_on", "status", "note_es", "note_en", "source", "recorded_by")
    readonly_fields = fields


@admin.register(Agreement)
class AgreementAdmin(ProgrammeScopedAdmin):
    list_display = ("code", "title_en", "city", "status", "signed_on", "valid_until", "shareable")
    list_filter = ("programme", "status", "city", "shareable")
    filter_horizontal = ("agencies",)
    # The status follows the latest update recorded on the follow-up page.
    readonly_fields = ("status",)
    inlines = [AgreementUpdateInline]


class ToolAdoptionInline(HistoryInline):
    model = ToolAdoption
    fields = ("observed_on", "status", "institution", "evidence_es", "evidence_en", "recorded_by")
    readonly_fields = fields


@admin.register(Tool)
class ToolAdmin(ProgrammeScopedAdmin):
    list_display = ("code", "title_en", "kind", "agency", "city", "produced_on", "shareable")
    list_filter = ("programme", "kind", "agency", "city", "shareable")
    inlines = [ToolAdoptionInline]
