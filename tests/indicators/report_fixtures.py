"""Helpers for the quarterly report tests. The demo load reopens Ciudades's last quarter
(2023-Q2) for entry, as an admin would for late reports; the tests enter that quarter."""

from django.urls import reverse

from indicators.models import Indicator
from indicators.selectors.reports import activities_in_scope, indicators_in_scope
from monitoring.models import Agency, City, Programme

PERIOD = "2023-Q2"
FIGURES = {"count": "5", "percent": "60", "yes_no": "1", "level": "2", "amount": "100"}


def login(client, user):
    client.force_login(user)
    return client


def report_url(
    agency: str = "ILO", city: str = "SCL", period: str = PERIOD, action: str = "report"
) -> str:
    return reverse(f"reports:{action}", args=["CIUDADES", period, agency, city])


def scope_indicators(
    programme: Programme, agency: str = "ILO", city: str = "SCL"
) -> list[Indicator]:
    return indicators_in_scope(
        programme=programme,
        agency=Agency.objects.get(code=agency),
        city=City.objects.get(code=city),
    )


def form_data(
    indicators: list[Indicator], *, version: int, fill: bool, agency: str = "ILO", city: str = "SCL"
) -> dict[str, str]:
    """What a coordinator posts: every indicator's total and, when filled, every activity's
    status (not started)."""
    data = {"version": str(version), "narrative_es": "", "narrative_en": ""}
    for ind in indicators:
        data[f"i{ind.pk}_total"] = FIGURES[ind.measure] if fill else ""
    if fill and indicators:
        for activity in activities_in_scope(
            programme=indicators[0].programme,
            agency=Agency.objects.get(code=agency),
            city=City.objects.get(code=city),
        ):
            data[f"a{activity.pk}_status"] = "not_started"
    return data


def enter(client, indicators, *, version: int, action: str = "save", **overrides) -> None:
    response = client.post(
        report_url(**overrides),
        {**form_data(indicators, version=version, fill=True), "action": action},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
