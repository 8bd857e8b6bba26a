"""The live server and the browser, shared by the browser tests (one of each per module).
Playwright's sync API runs an event loop in the test's thread; Django refuses ORM calls from
a thread with a running loop unless told this is safe, which it is here (the loop only
drives the browser)."""

import os
from collections.abc import Iterator

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.test.testcases import LiveServerThread

from .pages import LAUNCH_ARGS, chromium_executable

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


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
