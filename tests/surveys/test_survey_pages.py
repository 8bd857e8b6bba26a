"""Survey pages: members only (outsiders get a 404), the list with each survey's response
rate, the results page (charts with their CSV, tables with n, the under-30 warning, filters and
breakdowns, published results labelled as such, text answers only for the RCO and the admin),
the CSV/XLSX export with formula-like text neutralised, and the upload, for the RCO and the
programme admin only. Query counts stay fixed whatever the data."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from surveys.models import Invitation, Question, Response, Survey

from .results_fixtures import answer_twelve, build_kit, publish, respond

pytestmark = pytest.mark.django_db
WARNING = "fewer than 30 respondents: read with care"


def url(name: str, kit=None, query: str = "") -> str:
    args = ["CIUDADES"] + ([kit.survey.code, kit.survey.wave] if kit else [])
    return reverse(f"surveys:{name}", args=args) + (f"?{query}" if query else "")


def csv_rows(response) -> list[dict[str, str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.fixture
def kit(ciudades):
    made = build_kit(ciudades)
    answer_twelve(made)
    return made


@pytest.fixture
def published_kit(ciudades):
    made = build_kit(ciudades, code="EVAL-2023", kind=Survey.Kind.AGGREGATE, invited=40)
    publish(made, "all", 18, level_5="50", level_4="30", level_3="10", level_2="10")
    return made


PAGES = ["list", "results", "export_csv", "export_xlsx", "upload"]


@pytest.mark.parametrize("name", PAGES)
def test_an_anonymous_visitor_is_sent_to_log_in(client, kit, name):
    response = client.get(url(name, None if name == "list" else kit))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", PAGES)
def test_an_outsider_is_told_nothing_exists(client, kit, outsider, name):
    client.force_login(outsider)
    assert client.get(url(name, None if name == "list" else kit)).status_code == 404


def test_the_list_shows_kind_wave_respondents_and_rate(client, kit, donor, ciudades):
    other = build_kit(ciudades, code="TALLER", invited=None)
    for n in range(16):
        Invitation.objects.create(survey=other.survey, token_hash=f"hash-{n}")
    for n in range(12):
        respond(other, f"t{n}", sat=4)
    client.force_login(donor)
    response = client.get(url("list"))
    assert response.status_code == 200
    page = response.content.decode()
    row = page.split('id="survey-EMPLEO-1"')[1].split("</tr>")[0]
    assert "questionnaire with responses" in row and "40" in row and "30 %" in row  # 12 / 40
    row = page.split('id="survey-TALLER-1"')[1].split("</tr>")[0]
    assert "16" in row and "75 %" in row  # 12 of 16 invitations issued


def test_the_results_page_shows_charts_tables_n_and_the_warning(client, kit, ilo_coordinator_scl):
    client.force_login(ilo_coordinator_scl)
    response = client.get(url("results", kit))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="chart-q-sat"' in page and 'id="chart-q-needs"' in page
    assert 'id="chart-q-age"' not in page  # numbers: a table, no chart
    assert WARNING in page
    sat = page.split('id="responses-sat"')[1].split("</article>")[0]
    assert "58.3 %" in sat and "3.5" in sat  # top box and mean
    assert 'id="upload-link"' not in page  # coordinators do not upload


def test_no_warning_with_30_respondents(client, ciudades, donor):
    thirty = build_kit(ciudades, code="GRANDE")
    for n in range(30):
        respond(thirty, f"g{n}", sat=4, service="jobs", needs=["docs"], age=30, referred=0,
                useful=4, comments="ok")  # fmt: skip
    client.force_login(donor)
    page = client.get(url("results", thirty)).content.decode()
    assert WARNING not in page
    assert "30" in page.split('id="responses-sat"')[1].split("</table>")[0]


def test_a_breakdown_by_city_and_a_filter_by_sex(client, kit, programme_admin):
    # The admin sees every group (others: tests/security/test_small_groups.py).
    client.force_login(programme_admin)
    sat = client.get(url("results", kit, "by=city")).content.decode()
    table = sat.split('id="responses-sat"')[1].split("</table>")[0]
    assert "Santiago (Chile)" in table and "Mexico City" in table
    filtered = client.get(url("results", kit, "sex=male")).content.decode()
    assert "8 with these filters" in filtered
    ignored = client.get(url("results", kit, "city=LIMA")).content.decode()
    assert "That filter was ignored." in ignored


def test_each_chart_downloads_its_rows_as_csv(client, kit, programme_admin):
    client.force_login(programme_admin)
    rows = csv_rows(client.get(url("results", kit, "by=sex&download=q-sat")))
    assert rows[0] == {"group": "all respondents", "respondents": "12", "answer": "1",
                       "answer_label": "Very dissatisfied", "count": "1", "share_pct": "8.3",
                       "top_box_pct": "58.3", "mean": "3.5", "fewer_than_30": "yes",
                       "suppressed": ""}  # fmt: skip
    assert {r["group"] for r in rows} == {"all respondents", "female", "male"}


def test_published_results_are_labelled_and_drawn_the_same_way(client, published_kit, donor):
    client.force_login(donor)
    page = client.get(url("results", published_kit)).content.decode()
    section = page.split('id="published-sat"')[1].split("</article>")[0]
    assert "published results (no micro-data)" in section
    assert "Evaluación final, mayo 2023, p. 41" in section
    assert 'id="chart-published-sat"' in section
    assert "80 %" in section and "4.2" in section  # top box and mean from the shares
    assert WARNING in section  # 18 respondents
    assert 'id="responses"' not in page  # no micro-data of its own


def test_a_publications_response_rate_is_of_its_published_respondents(client, published_kit, donor):
    client.force_login(donor)
    row = client.get(url("list")).content.decode().split('id="survey-EVAL-2023-1"')[1]
    row = row.split("</tr>")[0]
    assert "published aggregate results" in row and "18" in row and "45 %" in row  # 18 / 40
    page = client.get(url("results", published_kit)).content.decode()
    assert "Respondents (published)" in page and "45 %" in page


def test_a_publications_export_says_its_results_are_published(client, published_kit, donor):
    client.force_login(donor)
    rows = csv_rows(client.get(url("export_csv", published_kit)))
    five = next(r for r in rows if r["answer"] == "5")
    assert (five["results"], five["respondents"], five["share_pct"]) == ("published", "18", "50")
    assert five["source"] == "Evaluación final, mayo 2023, p. 41"


def test_a_publications_groups_are_a_breakdown_of_its_own(client, published_kit, donor):
    publish(published_kit, "city=SCL", 9, level_5="60", level_4="20")
    client.force_login(donor)
    page = client.get(url("results", published_kit)).content.decode()
    assert 'name="by"' in page and 'name="city"' not in page  # no micro-data to filter
    assert "Santiago (Chile)" not in page.split('id="published-sat"')[1]
    page = client.get(url("results", published_kit, "by=city")).content.decode()
    table = page.split('id="published-sat"')[1].split("</table>")[0]
    assert "Santiago (Chile)" in table and "80 %" in table


def test_the_loaded_publications_show_their_results(client, ciudades, donor):
    client.force_login(donor)
    for survey in Survey.objects.filter(programme=ciudades, kind=Survey.Kind.AGGREGATE):
        response = client.get(
            reverse("surveys:results", args=["CIUDADES", survey.code, survey.wave])
        )
        assert response.status_code == 200
        if survey.aggregates.exists():
            assert "published results (no micro-data)" in response.content.decode()


def test_published_results_sit_beside_a_surveys_own(client, kit, donor):
    publish(kit, "all", 60, level_5="40")
    client.force_login(donor)
    page = client.get(url("results", kit)).content.decode()
    assert 'id="responses-sat"' in page and 'id="published-sat"' in page


def test_text_answers_are_read_by_the_rco_and_counted_for_others(client, kit, rco_viewer, donor):
    respond(kit, "c1", comments="Me llamo Ana Pérez y vivo en Recoleta")
    for n in range(2, 6):  # five answers: not a small group
        respond(kit, f"c{n}", comments=f"Comentario {n}")
    client.force_login(rco_viewer)
    assert "Ana Pérez" in client.get(url("results", kit)).content.decode()
    client.force_login(donor)
    page = client.get(url("results", kit)).content.decode()
    assert "Ana Pérez" not in page
    assert "5 text answers; the answers are shown to the Resident Coordinator Office" in page


def test_a_single_text_answer_is_withheld_even_from_the_rco(
    client, kit, rco_viewer, programme_admin
):
    respond(kit, "c1", comments="Me llamo Ana Pérez y vivo en Recoleta")
    client.force_login(rco_viewer)
    page = client.get(url("results", kit)).content.decode()
    assert "Ana Pérez" not in page
    assert "Text answers withheld to protect a small group." in page
    client.force_login(programme_admin)
    assert "Ana Pérez" in client.get(url("results", kit)).content.decode()


FORMULA = '=HYPERLINK("http://evil")'


def _formula_question(kit) -> None:
    Question.objects.filter(pk=kit.questions["sat"].pk).update(text_en=FORMULA, text_es=FORMULA)


def test_the_csv_export_neutralises_formulas(client, kit, donor):
    _formula_question(kit)
    client.force_login(donor)
    rows = csv_rows(client.get(url("export_csv", kit, "by=city")))
    sat = [r for r in rows if r["question"] == "sat"]
    assert sat[0]["question_text"] == "'" + FORMULA
    assert {r["group"] for r in sat} == {"all respondents", "Santiago (Chile)", "Mexico City"}
    assert sat[0]["results"] == "responses"


def test_the_xlsx_export_stores_formula_like_text_as_text(client, kit, donor):
    _formula_question(kit)
    client.force_login(donor)
    response = client.get(url("export_xlsx", kit))
    assert response["Content-Disposition"].endswith('EMPLEO-1-results.xlsx"')
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    header = [c.value for c in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("question_text") + 1)
    assert (cell.value, cell.data_type) == (FORMULA, "s")
    assert sheet.cell(row=2, column=header.index("share_pct") + 1).value == 8.3


@pytest.mark.parametrize("who", ["ilo_coordinator_scl", "donor", "iom_approver"])
def test_only_the_rco_and_the_admin_upload(client, kit, who, request):
    client.force_login(request.getfixturevalue(who))
    assert client.get(url("upload", kit)).status_code == 403


def test_the_admin_uploads_a_file_and_sees_what_changed(client, kit, programme_admin):
    client.force_login(programme_admin)
    assert client.get(url("upload", kit)).status_code == 200
    file = SimpleUploadedFile("r.csv", b"id,city,sex,sat\nn1,SCL,female,5\nr00,SCL,female,5\n")
    response = client.post(url("upload", kit), {"file": file}, follow=True)
    assert response.redirect_chain[-1][0] == url("results", kit)
    assert "Responses added: 1; updated: 0; unchanged: 1." in response.content.decode()
    assert Response.objects.filter(survey=kit.survey).count() == 13


def test_a_bad_upload_lists_each_problem_and_saves_nothing(client, kit, rco_viewer):
    client.force_login(rco_viewer)
    file = SimpleUploadedFile("r.csv", b"id,sat,colour\nn1,9,\nn2,4,\n")
    response = client.post(url("upload", kit), {"file": file})
    assert response.status_code == 400
    problems = [(p.row, p.column) for p in response.context["problems"]]
    assert problems == [(1, "colour"), (2, "sat")]
    assert "Nothing was saved: 2 problems to correct." in response.content.decode()
    assert Response.objects.filter(survey=kit.survey).count() == 12


def test_a_publication_has_no_upload(client, published_kit, programme_admin):
    client.force_login(programme_admin)
    assert client.get(url("upload", published_kit)).status_code == 404


@pytest.mark.parametrize("respondents", [3, 40])
def test_the_results_page_makes_a_fixed_number_of_queries(
    client, ciudades, donor, respondents, django_assert_max_num_queries
):
    many = build_kit(ciudades, code="CONTEO")
    for n in range(respondents):
        respond(many, f"m{n}", city="SCL" if n % 2 else "CDMX", sat=n % 5 + 1, needs=["docs"])
    publish(many, "all", 60, level_5="40")
    client.force_login(donor)
    with django_assert_max_num_queries(13):
        assert client.get(url("results", many, "by=city")).status_code == 200
    with django_assert_max_num_queries(6):
        assert client.get(url("list")).status_code == 200


def test_the_pages_render_in_spanish_too(kit, donor):
    spanish = Client(HTTP_ACCEPT_LANGUAGE="es")
    spanish.force_login(donor)
    for name in ("list", "results"):
        response = spanish.get(url(name, None if name == "list" else kit, "by=city"))
        assert response.status_code == 200
        assert '<html lang="es">' in response.content.decode()
    assert "¿Qué tan satisfecho/a está?" in response.content.decode()
