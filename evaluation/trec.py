"""TREC files that trec_eval, ir_measures and ranx read as they are.

run:   `qid Q0 docid rank score tag`, one line per ranked passage, in the retriever's order.
qrels: `qid 0 docid rel`.
Scores are written with repr precision; ids must not contain whitespace (TREC is space-split).
Tied scores are written a few ulps apart (math.nextafter), so every tool that sorts by score
(trec_eval, ir_measures, ranx) sees the order the retriever returned, which the metrics use.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from evaluation.records import QueryRecord


class TrecError(ValueError):
    """A TREC line or id cannot be written or read; the message names it."""


@dataclass(frozen=True)
class RunLine:
    query_id: str
    doc_id: str
    rank: int
    score: float
    tag: str


def _check_id(value: str, what: str) -> str:
    if not value or any(ch.isspace() for ch in value):
        raise TrecError(f"{what} {value!r} is empty or contains whitespace, which TREC files "
                        "cannot hold; use ids without spaces")
    return value


def strictly_decreasing(scores: Sequence[float]) -> list[float]:
    """The scores in the given order, each tie nudged to the next float below the one before."""
    out: list[float] = []
    for score in scores:
        score = float(score)
        out.append(min(score, math.nextafter(out[-1], -math.inf)) if out else score)
    return out


def write_run(path: Path | str, records: Iterable[QueryRecord], tag: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _check_id(tag, "run tag")
    with path.open("w", encoding="utf-8") as f:
        for r in records:
            qid = _check_id(r.query_id, "query id")
            scores = strictly_decreasing(r.scores)
            for rank, (pid, score) in enumerate(zip(r.passage_ids, scores, strict=True), 1):
                f.write(f"{qid} Q0 {_check_id(pid, 'passage id')} {rank} {score!r} {tag}\n")
    return path


def write_qrels(path: Path | str, qrels: dict[str, dict[str, int]]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for qid, docs in qrels.items():
            for pid, rel in docs.items():
                f.write(f"{_check_id(qid, 'query id')} 0 {_check_id(pid, 'passage id')} {rel}\n")
    return path


def read_run(path: Path | str) -> list[RunLine]:
    lines = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        cols = line.split()
        if len(cols) != 6:
            raise TrecError(
                f"{path}:{number}: expected 'qid Q0 docid rank score tag', got {line!r}"
            )
        try:
            lines.append(RunLine(cols[0], cols[2], int(cols[3]), float(cols[4]), cols[5]))
        except ValueError as exc:
            raise TrecError(f"{path}:{number}: rank or score is not a number in {line!r}") from exc
    return lines


def read_qrels(path: Path | str) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        cols = line.split()
        if len(cols) != 4:
            raise TrecError(f"{path}:{number}: expected 'qid 0 docid rel', got {line!r}")
        try:
            qrels.setdefault(cols[0], {})[cols[2]] = int(cols[3])
        except ValueError as exc:
            raise TrecError(f"{path}:{number}: relevance {cols[3]!r} is not an integer") from exc
    return qrels


def run_order(lines: Iterable[RunLine]) -> dict[str, list[str]]:
    """Query id → doc ids by the rank column (the order the retriever returned)."""
    by_query: dict[str, list[RunLine]] = {}
    for line in lines:
        by_query.setdefault(line.query_id, []).append(line)
    return {q: [x.doc_id for x in sorted(ls, key=lambda x: x.rank)] for q, ls in by_query.items()}
