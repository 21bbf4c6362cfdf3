"""The one interface every retriever shares, so hybrid search is a composition, not a copy."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from retrieval.types import Hit, Passage


class Retriever(ABC):
    """Index passages once, then answer many searches (read-only, so threads may share it)."""

    name: str = "retriever"

    @abstractmethod
    def index(self, passages: Sequence[Passage]) -> None:
        """Make these passages searchable, replacing anything indexed before."""

    @abstractmethod
    def search(self, query: str, k: int = 5) -> list[Hit]:
        """The k best passages for the query, best first, ranks starting at 1."""

    @property
    @abstractmethod
    def passages(self) -> Sequence[Passage]:
        """The passages in index order."""

    def run(self, queries: dict[str, str], k: int = 100) -> dict[str, dict[str, float]]:
        """BEIR's run shape (query id → passage id → score), which evaluators read as is."""
        return {
            qid: {h.passage.id: float(h.score) for h in self.search(text, k)}
            for qid, text in queries.items()
        }


def check_k(k: int, available: int) -> int:
    """Clamp k to what exists; a k below 1 is a caller's mistake worth naming."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    return min(k, available)
