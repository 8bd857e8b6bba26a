"""Forms of the risk and governance pages. Each says what is wrong on the field concerned
(a likelihood of 7, a meeting dated in the future, an institution listed twice); rules that
need the database are the services' and come back on the same fields."""

import re
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from budgets.forms import DATE_FORMATS
from monitoring.models import Agency, City, FollowUpStatus, Outcome, ReportingPeriod

from .models import (
    AgreementStatus,
    Decision,
    RatingBasis,
    RiskCategory,
    RiskStatus,
    ToolAdoption,
)

RATING_CHOICES = [("", gettext_lazy("not rated")), *[(n, str(n)) for n in range(1, 6)]]
_PARTICIPANT = re.compile(r"^(?P<institution>.+?)(?:\s*[:=]\s*(?P<people>\S+))?$")


def date_field(label: Any, *, required: bool = True, **kwargs: Any) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        **kwargs,
    )


def rating_field(label: Any) -> forms.IntegerField:
    message = gettext_lazy("Rate from 1 (lowest) to 5 (highest), or leave it not rated.")
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=1,
        max_value=5,
        widget=forms.Select(choices=RATING_CHOICES),
        error_messages={"min_value": message, "max_value": message, "invalid": message},
    )


def text(label: Any, *, required: bool = False, rows: int = 3) -> forms.CharField:
    return forms.CharField(
        label=label, required=required, widget=forms.Textarea(attrs={"rows": rows})
    )


class VersionedForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class RatedForm(VersionedForm):
    """A likelihood and an impact, both rated or both not."""

    likelihood = rating_field(gettext_lazy("Likelihood"))
    impact = rating_field(gettext_lazy("Impact"))
    rating_basis = forms.ChoiceField(
        label=gettext_lazy("Rating basis"),
        choices=RatingBasis.choices,
        initial=RatingBasis.INFERRED,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if ("likelihood" in data and "impact" in data) and (
            (data["likelihood"] is None) != (data["impact"] is None)
        ):
            missing = "impact" if data["impact"] is None else "likelihood"
            self.add_error(missing, _("Rate both likelihood and impact, or neither (not rated)."))
        return data


class RiskFilterForm(forms.Form):
    """The register's filters (GET); an unknown code is refused on its field."""

    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False)
    category = forms.ChoiceField(label=gettext_lazy("Category"), required=False)
    city = forms.ChoiceField(label=gettext_lazy("City"), required=False)
    outcome = forms.ChoiceField(label=gettext_lazy("Outcome"), required=False)
    owner = forms.ChoiceField(label=gettext_lazy("Owner"), required=False)

    def __init__(
        self,
        *args: Any,
        cities: list[City],
        outcomes: list[Outcome],
        agencies: list[Agency],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        every = [("", _("all"))]
        fields = self.fields
        fields["status"].choices = every + list(RiskStatus.choices)  # type: ignore[attr-defined]
        fields["category"].choices = every + list(RiskCategory.choices)  # type: ignore[attr-defined]
        fields["city"].choices = every + [(c.code, c.name) for c in cities]  # type: ignore[attr-defined]
        fields["outcome"].choices = every + [(o.code, o.code) for o in outcomes]  # type: ignore[attr-defined]
        fields["owner"].choices = (  # type: ignore[attr-defined]
            every + [(a.code, a.acronym) for a in agencies] + [("none", _("the programme (RCO)"))]
        )


class RiskForm(RatedForm):
    """Enter or change a risk. ``owner_agencies``: the agencies this person may make owner
    (their own; every agency of the programme for the RCO and admins, who may leave it empty
    for a risk of the whole programme)."""

    code = forms.CharField(label=gettext_lazy("Code"), max_length=16)
    title_es = forms.CharField(label=gettext_lazy("Risk (Spanish)"), max_length=300)
    title_en = forms.CharField(label=gettext_lazy("Risk (English)"), max_length=300)
    description_es = text(gettext_lazy("Description (Spanish)"))
    description_en = text(gettext_lazy("Description (English)"))
    category = forms.ChoiceField(label=gettext_lazy("Category"), choices=RiskCategory.choices)
    cities = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Cities"),
        queryset=City.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    outcomes = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Outcomes"),
        queryset=Outcome.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    impact_described_es = text(gettext_lazy("Impact as described (Spanish)"))
    impact_described_en = text(gettext_lazy("Impact as described (English)"))
    mitigation_es = text(gettext_lazy("Mitigation (Spanish)"))
    mitigation_en = text(gettext_lazy("Mitigation (English)"))
    owner_agency = forms.ModelChoiceField(
        label=gettext_lazy("Owner agency"), queryset=Agency.objects.none(), required=False
    )
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=RiskStatus.choices)
    review_on = date_field(gettext_lazy("Next review"), required=False)
    first_reported = forms.ModelChoiceField(
        label=gettext_lazy("First reported in"),
        queryset=ReportingPeriod.objects.none(),
        required=False,
    )
    source = text(gettext_lazy("Source"), rows=2)
    shareable = forms.BooleanField(label=gettext_lazy("Shareable with donors"), required=False)
    note = text(gettext_lazy("Why the rating or status changed (kept in the history)"), rows=2)

    MODEL_FIELDS = (
        "code",
        "title_es",
        "title_en",
        "description_es",
        "description_en",
        "category",
        "likelihood",
        "impact",
        "rating_basis",
        "impact_described_es",
        "impact_described_en",
        "mitigation_es",
        "mitigation_en",
        "owner_agency",
        "status",
        "review_on",
        "first_reported",
        "source",
        "shareable",
    )

    def __init__(
        self,
        *args: Any,
        programme: Any,
        owner_agencies: QuerySet[Agency],
        owner_required: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cities"].queryset = programme.cities.order_by("code")  # type: ignore[attr-defined]
        self.fields["outcomes"].queryset = programme.outcomes.order_by("order", "code")  # type: ignore[attr-defined]
        self.fields["owner_agency"].queryset = owner_agencies  # type: ignore[attr-defined]
        self.fields["owner_agency"].required = owner_required
        self.fields["first_reported"].queryset = programme.periods.order_by("start_date", "code")  # type: ignore[attr-defined]

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.MODEL_FIELDS}


