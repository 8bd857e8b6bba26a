"""Golden cases for the engine's semantics (DESIGN §3.1): each case states the data, the rule
and the figure a careful M&E officer would compute by hand."""

from decimal import Decimal

import pytest

from indicators.engine.recompute import recompute
from indicators.models import Rollup
from tests.indicators.engine_fixtures import Gold

pytestmark = pytest.mark.django_db


@pytest.fixture
def gold(db) -> Gold:
    return Gold()


def D(x) -> Decimal:
    return Decimal(str(x))


def run(gold: Gold) -> None:
    recompute(gold.programme.indicators.values_list("pk", flat=True))


class TestTime:
    def test_sum_adds_the_quarters(self, gold):
        ind = gold.indicator(time_rule="sum")
        gold.value(ind, "Q1", 10)
        gold.value(ind, "Q2", 20)
        run(gold)
        assert gold.rollup(ind, span="period", as_of="Q2").actual == 20
        assert gold.rollup(ind, as_of="Q1").actual == 10
        assert gold.rollup(ind, as_of="Q2").actual == 30

    def test_latest_takes_the_current_state(self, gold):
        ind = gold.indicator(time_rule="latest")
        gold.value(ind, "Q1", 10)
        gold.value(ind, "Q2", 20)
        run(gold)
        assert gold.rollup(ind, as_of="Q2").actual == 20

    def test_latest_keeps_a_city_that_did_not_report_this_quarter(self, gold):
        # Santiago-like city A reports twice, B only in Q1: the programme's state in Q2 is
        # A's Q2 plus B's last known Q1, not A alone.
        ind = gold.indicator(time_rule="latest", place_rule="sum")
        gold.value(ind, "Q1", 5, city="A")
        gold.value(ind, "Q2", 7, city="A")
        gold.value(ind, "Q1", 3, city="B")
        run(gold)
        assert gold.rollup(ind, as_of="Q2").actual == 10
        assert gold.rollup(ind, span="period", as_of="Q2").actual == 7

    def test_max_and_mean_over_time(self, gold):
        high = gold.indicator(time_rule="max")
        avg = gold.indicator(time_rule="mean")
        for q, v in (("Q1", 4), ("Q2", 9), ("Q3", 5)):
            gold.value(high, q, v)
            gold.value(avg, q, v)
        run(gold)
        assert gold.rollup(high, as_of="Q3").actual == 9
        assert gold.rollup(avg, as_of="Q3").actual == 6

    def test_missing_quarters_are_not_zeros(self, gold):
        ind = gold.indicator(time_rule="sum")
        gold.value(ind, "Q1", 10)
        gold.value(ind, "Q3", 5)
        run(gold)
        assert gold.rollup(ind, as_of="Q3").actual == 15
        assert not gold.rollups(ind, period=gold.period["Q2"]).exists()

    def test_year_to_date_runs_within_the_reporting_year(self, gold):
        ind = gold.indicator(time_rule="sum")
        gold.value(ind, "Q1", 10)
        gold.value(ind, "Q2", 20)
        gold.target(ind, 120, period="Y")
        run(gold)
        ytd = gold.rollup(ind, span="ytd", as_of="Q2")
        assert ytd.actual == 30
        assert ytd.target == 120
        # 181 of 365 days of the year elapsed by 30 June: expected 120 × 181/365.
        assert ytd.expected.quantize(D("0.01")) == D("59.51")

    def test_percentages_take_the_latest_parts(self, gold):
        ind = gold.indicator(measure="percent", time_rule="latest", place_rule="weighted")
        gold.value(ind, "Q1", 50, num=5, den=10)
        gold.value(ind, "Q2", 75, num=15, den=20)
        run(gold)
        row = gold.rollup(ind, as_of="Q2")
        assert (row.actual, row.numerator, row.denominator) == (75, 15, 20)


