"""The running app and a headless Chromium, shared by the browser test files.

Loaded from tests/conftest.py so every browser test file gets the same `server` and `browser`
fixtures. Playwright is imported only inside the fixtures: the other tiers run without it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.streamlit_server import CHROMIUM, ROOT, serve

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CORPUS = ROOT / "corpus"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LONG = 240_000  # ms: the first page load loads the model in the server


@pytest.fixture(scope="module")
def server(full_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`streamlit run app.py` on a free local port, on the test index and a fresh feedback db,
    every socket guarded and the guard proven loaded (tests/streamlit_server.py)."""
    folder = tmp_path_factory.mktemp("browser")
    env = {
        "SPORG_INDEX": str(full_index),
        "SPORG_CORPUS": str(CORPUS),
        "SPORG_FEEDBACK_DB": str(folder / "feedback.sqlite3"),
    }
    with serve("app.py", folder, env) as running:
        yield {"url": running["url"], "db": folder / "feedback.sqlite3", "folder": folder}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _open(
    browser: Browser, url: str, width: int = 1280, height: int = 900, script: str = "", **kw: Any
) -> Page:
    """A fresh Danish browser context on `url`; `script` runs first in every frame it loads."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale="da-DK", **kw)
    if script:
        context.add_init_script(script)
    page = context.new_page()
    page.set_default_timeout(LONG)
    page.goto(url, timeout=LONG)
    return page


def _ask(page: Page, question: str) -> None:
    box = page.get_by_label("Skriv dit spørgsmål her")
    box.fill(question)
    box.press("Enter")


def _idle(page: Page, quiet_ms: int = 800) -> None:
    """Wait until the app has finished running: Streamlit's 'Running…' widget gone, and still
    gone `quiet_ms` later.

    The widget appears only some time after a rerun starts, so one look can fall between a
    click and its rerun; a key pressed then lands on an element the rerun replaces (on a loaded
    machine the keyboard walkthrough's 'Vis hele kilden' did not open).
    """
    from playwright.sync_api import expect

    status = page.get_by_test_id("stStatusWidget")
    for _ in range(20):
        expect(status).to_be_hidden()
        page.wait_for_timeout(quiet_ms)
        if status.count() == 0 or not status.is_visible():
            return
    expect(status).to_be_hidden()
