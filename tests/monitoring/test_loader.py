"""The programme loader: idempotent, all-or-nothing, and precise about what is wrong."""

import copy
import io
import json

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.forms.models import model_to_dict

from indicators.models import Indicator, Rollup, Target
from monitoring.loading import LoadError, ProgrammeLoader
from monitoring.management.commands.load_ciudades import DOCUMENT
from monitoring.models import Outcome, Programme

pytestmark = pytest.mark.django_db

OUR_APPS = ("monitoring", "indicators", "budgets", "surveys", "auth")
# Derived by the engine on every load; compared by content in their own test.
DERIVED = {
    "indicators.Rollup",
    "indicators.QualityIssue",
    "indicators.RecomputeRun",
    "indicators.RecomputeRequest",
    "budgets.BudgetFigure",
    "budgets.BudgetFinding",
}


def snapshot() -> dict[str, list[dict]]:
    """Every row of every model of ours (derived tables excepted), with all fields, timestamps
    included."""
    rows = {}
    for app in OUR_APPS:
        for model in apps.get_app_config(app).get_models():
            if model._meta.label in DERIVED:
                continue
            rows[model._meta.label] = [
                {
                    **model_to_dict(obj),
                    "pk": obj.pk,
                    **{f.name: getattr(obj, f.name) for f in model._meta.concrete_fields},
                }
                for obj in model._default_manager.order_by("pk")
            ]
    return rows


@pytest.fixture
def document() -> dict:
    return json.loads(DOCUMENT.read_text(encoding="utf-8"))


def test_loading_ciudades_again_changes_nothing(ciudades):
    before = snapshot()
    out = io.StringIO()
    call_command("load_ciudades", stdout=out)
    assert "created: nothing" in out.getvalue()
    assert "updated: nothing" in out.getvalue()
    assert "Demo accounts (0 records created)" in out.getvalue()
    assert snapshot() == before


def test_loading_again_rebuilds_the_same_rollups(ciudades):
    fields = (
        "indicator_id",
        "scope",
        "city_id",
        "agency_id",
        "period_id",
        "category_id",
        "ltd_actual",
        "ltd_target",
        "ltd_expected",
        "ltd_achievement",
        "ltd_status",
        "method",
        "n_values",
    )
    before = sorted(Rollup.objects.filter(programme=ciudades).values_list(*fields), key=str)
    assert before
    call_command("load_ciudades", stdout=io.StringIO())
    assert sorted(Rollup.objects.filter(programme=ciudades).values_list(*fields), key=str) == before


def test_a_new_programme_loads_and_then_stays_unchanged(document):
    document["programme"]["code"] = "CIUDADES2"
    first = ProgrammeLoader(copy.deepcopy(document)).load()
    assert first.created["programmes"] == 1
    assert first.created["indicators"] == 37
    assert first.created["activities"] == 59
    assert Programme.objects.filter(code="CIUDADES2").exists()
    second = ProgrammeLoader(copy.deepcopy(document)).load()
    assert second.changes == 0


def test_a_changed_title_is_updated_in_place(document, ciudades):
    document["outcomes"][0]["title_en"] = "A clearer title"
    stats = ProgrammeLoader(document).load()
    assert stats.updated == {"outcomes": 1}
    assert Outcome.objects.get(programme=ciudades, code="R1").title_en == "A clearer title"


def test_a_changed_target_is_kept_as_a_revision(document, ciudades):
    spec = next(i for i in document["indicators"] if i["code"] == "1.4.A")
    spec["targets"][0]["value"] = 350
    ProgrammeLoader(document).load()
    target = Target.objects.get(indicator__programme=ciudades, indicator__code="1.4.A")
    assert (target.original_value, target.value) == (400, 350)
    revision = target.revisions.get()
    assert (revision.old_value, revision.new_value) == (400, 350)
    assert "Programme document reloaded" in revision.reason


