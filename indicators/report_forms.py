"""The quarterly report form: one block per indicator in scope (the total, each
disaggregation cell, numerator and denominator for percentages, yes/no for milestones, a
comment and evidence), built from the indicators, validated field by field with messages
that name the indicator and the cell, and turned into the services' entries."""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from monitoring.models import Activity

from .models import (
    ActivityProgress,
    Deliverable,
    DisaggregationCategory,
    Indicator,
    IndicatorValue,
)
from .services import ActivityEntry, Entry
from .services.reports import cell_label

Measure = Indicator.Measure

# Evidence people attach: documents, spreadsheets, images. Never HTML or anything a
# browser would run; files are served only as downloads.
EVIDENCE_TYPES = {
    ".pdf": (b"%PDF",),
    ".png": (b"\x89PNG",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".docx": (b"PK\x03\x04",),
    ".xlsx": (b"PK\x03\x04",),
    ".pptx": (b"PK\x03\x04",),
    ".odt": (b"PK\x03\x04",),
    ".ods": (b"PK\x03\x04",),
    ".csv": (),
    ".txt": (),
}


def check_evidence_file(upload: UploadedFile, label: str) -> None:
    """Refuse what is too large, of a type we do not take, or not what its name says."""
    name = (upload.name or "").lower()
    suffix = name[name.rfind(".") :] if "." in name else ""
    limit = settings.EVIDENCE_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            _("%(label)s: the file is %(size)s; the limit is %(limit)s.")
            % {"label": label, "size": filesizeformat(upload.size), "limit": filesizeformat(limit)}
        )
    if suffix not in EVIDENCE_TYPES:
        raise ValidationError(
            _("%(label)s: files of type '%(type)s' are not accepted (accepted: %(types)s).")
            % {"label": label, "type": suffix or "?", "types": ", ".join(EVIDENCE_TYPES)}
        )
    head = upload.read(512)
    upload.seek(0)
    signatures = EVIDENCE_TYPES[suffix]
    text_like = not signatures
    # Text must not open like markup, not even behind a byte-order mark and blanks.
    opening = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if (signatures and not head.startswith(signatures)) or (
        text_like and (b"\x00" in head or opening.startswith(b"<"))
    ):
        raise ValidationError(
            _("%(label)s: the file's content is not a %(type)s file.")
            % {"label": label, "type": suffix}
        )


@dataclass
class Cell:
    """One field of the form: an indicator's total or one of its disaggregation cells."""

    indicator: Indicator
    category: DisaggregationCategory | None
    name: str

    @property
    def label(self) -> str:
        return cell_label(self.indicator, self.category)


@dataclass
class Block:
    """What is asked for one indicator."""

    indicator: Indicator
    total: Cell
    cells: list[tuple[Any, list[Cell]]] = field(default_factory=list)  # (dimension, cells)

    @property
    def prefix(self) -> str:
        return f"i{self.indicator.pk}"


def _figure_field(indicator: Indicator, label: str, *, required: bool = False) -> forms.Field:
    if indicator.measure == Measure.YES_NO:
        return forms.TypedChoiceField(
            label=label,
            required=required,
            choices=[("", "—"), ("1", gettext_lazy("yes")), ("0", gettext_lazy("no"))],
            coerce=Decimal,
            empty_value=None,
        )
    return forms.DecimalField(
        label=label,
        required=required,
        localize=True,
        max_digits=18,
        decimal_places=4,
        min_value=Decimal(0),
        max_value=Decimal(100) if indicator.measure == Measure.PERCENT else None,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )


