"""Every passage's sentence and window vectors, made when the index is built and stored beside it.

Highlighting compares the question with single sentences, window rescoring with windows of three
sentences under the document header; encoding those at question time cost 1.5-3 s for a question
whose passages the process had not met (issue 16). Both are encoded at build time instead, each
text on its own with the passage prompt, exactly as answers encoded them before, duplicates (the
chunker's one-sentence overlap) once. Windows made from their sentences' vectors (normalised
means, with or without the header's) were measured and lost 6-10 points of hit@1
(docs/benchmarks.md), so they are encoded. Stored as float16; answers read a passage's rows with
one pread (`RowReader`), updates memory-map the files:

  sentences.npy, sentence_starts.npy   passage i's sentences are rows starts[i]:starts[i+1]
  windows.npy, window_starts.npy       the same for its windows (`chunking.windows`)
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.text.chunking import split_sentences, windows
from retrieval.types import Passage

KINDS = ("sentence", "window")
FILES = ("sentences.npy", "sentence_starts.npy", "windows.npy", "window_starts.npy")
_TEXTS: dict[str, Callable[[Passage], list[str]]] = {
    "sentence": lambda p: split_sentences(p.text), "window": windows}


class RowReader:
    """Rows of a 2-D .npy file read with pread, not through a memory map: at 100,000 passages a
    serving process that read its candidates' rows from the maps held 800 MB of the two files
    after 476 questions (each page fault maps up to 64 KB around it); read this way the page
    cache keeps the files and the process only the rows it is using."""

    def __init__(self, path: Path) -> None:
        with path.open("rb") as f:
            version = np.lib.format.read_magic(f)
            header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                      else np.lib.format.read_array_header_2_0)
            shape, fortran, dtype = header(f)
            self.offset = f.tell()
        if fortran or len(shape) != 2:
            raise ValueError(f"{path}: expected a C-ordered 2-D array, got shape {shape}")
        self.dtype = np.dtype(dtype)
        self.width = int(shape[1]) * self.dtype.itemsize
        self._fd = os.open(path, os.O_RDONLY)
        weakref.finalize(self, os.close, self._fd)

    def rows(self, start: int, stop: int) -> np.ndarray:
        data = os.pread(self._fd, (stop - start) * self.width, self.offset + start * self.width)
        return np.frombuffer(data, self.dtype).reshape(stop - start, -1)


class Ragged:
    """Vectors grouped by passage: passage i's rows are vectors[starts[i]:starts[i+1]]."""

    def __init__(self, vectors: np.ndarray, starts: np.ndarray,
                 reader: RowReader | None = None) -> None:
        self.vectors = vectors
        self.starts = starts
        self.reader = reader  # set when read from a file: rows() then reads, not maps

    @classmethod
    def encode(cls, embedder: Any, groups: Sequence[Sequence[str]],
               show_progress: bool = False) -> Ragged:
        counts = np.array([len(g) for g in groups], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        flat = [t for g in groups for t in g]
        unique = list(dict.fromkeys(flat))
        if not unique:
            return cls(np.zeros((0, embedder.dim), np.float16), starts)
        encoded = embedder.encode_passages(unique, show_progress=show_progress)
        row = {t: i for i, t in enumerate(unique)}
        return cls(encoded[[row[t] for t in flat]].astype(np.float16), starts)

    def problem(self, name: str, passages: int, dim: int) -> str | None:
        s, v = self.starts, self.vectors
        if v.dtype != np.float16 or v.ndim != 2 or v.shape[1] != dim:
            return f"{name} vectors are {v.dtype} of shape {v.shape}, expected (n, {dim}) float16"
        if s.ndim != 1 or len(s) != passages + 1 or s[0] != 0 or s[-1] != len(v):
            return (f"{name} boundaries for {len(s) - 1} passages and {s[-1] if len(s) else 0} "
                    f"rows; the index has {passages} passages and {len(v)} {name} rows")
        if np.any(np.diff(s) < 1):
            return f"a passage has no {name} vectors"
        return None

    def rows(self, i: int) -> np.ndarray:
        start, stop = int(self.starts[i]), int(self.starts[i + 1])
        if self.reader is not None:
            return self.reader.rows(start, stop).astype(np.float32)
        return np.asarray(self.vectors[start:stop], dtype=np.float32)

    def taken(self, keep: np.ndarray) -> Ragged:
        counts = np.diff(self.starts)
        vectors = np.asarray(self.vectors)
        if not keep.all():
            vectors = vectors[np.repeat(keep, counts)]
        return Ragged(vectors, np.concatenate([[0], np.cumsum(counts[keep])]).astype(np.int64))

    def __add__(self, other: Ragged) -> Ragged:
        starts = np.concatenate([self.starts, self.starts[-1] + other.starts[1:]])
        return Ragged(np.concatenate([np.asarray(self.vectors), other.vectors]), starts)


class SentenceArrays:
    """The sentence and window vectors of an index's passages, in passage order."""

    def __init__(self, parts: dict[str, Ragged]) -> None:
        self.parts = parts

    @classmethod
    def encode(cls, embedder: Any, passages: Sequence[Passage],
               show_progress: bool = False) -> SentenceArrays:
        """Encode every passage's sentences and windows, each distinct text once."""
        return cls({k: Ragged.encode(embedder, [_TEXTS[k](p) for p in passages], show_progress)
                    for k in KINDS})

    @classmethod
    def read(cls, folder: Path) -> SentenceArrays:
        """Memory-mapped (what updates copy from) and read by row (what answers use): at 100,000
        passages these are the largest files of the index."""
        return cls({k: Ragged(np.load(folder / f"{k}s.npy", mmap_mode="r", allow_pickle=False),
                              np.load(folder / f"{k}_starts.npy", allow_pickle=False),
                              RowReader(folder / f"{k}s.npy"))
                    for k in KINDS})

    def save(self, folder: Path) -> None:
        for k, r in self.parts.items():
            np.save(folder / f"{k}s.npy", np.ascontiguousarray(r.vectors, dtype=np.float16))
            np.save(folder / f"{k}_starts.npy", r.starts.astype(np.int64))

    def problem(self, passages: int, dim: int) -> str | None:
        """Why these arrays cannot belong to an index of `passages` vectors of `dim`, if so."""
        for k, r in self.parts.items():
            if (why := r.problem(k, passages, dim)) is not None:
                return why
        return None

    def taken(self, keep: np.ndarray) -> SentenceArrays:
        """The kept passages' rows, in order (an update's removals)."""
        return SentenceArrays({k: r.taken(keep) for k, r in self.parts.items()})

    def __add__(self, other: SentenceArrays) -> SentenceArrays:
        return SentenceArrays({k: r + other.parts[k] for k, r in self.parts.items()})


class StoredSentences:
    """A loaded index's sentence and window vectors by passage id, from the memory maps: no
    model at question time."""

    def __init__(self, arrays: SentenceArrays, ids: Sequence[str]) -> None:
        self.arrays = arrays
        self._row = {pid: i for i, pid in enumerate(ids)}

    def _at(self, passage: Passage) -> int:
        i = self._row.get(passage.id)
        if i is None:
            raise KeyError(f"passage {passage.id!r} is not in the index's sentence vectors")
        return i

    def of(self, passage: Passage) -> np.ndarray:
        return self.arrays.parts["sentence"].rows(self._at(passage))

    def windows(self, passage: Passage) -> np.ndarray:
        return self.arrays.parts["window"].rows(self._at(passage))
