"""A programme's cities, agencies, outcomes and periods, fetched once per request and shared
by the filter form, the compliance grid and the wording of data-quality findings."""

from functools import cached_property

from django.db.models import BooleanField, ExpressionWrapper, Q

from monitoring.models import Agency, City, Outcome, Programme, ReportingPeriod

from ..models import Rollup


class ProgrammeLookups:
    def __init__(self, programme: Programme) -> None:
        self.programme = programme

    @cached_property
    def cities(self) -> list[City]:
        return list(self.programme.cities.order_by("programmecity__id"))

    @cached_property
    def agencies(self) -> list[Agency]:
        return list(self.programme.agencies.order_by("code"))

    @cached_property
    def outcomes(self) -> list[Outcome]:
        return list(self.programme.outcomes.order_by("order", "code"))

    @cached_property
    def periods(self) -> list[ReportingPeriod]:
        """Every period, each marked ``has_figures`` when active indicators have approved
        figures as of it."""
        # One uncorrelated subquery (hashed once over the programme's rollups), not an
        # EXISTS per period: the planner may answer each of those with a scan of the whole
        # rollup table.
        with_figures = Rollup.objects.filter(
            programme=self.programme, indicator__is_active=True
        ).values("period_id")
        return list(
            ReportingPeriod.objects.filter(programme=self.programme)
            .annotate(
                has_figures=ExpressionWrapper(Q(pk__in=with_figures), output_field=BooleanField())
            )
            .order_by("end_date", "start_date")
        )

    def periods_with_figures(self) -> list[ReportingPeriod]:
        return [p for p in self.periods if p.has_figures]  # type: ignore[attr-defined]
