"""Shared fixtures: the real model, and real indexes built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.assistant import Assistant, build
from retrieval.embedding import Embedder, get_embedder

ROOT = Path(__file__).parent.parent
FIXTURE_CORPUS = Path(__file__).parent / "fixtures" / "mini_corpus"
CORPUS = ROOT / "corpus"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return get_embedder()


@pytest.fixture(scope="session")
def mini_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """The tiny Danish fixture corpus, embedded for real."""
    folder = tmp_path_factory.mktemp("mini") / "index"
    build(FIXTURE_CORPUS, folder, show_progress=False)
    return folder


@pytest.fixture(scope="session")
def full_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """The whole embedded corpus, built the way `make run` builds it (never the app's index/)."""
    folder = tmp_path_factory.mktemp("full") / "index"
    build(CORPUS, folder, show_progress=False)
    return folder


@pytest.fixture(scope="session")
def assistant(full_index: Path) -> Assistant:
    return Assistant.load(full_index, corpus_dir=CORPUS)
