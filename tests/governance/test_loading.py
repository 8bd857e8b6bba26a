"""The Ciudades governance data: the twelve risks of the 2022 annual report's register (R12 from
the evaluation), none rated because the sources rate none; the governance bodies with the
frequency the sources give; the two dated meetings; the agreements and tools with their status
history; in Spanish and English; loaded twice without change, and not at all when one value is
wrong."""

import copy
import datetime as dt
import json
import re

import pytest
from django.utils import translation

from governance.loading import CIUDADES, FORMAT, GovernanceLoader, load_ciudades_governance
from governance.models import (
    Agreement,
    AgreementUpdate,
    Committee,
    Meeting,
    Risk,
    RiskReview,
    Tool,
    ToolAdoption,
)
from monitoring.loading import LoadError

pytestmark = pytest.mark.django_db
R1_ES = "Cambio de gobierno municipal en Santiago tras las elecciones municipales de mayo de 2021"
R1_EN = "Change of municipal government in Santiago after the May 2021 municipal elections"


def counts(programme) -> tuple[int, ...]:
    return (
        Risk.objects.filter(programme=programme).count(),
        RiskReview.objects.filter(risk__programme=programme).count(),
        Committee.objects.filter(programme=programme).count(),
        Meeting.objects.filter(committee__programme=programme).count(),
        Agreement.objects.filter(programme=programme).count(),
        AgreementUpdate.objects.filter(agreement__programme=programme).count(),
        Tool.objects.filter(programme=programme).count(),
        ToolAdoption.objects.filter(tool__programme=programme).count(),
    )


def test_it_loads_the_register_of_the_2022_report_unrated(loaded):
    risks = {r.code: r for r in Risk.objects.filter(programme=loaded)}
    assert sorted(risks, key=lambda c: int(c[1:])) == [f"R{n}" for n in range(1, 13)]
    assert all(r.likelihood is None and r.impact is None for r in risks.values())
    assert all(r.shareable and r.source for r in risks.values())
    r1 = risks["R1"]
    assert r1.category == Risk.Category.POLITICAL and r1.status == Risk.Status.REALISED
    assert [c.code for c in r1.cities.all()] == ["SCL"]
    assert r1.first_reported.code == "Y2"
    assert "L430" in r1.source
    assert [o.code for o in risks["R5"].outcomes.all()] == ["R3"]
    assert risks["R7"].status == Risk.Status.CLOSED
    assert risks["R12"].first_reported is None and "EVAL L1247" in risks["R12"].source
    # each loaded risk starts its history on the day of its source
    first = RiskReview.objects.get(risk=r1)
    assert (first.reviewed_on, first.likelihood, first.status) == (
        dt.date(2022, 2, 28),
        None,
        "realised",
    )


def test_the_loaded_risks_read_in_spanish_and_in_english(loaded):
    r1 = Risk.objects.get(programme=loaded, code="R1")
    with translation.override("es"):
        assert r1.title == R1_ES
        assert r1.mitigation.startswith("Según el Plan de Gestión de Riesgos")
    with translation.override("en"):
        assert r1.title == R1_EN
        assert r1.mitigation.startswith("According to the Risk Management Plan")
    for risk in Risk.objects.filter(programme=loaded):
        assert risk.title_es and risk.title_en and risk.description_es and risk.description_en


