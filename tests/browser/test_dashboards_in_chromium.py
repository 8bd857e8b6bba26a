"""Each dashboard page opened in a real Chromium, in Spanish and in English: a user signs in
through the login form, every chart is drawn by plotly.js (an SVG with traces, not an empty
div), the browser reports no error (a Content-Security-Policy violation would be one), and the
CSV and PNG downloads of a chart arrive. With SCREENSHOT_DIR set, each page is also saved as
a PNG there.

The server is Django's live-server thread on the session's test database, where Ciudades is
loaded; nothing here writes data except the sessions of the sign-ins."""

import os
from pathlib import Path

import pytest

from .pages import signed_in_page, wait_for_charts

CHART_PAGES = [
    ("", "overview"),
    ("outcomes/", "outcomes"),
    ("cities/", "cities"),
    ("agencies/", "agencies"),
    ("compliance/", "compliance"),
    ("indicators/1.4.A/", "indicator"),
]
TEXT = {
    "es": {
        "nav": "Resumen",
        "png": "Descargar gráfica como PNG",
        "csv": "Descargar datos (CSV)",
        "no_agency": "Ninguna agencia ha reportado aún cifras propias.",
    },
    "en": {
        "nav": "Overview",
        "png": "Download plot as a PNG",
        "csv": "Download data (CSV)",
        "no_agency": "No agency has reported figures of its own yet.",
    },
}


@pytest.mark.parametrize("language", ["es", "en"])
def test_every_dashboard_draws_its_charts(browser, live_url, language):
    page, problems = signed_in_page(browser, live_url, language)
    try:
        for path, name in CHART_PAGES:
            page.goto(f"{live_url}/programmes/CIUDADES/{path}")
            assert page.get_attribute("html", "lang") == language
            assert page.locator("nav.tabs").inner_text().startswith(TEXT[language]["nav"])
            charts = wait_for_charts(page)
            if shots := os.environ.get("SCREENSHOT_DIR"):  # to look at them
                page.screenshot(path=Path(shots) / f"{language}-{name}.png", full_page=True)
            assert charts, f"{name}: no chart on the page"
            assert all(c["svg"] > 0 for c in charts), (name, charts)
            if name == "agencies":
                # Ciudades' sources give joint figures only: the chart says so, drawn.
                assert charts[0]["notes"] == [TEXT[language]["no_agency"]], charts
            else:
                assert any(c["traces"] and c["marks"] for c in charts), f"{name}: {charts}"
        page.goto(f"{live_url}/programmes/CIUDADES/quality/")
        assert ">1.4.B<" in page.content()
        assert problems == [], problems
    finally:
        page.context.close()


@pytest.mark.parametrize("language", ["es", "en"])
def test_a_chart_downloads_as_csv_and_png(browser, live_url, language, tmp_path):
    page, problems = signed_in_page(browser, live_url, language)
    try:
        page.goto(f"{live_url}/programmes/CIUDADES/outcomes/")
        wait_for_charts(page)
        first = page.locator("figure.chart-box").first
        with page.expect_download() as csv_download:
            first.get_by_text(TEXT[language]["csv"]).click()
        assert csv_download.value.suggested_filename == "CIUDADES-outcome-r1.csv"
        saved = tmp_path / "r1.csv"
        csv_download.value.save_as(saved)
        assert "1.4.A" in saved.read_text(encoding="utf-8-sig")
        first.locator(".chart").hover()
        with page.expect_download() as png_download:
            first.locator(f'.modebar-btn[data-title="{TEXT[language]["png"]}"]').click()
        assert png_download.value.suggested_filename == "CIUDADES-outcome-r1.png"
        png = tmp_path / "r1.png"
        png_download.value.save_as(png)
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert png.stat().st_size > 5_000  # a drawn chart, not a blank image
        assert problems == [], problems
    finally:
        page.context.close()
