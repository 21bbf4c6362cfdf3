"""Dense search whose best candidates are rescored by their best few-sentence window.

A passage vector averages everything the passage says; a question usually asks about one or two
sentences of it. Scoring the top candidates by their best window of consecutive sentences
(with the document header, as the passage vectors have it) as well as by the whole passage
lifted hit@1 on both our question sets (README, "Retrieval quality"). Window vectors are made on
demand for the few candidates and kept in a cache, so a warm app pays nothing.

`WindowedDense` is the dense retriever the product answers with, and so the one evaluated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from retrieval.embedding.cache import SentenceVectors
from retrieval.search.base import EVERYWHERE, Ranking, Retriever, Where
from retrieval.search.dense import DenseRetriever
from retrieval.text.chunking import embed_text, split_sentences
from retrieval.types import Hit, Passage

WINDOW = 3  # sentences per window
PASSAGE_SHARE = 0.5  # the whole passage's weight against its best window
CANDIDATES = 10


def windows(passage: Passage, size: int = WINDOW) -> list[str]:
    header = embed_text(passage).split("\n", 1)[0] if passage.title else ""
    parts = split_sentences(passage.text)
    spans = [" ".join(parts[i : i + size]) for i in range(max(1, len(parts) - size + 1))]
    return [f"{header}\n{s}" if header else s for s in spans]


class WindowRescorer:
    """Shared read-only by all sessions; the vector cache is the only state and is locked."""

    def __init__(self, vectors: SentenceVectors, candidates: int = CANDIDATES,
                 share: float = PASSAGE_SHARE) -> None:
        self.vectors = vectors
        self.candidates = candidates
        self.share = share

    def rescore(self, query_vector: np.ndarray, hits: Sequence[Hit]) -> list[Hit]:
        """The same hits, the first `candidates` rescored, re-sorted, ranks renumbered."""
        head = list(hits[: self.candidates])
        if not head:
            return list(hits)
        texts = [windows(h.passage) for h in head]
        flat = [t for ts in texts for t in ts]
        sims = self.vectors(flat) @ query_vector
        scored, at = [], 0
        for h, ts in zip(head, texts, strict=True):
            best = float(sims[at : at + len(ts)].max())
            at += len(ts)
            scored.append(replace(h, score=self.share * h.score + (1 - self.share) * best))
        # Candidates beyond the first few keep their passage score, as if window == passage.
        rest = list(hits[self.candidates :])
        ordered = sorted(scored, key=lambda h: -h.score) + rest
        return [replace(h, rank=r) for r, h in enumerate(ordered, 1)]


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
