"""The Streamlit app driven through AppTest, on a real index and the real model."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import CORPUS, ROOT


@pytest.fixture
def app(full_index: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("SPORG_INDEX", str(full_index))
    monkeypatch.setenv("SPORG_CORPUS", str(CORPUS))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    assert not at.exception
    return at


def _page_text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [w.value for w in at.warning] + [e.value for e in at.error]
    return "\n".join(str(p) for p in parts)


def test_first_visit_shows_title_and_example_questions(app: AppTest) -> None:
    assert app.title[0].value == "Spørg Socialudvalget"
    examples = [b for b in app.button if b.key and b.key.startswith("example-")]
    assert len(examples) >= 3


def test_question_gets_a_cited_excerpt(app: AppTest) -> None:
    app.chat_input(key="question").set_value(
        "Hvor mange penge bruger Socialudvalget i Sønderborg på demokrati?"
    ).run()
    assert not app.exception
    text = _page_text(app)
    assert "79\\.000 kroner" in text  # the answering sentence, Markdown-escaped
    assert "Sønderborg Kommune · Socialudvalget · »Socialudvalgets budget«" in text
    assert len(app.chat_message) == 2


def test_clicking_an_example_asks_it(app: AppTest) -> None:
    app.button(key="example-1").click().run()
    assert not app.exception
    assert "Silkeborg Kommune" in _page_text(app)


def test_unanswerable_question_says_so_plainly(app: AppTest) -> None:
    app.chat_input(key="question").set_value("Hvornår bliver mit skrald hentet?").run()
    assert not app.exception
    text = _page_text(app)
    assert "kan ikke finde svaret" in text
    assert "Måske relateret" in text


def test_html_in_a_question_is_shown_not_rendered(app: AppTest) -> None:
    app.chat_input(key="question").set_value("<script>alert(1)</script> budget").run()
    assert not app.exception
    assert all("<script>" not in str(m.value) for m in app.markdown)
    assert any("&lt;script&gt;" in str(m.value) for m in app.markdown)


def test_empty_looking_question_gets_a_friendly_message(app: AppTest) -> None:
    app.chat_input(key="question").set_value("?").run()
    assert not app.exception
    assert "for kort" in _page_text(app)


def test_clear_conversation(app: AppTest) -> None:
    app.chat_input(key="question").set_value("Hvad er fokusområderne i Silkeborg?").run()
    assert len(app.chat_message) == 2
    app.button(key="clear").click().run()
    assert len(app.chat_message) == 0
