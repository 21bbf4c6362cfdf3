"""Nøgletal and Sammenlign in a real headless Chromium against `streamlit run app.py` (the
server, browser and screenshot fixtures of tests/test_browser.py; marker browser)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser_support import LONG, _idle, _open
from tests.test_browser import (  # noqa: F401 - fixtures are used by name
    _headings_in_order,
    _shot,
    shots,
)

pytestmark = pytest.mark.browser

from playwright.sync_api import Browser, expect  # noqa: E402


def test_noegletal_filters_picks_a_row_and_marks_the_figure(
    browser: Browser, server: dict[str, Any], shots: Path  # noqa: F811
) -> None:
    page = _open(browser, f"{server['url']}/Nøgletal", height=1200)
    expect(page.get_by_role("heading", name="Nøgletal", level=1)).to_be_visible()
    _headings_in_order(page)
    expect(page.get_by_test_id("stDataFrame")).to_be_visible()
    page.get_by_label("Søg").fill("Sønderborg")
    page.get_by_label("Søg").press("Enter")
    _idle(page)
    expect(page.get_by_text("8 af")).to_be_visible()
    grid = page.get_by_test_id("stDataFrame").bounding_box()
    assert grid is not None
    for row in (1, 2):  # the selection column, row by row under the header
        page.mouse.click(grid["x"] + 18, grid["y"] + 36 * row + 18)
        _idle(page)
    expect(page.get_by_text("79.000 kr. – demokrati (Sønderborg)")).to_be_visible(timeout=LONG)
    expect(page.get_by_text("79.000 kroner").first).to_be_visible()
    expect(page.get_by_test_id("stDownloadButton")).to_be_visible()
    _shot(page, shots / "noegletal.png", height=1200)


def test_sammenlign_shows_towns_side_by_side(
    browser: Browser, server: dict[str, Any], shots: Path  # noqa: F811
) -> None:
    page = _open(browser, f"{server['url']}/Sammenlign", height=1200)
    expect(page.get_by_role("heading", name="Sammenlign kommuner", level=1)).to_be_visible()
    towns = page.get_by_test_id("stMultiSelect")
    for town in ("Sønderborg", "København"):
        # With 24 towns the dropdown renders only the first options: type to filter, as a user does.
        towns.click()
        page.keyboard.type(town)
        page.get_by_role("option", name=town).click()
    page.keyboard.press("Escape")
    page.get_by_label("Spørgsmål").fill("Hvilke mål har socialudvalget?")
    page.get_by_label("Spørgsmål").press("Enter")
    expect(page.get_by_role("heading", name="Sønderborg")).to_be_visible()
    expect(page.get_by_role("heading", name="København")).to_be_visible()
    expect(page.get_by_text("Kilde:").first).to_be_visible()
    _headings_in_order(page)
    _shot(page, shots / "sammenlign.png", height=1200)
