"""The RCO's joint report: consolidated (de-duplicated) totals per city and quarter for the
indicators whose agencies' figures overlap. The RCO enters and submits them; another RCO
member or the programme admin approves (never the one who submitted); approved is final;
agencies see it once approved; its figure is the city's figure in the rollups."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from indicators.models import Indicator, ProgressReport, Rollup
from indicators.selectors.reports import indicators_in_scope
from monitoring.models import City

from .report_fixtures import FIGURES, PERIOD, login, report_url

pytestmark = pytest.mark.django_db
JOINT = {"agency": "JOINT", "city": "SCL"}


def user(name):
    return get_user_model().objects.get(username=name)


def joint_indicators(ciudades):
    return indicators_in_scope(programme=ciudades, agency=None, city=City.objects.get(code="SCL"))


def data(indicators, version, total="40"):
    out = {"version": str(version), "narrative_es": "", "narrative_en": ""}
    for ind in indicators:
        out[f"i{ind.pk}_total"] = total if ind.measure == "count" else FIGURES[ind.measure]
    return out


def the_report():
    return ProgressReport.objects.get(period__code=PERIOD, agency=None, city__code="SCL")


def test_the_joint_report_asks_for_the_consolidated_indicators_of_the_city(client, ciudades):
    indicators = joint_indicators(ciudades)
    expected = Indicator.objects.filter(
        programme=ciudades, is_active=True, agency_rule="consolidated", cities__code="SCL"
    ).exclude(measure="text")
    assert {i.code for i in indicators} == set(expected.values_list("code", flat=True))
    assert "1.2.A" in {i.code for i in indicators}
    login(client, user("rco"))
    page = client.get(report_url(**JOINT)).content.decode()
    assert "Joint (RCO)" in page and 'id="report-form"' in page
    assert "Work offline in Excel" not in page  # the workbook is the agencies'
    assert client.get(report_url(action="workbook", **JOINT)).status_code == 404


def test_rco_enters_admin_approves_and_the_city_figure_is_consolidated(
    client, ciudades, django_capture_on_commit_callbacks
):
    indicators = joint_indicators(ciudades)
    login(client, user("rco"))
    assert (
        client.post(report_url(**JOINT), {**data(indicators, 0), "action": "submit"}).status_code
        == 302
    )
    assert the_report().status == "submitted"
    version = the_report().version
    assert (
        client.post(report_url(action="approve", **JOINT), {"version": version}).status_code == 403
    )

    login(client, user("coord.ilo.scl"))
    assert client.get(report_url(**JOINT)).status_code == 403  # not approved yet

    login(client, user("admin"))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(report_url(action="approve", **JOINT), {"version": version})
    report = the_report()
    assert (report.status, report.approved_by.username) == ("approved", "admin")
    a12 = Indicator.objects.get(programme=ciudades, code="1.2.A")
    rollup = Rollup.objects.get(
        indicator=a12, period__code=PERIOD, scope=Rollup.Scope.CITY, city__code="SCL",
        category=None,
    )  # fmt: skip
    assert (rollup.actual, rollup.method) == (Decimal(40), "consolidated")

    login(client, user("rco"))  # approved is final: no second tier for the RCO's own figures
    validate = {"version": the_report().version}
    assert client.post(report_url(action="validate", **JOINT), validate).status_code == 403
    login(client, user("coord.ilo.scl"))
    assert client.get(report_url(**JOINT)).status_code == 200


def test_agencies_cannot_enter_the_joint_report(client, ciudades):
    indicators = joint_indicators(ciudades)
    for name in ("coord.ilo.scl", "approver.ilo", "donor"):
        login(client, user(name))
        response = client.post(report_url(**JOINT), {**data(indicators, 0), "action": "save"})
        assert response.status_code == 403, name
    assert not ProgressReport.objects.filter(period__code=PERIOD, agency=None).exists()


def test_the_rco_calendar_lists_the_joint_reports(client, ciudades):
    calendar = reverse("reports:calendar", args=["CIUDADES"])
    login(client, user("rco"))
    page = client.get(calendar).content.decode()
    assert report_url(**JOINT) in page
    login(client, user("coord.ilo.scl"))
    assert "/JOINT/" not in client.get(calendar).content.decode()
