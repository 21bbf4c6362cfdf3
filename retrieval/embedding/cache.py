"""Sentence vectors of a passage, in `split_sentences` order: what highlighting and window
rescoring compare the question with.

The product reads them from the index (`retrieval/indexing/sentences.py`, made at build time),
so answering encodes nothing but the question. `EncodedSentences` makes them on demand instead,
for retrievers indexed in memory (BEIR evaluation) where there is no index folder.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from retrieval.text.chunking import header, split_sentences
from retrieval.types import Passage


class SentenceSource(Protocol):
    """Anything that gives a passage's sentence vectors (rows: its sentences, normalised)."""

    def of(self, passage: Passage) -> np.ndarray: ...

    def header(self, passage: Passage) -> np.ndarray:
        """The vector of the passage's header (`chunking.header`), for window vectors."""
        ...


def window_vectors(sentences: np.ndarray, size: int, header: np.ndarray | None = None,
                   header_weight: float = 0.0) -> np.ndarray:
    """Each window of `size` consecutive sentences as the normalised mean of their vectors plus
    `header_weight` × the header's (one window of everything when there are fewer): a few
    additions per window instead of a forward pass, measured against encoded windows (with the
    header, as they were) in docs/benchmarks.md."""
    n = len(sentences)
    if n == 0:
        return sentences
    size = min(size, n)
    sums = np.cumsum(np.vstack([np.zeros((1, sentences.shape[1]), np.float32),
                                sentences.astype(np.float32)]), axis=0)
    means = (sums[size:] - sums[:-size]) / size
    if header is not None and header_weight:
        means = means + header_weight * header.astype(np.float32)
    norms = np.linalg.norm(means, axis=1, keepdims=True)
    return means / np.maximum(norms, 1e-12)


class EncodedSentences:
    """Encodes sentences once and keeps them (LRU); for in-memory retrievers with no index."""

    def __init__(self, encode: Callable[[list[str]], np.ndarray], size: int = 20000) -> None:
        self._encode = encode
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def of(self, passage: Passage) -> np.ndarray:
        return self(split_sentences(passage.text))

    def header(self, passage: Passage) -> np.ndarray:
        return self([header(passage)])[0]

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            vectors = self._encode(missing)
            with self._lock:
                for t, v in zip(missing, vectors, strict=True):
                    self._cache[t] = v
                while len(self._cache) > self._size:
                    self._cache.popitem(last=False)
        with self._lock:
            for t in texts:
                self._cache.move_to_end(t)
            return np.stack([self._cache[t] for t in texts])
