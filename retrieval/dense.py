"""Dense retrieval: e5 vectors in a FAISS inner-product index (vectors are L2-normalised)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from retrieval.base import Retriever, check_k
from retrieval.chunking import embed_text
from retrieval.types import Hit, Passage

if TYPE_CHECKING:
    from retrieval.embedding import Embedder


def flat_index(vectors: np.ndarray) -> Any:
    """Exact search: at the embedded corpus's size nothing approximate is worth its recall loss."""
    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


class DenseRetriever(Retriever):
    name = "dense"

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._passages: list[Passage] = []
        self.faiss_index: Any = None
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def passages(self) -> Sequence[Passage]:
        return self._passages

    def index(self, passages: Sequence[Passage], show_progress: bool = False) -> None:
        vectors = self.embedder.encode_passages(
            [embed_text(p) for p in passages], show_progress=show_progress
        )
        self.attach(passages, flat_index(vectors))

    def attach(self, passages: Sequence[Passage], faiss_index: Any) -> None:
        """Use vectors that were computed before (loaded from index/), checking they line up."""
        if faiss_index.ntotal != len(passages):
            raise ValueError(
                f"the FAISS index holds {faiss_index.ntotal} vectors but there are "
                f"{len(passages)} passages: run `python -m retrieval build`"
            )
        self._passages = list(passages)
        self.faiss_index = faiss_index

    def query_vector(self, query: str) -> np.ndarray:
        """Encode once per question even when hybrid search and highlighting both need it."""
        with self._lock:
            vector = self._recent.get(query)
        if vector is None:
            vector = self.embedder.encode_queries([query])[0]
            with self._lock:
                self._recent[query] = vector
                while len(self._recent) > 256:
                    self._recent.popitem(last=False)
        return vector

    def search(self, query: str, k: int = 5) -> list[Hit]:
        return self.search_vector(self.query_vector(query), k)

    def search_vector(self, vector: np.ndarray, k: int = 5) -> list[Hit]:
        """Search with an already encoded query, so a caller that needs the vector encodes once."""
        if not self._passages:
            return []
        k = check_k(k, len(self._passages))
        scores, ids = self.faiss_index.search(vector.reshape(1, -1).astype(np.float32), k)
        return [
            Hit(passage=self._passages[i], score=float(s), rank=r)
            for r, (s, i) in enumerate(zip(scores[0], ids[0], strict=True), 1)
            if i >= 0
        ]
