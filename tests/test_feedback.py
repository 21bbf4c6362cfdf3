"""Feedback in SQLite: durable, redacted, and nothing lost when many sessions write at once."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from retrieval.feedback import FeedbackStore, default_path


def test_a_rating_is_stored_with_question_passages_and_mode(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "sub" / "feedback.sqlite3")
    row = store.record("Hvad er Silkeborgs fokusområder?", ["silkeborg#000", "silkeborg#003"], 1)
    stored = FeedbackStore(tmp_path / "sub" / "feedback.sqlite3").all()  # a fresh connection
    assert [r.id for r in stored] == [row]
    assert stored[0].question == "Hvad er Silkeborgs fokusområder?"
    assert stored[0].passage_ids == ("silkeborg#000", "silkeborg#003")
    assert (stored[0].rating, stored[0].mode, stored[0].answered) == (1, "borger", True)
    assert stored[0].created.endswith("+00:00")


def test_the_database_runs_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    FeedbackStore(path).record("spørgsmål om budget", [], 0, mode="hotline", answered=False)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_personal_data_is_redacted_before_it_is_stored(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    FeedbackStore(path).record("Mit cpr er 010203-1234, mail mig på ida@example.dk", [], 0)
    raw = path.read_bytes() + (path.with_name(path.name + "-wal").read_bytes())
    assert b"010203" not in raw and b"ida@example" not in raw
    assert "[CPR-nummer fjernet]" in FeedbackStore(path).all()[0].question


def test_change_and_withdraw_a_rating(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "f.sqlite3")
    row = store.record("Hvad koster demokrati i Sønderborg?", ["sonderborg-budget-2017#000"], 1)
    store.change(row, 0)
    assert [r.rating for r in store.all()] == [0]
    store.change(row, None)
    assert store.all() == []


@pytest.mark.parametrize(
    ("rating", "mode"), [(2, "borger"), (-1, "borger"), (1, "admin")]
)
def test_bad_values_are_refused(tmp_path: Path, rating: int, mode: str) -> None:
    with pytest.raises(ValueError, match="must be"):
        FeedbackStore(tmp_path / "f.sqlite3").record("spørgsmål", [], rating, mode=mode)


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    """16 threads, each with its own connection, 25 ratings each, plus a second store object."""
    path = tmp_path / "f.sqlite3"
    stores = [FeedbackStore(path, timeout=0.05), FeedbackStore(path, timeout=0.05)]
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(25):
                stores[n % 2].record(f"spørgsmål {n}-{i}", [f"doc#{i:03d}"], i % 2)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    questions = {r.question for r in FeedbackStore(path).all()}
    assert len(questions) == 16 * 25


def test_a_held_write_lock_is_waited_for_then_given_up_clearly(tmp_path: Path) -> None:
    path = tmp_path / "f.sqlite3"
    store = FeedbackStore(path, timeout=0.01)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            store.record("spørgsmål", [], 1)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    store.record("spørgsmål", [], 1)  # the store still works once the lock is gone
    assert len(store.all()) == 1


def test_default_path_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPORG_FEEDBACK_DB", raising=False)
    assert default_path() == Path("data/feedback.sqlite3")
    monkeypatch.setenv("SPORG_FEEDBACK_DB", "/srv/sporg/feedback.sqlite3")
    assert default_path() == Path("/srv/sporg/feedback.sqlite3")
