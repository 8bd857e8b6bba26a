"""The results framework in the admin, and the reports read-only. Drafts are their agency's
(DESIGN §3.3): a programme admin sees every report's status here, but the figures and words of
a report only when its workflow shows it to them (``can_view_report``: submitted, approved,
or of an agency they belong to); superusers see everything."""

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from monitoring.admin_scoping import (
    ProgrammeScopedAdmin,
    ReadOnlyScopedAdmin,
    ReferenceDataAdmin,
    ScopedInline,
    administered_programmes,
    scoped,
)

from . import services
from .api.reports import report_visibility
from .models import (
    Baseline,
    DisaggregationCategory,
    DisaggregationDimension,
    Indicator,
    IndicatorSupersession,
    IndicatorValue,
    ProgressReport,
    Target,
    TargetRevision,
    ValueComponent,
)
from .permissions import access_for, can_view_report

scoped(Indicator, "programme")
scoped(IndicatorSupersession, "successor__programme")
scoped(Baseline, "indicator__programme")
scoped(Target, "indicator__programme")
scoped(TargetRevision, "target__indicator__programme")
scoped(ProgressReport, "programme")
scoped(IndicatorValue, "report__programme")
scoped(ValueComponent, "value__report__programme")


def reports_shown_to(user: Any, prefix: str = "") -> Q:
    """The reports (with ``prefix``, the rows of reports) whose content this admin user may
    read: in each programme they administer, what ``can_view_report`` lets them see."""
    if user.is_superuser:
        return Q()
    where = Q(pk__in=[])
    for programme in administered_programmes(user):
        access = access_for(user, programme)
        where |= Q(**{f"{prefix}programme": programme}) & report_visibility(access, prefix)
    return where


def shows_report_content(user: Any, report: ProgressReport) -> bool:
    return bool(user.is_superuser) or can_view_report(access_for(user, report.programme), report)


class CategoryInline(admin.TabularInline):
    model = DisaggregationCategory
    extra = 0


@admin.register(DisaggregationDimension)
class DimensionAdmin(ReferenceDataAdmin):
    list_display = ("code", "name_es", "name_en", "order")
    inlines = [CategoryInline]


class BaselineInline(ScopedInline):
    model = Baseline


class PredecessorInline(ScopedInline):
    model = IndicatorSupersession
    fk_name = "successor"
    verbose_name = _("replaces (crosswalk)")
    verbose_name_plural = _("replaces (crosswalk)")


class TargetReadOnlyInline(admin.TabularInline):
    """Targets are listed here; they are changed on their own page, where a revision asks for
    its reason."""

    model = Target
    extra = 0
    fields = ("city", "agency", "period", "category", "original_value", "value")
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Indicator)
class IndicatorAdmin(ProgrammeScopedAdmin):
    list_display = ("code", "statement", "level", "measure", "version", "is_active", "programme")
    list_filter = ("programme", "level", "measure", "is_active", "version", "cities")
    search_fields = ("code", "name_es", "name_en")
    filter_horizontal = ("dimensions", "responsible_agencies", "cities")

    @admin.display(description=_("statement"), ordering="name_es")
    def statement(self, obj: Indicator) -> str:
        return Truncator(obj.name).chars(90)

    inlines = [BaselineInline, TargetReadOnlyInline, PredecessorInline]
    fieldsets = (
        (None, {"fields": ("programme", "code", ("level", "outcome", "output"), "order")}),
        (
            _("Statement"),
            {
                "fields": (
                    ("name_es", "name_en"),
                    ("definition_es", "definition_en"),
                    ("unit_es", "unit_en"),
                )
            },
        ),
        (
            _("How it adds up"),
            {
                "fields": (
                    ("measure", "direction", "target_kind"),
                    ("time_rule", "place_rule", "agency_rule"),
                    "dimensions",
                )
            },
        ),
        (_("Scope"), {"fields": ("cities", "responsible_agencies")}),
        (
            _("Verification"),
            {"fields": (("means_of_verification_es", "means_of_verification_en"),)},
        ),
        (
            _("Version"),
            {"fields": (("version", "is_active"), ("version_label_es", "version_label_en"))},
        ),
        (_("Notes and source"), {"fields": (("notes_es", "notes_en"), "source")}),
    )


