"""Activities and deliverables reported with the quarter: status and progress per activity in
scope, deliverables with a file or link, the product inventory and the output page (approved
reports only), and the refusals."""

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from indicators import services
from indicators.models import ActivityProgress, Deliverable, ProgressReport
from indicators.selectors.reports import activities_in_scope
from monitoring.models import Activity

from .report_fixtures import PERIOD, enter, form_data, login, report_url, scope_indicators

pytestmark = pytest.mark.django_db


def user(name):
    return get_user_model().objects.get(username=name)


def the_report():
    return ProgressReport.objects.get(period__code=PERIOD, agency__code="ILO", city__code="SCL")


def scl_activities(programme):
    return activities_in_scope(
        programme=programme,
        agency=programme.agencies.get(code="ILO"),
        city=programme.cities.get(code="SCL"),
    )


def test_activities_in_scope_are_the_citys_country_wide_and_binational_ones(ciudades):
    activities = scl_activities(ciudades)
    assert activities
    for a in activities:
        assert a.city is None or a.city.code == "SCL"
        assert a.country is None or a.country.code == "CL"
    cdmx_only = Activity.objects.filter(programme=ciudades, city__code="CDMX")
    assert cdmx_only.exists()
    assert not set(activities) & set(cdmx_only)


def test_activity_status_is_saved_with_the_report_and_required_to_submit(client, ciudades):
    login(client, user("coord.ilo.scl"))
    indicators = scope_indicators(ciudades)
    activities = scl_activities(ciudades)
    first, second = activities[0], activities[1]
    data = form_data(indicators, version=0, fill=True)
    data = {k: v for k, v in data.items() if not k.startswith("a")}
    data.update(
        {
            f"a{first.pk}_status": "in_progress",
            f"a{first.pk}_progress": "40",
            f"a{first.pk}_comment": "Two of five workshops held.",
            f"a{second.pk}_status": "completed",
        }
    )
    response = client.post(report_url(), {**data, "action": "submit"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Before submitting, give the status of every activity. Missing:" in page
    assert activities[2].code in page
    assert not ProgressReport.objects.filter(period__code=PERIOD, agency__code="ILO").exists()

    assert client.post(report_url(), {**data, "action": "save"}).status_code == 302
    saved = {p.activity_id: p for p in ActivityProgress.objects.filter(report=the_report())}
    assert (saved[first.pk].status, saved[first.pk].progress) == ("in_progress", 40)
    assert saved[first.pk].comment == "Two of five workshops held."
    assert (saved[second.pk].status, saved[second.pk].progress) == ("completed", 100)

    for a in activities:
        data.setdefault(f"a{a.pk}_status", "not_started")
    data["version"] = "1"
    assert client.post(report_url(), {**data, "action": "submit"}).status_code == 302
    assert the_report().status == "submitted"


@pytest.mark.parametrize(
    ("status", "progress", "message"),
    [
        ("", "30", "Activity {code}: choose its status."),
        ("completed", "60", "Activity {code}: a completed activity is at 100 %."),
        ("in_progress", "140", "Ensure this value is less than or equal to 100."),
    ],
)
def test_bad_activity_progress_is_refused(client, ciudades, status, progress, message):
    login(client, user("coord.ilo.scl"))
    activity = scl_activities(ciudades)[0]
    data = form_data(scope_indicators(ciudades), version=0, fill=True)
    data.update({f"a{activity.pk}_status": status, f"a{activity.pk}_progress": progress})
    response = client.post(report_url(), {**data, "action": "save"})
    assert response.status_code == 400
    assert message.format(code=activity.code) in response.content.decode()
    assert not ActivityProgress.objects.exists()


def test_last_quarters_status_is_offered_again(client, ciudades):
    """Only what changed needs typing: the form starts from the last report's statuses."""
    activity = scl_activities(ciudades)[0]
    earlier = ProgressReport.objects.create(
        programme=ciudades,
        period=ciudades.periods.get(code="2023-Q1"),
        agency=ciudades.agencies.get(code="ILO"),
        city=ciudades.cities.get(code="SCL"),
    )
    ActivityProgress.objects.create(
        report=earlier, activity=activity, status="in_progress", progress=30
    )
    login(client, user("coord.ilo.scl"))
    page = client.get(report_url()).content.decode()
    row = page[page.index(f'id="activity-{activity.code.replace(".", "")}"') :]
    row = row[: row.index("</tr>")]
    assert '<option value="in_progress" selected>' in row
    assert 'value="30"' in row


def add_deliverable(client, activity, **extra):
    data = {
        "activity": str(activity.pk),
        "title_es": "Guía de acceso a servicios",
        "title_en": "Guide to accessing services",
        "kind": "manual",
        "date": "2023-05-10",
        **extra,
    }
    url = reverse("activities:deliverable_add", args=["CIUDADES", PERIOD, "ILO", "SCL"])
    return client.post(url, data, follow=True)


def test_deliverables_reach_the_inventory_only_once_approved(client, ciudades, settings):
    login(client, user("coord.ilo.scl"))
    enter(client, scope_indicators(ciudades), version=0)
    activity = scl_activities(ciudades)[0]
    pdf = SimpleUploadedFile("guia.pdf", b"%PDF-1.4\n%%EOF", "application/pdf")
    response = add_deliverable(client, activity, file=pdf)
    assert "Deliverable added." in response.content.decode()
    deliverable = Deliverable.objects.get()
    assert (deliverable.agency.code, deliverable.city.code, deliverable.report) == (
        "ILO",
        "SCL",
        the_report(),
    )

    inventory = reverse("activities:inventory", args=["CIUDADES"])
    login(client, user("donor"))
    assert "Guide to accessing services" not in client.get(inventory).content.decode()
    file_url = reverse("activities:deliverable_file", args=["CIUDADES", deliverable.pk])
    assert client.get(file_url).status_code == 403  # a draft's file

    report = the_report()
    report.status = "submitted"
    report.save()
    services.report_approve(report=report, actor=user("approver.ilo"))
    page = client.get(inventory).content.decode()
    assert "Guide to accessing services" in page
    csv = client.get(inventory + "?download=csv").content.decode()
    assert (
        f"{activity.output.code},{activity.code},ILO,SCL,2023-05-10,manual,"
        "Guía de acceso a servicios" in csv
    )
    download = client.get(file_url)
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment;")
    output_page = client.get(reverse("activities:output", args=["CIUDADES", activity.output.code]))
    assert "Guide to accessing services" in output_page.content.decode()


def test_a_deliverable_needs_a_title_a_known_activity_and_an_accepted_file(client, ciudades):
    login(client, user("coord.ilo.scl"))
    enter(client, scope_indicators(ciudades), version=0)
    activity = scl_activities(ciudades)[0]
    cdmx_activity = Activity.objects.filter(programme=ciudades, city__code="CDMX").first()
    page = add_deliverable(client, activity, title_es="").content.decode()
    assert "Title (Spanish): This field is required." in page
    page = add_deliverable(client, cdmx_activity).content.decode()
    assert "Activity: Select a valid choice." in page
    exe = SimpleUploadedFile("tool.exe", b"MZ\x90\x00", "application/octet-stream")
    page = add_deliverable(client, activity, file=exe).content.decode()
    assert "files of type &#x27;.exe&#x27; are not accepted" in page
    assert not Deliverable.objects.exists()


def test_only_the_reports_coordinator_adds_or_removes_deliverables(client, ciudades):
    login(client, user("coord.ilo.scl"))
    enter(client, scope_indicators(ciudades), version=0)
    activity = scl_activities(ciudades)[0]
    add_deliverable(client, activity)
    deliverable = Deliverable.objects.get()
    remove = reverse("activities:deliverable_remove", args=["CIUDADES", deliverable.pk])
    for other in ("coord.iom.scl", "approver.ilo", "rco", "donor"):
        login(client, user(other))
        assert add_deliverable(client, activity).status_code == 403
        assert client.post(remove).status_code == 403
    assert Deliverable.objects.count() == 1
    login(client, user("coord.ilo.scl"))
    assert "Deliverable removed." in client.post(remove, follow=True).content.decode()
    assert not Deliverable.objects.exists()


def test_output_page_shows_the_latest_approved_status_by_agency_and_city(client, ciudades):
    login(client, user("coord.ilo.scl"))
    activity = scl_activities(ciudades)[0]
    data = form_data(scope_indicators(ciudades), version=0, fill=True)
    for a in scl_activities(ciudades):
        data[f"a{a.pk}_status"] = "not_started"
    data[f"a{activity.pk}_status"] = "in_progress"
    data[f"a{activity.pk}_progress"] = "55"
    client.post(report_url(), {**data, "action": "submit"})
    url = reverse("activities:output", args=["CIUDADES", activity.output.code])
    assert "55 %" not in client.get(url).content.decode()  # submitted, not approved
    services.report_approve(report=the_report(), actor=user("approver.ilo"))
    page = client.get(url).content.decode()
    assert "ILO · Santiago (Chile) · Q2 2023: <strong>in progress</strong> (55 %)" in page


def test_outputs_of_another_programme_are_not_found(client, ciudades):
    login(client, user("coord.ilo.scl"))
    assert client.get(reverse("activities:output", args=["CIUDADES", "9.9"])).status_code == 404
    assert client.get(reverse("activities:inventory", args=["OTHER"])).status_code == 404
