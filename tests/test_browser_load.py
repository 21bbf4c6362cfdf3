"""Load on the real thing: 8 browser sessions asking at once through one `streamlit run app.py`.

tests/test_concurrency.py calls the Assistant from threads; this drives what citizens use: one
guarded server (tests/streamlit_server.py), one headless Chromium, 8 Playwright contexts (one
session each) asking 8 different questions at the same moment, then each giving a thumbs up.
It checks 0 errors, that every page shows the answer a lone session gets for its question
(the answering sentence and the source), and that each thumbs up is stored exactly once. It
prints time to answer (p50/p95) and the total.

Run: `.venv/bin/python -m pytest -m browser -s tests/test_browser_load.py`.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CORPUS
from tests.streamlit_server import CHROMIUM, require_browser, serve
from ui.app_support import UNEXPECTED

pytestmark = pytest.mark.browser
require_browser()  # skips without a browser; under CI=true fails instead

from playwright.async_api import Browser, Page, async_playwright  # noqa: E402

from tests.browser_support import CHROMIUM_ARGS  # noqa: E402

SESSIONS = 8
QUESTIONS = (
    "Hvor mange penge bruger Socialudvalget i Sønderborg på demokrati?",
    "Hvad er fokusområderne for Socialudvalget i Silkeborg?",
    "Hvilke socialpolitiske mål har København for hjemløse?",
    "Hvornår blev planen for socialområdet for voksne i Høje-Taastrup godkendt?",
    "Hvor mange penge får udsatterådet i Sønderborg til aktiviteter?",
    "Hvor mange færre københavnere skal leve i langtidsfattigdom?",
    "Hvordan arbejder Høje-Taastrup med beskæftigelse?",
    "Hvad gør Sønderborg for frivillige?",
)
FIRST_LOAD_MS = 240_000  # the first page run loads the model in the server
ANSWER_MS = 90_000  # one answer, even with 7 other sessions asking at the same time
ALL_SECONDS = 180  # the whole concurrent phase, questions and thumbs
FIRST_HIT = re.compile(r"^(Uddrag|Måske relateret) 1:")


@dataclass(frozen=True)
class Seen:
    """What one session's page showed for its question."""

    question: str
    sentence: str  # "Uddrag 1: …" – the answering sentence of the first excerpt
    source: str  # "Kilde: …" – the first excerpt's citation
    seconds: float  # from pressing Enter to the whole answer on the page
    errors: tuple[str, ...]  # page errors, error messages on the page


