"""The Streamlit app driven through AppTest, on a real index and the real model."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from retrieval.feedback import FeedbackStore
from tests.conftest import ROOT, searched_questions

SONDERBORG = "Hvor mange penge bruger Socialudvalget i Sønderborg på demokrati?"


@pytest.fixture
def app(feedback_db: Path) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    assert not at.exception
    return at


def _page_text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [w.value for w in at.warning] + [e.value for e in at.error]
    parts += [i.value for i in at.info]
    return "\n".join(str(p) for p in parts)


def _ask(at: AppTest, question: str) -> AppTest:
    at.chat_input(key="question").set_value(question).run()
    assert not at.exception
    return at


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


def test_answer_shows_sentence_then_excerpt_then_source(app: AppTest) -> None:
    _ask(app, SONDERBORG)
    texts = [str(m.value) for m in app.markdown]
    first = next(i for i, t in enumerate(texts) if t.startswith("**Uddrag 1:**"))
    assert "79\\.000 kroner" in texts[first]  # the answering sentence comes first
    assert ":orange-background[**" in texts[first + 1]  # then the excerpt, answer marked
    assert texts[first + 2].startswith("**Kilde:** Sønderborg Kommune · Socialudvalget")
    assert any(e.label == "Vis hele kilden" for e in app.expander)


def test_show_whole_source_marks_the_cited_passage(app: AppTest) -> None:
    _ask(app, SONDERBORG)
    source = next(e for e in app.expander if e.label == "Vis hele kilden")
    text = "\n".join(str(m.value) for m in source.markdown)
    assert "▶ Det citerede uddrag" in text and "◀ Slut på det citerede uddrag" in text
    assert "79\\.000 kroner" in text


def test_follow_up_keeps_the_topic_and_says_what_was_searched(app: AppTest) -> None:
    _ask(app, SONDERBORG)
    _ask(app, "og i Silkeborg?")
    assert len(app.chat_message) == 4
    text = _page_text(app)
    assert "Jeg søgte på:" in text
    assert "Hvor mange penge bruger Socialudvalget i Silkeborg på demokrati?" in text
    last = app.chat_message[-1]
    citations = [str(m.value) for m in last.markdown if str(m.value).startswith("**Kilde:**")]
    assert citations and all("Silkeborg Kommune" in c for c in citations)


def test_a_new_question_is_not_taken_for_a_follow_up(app: AppTest) -> None:
    _ask(app, SONDERBORG)
    _ask(app, "Hvad er fokusområderne for Socialudvalget i Silkeborg?")
    assert "Jeg søgte på:" not in _page_text(app)


def test_municipality_filter_limits_the_sources(app: AppTest) -> None:
    app.selectbox(key="municipality").set_value("København").run()
    _ask(app, "Hvad er fokusområderne?")
    citations = [str(m.value) for m in app.markdown if str(m.value).startswith("**Kilde:**")]
    assert citations and all("Københavns Kommune" in c for c in citations)


def test_document_type_filter_limits_the_sources(app: AppTest) -> None:
    app.selectbox(key="kind").set_value("budget").run()
    _ask(app, "Hvad bruger Sønderborg penge på?")
    citations = [str(m.value) for m in app.markdown if str(m.value).startswith("**Kilde:**")]
    assert citations and all("»Socialudvalgets budget«" in c for c in citations)


def test_document_type_without_hits_says_so(app: AppTest) -> None:
    app.selectbox(key="kind").set_value("budget").run()
    _ask(app, "Hvad er fokusområderne i Silkeborg?")
    assert "ingen uddrag i dokumenter af typen »Budget«" in _page_text(app)


def test_abstention_gives_the_municipalitys_contact(app: AppTest) -> None:
    _ask(app, "Hvornår har genbrugspladsen i Høje-Taastrup åbent?")
    text = _page_text(app)
    assert "kan ikke finde svaret" in text
    assert "Kontakt Høje\\-Taastrup Kommune på telefon 43 59 10 00" in text  # documents.toml
    assert "**Uddrag" not in text  # nearby passages are only "maybe related"
    assert "orange-background" not in text  # and nothing in them is marked as the answer


def test_thumbs_up_is_stored_in_sqlite(app: AppTest, feedback_db: Path) -> None:
    _ask(app, SONDERBORG)
    app.feedback[0].set_value(1).run()
    assert not app.exception
    rows = FeedbackStore(feedback_db).all()
    assert len(rows) == 1
    row = rows[0]
    assert (row.rating, row.mode, row.answered) == (1, "borger", True)
    assert row.question == SONDERBORG
    assert row.passage_ids[0] == "sonderborg-budget-2017#000"


def test_changed_feedback_updates_the_row(app: AppTest, feedback_db: Path) -> None:
    _ask(app, SONDERBORG)
    app.feedback[0].set_value(1).run()
    app.feedback[0].set_value(0).run()
    assert [r.rating for r in FeedbackStore(feedback_db).all()] == [0]
    app.feedback[0].set_value(None).run()
    assert FeedbackStore(feedback_db).all() == []


def test_personal_data_never_reaches_page_search_or_feedback(
    app: AppTest, feedback_db: Path, full_index: Path
) -> None:
    _ask(app, "Mit cpr er 010203-1234, ring +45 12 34 56 78 eller 2040\u00a02010. "
              "Hvad bruger Sønderborg på demokrati?")  # fmt: skip
    text = _page_text(app)
    assert "010203" not in text and "12 34 56 78" not in text and "2040" not in text
    assert "Jeg har fjernet et telefonnummer og et CPR-nummer fra dit spørgsmål" in text
    assert "Skriv aldrig personlige oplysninger her" in text
    assert app.session_state.messages[0]["content"].startswith("Mit cpr er [CPR-nummer fjernet]")
    searched = searched_questions(full_index)
    assert searched[-1].startswith("Mit cpr er [CPR-nummer fjernet], ring [telefonnummer")
    assert not any("010203" in q or "56 78" in q or "2040" in q for q in searched)
    app.feedback[0].set_value(0).run()
    stored = FeedbackStore(feedback_db).all()[0].question
    assert "010203" not in stored and "[telefonnummer fjernet]" in stored


def test_every_input_has_a_label(app: AppTest) -> None:
    assert [s.label for s in app.selectbox] == ["Kommune", "Dokumenttype"]
    assert app.chat_input(key="question").placeholder == "Skriv dit spørgsmål her"
    assert all(b.label for b in app.button)


def test_a_question_costs_the_same_late_in_a_long_conversation(
    app: AppTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Work per question (searches, documents read for "Vis hele kilden") is counted on the real
    Assistant: redrawing earlier answers must do none of it."""
    from retrieval.answer.assistant import Assistant

    calls = {"ask": 0, "document": 0}
    ask, document = Assistant.ask, Assistant.document

    def counted_ask(self: Assistant, *args: object, **kwargs: object) -> object:
        calls["ask"] += 1
        return ask(self, *args, **kwargs)  # type: ignore[arg-type]

    def counted_document(self: Assistant, document_id: str) -> object:
        calls["document"] += 1
        return document(self, document_id)

    monkeypatch.setattr(Assistant, "ask", counted_ask)
    monkeypatch.setattr(Assistant, "document", counted_document)
    questions = [SONDERBORG, "Hvad er Silkeborgs fokusområder?", "og i København?",
                 "Hvordan arbejder Høje-Taastrup med beskæftigelse?"] * 3
    per_turn = []
    for question in questions:
        before = dict(calls)
        _ask(app, question)
        per_turn.append((calls["ask"] - before["ask"], calls["document"] - before["document"]))
    assert len(app.chat_message) == 2 * len(questions)
    assert all(a == 1 and d <= 3 for a, d in per_turn), per_turn
    before = dict(calls)
    app.run()  # a page run with nothing asked (e.g. a click) redraws twelve answers for free
    assert calls == before
