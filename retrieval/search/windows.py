"""Dense search whose best candidates are rescored by their best few-sentence window.

A passage vector averages everything the passage says; a question usually asks about one or two
sentences of it. Scoring the top candidates by their best window of consecutive sentences
(with the document header, as the passage vectors have it) as well as by the whole passage
lifted hit@1 on both our question sets (README, "Retrieval quality"). The windows' vectors are
stored in the index at build time (retrieval/indexing/sentences.py; `chunking.windows` makes
their texts): rescoring reads arrays and encodes nothing.

`WindowedDense` is the dense retriever the product answers with, and so the one evaluated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from retrieval.embedding.cache import SentenceSource
from retrieval.search.base import EVERYWHERE, Ranking, Retriever, Where
from retrieval.search.dense import DenseRetriever
from retrieval.types import Hit, Passage

WINDOW = 3  # sentences per window (chunking.windows; the stored window vectors use it)
PASSAGE_SHARE = 0.5  # the whole passage's weight against its best window
CANDIDATES = 10


class WindowRescorer:
    """Shared read-only by all sessions; the vector cache is the only state and is locked."""

    def __init__(self, vectors: SentenceSource, candidates: int = CANDIDATES,
                 share: float = PASSAGE_SHARE) -> None:
        self.vectors = vectors
        self.candidates = candidates
        self.share = share

    def rescore(self, query_vector: np.ndarray, hits: Sequence[Hit]) -> list[Hit]:
        """The same hits, the first `candidates` rescored, re-sorted, ranks renumbered."""
        head = list(hits[: self.candidates])
        if not head:
            return list(hits)
        scored = []
        for h in head:
            best = float((self.vectors.windows(h.passage) @ query_vector).max())
            scored.append(replace(h, score=self.share * h.score + (1 - self.share) * best))
        # Candidates beyond the first few keep their passage score, as if window == passage.
        rest = list(hits[self.candidates :])
        ordered = sorted(scored, key=lambda h: -h.score) + rest
        # Hit(...) rather than dataclasses.replace: ~2,000 hits deep for a town's question
        return [Hit(h.passage, h.score, r, h.highlight) for r, h in enumerate(ordered, 1)]


class WindowedDense(Retriever):
    """A `DenseRetriever` searched at least `candidates` deep, then rescored by windows."""

    name = "dense"

    def __init__(self, dense: DenseRetriever, rescorer: WindowRescorer) -> None:
        self.dense = dense
        self.rescorer = rescorer

    @property
    def passages(self) -> Sequence[Passage]:
        return self.dense.passages

    def index(self, passages: Sequence[Passage]) -> None:
        self.dense.index(passages)

    def search(self, query: str, k: int = 5, where: Where = EVERYWHERE) -> list[Hit]:
        return self.explain(query, k, where).hits

    def explain(self, query: str, k: int = 5, where: Where = EVERYWHERE) -> Ranking:
        """Also "dense_passages": the ranking by whole passages, whose cosines the abstention
        evidence reads (window scores are blends, not cosines)."""
        plain = self.dense.search(query, max(k, self.rescorer.candidates), where)
        rescored = self.rescorer.rescore(self.dense.query_vector(query), plain)
        return Ranking(rescored[:k], {"dense": rescored, "dense_passages": plain})