class RiskReviewForm(RatedForm):
    reviewed_on = date_field(gettext_lazy("Reviewed on"))
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=RiskStatus.choices)
    review_on = date_field(gettext_lazy("Next review"), required=False)
    note = text(gettext_lazy("Note"), rows=2)


def parse_participants(raw: str) -> list[tuple[str, int | None]]:
    """One institution a line, optionally with the number of people after a colon:
    "SIBISO: 3". Raises a ValidationError naming the line that is not understood."""
    rows: list[tuple[str, int | None]] = []
    for number, line in enumerate(raw.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        match = _PARTICIPANT.match(line)
        people = match.group("people") if match else None
        if match is None or (people is not None and not people.isdigit()):
            raise ValidationError(
                _("Line %(n)s: write the institution, then optionally “: number of people”.")
                % {"n": number}
            )
        institution = match.group("institution").strip()
        if len(institution) > 200:
            raise ValidationError(
                _("Line %(n)s: the institution's name is too long.") % {"n": number}
            )
        rows.append((institution, int(people) if people is not None else None))
    return rows


class MeetingForm(forms.Form):
    held_on = date_field(gettext_lazy("Held on"))
    summary_es = text(gettext_lazy("Summary (Spanish)"))
    summary_en = text(gettext_lazy("Summary (English)"))
    participants = forms.CharField(
        label=gettext_lazy("Participating institutions"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("One institution a line; add “: 3” for the number of people."),
    )
    minutes_url = forms.URLField(label=gettext_lazy("Minutes (link)"), required=False)
    shareable = forms.BooleanField(label=gettext_lazy("Shareable with donors"), required=False)

    def clean_participants(self) -> list[tuple[str, int | None]]:
        return parse_participants(self.cleaned_data["participants"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("summary_es", "").strip() and not data.get("summary_en", "").strip():
            self.add_error("summary_es", _("Summarise the meeting in Spanish or English."))
        return data


class DecisionForm(forms.Form):
    text_es = text(gettext_lazy("Decision (Spanish)"))
    text_en = text(gettext_lazy("Decision (English)"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("text_es", "").strip() and not data.get("text_en", "").strip():
            self.add_error("text_es", _("Write the decision in Spanish or English."))
        return data


class MeetingActionForm(forms.Form):
    description_es = text(gettext_lazy("Action (Spanish)"), rows=2)
    description_en = text(gettext_lazy("Action (English)"), rows=2)
    decision = forms.ModelChoiceField(
        label=gettext_lazy("Follows the decision"), queryset=Decision.objects.none(), required=False
    )
    owner_agency = forms.ModelChoiceField(
        label=gettext_lazy("Responsible agency"), queryset=Agency.objects.none(), required=False
    )
    owner = forms.ModelChoiceField(
        label=gettext_lazy("Responsible person"), queryset=User.objects.none(), required=False
    )
    due_on = date_field(gettext_lazy("Due date"))

    def __init__(
        self,
        *args: Any,
        decisions: QuerySet,
        agencies: QuerySet[Agency],
        people: QuerySet[User],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["decision"].queryset = decisions  # type: ignore[attr-defined]
        self.fields["owner_agency"].queryset = agencies  # type: ignore[attr-defined]
        self.fields["owner"].queryset = people  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            not data.get("description_es", "").strip()
            and not data.get("description_en", "").strip()
        ):
            self.add_error("description_es", _("Describe the action in Spanish or English."))
        return data


class ActionUpdateForm(VersionedForm):
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=FollowUpStatus.choices)
    due_on = date_field(gettext_lazy("Due date"))
    completed_on = date_field(gettext_lazy("Completed on"), required=False)
    progress_note = text(gettext_lazy("Progress note"), rows=2)

    def changes(self) -> dict[str, Any]:
        return {
            name: self.cleaned_data[name]
            for name in ("status", "due_on", "completed_on", "progress_note")
        }


class AgreementStatusForm(forms.Form):
    observed_on = date_field(gettext_lazy("Observed on"), initial=timezone.localdate)
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=AgreementStatus.choices)
    note_es = text(gettext_lazy("Evidence / note (Spanish)"), rows=2)
    note_en = text(gettext_lazy("Evidence / note (English)"), rows=2)


class ToolAdoptionForm(forms.Form):
    observed_on = date_field(gettext_lazy("Observed on"), initial=timezone.localdate)
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=ToolAdoption.Status.choices)
    institution = forms.CharField(label=gettext_lazy("Institution"), max_length=200, required=False)
    evidence_es = text(gettext_lazy("Evidence / note (Spanish)"), rows=2)
    evidence_en = text(gettext_lazy("Evidence / note (English)"), rows=2)
