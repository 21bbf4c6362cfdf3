"""Vectors of sentences and windows, encoded once and kept, so a warm app highlights without the
model. Shared read-only by every session; the cache is the only state and is locked."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np


class SentenceVectors:
    """Encodes sentences once and keeps them (LRU), so a warm app highlights without the model."""

    def __init__(self, encode: Callable[[list[str]], np.ndarray], size: int = 20000) -> None:
        self._encode = encode
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

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
