"""Forms of the knowledge pages: the management response, an action (add and edit), an
action's status, and the filters of the lists. Forms parse and check what a form can check;
the rules of the records (a due date unless cancelled, an agency of the programme, a comment
for a rejection) are the models' and services', and their refusals come back onto the field
they name (``add_service_errors``)."""

from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from budgets.forms import DATE_FORMATS
from monitoring.models import Agency, FollowUpStatus, Programme

from .models import OWNER_ROLES, Lesson, ManagementResponse, Recommendation

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATE_ERRORS = {"invalid": gettext_lazy("Write the date as YYYY-MM-DD or DD/MM/YYYY.")}
STATUS_ERRORS = {
    "invalid_choice": gettext_lazy(
        "“%(value)s” is not a status: planned, in progress, done or cancelled."
    )
}


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's refusal on the form: on its field when the form has it."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


class ResponseForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Response"),
        choices=ManagementResponse.Decision.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Choose accepted, partially accepted or rejected."),
            "invalid_choice": gettext_lazy(
                "“%(value)s” is not a response: accepted, partially accepted or rejected."
            ),
        },
    )
    comment_es = forms.CharField(
        label=gettext_lazy("Comment (Spanish)"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    comment_en = forms.CharField(
        label=gettext_lazy("Comment (English)"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    version = forms.IntegerField(min_value=0, required=False, widget=forms.HiddenInput)


def response_initial(response: ManagementResponse | None) -> dict[str, Any]:
    if response is None:
        return {}
    return {
        "decision": response.decision,
        "comment_es": response.comment_es,
        "comment_en": response.comment_en,
        "version": response.version,
    }


def programme_people(programme: Programme) -> Any:
    """Who can be named as an action's owner: the programme's people but its donors."""
    return (
        User.objects.filter(
            is_active=True, memberships__programme=programme, memberships__role__in=OWNER_ROLES
        )
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


class PersonField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.username


class ActionForm(forms.Form):
    """A new action, or the description, owner and due date of one (with its version)."""

    description_es = forms.CharField(
        label=gettext_lazy("Action (Spanish)"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    description_en = forms.CharField(
        label=gettext_lazy("Action (English)"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    owner_agency = forms.ModelChoiceField(
        label=gettext_lazy("Responsible agency"),
        queryset=Agency.objects.all(),
        to_field_name="code",
        error_messages={
            "required": gettext_lazy("Choose the agency responsible for the action."),
            "invalid_choice": gettext_lazy("“%(value)s” is not an agency."),
        },
    )
    owner = PersonField(
        label=gettext_lazy("Responsible person"),
        queryset=User.objects.none(),
        required=False,
        empty_label="—",
        error_messages={
            "invalid_choice": gettext_lazy("This person does not work in the programme."),
        },
    )
    due_on = forms.DateField(
        label=gettext_lazy("Due date"),
        required=False,
        input_formats=DATE_FORMATS,
        widget=DATE_WIDGET,
        error_messages=DATE_ERRORS,
    )
    version = forms.IntegerField(min_value=0, required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        programme: Programme,
        allowed_agencies: set[int],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.programme_agencies = set(programme.agencies.values_list("pk", flat=True))
        self.allowed_agencies = allowed_agencies
        agency_field = self.fields["owner_agency"]
        assert isinstance(agency_field, forms.ModelChoiceField)
        agency_field.queryset = Agency.objects.order_by("code")
        agency_field.choices = [("", "—")] + [
            (a.code, f"{a.acronym} · {a.name}")
            for a in Agency.objects.filter(pk__in=allowed_agencies).order_by("code")
        ]
        owner_field = self.fields["owner"]
        assert isinstance(owner_field, forms.ModelChoiceField)
        owner_field.queryset = programme_people(programme)

    def clean_owner_agency(self) -> Agency:
        agency = self.cleaned_data["owner_agency"]
        if agency.pk not in self.programme_agencies:
            raise ValidationError(_("This agency does not take part in the programme."))
        if agency.pk not in self.allowed_agencies:
            raise ValidationError(_("You can name your own agency only."))
        return agency

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("description_es") or data.get("description_en")):
            self.add_error("description_es", _("Describe the action in Spanish or English."))
        return data

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        fields = ("description_es", "description_en", "owner_agency", "owner", "due_on")
        return {f: data[f] for f in fields}


class ActionStatusForm(forms.Form):
    """Mark an action in progress, done or cancelled, with a progress note."""

    status = forms.ChoiceField(
        label=gettext_lazy("Status"), choices=FollowUpStatus.choices, error_messages=STATUS_ERRORS
    )
    completed_on = forms.DateField(
        label=gettext_lazy("Completed on"),
        required=False,
        input_formats=DATE_FORMATS,
        widget=DATE_WIDGET,
        error_messages=DATE_ERRORS,
        help_text=gettext_lazy("For a done action; today when left empty."),
    )
    progress_note = forms.CharField(
        label=gettext_lazy("Progress note"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "status": data["status"],
            "completed_on": data["completed_on"] if data["status"] == FollowUpStatus.DONE else None,
            "progress_note": data["progress_note"],
        }


# ---- filters --------------------------------------------------------------------------------

RESPONSE_FILTER = [
    ("", gettext_lazy("any")),
    ("none", gettext_lazy("no response yet")),
    *ManagementResponse.Decision.choices,
]


def _agency_choices(programme: Programme) -> list[tuple[str, str]]:
    return [("", gettext_lazy("all"))] + [
        (a.code, a.acronym) for a in programme.agencies.order_by("code")
    ]


class RecommendationFilterForm(forms.Form):
    agency = forms.ChoiceField(label=gettext_lazy("Addressed to"), required=False)
    priority = forms.ChoiceField(
        label=gettext_lazy("Priority"),
        required=False,
        choices=[("", gettext_lazy("any")), *Recommendation.Priority.choices],
    )
    response = forms.ChoiceField(
        label=gettext_lazy("Response"), required=False, choices=RESPONSE_FILTER
    )

    def __init__(self, *args: Any, programme: Programme, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = _agency_choices(programme)  # type: ignore[attr-defined]


class ActionFilterForm(forms.Form):
    agency = forms.ChoiceField(label=gettext_lazy("Responsible agency"), required=False)
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("any")), *FollowUpStatus.choices],
        error_messages=STATUS_ERRORS,
    )
    overdue = forms.BooleanField(label=gettext_lazy("Overdue only"), required=False)

    def __init__(self, *args: Any, programme: Programme, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = _agency_choices(programme)  # type: ignore[attr-defined]


class LessonFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Search"), required=False, max_length=200)
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        required=False,
        choices=[("", gettext_lazy("all")), *Lesson.Kind.choices],
    )
    theme = forms.ChoiceField(label=gettext_lazy("Theme"), required=False)
    category = forms.ChoiceField(label=gettext_lazy("Category"), required=False)
    output = forms.ChoiceField(label=gettext_lazy("Output"), required=False)
    indicator = forms.ChoiceField(label=gettext_lazy("Indicator"), required=False)

    def __init__(self, *args: Any, options: dict[str, list[Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        every = ("", gettext_lazy("all"))
        choices = {
            "theme": [(t.code, t.name) for t in options["themes"]],
            "category": list(options["categories"]),
            "output": [(o.code, f"{o.code} {o.title}"[:90]) for o in options["outputs"]],
            "indicator": [(i.code, f"{i.code} {i.name}"[:90]) for i in options["indicators"]],
        }
        for name, listed in choices.items():
            self.fields[name].choices = [every, *listed]  # type: ignore[attr-defined]
