"""The budget dashboard in a real Chromium, in Spanish and in English: a donor signs in, opens
the Budget tab from the overview, and every chart is drawn by plotly.js (an SVG with traces
and marks, not an empty div) with no error in the browser (a Content-Security-Policy
violation would be one). With SCREENSHOT_DIR set, the page is saved as a PNG there.

The server is Django's live-server thread on the session's test database, where Ciudades and
its budget figures are loaded; nothing here writes data except the sessions of the sign-ins."""

import os
from pathlib import Path

import pytest

from .pages import signed_in_page, wait_for_charts

CHARTS = {
    "chart-execution-by-agency",
    "chart-execution-by-agency-country",
    "chart-spending-over-time",
    "chart-budget-by-category",
    "chart-budget-by-outcome",
}
FORMATTED = {"es": "1\xa0702\xa0370", "en": "1,702,370"}


@pytest.mark.parametrize("language", ["es", "en"])
def test_the_budget_dashboard_draws_its_charts(browser, live_url, language):
    page, problems = signed_in_page(browser, live_url, language, username="donor")
    try:
        page.goto(f"{live_url}/programmes/CIUDADES/")
        with page.expect_navigation():
            page.click('nav.tabs a[href="/programmes/CIUDADES/budget/"]')
        assert page.url.endswith("/programmes/CIUDADES/budget/")
        assert page.get_attribute("html", "lang") == language
        assert page.get_attribute('nav.tabs a[aria-current="page"]', "href").endswith("/budget/")
        charts = wait_for_charts(page)
        if shots := os.environ.get("SCREENSHOT_DIR"):  # to look at it
            page.screenshot(path=Path(shots) / f"{language}-budget.png", full_page=True)
        assert {c["id"] for c in charts} == CHARTS
        for chart in charts:
            assert chart["svg"] > 0 and chart["traces"] and chart["marks"], chart
        by_id = {c["id"]: c for c in charts}
        # Budget, spent, and the hatched "no report" bar of UNHCR in Mexico.
        assert by_id["chart-execution-by-agency-country"]["traces"] == 3
        # The original end and the two no-cost extensions, labelled on the time axis.
        assert len(by_id["chart-spending-over-time"]["notes"]) == 3
        assert FORMATTED[language] in page.locator("section.tiles").inner_text()
        assert problems == [], problems
    finally:
        page.context.close()
