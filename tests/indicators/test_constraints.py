"""Invariants of indicators, targets, reports and values: refused by validation with a message
that names the field, and by the database when validation is bypassed."""

import datetime as dt
from decimal import Decimal

import pytest

from indicators.models import (
    Baseline,
    DisaggregationCategory,
    DisaggregationDimension,
    Indicator,
    IndicatorSupersession,
    IndicatorValue,
    ProgressReport,
    Target,
    TargetRevision,
    ValueComponent,
)
from monitoring.models import Agency, City, Outcome, ReportingPeriod
from tests.helpers import assert_db_refuses, assert_refused

pytestmark = pytest.mark.django_db


def _indicator(programme, **overrides) -> Indicator:
    values = dict(
        programme=programme,
        code="9.9.Z",
        level="outcome",
        outcome=Outcome.objects.get(programme=programme, code="R1"),
        name_es="x",
        name_en="x",
        measure="count",
        time_rule="sum",
        place_rule="sum",
    )
    values.update(overrides)
    return Indicator(**values)


def _ind(programme, code: str) -> Indicator:
    return Indicator.objects.get(programme=programme, code=code)


def _cell(dimension: str, category: str) -> DisaggregationCategory:
    return DisaggregationCategory.objects.get(dimension__code=dimension, code=category)


class TestIndicators:
    def test_a_valid_indicator_passes(self, ciudades):
        _indicator(ciudades).full_clean()

    def test_codes_are_unique_per_programme(self, ciudades):
        bad = _indicator(ciudades, code="1.4.A")
        assert_refused(bad, field=None, message="indicator with this code already exists")
        assert_db_refuses(bad)

    def test_an_output_indicator_needs_its_output(self, ciudades):
        bad = _indicator(ciudades, level="output")
        assert_refused(bad, field=None, message="An output indicator needs its output")
        assert_db_refuses(bad)

    def test_the_output_must_belong_to_the_outcome(self, ciudades):
        r2_output = _ind(ciudades, "2.2.E").output
        bad = _indicator(ciudades, level="output", output=r2_output)
        assert_refused(bad, field="output", message="belongs to another outcome")

    @pytest.mark.parametrize(
        ("overrides", "message"),
        [
            ({"measure": "count", "place_rule": "weighted"}, "'weighted' applies to percentages"),
            ({"measure": "count", "place_rule": "all"}, "'all' and 'any' apply to yes/no"),
            (
                {"measure": "yes_no", "time_rule": "latest", "place_rule": "sum"},
                "combines cities by 'all', 'any' or 'none'",
            ),
            (
                {"measure": "yes_no", "time_rule": "sum", "place_rule": "all"},
                "take the latest value over time",
            ),
            ({"measure": "text", "time_rule": "latest", "place_rule": "sum"}, "no programme total"),
            (
                {"measure": "percent", "time_rule": "sum", "place_rule": "weighted"},
                "cannot be summed over time",
            ),
        ],
    )
    def test_rules_must_fit_the_measure(self, ciudades, overrides, message):
        bad = _indicator(ciudades, **overrides)
        assert_refused(bad, field=None, message=message)
        assert_db_refuses(bad)

    def test_dimension_categories_are_unique_per_dimension(self, db):
        sex = DisaggregationDimension.objects.get(code="sex")
        bad = DisaggregationCategory(dimension=sex, code="female", name_es="x", name_en="x")
        assert_refused(bad, field=None, message="already has a category with this code")
        assert_db_refuses(bad)


class TestCrosswalk:
    def test_an_indicator_cannot_supersede_itself(self, ciudades):
        ind = _ind(ciudades, "1.2.A")
        bad = IndicatorSupersession(predecessor=ind, successor=ind, change="same")
        assert_refused(bad, field=None, message="cannot supersede itself")
        assert_db_refuses(bad)

    def test_a_link_is_recorded_once(self, ciudades):
        bad = IndicatorSupersession(
            predecessor=_ind(ciudades, "1.2.a"), successor=_ind(ciudades, "1.2.A"), change="same"
        )
        assert_refused(bad, field=None, message="already linked")
        assert_db_refuses(bad)

    def test_the_successor_must_be_a_later_version(self, ciudades):
        bad = IndicatorSupersession(
            predecessor=_ind(ciudades, "1.2.A"), successor=_ind(ciudades, "1.2.b"), change="same"
        )
        assert_refused(bad, field="successor", message="higher version")


