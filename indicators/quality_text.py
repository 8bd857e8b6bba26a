"""Data-quality findings in words, in the reader's language. Findings store numbers and codes;
the sentence is made when it is shown."""

from functools import cached_property
from typing import Any

from django.utils.translation import gettext as _

from monitoring.bilingual import active_content_language, pick
from monitoring.models import Programme

from .models import DisaggregationDimension, QualityIssue
from .selectors.lookups import ProgrammeLookups

Check = QualityIssue.Check


class Names:
    """Names of the things findings refer to, each kind fetched once per page and only if a
    finding needs it."""

    def __init__(self, lookups: ProgrammeLookups) -> None:
        self.lookups = lookups

    @classmethod
    def for_programme(cls, programme: Programme) -> "Names":
        return cls(ProgrammeLookups(programme))

    @cached_property
    def cities(self) -> dict[Any, str]:
        cities: dict[Any, str] = {}
        for c in self.lookups.cities:
            cities[c.pk] = cities[c.code] = c.name
        return cities

    @cached_property
    def agencies(self) -> dict[int, str]:
        return {a.pk: a.acronym for a in self.lookups.agencies}

    @cached_property
    def periods(self) -> dict[int, str]:
        return {p.pk: p.name for p in self.lookups.periods}

    @cached_property
    def dimensions(self) -> dict[str, str]:
        return {d.code: pick(d, "name") for d in DisaggregationDimension.objects.all()}


def describe(issue: QualityIssue, names: Names) -> str:
    d = issue.details
    kind = issue.kind
    if kind == Check.CELLS_SUM:
        return _(
            "The %(dimension)s cells add up to %(cells)s but the total is %(total)s (difference %(difference)s)."
        ) % {
            "dimension": names.dimensions.get(d["dimension"], d["dimension"]),
            "cells": d["cells"],
            "total": d["total"],
            "difference": d["difference"],
        }
    if kind == Check.COMPONENTS_SUM:
        return (
            _(
                "The %(parts)s stated components add up to %(sum)s, not to the reported total of %(total)s (difference %(difference)s)."
            )
            % d
        )
    if kind == Check.COMPONENTS_UNITS:
        units = d["units_es"] if active_content_language() == "es" else d["units_en"]
        return _(
            "The total of %(total)s adds components counted in different units: %(units)s."
        ) % {"total": d["total"], "units": ", ".join(units)}
    if kind == Check.COMPONENTS_UNSTATED:
        return (
            _(
                "%(missing)s of %(parts)s stated components have no figure, so the total cannot be checked against them."
            )
            % d
        )
    if kind == Check.UNWEIGHTED_MEAN:
        cities = ", ".join(
            f"{names.cities.get(c, c)} {v} %" for c, v in d.get("cities", {}).items()
        )
        if d.get("reported"):
            return _(
                "The reported %(value)s %% is the unweighted mean of the cities (%(cities)s); without the number of respondents in each it cannot be weighted."
            ) % {"value": d["value"], "cities": cities}
        return _(
            "%(value)s %% combines the cities (%(cities)s) as an unweighted mean: numerators and denominators are missing."
        ) % {"value": d["value"], "cities": cities}
    if kind == Check.SMALL_SAMPLE:
        return _("%(value)s %% rests on %(respondents)s respondents, fewer than 30.") % d
    if kind == Check.CHANGED_AFTER_APPROVAL:
        return _("Changed on %(changed)s, after its approval on %(approved)s.") % {
            "changed": d["changed"][:10],
            "approved": d["approved"][:10],
        }
    where = {
        "agency": names.agencies.get(issue.agency_id or 0, ""),
        "city": names.cities.get(issue.city_id, ""),
        "period": names.periods.get(issue.period_id or 0, ""),
    }
    if kind == Check.REPORT_MISSING:
        return _("No report from %(agency)s for %(city)s for %(period)s (due %(due)s).") % {
            **where,
            "due": d["due"],
        }
    if kind == Check.REPORT_LATE:
        return _(
            "%(agency)s submitted its %(city)s report for %(period)s on %(submitted)s, after the due date %(due)s."
        ) % {**where, "due": d["due"], "submitted": d["submitted"]}
    return str(issue.get_kind_display())