class ReportForm(forms.Form):
    """Built from the indicators in scope; ``initial`` from the report's saved values."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    narrative_es = forms.CharField(
        label=gettext_lazy("Narrative (Spanish)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    narrative_en = forms.CharField(
        label=gettext_lazy("Narrative (English)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(
        self,
        *args: Any,
        indicators: list[Indicator],
        values: dict[tuple[int, int | None], IndicatorValue],
        activities: list[Activity] | None = None,
        progress: dict[int, ActivityProgress] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.blocks: list[Block] = []
        for indicator in indicators:
            self.blocks.append(self._add_block(indicator, values))
        self.activities = activities or []
        for activity in self.activities:
            self._add_activity(activity, (progress or {}).get(activity.pk))

    def _add_activity(self, activity: Activity, saved: ActivityProgress | None) -> None:
        """Status, progress and a comment per activity; pre-filled with what was reported
        last (this report's, else last quarter's), so only what changed needs typing."""
        p = f"a{activity.pk}"
        self.fields[f"{p}_status"] = forms.ChoiceField(
            label=activity.code,
            required=False,
            choices=[("", "—"), *ActivityProgress.Status.choices],
        )
        self.fields[f"{p}_progress"] = forms.IntegerField(
            label=f"{activity.code} %", required=False, min_value=0, max_value=100
        )
        self.fields[f"{p}_comment"] = forms.CharField(
            label=f"{activity.code} · {_('Comment')}", required=False, max_length=2000
        )
        if saved is not None:
            self.initial.setdefault(f"{p}_status", saved.status)
            self.initial.setdefault(f"{p}_progress", saved.progress)
            self.initial.setdefault(f"{p}_comment", saved.comment)

    def activity_fields(self) -> list[tuple[Activity, Any, Any, Any]]:
        return [
            (a, self[f"a{a.pk}_status"], self[f"a{a.pk}_progress"], self[f"a{a.pk}_comment"])
            for a in self.activities
        ]

    def activity_entries(self) -> list[ActivityEntry]:
        data = self.cleaned_data
        return [
            ActivityEntry(
                activity=a,
                status=data.get(f"a{a.pk}_status") or "",
                progress=data.get(f"a{a.pk}_progress"),
                comment=data.get(f"a{a.pk}_comment") or "",
            )
            for a in self.activities
        ]

    def _clean_activity(self, activity: Activity, data: dict[str, Any]) -> None:
        p = f"a{activity.pk}"
        status, progress = data.get(f"{p}_status"), data.get(f"{p}_progress")
        if progress is not None and not status:
            self.add_error(
                f"{p}_status",
                _("Activity %(code)s: choose its status.") % {"code": activity.code},
            )
        if status == ActivityProgress.Status.COMPLETED and progress not in (None, 100):
            self.add_error(
                f"{p}_progress",
                _("Activity %(code)s: a completed activity is at 100 %%.")
                % {"code": activity.code},
            )

    def _add_block(
        self, indicator: Indicator, values: dict[tuple[int, int | None], IndicatorValue]
    ) -> Block:
        p = f"i{indicator.pk}"
        total = Cell(indicator, None, f"{p}_total")
        block = Block(indicator, total)
        saved = values.get((indicator.pk, None))
        self.fields[total.name] = _figure_field(indicator, indicator.code)
        self.initial.setdefault(total.name, _initial_figure(saved))
        if indicator.measure == Measure.PERCENT:
            for part, label in (("num", _("numerator")), ("den", _("denominator"))):
                self.fields[f"{p}_{part}"] = forms.DecimalField(
                    label=f"{indicator.code} {label}",
                    required=False,
                    localize=True,
                    min_value=Decimal(0),
                    max_digits=18,
                    decimal_places=4,
                    widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
                )
            self.initial.setdefault(f"{p}_num", saved.numerator if saved else None)
            self.initial.setdefault(f"{p}_den", saved.denominator if saved else None)
        for dimension in indicator.dimensions.all():
            cells = []
            for category in dimension.categories.all():
                cell = Cell(indicator, category, f"{p}_c{category.pk}")
                self.fields[cell.name] = _figure_field(indicator, cell.label)
                self.initial.setdefault(
                    cell.name, _initial_figure(values.get((indicator.pk, category.pk)))
                )
                cells.append(cell)
            block.cells.append((dimension, cells))
        self.fields[f"{p}_comment"] = forms.CharField(
            label=_("Comment"),
            required=False,
            max_length=4000,
            widget=forms.Textarea(attrs={"rows": 2}),
        )
        self.fields[f"{p}_url"] = forms.URLField(
            label=_("Evidence link"), required=False, max_length=500, assume_scheme="https"
        )
        self.fields[f"{p}_file"] = forms.FileField(label=_("Evidence file"), required=False)
        self.fields[f"{p}_clear"] = forms.BooleanField(label=_("Remove the file"), required=False)
        self.initial.setdefault(f"{p}_comment", saved.comment if saved else "")
        self.initial.setdefault(f"{p}_url", saved.evidence_url if saved else "")
        return block

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        for block in self.blocks:
            self._clean_block(block, data)
        for activity in self.activities:
            self._clean_activity(activity, data)
        return data

    def _clean_block(self, block: Block, data: dict[str, Any]) -> None:
        ind, p = block.indicator, block.prefix
        for cell in [block.total, *(c for _dim, cells in block.cells for c in cells)]:
            value = data.get(cell.name)
            if (
                value is not None
                and ind.measure == Measure.COUNT
                and value != value.to_integral_value()
            ):
                self.add_error(
                    cell.name,
                    _("%(label)s: a count must be a whole number.") % {"label": cell.label},
                )
        if ind.measure == Measure.PERCENT:
            num, den = data.get(f"{p}_num"), data.get(f"{p}_den")
            if (num is None) != (den is None):
                self.add_error(
                    f"{p}_den" if den is None else f"{p}_num",
                    _("%(code)s: give both the numerator and the denominator, or neither.")
                    % {"code": ind.code},
                )
            elif den is not None and num is not None:
                if den == 0:
                    self.add_error(
                        f"{p}_den",
                        _("%(code)s: the denominator must be greater than zero.")
                        % {"code": ind.code},
                    )
                elif num > den:
                    self.add_error(
                        f"{p}_num",
                        _(
                            "%(code)s: the numerator (%(num)s) cannot exceed the "
                            "denominator (%(den)s)."
                        )
                        % {"code": ind.code, "num": num, "den": den},
                    )
        upload = data.get(f"{p}_file")
        if upload:
            try:
                check_evidence_file(upload, ind.code)
            except ValidationError as error:
                self.add_error(f"{p}_file", error)

    def labelled_errors(self) -> list[str]:
        """Every error with the indicator and cell it concerns, for the summary at the top."""
        out = []
        labels = {name: f.label for name, f in self.fields.items()}
        owners = {}  # "Comment", "Evidence link": whose, unless the message says it
        for block in self.blocks:
            for part in ("comment", "url", "file", "clear"):
                name = f"{block.prefix}_{part}"
                owners[name] = f"{block.indicator.code}:"
                labels[name] = f"{block.indicator.code} · {labels[name]}"
        for name, errors in self.errors.items():
            for message in errors:
                label = labels.get(name)
                if (
                    name == "__all__"
                    or not label
                    or str(message).startswith((str(label), owners.get(name, str(label))))
                ):
                    out.append(str(message))
                else:
                    out.append(f"{label}: {message}")
        return out

    def entries(self) -> list[Entry]:
        data = self.cleaned_data
        out = []
        for block in self.blocks:
            ind, p = block.indicator, block.prefix
            out.append(
                Entry(
                    indicator=ind,
                    value=data.get(block.total.name),
                    numerator=data.get(f"{p}_num"),
                    denominator=data.get(f"{p}_den"),
                    comment=data.get(f"{p}_comment") or "",
                    evidence_url=data.get(f"{p}_url") or "",
                    evidence_file=data.get(f"{p}_file") or None,
                    clear_evidence=bool(data.get(f"{p}_clear")),
                )
            )
            for _dimension, cells in block.cells:
                for cell in cells:
                    out.append(
                        Entry(indicator=ind, category=cell.category, value=data.get(cell.name))
                    )
        return out


def _initial_figure(value: IndicatorValue | None) -> Any:
    if value is None or value.value is None:
        return None
    if value.indicator.measure == Measure.YES_NO:
        return str(int(value.value))
    return value.value.normalize()


@dataclass
class Caution:
    label: str
    message: str


def cautions_for(
    indicators: list[Indicator],
    values: dict[tuple[int, int | None], IndicatorValue],
    previous: dict[tuple[int, int | None], IndicatorValue],
) -> list[Caution]:
    """What deserves a second look in the saved figures but may be right: cells of a
    dimension that do not add up to the total (with the difference), a total far from last
    quarter's."""
    out = []
    for ind in indicators:
        saved = values.get((ind.pk, None))
        total = saved.value if saved is not None else None
        if total is None:
            continue
        if ind.measure in (Measure.COUNT, Measure.AMOUNT):
            for dimension in ind.dimensions.all():
                figures = [values.get((ind.pk, c.pk)) for c in dimension.categories.all()]
                entered = [f.value for f in figures if f is not None and f.value is not None]
                if not entered:
                    continue
                summed = sum(entered, Decimal(0))
                if summed != total:
                    out.append(
                        Caution(
                            ind.code,
                            _(
                                "the %(dimension)s cells add up to %(sum)s, not the total "
                                "%(total)s (difference %(diff)s)."
                            )
                            % {
                                "dimension": dimension.name,
                                "sum": _plain(summed),
                                "total": _plain(total),
                                "diff": _plain(total - summed),
                            },
                        )
                    )
        before = previous.get((ind.pk, None))
        if (
            before is not None
            and before.value is not None
            and ind.measure in (Measure.COUNT, Measure.AMOUNT, Measure.PERCENT)
            and _far_apart(before.value, total, ind.measure)
        ):
            out.append(
                Caution(
                    ind.code,
                    _("%(now)s is far from last quarter's %(before)s; please check it.")
                    % {"now": _plain(total), "before": _plain(before.value)},
                )
            )
    return out