class TestBaselinesAndTargets:
    def test_a_baseline_is_unique_per_city_including_the_programme_total(self, ciudades):
        ind = _ind(ciudades, "1.2.a")  # has a programme-wide baseline (no city)
        bad = Baseline(indicator=ind, city=None, value=Decimal(0), date=dt.date(2021, 1, 1))
        assert_refused(bad, field=None, message="already has a baseline for this city")
        assert_db_refuses(bad)

    def test_a_baseline_cannot_be_negative(self, ciudades):
        bad = Baseline(
            indicator=_ind(ciudades, "1.2.A"), value=Decimal(-3), date=dt.date(2021, 1, 1)
        )
        assert_refused(bad, field="value", message="cannot be negative")
        assert_db_refuses(bad)

    def test_one_target_per_scope_period_and_cell(self, ciudades):
        ind = _ind(ciudades, "1.4.A")  # target 400 for the programme, life of programme
        bad = Target(indicator=ind, original_value=Decimal(10), value=Decimal(10))
        assert_refused(
            bad, field=None, message="already has a target for this scope, period and cell"
        )
        assert_db_refuses(bad)

    def test_a_target_for_another_period_or_cell_is_fine(self, ciudades):
        ind = _ind(ciudades, "1.4.A")
        y2 = ReportingPeriod.objects.get(programme=ciudades, code="Y2")
        Target(
            indicator=ind, period=y2, original_value=Decimal(100), value=Decimal(100)
        ).full_clean()
        Target(
            indicator=ind,
            category=_cell("sex", "female"),
            original_value=Decimal(200),
            value=Decimal(200),
        ).full_clean()

    def test_a_target_cannot_be_negative(self, ciudades):
        bad = Target(
            indicator=_ind(ciudades, "1.2.A"),
            city=City.objects.get(code="SCL"),
            original_value=Decimal(-1),
            value=Decimal(-1),
        )
        assert_refused(bad, field="value", message="cannot be negative")
        assert_db_refuses(bad)

    def test_an_agency_target_needs_a_city(self, ciudades):
        bad = Target(
            indicator=_ind(ciudades, "1.2.A"),
            agency=Agency.objects.get(code="ILO"),
            original_value=Decimal(5),
            value=Decimal(5),
        )
        assert_refused(bad, field=None, message="choose the city")
        assert_db_refuses(bad)

    def test_a_target_for_a_city_outside_the_indicators_scope_is_refused(self, ciudades):
        # 2.2.E is a Santiago indicator: a Mexico City target makes no sense.
        bad = Target(
            indicator=_ind(ciudades, "2.2.E"),
            city=City.objects.get(code="CDMX"),
            original_value=Decimal(5),
            value=Decimal(5),
        )
        assert_refused(
            bad,
            field="city",
            message="CDMX is outside the cities in scope of indicator 2.2.E (SCL)",
        )

    def test_a_target_cell_must_be_of_a_dimension_the_indicator_asks(self, ciudades):
        bad = Target(
            indicator=_ind(ciudades, "1.2.A"),
            category=_cell("sex", "female"),
            original_value=Decimal(5),
            value=Decimal(5),
        )
        assert_refused(bad, field="category", message="not disaggregated by sex")

    def test_a_percentage_target_stays_within_0_and_100(self, ciudades):
        bad = Target(
            indicator=_ind(ciudades, "1.2.D"),
            city=City.objects.get(code="SCL"),
            original_value=Decimal(120),
            value=Decimal(120),
        )
        assert_refused(bad, field="value", message="between 0 and 100")

    def test_a_yes_no_target_is_one_or_zero(self, ciudades):
        target = Target.objects.get(indicator=_ind(ciudades, "1.1.C"))
        target.value = Decimal(2)
        assert_refused(target, field="value", message="1 (yes) or 0 (no)")

    def test_a_target_revision_needs_a_reason(self, ciudades):
        target = Target.objects.get(indicator=_ind(ciudades, "1.4.A"))
        bad = TargetRevision(
            target=target, old_value=Decimal(400), new_value=Decimal(350), reason=""
        )
        assert_refused(bad, field="reason", message="cannot be blank")
        assert_db_refuses(bad)


def _report(programme, **overrides) -> ProgressReport:
    values = dict(
        programme=programme,
        agency=Agency.objects.get(code="ILO"),
        city=City.objects.get(code="SCL"),
        period=ReportingPeriod.objects.get(programme=programme, code="2022-Q3"),
    )
    values.update(overrides)
    return ProgressReport(**values)


