"""The one interface every retriever shares, so hybrid search is a composition, not a copy.

A search carries its filter (`Where`: municipalities, document types) into the retriever, so the
k best *allowed* passages come back however few of them the corpus has, and every door (CLI,
pages, evaluation) filters the same way.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from retrieval.types import Hit, Passage


@dataclass(frozen=True)
class Where:
    """Which passages a search may return; an empty set means any. Names compare casefolded."""

    municipalities: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()

    @classmethod
    def of(cls, municipalities: Iterable[str] = (), kinds: Iterable[str] = ()) -> Where:
        return cls(frozenset(m.casefold() for m in municipalities if m),
                   frozenset(k.casefold() for k in kinds if k))

    def __bool__(self) -> bool:
        return bool(self.municipalities or self.kinds)


EVERYWHERE = Where()


@dataclass(frozen=True)
class Ranking:
    """A retriever's hits and the rankings it was made from (for the abstention evidence).

    ``stages`` names each ranking a search made on the way, e.g. a hybrid search's "dense",
    "dense_passages" (before window rescoring) and "bm25", each at the depth it was searched."""

    hits: list[Hit]
    stages: Mapping[str, list[Hit]] = field(default_factory=dict)


class Retriever(ABC):
    """Index passages once, then answer many searches (read-only, so threads may share it)."""

    name: str = "retriever"

    @abstractmethod
    def index(self, passages: Sequence[Passage]) -> None:
        """Make these passages searchable, replacing anything indexed before."""

    @abstractmethod
    def search(self, query: str, k: int = 5, where: Where = EVERYWHERE) -> list[Hit]:
        """The k best allowed passages for the query, best first, ranks starting at 1."""

    def explain(self, query: str, k: int = 5, where: Where = EVERYWHERE) -> Ranking:
        """`search`, with the rankings it was made from; a single-stage retriever has one."""
        hits = self.search(query, k, where)
        return Ranking(hits, {self.name: hits})

    @property
    @abstractmethod
    def passages(self) -> Sequence[Passage]:
        """The passages in index order."""

    def run(self, queries: dict[str, str], k: int = 100, where: Where = EVERYWHERE
            ) -> dict[str, dict[str, float]]:
        """BEIR's run shape (query id → passage id → score), which evaluators read as is."""
        return {
            qid: {h.passage.id: float(h.score) for h in self.search(text, k, where)}
            for qid, text in queries.items()
        }


def check_k(k: int, available: int) -> int:
    """Clamp k to what exists; a k below 1 is a caller's mistake worth naming."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    return min(k, available)
