"""The example caseworker app end to end in a real headless browser: Debian's ``chromium``
driven by Playwright (the ``playwright`` package, using that browser; it never downloads one).

The app runs on a free localhost port over a temporary SQLite store.  A caseworker opens a case
from the list, records a session from its generated form, tries to record a victim's consent
before the victim was given information and reads the refusal's reasons on the page.  The case
page is saved as ``out/caseworker-app.png`` for a person to look at.

Without chromium (or playwright) the test is skipped with one line saying how to get it; under
``CI=true`` it fails instead, since CI installs chromium (``.ci/run``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("flask")

from examples.caseworker_app import create_app, seed
from werkzeug.serving import make_server

from rjflow.store import SQLiteStore
from tests.browser import CHROMIUM_ARGS, chromium, missing

START = datetime(2026, 3, 2, 9, tzinfo=UTC)
SCREENSHOT = Path(__file__).resolve().parents[1] / "out" / "caseworker-app.png"


@pytest.fixture
def browser_page() -> Iterator[Any]:
    """A page in headless Debian chromium, or a skip (a failure under CI=true)."""
    executable = chromium()
    try:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415 - optional
    except ImportError:
        missing("the playwright package is not installed")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(15_000)
            yield page
        finally:
            browser.close()


@pytest.fixture
def app_url(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The app served on a free localhost port by werkzeug in a thread: (base URL, store)."""
    db = str(tmp_path / "cases.sqlite")
    seed(db, now=START)
    ticks = count(1)
    app = create_app(db, clock=lambda: START + timedelta(days=30, hours=next(ticks)))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", db
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_a_caseworker_fires_an_action_and_reads_a_refusal_in_the_browser(
    browser_page: Any, app_url: tuple[str, str]
) -> None:
    """Open a case from the list, record a session from its form (saved, shown in the
    history), then ask for a victim's consent before they were informed: refused, the page
    says why, and nothing is saved."""
    page = browser_page
    base, db = app_url
    page.goto(base + "/")
    page.get_by_role("link", name="RJ-2026-0003").click()
    page.wait_for_url("**/cases/RJ-2026-0003")
    assert page.locator("figure.diagram svg").count() == 1, "the diagram is inline SVG"
    blocked = page.locator("#start_preparation")
    assert "record an attended introduction session" in blocked.inner_text()
    assert blocked.get_by_role("button").is_disabled()

    session = page.locator("details#record_session")
    session.locator("summary").click()
    session.get_by_label("duration").fill("90")
    session.get_by_role("button", name="Record: record session").click()
    page.wait_for_url("**/cases/RJ-2026-0003?*")
    assert "Recorded: record session" in page.get_by_role("status").inner_text()
    assert "record session" in page.locator("#history tr").last.inner_text()
    with SQLiteStore(db) as store:
        saved = store.load("RJ-2026-0003")
    assert saved.history[-1].action == "record_session"
    assert saved.history[-1].data["duration"] == 90 * 60
    version = saved.version

    consent = page.locator("details#record_consent")
    consent.locator("summary").click()
    consent.locator("#record_consent-party").fill("V3")
    consent.locator("#record_consent-activity").select_option("face_to_face")
    consent.get_by_role("button", name="Record: record consent").click()
    reasons = page.locator("details#record_consent[open] ul.reasons[role=alert]")
    reasons.wait_for()
    assert "has not been given information about a face-to-face meeting" in reasons.inner_text()
    assert page.locator("#record_consent-party").input_value() == "V3", "what was typed stays"
    with SQLiteStore(db) as store:
        assert store.version("RJ-2026-0003") == version, "a refusal saves nothing"

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 10_000