class TestReportsAndValues:
    def test_one_report_per_agency_city_and_period(self, ciudades):
        _report(ciudades).save()
        bad = _report(ciudades)
        assert_refused(bad, field=None, message="already exists")
        assert_db_refuses(bad)

    def test_one_joint_programme_wide_report_per_period(self, ciudades):
        # The Y2 joint report with no city exists: NULLs do not open a loophole.
        y2 = ReportingPeriod.objects.get(programme=ciudades, code="Y2")
        bad = _report(
            ciudades,
            agency=None,
            city=None,
            period=y2,
            status="approved",
            approved_at=dt.datetime(2022, 3, 1, tzinfo=dt.UTC),
        )
        assert_refused(bad, field=None, message="already exists")
        assert_db_refuses(bad)

    def test_an_approved_report_has_its_approval_date(self, ciudades):
        bad = _report(ciudades, status="approved")
        assert_refused(bad, field=None, message="needs its approval date")
        assert_db_refuses(bad)

    def _value(self, programme, code="1.2.A", **overrides) -> IndicatorValue:
        report = _report(programme)
        report.save()
        values = dict(report=report, indicator=_ind(programme, code), value=Decimal(10))
        values.update(overrides)
        return IndicatorValue(**values)

    def test_a_valid_value_passes(self, ciudades):
        self._value(ciudades).full_clean()

    def test_one_value_per_indicator_and_cell_in_a_report(self, ciudades):
        first = self._value(ciudades)
        first.save()
        bad = IndicatorValue(report=first.report, indicator=first.indicator, value=Decimal(3))
        assert_refused(bad, field=None, message="already has a value for this indicator and cell")
        assert_db_refuses(bad)

    def test_a_negative_count_is_refused(self, ciudades):
        bad = self._value(ciudades, value=Decimal(-4))
        assert_refused(bad, field="value", message="cannot be negative")
        assert_db_refuses(bad)

    def test_a_count_is_whole(self, ciudades):
        assert_refused(
            self._value(ciudades, value=Decimal("2.5")), field="value", message="whole number"
        )

    def test_a_percentage_needs_numerator_within_denominator(self, ciudades):
        bad = self._value(
            ciudades, "1.2.D", value=Decimal(100), numerator=Decimal(12), denominator=Decimal(10)
        )
        assert_refused(bad, field=None, message="numerator cannot exceed the denominator")
        assert_db_refuses(bad)

    def test_a_denominator_of_zero_is_refused(self, ciudades):
        bad = self._value(
            ciudades, "1.2.D", value=Decimal(0), numerator=Decimal(0), denominator=Decimal(0)
        )
        assert_refused(bad, field=None, message="denominator must be greater than zero")
        assert_db_refuses(bad)

    def test_a_percentage_must_match_its_parts(self, ciudades):
        bad = self._value(
            ciudades, "1.2.D", value=Decimal(90), numerator=Decimal(12), denominator=Decimal(20)
        )
        assert_refused(bad, field="value", message="does not match 12 / 20 = 60.0 %")

    def test_numerator_and_denominator_are_for_percentages_only(self, ciudades):
        bad = self._value(ciudades, value=Decimal(10), numerator=Decimal(1), denominator=Decimal(2))
        assert_refused(bad, field="numerator", message="are for percentages")

    def test_a_value_for_a_city_outside_the_scope_is_refused(self, ciudades):
        # The report is for Santiago; 1.3.B is a Mexico City indicator.
        bad = self._value(ciudades, "1.3.B")
        assert_refused(
            bad, field="indicator", message="SCL is outside the cities in scope of indicator 1.3.B"
        )

    def test_a_value_needs_a_number(self, ciudades):
        assert_refused(self._value(ciudades, value=None), field="value", message="Enter a value")

    def test_a_cell_must_be_of_a_dimension_the_indicator_asks(self, ciudades):
        bad = self._value(ciudades, "1.2.C", category=_cell("nationality", "haitian"))
        assert_refused(bad, field="category", message="not disaggregated by nationality")

    def test_a_stated_component_cannot_be_negative(self, ciudades):
        value = IndicatorValue.objects.filter(components__isnull=False).first()
        bad = ValueComponent(value=value, label_es="x", label_en="x", amount=Decimal(-1))
        assert_refused(bad, field=None, message="cannot be negative")
        assert_db_refuses(bad)
