from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from monitoring.models import Programme

from .selectors.lookups import ProgrammeLookups
from .selectors.rollups import Filters


def _outcome_label(outcome: Any) -> str:
    title = outcome.title
    return f"{outcome.code} — {title[:50]}…" if len(title) > 50 else f"{outcome.code} — {title}"


class DashboardFilterForm(forms.Form):
    """City, agency, outcome and the period figures are shown as of, chosen by code in the
    URL (so a filtered view can be bookmarked and shared). Choices come from the page's
    lookups, so validating and rendering the form costs no query of its own."""

    city = forms.ChoiceField(required=False, label=_("City"))
    agency = forms.ChoiceField(required=False, label=_("Agency"))
    outcome = forms.ChoiceField(required=False, label=_("Outcome"))
    period = forms.ChoiceField(required=False, label=_("As of"))

    def __init__(
        self,
        programme: Programme,
        *args: Any,
        lookups: ProgrammeLookups | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.programme = programme
        lookups = lookups or ProgrammeLookups(programme)
        self.objects: dict[str, dict[str, Any]] = {
            "city": {c.code: c for c in lookups.cities},
            "agency": {a.code: a for a in lookups.agencies},
            "outcome": {o.code: o for o in lookups.outcomes},
            "period": {p.code: p for p in lookups.periods_with_figures()},
        }
        labels = {
            "city": (_("All cities"), lambda c: c.name),
            "agency": (_("All agencies"), lambda a: a.acronym),
            "outcome": (_("All outcomes"), _outcome_label),
            "period": (_("Latest"), lambda p: p.name),
        }
        for name, (empty, label) in labels.items():
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [("", empty)] + [
                (code, label(obj)) for code, obj in self.objects[name].items()
            ]

    def filters(self) -> Filters:
        """The valid filters; an invalid one is dropped (and reported by the form's errors)."""
        if not self.is_bound:
            return Filters()
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        chosen = {name: self.objects[name].get(data.get(name) or "") for name in self.objects}
        return Filters(**chosen)
