"""Which passages belong to which municipality, document and document type, found once per index.

At 100,000 passages a filter must cost nothing to set up per question, so positions are grouped
once (from the passages' raw lines where the index is loaded lazily) and each filter's allowed
positions are kept after their first use.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence

import numpy as np

from retrieval.indexing.passages import PassageLines
from retrieval.search.base import Where
from retrieval.types import Passage


class Facets:
    """Read-only after construction but for its caches, which are locked."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        self.passages = passages
        self._allowed: dict[Where, np.ndarray] = {}
        self._lock = threading.Lock()

    @functools.cached_property
    def towns(self) -> dict[str, tuple[str, np.ndarray]]:
        """casefolded municipality → (its name as written, its passages' positions)."""
        names = (self.passages.municipalities() if isinstance(self.passages, PassageLines)
                 else [p.municipality for p in self.passages])
        return {t: (name, np.asarray(at, dtype=np.int64))
                for t, (name, at) in _group(names).items()}

    @functools.cached_property
    def documents(self) -> dict[str, np.ndarray]:
        """document id → its passages' positions, in index order."""
        ids = (self.passages.heads()[1] if isinstance(self.passages, PassageLines)
               else [p.document_id for p in self.passages])
        return {d: np.asarray(at, dtype=np.int64)
                for d, (_, at) in _group(ids, fold=False).items()}

    @functools.cached_property
    def kinds(self) -> dict[str, tuple[str, np.ndarray]]:
        """casefolded document type → (as written, positions); one passage read per document."""
        names: dict[str, str] = {}
        parts: dict[str, list[np.ndarray]] = {}
        for at in self.documents.values():
            kind = self.passages[int(at[0])].kind
            names.setdefault(kind.casefold(), kind)
            parts.setdefault(kind.casefold(), []).append(at)
        return {k: (names[k], np.sort(np.concatenate(v))) for k, v in parts.items()}

    def allowed(self, where: Where) -> np.ndarray | None:
        """Sorted positions a search under ``where`` may return; None when it allows all."""
        if not where:
            return None
        with self._lock:
            found = self._allowed.get(where)
        if found is None:
            found = self._positions(where)
            with self._lock:
                if len(self._allowed) > 256:
                    self._allowed.clear()
                self._allowed[where] = found
        return found

    def _positions(self, where: Where) -> np.ndarray:
        empty = np.zeros(0, dtype=np.int64)
        sets = []
        if where.municipalities:
            sets.append(_union([self.towns[t][1] for t in where.municipalities
                                if t in self.towns]))
        if where.kinds:
            sets.append(_union([self.kinds[k][1] for k in where.kinds if k in self.kinds]))
        found = sets[0] if sets else empty
        for other in sets[1:]:
            found = np.intersect1d(found, other, assume_unique=True)
        return found


def _group(names: Sequence[str], fold: bool = True) -> dict[str, tuple[str, list[int]]]:
    found: dict[str, tuple[str, list[int]]] = {}
    for i, name in enumerate(names):
        found.setdefault(name.casefold() if fold else name, (name, []))[1].append(i)
    return found


def _union(parts: list[np.ndarray]) -> np.ndarray:
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
