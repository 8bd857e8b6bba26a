"""The donor's download: GET /api/v1/results/ with a token, as JSON pages and as one CSV."""

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from indicators import engine
from indicators.models import Indicator, IndicatorValue, ProgressReport
from indicators.selectors.results import RESULT_COLUMNS, ResultQuery, result_rows
from monitoring.exports.results import build_xlsx, stream_json
from monitoring.exports.stamp import export_stamp
from monitoring.models import Agency, ApiToken, City, Programme, ReportingPeriod

URL = "/api/v1/results/"


def _token(user, programme, scope="read", days=30) -> str:
    _token_obj, key = ApiToken.issue(
        user=user, programme=programme, scope=scope, days=days, name="test"
    )
    return key


def _auth(key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Token {key}"}


def _csv_rows(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def _lop_total(rows, code: str) -> dict:
    return next(
        r
        for r in rows
        if r["indicator"] == code
        and r["city"] == "ALL"
        and r["agency"] == "ALL"
        and r["period"] == "LOP"
        and r["disaggregation"] == "total"
    )


def test_donor_token_downloads_json_with_the_source_figures(client, donor, ciudades):
    key = _token(donor, ciudades)
    response = client.get(URL, {"programme": "CIUDADES", "indicator": "1.4.A"}, **_auth(key))
    assert response.status_code == 200
    body = response.json()
    assert body["columns"] == list(RESULT_COLUMNS)
    row = _lop_total(body["results"], "1.4.A")
    assert (row["target"], row["actual"], row["achievement_pct"]) == (400, 292, 73)
    assert row["indicator_name_en"].startswith("Number of migrants and refugees")
    assert body["stamp"]["programme"] == "CIUDADES"
    assert body["stamp"]["restatements"] == 0


@pytest.mark.parametrize("how", ["format", "accept"])
def test_donor_token_downloads_the_whole_table_as_csv(client, donor, ciudades, how):
    key = _token(donor, ciudades)
    extra = {"HTTP_ACCEPT": "text/csv"} if how == "accept" else {}
    params = {"programme": "CIUDADES"} | ({"format": "csv"} if how == "format" else {})
    response = client.get(URL, params, **_auth(key), **extra)
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="CIUDADES-results-')
    assert response["X-Restatements"] == "0"
    assert response["X-As-Of"].endswith(export_stamp(ciudades).as_of_date.isoformat())
    rows = _csv_rows(response)
    assert list(rows[0]) == list(RESULT_COLUMNS)
    assert len(rows) == sum(1 for _ in result_rows(ResultQuery(ciudades)))
    row = _lop_total(rows, "1.4.A")
    assert (row["target"], row["actual"], row["achievement_pct"]) == ("400", "292", "73")


def test_filters_apply_to_json_and_csv_alike(client, donor, ciudades):
    key = _token(donor, ciudades)
    params = {"programme": "CIUDADES", "city": "SCL", "period": "LOP"}
    page = client.get(URL, {**params, "page_size": 1000}, **_auth(key)).json()
    csv_rows = _csv_rows(client.get(URL, {**params, "format": "csv"}, **_auth(key)))
    assert page["count"] == len(csv_rows) > 0
    assert {r["city"] for r in csv_rows} == {"SCL"}
    assert {r["period"] for r in csv_rows} == {"LOP"}
    assert [r["indicator"] for r in page["results"]] == [r["indicator"] for r in csv_rows]


def test_pages_walk_every_row_once_in_a_stable_order(client, rco_viewer, ciudades):
    client.force_login(rco_viewer)
    everything = client.get(URL, {"programme": "CIUDADES", "page_size": 1000}).json()
    seen: list = []
    url = f"{URL}?programme=CIUDADES&page_size=7"
    while url:
        body = client.get(url).json()
        seen += body["results"]
        url = body["next"]
    assert seen == everything["results"]
    assert len(seen) == everything["count"] > 7


def test_unapproved_values_never_appear_until_approved(
    client, donor, iom_approver, ciudades, django_capture_on_commit_callbacks
):
    report = ProgressReport.objects.create(
        programme=ciudades,
        agency=Agency.objects.get(code="IOM"),
        city=City.objects.get(code="SCL"),
        period=ReportingPeriod.objects.get(programme=ciudades, code="2023-Q2"),
    )
    IndicatorValue.objects.create(
        report=report,
        indicator=Indicator.objects.get(programme=ciudades, code="1.2.C"),
        value=Decimal("987654"),
    )
    key = _token(donor, ciudades)
    for status in ("draft", "submitted", "returned"):
        report.status = status
        report.save()
        engine.refresh_all()
        body = b"".join(
            client.get(
                URL, {"programme": "CIUDADES", "format": "csv"}, **_auth(key)
            ).streaming_content
        )
        assert b"987654" not in body, status
        assert b"987654" not in client.get(URL, {"page_size": 1000}, **_auth(key)).content
    report.status = "approved"
    report.approved_at = timezone.now()
    report.approved_by = iom_approver
    report.save()
    engine.refresh_all()
    body = b"".join(
        client.get(URL, {"programme": "CIUDADES", "format": "csv"}, **_auth(key)).streaming_content
    )
    assert b"987654" in body


def test_revoked_expired_and_foreign_tokens_are_refused(client, donor, ciudades):
    key = _token(donor, ciudades)
    token = ApiToken.objects.get(user=donor)
    token.revoke()
    response = client.get(URL, **_auth(key))
    assert response.status_code == 401
    assert response.json()["detail"] == "This token has been revoked."
    expired_key = _token(donor, ciudades)
    ApiToken.objects.filter(revoked_at__isnull=True).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    response = client.get(URL, **_auth(expired_key))
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]
    assert client.get(URL, **_auth("cjt_not-a-real-key")).status_code == 401
    assert client.get(URL).status_code in (401, 403)


def test_a_token_sees_only_its_programme(client, donor, ciudades):
    other = Programme.objects.create(
        code="OTHER",
        name_es="Otro",
        name_en="Other",
        short_name_es="Otro",
        short_name_en="Other",
        start_date=dt.date(2021, 1, 1),
        end_date=dt.date(2022, 1, 1),
    )
    donor.memberships.create(programme=other, role="donor")
    key = _token(donor, ciudades)
    response = client.get(URL, {"programme": "OTHER"}, **_auth(key))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_read_token_cannot_write(client, donor, ciudades):
    key = _token(donor, ciudades)
    response = client.post(URL, {}, **_auth(key))
    assert response.status_code == 403
    assert "only read" in response.json()["detail"]


def test_outsider_session_is_refused(client, outsider, ciudades):
    client.force_login(outsider)
    response = client.get(URL, {"programme": "CIUDADES"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"city": "NOWHERE"}, "city"),
        ({"indicator": "9.9.Z"}, "indicator"),
        ({"period": "2030-Q1"}, "period"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"updated_since": "9999-12-31T23:59:59-23:59"}, "updated_since"),
        ({"updated_since": "2023-02-30"}, "updated_since"),
        ({"page_size": "5000"}, "page_size"),
        ({"page": "zero"}, "page"),
    ],
)
def test_bad_filters_get_a_400_naming_the_field(client, donor, ciudades, params, field):
    key = _token(donor, ciudades)
    for fmt in ("json", "csv"):
        response = client.get(URL, {"programme": "CIUDADES", "format": fmt, **params}, **_auth(key))
        if field in ("page_size", "page") and fmt == "csv":
            continue  # the CSV is the whole table: paging parameters do not apply
        assert response.status_code == 400, (fmt, params)
        body = response.json()
        assert body["status"] == 400
        assert field in body["errors"], body


