"""App tier: the "Evaluering" page with and without a report; one question (slow)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from evaluation.cli import main
from tests.conftest import searched_questions

ROOT = Path(__file__).parent.parent
PAGE = str(ROOT / "pages" / "1_Evaluering.py")


def _texts(at: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "info", "warning", "error", "caption", "subheader")
             for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def _mini_beir(folder: Path) -> Path:
    (folder / "qrels").mkdir(parents=True)
    rows = [("d1", "Ærø", "Færgen til Ærø sejler fra Svendborg."),
            ("d2", "Åbybro", "Bageren i Åbybro åbner klokken seks.")]
    (folder / "corpus.jsonl").write_text("".join(
        json.dumps({"_id": i, "title": t, "text": x}, ensure_ascii=False) + "\n"
        for i, t, x in rows), encoding="utf-8")
    (folder / "queries.jsonl").write_text(
        '{"_id": "q1", "text": "færge til Ærø"}\n{"_id": "q2", "text": "bager Åbybro"}\n',
        encoding="utf-8")
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n", encoding="utf-8")
    return folder


def test_page_without_a_report_says_how_to_make_one(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPORG_REPORTS", str(tmp_path / "reports"))
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception
    assert "python -m evaluation run --out reports" in _texts(at)
    assert at.title[0].value == "Evaluering"


def test_page_shows_the_latest_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    reports = tmp_path / "reports"
    assert main(["run", "--beir", str(_mini_beir(tmp_path / "mini")), "--retriever", "bm25",
                 "--json", "--out", str(reports)]) == 0
    capsys.readouterr()
    monkeypatch.setenv("SPORG_REPORTS", str(reports))
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception
    assert "Datasæt: mini" in _texts(at)
    table = at.dataframe[0].value
    assert list(table["retriever"]) == ["bm25"] and "nDCG@10" in table.columns


def test_a_broken_report_gives_a_danish_message_not_a_trace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    latest = tmp_path / "reports" / "latest"
    latest.mkdir(parents=True)
    (latest / "summary.json").write_text("{not json", encoding="utf-8")
    monkeypatch.setenv("SPORG_REPORTS", str(tmp_path / "reports"))
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception
    assert "kunne ikke læses" in at.warning[0].value


@pytest.mark.slow
def test_one_question_is_ranked_by_every_retriever_side_by_side(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, full_index: Path
) -> None:
    monkeypatch.setenv("SPORG_REPORTS", str(tmp_path / "reports"))
    monkeypatch.setenv("SPORG_INDEX", str(full_index))  # never the app's index/
    monkeypatch.setenv("SPORG_CORPUS", str(ROOT / "corpus"))
    at = AppTest.from_file(PAGE, default_timeout=300).run()
    at.text_input(key="eval-question").set_value(
        "Hvor mange penge bruger Socialudvalget i Sønderborg på demokrati?")
    at.button[0].click().run()
    assert not at.exception
    headers = [h.value for h in at.subheader]
    assert {"dense", "bm25", "hybrid"} <= set(headers)
    ids = re.findall(r"`([^`]*)`", _texts(at))
    assert "sonderborg-budget-2017#000" in ids  # shown as it is, no Markdown escapes
    assert not any("\\" in i for i in ids), ids


@pytest.mark.slow
def test_personal_data_never_reaches_the_field_the_search_or_its_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, full_index: Path
) -> None:
    monkeypatch.setenv("SPORG_REPORTS", str(tmp_path / "reports"))
    monkeypatch.setenv("SPORG_INDEX", str(full_index))
    monkeypatch.setenv("SPORG_CORPUS", str(ROOT / "corpus"))
    at = AppTest.from_file(PAGE, default_timeout=300).run()
    at.text_input(key="eval-question").set_value(
        "cpr 010203-1234, ring 2040 2010: hvad bruger Sønderborg på demokrati?")
    at.button[0].click().run()
    assert not at.exception
    expected = "cpr [CPR-nummer fjernet], ring [telefonnummer fjernet]: hvad bruger " \
               "Sønderborg på demokrati?"
    assert at.text_input(key="eval-question").value == expected
    assert searched_questions(full_index)[-1] == expected
    assert not any("010203" in q or "2040" in q for q in searched_questions(full_index))
    assert "Fjernet fra spørgsmålet: et telefonnummer, et CPR-nummer." in _texts(at)
    assert "010203" not in _texts(at)
