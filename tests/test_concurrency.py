"""Many users at once: one Assistant shared read-only by threads and Streamlit sessions gives
the sequential run's answers; feedback written concurrently, or by a killed process, is kept.

The load test prints its throughput and p95 latency (run with -s, or read the junit
properties). The default run is small; the one at the issue's scale is marked slow.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import streamlit.config
from streamlit.runtime import Runtime
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner.script_cache import ScriptCache
from streamlit.testing.v1 import AppTest, app_test

from retrieval.answer.assistant import Assistant
from retrieval.feedback import FeedbackStore
from retrieval.types import Answer
from tests.conftest import ROOT
from ui.app_support import EXAMPLES

GOLD = [
    json.loads(line)["question"]
    for line in (ROOT / "evaluation" / "data" / "gold.jsonl").read_text("utf-8").splitlines()
]


# FAISS inner products made while other threads run the model sometimes differ from the
# sequential run's in the last bit of a float32 (6e-8); the hybrid blend divides by the pool's
# score span, which has made that up to 3e-6 in the fused score. Ranks never changed.
SCORE_TOLERANCE = 1e-5


def assert_same(got: Answer, want: Answer) -> None:
    """Identical answers: same passages in the same order, same scores (to SCORE_TOLERANCE),
    same verdict, message and highlighted sentences."""
    assert got.answered == want.answered, got.question
    assert [h.passage.id for h in got.hits] == [h.passage.id for h in want.hits], got.question
    got_scores, want_scores = [h.score for h in got.hits], [h.score for h in want.hits]
    assert np.allclose(got_scores, want_scores, rtol=0, atol=SCORE_TOLERANCE), got.question
    assert [h.highlight for h in got.hits] == [h.highlight for h in want.hits], got.question
    assert got.message == want.message


def load_test(
    index: Path, questions: Sequence[str], repeats: int, threads: int
) -> dict[str, float]:
    """Ask every question `repeats` times from `threads` threads at once against one freshly
    loaded Assistant (cold caches, so the model itself runs concurrently) and compare each
    answer with a sequential run on another Assistant loaded from the same index."""
    reference = Assistant.load(index)
    expected = {q: reference.ask(q) for q in questions}
    shared = Assistant.load(index)
    work = [q for r in range(repeats) for q in (questions if r % 2 else questions[::-1])]
    results: list[tuple[str, Answer, float]] = []
    errors: list[BaseException] = []
    pending = list(reversed(work))
    lock = threading.Lock()
    start_line = threading.Barrier(threads)

    def asker() -> None:
        start_line.wait(timeout=60)
        while True:
            with lock:
                if not pending or errors:
                    return
                question = pending.pop()
            began = time.perf_counter()
            try:
                answer = shared.ask(question)
            except BaseException as exc:
                errors.append(exc)
                return
            with lock:
                results.append((question, answer, time.perf_counter() - began))

    started = time.perf_counter()
    pool = [threading.Thread(target=asker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - started
    assert errors == [] and len(results) == len(work)
    for question, answer, _ in results:
        assert_same(answer, expected[question])
    latencies = np.array([seconds for _, _, seconds in results])
    p50, p95 = (float(np.percentile(latencies, p)) for p in (50, 95))
    return {"questions": len(work), "threads": threads, "throughput_per_s": len(work) / wall,
            "p50_s": p50, "p95_s": p95, "wall_s": wall}  # fmt: skip


def report(stats: dict[str, float], record_property: Any, capsys: pytest.CaptureFixture[str]
           ) -> None:  # fmt: skip
    for key, value in stats.items():
        record_property(key, value)
    with capsys.disabled():
        print(
            f"\n[load] {stats['questions']:.0f} questions from {stats['threads']:.0f} threads: "
            f"{stats['throughput_per_s']:.1f} questions/s, p50 {stats['p50_s'] * 1000:.0f} ms, "
            f"p95 {stats['p95_s'] * 1000:.0f} ms, {stats['wall_s']:.1f} s in all"
        )


MINI_QUESTIONS = [
    "Hvad er det samlede budget for Socialudvalget i Åby?",
    "Hvem er formand for Socialudvalget i Åby?",
    "Hvor mange penge går til væresteder for hjemløse?",
    "Hvad vil udvalget have fokus på i 2024?",
    "Hvad vil Ølund gøre for udsatte borgere?",
    "Hvilken periode gælder handleplanen for?",
    "udsatterådet aktiviteter kroner",
    "Hvornår tømmes skraldespanden?",
]


def test_eight_threads_share_one_assistant_and_get_the_sequential_answers(
    mini_index: Path, record_property: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    stats = load_test(mini_index, MINI_QUESTIONS, repeats=8, threads=8)
    assert stats["questions"] == 64
    report(stats, record_property, capsys)


@pytest.mark.slow
def test_load_500_questions_from_8_threads_without_errors_or_drift(
    full_index: Path, record_property: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    stats = load_test(full_index, GOLD, repeats=5, threads=8)
    assert stats["questions"] >= 500
    report(stats, record_property, capsys)


# -- several Streamlit sessions at once -----------------------------------------------------------
def _answers(at: AppTest) -> list[str]:
    """What the last answer shows: each hit's sentence and its citation."""
    return [
        str(m.value) for m in at.chat_message[-1].markdown
        if str(m.value).startswith(("**Uddrag", "**Måske relateret", "**Kilde:**"))
    ]  # fmt: skip


