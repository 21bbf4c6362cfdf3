"""Dense retrieval: e5 vectors in a FAISS inner-product index (vectors are L2-normalised)."""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from retrieval.indexing.ivf import IVF_EXACT_SHARE
from retrieval.indexing.passages import PassageLines
from retrieval.search.base import EVERYWHERE, Retriever, Where, check_k
from retrieval.search.facets import Facets
from retrieval.text.chunking import embed_text
from retrieval.types import Hit, Passage

if TYPE_CHECKING:
    from retrieval.embedding.model import Embedder

# Below this share of the corpus, a filtered HNSW search scores the allowed vectors exactly.
HNSW_EXACT_SHARE = 0.2


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
        self._passages: Sequence[Passage] = []
        self.facets = Facets(self._passages)
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
        # A PassageLines (loaded index) stays lazy: a passage is parsed when a search returns it.
        self._passages = passages if isinstance(passages, PassageLines) else list(passages)
        self.facets = Facets(self._passages)
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

    def recent_queries(self) -> list[str]:
        """The questions whose vectors are kept, oldest first: what was actually searched
        (the privacy tests check no personal number got this far)."""
        with self._lock:
            return list(self._recent)

    def forget_queries(self) -> None:
        """Drop the cached query vectors (an evaluation times each question's encoding)."""
        with self._lock:
            self._recent.clear()

    def search(self, query: str, k: int = 5, where: Where = EVERYWHERE) -> list[Hit]:
        return self.search_vector(self.query_vector(query), k, self.facets.allowed(where))

    def search_vector(self, vector: np.ndarray, k: int = 5, allowed: np.ndarray | None = None
                      ) -> list[Hit]:
        """Search with an already encoded query, so a caller that needs the vector encodes once.

        ``allowed`` (passage positions, e.g. one municipality's) filters inside the search, so
        the k best *allowed* passages come back however few of them the corpus has."""
        if not self._passages:
            return []
        query = vector.reshape(1, -1).astype(np.float32)
        if allowed is None:
            k = check_k(k, len(self._passages))
            scores, ids = self.faiss_index.search(query, k)
        else:
            if not len(allowed):
                return []
            k = check_k(k, len(allowed))
            scores, ids = filtered_search(self.faiss_index, query, k, allowed)
        return [
            Hit(passage=self._passages[i], score=float(s), rank=r)
            for r, (s, i) in enumerate(zip(scores[0].tolist(), ids[0].tolist(), strict=True), 1)
            if i >= 0
        ]


def filtered_search(index: Any, query: np.ndarray, k: int, allowed: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The k best of the ``allowed`` positions, by an ``IDSelector`` inside FAISS.

    A flat index scores only the allowed vectors. HNSW's graph walk finds few members of a
    small subset (one town of 98 at efSearch 256 yields a handful), so below HNSW_EXACT_SHARE
    of the corpus the allowed vectors are scored exactly in the flat storage under the graph;
    a large subset is searched through the graph, with efSearch raised to at least k. An IVF
    probing 64 of 4,000 lists would miss a small subset the same way, so below IVF_EXACT_SHARE
    it probes every list (only the allowed ids' vectors are scored: exact); a larger share s
    probes nprobe/s lists, which hold as many allowed vectors as an unfiltered search scans,
    and every list when those still held fewer than k."""
    import faiss

    # A bitmap of the corpus, not IDSelectorBatch's hash set: building that set for 250,000
    # allowed ids took ~100 ms per query at 1M (docs/scaling.md), the bitmap ~1 ms.
    mask = np.zeros(index.ntotal, dtype=bool)
    mask[allowed] = True
    bitmap = np.packbits(mask, bitorder="little")  # bit i % 8 of byte i // 8, as FAISS reads it
    selector = faiss.IDSelectorBitmap(len(bitmap), faiss.swig_ptr(bitmap))
    params: Any
    if isinstance(index, faiss.IndexIVF):
        params = faiss.SearchParametersIVF()
        share = len(allowed) / max(index.ntotal, 1)
        wide = math.ceil(index.nprobe / share)  # as many allowed candidates as unfiltered
        params.nprobe = index.nlist if share < IVF_EXACT_SHARE else min(index.nlist, wide)
    elif isinstance(index, faiss.IndexHNSW) and len(allowed) >= HNSW_EXACT_SHARE * index.ntotal:
        params = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]  # not in the stubs
        params.efSearch = max(index.hnsw.efSearch, k)
    else:
        params = faiss.SearchParameters()
        if isinstance(index, faiss.IndexHNSW):
            index = faiss.downcast_index(index.storage)
    params.sel = selector
    scores, ids = index.search(query, k, params=params)
    if isinstance(index, faiss.IndexIVF) and (ids < 0).any() and params.nprobe < index.nlist:
        params.nprobe = index.nlist  # the probed lists held fewer than k allowed: all of them
        scores, ids = index.search(query, k, params=params)
    return scores, ids
