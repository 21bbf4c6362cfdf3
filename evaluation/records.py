"""What one evaluation run produced: one record per (query, retriever), nothing aggregated.

Records keep the full ranking, the scores, the answered flag and the latency, so metrics,
significance tests, reports and the abstention fit all read the same facts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class QueryRecord:
    query_id: str
    retriever: str
    question: str
    passage_ids: tuple[str, ...]  # best first, as the retriever ranked them
    scores: tuple[float, ...]
    relevant: tuple[str, ...]  # empty for an unanswerable question
    latency_ms: float
    answered: bool = True
    answerable: bool = True

    def __post_init__(self) -> None:
        if len(self.passage_ids) != len(self.scores):
            raise ValueError(
                f"query {self.query_id}: {len(self.passage_ids)} passage ids but "
                f"{len(self.scores)} scores; pass one score per ranked passage"
            )

    @property
    def top_score(self) -> float | None:
        return self.scores[0] if self.scores else None

    def first_relevant_rank(self) -> int | None:
        """1-based rank of the first relevant passage, None when none was returned."""
        relevant = set(self.relevant)
        return next((r for r, pid in enumerate(self.passage_ids, 1) if pid in relevant), None)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> QueryRecord:
        data = dict(data)
        for key in ("passage_ids", "scores", "relevant"):
            data[key] = tuple(data[key])
        return cls(**data)


@dataclass(frozen=True)
class Evaluation:
    """Every record of one dataset, with what a report needs to explain them."""

    dataset: str
    kind: str  # "gold" (abstention is scored) or "beir"
    k: int
    records: tuple[QueryRecord, ...]
    qrels: dict[str, dict[str, int]]
    texts: dict[str, str] = field(default_factory=dict)  # passage id → text, for the misses table
    seconds: dict[str, float] = field(default_factory=dict)  # wall time per retriever
    index_seconds: dict[str, float] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)  # query id → e.g. the gold question type

    @property
    def retrievers(self) -> list[str]:
        return list(dict.fromkeys(r.retriever for r in self.records))

    @property
    def query_ids(self) -> list[str]:
        return list(dict.fromkeys(r.query_id for r in self.records))

    def of(self, retriever: str) -> list[QueryRecord]:
        found = [r for r in self.records if r.retriever == retriever]
        if not found:
            raise KeyError(f"no records for retriever {retriever!r}; have {self.retrievers}")
        return found

    def run(self, retriever: str) -> dict[str, dict[str, float]]:
        """BEIR's run shape with the real scores (order: see `ranked`)."""
        return {r.query_id: dict(zip(r.passage_ids, r.scores, strict=True))
                for r in self.of(retriever)}


def ranked(records: Sequence[QueryRecord]) -> dict[str, list[str]]:
    """Query id → passage ids in the retriever's own order (ties keep that order)."""
    return {r.query_id: list(r.passage_ids) for r in records}
