"""The FAISS side of the index: each vector's stable passage key, and the index inside the map.

Vectors live in an IndexIDMap2 keyed by a 63-bit hash of the passage id, so an update removes a
document's vectors by key and adds new ones without renumbering the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from retrieval.indexing.passages import PassageLines, keys_of
from retrieval.types import Passage


def vector_keys(id_map: Any) -> np.ndarray:
    """The passage key of each stored vector, in storage order (= passage order)."""
    import faiss

    return faiss.vector_to_array(id_map.id_map).astype(np.int64)


def passage_keys(passages: Sequence[Passage]) -> np.ndarray:
    """Every passage's `passage_key`, refusing two passages with one key."""
    if isinstance(passages, PassageLines):
        ids, keys = passages.heads()[0], passages.keys()
    else:
        ids = [p.id for p in passages]
        keys = keys_of(ids)
    if len(np.unique(keys)) != len(keys):
        seen: dict[int, str] = {}
        for i, k in zip(ids, keys.tolist(), strict=True):
            if k in seen and seen[k] != i:
                raise ValueError(f"passage ids {seen[k]!r} and {i!r} share a 63-bit key")
            seen[k] = i
        raise ValueError("a passage id occurs twice; document ids must be unique")
    return keys


def searchable(id_map: Any) -> Any:
    """The index inside an IndexIDMap2, kept alive by a reference to its owner."""
    import faiss

    inner: Any = faiss.downcast_index(id_map.index)
    inner.referenced_objects = [id_map]  # id_map owns inner's memory: keep it while inner lives
    return inner


def index_kind(inner: Any) -> str:
    """'flat' or 'hnsw': the names indexing.py chooses between and manifests record."""
    name = type(inner).__name__
    if name.startswith("IndexHNSW"):
        return "hnsw"
    if name.startswith("IndexFlat"):
        return "flat"
    return name
