"""Each dashboard page opened in a real Chromium, in Spanish and in English: a user signs in
through the login form, every chart is drawn by plotly.js (an SVG with traces, not an empty
div), the browser reports no error (a Content-Security-Policy violation would be one), and the
CSV and PNG downloads of a chart arrive. With SCREENSHOT_DIR set, each page is also saved as
a PNG there.

The server is Django's live-server thread on the session's test database, where Ciudades is
loaded; nothing here writes data except the sessions of the sign-ins."""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.test.testcases import LiveServerThread

from tests.conftest import PASSWORD

CHART_PAGES = [
    ("", "overview"),
    ("outcomes/", "outcomes"),
    ("cities/", "cities"),
    ("agencies/", "agencies"),
    ("compliance/", "compliance"),
    ("indicators/1.4.A/", "indicator"),
]
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
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


def chromium_executable() -> str:
    """Chromium from $CHROMIUM, the PATH, or Playwright's own download; otherwise fail with
    what to do (the test is not skipped)."""
    candidates = [os.environ.get("CHROMIUM", "")]
    candidates += [shutil.which(n) or "" for n in ("chromium", "chromium-browser", "chrome")]
    for path in candidates:
        if path and Path(path).exists():
            return path
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        bundled = p.chromium.executable_path
    if Path(bundled).exists():
        return bundled
    pytest.fail(
        "Chromium not found: install it (Debian: apt-get install chromium), run "
        "'.venv/bin/playwright install chromium', or set CHROMIUM=/path/to/chromium."
    )


@pytest.fixture(scope="module")
def live_url(django_db_setup, django_db_blocker) -> Iterator[str]:
    with django_db_blocker.unblock():
        server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
        server.daemon = True
        server.start()
        server.is_ready.wait()
        if server.error:
            raise server.error
        try:
            yield f"http://127.0.0.1:{server.port}"
        finally:
            server.terminate()


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    executable = chromium_executable()
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=executable, headless=True, args=LAUNCH_ARGS)
        yield instance
        instance.close()


def signed_in_page(browser, live_url: str, language: str, username: str = "rco"):
    locale = {"es": "es-CL", "en": "en-GB"}[language]
    context = browser.new_context(locale=locale, accept_downloads=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    page.goto(f"{live_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert "/accounts/login/" not in page.url, page.locator("main").inner_text()
    return page, problems


def wait_for_charts(page) -> list[dict]:
    """Every chart on the page drawn; for each, how many traces plotly put in its SVG."""
    page.wait_for_function(
        "[...document.querySelectorAll('[data-chart]')]"
        ".every(el => el.getAttribute('data-rendered') === 'true')",
        timeout=20_000,
    )
    return page.eval_on_selector_all(
        "[data-chart]",
        """els => els.map(el => ({
            id: el.getAttribute('data-chart'),
            svg: el.querySelectorAll('svg.main-svg').length,
            traces: el.querySelectorAll('.trace, .hm').length,
            marks: el.querySelectorAll('.trace .point, .hm image').length,
            notes: [...el.querySelectorAll('.annotation-text')].map(a => a.textContent),
        }))""",
    )


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
