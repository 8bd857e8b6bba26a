"""Numbers as shown in tables: rounded half up (not cut), grouped per language."""

from decimal import Decimal

import pytest
from django.utils import translation

from monitoring.templatetags.figures import format_figure, percent


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("640.526"), "641 %"),
        (Decimal("72.5"), "73 %"),
        (Decimal("72.49"), "72 %"),
        (Decimal("1421"), "1,421 %"),
        (None, "—"),
    ],
)
def test_percent_rounds_half_up(value, shown):
    assert percent(value) == shown


def test_figures_keep_up_to_two_places_rounded():
    assert format_figure(Decimal("12.345")) == "12.35"
    assert format_figure(Decimal("3895")) == "3,895"
    assert format_figure(Decimal("90"), "percent") == "90 %"
    assert format_figure(Decimal(1), "yes_no") == "yes"


def test_spanish_groups_with_a_space_and_a_decimal_comma():
    with translation.override("es"):
        assert format_figure(Decimal("1217.5")) == "1\xa0217,5"
        assert percent(Decimal("640.526")) == "641 %"
