"""Odd input and broken index files: through the API, the CLI and the app, nothing crashes,
nothing is rendered as HTML, and a mismatched index never serves a citation."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from retrieval.answer.assistant import MAX_QUESTION_CHARS, Assistant, BadQuestion
from retrieval.indexing.build import build
from retrieval.indexing.folder import sha256 as _sha256
from retrieval.indexing.store import (
    FAISS_FILE,
    MANIFEST_FILE,
    PASSAGES_FILE,
    IndexUnusable,
)
from tests.conftest import CORPUS, FIXTURE_CORPUS, ROOT

REBUILD = "python -m retrieval build"
ODD = {  # name → what a citizen might type; None marks input we refuse with a Danish message
    "empty": ("", True),
    "whitespace": (" \t\n  ", True),
    "one character": ("x", True),
    "10,000 characters": ("budget " * 1430, True),
    "only emoji": ("😀🎉👍🏽", True),
    "only markdown": ("**", True),
    "only digits": ("4711", False),
    "emoji in a question": ("Hvad bruger Sønderborg på demokrati? 😀👍🏽", False),
    "mixed scripts": ("Hvad er бюджет 预算 for Sønderborg مرحبا?", False),
    "control characters": ("Hvad\x00 er\x1b[31m budgettet\x07\x08 i Sønderborg\x7f?", False),
    "bidi override": ("\u202eHvad er budgettet i Sønderborg?\u202c", False),
    "script tag": ("<script>alert(1)</script><img src=x onerror=alert(2)>", False),
    "javascript link": ("[klik her](javascript:alert(1)) budget", False),
    "markdown headings": ("# Overskrift\n## Budget i Sønderborg", False),
    "markdown table": ("| a | b |\n|---|---|\n| 1 | 2 |", False),
    "setext heading": ("Budget\n===", False),
    "sql": ("'; DROP TABLE feedback; -- SELECT * FROM passages WHERE 1=1", False),
}
REFUSED = [n for n, (_, refused) in ODD.items() if refused]
SEARCHED = [n for n, (_, refused) in ODD.items() if not refused]
GARBAGE = ["only digits", "script tag", "markdown table"]


def _danish_one_liner(message: str) -> None:
    assert message and "\n" not in message and "Traceback" not in message
    assert "pørgsmål" in message  # says what is wrong with the question, in Danish


# -- the Assistant API -------------------------------------------------------------------------
@pytest.mark.parametrize("name", REFUSED)
def test_unusable_question_raises_badquestion_in_danish(assistant: Assistant, name: str) -> None:
    with pytest.raises(BadQuestion) as info:
        assistant.ask(ODD[name][0])
    assert isinstance(info.value, ValueError)
    _danish_one_liner(str(info.value))


@pytest.mark.parametrize("name", SEARCHED)
def test_odd_but_searchable_question_gets_a_well_formed_answer(
    assistant: Assistant, name: str
) -> None:
    answer = assistant.ask(ODD[name][0])
    assert answer.question.isprintable() and len(answer.question) <= MAX_QUESTION_CHARS
    assert answer.message
    assert [h.rank for h in answer.hits] == list(range(1, len(answer.hits) + 1))
    for hit in answer.hits:
        assert " ".join(hit.highlight.split()) in " ".join(hit.passage.text.split())


@pytest.mark.parametrize("name", GARBAGE)
def test_text_without_a_question_in_it_is_not_answered(assistant: Assistant, name: str) -> None:
    assert not assistant.ask(ODD[name][0]).answered


# -- the CLI ------------------------------------------------------------------------------------
def _cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "retrieval", *args], input=stdin, capture_output=True,
        text=True, cwd=ROOT, timeout=600,
    )  # fmt: skip


def test_cli_answers_every_odd_line_and_exits_non_zero_for_the_unusable(full_index: Path) -> None:
    lines = [ODD[n][0].replace("\n", " ") for n in ODD if n not in ("empty", "whitespace")]
    result = _cli("ask", "-", "--json", "--index", str(full_index), stdin="\n".join(lines) + "\n")
    assert result.returncode == 1, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == len(lines)
    errors = {r["question"]: r["error"] for r in records if "error" in r}
    assert sorted(errors) == sorted(ODD[n][0] for n in REFUSED if ODD[n][0].strip())
    for reason in errors.values():
        _danish_one_liner(reason)
    assert all(isinstance(r["hits"], list) for r in records if "error" not in r)


@pytest.mark.parametrize("name", ["empty", "whitespace", "only emoji"])
def test_cli_refuses_an_unusable_argument_in_one_line(full_index: Path, name: str) -> None:
    as_json = _cli("ask", ODD[name][0], "--json", "--index", str(full_index))
    assert as_json.returncode == 1
    assert len(as_json.stdout.splitlines()) == 1
    _danish_one_liner(json.loads(as_json.stdout)["error"])
    plain = _cli("ask", ODD[name][0], "--index", str(full_index))
    assert plain.returncode == 1 and plain.stdout == ""
    assert len(plain.stderr.splitlines()) == 1 and plain.stderr.startswith("error: ")


# -- the app ------------------------------------------------------------------------------------
def _rendered_tags(at: AppTest) -> list[str]:
    """Every element Streamlit renders as Markdown, turned into HTML by a CommonMark renderer
    with raw HTML *allowed*: the worst case. Returns the tags it produced."""
    markdown_it = pytest.importorskip("markdown_it")
    md = markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table")
    bodies = [m.proto.body for m in at.markdown] + [a.proto.body for a in at.warning]
    bodies += [a.proto.body for a in at.info] + [a.proto.body for a in at.error]
    assert not any(m.proto.allow_html for m in at.markdown)
    html = "".join(md.render(b) for b in bodies)
    links = re.findall(r'<a href="([^"]*)"', html)
    assert all(link.startswith(("https://", "http://")) for link in links), links
    return re.findall(r"<\s*([a-zA-Z][a-zA-Z0-9]*)", html)


SAFE_TAGS = {"p", "strong", "em", "br", "a"}


def _app(index: Path, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("SPORG_INDEX", str(index))
    monkeypatch.setenv("SPORG_CORPUS", str(corpus))
    monkeypatch.setenv("SPORG_FEEDBACK_DB", str(tmp_path / "feedback.sqlite3"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600).run()
    assert not at.exception
    return at


@pytest.mark.parametrize("name", list(ODD))
def test_app_shows_odd_input_as_typed_and_never_crashes(
    full_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    at = _app(full_index, CORPUS, tmp_path, monkeypatch)
    at.chat_input(key="question").set_value(ODD[name][0]).run()
    assert not at.exception
    text, refused = ODD[name]
    if not text:
        assert len(at.chat_message) == 0  # an empty box sends nothing
    elif refused:
        assert len(at.warning) == 1
        _danish_one_liner(at.warning[0].value)
    else:
        assert at.chat_message[-1].markdown, "the answer has a message"
    assert set(_rendered_tags(at)) <= SAFE_TAGS


# -- broken or stale index ------------------------------------------------------------------------
def _damaged(mini_index: Path, tmp_path: Path, how: str) -> Path:
    index = tmp_path / "index"
    shutil.copytree(mini_index, index)
    manifest = json.loads((index / MANIFEST_FILE).read_text("utf-8"))
    if how == "truncated index.faiss":
        (index / FAISS_FILE).write_bytes((index / FAISS_FILE).read_bytes()[:-200])
    elif how == "another model":
        manifest["model"] = "some/other-model"
    elif how == "passages reordered":  # same count, same checksums fixed: wrong citations
        lines = (index / PASSAGES_FILE).read_text("utf-8").splitlines()
        (index / PASSAGES_FILE).write_text("\n".join(lines[::-1]) + "\n", "utf-8")
        manifest["files"][PASSAGES_FILE] = _sha256(index / PASSAGES_FILE)
    elif how == "manifest dimension":
        manifest["dimension"] = 768
    elif how == "vectors of another dimension":  # consistent on disk, but not the model's
        import faiss

        stored: Any = faiss.read_index(str(index / FAISS_FILE))
        keys = faiss.vector_to_array(stored.id_map).astype(np.int64)
        inner = faiss.IndexFlatIP(768)
        wide = faiss.IndexIDMap2(inner)
        wide.add_with_ids(np.eye(len(keys), 768, dtype=np.float32), keys)
        faiss.write_index(wide, str(index / FAISS_FILE))
        manifest["dimension"] = 768
        manifest["files"][FAISS_FILE] = _sha256(index / FAISS_FILE)
    (index / MANIFEST_FILE).write_text(json.dumps(manifest), "utf-8")
    return index


DAMAGE = [
    "truncated index.faiss",
    "another model",
    "passages reordered",
    "manifest dimension",
    "vectors of another dimension",
]


@pytest.mark.parametrize("how", DAMAGE)
def test_a_mismatched_index_is_refused_naming_the_fix(
    mini_index: Path, tmp_path: Path, how: str
) -> None:
    with pytest.raises(IndexUnusable, match=re.escape(REBUILD)):
        Assistant.load(_damaged(mini_index, tmp_path, how))


@pytest.mark.parametrize("how", DAMAGE)
def test_cli_on_a_mismatched_index_gives_one_json_error(
    mini_index: Path, tmp_path: Path, how: str
) -> None:
    index = _damaged(mini_index, tmp_path, how)
    result = _cli("ask", "Hvad er budgettet i Åby?", "--json", "--index", str(index))
    assert result.returncode == 1
    (line,) = result.stdout.splitlines()
    assert REBUILD in json.loads(line)["error"]


def _citations(at: AppTest) -> list[str]:
    return [str(m.value) for m in at.markdown if str(m.value).startswith("**Kilde:**")]


def test_app_with_a_damaged_index_says_so_in_danish_and_cites_nothing(
    mini_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _app(_damaged(mini_index, tmp_path, "passages reordered"), FIXTURE_CORPUS, tmp_path,
              monkeypatch)  # fmt: skip
    assert at.error and "kan ikke starte" in at.error[0].value
    assert not _citations(at) and not at.chat_input  # stopped before any question is taken


def test_app_offers_to_rebuild_a_damaged_index(
    mini_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _app(_damaged(mini_index, tmp_path, "truncated index.faiss"), FIXTURE_CORPUS, tmp_path,
              monkeypatch)  # fmt: skip
    at.button(key="rebuild").click().run()
    assert not at.exception and not at.error
    at.chat_input(key="question").set_value("Hvad er budgettet i Åby?").run()
    assert (
        _citations(at) and "Åby Kommune" in _citations(at)[0]
    )  # (Åby is fictional: no town filter)


def _copies(mini_index: Path, tmp_path: Path) -> tuple[Path, Path]:
    shutil.copytree(FIXTURE_CORPUS, tmp_path / "corpus")
    shutil.copytree(mini_index, tmp_path / "index")
    return tmp_path / "index", tmp_path / "corpus"


def _retitle(corpus: Path) -> None:
    manifest = corpus / "documents.toml"
    text = manifest.read_text("utf-8").replace("s budget 2024", "s reviderede budget 2024")
    manifest.write_text(text, "utf-8")


def _cited_title(at: AppTest) -> str:
    at.chat_input(key="question").set_value("Hvad er budgettet i Åby?").run()
    return _citations(at)[0]


def test_app_rebuilds_an_index_of_an_older_corpus_and_cites_the_new_one(
    mini_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index, corpus = _copies(mini_index, tmp_path)
    _retitle(corpus)
    assert "reviderede budget 2024" in _cited_title(_app(index, corpus, tmp_path, monkeypatch))


def test_a_running_app_serves_the_index_rebuilt_under_it(
    mini_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index, corpus = _copies(mini_index, tmp_path)
    assert "reviderede" not in _cited_title(_app(index, corpus, tmp_path, monkeypatch))
    _retitle(corpus)
    build(corpus, index, show_progress=False)  # `python -m retrieval build` while it runs
    assert "reviderede budget 2024" in _cited_title(_app(index, corpus, tmp_path, monkeypatch))
