"""Forms of the budget entry pages: an expenditure (the same form validates each row of an
upload, so both obey exactly the same rules), a revision proposal and the upload. Amounts are
read with a decimal point or a decimal comma whatever the interface language, because
spreadsheets from both languages end up here."""

import datetime as dt
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from monitoring.models import ReportingPeriod

from .models import Expenditure

# ISO first (what the date picker sends); then day first, as Chile and Mexico write dates.
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"]
MONEY_DIGITS = 14  # before the point, as the models store money
_NUMBER = re.compile(r"^-?[0-9][0-9.,]*$")
_SPACES = re.compile(r"[\s\u00a0\u202f']")  # grouping by spaces or apostrophes


def _split(digits: str) -> tuple[str, str] | None:
    """(whole part, decimals) of an unsigned number. With both marks, the last is the
    decimal mark; with one mark that appears once, it is the decimal mark unless exactly
    three digits follow a short whole part ("1,500" and "1.500" are fifteen hundred:
    money never has three decimals)."""
    marks = {c for c in digits if c in ".,"}
    if len(marks) == 2:
        point = max(digits.rfind("."), digits.rfind(","))
        if digits.count(digits[point]) > 1:
            return None
        return digits[:point], digits[point + 1 :]
    if len(marks) == 1:
        mark = marks.pop()
        whole, _sep, after = digits.rpartition(mark)
        grouping = len(after) == 3 and 1 <= len(whole) <= 3 and not whole.startswith("0")
        if digits.count(mark) > 1 or grouping:
            return digits, ""
        return whole, after
    return digits, ""


def parse_amount(text: str) -> Decimal | None:
    """An amount typed with a decimal point or comma and optional grouping: "1234.5",
    "1234,5", "1,234.50", "1.234,50", "1 234,5". None when it is no such number."""
    compact = _SPACES.sub("", text)
    if not _NUMBER.match(compact):
        return None
    negative = compact.startswith("-")
    parts = _split(compact.lstrip("-"))
    if parts is None or (parts[1] == "" and compact[-1] in ".,"):
        return None
    whole, decimals = parts
    groups = re.split(r"[.,]", whole)
    if len(groups) > 1 and (not 1 <= len(groups[0]) <= 3 or any(len(g) != 3 for g in groups[1:])):
        return None  # "12.34.5" is no grouping anybody writes
    number = Decimal("".join(groups) + (f".{decimals}" if decimals else ""))
    return -number if negative else number


class AmountField(forms.CharField):
    """Money: not negative, at most two decimals."""

    default_error_messages = {
        "invalid": gettext_lazy("“%(value)s” is not an amount (write it like 1234.56 or 1234,56)."),
    }

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        if isinstance(value, Decimal):  # a spreadsheet's number cell: nothing to guess
            return value
        text = super().to_python(value)
        if not text:
            return None
        amount = parse_amount(text)
        if amount is None:
            raise ValidationError(
                self.error_messages["invalid"], code="invalid", params={"value": text}
            )
        return amount

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is None:
            return
        if value < 0:
            raise ValidationError(_("An amount cannot be negative."), code="negative")
        if value >= Decimal(10) ** MONEY_DIGITS:
            raise ValidationError(_("This amount is too large."), code="large")
        if value != value.quantize(Decimal("0.01")):
            raise ValidationError(_("An amount has at most two decimals."), code="decimals")


class ExpenditureForm(forms.Form):
    period = forms.ChoiceField(
        label=gettext_lazy("Quarter"),
        error_messages={
            "invalid_choice": gettext_lazy(
                "“%(value)s” is not a quarter of this programme (write it like 2021-Q1)."
            )
        },
    )
    amount = AmountField(label=gettext_lazy("Amount spent"))
    kind = forms.ChoiceField(
        choices=Expenditure.Kind.choices,
        initial=Expenditure.Kind.INTERIM,
        label=gettext_lazy("Kind"),
        error_messages={
            "invalid_choice": gettext_lazy("“%(value)s” is not a kind: interim or certified.")
        },
    )
    as_of = forms.DateField(
        label=gettext_lazy("As of"),
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy("Write the date as YYYY-MM-DD or DD/MM/YYYY.")},
    )
    cumulative = forms.BooleanField(
        label=gettext_lazy("Cumulative (everything spent from the start up to this date)"),
        required=False,
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    version = forms.IntegerField(min_value=0, required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, periods: Iterable[ReportingPeriod], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # By code, from a list read once: an upload checks hundreds of rows with this form.
        self.periods = {p.code: p for p in periods}
        period_field = self.fields["period"]
        assert isinstance(period_field, forms.ChoiceField)
        period_field.choices = [("", "—"), *((p.code, p.name) for p in self.periods.values())]

    def clean_period(self) -> ReportingPeriod:
        return self.periods[self.cleaned_data["period"]]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        period, as_of = data.get("period"), data.get("as_of")
        if as_of is not None and as_of > timezone.localdate():
            self.add_error("as_of", _("The 'as of' date cannot be in the future."))
        elif period is not None and as_of is not None and as_of < period.start_date:
            self.add_error(
                "as_of",
                _("The 'as of' date is before the quarter starts (%(start)s).")
                % {"start": period.start_date.isoformat()},
            )
        return data

    def service_arguments(self) -> dict[str, Any]:
        """What ``expenditure_save`` takes from the form."""
        data = self.cleaned_data
        return {
            "period": data["period"],
            "amount": data["amount"],
            "as_of": data["as_of"],
            "kind": data["kind"],
            "cumulative": data["cumulative"],
            "note": data["note"],
        }


def expenditure_initial(expenditure: Expenditure | None, period: ReportingPeriod | None) -> dict:
    """The form's starting values: the draft being changed, or a new one for a period."""
    if expenditure is None:
        return {
            "period": period.code if period else "",
            "version": 0,
            "kind": Expenditure.Kind.INTERIM,
        }
    return {
        "period": expenditure.period.code,
        "amount": f"{expenditure.amount:f}",
        "kind": expenditure.kind,
        "as_of": expenditure.as_of,
        "cumulative": expenditure.cumulative,
        "note": expenditure.note,
        "version": expenditure.version,
    }


class RevisionForm(forms.Form):
    new_amount = AmountField(label=gettext_lazy("New amount"))
    reason = forms.CharField(
        label=gettext_lazy("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File (CSV or XLSX)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )


def as_of_text(value: Any) -> str:
    """A spreadsheet's date cell as the form reads it."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value).strip()
