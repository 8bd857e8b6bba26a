"""Request size (issue 8): a body larger than REQUEST_MAX_BYTES, or a body without files
larger than DATA_UPLOAD_MAX_MEMORY_SIZE, is refused with a 413 and a clear message — the API's
error body under /api/, a page otherwise — on its declared Content-Length, before CSRF or any
view reads it. Django's own refusal of too many form bytes inside an upload is a 400 page that
says what happened, never a 500. Uploads within the limits still work, and a file over the
per-file limit is still refused by the view, naming the field."""

import json

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from surveys.models import Response

from ..surveys.results_fixtures import answer_twelve, build_kit

pytestmark = pytest.mark.django_db
MB = 1024 * 1024


@pytest.fixture
def kit(ciudades):
    made = build_kit(ciudades)
    answer_twelve(made)
    return made


def upload_url(kit) -> str:
    return reverse("surveys:upload", args=["CIUDADES", kit.survey.code, kit.survey.wave])


def csv_file(size: int = 0) -> SimpleUploadedFile:
    body = b"id,city,sex,sat\nn1,SCL,female,5\n"
    return SimpleUploadedFile("r.csv", body + b"#" * max(size - len(body), 0))


def test_the_settings_cap_requests_above_the_largest_upload():
    assert django_settings.REQUEST_MAX_BYTES > django_settings.EVIDENCE_MAX_BYTES
    assert django_settings.FILE_UPLOAD_MAX_MEMORY_SIZE < django_settings.EVIDENCE_MAX_BYTES
    middleware = django_settings.MIDDLEWARE
    size = middleware.index("monitoring.middleware.RequestSizeMiddleware")
    assert middleware.index("django.middleware.locale.LocaleMiddleware") < size
    assert size < middleware.index("django.middleware.csrf.CsrfViewMiddleware")


def test_an_oversized_upload_is_a_413_page_and_nothing_is_read_or_saved(
    client, kit, programme_admin, settings
):
    settings.REQUEST_MAX_BYTES = 2000
    client.force_login(programme_admin)
    response = client.post(upload_url(kit), {"file": csv_file(5000)})
    assert response.status_code == 413
    assert response["Content-Type"] == "text/html; charset=utf-8"
    page = response.content.decode().replace("\xa0", " ")
    assert "Request too large" in page
    assert "this site takes at most 2.0 KB per request, files included" in page
    assert Response.objects.filter(survey=kit.survey).count() == 12


def test_the_body_is_refused_on_its_declared_length_before_csrf(kit, programme_admin):
    """A browser without a CSRF token announcing 200 MB: 413, not 403, and the tiny body sent
    is never read (the test payload would raise if more were asked of it than it holds)."""
    browser = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(programme_admin)
    response = browser.post(
        upload_url(kit), b"x", content_type="multipart/form-data; boundary=B",
        CONTENT_LENGTH=str(200 * MB),
    )  # fmt: skip
    assert response.status_code == 413
    assert "200.0 MB" in response.content.decode().replace("\xa0", " ")


def test_the_page_is_in_the_readers_language(kit, programme_admin, settings):
    settings.REQUEST_MAX_BYTES = 100
    spanish = Client(HTTP_ACCEPT_LANGUAGE="es")
    spanish.force_login(programme_admin)
    response = spanish.post(upload_url(kit), {"file": csv_file(500)})
    assert response.status_code == 413
    assert '<html lang="es">' in response.content.decode()


def test_an_oversized_api_request_gets_the_apis_error_body(settings):
    settings.REQUEST_MAX_BYTES = 1000
    response = Client(HTTP_ACCEPT_LANGUAGE="en").post(
        "/api/v1/reports/", data=b"{}", content_type="application/json",
        CONTENT_LENGTH=str(3 * MB),
    )  # fmt: skip
    assert response.status_code == 413
    body = json.loads(response.content)
    assert (body["status"], body["code"]) == (413, "request_too_large")
    assert body["detail"].replace("\xa0", " ").startswith("The request is too large (3.0 MB)")


def test_a_body_without_files_over_the_form_limit_is_a_413(client, programme_admin, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client.force_login(programme_admin)
    response = client.post(
        reverse("logout"), data="x=" + "a" * 2000, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413
    assert "without files may hold at most 1000 bytes" in response.content.decode().replace(
        "\xa0", " "
    )
    api = Client().post("/api/v1/reports/", data="{}" + " " * 2000, content_type="application/json")
    assert (api.status_code, json.loads(api.content)["code"]) == (413, "request_too_large")


def test_too_many_form_bytes_inside_an_upload_is_a_clear_400_not_a_500(
    client, kit, programme_admin, settings
):
    """Only the parser can tell the form fields of a multipart body from its files: Django
    refuses them (RequestDataTooBig) and the 400 page says what happened."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client.force_login(programme_admin)
    response = client.post(upload_url(kit), {"file": csv_file(), "note": "a" * 5000})
    assert response.status_code == 400
    page = response.content.decode()
    assert "The request could not be read" in page
    assert "more text or more fields than this site accepts" in page
    assert Response.objects.filter(survey=kit.survey).count() == 12


def test_a_normal_upload_still_works(client, kit, programme_admin):
    client.force_login(programme_admin)
    response = client.post(upload_url(kit), {"file": csv_file()}, follow=True)
    assert response.redirect_chain[-1][0] == reverse(
        "surveys:results", args=["CIUDADES", kit.survey.code, kit.survey.wave]
    )
    assert "Responses added: 1; updated: 0; unchanged: 0." in response.content.decode()
    assert Response.objects.filter(survey=kit.survey).count() == 13


def test_a_file_over_the_file_limit_but_within_the_request_limit_is_refused_by_the_view(
    client, kit, programme_admin
):
    client.force_login(programme_admin)
    big = csv_file(django_settings.EVIDENCE_MAX_BYTES + 1)
    response = client.post(upload_url(kit), {"file": big})
    assert response.status_code == 400
    assert "The file is larger than 10.0 MB." in response.content.decode().replace("\xa0", " ")
    assert Response.objects.filter(survey=kit.survey).count() == 12