class RestateForm(forms.Form):
    """Change one approved figure, with the reason."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    cell = forms.ChoiceField(label=gettext_lazy("Figure"))
    value = forms.DecimalField(
        label=gettext_lazy("New value"),
        localize=True,
        min_value=Decimal(0),
        max_digits=18,
        decimal_places=4,
        required=False,
    )
    numerator = forms.DecimalField(
        label=gettext_lazy("New numerator"),
        localize=True,
        min_value=Decimal(0),
        max_digits=18,
        decimal_places=4,
        required=False,
    )
    denominator = forms.DecimalField(
        label=gettext_lazy("New denominator"),
        localize=True,
        min_value=Decimal(0),
        max_digits=18,
        decimal_places=4,
        required=False,
    )
    comment = forms.CharField(label=gettext_lazy("Comment"), required=False, max_length=4000)
    reason = forms.CharField(
        label=gettext_lazy("Reason for the restatement"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": gettext_lazy("A restatement needs a reason.")},
    )

    def __init__(
        self,
        *args: Any,
        indicators: list[Indicator],
        values: dict[tuple[int, int | None], IndicatorValue],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.targets: dict[str, tuple[Indicator, DisaggregationCategory | None]] = {}
        choices = []
        for ind in indicators:
            options = [(ind, None)] + [
                (ind, c) for d in ind.dimensions.all() for c in d.categories.all()
            ]
            for indicator, category in options:
                key = f"{indicator.pk}:{category.pk if category else 'total'}"
                self.targets[key] = (indicator, category)
                saved = values.get((indicator.pk, category.pk if category else None))
                now = saved.display_value if saved is not None else "—"
                choices.append((key, f"{cell_label(indicator, category)} (= {now})"))
        field = self.fields["cell"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "—"), *choices]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        target = self.targets.get(data.get("cell") or "")
        if target is None:
            return data
        indicator, category = target
        label = cell_label(indicator, category)
        value, num, den = data.get("value"), data.get("numerator"), data.get("denominator")
        if value is None and (num is None or den is None):
            self.add_error("value", _("%(label)s: enter the new value.") % {"label": label})
        if value is not None:
            if indicator.measure == Measure.PERCENT and value > 100:
                self.add_error(
                    "value",
                    _("%(label)s: a percentage must be between 0 and 100.") % {"label": label},
                )
            if indicator.measure == Measure.COUNT and value != value.to_integral_value():
                self.add_error(
                    "value", _("%(label)s: a count must be a whole number.") % {"label": label}
                )
            if indicator.measure == Measure.YES_NO and value not in (0, 1):
                self.add_error(
                    "value", _("%(label)s: a yes/no value is 1 (yes) or 0 (no).") % {"label": label}
                )
        if (num is not None or den is not None) and indicator.measure != Measure.PERCENT:
            self.add_error(
                "numerator",
                _("%(label)s: numerator and denominator are for percentages.") % {"label": label},
            )
        elif num is not None and den is not None and num > den:
            self.add_error(
                "numerator",
                _("%(label)s: the numerator cannot exceed the denominator.") % {"label": label},
            )
        return data

    def entry(self) -> Entry:
        indicator, category = self.targets[self.cleaned_data["cell"]]
        return Entry(
            indicator=indicator,
            category=category,
            value=self.cleaned_data.get("value"),
            numerator=self.cleaned_data.get("numerator"),
            denominator=self.cleaned_data.get("denominator"),
            comment=self.cleaned_data.get("comment") or "",
        )


def _far_apart(before: Decimal, now: Decimal, measure: str) -> bool:
    """A percentage moving 30 points, or a count or amount three times larger or smaller."""
    if measure == Measure.PERCENT:
        return abs(now - before) >= 30
    if before == 0 or now == 0:
        return max(before, now) >= 10
    ratio = now / before
    return ratio >= 3 or ratio <= Decimal(1) / 3


def _plain(x: Decimal) -> str:
    return f"{x.normalize():f}"


class DeliverableForm(forms.Form):
    """A deliverable produced by one of the report's activities: a title in Spanish (English
    optional: Spanish is shown when it is missing), its type and date, a file or a link."""

    activity = forms.ChoiceField(label=gettext_lazy("Activity"))
    title_es = forms.CharField(label=gettext_lazy("Title (Spanish)"), max_length=300)
    title_en = forms.CharField(
        label=gettext_lazy("Title (English)"), max_length=300, required=False
    )
    kind = forms.ChoiceField(label=gettext_lazy("Type"), choices=Deliverable.Kind.choices)
    date = forms.DateField(
        label=gettext_lazy("Date"), localize=True, widget=forms.DateInput(attrs={"type": "date"})
    )
    file = forms.FileField(label=gettext_lazy("File"), required=False)
    url = forms.URLField(
        label=gettext_lazy("Link"), required=False, max_length=500, assume_scheme="https"
    )

    def __init__(self, *args: Any, activities: list[Activity], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.activities = {str(a.pk): a for a in activities}
        field = self.fields["activity"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "—")] + [
            (str(a.pk), f"{a.code} · {a.description[:80]}") for a in activities
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        upload = data.get("file")
        if upload:
            try:
                check_evidence_file(upload, str(_("File")))
            except ValidationError as error:
                self.add_error("file", error)
        return data

    def chosen_activity(self) -> Activity:
        return self.activities[self.cleaned_data["activity"]]
