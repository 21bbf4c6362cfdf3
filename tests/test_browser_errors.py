"""showErrorDetails, by its behaviour: a page that raises, served by a real `streamlit run` with
the project's own .streamlit/config.toml, shows the citizen no stack trace and no error text.

A control run of the same page with `showErrorDetails = "full"` must show them, so the check
is known to see a trace when there is one.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.streamlit_server import require_browser, serve

pytestmark = pytest.mark.browser
require_browser()  # skips without a browser; under CI=true fails instead

from playwright.sync_api import Browser, expect, sync_playwright  # noqa: E402

from tests.browser_support import CHROMIUM_ARGS  # noqa: E402
from tests.streamlit_server import CHROMIUM  # noqa: E402

SECRET = "cpr 010203-1234 /srv/hemmelig/sti"
PAGE = f'''
import streamlit as st

st.title("Fejlside")


def lookup(question):
    raise RuntimeError({SECRET!r})


lookup("x")
'''


def _site(folder: Path, details: str | None) -> Path:
    """A folder with the failing page and the project's config (or one with `details`)."""
    (folder / ".streamlit").mkdir(parents=True)
    config = (ROOT / ".streamlit" / "config.toml").read_text("utf-8")
    if details is not None:
        assert 'showErrorDetails = "none"' in config
        config = config.replace('showErrorDetails = "none"', f'showErrorDetails = "{details}"')
    (folder / ".streamlit" / "config.toml").write_text(config, "utf-8")
    (folder / "fejl.py").write_text(PAGE, "utf-8")
    return folder


@pytest.fixture(scope="module")
def chrome() -> Iterator[Browser]:
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def _page_text(browser: Browser, url: str) -> str:
    page = browser.new_context(locale="da-DK").new_page()
    page.set_default_timeout(60_000)
    page.goto(url, timeout=60_000)
    expect(page.get_by_role("heading", name="Fejlside")).to_be_visible()
    expect(page.get_by_test_id("stException")).to_be_visible()  # the error is shown as one
    text = page.inner_text("body")
    page.context.close()
    return text


@pytest.fixture
def shown(chrome: Browser, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    site = _site(tmp_path / "site", request.param)
    with serve("fejl.py", tmp_path, cwd=site) as running:
        yield _page_text(chrome, str(running["url"]))
    shutil.rmtree(site)


@pytest.mark.parametrize("shown", [None], indirect=True, ids=["project config"])
def test_an_error_in_a_page_shows_no_stack_trace(shown: str) -> None:
    for leak in ("Traceback", "RuntimeError", "010203-1234", "hemmelig", "fejl.py", "lookup"):
        assert leak not in shown, leak


@pytest.mark.parametrize("shown", ["full"], indirect=True, ids=["control: full details"])
def test_the_check_sees_a_trace_when_details_are_on(shown: str) -> None:
    assert "RuntimeError" in shown and "hemmelig" in shown and "fejl.py" in shown
