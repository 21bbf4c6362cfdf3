"""Hybrid search: dense and lexical rankings fused, behind the same Retriever interface.

Two fusions are offered because which one wins is an empirical question on our data:
reciprocal rank fusion (robust, scale-free) and a blend of min-max normalised scores (keeps how
much better the best hit is). The default is whichever measured best (README, "Retrieval
quality"). Both rankings are searched a pool deep, so normalising sees more than the top k; a
filtered search goes deeper, because a small town's pool is otherwise its whole ranking.
"""

from __future__ import annotations

from collections.abc import Sequence

from retrieval.search.base import EVERYWHERE, Ranking, Retriever, Where, check_k
from retrieval.types import Hit, Passage

RRF_K = 60
POOL = 50
FILTERED_POOL = 2000
# Chosen by leave-towns-out cross-validation (`python -m evaluation crossval`: 0.7 in every fold).
HYBRID_SETTINGS: dict = {"fusion": "blend", "weight": 0.7}


class HybridRetriever(Retriever):
    name = "hybrid"

    def __init__(
        self, dense: Retriever, lexical: Retriever, fusion: str = "blend", weight: float = 0.5
    ) -> None:
        if fusion not in ("rrf", "blend"):
            raise ValueError(f"fusion must be 'rrf' or 'blend', got {fusion!r}")
        self.dense = dense
        self.lexical = lexical
        self.fusion = fusion
        self.weight = weight  # the dense share in a blend

    @property
    def passages(self) -> Sequence[Passage]:
        return self.dense.passages

    def index(self, passages: Sequence[Passage]) -> None:
        self.dense.index(passages)
        self.lexical.index(passages)

    def search(self, query: str, k: int = 5, where: Where = EVERYWHERE) -> list[Hit]:
        return self.explain(query, k, where).hits

    def explain(self, query: str, k: int = 5, where: Where = EVERYWHERE) -> Ranking:
        """The fused hits, and both rankings (with their own stages) a pool deep."""
        if not self.passages:
            return Ranking([], {})
        k = check_k(k, len(self.passages))
        pool = max(FILTERED_POOL if where else POOL, k)
        dense = self.dense.explain(query, pool, where)
        lexical = self.lexical.explain(query, pool, where)
        fused = fuse(dense.hits, lexical.hits, pool, self.fusion, self.weight)
        stages = {**dense.stages, **lexical.stages, self.name: fused}
        return Ranking(fused[:k], stages)


def fuse(
    dense: list[Hit], lexical: list[Hit], k: int, fusion: str = "blend", weight: float = 0.5
) -> list[Hit]:
    """Combine two rankings of the same passages into one, best first."""
    by_id: dict[str, Passage] = {h.passage.id: h.passage for h in dense + lexical}
    scores: dict[str, float] = dict.fromkeys(by_id, 0.0)
    if fusion == "rrf":
        for hits in (dense, lexical):
            for h in hits:
                scores[h.passage.id] += 1.0 / (RRF_K + h.rank)
    else:
        for hits, share in ((dense, weight), (lexical, 1.0 - weight)):
            for pid, s in _normalised(hits).items():
                scores[pid] += share * s
    order = sorted(scores, key=lambda pid: (-scores[pid], pid))[:k]
    return [Hit(passage=by_id[pid], score=scores[pid], rank=r) for r, pid in enumerate(order, 1)]


def _normalised(hits: list[Hit]) -> dict[str, float]:
    """Scores mapped to 0..1 within the pool; dense cosine and BM25 live on different scales."""
    if not hits:
        return {}
    top = max(h.score for h in hits)
    low = min(h.score for h in hits)
    span = top - low
    if span <= 0:
        return {h.passage.id: 1.0 for h in hits}
    return {h.passage.id: (h.score - low) / span for h in hits}

