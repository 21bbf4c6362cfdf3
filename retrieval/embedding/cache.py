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

from retrieval.text.chunking import split_sentences, windows
from retrieval.types import Passage


class SentenceSource(Protocol):
    """Anything that gives a passage's sentence vectors (rows: its sentences, normalised)."""

    def of(self, passage: Passage) -> np.ndarray: ...

    def windows(self, passage: Passage) -> np.ndarray:
        """Its windows' vectors (`chunking.windows`), for window rescoring."""
        ...


class EncodedSentences:
    """Encodes sentences once and keeps them (LRU); for in-memory retrievers with no index."""

    def __init__(self, encode: Callable[[list[str]], np.ndarray], size: int = 20000) -> None:
        self._encode = encode
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def of(self, passage: Passage) -> np.ndarray:
        return self(split_sentences(passage.text))

    def windows(self, passage: Passage) -> np.ndarray:
        return self(windows(passage))

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
