from typing import Any

from django.contrib import admin
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Cast
from django.http import HttpRequest
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .admin_scoping import (
    ProgrammeScopedAdmin,
    ReadOnlyScopedAdmin,
    ReferenceDataAdmin,
    ScopedInline,
    administered_programmes,
    is_programme_admin,
    scoped,
)
from .models import (
    Activity,
    Agency,
    AuditEvent,
    City,
    Country,
    Membership,
    Outcome,
    Output,
    Programme,
    ProgrammeAgency,
    ProgrammeCity,
    ReportingPeriod,
)

for model in (Outcome, Output, Activity, ReportingPeriod, Membership, AuditEvent):
    scoped(model, "programme")
scoped(ProgrammeAgency, "programme")
scoped(ProgrammeCity, "programme")

admin.site.site_header = _("Conjunto administration")
admin.site.site_title = _("Conjunto")
admin.site.index_title = _("Programmes, results framework and access")


@admin.register(Country)
class CountryAdmin(ReferenceDataAdmin):
    list_display = ("code", "name_es", "name_en")
    search_fields = ("code", "name_es", "name_en")


@admin.register(City)
class CityAdmin(ReferenceDataAdmin):
    list_display = ("code", "name_es", "name_en", "country")
    list_filter = ("country",)
    search_fields = ("code", "name_es", "name_en")


@admin.register(Agency)
class AgencyAdmin(ReferenceDataAdmin):
    list_display = ("code", "acronym_es", "acronym_en", "name_en")
    search_fields = ("code", "acronym_es", "acronym_en", "name_es", "name_en")


class ProgrammeAgencyInline(ScopedInline):
    model = ProgrammeAgency


class ProgrammeCityInline(ScopedInline):
    model = ProgrammeCity


@admin.register(Programme)
class ProgrammeAdmin(ProgrammeScopedAdmin):
    list_display = ("code", "short_name_es", "start_date", "end_date", "currency", "budget_total")
    search_fields = ("code", "name_es", "name_en", "short_name_es", "short_name_en")
    inlines = [ProgrammeAgencyInline, ProgrammeCityInline]
    fieldsets = (
        (None, {"fields": ("code", ("short_name_es", "short_name_en"), ("name_es", "name_en"))}),
        (
            _("Objective and fund"),
            {"fields": (("objective_es", "objective_en"), ("fund_es", "fund_en"))},
        ),
        (
            _("Dates and money"),
            {"fields": (("start_date", "end_date"), ("currency", "budget_total"))},
        ),
        (
            _("Status rules"),
            {"fields": (("on_track_threshold", "at_risk_threshold"), "grace_days")},
        ),
        (_("Source"), {"fields": ("source",), "classes": ("collapse",)}),
    )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)  # type: ignore[union-attr]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)  # type: ignore[union-attr]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The code is what the API, exports and loaders use to find the programme.
        return ("code",) if obj is not None and not request.user.is_superuser else ()  # type: ignore[union-attr]


def _unread_deliverables(user: Any) -> set[str]:
    """How the delete page names the deliverables of reports the user may not read (a draft's
    are its agency's: DESIGN §3.3)."""
    from indicators.admin import reports_shown_to
    from indicators.models import Deliverable

    programmes = administered_programmes(user)
    hidden = (
        Deliverable.objects.filter(programme__in=programmes, report__isnull=False)
        .exclude(reports_shown_to(user, "report__"))
        .select_related("activity")
    )
    kind = capfirst(Deliverable._meta.verbose_name)
    return {f"{kind}: {deliverable}" for deliverable in hidden}


def _masked(items: list[Any], hidden: set[str], label: str) -> list[Any]:
    """The delete page's nested list, with each hidden entry replaced by ``label``."""
    out: list[Any] = []
    for item in items:
        if isinstance(item, list):
            out.append(_masked(item, hidden, label))
        else:
            out.append(label if item in hidden else item)
    return out


class CascadeAdmin(ProgrammeScopedAdmin):
    """An outcome, output or activity takes its deliverables along when deleted; the page that
    asks for confirmation lists them, but not the titles of those in reports the user may not
    read."""

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        to_delete, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        if not request.user.is_superuser:  # type: ignore[union-attr]
            label = gettext("Deliverable of a report you may not read")
            to_delete = _masked(to_delete, _unread_deliverables(request.user), label)
        return to_delete, counts, perms_needed, protected


@admin.register(Outcome)
class OutcomeAdmin(CascadeAdmin):
    list_display = ("code", "programme", "title_es")
    list_filter = ("programme",)
    search_fields = ("code", "title_es", "title_en")
    ordering = ("programme", "order", "code")


