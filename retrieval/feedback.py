"""Thumbs up or down on an answer, kept durably in SQLite and free of personal data.

One `FeedbackStore` is shared by every Streamlit session: each thread gets its own connection,
the database runs in WAL mode so readers never block the writer, and a write that meets a busy
database is retried. Every question is redacted (retrieval.text.privacy) inside `record`, so no
caller can store a CPR number, phone number or e-mail address by mistake.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from retrieval.text.privacy import redact

DEFAULT_PATH = "data/feedback.sqlite3"
RATINGS = {0: "ned", 1: "op"}
MODES = ("borger", "hotline")
RETRIES = 15
RETENTION = timedelta(days=365)  # SECURITY.md: feedback is kept for 12 months

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    created     TEXT    NOT NULL,            -- UTC, ISO 8601
    question    TEXT    NOT NULL,            -- the question as searched, redacted
    passage_ids TEXT    NOT NULL,            -- JSON list of the passage ids shown, in order
    rating      INTEGER NOT NULL CHECK (rating IN (0, 1)),   -- 0 thumbs down, 1 thumbs up
    answered    INTEGER NOT NULL,            -- 1 when the answer was given, 0 when it abstained
    mode        TEXT    NOT NULL             -- 'borger' (the chat) or 'hotline'
)
"""


@dataclass(frozen=True)
class Feedback:
    id: int
    created: str
    question: str
    passage_ids: tuple[str, ...]
    rating: int
    answered: bool
    mode: str


def default_path() -> Path:
    """`$SPORG_FEEDBACK_DB`, else data/feedback.sqlite3 (git-ignored)."""
    return Path(os.environ.get("SPORG_FEEDBACK_DB") or DEFAULT_PATH)


class FeedbackStore:
    def __init__(self, path: str | Path | None = None, timeout: float = 5.0) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.timeout = timeout
        self._local = threading.local()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._retry(lambda db: db.execute(SCHEMA))

    def _connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
            try:
                db.execute(f"PRAGMA busy_timeout={int(self.timeout * 1000)}")
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=FULL")  # each commit is on disk when it returns
            except sqlite3.Error:
                db.close()
                raise
            self._local.db = db
        return db

    def _retry(self, action: Callable[[sqlite3.Connection], T]) -> T:
        """Run one write in its own transaction, retrying while another writer holds the lock."""
        for attempt in range(RETRIES):
            db: sqlite3.Connection | None = None
            try:
                db = self._connection()
                db.execute("BEGIN IMMEDIATE")
                result = action(db)
                db.execute("COMMIT")
                return result
            except BaseException as exc:
                if db is not None and db.in_transaction:
                    db.execute("ROLLBACK")
                if not _busy(exc) or attempt == RETRIES - 1:
                    raise
                time.sleep(min(0.5, 0.02 * 2**attempt) * (1 + random.random()))
        raise AssertionError("unreachable")

    def record(
        self,
        question: str,
        passage_ids: Sequence[str],
        rating: int,
        mode: str = "borger",
        answered: bool = True,
    ) -> int:
        """Store one rating (0 = thumbs down, 1 = thumbs up); returns the row id."""
        if rating not in RATINGS:
            raise ValueError(f"rating must be 0 (down) or 1 (up), got {rating!r}")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        row = (
            datetime.now(UTC).isoformat(timespec="seconds"),
            redact(question),
            json.dumps(list(passage_ids), ensure_ascii=False),
            rating,
            int(answered),
            mode,
        )
        sql = (
            "INSERT INTO feedback (created, question, passage_ids, rating, answered, mode) "
            "VALUES (?, ?, ?, ?, ?, ?)"
        )
        return int(self._retry(lambda db: db.execute(sql, row).lastrowid or 0))

    def change(self, row_id: int, rating: int | None) -> None:
        """A changed mind: a new rating updates the row, a withdrawn one (None) deletes it."""
        if rating is None:
            self._retry(lambda db: db.execute("DELETE FROM feedback WHERE id = ?", (row_id,)))
            return
        if rating not in RATINGS:
            raise ValueError(f"rating must be 0 (down) or 1 (up), got {rating!r}")
        now = datetime.now(UTC).isoformat(timespec="seconds")
        self._retry(
            lambda db: db.execute(
                "UPDATE feedback SET rating = ?, created = ? WHERE id = ?", (rating, now, row_id)
            )
        )

    def purge(self, older_than: timedelta = RETENTION) -> int:
        """Delete ratings older than the retention period; returns how many went.

        The app calls this at start (SECURITY.md promises 12 months). Rows are deleted in one
        transaction; the file is vacuumed afterwards so deleted questions do not linger in free
        pages (skipped, not failed, while another session holds the database).
        """
        cutoff = (datetime.now(UTC) - older_than).isoformat(timespec="seconds")
        deleted = int(
            self._retry(lambda db: db.execute("DELETE FROM feedback WHERE created < ?", (cutoff,)))
            .rowcount
        )
        if deleted:
            try:
                self._connection().execute("VACUUM")
            except sqlite3.OperationalError as exc:
                if not _busy(exc):
                    raise
        return deleted

    def all(self) -> list[Feedback]:
        rows = self._connection().execute(
            "SELECT id, created, question, passage_ids, rating, answered, mode "
            "FROM feedback ORDER BY id"
        )
        return [
            Feedback(r[0], r[1], r[2], tuple(json.loads(r[3])), r[4], bool(r[5]), r[6])
            for r in rows
        ]

    def close(self) -> None:
        """Close this thread's connection (other threads close theirs when they end)."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None


def _busy(exc: BaseException) -> bool:
    """SQLITE_BUSY / SQLITE_LOCKED: another connection holds the write lock; worth a retry."""
    return isinstance(exc, sqlite3.OperationalError) and (
        "locked" in str(exc) or "busy" in str(exc)
    )
