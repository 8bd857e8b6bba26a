"""A small programme for budget tests: the golden programme of the engine tests (2030, two
agencies X and Y) with a second country, four budget lines, approved spending per period and
cumulative, a draft that must not count, and a line that never reported:

    line   category        output  budget  approved spending                     spent
    X/ZZ   outcome 1       O1       1,000  Q1 200 + Q2 300 (as of 30 Jun)          500
    X/ZY   indirect        —          500  cumulative 100 to 31 May + Q3 50 (30 Sep) 150
    Y/ZZ   staff           —        2,000  (a draft of 999 only)                  none
    Y/ZY   outcome 1       —          800  Q1 800 (31 Mar)                          800

The programme runs 1 Jan – 31 Dec 2030: 364 days between its dates."""

import datetime as dt
from decimal import Decimal

from budgets.models import BudgetCategory, BudgetLine, Expenditure
from monitoring.models import City, Country, Output, ProgrammeCity
from tests.indicators.engine_fixtures import Gold

D = Decimal


class BudgetGold(Gold):
    def __init__(self) -> None:
        super().__init__()
        self.zz = Country.objects.get(code="ZZ")
        self.zy, _ = Country.objects.get_or_create(
            code="ZY", defaults={"name_es": "Ye", "name_en": "Why"}
        )
        city = City.objects.create(code="GOLD-C", country=self.zy, name_es="C", name_en="C")
        ProgrammeCity.objects.create(programme=self.programme, city=city)
        self.output = Output.objects.create(
            programme=self.programme, outcome=self.outcome, code="1.1", title_es="O", title_en="O"
        )
        cat = {c.code: c for c in BudgetCategory.objects.all()}
        self.lines = {
            "X/ZZ": self.line("X", self.zz, 1000, cat["fund-outcome-1"], self.output),
            "X/ZY": self.line("X", self.zy, 500, cat["fund-indirect"]),
            "Y/ZZ": self.line("Y", self.zz, 2000, cat["fund-staff"]),
            "Y/ZY": self.line("Y", self.zy, 800, cat["fund-outcome-1"]),
        }
        self.spend("X/ZZ", "Q1", 200, "2030-03-31")
        self.spend("X/ZZ", "Q2", 300, "2030-06-30")
        self.spend("X/ZY", "Q2", 100, "2030-05-31", cumulative=True)
        self.spend("X/ZY", "Q3", 50, "2030-09-30")
        self.spend("Y/ZZ", "Q2", 999, "2030-06-30", status="draft")
        self.spend("Y/ZY", "Q1", 800, "2030-03-31")

    def line(self, agency, country, amount, category, output=None) -> BudgetLine:
        return BudgetLine.objects.create(
            programme=self.programme, agency=self.agency[agency], country=country,
            category=category, output=output, amount=D(amount), original_amount=D(amount),
        )  # fmt: skip

    def spend(self, line, period, amount, as_of, *, cumulative=False, status="approved"):
        approved = status == "approved"
        return Expenditure.objects.create(
            line=self.lines[line], period=self.period[period], amount=D(amount),
            as_of=dt.date.fromisoformat(as_of), cumulative=cumulative, status=status,
            approved_at=dt.datetime(2030, 10, 1, tzinfo=dt.UTC) if approved else None,
        )  # fmt: skip
