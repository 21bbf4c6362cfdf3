"""Answers encode nothing but the question (issue 16): highlighting and window rescoring read the
sentence vectors the build stored. Counted on the real model and a real index, not timed."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from retrieval.answer.assistant import Assistant
from retrieval.embedding.cache import EncodedSentences
from retrieval.embedding.model import Embedder
from retrieval.indexing.store import FORMAT_VERSION, IndexUnusable, load_index, read_manifest
from retrieval.text.chunking import split_sentences, windows
from tests.conftest import CORPUS

QUESTIONS = (
    "Hvor mange penge bruger Socialudvalget i Sønderborg på demokrati?",
    "Hvad er Silkeborgs fokusområder?",
    "Hvilke mål har København for hjemløse?",
    "Hvordan arbejder Høje-Taastrup med beskæftigelse?",
    "Hvad gør Sønderborg for frivillige?",
)


@pytest.fixture
def counted(embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """The real embedder, its encode calls counted by kind (the calls still run the model)."""
    calls = {"passage": 0, "query": 0}
    passages, queries = embedder.encode_passages, embedder.encode_queries

    def count_passages(texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        calls["passage"] += 1
        return passages(texts, show_progress)

    def count_queries(texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        calls["query"] += 1
        return queries(texts, show_progress)

    monkeypatch.setattr(embedder, "encode_passages", count_passages)
    monkeypatch.setattr(embedder, "encode_queries", count_queries)
    yield calls


def test_asking_encodes_only_the_question(full_index: Path, counted: dict[str, int]) -> None:
    assistant = Assistant.load(full_index, corpus_dir=CORPUS)
    for question in QUESTIONS:
        answer = assistant.ask(question)
        assert answer.hits and answer.hits[0].highlight, question
    assert counted["passage"] == 0
    assert 0 < counted["query"] <= len(QUESTIONS)


def test_stored_sentence_vectors_are_the_encoded_sentences(
    assistant: Assistant, embedder: Embedder
) -> None:
    """float16 storage keeps what the model gives: the same vectors to 1e-3, same highlights."""
    encoded = EncodedSentences(embedder.encode_passages)
    for passage in list(assistant.passages)[:6]:
        stored = assistant.sentences.of(passage)
        assert len(stored) == len(split_sentences(passage.text))
        assert np.allclose(stored, encoded.of(passage), atol=2e-3)


def test_stored_window_vectors_are_the_encoded_windows(
    assistant: Assistant, embedder: Embedder
) -> None:
    """Window rescoring reads what encoding the windows at question time gave before."""
    encoded = EncodedSentences(embedder.encode_passages)
    for passage in list(assistant.passages)[:4]:
        stored = assistant.sentences.windows(passage)
        assert len(stored) == len(windows(passage))
        assert np.allclose(stored, encoded.windows(passage), atol=2e-3)


def test_sentence_vectors_out_of_step_are_refused(full_index: Path, tmp_path: Path) -> None:
    """Sentence boundaries that do not fit the passages name the fix; so does the old format."""
    import shutil

    copy = tmp_path / "index"
    shutil.copytree(full_index, copy)
    starts = np.load(copy / "sentence_starts.npy")
    np.save(copy / "sentence_starts.npy", starts[:-1])
    manifest = read_manifest(copy)
    with pytest.raises(IndexUnusable, match=r"damaged|out of step"):
        load_index(copy, model_id=manifest["model"])
    (copy / "manifest.json").write_text(
        (copy / "manifest.json").read_text("utf-8").replace(
            f'"format_version": {FORMAT_VERSION}', '"format_version": 2'), "utf-8")
    with pytest.raises(IndexUnusable, match=r"format version 2.*python -m retrieval build"):
        load_index(copy)
