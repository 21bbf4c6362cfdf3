"""Shared fixtures: the real model, real indexes built once per test session, and a network
guard that keeps every test on this machine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from retrieval.answer.assistant import Assistant
from retrieval.embedding.model import Embedder, get_embedder
from retrieval.indexing.build import build
from tests.netguard import install

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


@pytest.fixture
def feedback_db(full_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app's environment for AppTest: the full test index and corpus, and a fresh feedback
    database (returned; not created until someone rates)."""
    path = tmp_path / "feedback.sqlite3"
    monkeypatch.setenv("SPORG_INDEX", str(full_index))
    monkeypatch.setenv("SPORG_CORPUS", str(CORPUS))
    monkeypatch.setenv("SPORG_FEEDBACK_DB", str(path))
    return path


def searched_questions(index: Path) -> list[str]:
    """The questions the app's shared Assistant (Streamlit's cached resource for this index)
    has encoded for search, newest last: what really reached the search and its cache."""
    from ui import app_support

    helper = app_support.cached_assistant(str(index), str(CORPUS), app_support._stamp(str(index)))
    return helper.dense.recent_queries()


# -- offline by design: no test may reach beyond this machine ------------------------------
network_attempts: list[str] = []  # what was blocked since the last test ended


@pytest.fixture(scope="session", autouse=True)
def socket_guard() -> Iterator[list[str]]:
    """Allow AF_UNIX and loopback (127.0.0.0/8, ::1) only; anything else raises NetworkBlocked
    and is recorded, so that a library which swallows the error still fails the test."""
    undo = install(network_attempts.append)
    try:
        yield network_attempts
    finally:
        undo()


@pytest.fixture(autouse=True)
def no_network(socket_guard: list[str]) -> Iterator[None]:
    """Fail the test (in teardown) if it, or a session fixture before it, tried the network."""
    yield
    tried, socket_guard[:] = list(socket_guard), []
    if tried:
        pytest.fail(f"tried to reach the network: {tried}", pytrace=False)