def sessions_in_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let AppTest run sessions from several threads, as a server runs them.

    AppTest assumes one session at a time: each run installs a fake Runtime, patches the
    config to say "this is a test" and resets the class-wide "app has a pages/ folder" flag,
    and undoes all three when it ends, under any other session still running. A server has
    one Runtime and one config for all sessions; keep them steady here. Only the test harness
    is adjusted; the app, its cache and the Assistant run unchanged.
    """
    real = Runtime.instance.__func__  # type: ignore[attr-defined]
    last: list[Runtime] = []

    def instance(cls: type[Runtime]) -> Runtime:
        if Runtime._instance is not None:
            last[:] = [Runtime._instance]
        return last[0] if last and Runtime._instance is None else real(cls)

    class OnePagesFlag(PagesManager):  # AppTest's reset lands on this subclass, not the flag
        pass

    monkeypatch.setattr(Runtime, "instance", classmethod(instance))
    monkeypatch.setattr(PagesManager, "uses_pages_directory", (ROOT / "pages").is_dir())
    monkeypatch.setattr(app_test, "PagesManager", OnePagesFlag)
    real_get_option = streamlit.config.get_option

    def get_option(name: str) -> Any:  # every session of this test is an AppTest session
        return True if name == "global.appTest" else real_get_option(name)

    monkeypatch.setattr(streamlit.config, "get_option", get_option)

    # A server compiles each page once, under its one ScriptCache's lock; every AppTest has a
    # cache of its own, so eight would compile at once, and CPython 3.11's ast is not safe for
    # that (gh-106905: "AST constructor recursion depth mismatch"). Compile under one lock.
    compiling = threading.Lock()
    real_get_bytecode = ScriptCache.get_bytecode

    def get_bytecode(self: ScriptCache, script_path: str) -> Any:
        with compiling:
            return real_get_bytecode(self, script_path)

    monkeypatch.setattr(ScriptCache, "get_bytecode", get_bytecode)


def test_eight_app_sessions_at_once_share_the_cached_assistant(
    feedback_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions_in_threads(monkeypatch)
    app = str(ROOT / "app.py")
    sequential = AppTest.from_file(app, default_timeout=600).run()
    expected = {}
    for question in EXAMPLES:
        sequential.chat_input(key="question").set_value(question).run()
        expected[question] = _answers(sequential)
    assert all(expected.values())

    seen: dict[int, list[list[str]]] = {}
    errors: list[BaseException] = []
    start_line = threading.Barrier(8)

    def session(n: int) -> None:
        try:
            at = AppTest.from_file(app, default_timeout=600)
            start_line.wait(timeout=60)
            at.run()
            for question in (EXAMPLES[n % 4], EXAMPLES[(n + 1) % 4]):
                at.chat_input(key="question").set_value(question).run()
                assert not at.exception, at.exception
                seen.setdefault(n, []).append(_answers(at))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=session, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=900)
    assert errors == []
    for n, answers in seen.items():
        assert answers == [expected[EXAMPLES[n % 4]], expected[EXAMPLES[(n + 1) % 4]]]
    assert len(seen) == 8


# -- durable feedback ---------------------------------------------------------------------------
WRITER = textwrap.dedent(
    """
    import sys
    from retrieval.feedback import FeedbackStore

    store = FeedbackStore(sys.argv[1])
    for i in range(int(sys.argv[3])):
        row = store.record(f"{sys.argv[2]} {i}", [f"doc#{i:03d}"], i % 2, mode="hotline")
        print(row, flush=True)  # acknowledged: committed to disk
    """
)


def _writer(db: Path, name: str, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db), name, str(count)], stdout=subprocess.PIPE,
        text=True, cwd=ROOT,
    )  # fmt: skip


def test_threads_and_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    db = tmp_path / "feedback.sqlite3"
    shared = FeedbackStore(db)  # one store for the server, as app_support caches it
    processes = [_writer(db, f"proces {p}", 40) for p in range(3)]

    def session(n: int) -> None:
        for i in range(20):
            row = shared.record(f"session {n} {i}", ["sonderborg-budget-2017#000"], 1)
            if i % 5 == 0:
                shared.change(row, 0)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(session, range(8)))
    for p in processes:
        assert p.wait(timeout=300) == 0
    rows = FeedbackStore(db).all()
    questions = [r.question for r in rows]
    assert len(questions) == len(set(questions)) == 8 * 20 + 3 * 40
    assert sum(r.rating == 0 for r in rows if r.question.startswith("session")) == 8 * 4


def test_a_killed_writer_loses_at_most_the_write_in_flight(tmp_path: Path) -> None:
    db = tmp_path / "feedback.sqlite3"
    FeedbackStore(db)
    writer = _writer(db, "dræbt", 100_000)
    assert writer.stdout is not None
    acknowledged = [int(writer.stdout.readline()) for _ in range(40)]
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=60)
    acknowledged += [int(line) for line in writer.stdout.read().split()]
    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store = FeedbackStore(db)
    stored = {r.id for r in store.all()}
    assert set(acknowledged) <= stored
    assert len(stored) - len(acknowledged) <= 1  # the write in flight, committed or not
    store.record("efter nedbruddet", [], 1)  # no lock is left behind
    assert len(store.all()) == len(stored) + 1


def test_sql_in_a_question_is_stored_as_text(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    evil = "'); DROP TABLE feedback; -- \" OR 1=1; SELECT * FROM sqlite_master"
    store.record(evil, ["x#000'); DELETE FROM feedback; --"], 0)
    store.record("Hvad koster demokrati i Sønderborg?", [], 1)
    rows = store.all()
    assert [r.question for r in rows] == [evil, "Hvad koster demokrati i Sønderborg?"]
    assert rows[0].passage_ids == ("x#000'); DELETE FROM feedback; --",)
