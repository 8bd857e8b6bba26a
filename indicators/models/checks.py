"""Rules that span tables, shared by ``clean()`` of baselines, targets and values."""

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from monitoring.models import City

from .framework import Indicator


def AmountField(verbose_name: Any, **kwargs: Any) -> models.DecimalField:
    """A figure: 14 digits before the point, 4 after (enough for counts, money, ratios)."""
    return models.DecimalField(verbose_name, max_digits=18, decimal_places=4, **kwargs)


def check_city_in_scope(indicator: Indicator, city: City | None, field: str = "city") -> None:
    if city is None or indicator.pk is None:
        return
    if not indicator.cities.filter(pk=city.pk).exists():
        in_scope = ", ".join(c.code for c in indicator.cities.all()) or "—"
        raise ValidationError(
            {
                field: _(
                    "%(city)s is outside the cities in scope of indicator %(code)s (%(scope)s)."
                )
                % {"city": city.code, "code": indicator.code, "scope": in_scope}
            }
        )


def check_value_fits_measure(indicator: Indicator, value: Decimal | None, field: str) -> None:
    if value is None:
        return
    if value < 0:
        raise ValidationError({field: _("It cannot be negative.")})
    measure = indicator.measure
    if measure == Indicator.Measure.PERCENT and not (0 <= value <= 100):
        raise ValidationError({field: _("A percentage must be between 0 and 100.")})
    if measure == Indicator.Measure.COUNT and value != value.to_integral_value():
        raise ValidationError({field: _("A count must be a whole number.")})
    if measure == Indicator.Measure.YES_NO and value not in (0, 1):
        raise ValidationError({field: _("A yes/no value is 1 (yes) or 0 (no).")})