class TargetForm(forms.ModelForm):
    revision_reason = forms.CharField(
        label=_("Reason for the revision"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when you change the value of an existing target."),
    )

    class Meta:
        model = Target
        fields = ("indicator", "city", "agency", "period", "category", "value", "source")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            self.instance.pk
            and "value" in self.changed_data
            and not (data.get("revision_reason") or "").strip()
        ):
            self.add_error("revision_reason", _("Say why the target changes."))
        return data


class RevisionInline(admin.TabularInline):
    model = TargetRevision
    extra = 0
    fields = ("revised_at", "revised_by", "old_value", "new_value", "reason")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Target)
class TargetAdmin(ProgrammeScopedAdmin):
    form = TargetForm
    list_display = ("indicator", "city", "agency", "period", "category", "original_value", "value")
    list_filter = ("indicator__programme", "city", "agency", "period")
    search_fields = ("indicator__code",)
    readonly_fields = ("original_value",)
    inlines = [RevisionInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The scope of an existing target is its identity; revise the value, not the scope.
        if obj is not None:
            return ("indicator", "city", "agency", "period", "category", "original_value")
        return ("original_value",)

    def save_model(self, request: HttpRequest, obj: Target, form: Any, change: bool) -> None:
        if not self._may_touch(request, obj):
            raise PermissionDenied
        if not change:
            created = services.target_create(
                indicator=obj.indicator,
                value=obj.value,
                city=obj.city,
                agency=obj.agency,
                period=obj.period,
                category=obj.category,
                source=obj.source,
                actor=request.user,  # type: ignore[arg-type]
            )
            obj.pk, obj.original_value = created.pk, created.original_value
            return
        if "value" in form.changed_data:
            services.target_revise(
                target=obj,
                new_value=obj.value,
                reason=form.cleaned_data["revision_reason"],
                actor=request.user,  # type: ignore[arg-type]
            )
        if "source" in form.changed_data:
            Target.objects.filter(pk=obj.pk).update(source=obj.source)


class ComponentInline(admin.TabularInline):
    model = ValueComponent
    extra = 0
    fields = ("label_es", "amount", "unit_es", "city")
    readonly_fields = fields


@admin.register(IndicatorValue)
class IndicatorValueAdmin(ReadOnlyScopedAdmin):
    """Only the values of reports the user may read (a draft's figures are its agency's)."""

    list_display = (
        "indicator",
        "report",
        "category",
        "value",
        "numerator",
        "denominator",
        "provenance",
    )
    list_filter = ("report__programme", "report__period", "report__city", "provenance")
    search_fields = ("indicator__code",)
    inlines = [ComponentInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).filter(reports_shown_to(request.user, "report__"))


class ValueInline(admin.TabularInline):
    model = IndicatorValue
    extra = 0
    fields = ("indicator", "category", "value", "numerator", "denominator", "provenance")
    readonly_fields = fields
    show_change_link = True


@admin.register(ProgressReport)
class ProgressReportAdmin(ReadOnlyScopedAdmin):
    """Every report of the admin's programmes with its status; the narrative, the return
    reason and the values only of the reports the user may read."""

    list_display = ("__str__", "period", "agency", "city", "status", "is_historical", "as_of")
    list_filter = ("programme", "period", "agency", "city", "status", "is_historical")
    inlines = [ValueInline]
    content_fields = ("narrative_es", "narrative_en", "return_reason", "source")

    def _shows_content(self, request: HttpRequest, obj: ProgressReport | None) -> bool:
        return obj is None or shows_report_content(request.user, obj)

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        if self._shows_content(request, obj):
            return super().get_exclude(request, obj)
        return self.content_fields

    def get_inlines(self, request: HttpRequest, obj: Any) -> Any:
        return super().get_inlines(request, obj) if self._shows_content(request, obj) else []


@admin.register(IndicatorSupersession)
class CrosswalkAdmin(ProgrammeScopedAdmin):
    list_display = ("predecessor", "successor", "change", "note_en")
    list_filter = ("successor__programme", "change")
