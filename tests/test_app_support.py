"""The app's helpers without a page: follow-ups, the whole-source view, links and replies."""

from __future__ import annotations

import pytest

from retrieval.answer.assistant import Assistant
from retrieval.answer.followup import is_followup, resolve
from retrieval.ingest.corpus import load_corpus
from retrieval.types import Hit, Passage
from tests.conftest import CORPUS
from ui.app_support import previous_question, reply
from ui.render import citation, document_view, escape, source_link

BUDGET = "Hvor mange penge bruger Socialudvalget i Sønderborg på demokrati?"


@pytest.mark.parametrize(
    ("message", "searched"),
    [
        ("og i Silkeborg?", "Hvor mange penge bruger Socialudvalget i Silkeborg på demokrati?"),
        ("Hvad med København?", "Hvor mange penge bruger Socialudvalget i København på demokrati?"),
        ("Høje-Taastrup?", "Hvor mange penge bruger Socialudvalget i Høje-Taastrup på demokrati?"),
        ("og i Aarhus Kommune?", "Hvor mange penge bruger Socialudvalget i Aarhus på demokrati?"),
        ("og hvad med budgettet?", "og hvad med budgettet?"),  # no town: searched as typed
        ("Hvad er fokusområderne i Silkeborg?", "Hvad er fokusområderne i Silkeborg?"),
    ],
)
def test_follow_up_swaps_the_municipality(message: str, searched: str) -> None:
    assert resolve(message, BUDGET) == searched


def test_follow_up_keeps_genitive_and_drops_extra_towns() -> None:
    assert resolve("hvad med Silkeborg?", "Hvad er Københavns mål?") == "Hvad er Silkeborgs mål?"
    assert (
        resolve("og i Silkeborg?", "Hvad gør Sønderborg, København og Aarhus for hjemløse?")
        == "Hvad gør Silkeborg for hjemløse?"
    )
    assert resolve("og i Silkeborg?", "Hvad er fokusområderne?") == (
        "Hvad er fokusområderne i Silkeborg?"
    )


def test_first_message_is_never_a_follow_up() -> None:
    assert is_followup("og i Silkeborg?")
    assert resolve("og i Silkeborg?", None) == "og i Silkeborg?"
    assert not is_followup("Hvad bruger Silkeborg på handicap?")


def _passage(position: int, text: str, url: str = "") -> Passage:
    return Passage(
        f"ærø-plan#{position:03d}", "ærø-plan", position, text, "Plan for ældre", "Ærø",
        "Social- og Sundhedsudvalget", "plan", "2024-2027", "", "Ærø Kommunes hjemmeside", url,
    )  # fmt: skip


def test_whole_source_joins_passages_without_their_overlap_and_marks_the_cited_one() -> None:
    passages = [
        _passage(0, "Ærø vil styrke ældreplejen. Alle skal have en plads på plejehjem."),
        _passage(1, "Alle skal have en plads på plejehjem. Budgettet er 12 mio. kr."),
        _passage(2, "Budgettet er 12 mio. kr. Planen gælder til 2027."),
    ]
    view = document_view(Hit(passages[1], 1.0, 1, "Budgettet er 12 mio. kr."), passages)
    assert view.count("Alle skal have en plads på plejehjem") == 1
    assert view.count("Budgettet er 12 mio") == 1
    before, cited, after = view.split("**▶ Det citerede uddrag:**")[0], *view.split(
        "**▶ Det citerede uddrag:**"
    )[1].split("**◀ Slut på det citerede uddrag**")
    assert "Ærø vil styrke ældreplejen" in before
    assert ":orange-background[**Budgettet er 12 mio\\. kr\\.**]" in cited
    assert "Planen gælder til 2027" in after


def test_whole_source_of_a_long_document_shows_a_window() -> None:
    passages = [_passage(i, f"Afsnit nummer {i} om æbleskiver.") for i in range(12)]
    view = document_view(Hit(passages[6], 1.0, 1, ""), passages, around=2)
    assert "tidligere afsnit er ikke vist" in view and "resten af dokumentet" in view
    assert "Afsnit nummer 4 " in view and "Afsnit nummer 3 " not in view


def test_source_is_a_link_only_for_http_addresses() -> None:
    safe = _passage(0, "tekst", url="https://www.aeroekommune.dk/plan (2024)")
    assert source_link(safe) == (
        "[Ærø Kommunes hjemmeside](https://www.aeroekommune.dk/plan%20%282024%29)"
    )
    evil = _passage(0, "tekst", url="javascript:alert(1)")
    assert source_link(evil) == escape("Ærø Kommunes hjemmeside")
    assert citation(Hit(safe, 1.0, 1)).startswith("Ærø Kommune · Social")


def test_reply_redacts_first_and_remembers_the_searched_question(assistant: Assistant) -> None:
    first = reply(assistant, f"{BUDGET} Ring 12 34 56 78")
    assert first["typed"].endswith("Ring [telefonnummer fjernet]")
    assert first["removed"] == ("et telefonnummer",) and not first["rewritten"]
    history = [{"role": "user", "content": first["typed"]}, {"role": "assistant", "content": first}]
    second = reply(assistant, "og i Silkeborg?", previous=previous_question(history))
    assert second["rewritten"] and "Silkeborg" in second["question"]
    assert all(h.passage.municipality == "Silkeborg" for h in second["hits"])


def test_reply_is_never_blank(assistant: Assistant) -> None:
    for typed in ("", "?", "x" * 5000, "<script>alert(1)</script>", "😀😀😀", "'; DROP TABLE"):
        answer = reply(assistant, typed)
        assert answer["message"].strip(), typed


def test_a_documents_passages_and_the_kinds_come_without_a_scan_and_match_one(
    assistant: Assistant,
) -> None:
    everything = [assistant.passages[i] for i in range(len(assistant.passages))]
    documents = {p.document_id for p in everything}
    assert documents == {d.id for d in load_corpus(CORPUS).documents}
    for doc_id in documents:
        scanned = sorted((p for p in everything if p.document_id == doc_id),
                         key=lambda p: p.position)  # fmt: skip
        assert assistant.document(doc_id) == scanned
    assert assistant.document("no-such-document") == []
    assert assistant.kinds == sorted({p.kind for p in everything})
