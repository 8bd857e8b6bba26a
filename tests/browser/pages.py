"""What the browser tests share: finding Chromium, signing in through the login form with a
console that records errors, waiting for the charts to be drawn."""

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import PASSWORD

LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


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