class TestPlace:
    def test_weighted_uses_numerators_and_denominators(self, gold):
        ind = gold.indicator(measure="percent", time_rule="latest", place_rule="weighted")
        gold.value(ind, "Q1", 100, num=10, den=10, city="A")
        gold.value(ind, "Q1", 80, num=40, den=50, city="B")
        run(gold)
        row = gold.rollup(ind, as_of="Q1")
        assert row.actual.quantize(D("0.01")) == D("83.33")  # 50 / 60, not (100 + 80) / 2
        assert (row.numerator, row.denominator, row.method) == (50, 60, "weighted")

    def test_without_the_parts_it_falls_back_to_an_unweighted_mean_and_says_so(self, gold):
        ind = gold.indicator(measure="percent", time_rule="latest", place_rule="weighted")
        gold.value(ind, "Q1", 100, city="A")
        gold.value(ind, "Q1", 80, city="B")
        run(gold)
        row = gold.rollup(ind, as_of="Q1")
        assert (row.actual, row.method) == (90, "unweighted")

    def test_a_declared_mean_is_a_mean(self, gold):
        ind = gold.indicator(measure="level", time_rule="latest", place_rule="mean")
        gold.value(ind, "Q1", 2, city="A")
        gold.value(ind, "Q1", 3, city="B")
        run(gold)
        row = gold.rollup(ind, as_of="Q1")
        assert (row.actual, row.method) == (D("2.5"), "mean")

    def test_yes_no_all_and_any(self, gold):
        every = gold.indicator(measure="yes_no", time_rule="latest", place_rule="all")
        some = gold.indicator(measure="yes_no", time_rule="latest", place_rule="any")
        for ind in (every, some):
            gold.value(ind, "Q1", 1, city="A")
            gold.value(ind, "Q1", 0, city="B")
        run(gold)
        assert gold.rollup(every, as_of="Q1").actual == 0
        assert gold.rollup(some, as_of="Q1").actual == 1

    def test_city_specific_indicators_have_no_programme_total(self, gold):
        ind = gold.indicator(place_rule="none", cities=("A",))
        gold.value(ind, "Q1", 4, city="A")
        run(gold)
        assert gold.rollup(ind, scope="city", city="A", as_of="Q1").actual == 4
        assert not gold.rollups(ind, scope="programme").exists()

    def test_a_total_reported_for_the_programme_wins(self, gold):
        ind = gold.indicator()
        gold.value(ind, "Q1", 4, city="A")
        gold.value(ind, "Q1", 5, city="B")
        gold.value(ind, "Q1", 8, city=None, agency=None)  # de-duplicated by the RCO
        run(gold)
        row = gold.rollup(ind, as_of="Q1")
        assert (row.actual, row.method) == (8, "reported")
        assert gold.rollup(ind, scope="city", city="B", as_of="Q1").actual == 5


class TestAgencies:
    def test_agencies_add_up_in_a_city(self, gold):
        ind = gold.indicator(agency_rule="sum")
        gold.value(ind, "Q1", 10, agency="X")
        gold.value(ind, "Q1", 15, agency="Y")
        run(gold)
        city = gold.rollup(ind, scope="city", city="A", as_of="Q1")
        assert (city.actual, city.method) == (25, "sum")
        assert gold.rollup(ind, scope="agency", agency="Y", as_of="Q1").actual == 15
        assert gold.rollup(ind, scope="city_agency", city="A", agency="X", as_of="Q1").actual == 10

    def test_consolidated_totals_replace_the_gross_sum(self, gold):
        # Both agencies served some of the same people: the RCO enters 20, not 25.
        ind = gold.indicator(agency_rule="consolidated")
        gold.value(ind, "Q1", 10, agency="X")
        gold.value(ind, "Q1", 15, agency="Y")
        gold.value(ind, "Q1", 20, agency=None)
        run(gold)
        city = gold.rollup(ind, scope="city", city="A", as_of="Q1")
        assert (city.actual, city.method) == (20, "consolidated")
        assert gold.rollup(ind, as_of="Q1").actual == 20
        # The agencies' own figures stay visible as gross contributions.
        assert gold.rollup(ind, scope="agency", agency="X", as_of="Q1").actual == 10

    def test_without_a_consolidated_total_the_gross_sum_is_flagged(self, gold):
        ind = gold.indicator(agency_rule="consolidated")
        gold.value(ind, "Q1", 10, agency="X")
        gold.value(ind, "Q1", 15, agency="Y")
        run(gold)
        city = gold.rollup(ind, scope="city", city="A", as_of="Q1")
        assert (city.actual, city.method) == (25, "gross")


