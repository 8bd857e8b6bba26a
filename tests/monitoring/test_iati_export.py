"""The IATI 2.03 activity file of a programme: valid against the official schema, with the
loaded Ciudades figures (1.4.A: target 400, actual 292), city locations and disaggregation
cells, the programme's organisations, countries and budget, the export stamp, and nothing
that is not approved."""

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from lxml import etree

from budgets.models import BudgetLine
from indicators import services
from indicators.models import Indicator
from indicators.selectors.reports import indicators_in_scope
from indicators.selectors.results import RESULT_COLUMNS, ResultQuery, result_rows
from monitoring.exports.iati import (
    IatiUnavailable,
    ResultRow,
    build_iati_activities,
    validate_iati,
)
from monitoring.exports.stamp import export_stamp
from monitoring.models import Agency, City, Outcome, ProgrammeAgency, ReportingPeriod

pytestmark = pytest.mark.django_db

LANG = "{http://www.w3.org/XML/1998/namespace}lang"
LOP_SPAN = ("2020-11-01", "2023-05-31")
DISTINCTIVE = "86421"


def parse(xml: bytes):
    return etree.fromstring(xml)


def indicator(doc, code: str):
    (found,) = doc.xpath("//result/indicator[reference/@code=$code]", code=code)
    return found


def period(node, start: str, end: str):
    (found,) = node.xpath(
        "period[period-start/@iso-date=$s and period-end/@iso-date=$e]", s=start, e=end
    )
    return found


def figures(period_node, kind: str) -> dict[tuple[str | None, str | None], str]:
    """{(location ref, "dimension=value"): value} of a period's targets or actuals; one
    figure per location and cell."""
    out = {}
    for node in period_node.findall(kind):
        location = node.find("location")
        dimension = node.find("dimension")
        key = (
            location.get("ref") if location is not None else None,
            f"{dimension.get('name')}={dimension.get('value')}" if dimension is not None else None,
        )
        assert key not in out, f"two {kind}s for {key}"
        out[key] = node.get("value")
    return out


def test_it_names_the_tidy_columns_in_the_same_order():
    assert ResultRow._fields == RESULT_COLUMNS


def test_it_is_valid_against_the_official_schema(ciudades):
    xml = build_iati_activities(ciudades)
    assert validate_iati(xml) == []
    doc = parse(xml)
    assert doc.tag == "iati-activities"
    assert doc.get("version") == "2.03"
    assert dt.datetime.fromisoformat(doc.get("generated-datetime")).tzinfo is not None
    (activity,) = doc.findall("iati-activity")
    assert dt.datetime.fromisoformat(activity.get("last-updated-datetime")).tzinfo is not None
    assert activity.get("default-currency") == "USD"


def test_it_carries_the_loaded_figures_of_1_4_a(ciudades):
    rows = [
        ResultRow._make(r)
        for r in result_rows(ResultQuery(programme=ciudades, indicator="1.4.A", city="ALL"))
    ]
    (total,) = [r for r in rows if r.period == "LOP" and r.disaggregation == "total"]
    assert (total.target, total.actual) == (Decimal(400), Decimal(292))

    node = indicator(parse(build_iati_activities(ciudades)), "1.4.A")
    assert (node.get("measure"), node.get("ascending")) == ("1", "1")
    titles = {n.get(LANG): n.text for n in node.findall("title/narrative")}
    assert titles["en"].startswith("Number of migrants and refugees who received specific")
    assert titles["es"].startswith("Número de migrantes y refugiados que recibieron")
    life = period(node, *LOP_SPAN)
    assert figures(life, "target") == {(None, None): "400"}
    assert figures(life, "actual") == {(None, None): "292"}
    result = node.getparent()
    assert (result.get("type"), result.find("reference").get("code")) == ("1", "1.4")


def test_it_gives_city_figures_a_location_and_cells_a_dimension(ciudades):
    doc = parse(build_iati_activities(ciudades))
    cities = {n.get("ref") for n in doc.findall("iati-activity/location")}
    assert cities == {"SCL", "CDMX"}
    # every location a result refers to is one of the activity's locations
    assert {n.get("ref") for n in doc.xpath("//result//location")} == cities

    percent = indicator(doc, "1.4.B")
    assert percent.get("measure") == "2"
    assert figures(period(percent, *LOP_SPAN), "actual") == {
        (None, None): "90",
        ("SCL", None): "100",
        ("CDMX", None): "80",
    }

    design = indicator(doc, "1.4.a")  # the design-document version, with the 2022 report's cells
    year_2 = period(design, "2021-03-01", "2022-02-28")
    assert figures(year_2, "actual") == {
        (None, None): "44",
        (None, "sex=female"): "32",
        (None, "sex=male"): "12",
    }
    baseline = design.find("baseline")
    assert (baseline.get("year"), baseline.get("iso-date"), baseline.get("value")) == (
        "2020",
        "2020-11-01",
        "0",
    )
    city_baseline = indicator(doc, "1.1.a").find("baseline")
    assert city_baseline.get("value") == "1"
    assert city_baseline.find("location").get("ref") == "SCL"
    # periods come in time order with the life of the programme last
    starts = [p.find("period-start").get("iso-date") for p in design.findall("period")]
    assert starts == ["2020-11-01", "2021-03-01", "2020-11-01"]


