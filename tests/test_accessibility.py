"""Accessibility in a real headless Chromium: Danish page language and labels, Læs op, an
axe-core WCAG 2.0/2.1 A + AA audit of every page with an answer shown, and a keyboard-only
walkthrough (issue 18; the statement is docs/tilgaengelighed.md).

Needs what tests/test_browser.py needs (Debian's chromium, Playwright) and the `axe-core` npm
package that `make test` installs (`npm ci`, pinned in package-lock.json). Without them these
tests are skipped with the reason, except under CI=true, where a missing piece fails.

Run: `.venv/bin/python -m pytest tests/test_accessibility.py -ra`.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser_support import LONG, _ask, _idle, _open
from tests.conftest import ROOT
from tests.streamlit_server import require_browser

pytestmark = pytest.mark.browser

IN_CI = os.environ.get("CI", "").lower() == "true"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SONDERBORG = "Hvor mange penge bruger Socialudvalget i Sønderborg på demokrati?"
PAGES = {"chat": "", "Hotline": "/Hotline", "Evaluering": "/Evaluering",
         "Tilgængelighed": "/Tilgængelighed"}

require_browser()  # skips without a browser; under CI=true fails instead

from playwright.sync_api import Frame, FrameLocator, Locator, Page, expect  # noqa: E402

expect.set_options(timeout=LONG)


# -- a stand-in for the browser's speech synthesis ------------------------------------------
def speech_stub(voices: list[dict[str, Any]]) -> str:
    """An init script replacing `speechSynthesis` in every frame with one that records.

    Headless Chromium has no voices and no sound. The stub lists `voices`, records each
    utterance's text, language and voice name (and each cancel) in `window.__spoken` of the frame
    whose synthesis is used – the page's, since Læs op speaks through its parent window – and
    reports `speaking` until cancelled, like a long answer being read.
    """
    return f"""(() => {{
      const spoken = [];
      const synth = {{
        speaking: false, pending: false,
        getVoices: () => {json.dumps(voices)},
        speak(u) {{
          spoken.push({{ speak: u.text, lang: u.lang, voice: u.voice ? u.voice.name : null }});
          this.speaking = true;
        }},
        cancel() {{ spoken.push({{ cancel: true }}); this.speaking = false; }},
        addEventListener() {{}}, removeEventListener() {{}},
      }};
      Object.defineProperty(window, "speechSynthesis", {{ value: synth, configurable: true }});
      window.SpeechSynthesisUtterance = class {{
        constructor(text) {{ this.text = text; this.lang = ""; this.voice = null; }}
      }};
      window.__spoken = spoken;
    }})();"""


DANISH_VOICE = [
    {"name": "Google dansk", "lang": "da-DK", "localService": False},  # online: never used
    {"name": "Dansk", "lang": "da-DK", "localService": True},
    {"name": "English", "lang": "en-US", "localService": True},
]


def _spoken(page: Page) -> list[dict[str, Any]]:
    return list(page.evaluate("window.__spoken"))


def _read_aloud(scope: Page | Locator) -> FrameLocator:
    """The Læs op frame under the (last) answer in `scope`."""
    return scope.frame_locator('iframe[title^="Læs op"]').last


def _chat_answer(page: Page, question: str = SONDERBORG) -> Locator:
    _ask(page, question)
    answer = page.get_by_test_id("stChatMessage").nth(1)
    expect(answer.get_by_text("Uddrag 1:")).to_be_visible()
    _idle(page)  # a click during the answer's rerun lands in a frame the rerun replaces
    return answer


def _hotline_answer(page: Page, question: str = SONDERBORG) -> Locator:
    field = page.get_by_label("Spørgsmål")
    field.fill(question)
    field.press("Enter")
    expect(page.get_by_role("heading", name="Svar")).to_be_visible()
    _idle(page)
    return page.get_by_test_id("stMain")


# -- 1. the page language ----------------------------------------------------------------------
@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_says_it_is_danish(browser: Any, server: dict[str, Any], name: str) -> None:
    page = _open(browser, server["url"] + PAGES[name])
    expect(page.locator("html")).to_have_attribute("lang", "da")
    _idle(page)
    assert page.evaluate("document.documentElement.lang") == "da"  # and it stays after the run


# -- 2. Læs op -------------------------------------------------------------------------------------
@pytest.mark.parametrize("where", ["chat", "Hotline"])
def test_read_aloud_reads_the_sentence_and_source_in_danish_and_stops_on_a_second_press(
    browser: Any, server: dict[str, Any], where: str
) -> None:
    page = _open(browser, server["url"] + PAGES[where], script=speech_stub(DANISH_VOICE))
    answer = _chat_answer(page) if where == "chat" else _hotline_answer(page)
    frame = _read_aloud(answer)
    frame.get_by_role("button", name="Læs op").click()
    expect(frame.get_by_role("status")).to_have_text("Læser svaret op …")
    (said,) = _spoken(page)
    assert said["lang"] == "da-DK" and said["voice"] == "Dansk", said  # on the device
    assert "79.000 kroner" in said["speak"], said  # the highlighted sentence …
    assert "Kilde: Sønderborg Kommune, Socialudvalget, Socialudvalgets budget" in said["speak"]
    assert "http" not in said["speak"]  # … and its source, without a web address

    frame.get_by_role("button", name="Stop oplæsning").click()
    expect(frame.get_by_role("status")).to_have_text("Oplæsningen er stoppet.")
    assert _spoken(page)[1:] == [{"cancel": True}]
    expect(frame.get_by_role("button", name="Læs op")).to_be_visible()


NO_VOICE = "Din browser har ingen dansk stemme"
ONLINE_VOICE = "Din browsers danske stemme sender teksten til en tjeneste på nettet"


@pytest.mark.parametrize(
    ("voices", "said"),
    [
        ([{"name": "English", "lang": "en-US"}], NO_VOICE),
        ([], NO_VOICE),  # the voice list never arrives
        ([{"name": "Google dansk", "lang": "da-DK", "localService": False}], ONLINE_VOICE),
    ],
)
def test_without_a_danish_voice_the_page_says_so_and_reads_nothing(
    browser: Any, server: dict[str, Any], voices: list[dict[str, Any]], said: str
) -> None:
    page = _open(browser, server["url"], script=speech_stub(voices))
    frame = _read_aloud(_chat_answer(page))
    frame.get_by_role("button", name="Læs op").click()
    status = frame.get_by_role("status")
    expect(status).to_contain_text(said)
    expect(status).to_be_visible()
    assert _spoken(page) == []  # never Danish read with an English voice


# -- 3. Danish names for the feedback controls ------------------------------------------------
def test_the_feedback_controls_have_danish_names(browser: Any, server: dict[str, Any]) -> None:
    page = _open(browser, server["url"])
    answer = _chat_answer(page)
    group = answer.get_by_role("radiogroup", name="Vurdering af svaret")
    expect(group.get_by_role("radio", name="Godt svar", exact=True)).to_be_visible()
    expect(group.get_by_role("radio", name="Dårligt svar", exact=True)).to_be_visible()
    _idle(page)
    tree = page.locator("body").aria_snapshot()
    assert "Thumbs" not in tree and "Feedback rating" not in tree, tree
    assert "Send message" not in tree and "Chat message from" not in tree, tree


# -- 4. the axe-core audit ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def axe_source() -> str:
    """axe-core as `npm ci` installs it (package-lock.json); required under CI=true."""
    if not AXE.is_file():
        reason = f"axe-core is not installed ({AXE.relative_to(ROOT)}): run `npm ci`"
        if IN_CI:
            pytest.fail(f"CI=true and {reason}", pytrace=False)
        pytest.skip(reason)
    return AXE.read_text("utf-8")


def _audit(page: Page, axe: str) -> list[dict[str, Any]]:
    """Run axe's WCAG 2.0/2.1 A and AA rules on the page and inside every frame in it.

    axe is added to each frame too: the Læs op buttons live in frames, and axe only looks
    into frames that have axe loaded.
    """
    _idle(page)
    page.wait_for_timeout(500)  # let the label script settle after the last redraw
    for frame in page.frames:
        if not frame.is_detached():
            _add_axe(frame, axe)
    result = page.evaluate(
        """async (tags) => await axe.run(document, {
            runOnly: { type: "tag", values: tags }, iframes: true, resultTypes: ["violations"],
        })""",
        WCAG_A_AA,
    )
    return list(result["violations"])


def _add_axe(frame: Frame, axe: str) -> None:
    if not frame.evaluate("typeof axe !== 'undefined'"):
        frame.add_script_tag(content=axe)


def _readable(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} – {v['helpUrl']}")
        for node in v["nodes"][:5]:
            lines.append(f"    {' > '.join(map(str, node['target']))}: {node['html'][:160]}")
    return "\n".join(lines)


def _evaluering(page: Page) -> None:
    page.get_by_role("textbox", name="Spørgsmål").fill(SONDERBORG)
    page.get_by_role("button", name="Søg med alle søgemetoder").click()
    expect(page.get_by_role("heading", name="hybrid")).to_be_visible()


def _statement(page: Page) -> None:
    expect(page.get_by_role("heading", name="Tilgængelighedserklæring", level=1)).to_be_visible()


SHOW: dict[str, Callable[[Page], Any]] = {
    "chat": _chat_answer,
    "Hotline": _hotline_answer,
    "Evaluering": _evaluering,
    "Tilgængelighed": _statement,
}


@pytest.mark.parametrize("name", list(PAGES))
def test_axe_finds_no_wcag_a_or_aa_violation_with_an_answer_shown(
    browser: Any, server: dict[str, Any], axe_source: str, name: str
) -> None:
    page = _open(browser, server["url"] + PAGES[name])
    SHOW[name](page)
    violations = _audit(page, axe_source)
    assert not violations, f"axe: {len(violations)} WCAG A/AA violation(s) on {name}:\n" + (
        _readable(violations)
    )


# -- 5. keyboard only ------------------------------------------------------------------------
_FOCUSED = """() => {
  let e = document.activeElement;
  while (e && e.tagName === "IFRAME" && e.contentDocument) e = e.contentDocument.activeElement;
  if (!e || e.tagName === "BODY" || e.tagName === "IFRAME") return e ? e.tagName : "";
  return [e.getAttribute("aria-label"), e.innerText, e.value].filter(Boolean).join(" | ");
}"""


def _tab_to(page: Page, name: str | re.Pattern[str], back: bool = False, limit: int = 120) -> str:
    """Press Tab (Shift+Tab with `back`) until the focused element's name matches `name`.

    Only keys: this is how someone without a mouse reaches a control. Fails after `limit` presses.
    """
    key = "Shift+Tab" if back else "Tab"
    seen = []
    for _ in range(limit):
        page.keyboard.press(key)
        focused = str(page.evaluate(_FOCUSED))
        seen.append(focused)
        parts = [part.strip() for part in focused.split(" | ")]
        if re.search(name, focused) if isinstance(name, re.Pattern) else name in parts:
            return focused
    went = list(dict.fromkeys(s.split("\n")[0][:50] for s in seen))
    raise AssertionError(f"{name!r} not reached with {key}; focus went through {went}")


def _ratings(db: Path, wait: float = 20.0) -> list[tuple[Any, ...]]:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if db.exists():
            with sqlite3.connect(db) as con:
                try:
                    rows = con.execute("SELECT question, rating, mode FROM feedback").fetchall()
                except sqlite3.OperationalError:  # the app is creating the table right now
                    rows = []
            if rows:
                return rows
        time.sleep(0.25)
    return []


def test_the_statement_is_linked_from_om_tjenesten(browser: Any, server: dict[str, Any]) -> None:
    page = _open(browser, server["url"])
    expect(page.get_by_role("link", name="Tilgængelighedserklæring")).to_be_visible()
    _idle(page)
    _tab_to(page, re.compile("Tilgængelighedserklæring"))
    page.keyboard.press("Enter")
    _statement(page)
    expect(page.get_by_role("heading", name="Kontakt")).to_be_visible()


def test_keyboard_only_ask_open_source_rate_read_clear_and_switch_page(
    browser: Any, server: dict[str, Any]
) -> None:
    page = _open(browser, server["url"], height=1000, script=speech_stub(DANISH_VOICE))
    expect(page.get_by_role("heading", name="Spørg Socialudvalget", level=1)).to_be_visible()
    _idle(page)

    # A filter: typing opens the list of towns, Escape leaves it without changing the choice.
    _tab_to(page, "Kommune")
    page.keyboard.type("Sø")
    expect(page.get_by_role("option", name="Sønderborg")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("listbox")).to_be_hidden()
    expect(page.get_by_role("combobox", name="Kommune")).to_have_value("Alle kommuner")

    # Ask.
    _tab_to(page, re.compile("Skriv dit spørgsmål her"))
    page.keyboard.type(SONDERBORG)
    page.keyboard.press("Enter")
    answer = page.get_by_test_id("stChatMessage").nth(1)
    expect(answer.get_by_text("Uddrag 1:")).to_be_visible()
    _idle(page)

    # From the question field backwards through the answer: read it aloud and stop (the
    # button is inside the Læs op frame) …
    _tab_to(page, "Læs op", back=True)
    page.keyboard.press("Enter")
    expect(_read_aloud(answer).get_by_role("status")).to_have_text("Læser svaret op …")
    page.keyboard.press("Space")
    expect(_read_aloud(answer).get_by_role("status")).to_have_text("Oplæsningen er stoppet.")
    assert [next(iter(s)) for s in _spoken(page)] == ["speak", "cancel"]

    # … rate it, by the thumbs' Danish names …
    _tab_to(page, re.compile("Godt svar"))
    page.keyboard.press("Space")
    expect(answer.get_by_role("radio", name="Godt svar")).to_be_checked()
    assert _ratings(server["db"]) == [(SONDERBORG, 1, "borger")]
    _idle(page)

    # … and open the source.
    cited = answer.get_by_text("▶ Det citerede uddrag:").filter(visible=True)
    expect(cited).to_have_count(0)
    _tab_to(page, re.compile("Vis hele kilden"), back=True)
    page.keyboard.press("Enter")
    expect(cited).to_have_count(1)

    # Clear the chat (in the sidebar, before the chat in the tab order).
    _tab_to(page, re.compile("Ryd samtale"), back=True)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("stChatMessage")).to_have_count(0)
    expect(page.get_by_text("Stil et spørgsmål om socialudvalget i din kommune.")).to_be_visible()

    # Switch to the hotline page from the page list.
    _tab_to(page, re.compile(r"^Hotline$"), back=True)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Hotline", level=1)).to_be_visible()
    expect(page).to_have_url(re.compile("/Hotline$"))
    expect(page.get_by_label("Spørgsmål")).to_be_focused()  # ready to type
    expect(page.locator("html")).to_have_attribute("lang", "da")
    page.keyboard.type("Hvad er fokusområderne for Socialudvalget i Silkeborg?")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Svar")).to_be_visible()
