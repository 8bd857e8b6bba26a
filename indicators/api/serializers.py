"""What the reports and rollups API reads and accepts. Output serializers present reports,
values and rollups by codes (``JOINT`` for the RCO's joint report, ``ALL`` for a total over
cities or agencies, ``total`` or ``dimension=category`` for a cell). Input serializers check
types and shapes only and refuse fields they do not know; the functions below then check each
figure against the report's indicators as the report form does, naming the field in error
(``values[2].value``), and turn the input into the services' entries. The services validate
once more before they write."""

import copy
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers

from monitoring.models import Activity

from ..models import (
    ActivityProgress,
    DisaggregationCategory,
    Indicator,
    IndicatorValue,
    ProgressReport,
    Rollup,
)
from ..models.checks import check_value_fits_measure
from ..selectors.reports import JOINT
from ..services import ActivityEntry, Entry

ALL = "ALL"
TOTAL = "total"
SCOPES = {
    Rollup.Scope.CITY_AGENCY: "city_agency",
    Rollup.Scope.CITY: "city",
    Rollup.Scope.AGENCY: "agency",
    Rollup.Scope.PROGRAMME: "programme",
}


def cell_code(value: IndicatorValue | Rollup) -> str:
    return value.category.cell if value.category_id and value.category else TOTAL


# ---- errors -----------------------------------------------------------------------------


class ApiErrorSerializer(serializers.Serializer):
    """The one error body of the API (``monitoring.api.errors``)."""

    status = serializers.IntegerField(help_text=gettext_lazy("The HTTP status."))
    code = serializers.CharField(help_text=gettext_lazy("A stable code, e.g. 'invalid'."))
    detail = serializers.CharField(help_text=gettext_lazy("What went wrong, for a person."))
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text=gettext_lazy(
            "Invalid input: messages by field, e.g. 'reason' or 'values[2].value'."
        ),
    )