class TestTargetsAndStatus:
    def test_decrease_indicators(self, gold):
        # Waiting days for a service: from 100 down to 50; now 75 → half way.
        ind = gold.indicator(time_rule="latest", direction="decrease")
        gold.baseline(ind, 100)
        gold.target(ind, 50)
        gold.value(ind, "Q4", 75)
        run(gold)
        assert gold.rollup(ind).achievement == 50

    def test_change_from_baseline_targets(self, gold):
        ind = gold.indicator(time_rule="latest", target_kind="change")
        gold.baseline(ind, 20)
        gold.target(ind, 60)
        gold.value(ind, "Q4", 40)
        run(gold)
        assert gold.rollup(ind).achievement == 50

    def test_yes_no_milestones(self, gold):
        done = gold.indicator(
            measure="yes_no", time_rule="latest", place_rule="none", cities=("A",)
        )
        pending = gold.indicator(
            measure="yes_no", time_rule="latest", place_rule="none", cities=("A",)
        )
        for ind in (done, pending):
            gold.target(ind, 1, city="A")
        gold.value(done, "Q2", 1)
        gold.value(pending, "Q2", 0)
        gold.value(pending, "Q4", 0)
        run(gold)
        assert gold.rollup(done, scope="city", city="A", as_of="Q2").status == "achieved"
        # Not yet due in June: on track; still no at the end of the programme: off track.
        assert gold.rollup(pending, scope="city", city="A", as_of="Q2").status == "on_track"
        end = gold.rollup(pending, scope="city", city="A", as_of="Q4")
        assert (end.achievement, end.status) == (0, "off_track")

    @pytest.mark.parametrize(
        ("actual", "status"),
        [(45, "on_track"), (40, "at_risk"), (25, "off_track"), (100, "achieved")],
    )
    def test_status_against_expected_by_now(self, gold, actual, status):
        # Target 100 for the year; by 30 June 181/365 of it is expected (49.59).
        ind = gold.indicator()
        gold.target(ind, 100)
        gold.value(ind, "Q2", actual)
        run(gold)
        row = gold.rollup(ind, as_of="Q2")
        assert row.expected.quantize(D("0.01")) == D("49.59")
        assert row.status == status

    def test_thresholds_are_the_programmes(self, gold):
        gold.programme.on_track_threshold, gold.programme.at_risk_threshold = D(80), D(50)
        gold.programme.save()
        ind = gold.indicator()
        gold.target(ind, 100)
        gold.value(ind, "Q2", 40)  # 80.7 % of expected
        run(gold)
        assert gold.rollup(ind, as_of="Q2").status == "on_track"

    def test_a_figure_without_target_is_not_assessed(self, gold):
        ind = gold.indicator()
        gold.value(ind, "Q1", 3)
        run(gold)
        row = gold.rollup(ind, as_of="Q1")
        assert (row.target, row.achievement, row.status) == (None, None, "not_assessed")

    def test_city_targets_add_up_to_a_programme_target(self, gold):
        ind = gold.indicator()
        gold.target(ind, 30, city="A")
        gold.target(ind, 70, city="B")
        gold.value(ind, "Q4", 20, city="A")
        gold.value(ind, "Q4", 30, city="B")
        run(gold)
        row = gold.rollup(ind)
        assert (row.target, row.achievement) == (100, 50)
        assert gold.rollup(ind, scope="city", city="A").achievement.quantize(D("0.01")) == D(
            "66.67"
        )

    def test_period_targets_apply_to_their_period(self, gold):
        ind = gold.indicator()
        gold.target(ind, 40, period="Q1")
        gold.value(ind, "Q1", 30)
        run(gold)
        row = gold.rollup(ind, span="period", as_of="Q1")
        assert (row.target, row.achievement, row.status) == (40, 75, "at_risk")


