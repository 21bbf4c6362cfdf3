"""Sammenlign: towns side by side, each from its own documents, through every door – the
Assistant, the CLI (a subprocess on a real index), the chat, its own page and the hotline."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from retrieval.answer.assistant import Assistant, BadQuestion
from retrieval.answer.compare import compare, comparison_text, parse_request
from tests.conftest import ROOT

QUESTION = "Hvor mange penge bruger socialudvalget på demokrati?"


def test_each_town_answers_from_its_own_documents(assistant: Assistant) -> None:
    columns = compare(assistant, QUESTION, ["Sønderborg", "København", "Esbjerg"])
    assert [c.town for c in columns] == ["Sønderborg", "København", "Esbjerg"]
    sonderborg, _, esbjerg = columns
    assert sonderborg.answer.answered
    assert {h.passage.municipality for h in sonderborg.answer.hits} == {"Sønderborg"}
    assert "79.000 kroner" in sonderborg.answer.hits[0].highlight
    assert not esbjerg.answer.answered  # no Esbjerg documents: said plainly, nothing borrowed
    assert esbjerg.answer.message.startswith("Det står ikke i dokumenterne fra Esbjerg.")
    text = comparison_text(columns)
    assert "Sønderborg: »" in text and "(Kilde: Sønderborg Kommune, Socialudvalget" in text
    assert "Esbjerg: Det står ikke i dokumenterne fra Esbjerg." in text


def test_two_to_four_towns(assistant: Assistant) -> None:
    with pytest.raises(BadQuestion, match="mellem 2 og 4"):
        compare(assistant, QUESTION, ["Sønderborg"])
    with pytest.raises(BadQuestion):
        compare(assistant, QUESTION, ["Sønderborg", "København", "Silkeborg", "Aalborg", "Randers"])


def test_chat_requests_are_recognised() -> None:
    assert parse_request("sammenlign Randers og Aalborg om hjemløse") == (
        ["Randers", "Aalborg"], "hjemløse")
    assert parse_request("Sammenlign København, Sonderborg og Silkeborg på budget?") == (
        ["København", "Sønderborg", "Silkeborg"], "budget")
    assert parse_request("Hvad bruger Randers på hjemløse?") is None
    assert parse_request("sammenlign Randers om hjemløse") is None  # one town is no comparison


def test_cli_prints_one_contract_object_per_town(full_index: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "retrieval", "ask", "--index", str(full_index), "--json",
         "--compare", "Sønderborg,København,Esbjerg", QUESTION],
        capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["municipality"] for r in records] == ["Sønderborg", "København", "Esbjerg"]
    for r in records:
        assert {"question", "language", "answered", "message", "hits"} <= set(r)
        assert all(h["municipality"] == r["municipality"] for h in r["hits"])
    assert records[0]["answered"] and not records[2]["answered"]
    assert records[2]["message"].startswith("Det står ikke i dokumenterne fra Esbjerg")
    bad = subprocess.run(
        [sys.executable, "-m", "retrieval", "ask", "--index", str(full_index), "--json",
         "--compare", "Sønderborg", QUESTION], capture_output=True, text=True, cwd=ROOT,
        timeout=300)
    assert bad.returncode == 1 and "error" in json.loads(bad.stdout)


def test_chat_shows_towns_side_by_side(feedback_db: Path) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.chat_input(key="question").set_value(
        "sammenlign Sønderborg og Esbjerg om hvor mange penge socialudvalget bruger på demokrati"
    ).run()
    assert not at.exception
    assert [s.value for s in at.header] == ["Sønderborg", "Esbjerg"]
    shown = [str(m.value) for m in at.markdown]
    assert any("Det står ikke i dokumenterne fra Esbjerg" in m for m in shown)
    assert any("Sønderborg Kommune" in m and "Kilde" in m for m in shown)


def test_compare_page(feedback_db: Path) -> None:
    at = AppTest.from_file(str(ROOT / "pages" / "4_Sammenlign.py"), default_timeout=300)
    at.run()
    assert at.title[0].value == "Sammenlign kommuner"
    at.multiselect(key="compare-towns").set_value(["Sønderborg", "København"])
    at.text_input(key="compare-question").input(QUESTION)
    at.button(key="compare-search").click().run()
    assert not at.exception
    assert [s.value for s in at.header] == ["Sønderborg", "København"]
    copy = at.code[0].value
    assert copy.startswith("Sønderborg: ") and "\nKøbenhavn: " in copy and "Kilde:" in copy
    at.multiselect(key="compare-towns").set_value(["Sønderborg"])
    at.button(key="compare-search").click().run()
    assert "mindst 2" in at.warning[0].value


def test_hotline_copies_a_comparison_with_every_source(feedback_db: Path) -> None:
    at = AppTest.from_file(str(ROOT / "pages" / "2_Hotline.py"), default_timeout=300)
    at.run()
    at.text_input(key="hotline-question").input(
        "sammenlign Sønderborg og København om hvor mange penge der bruges på udsatte")
    at.button(key="hotline-search").click().run()
    assert not at.exception
    assert at.header[0].value == "Sammenligning"
    copy = at.code[0].value
    lines = copy.splitlines()
    assert [line.split(":")[0] for line in lines] == ["Sønderborg", "København"]
    assert all("(Kilde: " in line for line in lines if "»" in line)
    assert "**" not in copy and "\\" not in copy