def test_it_loads_the_committees_with_the_frequency_the_sources_give(loaded):
    committees = {c.code: c for c in Committee.objects.filter(programme=loaded)}
    assert set(committees) == {
        "CCB",
        "CD-SCL",
        "CD-CDMX",
        "UG-CL",
        "UG-MX",
        "OCR-CL",
        "OCR-MX",
        "CT-SCL",
        "CT-CDMX",
        "MUNI-SCL",
        "TRIP-SCL",
    }
    ccb = committees["CCB"]
    assert (ccb.kind, ccb.scope, ccb.expected_meetings_per_year) == ("binational", "binational", 1)
    assert ccb.frequency_es.startswith("Una vez al año")
    assert ccb.frequency_en.startswith("Once a year")
    assert committees["CD-SCL"].city.code == "SCL" and committees["CD-CDMX"].city.code == "CDMX"
    assert committees["UG-MX"].expected_meetings_per_year is None  # the source gives no number
    assert "CPC" in committees["CD-SCL"].members_es
    meetings = Meeting.objects.filter(committee__programme=loaded).order_by("held_on")
    assert [(m.committee.code, m.held_on) for m in meetings] == [
        ("MUNI-SCL", dt.date(2021, 8, 2)),
        ("TRIP-SCL", dt.date(2022, 1, 26)),
    ]
    assert [p.institution for p in meetings[1].participants.all()] == [
        "OIT",
        "Confederación de la Producción y el Comercio (CPC)",
        "Central Unitaria de Trabajadores (CUT)",
    ]


def test_it_loads_agreements_and_tools_with_their_history(loaded):
    agreement = Agreement.objects.get(programme=loaded, code="AC-CDMX")
    assert agreement.status == Agreement.Status.SIGNED  # the latest update's
    assert [(u.observed_on, u.status) for u in agreement.updates.order_by("observed_on")] == [
        (dt.date(2022, 2, 28), "negotiating"),
        (dt.date(2023, 7, 1), "signed"),
    ]
    assert sorted(a.code for a in agreement.agencies.all()) == ["ILO", "IOM", "UNHCR"]
    manual = Tool.objects.get(programme=loaded, code="MANUAL-RUTA")
    assert (manual.kind, manual.output.code, manual.city.code) == ("manual", "1.1", "SCL")
    assert [a.status for a in manual.adoptions.order_by("observed_on")] == ["produced", "adopted"]
    with translation.override("es"):
        assert manual.title == "Manual «Ruta de las Personas Migrantes y Refugiadas»"
    assert Tool.objects.filter(programme=loaded).count() == 13


def test_loading_twice_changes_nothing(loaded):
    before = counts(loaded)
    assert before == (12, 12, 11, 2, 6, 8, 13, 16)
    loader = load_ciudades_governance(loaded)
    assert counts(loaded) == before
    assert sum(loader.created.values()) == 0


def test_a_second_load_leaves_what_the_platform_changed(loaded):
    Risk.objects.filter(programme=loaded, code="R6").update(likelihood=2, impact=3)
    load_ciudades_governance(loaded)
    assert Risk.objects.filter(programme=loaded, code="R6", likelihood=2, impact=3).exists()


def test_a_bad_value_loads_nothing_and_names_the_record_and_field(ciudades):
    document = json.loads(CIUDADES.read_text(encoding="utf-8"))
    broken = copy.deepcopy(document)
    broken["tools"][-1]["city"] = "LIMA"
    with pytest.raises(LoadError) as error:
        GovernanceLoader(ciudades, broken).load()
    assert (error.value.record, error.value.field) == ("tool GUIA-GL", "city")
    assert counts(ciudades) == (0, 0, 0, 0, 0, 0, 0, 0)
    broken = copy.deepcopy(document)
    broken["risks"][0]["likelihood"] = 7
    with pytest.raises(LoadError) as error:
        GovernanceLoader(ciudades, broken).load()
    assert (error.value.record, error.value.field) == ("risk R1", "likelihood")
    with pytest.raises(LoadError):
        GovernanceLoader(ciudades, {"format": "other"})
    assert document["format"] == FORMAT


def test_the_data_names_no_person():
    text = CIUDADES.read_text(encoding="utf-8")
    for name in ("Hassler", "Bertranou", "Rucks", "Grohmann", "Sanz", "Velazco", "Burga"):
        assert name not in text
    # every record cites its lines
    document = json.loads(text)
    for kind in ("risks", "committees", "meetings", "agreements", "tools"):
        for row in document[kind]:
            assert re.search(r"L\d+", row["source_lines"]), row
