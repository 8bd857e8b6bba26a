"""What every export says about its figures: as of which period and computation, and whether
approved figures were restated after approval (and when last), so a donor reconciling two
downloads knows whether to look again."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Max
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from indicators.models import Restatement, Rollup
from monitoring.models import Programme


@dataclass(frozen=True)
class ExportStamp:
    programme: str
    generated_at: dt.datetime
    as_of_period: str | None
    as_of_date: dt.date | None
    computed_at: dt.datetime | None
    restatements: int
    last_restated_at: dt.datetime | None

    def sentence(self) -> str:
        """One line for the top of a file or page, in the active language."""
        if self.as_of_date is None:
            head = _("No approved figures yet.")
        else:
            head = _("Approved figures as of %(period)s (%(date)s), computed %(computed)s.") % {
                "period": self.as_of_period,
                "date": self.as_of_date.isoformat(),
                "computed": _moment(self.computed_at),
            }
        if not self.restatements:
            tail = _("No approved figure has been restated since its approval.")
        else:
            tail = ngettext(
                "%(n)d approved figure has been restated since its approval, the last on %(date)s.",
                "%(n)d approved figures have been restated since their approval, the last on "
                "%(date)s.",
                self.restatements,
            ) % {"n": self.restatements, "date": _moment(self.last_restated_at)}
        return f"{head} {tail}"

    def as_dict(self) -> dict[str, object]:
        return {
            "programme": self.programme,
            "generated_at": self.generated_at.isoformat(),
            "as_of_period": self.as_of_period,
            "as_of_date": self.as_of_date.isoformat() if self.as_of_date else None,
            "computed_at": self.computed_at.isoformat() if self.computed_at else None,
            "restatements": self.restatements,
            "last_restated_at": (
                self.last_restated_at.isoformat() if self.last_restated_at else None
            ),
        }

    def headers(self) -> dict[str, str]:
        """The same facts as HTTP response headers (for the CSV, which has no room for them)."""
        out = {
            "X-Generated-At": self.generated_at.isoformat(),
            "X-Restatements": str(self.restatements),
        }
        if self.as_of_date:
            out["X-As-Of"] = f"{self.as_of_period} {self.as_of_date.isoformat()}"
        if self.computed_at:
            out["X-Computed-At"] = self.computed_at.isoformat()
        if self.last_restated_at:
            out["X-Last-Restated-At"] = self.last_restated_at.isoformat()
        return out


def _moment(value: dt.datetime | None) -> str:
    if value is None:
        return "—"
    return formats.date_format(timezone.localtime(value), "Y-m-d H:i")


def export_stamp(programme: Programme) -> ExportStamp:
    latest = (
        Rollup.objects.filter(programme=programme)
        .order_by("-as_of", "-period_id")
        .values("period__code", "as_of")
        .first()
    )
    computed = Rollup.objects.filter(programme=programme).aggregate(at=Max("computed_at"))["at"]
    restated = Restatement.objects.filter(value__report__programme=programme).aggregate(
        n=Count("id"), last=Max("restated_at")
    )
    return ExportStamp(
        programme=programme.code,
        generated_at=timezone.now(),
        as_of_period=latest["period__code"] if latest else None,
        as_of_date=latest["as_of"] if latest else None,
        computed_at=computed,
        restatements=restated["n"],
        last_restated_at=restated["last"],
    )
