"""The risk section of the fund's report (DOCX): a table of the register (code, risk, category,
likelihood, impact, mitigation, responsible, status) in the document's language when the
programme has risks, only those shareable with donors (the report goes to the fund whoever
runs it), "not rated" where the source rated nothing, and the old placeholder without risks."""

import datetime as dt
import io

import pytest
from docx import Document

from governance import services
from governance.models import Risk
from governance.selectors import risk_rows
from indicators.permissions import access_for
from monitoring.exports.mptf import build_mptf_report
from monitoring.exports.stamp import ExportStamp

from .conftest import risk_values, user

pytestmark = pytest.mark.django_db
R1_ES = "Cambio de gobierno municipal en Santiago tras las elecciones municipales de mayo de 2021"
R1_EN = "Change of municipal government in Santiago after the May 2021 municipal elections"

STAMP = ExportStamp(
    programme="CIUDADES",
    generated_at=dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC),
    as_of_period="LOP",
    as_of_date=dt.date(2023, 5, 31),
    computed_at=dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC),
    restatements=0,
    last_restated_at=None,
)


def risk_table(programme, language: str = "en") -> list[list[str]] | None:
    doc = Document(io.BytesIO(build_mptf_report(programme, language=language, stamp=STAMP)))
    tables = [t for t in doc.tables if len(t.columns) == 8]
    if not tables:
        return None
    (table,) = tables
    return [[cell.text for cell in row.cells] for row in table.rows]


def test_the_report_tables_the_loaded_register(loaded):
    rows = risk_table(loaded)
    assert rows[0] == [
        "Code",
        "Risk",
        "Category",
        "Likelihood",
        "Impact",
        "Mitigation",
        "Responsible",
        "Status",
    ]
    assert [r[0] for r in rows[1:]] == sorted((f"R{n}" for n in range(1, 13)), key=str)
    r1 = dict(zip(rows[0], rows[1], strict=True))
    assert r1["Risk"] == R1_EN
    assert (r1["Category"], r1["Likelihood"], r1["Impact"]) == (
        "political / institutional",
        "not rated",
        "not rated",
    )
    assert r1["Mitigation"].startswith("According to the Risk Management Plan")
    assert (r1["Responsible"], r1["Status"]) == ("Programme (RCO)", "realised")


def test_the_spanish_report_has_the_spanish_texts(loaded):
    rows = risk_table(loaded, "es")
    assert rows[0][:4] == ["Código", "Riesgo", "Categoría", "Probabilidad"]
    r1 = rows[1]
    assert r1[1] == R1_ES
    assert r1[5].startswith("Según el Plan de Gestión de Riesgos")


def test_only_shareable_risks_reach_the_fund(ciudades, ilo_risk):
    services.risk_create(
        programme=ciudades,
        actor=user("rco"),
        today=dt.date(2025, 3, 1),
        values=risk_values(code="RS", shareable=True, likelihood=2, impact=5),
    )
    rows = risk_table(ciudades)
    assert [r[0] for r in rows[1:]] == ["RS"]  # RX (ILO's) is not shareable
    assert rows[1][3:5] == ["2 (assessed on the platform)", "5 (assessed on the platform)"]
    # the register's own reader sees both
    rco = access_for(user("rco"), ciudades)
    assert [r.code for r in risk_rows(ciudades, rco)] == ["RS", "RX"]
    assert [r.code for r in risk_rows(ciudades, access_for(user("donor"), ciudades))] == ["RS"]


def test_without_risks_the_report_keeps_the_placeholder(ciudades):
    assert not Risk.objects.filter(programme=ciudades).exists()
    assert risk_table(ciudades) is None
    doc = Document(io.BytesIO(build_mptf_report(ciudades, stamp=STAMP)))
    assert "No risks are recorded in the platform." in [p.text for p in doc.paragraphs]
