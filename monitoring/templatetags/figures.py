"""Numbers as people read them: grouped by the active language's convention, no trailing
zeros, a percent sign for percentages and yes/no for milestones."""

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

register = template.Library()


def format_figure(value: Decimal | int | float | None, measure: str = "count") -> str:
    if value is None:
        return "—"
    if measure == "yes_no":
        return _("yes") if value == 1 else _("no")
    number = Decimal(value)
    exponent = number.normalize().as_tuple().exponent
    places = 0
    if number != number.to_integral_value() and isinstance(exponent, int):
        places = min(2, -exponent)
    text = _grouped(number, places)
    return f"{text} %" if measure == "percent" else text


def _grouped(number: Decimal, places: int) -> str:
    """Rounded half up to ``places`` (Django's number_format would cut the digits off)."""
    rounded = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return number_format(rounded, decimal_pos=places, use_l10n=True, force_grouping=True)


@register.filter
def figure(value: Decimal | None, measure: str = "count") -> str:
    return format_figure(value, measure)


@register.filter
def get(mapping: dict, key: object) -> object:
    """``mapping[key]`` in a template (None when absent)."""
    return mapping.get(key) if mapping else None


@register.filter
def percent(value: Decimal | None) -> str:
    """An achievement percentage, whole."""
    if value is None:
        return "—"
    return _grouped(Decimal(value), 0) + " %"


@register.filter
def evidence_name(path: str) -> str:
    """A stored file's own name, without the folders that make it unique."""
    return str(path).rsplit("/", 1)[-1]
