"""The accessibility helpers in ui/ without a browser: what goes into the page's scripts.

The browser side (the language, the labels, reading aloud, axe) is in tests/test_accessibility.py.
"""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from retrieval.types import Hit, Passage
from tests.conftest import ROOT
from ui.page import LABELS
from ui.read_aloud import LABEL, read_aloud_html
from ui.render import spoken_answer
from ui.scripts import script_json


def _hit(highlight: str) -> Hit:
    passage = Passage(
        id="doc#000", document_id="doc", position=0, text=highlight, title="Budget 2017",
        municipality="Sønderborg", committee="Socialudvalget", kind="budget", period="2017",
        date="", source="Kommunens hjemmeside", url="https://example.invalid/budget",
    )  # fmt: skip
    return Hit(passage=passage, score=0.9, rank=1, highlight=highlight)


def test_script_json_cannot_end_the_script_element_and_round_trips() -> None:
    text = 'Æbler </script><script>alert("x")</script> & <!-- ø\u2028'
    literal = script_json(text)
    assert "<" not in literal and ">" not in literal and "&" not in literal
    assert literal.isascii()
    assert json.loads(literal) == text  # \\u003c etc. are valid JSON escapes too


def test_the_read_aloud_frame_carries_the_text_as_json_only() -> None:
    page = read_aloud_html("Svaret er </script> 79.000 kr.", key="abc")
    assert page.count("</script>") == 1  # only the frame's own script ends
    assert script_json("Svaret er </script> 79.000 kr.") in page
    assert f">{LABEL}</button>" in page and 'role="status"' in page and 'lang="da"' in page
    assert '"da-DK"' in page


def test_spoken_answer_is_the_sentence_and_its_source_without_the_address() -> None:
    hit = _hit("Socialudvalget bruger 79.000 kroner på demokrati")
    said = spoken_answer("Her er, hvad dokumenterne siger.", True, [hit])
    assert said == (
        "Socialudvalget bruger 79.000 kroner på demokrati. "
        "Kilde: Sønderborg Kommune, Socialudvalget, Budget 2017, 2017."
    )
    assert "http" not in said


def test_spoken_answer_of_an_abstention_is_the_message_with_the_contact() -> None:
    message = "Jeg kan ikke finde svaret. Kontakt Høje-Taastrup Kommune på telefon 43 59 10 00."
    assert spoken_answer(message, False, [_hit("Måske relateret")]) == message


def test_every_streamlit_label_we_replace_gets_danish() -> None:
    assert {"Thumbs up", "Thumbs down"} <= set(LABELS)
    assert LABELS["Thumbs up"] == "Godt svar" and LABELS["Thumbs down"] == "Dårligt svar"
    assert all(danish and danish != english for english, danish in LABELS.items())


def test_the_chat_puts_a_read_aloud_frame_under_an_answer(feedback_db: Path) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.chat_input(key="question").set_value(
        "Hvor mange penge bruger Socialudvalget i Sønderborg på demokrati?"
    ).run()
    assert not at.exception
    frames = [e.proto.srcdoc for e in at.get("iframe") if "</button>" in e.proto.srcdoc]
    assert len(frames) == 1
    assert script_json("Kilde: Sønderborg Kommune, Socialudvalget")[1:-1] in frames[0]
    assert "79.000 kroner" in json.loads(frames[0].split("const text = ")[1].split(", says")[0])
