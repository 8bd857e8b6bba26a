"""The risk register: entering, changing and reviewing a risk through its pages, with a review
row whenever the rating or status changes; who may do what (the owner agency edits, another
agency is refused, donors read shareable risks only, outsiders and other programmes get 404,
read-only roles 403 on POST); bad input refused on its field with nothing written; a save
from a stale page refused with 409."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from governance.models import Risk
from monitoring.models import Agency, AuditEvent, City, ReportingPeriod

from .conftest import risk_values, user

pytestmark = pytest.mark.django_db


def url(name: str, *args) -> str:
    return reverse(f"governance:{name}", args=["CIUDADES", *args])


def form_data(risk: Risk | None = None, **changes) -> dict:
    """What the risk form posts: the risk as it stands (or a new one), with ``changes``."""
    if risk is None:
        data = risk_values(owner_agency=Agency.objects.get(code="ILO").pk, version=1)
        data.update(cities=[], outcomes=[], first_reported="", review_on="")
    else:
        data = {name: getattr(risk, name) for name in risk_values()}
        data.update(
            owner_agency=risk.owner_agency_id or "",
            first_reported=risk.first_reported_id or "",
            review_on=risk.review_on or "",
            cities=[c.pk for c in risk.cities.all()],
            outcomes=[o.pk for o in risk.outcomes.all()],
            version=risk.version,
        )
    data.update(changes)
    data = {k: ("" if v is None else v) for k, v in data.items()}
    if not data.get("shareable"):
        data.pop("shareable", None)  # an unticked box is not posted
    return data


def review_data(risk: Risk, **changes) -> dict:
    data = {
        "version": risk.version,
        "reviewed_on": timezone.localdate().isoformat(),
        "likelihood": risk.likelihood or "",
        "impact": risk.impact or "",
        "rating_basis": risk.rating_basis,
        "status": risk.status,
        "review_on": "",
        "note": "",
    }
    data.update(changes)
    return data


def test_an_agency_enters_a_risk_it_owns_with_its_first_review(browser):
    response = browser("approver.ilo").post(url("risk_add"), form_data(code="R-NEW"))
    assert response.status_code == 302
    risk = Risk.objects.get(code="R-NEW")
    assert response["Location"] == url("risk", "R-NEW")
    assert (risk.owner_agency.code, risk.likelihood, risk.impact) == ("ILO", 3, 4)
    (first,) = risk.reviews.all()
    assert (first.likelihood, first.impact, first.status) == (3, 4, "open")
    assert first.reviewed_by == user("approver.ilo")
    assert AuditEvent.objects.filter(action="risk.create", object_id=str(risk.pk)).exists()


def test_an_agency_cannot_give_its_risk_to_another_agency(browser):
    data = form_data(code="R-IOM", owner_agency=Agency.objects.get(code="IOM").pk)
    response = browser("coord.ilo.scl").post(url("risk_add"), data)
    assert response.status_code == 400
    assert "Owner agency: Select a valid choice" in response.content.decode()
    assert not Risk.objects.filter(code="R-IOM").exists()


def test_the_owner_agency_changes_its_risk_and_the_history_keeps_the_old_rating(browser, ilo_risk):
    client = browser("coord.ilo.scl")  # an ILO coordinator: ILO owns the risk
    response = client.post(
        url("risk_edit", "RX"), form_data(ilo_risk, likelihood=5, note="New government")
    )
    assert response.status_code == 302
    ilo_risk.refresh_from_db()
    assert (ilo_risk.likelihood, ilo_risk.impact, ilo_risk.version) == (5, 4, 2)
    history = list(ilo_risk.reviews.order_by("reviewed_on", "pk"))
    assert [(r.likelihood, r.impact) for r in history] == [(3, 4), (5, 4)]
    assert history[-1].note == "New government"
    assert history[-1].reviewed_on == timezone.localdate()
    page = client.get(url("risk", "RX")).content.decode()
    assert "New government" in page


def test_a_change_that_leaves_rating_and_status_alone_adds_no_review(browser, ilo_risk):
    response = browser("approver.ilo").post(
        url("risk_edit", "RX"), form_data(ilo_risk, mitigation_en="Brief the new team early")
    )
    assert response.status_code == 302
    ilo_risk.refresh_from_db()
    assert ilo_risk.mitigation_en == "Brief the new team early"
    assert ilo_risk.reviews.count() == 1


def test_a_review_records_the_rating_from_its_date(browser, ilo_risk):
    data = review_data(
        ilo_risk,
        reviewed_on="2025-09-01",
        likelihood=2,
        impact=2,
        status="open",
        review_on="2026-09-01",
        note="Agreement signed",
    )
    response = browser("approver.ilo").post(url("risk_review", "RX"), data)
    assert response.status_code == 302
    ilo_risk.refresh_from_db()
    assert (ilo_risk.likelihood, ilo_risk.impact, ilo_risk.review_on) == (2, 2, dt.date(2026, 9, 1))
    latest = ilo_risk.reviews.order_by("-reviewed_on").first()
    assert (latest.reviewed_on, latest.note) == (dt.date(2025, 9, 1), "Agreement signed")


def test_another_agency_reads_the_risk_but_may_not_change_it(browser, ilo_risk):
    client = browser("coord.iom.scl")
    page = client.get(url("risk", "RX"))
    assert page.status_code == 200 and "Change of authorities" in page.content.decode()
    assert "Record a review" not in page.content.decode()
    assert client.get(url("risk_edit", "RX")).status_code == 403
    assert client.post(url("risk_edit", "RX"), form_data(ilo_risk, likelihood=1)).status_code == 403
    assert client.post(url("risk_review", "RX"), review_data(ilo_risk)).status_code == 403
    ilo_risk.refresh_from_db()
    assert (ilo_risk.likelihood, ilo_risk.reviews.count()) == (3, 1)


def test_the_rco_and_the_admin_change_any_risk(browser, ilo_risk):
    for who, likelihood in (("rco", 1), ("admin", 2)):
        ilo_risk.refresh_from_db()
        data = form_data(ilo_risk, likelihood=likelihood)
        assert browser(who).post(url("risk_edit", "RX"), data).status_code == 302
    ilo_risk.refresh_from_db()
    assert ilo_risk.likelihood == 2 and ilo_risk.reviews.count() == 3


def test_a_programme_risk_is_the_rcos_not_an_agencys(browser, ciudades):
    response = browser("rco").post(url("risk_add"), form_data(code="R-P", owner_agency=""))
    assert response.status_code == 302
    risk = Risk.objects.get(code="R-P")
    assert risk.owner_agency is None
    assert (
        browser("approver.ilo").post(url("risk_review", "R-P"), review_data(risk)).status_code
        == 403
    )


def test_donors_read_shareable_risks_only_and_no_review_notes(browser, loaded, ilo_risk):
    client = browser("donor")
    register = client.get(url("risks")).content.decode()
    assert 'id="risk-R1"' in register and 'id="risk-RX"' not in register
    assert client.get(url("risk", "RX")).status_code == 404
    page = client.get(url("risk", "R1")).content.decode()
    assert "Review history" in page and "recorded from the source" not in page
    assert client.post(url("risk_review", "R1"), {}).status_code == 403
    assert client.get(url("risk_add")).status_code == 403
    assert client.post(url("risk_add"), form_data(code="R-D")).status_code == 403
    assert not Risk.objects.filter(code="R-D").exists()


def test_outsiders_other_programmes_and_strangers_get_nothing(
    browser, client, outsider, other_programme_admin, ilo_risk
):
    for person in (outsider, other_programme_admin):
        signed = browser(person)
        for page in (url("risks"), url("heatmap"), url("risk", "RX"), url("risk_add")):
            assert signed.get(page).status_code == 404, (person, page)
        assert signed.post(url("risk_review", "RX"), review_data(ilo_risk)).status_code == 404
    response = client.get(url("risks"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert browser("approver.ilo").get(url("risk", "NOPE")).status_code == 404


def test_a_likelihood_of_7_is_refused_on_its_field_and_nothing_is_written(browser, ilo_risk):
    client = browser("approver.ilo")
    response = client.post(url("risk_edit", "RX"), form_data(ilo_risk, likelihood=7))
    assert response.status_code == 400
    assert "Likelihood: Rate from 1 (lowest) to 5 (highest)" in response.content.decode()
    response = client.post(url("risk_review", "RX"), review_data(ilo_risk, impact=0))
    assert response.status_code == 400
    assert "Impact: Rate from 1 (lowest) to 5 (highest)" in response.content.decode()
    response = client.post(url("risk_review", "RX"), review_data(ilo_risk, impact=""))
    assert "Impact: Rate both likelihood and impact, or neither" in response.content.decode()
    ilo_risk.refresh_from_db()
    assert (ilo_risk.likelihood, ilo_risk.impact, ilo_risk.version) == (3, 4, 1)
    assert ilo_risk.reviews.count() == 1


def test_dates_before_the_first_report_or_in_the_future_are_refused(browser, ilo_risk):
    y2 = ReportingPeriod.objects.get(programme=ilo_risk.programme, code="Y2")
    client = browser("approver.ilo")
    response = client.post(
        url("risk_edit", "RX"), form_data(ilo_risk, first_reported=y2.pk, review_on="2020-01-31")
    )
    assert response.status_code == 400
    assert "Next review: The review date cannot be before the risk was first reported" in (
        response.content.decode()
    )
    Risk.objects.filter(pk=ilo_risk.pk).update(first_reported=y2)
    ilo_risk.refresh_from_db()
    early = client.post(url("risk_review", "RX"), review_data(ilo_risk, reviewed_on="2021-01-15"))
    assert early.status_code == 400
    assert "Reviewed on: The review cannot be before the risk was first reported" in (
        early.content.decode()
    )
    future = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    later = client.post(url("risk_review", "RX"), review_data(ilo_risk, reviewed_on=future))
    assert "Reviewed on: A review cannot be dated in the future." in later.content.decode()
    older = client.post(url("risk_review", "RX"), review_data(ilo_risk, reviewed_on="2024-12-01"))
    assert "Reviewed on: The risk was last reviewed on 2025-03-01" in older.content.decode()
    assert ilo_risk.reviews.count() == 1 and ilo_risk.review_on is None


def test_a_code_already_used_is_refused_on_its_field(browser, ilo_risk):
    response = browser("rco").post(url("risk_add"), form_data(code="RX"))
    assert response.status_code == 400
    assert "A risk with this code already exists in the programme." in response.content.decode()
    assert Risk.objects.filter(code="RX").count() == 1


def test_a_stale_edit_is_refused_with_409_and_shows_the_current_risk(browser, ilo_risk):
    first = form_data(ilo_risk, likelihood=1)
    second = form_data(ilo_risk, likelihood=5)  # opened at the same version
    assert browser("approver.ilo").post(url("risk_edit", "RX"), first).status_code == 302
    response = browser("coord.ilo.scl").post(url("risk_edit", "RX"), second)
    assert response.status_code == 409
    assert "Somebody saved this risk after you opened the page" in response.content.decode()
    assert response.context["form"].initial["likelihood"] == 1
    ilo_risk.refresh_from_db()
    assert (ilo_risk.likelihood, ilo_risk.version) == (1, 2)
    stale_review = browser("rco").post(url("risk_review", "RX"), review_data(ilo_risk, version=1))
    assert stale_review.status_code == 409
    assert ilo_risk.reviews.count() == 2


def test_the_register_filters_and_highlights_overdue_reviews(browser, loaded, ilo_risk):
    Risk.objects.filter(pk=ilo_risk.pk).update(review_on=dt.date(2024, 1, 1))
    client = browser("rco")
    page = client.get(url("risks"))
    rows = [r.code for r, _overdue in page.context["rows"]]
    assert "R1" in rows and "RX" in rows and len(rows) == 13
    assert dict((r.code, overdue) for r, overdue in page.context["rows"])["RX"] is True
    assert "overdue" in page.content.decode()
    by_city = client.get(url("risks"), {"city": "CDMX", "status": "open"}).context["rows"]
    assert sorted(r.code for r, _ in by_city) == ["R10", "R9"]
    owned = client.get(url("risks"), {"owner": "ILO"}).context["rows"]
    assert [r.code for r, _ in owned] == ["RX"]
    wrong = client.get(url("risks"), {"city": "LIMA"})
    assert "City: Select a valid choice" in wrong.content.decode()
    assert len(wrong.context["rows"]) == 13  # the bad filter is ignored, and says so


def queries(client, page: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(page).status_code == 200
    return len(ctx.captured_queries)


def test_the_register_page_costs_the_same_whatever_the_number_of_risks(browser, loaded):
    client = browser("rco")
    before = queries(client, url("risks"))
    scl = City.objects.get(code="SCL")
    for n in range(10):
        risk = Risk.objects.create(programme=loaded, **risk_values(code=f"Q{n}"))
        risk.cities.add(scl)
    assert queries(client, url("risks")) == before <= 15
