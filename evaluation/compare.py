"""Retrievers side by side: a paired significance test (ranx compare) and the per-query misses."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

from evaluation.metrics import METRICS, ranx_module, ranx_name, ranx_qrels, ranx_run
from evaluation.records import Evaluation, ranked

STAT_TEST = "student"  # ranx's paired two-sided t-test
MAX_P = 0.05
MISS_DEPTH = 5
SNIPPET_WORDS = 12


@dataclass(frozen=True)
class Comparison:
    """Means per retriever, and for every ordered pair and metric the p-value and W/T/L."""

    stat_test: str
    max_p: float
    means: dict[str, dict[str, float]]
    p_values: dict[tuple[str, str], dict[str, float]]
    win_tie_loss: dict[tuple[str, str], dict[str, tuple[int, int, int]]]

    def significant(self, a: str, b: str, metric: str) -> bool:
        return self.p_values[(a, b)][metric] < self.max_p


def compare_retrievers(
    evaluation: Evaluation, metrics: tuple[str, ...] = tuple(METRICS),
    stat_test: str = STAT_TEST, max_p: float = MAX_P,
) -> Comparison:
    """ranx compare over every retriever's ranking of the judged queries (paired per query)."""
    names = evaluation.retrievers
    if len(names) < 2:
        return Comparison(stat_test, max_p, {}, {}, {})
    ranx = ranx_module()
    runs = [ranx_run(ranked(evaluation.of(n)), evaluation.qrels, name=n) for n in names]
    ranx_names = [ranx_name(m) for m in metrics]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = ranx.compare(
            ranx_qrels(evaluation.qrels), runs, ranx_names, stat_test=stat_test, max_p=max_p,
        ).to_dict()
    means = {n: {m: float(report[n]["scores"][r]) for m, r in zip(metrics, ranx_names,
                                                                 strict=True)} for n in names}
    p_values: dict[tuple[str, str], dict[str, float]] = {}
    wtl: dict[tuple[str, str], dict[str, tuple[int, int, int]]] = {}
    for a in names:
        for b in names:
            if a == b:
                continue
            p_values[(a, b)] = {
                m: _p(report[a]["comparisons"][b][r])
                for m, r in zip(metrics, ranx_names, strict=True)
            }
            wtl[(a, b)] = {
                m: tuple(int(report[a]["win_tie_loss"][b][r][x]) for x in "WTL")  # type: ignore[misc]
                for m, r in zip(metrics, ranx_names, strict=True)
            }
    return Comparison(stat_test, max_p, means, p_values, wtl)


def _p(value: float) -> float:
    """A t-test on identical per-query values has no variance and gives NaN: no difference, 1.0."""
    value = float(value)
    return 1.0 if math.isnan(value) else value


@dataclass(frozen=True)
class Miss:
    """A judged query whose relevant passage one retriever did not put in its top MISS_DEPTH."""

    query_id: str
    question: str
    retriever: str
    rank: int | None  # first relevant rank within the returned k, None when not returned
    returned_id: str  # what came first instead
    returned_words: str


def snippet(text: str, words: int = SNIPPET_WORDS) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def misses(evaluation: Evaluation, depth: int = MISS_DEPTH) -> list[Miss]:
    """Every (judged query, retriever) with no relevant passage in the top `depth`."""
    found = []
    for r in evaluation.records:
        if r.query_id not in evaluation.qrels:
            continue  # unanswerable gold questions are judged by abstention instead
        rank = r.first_relevant_rank()
        if rank is not None and rank <= depth:
            continue
        top = r.passage_ids[0] if r.passage_ids else ""
        found.append(Miss(r.query_id, r.question, r.retriever, rank, top,
                          snippet(evaluation.texts.get(top, "")) if top else "(nothing returned)"))
    return found


def rank_table(evaluation: Evaluation, depth: int = MISS_DEPTH) -> list[dict[str, object]]:
    """One row per judged query some retriever misses: each retriever's first relevant rank."""
    by_key = {(r.query_id, r.retriever): r for r in evaluation.records}
    missed = {m.query_id for m in misses(evaluation, depth)}
    rows = []
    for qid in evaluation.query_ids:
        if qid not in missed:
            continue
        row: dict[str, object] = {"query_id": qid}
        for name in evaluation.retrievers:
            record = by_key.get((qid, name))
            row["question"] = record.question if record else row.get("question", "")
            row[name] = record.first_relevant_rank() if record else None
        rows.append(row)
    return rows