def flat_errors(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """Nested serializer errors as one level, keyed by the field's path: ``values[2].value``
    (the error body names fields one level deep)."""
    out: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, nested in errors.items():
            if key == "non_field_errors" and prefix:
                path = prefix
            elif isinstance(key, int) or str(key).isdigit():  # an item of a list
                path = f"{prefix}[{key}]"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            for k, v in flat_errors(nested, path).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(errors, list) and any(isinstance(e, (dict, list)) for e in errors):
        for i, nested in enumerate(errors):
            for k, v in flat_errors(nested, f"{prefix}[{i}]").items():
                out.setdefault(k, []).extend(v)
    else:
        messages = errors if isinstance(errors, list) else [errors]
        out.setdefault(prefix or "non_field_errors", []).extend(str(m) for m in messages)
    return out


def validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    """The input, validated; a 400 naming every field in error otherwise."""
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise exceptions.ValidationError(flat_errors(serializer.errors))
    return dict(serializer.validated_data)


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know, so a misspelt field is an error, not ignored."""

    unknown_messages: dict[str, Any] = {}

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise exceptions.ValidationError(
                    {
                        k: [str(self.unknown_messages.get(k, _("This field is not accepted.")))]
                        for k in unknown
                    }
                )
        return super().to_internal_value(data)


# ---- reports and values (read) ----------------------------------------------------------


class ValueSerializer(serializers.ModelSerializer):
    report = serializers.IntegerField(source="report_id", read_only=True)
    indicator = serializers.CharField(source="indicator.code", read_only=True)
    cell = serializers.SerializerMethodField(
        help_text=gettext_lazy("'total', or the disaggregation cell as 'dimension=category'.")
    )
    text = serializers.CharField(source="text_value", read_only=True)

    class Meta:
        model = IndicatorValue
        fields = [
            "id", "report", "indicator", "cell", "value", "numerator", "denominator", "text",
            "comment", "provenance", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_cell(self, obj: IndicatorValue) -> str:
        return cell_code(obj)


class ActivityProgressSerializer(serializers.ModelSerializer):
    activity = serializers.CharField(source="activity.code", read_only=True)

    class Meta:
        model = ActivityProgress
        fields = ["activity", "status", "progress", "comment"]
        read_only_fields = fields


class ReportSerializer(serializers.ModelSerializer):
    programme = serializers.CharField(source="programme.code", read_only=True)
    period = serializers.CharField(source="period.code", read_only=True)
    agency = serializers.SerializerMethodField(
        help_text=gettext_lazy("The agency's code; JOINT for the RCO's joint report.")
    )
    city = serializers.SerializerMethodField(
        help_text=gettext_lazy("The city's code; ALL for figures of the whole programme.")
    )
    submitted_by = serializers.CharField(
        source="submitted_by.username", read_only=True, allow_null=True
    )
    approved_by = serializers.CharField(
        source="approved_by.username", read_only=True, allow_null=True
    )
    validated_by = serializers.CharField(
        source="validated_by.username", read_only=True, allow_null=True
    )

    class Meta:
        model = ProgressReport
        fields = [
            "id", "programme", "period", "agency", "city", "status", "version",
            "is_historical", "narrative_es", "narrative_en", "return_reason",
            "submitted_at", "submitted_by", "approved_at", "approved_by", "validated_at",
            "validated_by", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_agency(self, obj: ProgressReport) -> str:
        return obj.agency.code if obj.agency_id and obj.agency else JOINT

    def get_city(self, obj: ProgressReport) -> str:
        return obj.city.code if obj.city_id and obj.city else ALL


class ReportDetailSerializer(ReportSerializer):
    """A report with its figures and its activities' progress."""

    values = ValueSerializer(many=True, read_only=True)
    activities = ActivityProgressSerializer(many=True, read_only=True, source="activity_progress")

    class Meta(ReportSerializer.Meta):
        fields = [*ReportSerializer.Meta.fields, "values", "activities"]
        read_only_fields = fields


# ---- reports (write) --------------------------------------------------------------------


def _figure(help_text: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=18,
        decimal_places=4,
        min_value=0,
        allow_null=True,
        required=False,
        help_text=help_text,
    )


class OpenReportInput(StrictSerializer):
    programme = serializers.CharField(help_text=gettext_lazy("The programme's code."))
    period = serializers.CharField(help_text=gettext_lazy("The reporting period's code."))
    agency = serializers.CharField(
        help_text=gettext_lazy("The agency's code; JOINT for the RCO's joint report.")
    )
    city = serializers.CharField(help_text=gettext_lazy("The city's code."))


class ValueInput(StrictSerializer):
    unknown_messages = {
        "text": gettext_lazy("Text indicators are not entered in the quarterly report.")
    }

    indicator = serializers.CharField(help_text=gettext_lazy("The indicator's code."))
    cell = serializers.CharField(
        required=False,
        help_text=gettext_lazy("'total' (the default) or 'dimension=category', e.g. 'sex=female'."),
    )
    value = _figure(
        gettext_lazy(
            "The figure; null clears the cell. A percentage may give numerator and "
            "denominator instead."
        )
    )
    numerator = _figure(gettext_lazy("Percentages only, on the total."))
    denominator = _figure(gettext_lazy("Percentages only, on the total."))
    comment = serializers.CharField(
        max_length=4000,
        allow_blank=True,
        required=False,
        help_text=gettext_lazy("On the total only."),
    )


class ActivityInput(StrictSerializer):
    activity = serializers.CharField(help_text=gettext_lazy("The activity's code."))
    status = serializers.ChoiceField(
        choices=ActivityProgress.Status.choices,
        allow_blank=True,
        required=False,
        help_text=gettext_lazy("Empty clears the activity's progress."),
    )
    progress = serializers.IntegerField(min_value=0, max_value=100, allow_null=True, required=False)
    comment = serializers.CharField(max_length=2000, allow_blank=True, required=False)


class VersionInput(StrictSerializer):
    version = serializers.IntegerField(
        min_value=0,
        required=False,
        help_text=gettext_lazy(
            "The report's version as you loaded it; if somebody changed the report since, "
            "nothing is done and the answer is 409."
        ),
    )


class RequiredVersionInput(StrictSerializer):
    version = serializers.IntegerField(
        min_value=0,
        help_text=gettext_lazy(
            "The report's version as you loaded it; if somebody saved the report since, "
            "nothing is saved and the answer is 409."
        ),
    )


class SaveValuesInput(RequiredVersionInput):
    values = ValueInput(many=True, required=False, max_length=5000)
    activities = ActivityInput(many=True, required=False, max_length=1000)
    narrative_es = serializers.CharField(allow_blank=True, required=False)
    narrative_en = serializers.CharField(allow_blank=True, required=False)


class ReturnInput(VersionInput):
    reason = serializers.CharField(
        max_length=4000,
        error_messages={
            "required": gettext_lazy("Say why the report is returned."),
            "blank": gettext_lazy("Say why the report is returned."),
        },
        help_text=gettext_lazy("Why the report goes back; shown to the coordinator."),
    )


class RestateInput(RequiredVersionInput):
    value_id = serializers.IntegerField(
        required=False, help_text=gettext_lazy("The figure to restate (its id)…")
    )
    indicator = serializers.CharField(
        required=False, help_text=gettext_lazy("…or its indicator's code and cell.")
    )
    cell = serializers.CharField(required=False, help_text=gettext_lazy("'total' by default."))
    value = _figure(gettext_lazy("The new figure."))
    numerator = _figure(gettext_lazy("The new numerator (percentages)."))
    denominator = _figure(gettext_lazy("The new denominator (percentages)."))
    comment = serializers.CharField(max_length=4000, allow_blank=True, required=False)
    reason = serializers.CharField(
        max_length=4000,
        error_messages={
            "required": gettext_lazy("A restatement needs a reason."),
            "blank": gettext_lazy("A restatement needs a reason."),
        },
    )


# ---- figures checked against the report ---------------------------------------------------

Saved = dict[tuple[int, int | None], IndicatorValue]
Errors = dict[str, list[str]]
# A model field in error, as the API names it.
MODEL_FIELDS = {
    "value": "value",
    "numerator": "numerator",
    "denominator": "denominator",
    "comment": "comment",
    "text_value": "value",
    "category": "cell",
    "indicator": "indicator",
}


def _add(errors: Errors, path: str, message: str) -> None:
    errors.setdefault(path, []).append(message)


def cells_of(indicator: Indicator) -> dict[str, DisaggregationCategory | None]:
    """The cells asked of an indicator: ``total`` and ``dimension=category``."""
    out: dict[str, DisaggregationCategory | None] = {TOTAL: None}
    for dimension in indicator.dimensions.all():
        for category in dimension.categories.all():
            out[f"{dimension.code}={category.code}"] = category
    return out


def _target(
    item: dict[str, Any], by_code: dict[str, Indicator], path: str, errors: Errors
) -> tuple[Indicator, DisaggregationCategory | None] | None:
    """The indicator and cell an item names, or None with the error recorded."""
    indicator = by_code.get(item["indicator"])
    if indicator is None:
        _add(
            errors,
            f"{path}indicator",
            _("%(code)s is not one of the indicators of this report.")
            % {"code": item["indicator"]},
        )
        return None
    cells = cells_of(indicator)
    cell = item.get("cell") or TOTAL
    if cell not in cells:
        _add(
            errors,
            f"{path}cell",
            _("%(code)s has no cell '%(cell)s' (its cells: %(cells)s).")
            % {"code": indicator.code, "cell": cell, "cells": ", ".join(cells)},
        )
        return None
    return indicator, cells[cell]


def _problems(entry: Entry, *, cell_takes_value_only: bool) -> list[tuple[str, str]]:
    """What the report form refuses in one entry: (field, message)."""
    ind, label = entry.indicator, entry.label
    num, den = entry.numerator, entry.denominator
    out: list[tuple[str, str]] = []
    if cell_takes_value_only and entry.category is not None:
        for field, given in (
            ("numerator", num is not None),
            ("denominator", den is not None),
            ("comment", bool(entry.comment.strip())),
        ):
            if given:
                out.append(
                    (
                        field,
                        _("%(label)s: a disaggregation cell takes a value only.")
                        % {"label": label},
                    )
                )
        if out:
            return out
    if (num is not None or den is not None) and not ind.is_percent:
        out.append(
            (
                "numerator",
                _("%(label)s: numerator and denominator are for percentages.") % {"label": label},
            )
        )
    elif (num is None) != (den is None):
        out.append(
            (
                "denominator" if den is None else "numerator",
                _("%(code)s: give both the numerator and the denominator, or neither.")
                % {"code": label},
            )
        )
    elif den is not None and num is not None:
        if den == 0:
            out.append(
                (
                    "denominator",
                    _("%(code)s: the denominator must be greater than zero.") % {"code": label},
                )
            )
        elif num > den:
            out.append(
                (
                    "numerator",
                    _("%(code)s: the numerator (%(num)s) cannot exceed the denominator (%(den)s).")
                    % {"code": label, "num": _plain(num), "den": _plain(den)},
                )
            )
    if not out:
        try:
            check_value_fits_measure(ind, entry.figure(), "value")
        except ValidationError as error:
            out += [("value", f"{label}: {m}") for m in error.messages]
    return out


def _model_problems(
    report: ProgressReport, entry: Entry, saved: IndicatorValue | None
) -> list[tuple[str, str]]:
    """What the value's own ``clean()`` refuses (a percentage that does not match its
    numerator and denominator, a cell of another dimension, …), by field. Nothing is saved."""
    probe = copy.copy(saved) if saved is not None else IndicatorValue(report=report)
    probe.indicator, probe.category = entry.indicator, entry.category
    probe.value = entry.figure()
    probe.numerator, probe.denominator = entry.numerator, entry.denominator
    probe.comment = entry.comment.strip()
    try:
        probe.full_clean(
            exclude=["evidence", "report", "indicator", "category"],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as error:
        return [
            (MODEL_FIELDS.get(field, ""), f"{entry.label}: {m}")
            for field, messages in error.message_dict.items()
            for m in messages
        ]
    return []


def _plain(x: Decimal) -> str:
    return f"{x.normalize():f}"


def value_entries(
    report: ProgressReport,
    items: list[dict[str, Any]],
    *,
    indicators: list[Indicator],
    saved: Saved,
    replace: bool,
    errors: Errors,
) -> list[Entry]:
    """The services' entries for the items sent. ``replace`` (PUT): an item is the whole cell
    and in-scope cells not sent are cleared; otherwise (PATCH) an item's missing fields keep
    their saved values. A cell whose figures are all null is cleared. The evidence link and
    file are never changed here. Errors are added to ``errors`` by field path."""
    by_code = {i.code: i for i in indicators}
    entries: list[Entry] = []
    seen: set[tuple[int, int | None]] = set()
    for n, item in enumerate(items):
        path = f"values[{n}]."
        target = _target(item, by_code, path, errors)
        if target is None:
            continue
        indicator, category = target
        key = (indicator.pk, category.pk if category else None)
        if key in seen:
            _add(errors, f"{path}cell", _("This cell is given twice."))
            continue
        seen.add(key)
        before = saved.get(key)
        merged = {} if replace or before is None else {
            "value": before.value,
            "numerator": before.numerator,
            "denominator": before.denominator,
            "comment": before.comment,
        }  # fmt: skip
        merged.update(
            {k: item[k] for k in ("value", "numerator", "denominator", "comment") if k in item}
        )
        if all(merged.get(k) is None for k in ("value", "numerator", "denominator")):
            entries.append(Entry(indicator=indicator, category=category))  # cleared
            continue
        entry = Entry(
            indicator=indicator,
            category=category,
            value=merged.get("value"),
            numerator=merged.get("numerator"),
            denominator=merged.get("denominator"),
            comment=merged.get("comment") or "",
            evidence_url=before.evidence_url if before is not None else "",
        )
        problems = _problems(entry, cell_takes_value_only=True) or _model_problems(
            report, entry, before
        )
        for field, message in problems:
            _add(errors, f"{path}{field}" if field else path.rstrip("."), message)
        entries.append(entry)
    if replace:
        in_scope = {i.pk: i for i in indicators}
        for (indicator_id, category_id), value in saved.items():
            if (indicator_id, category_id) not in seen and indicator_id in in_scope:
                category = value.category if category_id else None
                entries.append(Entry(indicator=in_scope[indicator_id], category=category))
    return entries


def activity_entries(
    items: list[dict[str, Any]],
    *,
    activities: list[Activity],
    saved: dict[int, ActivityProgress],
    replace: bool,
    errors: Errors,
) -> list[ActivityEntry]:
    """Every in-scope activity's entry: as sent, else as saved (PATCH) or cleared (PUT)."""
    by_code = {a.code: a for a in activities}
    given: dict[int, ActivityEntry] = {}
    for n, item in enumerate(items):
        path = f"activities[{n}]."
        activity = by_code.get(item["activity"])
        if activity is None:
            _add(
                errors,
                f"{path}activity",
                _("%(code)s is not one of the activities of this report.")
                % {"code": item["activity"]},
            )
            continue
        if activity.pk in given:
            _add(errors, f"{path}activity", _("This activity is given twice."))
            continue
        before = None if replace else saved.get(activity.pk)
        entry = ActivityEntry(
            activity=activity,
            status=item.get("status", before.status if before else ""),
            progress=item.get("progress", before.progress if before else None),
            comment=item.get("comment", before.comment if before else ""),
        )
        if entry.progress is not None and not entry.status:
            _add(
                errors,
                f"{path}status",
                _("Activity %(code)s: choose its status.") % {"code": activity.code},
            )
        if entry.status == ActivityProgress.Status.COMPLETED and entry.progress not in (None, 100):
            _add(
                errors,
                f"{path}progress",
                _("Activity %(code)s: a completed activity is at 100 %%.")
                % {"code": activity.code},
            )
        given[activity.pk] = entry
    out = []
    for activity in activities:
        before = None if replace else saved.get(activity.pk)
        if activity.pk in given:
            out.append(given[activity.pk])
        elif before is not None:
            out.append(ActivityEntry(activity, before.status, before.progress, before.comment))
        else:
            out.append(ActivityEntry(activity))
    return out


def restate_entry(data: dict[str, Any], *, indicators: list[Indicator], saved: Saved) -> Entry:
    """The figure to restate and its new value, checked as the restatement form does."""
    errors: Errors = {}
    if "value_id" in data:
        value = next((v for v in saved.values() if v.pk == data["value_id"]), None)
        if value is None:
            raise exceptions.ValidationError(
                {"value_id": [_("This report has no value %(id)s.") % {"id": data["value_id"]}]}
            )
        target = (value.indicator, value.category if value.category_id else None)
    elif "indicator" in data:
        found = _target(data, {i.code: i for i in indicators}, "", errors)
        if found is None:
            raise exceptions.ValidationError(errors)
        target = found
    else:
        raise exceptions.ValidationError(
            {"value_id": [_("Say which figure: its value_id, or its indicator and cell.")]}
        )
    indicator, category = target
    entry = Entry(
        indicator=indicator,
        category=category,
        value=data.get("value"),
        numerator=data.get("numerator"),
        denominator=data.get("denominator"),
        comment=data.get("comment") or "",
    )
    if entry.value is None and (entry.numerator is None or entry.denominator is None):
        raise exceptions.ValidationError(
            {"value": [_("%(label)s: enter the new value.") % {"label": entry.label}]}
        )
    for field, message in _problems(entry, cell_takes_value_only=False):
        _add(errors, field, message)
    if errors:
        raise exceptions.ValidationError(errors)
    return entry


# ---- rollups ----------------------------------------------------------------------------


class RollupSerializer(serializers.ModelSerializer):
    """One figure as of one period, over three spans: the period itself (``period_``), the
    reporting year to date (``ytd_``) and the life of the programme to date (``ltd_``)."""

    programme = serializers.CharField(source="programme.code", read_only=True)
    indicator = serializers.CharField(source="indicator.code", read_only=True)
    scope = serializers.SerializerMethodField()
    city = serializers.SerializerMethodField(
        help_text=gettext_lazy("The city's code; ALL for a total over cities.")
    )
    agency = serializers.SerializerMethodField(
        help_text=gettext_lazy("The agency's code; ALL for a total over agencies.")
    )
    period = serializers.CharField(source="period.code", read_only=True)
    cell = serializers.SerializerMethodField(
        help_text=gettext_lazy("'total', or the disaggregation cell as 'dimension=category'.")
    )
    period_actual = serializers.DecimalField(
        source="actual", max_digits=18, decimal_places=4, read_only=True, allow_null=True
    )
    period_numerator = serializers.DecimalField(
        source="numerator", max_digits=18, decimal_places=4, read_only=True, allow_null=True
    )
    period_denominator = serializers.DecimalField(
        source="denominator", max_digits=18, decimal_places=4, read_only=True, allow_null=True
    )
    period_target = serializers.DecimalField(
        source="target", max_digits=18, decimal_places=4, read_only=True, allow_null=True
    )
    period_achievement = serializers.DecimalField(
        source="achievement", max_digits=12, decimal_places=2, read_only=True, allow_null=True
    )
    period_status = serializers.ChoiceField(
        source="status", choices=Rollup._meta.get_field("status").choices, read_only=True
    )

    class Meta:
        model = Rollup
        fields = [
            "programme", "indicator", "scope", "city", "agency", "period", "as_of", "cell",
            "baseline", "method", "n_values",
            "period_target", "period_actual", "period_numerator", "period_denominator",
            "period_achievement", "period_status",
            "ytd_target", "ytd_expected", "ytd_actual", "ytd_achievement", "ytd_status",
            "ltd_target", "ltd_expected", "ltd_actual", "ltd_numerator", "ltd_denominator",
            "ltd_achievement", "ltd_pace", "ltd_status",
            "computed_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=list(SCOPES.values())))
    def get_scope(self, obj: Rollup) -> str:
        return SCOPES[Rollup.Scope(obj.scope)]

    @extend_schema_field(OpenApiTypes.STR)
    def get_city(self, obj: Rollup) -> str:
        return obj.city.code if obj.city_id and obj.city else ALL

    @extend_schema_field(OpenApiTypes.STR)
    def get_agency(self, obj: Rollup) -> str:
        return obj.agency.code if obj.agency_id and obj.agency else ALL

    def get_cell(self, obj: Rollup) -> str:
        return cell_code(obj)
