"""Whole answers, as citizens get them (issue 16): `Assistant.ask` with highlighting, every
question new to the process; 8 threads against a sequential run; the cold start of
`python -m retrieval ask`. Phases of `python -m benchmarks.bench` (run in child processes there,
so each has its own peak RSS).

Questions are the gold, held-out and towns sets' 476 distinct real questions (the towns set
asks about all 24 municipalities of the corpus); a question is "new" when no
earlier question in the process had the same text (the query-vector cache is emptied first),
so no answer is helped by one before it.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
QUESTION_FILES = ("gold.jsonl", "heldout.jsonl", "towns.jsonl")
THREADS = 8


def all_questions() -> list[str]:
    """The distinct real questions of the labelled sets (476 in gold, held-out and towns)."""
    out: dict[str, None] = {}
    for name in QUESTION_FILES:
        for line in (ROOT / "evaluation" / "data" / name).read_text("utf-8").splitlines():
            if line.strip():
                out[json.loads(line)["question"]] = None
    return list(out)


def _pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000, q))


def _signature(answer: Any) -> tuple[Any, ...]:
    """What a citizen sees: answered or not, and each hit's passage, score and highlight."""
    return (answer.answered, answer.message,
            tuple((h.passage.id, round(h.score, 6), h.highlight) for h in answer.hits))


def phase_answers(index: Path, corpus: Path | None) -> dict[str, Any]:
    """Every question asked once, in a process that loaded the Assistant (and one warm-up
    question not among them, as the app's first page run would)."""
    from retrieval.answer.assistant import Assistant

    start = time.perf_counter()
    assistant = Assistant.load(index, corpus_dir=corpus)
    load_s = time.perf_counter() - start
    assistant.ask("Hvad laver socialudvalget?")
    assistant.dense.forget_queries()
    times, cpu = [], []
    for question in all_questions():
        t0, c0 = time.perf_counter(), time.thread_time()
        assistant.ask(question)
        times.append(time.perf_counter() - t0)
        cpu.append(time.thread_time() - c0)  # one thread does all of an answer's work
    return {"passages": len(assistant.passages), "questions": len(times), "load_s": load_s,
            "ask_p50_ms": _pct(times, 50), "ask_p95_ms": _pct(times, 95),
            "ask_max_ms": _pct(times, 100),
            # CPU time barely depends on what else the machine runs; wall time does.
            "ask_cpu_p50_ms": _pct(cpu, 50), "ask_cpu_p95_ms": _pct(cpu, 95), "query_runtime":
            "onnxruntime" if assistant.dense.embedder.query_runtime else "sentence-transformers",
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def phase_threads(index: Path, corpus: Path | None, per_thread: int) -> dict[str, Any]:
    """THREADS threads × per_thread questions against one Assistant: throughput, p95, and
    whether every answer equals the one a sequential run gave the same question."""
    from retrieval.answer.assistant import Assistant

    assistant = Assistant.load(index, corpus_dir=corpus)
    questions = all_questions()
    work = [questions[i % len(questions)] for i in range(THREADS * per_thread)]
    sequential = {q: _signature(assistant.ask(q)) for q in questions}
    assistant.dense.forget_queries()
    times: list[float] = []
    lock = threading.Lock()
    differ = 0

    def one(question: str) -> None:
        nonlocal differ
        t0 = time.perf_counter()
        answer = assistant.ask(question)
        took = time.perf_counter() - t0
        with lock:
            times.append(took)
            differ += _signature(answer) != sequential[question]

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        list(pool.map(one, work))
    wall = time.perf_counter() - start
    return {"passages": len(assistant.passages), "threads": THREADS, "questions": len(work),
            "per_second": len(work) / wall, "p50_ms": _pct(times, 50), "p95_ms": _pct(times, 95),
            "answers_differing": differ}


def cold_start(index: Path, question: str = "Hvad er Silkeborgs fokusområder?") -> dict[str, Any]:
    """`python -m retrieval ask "…"` in a fresh process: wall time to the answer, peak RSS."""
    cmd = [sys.executable, "-m", "retrieval", "ask", question, "--json", "--index", str(index)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    if proc.returncode != 0 or b'"hits"' not in out:
        raise RuntimeError(f"cold start failed ({proc.returncode}): {err.decode()[-2000:]}")
    return {"cold_start_s": wall}


def embedded_index(work: Path) -> Path:
    """The embedded corpus's index, built once in the scratch folder by the product's build."""
    from retrieval.indexing.build import build
    from retrieval.indexing.status import is_current

    index = work / "index-embedded"
    if not is_current(index, ROOT / "corpus"):
        build(ROOT / "corpus", index, show_progress=False)
    return index


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()
