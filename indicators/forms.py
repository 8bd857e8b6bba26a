from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from monitoring.models import Programme

from .selectors.rollups import Filters, periods_with_figures


class OutcomeChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        title = obj.title
        return f"{obj.code} — {title[:50]}…" if len(title) > 50 else f"{obj.code} — {title}"


class DashboardFilterForm(forms.Form):
    """City, agency, outcome and the period figures are shown as of, chosen by code in the
    URL (so a filtered view can be bookmarked and shared)."""

    city = forms.ModelChoiceField(
        queryset=None,
        to_field_name="code",
        required=False,
        label=_("City"),
        empty_label=_("All cities"),
    )
    agency = forms.ModelChoiceField(
        queryset=None,
        to_field_name="code",
        required=False,
        label=_("Agency"),
        empty_label=_("All agencies"),
    )
    outcome = forms.ModelChoiceField(
        queryset=None,
        to_field_name="code",
        required=False,
        label=_("Outcome"),
        empty_label=_("All outcomes"),
    )
    period = forms.ChoiceField(required=False, label=_("As of"))

    def __init__(self, programme: Programme, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.programme = programme
        self.fields["city"].queryset = programme.cities.order_by("programmecity__id")
        self.fields["agency"].queryset = programme.agencies.order_by("code")
        self.fields["outcome"].queryset = programme.outcomes.order_by("order", "code")
        self.periods = {p.code: p for p in periods_with_figures(programme)}
        self.fields["period"].choices = [("", _("Latest"))] + [
            (c, p.name) for c, p in self.periods.items()
        ]

    def filters(self) -> Filters:
        """The valid filters; an invalid one is dropped (and reported by the form's errors)."""
        if not self.is_bound:
            return Filters()
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return Filters(
            city=data.get("city"),
            agency=data.get("agency"),
            outcome=data.get("outcome"),
            period=self.periods.get(data.get("period") or ""),
        )