@pytest.fixture(scope="module")
def server(full_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("load")
    env = {"SPORG_INDEX": str(full_index), "SPORG_CORPUS": str(CORPUS),
           "SPORG_FEEDBACK_DB": str(folder / "feedback.sqlite3")}  # fmt: skip
    with serve("app.py", folder, env) as running:
        yield {"url": running["url"], "db": folder / "feedback.sqlite3", "folder": folder}
    log = (folder / "streamlit.log").read_text("utf-8")
    assert "Traceback" not in log, log[-3000:]  # no error on the server side either


async def _open(browser: Browser, url: str) -> Page:
    context = await browser.new_context(viewport={"width": 1280, "height": 1400}, locale="da-DK")
    page = await context.new_page()
    page.set_default_timeout(ANSWER_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors  # type: ignore[attr-defined]
    await page.goto(url, timeout=FIRST_LOAD_MS)
    await page.get_by_label("Skriv dit spørgsmål her").wait_for(timeout=FIRST_LOAD_MS)
    return page


async def _ask(page: Page, question: str, thumbs_up: bool) -> Seen:
    """Ask, wait for the first excerpt, read sentence and source; maybe give a thumbs up."""
    box = page.get_by_label("Skriv dit spørgsmål her")
    await box.fill(question)
    started = time.perf_counter()
    await box.press("Enter")
    answer = page.get_by_test_id("stChatMessage").nth(1)
    await answer.get_by_text(FIRST_HIT).first.wait_for()
    # The feedback question is the answer's last element: once it shows, so do the sources.
    await answer.get_by_text("Hjalp svaret?").wait_for()
    seconds = time.perf_counter() - started
    lines = [line.strip() for line in (await answer.inner_text()).splitlines()]
    sentence = next(line for line in lines if FIRST_HIT.match(line))
    source = next(line for line in lines if line.startswith("Kilde:"))
    if thumbs_up:
        await answer.get_by_role("radio", name="Godt svar").click()
        await page.get_by_text("Tak for din vurdering!").first.wait_for()
    body = await page.inner_text("body")
    shown_errors = [e for e in (UNEXPECTED, "Traceback") if e in body]
    errors = (*page.errors, *shown_errors)  # type: ignore[attr-defined]
    return Seen(question, sentence, source, seconds, tuple(errors))


async def _alone(browser: Browser, url: str) -> dict[str, Seen]:
    """Each question asked by a session of its own, one after the other: the reference."""
    seen = {}
    for question in QUESTIONS:
        page = await _open(browser, url)
        seen[question] = await _ask(page, question, thumbs_up=False)
        await page.context.close()
    return seen


async def _at_once(browser: Browser, url: str) -> tuple[list[Seen], float]:
    """8 sessions open, then all ask at the same moment; returns what each saw and the time
    from the first Enter to the last thumbs up stored in the page."""
    pages = await asyncio.gather(*(_open(browser, url) for _ in range(SESSIONS)))
    started = time.perf_counter()
    asking = [_ask(p, q, thumbs_up=True) for p, q in zip(pages, QUESTIONS, strict=True)]
    seen = await asyncio.wait_for(asyncio.gather(*asking), timeout=ALL_SECONDS)
    total = time.perf_counter() - started
    await asyncio.gather(*(p.context.close() for p in pages))
    return list(seen), total


async def _run(url: str) -> tuple[dict[str, Seen], list[Seen], float]:
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            alone = await _alone(browser, url)
            together, total = await _at_once(browser, url)
        finally:
            await browser.close()
    return alone, together, total


def _ratings(db: Path, expected: int, wait: float = 30.0) -> list[tuple[str, int, str]]:
    deadline = time.monotonic() + wait
    while True:
        rows: list[tuple[str, int, str]] = []
        if db.exists():
            with sqlite3.connect(db) as con, suppress(sqlite3.OperationalError):  # being created
                rows = con.execute("SELECT question, rating, mode FROM feedback").fetchall()
        if len(rows) >= expected or time.monotonic() > deadline:
            return rows
        time.sleep(0.25)


def test_eight_sessions_at_once_get_the_lone_answers_and_each_thumbs_up_is_stored_once(
    server: dict[str, Any],
) -> None:
    assert len(QUESTIONS) == SESSIONS
    alone, together, total = asyncio.run(_run(server["url"]))

    assert [s.errors for s in together] == [()] * SESSIONS
    assert all(s.errors == () for s in alone.values())
    # Every question has an answer of its own, so a session shown another's answer is caught.
    assert len({(s.sentence, s.source) for s in alone.values()}) == SESSIONS
    for s in together:  # the same answer a lone session gets, under load
        reference = alone[s.question]
        assert (s.sentence, s.source) == (reference.sentence, reference.source), s.question
    rows = _ratings(server["db"], SESSIONS)
    assert Counter(rows) == Counter((q, 1, "borger") for q in QUESTIONS)  # each exactly once

    seconds = sorted(s.seconds for s in together)
    p95 = seconds[min(len(seconds) - 1, round(0.95 * (len(seconds) - 1)))]
    lone = statistics.median(s.seconds for s in alone.values())
    print(
        f"\n{SESSIONS} browser sessions at once through one server: 0 errors, "
        f"time to answer p50 {statistics.median(seconds):.2f} s, p95 {p95:.2f} s, "
        f"max {seconds[-1]:.2f} s (a lone session: median {lone:.2f} s); all {SESSIONS} "
        f"questions answered and rated in {total:.2f} s"
    )