def test_it_describes_the_joint_programme(ciudades):
    (activity,) = parse(build_iati_activities(ciudades)).findall("iati-activity")
    assert activity.findtext("iati-identifier") == "XM-DAC-41302-CIUDADES"
    reporting = activity.find("reporting-org")
    assert (reporting.get("ref"), reporting.get("type")) == ("XM-DAC-41302", "40")
    title = {n.get(LANG) for n in activity.findall("title/narrative")}
    assert title == {"es", "en"}
    orgs = [(o.get("role"), o.get("ref")) for o in activity.findall("participating-org")]
    assert orgs == [
        ("1", None),
        ("2", "XM-DAC-41302"),
        ("4", "XM-DAC-41302"),
        ("2", "XM-DAC-47066"),
        ("4", "XM-DAC-47066"),
        ("2", "XM-DAC-41121"),
        ("4", "XM-DAC-41121"),
    ]
    (fund,) = activity.xpath("participating-org[@role='1']/narrative[@xml:lang='en']")
    assert fund.text == "Migration Multi-Partner Trust Fund (Migration MPTF)"
    dates = {d.get("type"): d.get("iso-date") for d in activity.findall("activity-date")}
    assert dates == {"1": "2020-11-01", "2": "2020-11-01", "3": "2023-05-31", "4": "2023-05-31"}
    assert activity.find("activity-status").get("code") == "3"
    shares = {c.get("code"): Decimal(c.get("percentage")) for c in activity.findall(
        "recipient-country")}  # fmt: skip
    assert shares == {"CL": Decimal("52.91"), "MX": Decimal("47.09")}
    assert sum(shares.values()) == 100
    (budget,) = activity.findall("budget")
    value = budget.find("value")
    assert (value.text, value.get("currency"), value.get("value-date")) == (
        "1702370.00",
        "USD",
        "2020-11-01",
    )
    assert [r.get("type") for r in activity.findall("result")][:2] == ["2", "1"]


def test_it_states_as_of_and_restatements_from_the_stamp(ciudades):
    stamp = dataclasses.replace(
        export_stamp(ciudades),
        restatements=2,
        last_restated_at=dt.datetime(2024, 1, 5, tzinfo=dt.UTC),
    )
    xml = build_iati_activities(ciudades, stamp=stamp)
    (activity,) = parse(xml).findall("iati-activity")
    (note,) = activity.xpath("description[@type='4']/narrative[@xml:lang='en']")
    assert note.text.startswith("Approved figures as of LOP (2023-05-31)")
    assert "2 approved figures have been restated since their approval" in note.text
    assert b"<!-- Approved figures as of LOP (2023-05-31)" in xml


def entries(programme, value: str) -> list[services.Entry]:
    """ILO Santiago's figures for every indicator in scope: ``value`` for counts."""
    other = {"percent": "61", "yes_no": "1", "level": "2", "amount": "100"}
    return [
        services.Entry(
            indicator=i, value=Decimal(value if i.measure == "count" else other[i.measure])
        )
        for i in indicators_in_scope(
            programme=programme,
            agency=Agency.objects.get(code="ILO"),
            city=City.objects.get(code="SCL"),
        )
    ]