class TestCellsAndSources:
    def test_cells_are_rolled_up_for_the_programme(self, gold):
        ind = gold.indicator(dimensions=("sex",))
        gold.value(ind, "Q1", 10, city="A")
        gold.value(ind, "Q1", 6, city="A", cell=gold.female)
        gold.value(ind, "Q1", 4, city="B", cell=gold.female)
        run(gold)
        assert gold.rollup(ind, as_of="Q1", cell=gold.female).actual == 10
        # Cells are kept for the programme only (a performance choice, DESIGN §10): cities'
        # and agencies' rows are totals.
        assert (
            not gold.rollups(ind, category=gold.female)
            .exclude(scope=Rollup.Scope.PROGRAMME)
            .exists()
        )

    def test_cells_honour_a_consolidated_figure(self, gold):
        ind = gold.indicator(dimensions=("sex",), agency_rule="consolidated")
        gold.value(ind, "Q1", 6, city="A", agency="X", cell=gold.female)
        gold.value(ind, "Q1", 5, city="A", agency="Y", cell=gold.female)
        gold.value(ind, "Q1", 8, city="A", agency=None, cell=gold.female)  # de-duplicated
        gold.value(ind, "Q1", 2, city="B", agency="X", cell=gold.female)
        run(gold)
        assert gold.rollup(ind, as_of="Q1", cell=gold.female).actual == 10

    def test_only_approved_values_count(self, gold):
        ind = gold.indicator()
        gold.value(ind, "Q1", 10, city="A")
        gold.value(ind, "Q1", 99, city="B", status="draft")
        gold.value(ind, "Q2", 99, city="B", status="submitted")
        gold.value(ind, "Q3", 99, city="A", agency="Y", status="returned")
        run(gold)
        assert gold.rollup(ind, as_of="Q1").actual == 10
        assert not gold.rollups(ind, period=gold.period["Q2"]).exists()

    def test_rows_say_how_many_values_they_come_from(self, gold):
        ind = gold.indicator()
        gold.value(ind, "Q1", 1, city="A")
        gold.value(ind, "Q2", 1, city="A")
        gold.value(ind, "Q2", 1, city="B", agency="Y")
        run(gold)
        assert gold.rollup(ind, as_of="Q1").n_values == 1
        assert gold.rollup(ind, as_of="Q2").n_values == 3


class TestIdempotence:
    def test_running_twice_gives_the_same_table(self, gold):
        ind = gold.indicator(time_rule="latest")
        gold.value(ind, "Q1", 5)
        gold.value(ind, "Q2", 6, city="B")
        run(gold)
        fields = [
            "scope",
            "city",
            "agency",
            "period",
            "category",
            "ltd_actual",
            "ltd_target",
            "ltd_status",
        ]
        first = sorted(Rollup.objects.filter(indicator=ind).values_list(*fields), key=str)
        run(gold)
        assert sorted(Rollup.objects.filter(indicator=ind).values_list(*fields), key=str) == first

    def test_a_partial_run_leaves_other_indicators_alone(self, gold):
        one, two = gold.indicator(), gold.indicator()
        gold.value(one, "Q1", 1)
        gold.value(two, "Q1", 2)
        recompute([one.pk, two.pk])
        untouched = Rollup.objects.filter(indicator=two).values_list("pk", "computed_at")
        before = list(untouched)
        recompute([one.pk])
        assert list(untouched) == before
