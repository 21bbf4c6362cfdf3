"""Retrieval metrics (ranx), abstention precision/recall/F1 and latency percentiles.

Names follow ir_measures/ranx: nDCG@10, MRR@10, Recall@5, Recall@10, Hit@1, Hit@5. Nothing is
rounded here and per-query values are kept. Every judged query is scored, so one a retriever
returned nothing for scores 0 instead of leaving the mean.

ranx is given each record's ranking in the retriever's own order (score 1/rank): ranx breaks
score ties its own way, and the exported TREC runs list passages in that same order, so figures
computed from those files agree exactly. The records keep the real scores.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from evaluation.records import Evaluation, QueryRecord, ranked

# Our report names → ranx metric names.
METRICS = {
    "nDCG@10": "ndcg@10",
    "MRR@10": "mrr@10",
    "Recall@5": "recall@5",
    "Recall@10": "recall@10",
    "Hit@1": "hit_rate@1",
    "Hit@5": "hit_rate@5",
}
INSTALL = "pip install -e '.[eval]'"


def ranx_module() -> Any:
    """ranx, or an ImportError with the install command (it is an optional 'eval' extra)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import ranx
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(f"evaluation needs ranx: run `{INSTALL}`") from exc
    return ranx


def ranx_name(metric: str) -> str:
    """Our metric name (nDCG@10) or a ranx one (ndcg@10) → the ranx name; names the known ones."""
    if metric in METRICS:
        return METRICS[metric]
    if metric in METRICS.values():
        return metric
    raise ValueError(f"unknown metric {metric!r}; use one of {list(METRICS)}")


@dataclass(frozen=True)
class RetrievalScores:
    """ir_measures' CalcResults: the means and every query's value, per metric."""

    aggregated: dict[str, float]
    per_query: dict[str, dict[str, float]]  # metric → query id → value


def ranx_run(
    order: dict[str, list[str]], qrels: dict[str, dict[str, int]], name: str = "run"
) -> Any:
    """A ranx Run over exactly the judged queries; one with no hits gets an empty entry."""
    ranx = ranx_module()
    run = {qid: {pid: 1.0 / rank for rank, pid in enumerate(order.get(qid, []), 1)}
           for qid in qrels}
    return ranx.Run(run, name=name)


def ranx_qrels(qrels: dict[str, dict[str, int]]) -> Any:
    return ranx_module().Qrels({q: dict(d) for q, d in qrels.items()})


def retrieval_scores(
    qrels: dict[str, dict[str, int]], order: dict[str, list[str]],
    metrics: Sequence[str] = tuple(METRICS),
) -> RetrievalScores:
    """Score rankings (query id → passage ids, best first) against qrels with ranx."""
    if not qrels:
        raise ValueError("no judged queries: the qrels are empty, so there is nothing to score")
    ranx = ranx_module()
    names = {m: ranx_name(m) for m in metrics}
    if not any(order.get(q) for q in qrels):  # ranx cannot hold a run without a single hit
        zero = dict.fromkeys(qrels, 0.0)
        return RetrievalScores(dict.fromkeys(metrics, 0.0), {m: dict(zero) for m in metrics})
    run = ranx_run(order, qrels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba's type-safety chatter
        means = ranx.evaluate(ranx_qrels(qrels), run, list(names.values()))
    if len(names) == 1:
        means = {next(iter(names.values())): means}
    return RetrievalScores(
        aggregated={m: float(means[r]) for m, r in names.items()},
        per_query={m: {q: float(v) for q, v in run.scores[r].items()} for m, r in names.items()},
    )


@dataclass(frozen=True)
class Abstention:
    """Positive class: the assistant abstained. Ground truth: the question is unanswerable."""

    true_positive: int
    false_positive: int
    false_negative: int
    true_negative: int

    @classmethod
    def of(cls, records: Sequence[QueryRecord]) -> Abstention:
        tp = sum(not r.answered and not r.answerable for r in records)
        fp = sum(not r.answered and r.answerable for r in records)
        fn = sum(r.answered and not r.answerable for r in records)
        tn = sum(r.answered and r.answerable for r in records)
        return cls(tp, fp, fn, tn)

    @property
    def precision(self) -> float:
        """0.0 when it never abstains (scikit-learn's zero_division=0)."""
        predicted = self.true_positive + self.false_positive
        return self.true_positive / predicted if predicted else 0.0

    @property
    def recall(self) -> float:
        actual = self.true_positive + self.false_negative
        return self.true_positive / actual if actual else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def latency_percentiles(records: Sequence[QueryRecord]) -> tuple[float, float]:
    """p50 and p95 of per-query latency in ms (linear interpolation, numpy's default)."""
    if not records:
        return 0.0, 0.0
    values = np.array([r.latency_ms for r in records], dtype=float)
    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


def summarise(evaluation: Evaluation) -> dict[str, dict[str, float]]:
    """Per retriever: the six retrieval metrics, latency, abstention (gold only) and seconds."""
    table: dict[str, dict[str, float]] = {}
    for name in evaluation.retrievers:
        records = evaluation.of(name)
        scores = retrieval_scores(evaluation.qrels, ranked(records))
        row = dict(scores.aggregated)
        row["latency_p50_ms"], row["latency_p95_ms"] = latency_percentiles(records)
        if evaluation.kind == "gold":
            abstention = Abstention.of(records)
            row["abstention_precision"] = abstention.precision
            row["abstention_recall"] = abstention.recall
            row["abstention_f1"] = abstention.f1
        row["seconds"] = evaluation.seconds.get(name, 0.0)
        table[name] = row
    return table


def per_query(evaluation: Evaluation) -> dict[str, RetrievalScores]:
    """Retriever → its per-query values, for significance tests and the misses table."""
    return {
        name: retrieval_scores(evaluation.qrels, ranked(evaluation.of(name)))
        for name in evaluation.retrievers
    }