def test_nothing_unapproved_appears_until_it_is_approved(
    ciudades, ilo_coordinator_scl, django_capture_on_commit_callbacks
):
    approver = get_user_model().objects.get(username="approver.ilo")
    where = {
        "programme": ciudades,
        "period": ReportingPeriod.objects.get(programme=ciudades, code="2023-Q2"),
        "agency": Agency.objects.get(code="ILO"),
        "city": City.objects.get(code="SCL"),
        "narrative_es": "",
        "narrative_en": "",
        "actor": ilo_coordinator_scl,
    }
    draft = services.report_save(
        expected_version=0, entries=entries(ciudades, DISTINCTIVE), **where
    )
    assert draft.status == "draft"
    assert DISTINCTIVE.encode() not in build_iati_activities(ciudades)

    in_scope = [e.indicator for e in entries(ciudades, "0")]
    submitted = services.report_save(
        expected_version=draft.version, entries=[], submit=True, in_scope=in_scope, **where
    )
    assert DISTINCTIVE.encode() not in build_iati_activities(ciudades)
    returned = services.report_return(report=submitted, reason="Check.", actor=approver)
    assert returned.status == "returned"
    xml = build_iati_activities(ciudades)
    assert DISTINCTIVE.encode() not in xml
    assert b'iso-date="2023-04-01"' not in xml  # no 2023-Q2 period at all
    life = period(indicator(parse(xml), "1.4.A"), *LOP_SPAN)
    assert figures(life, "actual") == {(None, None): "292"}

    # the same figures once approved do appear: the check above can fail
    resubmitted = services.report_save(
        expected_version=returned.version, entries=[], submit=True, in_scope=in_scope, **where
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.report_approve(report=resubmitted, actor=approver)
    xml = build_iati_activities(ciudades)
    assert validate_iati(xml) == []
    quarter = period(indicator(parse(xml), "1.2.A"), "2023-04-01", "2023-06-30")
    assert figures(quarter, "actual") == {(None, None): DISTINCTIVE, ("SCL", None): DISTINCTIVE}


def test_it_refuses_a_programme_without_an_identifiable_reporting_organisation(ciudades):
    Agency.objects.filter(code="ILO").update(code="XILO")
    with pytest.raises(IatiUnavailable, match="has no IATI organisation identifier"):
        build_iati_activities(ciudades)
    ProgrammeAgency.objects.filter(programme=ciudades).update(is_convening=False)
    with pytest.raises(IatiUnavailable, match="CIUDADES has no convening agency"):
        build_iati_activities(ciudades)


def test_a_revised_budget_and_a_pasted_control_character_still_give_a_valid_file(ciudades):
    line = BudgetLine.objects.get(
        programme=ciudades, view="line", agency__code="ILO", country__code="MX"
    )
    BudgetLine.objects.filter(pk=line.pk).update(amount=line.amount + 1000)
    Outcome.objects.filter(programme=ciudades, code="R1").update(title_en="Santiago\x0b and CDMX")
    xml = build_iati_activities(ciudades)
    assert validate_iati(xml) == []
    doc = parse(xml)
    budgets = {b.get("type"): b.findtext("value") for b in doc.findall("iati-activity/budget")}
    assert budgets == {"1": "1702370.00", "2": "1703370.00"}
    (title,) = doc.xpath("//result[reference/@code='R1']/title/narrative[@xml:lang='en']")
    assert title.text == "Santiago and CDMX"


def test_a_broken_document_is_reported_with_the_element_at_fault(ciudades):
    xml = build_iati_activities(ciudades)

    missing = parse(xml)
    activity = missing.find("iati-activity")
    activity.remove(activity.find("iati-identifier"))
    errors = validate_iati(etree.tostring(missing))
    assert any("'reporting-org'" in e and "Expected is ( iati-identifier )" in e for e in errors)

    bad_date = parse(xml)
    bad_date.find("iati-activity/activity-date").set("iso-date", "31/05/2023")
    (error,) = validate_iati(etree.tostring(bad_date))
    assert "Element 'activity-date', attribute 'iso-date'" in error
    assert "'31/05/2023' is not a valid value of the atomic type 'xs:date'" in error
    assert error.startswith("line ")

    not_a_number = parse(xml)
    not_a_number.find("iati-activity/budget/value").text = "1.702.370"
    (error,) = validate_iati(etree.tostring(not_a_number))
    assert "Element 'value'" in error and "xs:decimal" in error


def test_it_reports_a_document_that_is_not_xml_and_never_resolves_entities(tmp_path):
    (error,) = validate_iati(b"<iati-activities version='2.03'><iati-activity>")
    assert error.startswith("line 1:")
    secret = tmp_path / "secret.txt"
    secret.write_text("do-not-read-me")
    hostile = (
        f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "{secret.as_uri()}">]>'
        '<iati-activities version="2.03"><iati-activity>&e;</iati-activity></iati-activities>'
    ).encode()
    assert validate_iati(hostile) == [
        "line 1: A document type declaration (DOCTYPE) is not allowed."
    ]


def test_an_active_indicator_without_approved_figures_is_listed_without_periods(ciudades):
    Indicator.objects.filter(programme=ciudades, code="1.4.A").update(direction="decrease")
    new = Indicator.objects.create(
        programme=ciudades,
        code="1.4.Z",
        level="output",
        outcome=ciudades.outcomes.get(code="R1"),
        output=ciudades.outputs.get(code="1.4"),
        order=199,
        name_es="Número de ferias",
        name_en="Number of fairs",
        measure="count",
        time_rule="sum",
        place_rule="sum",
    )
    new.cities.set(City.objects.filter(code="SCL"))
    xml = build_iati_activities(ciudades)
    assert validate_iati(xml) == []
    doc = parse(xml)
    fresh = indicator(doc, "1.4.Z")
    assert fresh.findall("period") == [] and fresh.findall("baseline") == []
    assert indicator(doc, "1.4.A").get("ascending") == "0"
