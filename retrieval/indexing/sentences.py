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
import re
import weakref
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.indexing.folder import linked, merged_tail
from retrieval.text.chunking import split_sentences, windows
from retrieval.types import Passage

KINDS = ("sentence", "window")
FILES = ("sentences.npy", "sentence_starts.npy", "windows.npy", "window_starts.npy")
_SEGMENT = re.compile(r"^(sentence|window)s(?:-(\d+))?\.npy$")
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


@dataclass(frozen=True)
class Segment:
    """One file's rows (or rows not yet written). A segment read from an index keeps its file
    and checksum: an update that only appends links that file into the new index instead of
    copying and checksumming it again (at 100,000 passages the two arrays are 850 MB)."""

    rows: np.ndarray  # memory-mapped when read from a file
    file: Path | None = None
    digest: str | None = None
    reader: RowReader | None = None


class Ragged:
    """Vectors grouped by passage: passage i's rows are rows starts[i]:starts[i+1] of the
    segments laid end to end. A passage's rows are never split between two segments."""

    def __init__(self, segments: Sequence[Segment], starts: np.ndarray) -> None:
        self.segments = [s for s in segments if len(s.rows)] or list(segments[:1])
        self.starts = starts
        self._bounds = np.cumsum([0] + [len(s.rows) for s in self.segments])

    @classmethod
    def of(cls, vectors: np.ndarray, starts: np.ndarray) -> Ragged:
        return cls([Segment(vectors)], starts)

    @property
    def vectors(self) -> np.ndarray:
        """Every row in one array (a copy when there are several segments)."""
        if len(self.segments) == 1:
            return self.segments[0].rows
        return np.concatenate([np.asarray(s.rows) for s in self.segments])

    @classmethod
    def encode(cls, embedder: Any, groups: Sequence[Sequence[str]],
               show_progress: bool = False) -> Ragged:
        counts = np.array([len(g) for g in groups], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        flat = [t for g in groups for t in g]
        unique = list(dict.fromkeys(flat))
        if not unique:
            return cls.of(np.zeros((0, embedder.dim), np.float16), starts)
        encoded = embedder.encode_passages(unique, show_progress=show_progress)
        row = {t: i for i, t in enumerate(unique)}
        return cls.of(encoded[[row[t] for t in flat]].astype(np.float16), starts)

    def problem(self, name: str, passages: int, dim: int) -> str | None:
        s, total = self.starts, int(self._bounds[-1])
        for v in (seg.rows for seg in self.segments):
            if v.dtype != np.float16 or v.ndim != 2 or v.shape[1] != dim:
                return (f"{name} vectors are {v.dtype} of shape {v.shape}, "
                        f"expected (n, {dim}) float16")
        if s.ndim != 1 or len(s) != passages + 1 or s[0] != 0 or s[-1] != total:
            return (f"{name} boundaries for {len(s) - 1} passages and {s[-1] if len(s) else 0} "
                    f"rows; the index has {passages} passages and {total} {name} rows")
        if np.any(np.diff(s) < 1):
            return f"a passage has no {name} vectors"
        if not np.isin(self._bounds, s).all():
            return f"a passage's {name} rows are split between two files"
        return None

    def rows(self, i: int) -> np.ndarray:
        start, stop = int(self.starts[i]), int(self.starts[i + 1])
        at = int(np.searchsorted(self._bounds, start, side="right")) - 1
        seg, first = self.segments[at], int(self._bounds[at])
        if seg.reader is not None:
            return seg.reader.rows(start - first, stop - first).astype(np.float32)
        return np.asarray(seg.rows[start - first:stop - first], dtype=np.float32)

    def taken(self, keep: np.ndarray) -> Ragged:
        if keep.all():
            return self  # the files stay as they are
        counts = np.diff(self.starts)
        return Ragged.of(np.asarray(self.vectors)[np.repeat(keep, counts)],
                         np.concatenate([[0], np.cumsum(counts[keep])]).astype(np.int64))

    def __add__(self, other: Ragged) -> Ragged:
        starts = np.concatenate([self.starts, self.starts[-1] + other.starts[1:]])
        return Ragged([*self.segments, *other.segments], starts)

    def merged(self) -> Ragged:
        """Trailing segments merged by doubling (`folder.merged_tail`)."""
        segs = merged_tail(self.segments, lambda s: len(s.rows), lambda a, b: Segment(
            np.concatenate([np.asarray(a.rows), b.rows])))
        return Ragged(segs, self.starts)


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
    def read(cls, folder: Path, names: Collection[str] = FILES) -> SentenceArrays:
        """Memory-mapped (what updates copy from) and read by row (what answers use): at 100,000
        passages these are the largest files of the index. ``names`` are the index's files
        (its manifest's, with their checksums when given as a mapping)."""
        digests = names if isinstance(names, Mapping) else {}
        parts = {}
        for k in KINDS:
            found = [(m[2], n) for n in names if (m := _SEGMENT.match(n)) and m[1] == k]
            files = [n for _, n in sorted((int(j or 0), n) for j, n in found)]
            if files != [segment_name(k, j) for j in range(len(files))]:
                raise ValueError(f"{k} files {files} are not numbered 0, 1, 2, ...")
            segments = [Segment(np.load(folder / n, mmap_mode="r", allow_pickle=False),
                                folder / n, digests.get(n), RowReader(folder / n))
                        for n in files or [segment_name(k, 0)]]
            parts[k] = Ragged(segments, np.load(folder / f"{k}_starts.npy", allow_pickle=False))
        return cls(parts)

    def save(self, folder: Path) -> dict[str, str | None]:
        """Write (or link) every file; returns name → checksum for the files linked from the
        index they were read from, None for those written (to be checksummed)."""
        out: dict[str, str | None] = {}
        for k, r in self.parts.items():
            for j, seg in enumerate(r.merged().segments):
                name = segment_name(k, j)
                out[name] = linked(seg.file, seg.digest, folder / name)
                if out[name] is None:
                    np.save(folder / name, np.ascontiguousarray(seg.rows, dtype=np.float16))
            np.save(folder / f"{k}_starts.npy", r.starts.astype(np.int64))
            out[f"{k}_starts.npy"] = None
        return out

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


def segment_name(kind: str, j: int) -> str:
    return f"{kind}s.npy" if j == 0 else f"{kind}s-{j}.npy"


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