@admin.register(Output)
class OutputAdmin(CascadeAdmin):
    list_display = ("code", "programme", "outcome", "title_es")
    list_filter = ("programme", "outcome", "cities")
    search_fields = ("code", "title_es", "title_en")
    filter_horizontal = ("cities",)
    ordering = ("programme", "order", "code")


@admin.register(Activity)
class ActivityAdmin(CascadeAdmin):
    list_display = ("code", "country", "output", "lead_agency", "city", "status")
    list_filter = ("programme", "output", "country", "lead_agency", "status")
    search_fields = ("code", "description_es", "description_en")
    filter_horizontal = ("participating_agencies",)
    ordering = ("programme", "output__order", "country__code", "order")


@admin.register(ReportingPeriod)
class ReportingPeriodAdmin(ProgrammeScopedAdmin):
    list_display = ("code", "programme", "kind", "start_date", "end_date", "due_date", "status")
    list_filter = ("programme", "kind", "status")
    search_fields = ("code", "name_es", "name_en")


@admin.register(Membership)
class MembershipAdmin(ProgrammeScopedAdmin):
    list_display = ("user", "programme", "role", "agency", "city")
    list_filter = ("programme", "role", "agency", "city")
    search_fields = ("user__username", "user__first_name", "user__last_name", "user__email")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "user" and field is not None:
            field.queryset = users_visible_to(request.user)
        return field


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyScopedAdmin):
    list_display = ("at", "actor", "action", "object_repr", "reason")
    list_filter = ("programme", "action")
    search_fields = ("object_repr", "reason", "actor__username")
    date_hierarchy = "at"


# --- people -------------------------------------------------------------------------------

User = get_user_model()


def _created_by(user: Any) -> Exists:
    """Accounts this user added through the admin (its log is the only record of who created
    an account)."""
    return Exists(
        LogEntry.objects.filter(
            user=user,
            action_flag=ADDITION,
            content_type=ContentType.objects.get_for_model(User),
            object_id=Cast(OuterRef("pk"), CharField()),
        )
    )


def users_visible_to(user: Any) -> QuerySet:
    """A programme admin sees the members of their programmes and the accounts they added
    themselves that have no membership yet (so they can give them one); never superusers,
    other programmes' people, nor anybody else's account without a membership (another
    programme's new person, a donor removed from a programme)."""
    qs = User.objects.all()
    if user.is_superuser:
        return qs
    programmes = administered_programmes(user)
    members = qs.filter(memberships__programme__in=programmes).values("pk")
    added_by_them = qs.filter(memberships__isnull=True).filter(_created_by(user)).values("pk")
    return qs.filter(is_superuser=False).filter(Q(pk__in=members) | Q(pk__in=added_by_them))


def user_is_manageable_by(target: Any, user: Any) -> bool:
    """A programme admin may edit an account only when every membership it has lies in a
    programme they administer (otherwise they could reset another programme's passwords), or,
    when it has none, when they added it themselves."""
    if user.is_superuser:
        return True
    if target.is_superuser or (target.is_staff and target.pk != user.pk):
        return False
    theirs = set(target.memberships.values_list("programme_id", flat=True))
    if not theirs:
        return User.objects.filter(pk=target.pk).filter(_created_by(user)).exists()
    programmes = set(administered_programmes(user).values_list("pk", flat=True))
    return theirs <= programmes


class MembershipInline(ScopedInline):
    model = Membership
    fields = ("programme", "role", "agency", "city")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = super().get_queryset(request)
        if request.user.is_superuser:  # type: ignore[union-attr]
            return qs
        return qs.filter(programme__in=administered_programmes(request.user))


admin.site.unregister(User)


@admin.register(User)
class PeopleAdmin(UserAdmin):
    inlines = [MembershipInline]
    limited_fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Status"), {"fields": ("is_active", "last_login", "date_joined")}),
    )

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None or request.user.is_superuser:  # type: ignore[union-attr]
            return super().get_fieldsets(request, obj)
        return self.limited_fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if request.user.is_superuser:  # type: ignore[union-attr]
            return ()
        return ("last_login", "date_joined")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return users_visible_to(request.user)

    def get_inlines(self, request: HttpRequest, obj: Any) -> Any:
        return self.inlines if obj is not None else []

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_programme_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_programme_admin(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_programme_admin(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not is_programme_admin(request.user):
            return False
        return obj is None or user_is_manageable_by(obj, request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)  # type: ignore[union-attr]
