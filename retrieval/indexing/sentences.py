"""Every passage's sentence vectors, made when the index is built and stored beside it.

Highlighting and window rescoring compare the question with single sentences and with windows
of three; encoding those at question time cost 1.5-3 s for a question whose passages the process
had not met (issue 16). They are encoded at build time instead, each sentence on its own with
the passage prompt (better highlights than pooling them from the passage's own forward pass:
37 against 34 of 54 held the answer, issue 16), duplicates (the chunker's one-sentence overlap)
encoded once. Each passage's rows start with its header ("municipality, committee: title",
one encoding per document), which window vectors need (retrieval/search/windows.py). Stored as
float16, memory-mapped when serving:

  sentences.npy        (headers + sentences, dimension) float16, passage by passage
  sentence_starts.npy  (passages + 1,) int64: passage i's rows are starts[i]:starts[i+1],
                       its header first
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.text.chunking import header, split_sentences
from retrieval.types import Passage

VECTORS_FILE = "sentences.npy"
STARTS_FILE = "sentence_starts.npy"
FILES = (VECTORS_FILE, STARTS_FILE)


class SentenceArrays:
    """Sentence vectors with their passage boundaries; memory-mapped when read from an index."""

    def __init__(self, vectors: np.ndarray, starts: np.ndarray) -> None:
        self.vectors = vectors
        self.starts = starts

    @classmethod
    def encode(cls, embedder: Any, passages: Sequence[Passage],
               show_progress: bool = False) -> SentenceArrays:
        """Encode every passage's sentences, each distinct sentence once."""
        parts = [[header(p), *split_sentences(p.text)] for p in passages]
        counts = np.array([len(s) for s in parts], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        flat = [s for ss in parts for s in ss]
        unique = list(dict.fromkeys(flat))
        dim = embedder.dim
        if unique:
            encoded = embedder.encode_passages(unique, show_progress=show_progress)
            row = {t: i for i, t in enumerate(unique)}
            vectors = encoded[[row[t] for t in flat]].astype(np.float16)
        else:
            vectors = np.zeros((0, dim), np.float16)
        return cls(vectors, starts)

    @classmethod
    def read(cls, folder: Path) -> SentenceArrays:
        """Memory-mapped: 100,000 passages hold ~700,000 sentences (~0.5 GB) read on demand."""
        vectors = np.load(folder / VECTORS_FILE, mmap_mode="r", allow_pickle=False)
        starts = np.load(folder / STARTS_FILE, allow_pickle=False)
        return cls(vectors, starts)

    def problem(self, passages: int, dim: int) -> str | None:
        """Why these arrays cannot belong to an index of `passages` vectors of `dim`, if so."""
        s = self.starts
        if self.vectors.dtype != np.float16 or self.vectors.ndim != 2:
            return f"sentence vectors are {self.vectors.dtype} of {self.vectors.ndim} dimensions"
        if self.vectors.shape[1] != dim:
            return f"sentence vectors have dimension {self.vectors.shape[1]}, passages {dim}"
        if s.ndim != 1 or len(s) != passages + 1 or s[0] != 0 or s[-1] != len(self.vectors):
            return (f"sentence boundaries for {len(s) - 1} passages and {s[-1] if len(s) else 0} "
                    f"sentences, the index has {passages} passages, {len(self.vectors)} sentences")
        if np.any(np.diff(s) < 1):
            return "a passage has no header row in the sentence vectors"
        return None

    def save(self, folder: Path) -> None:
        np.save(folder / VECTORS_FILE, np.ascontiguousarray(self.vectors, dtype=np.float16))
        np.save(folder / STARTS_FILE, self.starts.astype(np.int64))

    def rows(self, i: int) -> np.ndarray:
        return np.asarray(self.vectors[self.starts[i]:self.starts[i + 1]], dtype=np.float32)

    def taken(self, keep: np.ndarray) -> SentenceArrays:
        """The kept passages' sentences, in order (an update's removals)."""
        counts = np.diff(self.starts)
        rows = np.repeat(keep, counts)
        vectors = np.asarray(self.vectors)[rows] if not keep.all() else np.asarray(self.vectors)
        starts = np.concatenate([[0], np.cumsum(counts[keep])]).astype(np.int64)
        return SentenceArrays(vectors, starts)

    def __add__(self, other: SentenceArrays) -> SentenceArrays:
        starts = np.concatenate([self.starts, self.starts[-1] + other.starts[1:]])
        return SentenceArrays(np.concatenate([np.asarray(self.vectors), other.vectors]), starts)


class StoredSentences:
    """A loaded index's sentence vectors by passage id, read from the memory map: no model."""

    def __init__(self, arrays: SentenceArrays, ids: Sequence[str]) -> None:
        self.arrays = arrays
        self._row = {pid: i for i, pid in enumerate(ids)}

    def _rows(self, passage: Passage) -> np.ndarray:
        i = self._row.get(passage.id)
        if i is None:
            raise KeyError(f"passage {passage.id!r} is not in the index's sentence vectors")
        return self.arrays.rows(i)

    def of(self, passage: Passage) -> np.ndarray:
        return self._rows(passage)[1:]

    def header(self, passage: Passage) -> np.ndarray:
        return self._rows(passage)[0]
