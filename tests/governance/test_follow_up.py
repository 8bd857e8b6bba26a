"""Agreements and tools: their current status is the latest observed, the page says how long
since the last follow-up and flags what nobody has looked at for six months (the loaded
Ciudades items, last seen by the 2023 evaluation), a status update recorded through the page
clears the flag; the agency responsible, the RCO and the admins record, others are refused;
bad dates are refused on their field."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from governance.models import Agreement, Tool
from governance.selectors.followup import STALE_AFTER_MONTHS, months_between

pytestmark = pytest.mark.django_db


def url(name: str, *args) -> str:
    return reverse(f"governance:{name}", args=["CIUDADES", *args])


def observed(**changes) -> dict:
    data = {
        "observed_on": timezone.localdate().isoformat(),
        "status": "in_use",
        "institution": "Municipalidad de Santiago",
        "evidence_es": "",
        "evidence_en": "",
    }
    data.update(changes)
    return data


def test_months_between_counts_whole_months():
    assert months_between(dt.date(2023, 7, 1), dt.date(2026, 3, 2)) == 32
    assert months_between(dt.date(2026, 1, 31), dt.date(2026, 2, 28)) == 0
    assert months_between(dt.date(2026, 3, 2), dt.date(2026, 1, 1)) == 0
    assert STALE_AFTER_MONTHS == 6


def test_the_page_flags_what_has_not_been_followed_up(browser, loaded):
    response = browser("rco").get(url("follow_up"))
    tools = {f.item.code: f for f in response.context["tools"]}
    agreements = {f.item.code: f for f in response.context["agreements"]}
    today = timezone.localdate()
    manual = tools["MANUAL-RUTA"]
    assert (manual.status, manual.last_on) == ("adopted by the institution", dt.date(2023, 7, 1))
    assert manual.months == months_between(dt.date(2023, 7, 1), today) and manual.stale
    assert tools["IGM-SCL"].last_on == dt.date(2022, 11, 1)
    assert agreements["AC-CDMX"].status == "signed"
    assert all(f.stale for f in [*tools.values(), *agreements.values()])
    html = response.content.decode()
    assert f"not followed up for {manual.months} months" in html


def test_a_tool_never_followed_up_says_so(browser, loaded):
    Tool.objects.create(
        programme=loaded, code="NEW", title_es="Guía", title_en="Guide", kind="guide"
    )
    response = browser("rco").get(url("follow_up"))
    new = next(f for f in response.context["tools"] if f.item.code == "NEW")
    assert (new.status, new.months, new.stale) == ("", None, True)
    assert "never followed up" in response.content.decode()


def test_the_responsible_agency_records_a_status_and_the_flag_clears(browser, loaded):
    client = browser("approver.iom")  # IOM is responsible for the Manual
    response = client.post(
        url("tool_adoption", "MANUAL-RUTA"), observed(evidence_en="Used by OMIL")
    )
    assert response.status_code == 302
    manual = Tool.objects.get(programme=loaded, code="MANUAL-RUTA")
    latest = manual.adoptions.order_by("-observed_on", "-pk").first()
    assert (latest.status, latest.institution, latest.evidence_en) == (
        "in_use",
        "Municipalidad de Santiago",
        "Used by OMIL",
    )
    row = next(
        f for f in client.get(url("follow_up")).context["tools"] if f.item.code == "MANUAL-RUTA"
    )
    assert (row.status, row.months, row.stale) == ("in use", 0, False)
    history = client.get(url("tool", "MANUAL-RUTA")).context["history"]
    assert [h.status for h in history] == ["in_use", "adopted", "produced"]  # newest first


def test_another_agency_may_not_record_for_the_tool(browser, loaded):
    client = browser("coord.ilo.scl")
    assert client.get(url("tool", "MANUAL-RUTA")).context["form"] is None
    assert client.post(url("tool_adoption", "MANUAL-RUTA"), observed()).status_code == 403
    assert client.post(url("tool_adoption", "WEB-CUT"), observed()).status_code == 302  # ILO's
    assert Tool.objects.get(programme=loaded, code="MANUAL-RUTA").adoptions.count() == 2


def test_bad_dates_are_refused_on_their_field(browser, loaded):
    client = browser("rco")
    future = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    response = client.post(url("tool_adoption", "MANUAL-RUTA"), observed(observed_on=future))
    assert response.status_code == 400
    assert "Observed on: A status cannot be observed in the future." in response.content.decode()
    before = client.post(url("tool_adoption", "MANUAL-RUTA"), observed(observed_on="2022-12-31"))
    assert (
        "Observed on: The tool was produced on 2023-01-01; this is before it."
        in before.content.decode()
    )
    status = client.post(url("tool_adoption", "MANUAL-RUTA"), observed(status="lost"))
    assert (
        "Status: Select a valid choice. lost is not one of the available choices."
        in status.content.decode()
    )
    assert Tool.objects.get(programme=loaded, code="MANUAL-RUTA").adoptions.count() == 2


def test_an_agreement_follows_its_latest_observation(browser, loaded):
    client = browser("coord.ilo.cdmx")  # ILO is party to the collaboration agreement
    data = {"observed_on": "2024-02-01", "status": "in_force", "note_es": "", "note_en": "Renewed"}
    assert client.post(url("agreement_status", "AC-CDMX"), data).status_code == 302
    agreement = Agreement.objects.get(programme=loaded, code="AC-CDMX")
    assert agreement.status == "in_force"
    older = data | {"observed_on": "2022-06-01", "status": "negotiating"}
    assert client.post(url("agreement_status", "AC-CDMX"), older).status_code == 302
    agreement.refresh_from_db()
    assert agreement.status == "in_force" and agreement.updates.count() == 4
    assert client.post(url("agreement_status", "CI-INTRARE"), data).status_code == 403  # IOM's
    assert client.post(url("agreement_status", "AC-VICARIA"), data).status_code == 403  # no agency
    assert browser("admin").post(url("agreement_status", "AC-VICARIA"), data).status_code == 302


def test_donors_read_shareable_items_and_record_nothing(browser, loaded):
    client = browser("donor")
    assert client.get(url("tool", "MANUAL-RUTA")).status_code == 200
    assert client.post(url("tool_adoption", "MANUAL-RUTA"), observed()).status_code == 403
    Tool.objects.filter(programme=loaded, code="POE-CDMX").update(shareable=False)
    assert client.get(url("tool", "POE-CDMX")).status_code == 404
    codes = [f.item.code for f in client.get(url("follow_up")).context["tools"]]
    assert "POE-CDMX" not in codes and "MANUAL-RUTA" in codes
    assert browser("rco").get(url("tool", "POE-CDMX")).status_code == 200


def test_outsiders_get_404(browser, outsider, other_programme_admin, loaded):
    for person in (outsider, other_programme_admin):
        client = browser(person)
        assert client.get(url("follow_up")).status_code == 404
        assert client.get(url("agreement", "AC-CDMX")).status_code == 404
        assert client.post(url("tool_adoption", "MANUAL-RUTA"), observed()).status_code == 404