def test_updated_since_keeps_rows_computed_since(client, donor, ciudades):
    key = _token(donor, ciudades)
    future = (timezone.now() + dt.timedelta(days=1)).isoformat()
    body = client.get(URL, {"updated_since": future}, **_auth(key)).json()
    assert body["count"] == 0
    body = client.get(URL, {"updated_since": "2000-01-01"}, **_auth(key)).json()
    assert body["count"] > 0


def test_conditional_get_answers_304_until_figures_change(client, donor, ciudades):
    key = _token(donor, ciudades)
    first = client.get(URL, {"format": "csv"}, **_auth(key))
    etag = first["ETag"]
    again = client.get(URL, {"format": "csv"}, HTTP_IF_NONE_MATCH=etag, **_auth(key))
    assert again.status_code == 304
    engine.refresh_all()  # figures recomputed: a new computation time, a new tag
    fresh = client.get(URL, {"format": "csv"}, HTTP_IF_NONE_MATCH=etag, **_auth(key))
    assert fresh.status_code == 200
    assert fresh["ETag"] != etag


def test_xlsx_and_json_exports_hold_the_same_rows(ciudades):
    query = ResultQuery(ciudades, indicator="1.4.A")
    stamp = export_stamp(ciudades)
    rows = list(result_rows(query))
    book = load_workbook(io.BytesIO(build_xlsx(query, stamp)), read_only=True)
    assert book.sheetnames == ["about", "results"]
    sheet = list(book["results"].iter_rows(values_only=True))
    assert sheet[0] == RESULT_COLUMNS
    assert len(sheet) == len(rows) + 1
    lop = next(r for r in sheet if r[9] == "LOP" and r[7] == "ALL" and r[10] == "total")
    assert lop[12:15] == (400, 292, 73)
    about = [r[0] for r in book["about"].iter_rows(values_only=True) if r]
    assert stamp.sentence() in about
    data = json.loads(b"".join(stream_json(query, stamp)))
    assert data["stamp"]["programme"] == "CIUDADES"
    assert len(data["results"]) == len(rows)
    assert _lop_total(data["results"], "1.4.A")["actual"] == 292


def test_spreadsheet_text_is_neutralised(ciudades):
    indicator = Indicator.objects.get(programme=ciudades, code="1.4.A")
    indicator.name_en = '=HYPERLINK("http://evil","x")'
    indicator.save(update_fields=["name_en"])
    query = ResultQuery(ciudades, indicator="1.4.A")
    book = load_workbook(io.BytesIO(build_xlsx(query, export_stamp(ciudades))), read_only=True)
    names = {r[5] for r in list(book["results"].iter_rows(values_only=True))[1:]}
    assert names == {'\'=HYPERLINK("http://evil","x")'}


def test_a_nul_character_in_the_query_is_refused_before_any_view(client, donor, ciudades):
    key = _token(donor, ciudades)
    response = client.get(URL, {"programme": "CIUDADES\x00"}, **_auth(key))
    assert response.status_code == 400
    assert "programme" in response.content.decode()


def test_an_address_under_the_api_that_names_nothing_gets_the_error_body(client, donor, ciudades):
    key = _token(donor, ciudades)
    response = client.get("/api/v1/no-such-thing/", **_auth(key))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert "/api/v1/no-such-thing/" in response.json()["detail"]
    response = client.get("/api/v1/results", {"programme": "CIUDADES"}, **_auth(key))
    assert response.status_code == 301
    assert response["Location"] == "/api/v1/results/?programme=CIUDADES"