def _load_expecting(document: dict) -> LoadError:
    with pytest.raises(LoadError) as info:
        ProgrammeLoader(document).load()
    return info.value


def test_a_target_for_a_city_outside_the_scope_is_refused_and_nothing_is_written(
    document, ciudades
):
    before = snapshot()
    document["outcomes"][0]["title_en"] = "This change must not survive"
    spec = next(i for i in document["indicators"] if i["code"] == "2.2.E")
    spec["targets"].append({"city": "CDMX", "value": 50})
    error = _load_expecting(document)
    assert error.record == "indicator 2.2.E › target #2 (city CDMX, period LOP)"
    assert error.field == "city"
    assert "CDMX is outside the cities in scope of indicator 2.2.E (SCL)" in error.message
    assert snapshot() == before


def test_a_duplicate_code_is_refused_before_anything_is_written(document):
    document["programme"]["code"] = "FRESH"
    duplicate = copy.deepcopy(next(i for i in document["indicators"] if i["code"] == "1.4.A"))
    document["indicators"].append(duplicate)
    error = _load_expecting(document)
    assert error.record == f"indicators[{len(document['indicators']) - 1}] (1.4.A)"
    assert error.field == "code"
    assert "duplicate" in error.message
    assert not Programme.objects.filter(code="FRESH").exists()


def test_a_negative_count_is_refused_with_its_record_and_field(document):
    document["programme"]["code"] = "FRESH"
    lop = next(r for r in document["reports"] if r["period"] == "LOP" and r["city"] is None)
    next(v for v in lop["values"] if v["indicator"] == "1.4.A")["value"] = -5
    error = _load_expecting(document)
    assert error.record == "report LOP JOINT ALL › value 1.4.A"
    assert error.field == "value"
    assert "cannot be negative" in error.message
    assert not Programme.objects.filter(code="FRESH").exists()
    assert not Indicator.objects.filter(programme__code="FRESH").exists()


@pytest.mark.parametrize(
    ("mutate", "record", "field", "message"),
    [
        (
            lambda d: d["outputs"][0].update(outcome="R9"),
            "output 1.1",
            "outcome",
            "unknown outcome 'R9'",
        ),
        (
            lambda d: d["indicators"][0].update(measure="volume"),
            "indicator 1C",
            "measure",
            "not a valid choice",
        ),
        (
            lambda d: d["indicators"][0].update(cities=[]),
            "indicator 1C",
            "cities",
            "at least one city",
        ),
        (
            lambda d: d["programme"].update(end_date="2019-01-01"),
            "programme FRESH",
            None,
            "End date must be after",
        ),
        (
            lambda d: d["programme"].update(start_date="1 Nov 2020"),
            "programme FRESH",
            "start_date",
            "expected a date",
        ),
        (
            lambda d: d["budget_lines"][0].update(amount="lots"),
            "budget line ILO/MX",
            "amount",
            "expected a number",
        ),
        (
            lambda d: d["reports"][0].update(status="draft"),
            "report Y1 JOINT ALL",
            "status",
            "loaded as approved",
        ),
    ],
)
def test_bad_records_are_named(document, mutate, record, field, message):
    document["programme"]["code"] = "FRESH"
    mutate(document)
    error = _load_expecting(document)
    assert (error.record, error.field) == (record, field)
    assert message in error.message
    assert not Programme.objects.filter(code="FRESH").exists()


def test_the_command_reports_the_error_and_loads_nothing(tmp_path, document):
    document["programme"]["code"] = "FRESH"
    document["indicators"][0]["targets"][0]["value"] = -1
    path = tmp_path / "programme.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(
        CommandError, match=r"Nothing was loaded\. indicator 1C › target #1 .*'value'"
    ):
        call_command("load_programme", str(path))
    assert not Programme.objects.filter(code="FRESH").exists()


def test_a_document_in_another_format_is_refused():
    with pytest.raises(LoadError, match="expected format"):
        ProgrammeLoader({"format": "something/else"})
