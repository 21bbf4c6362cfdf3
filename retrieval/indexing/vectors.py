"""The FAISS side of the index: each vector's stable passage key, and the index inside the map.

Vectors live in an IndexIDMap2 keyed by a 63-bit hash of the passage id, so an update removes a
document's vectors by key and adds new ones without renumbering the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.indexing import ivf
from retrieval.indexing.folder import linked, merged_tail, numbered
from retrieval.indexing.passages import PassageLines, keys_of
from retrieval.types import Passage

# HNSW between build.FLAT_MAX and ivf.IVF_MIN passages; efSearch 512 measured recall@10 0.93
# against exact at 100,000 (0.88 at 256) for 1.8 ms (docs/benchmarks.md).
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 64
HNSW_EF_SEARCH = 512
INDEX_TYPES = ("flat", "hnsw", "ivf")


def new_index(kind: str, dim: int, trained: Any = None) -> Any:
    """An empty IndexIDMap2 (stable passage keys) over a flat or HNSW inner-product index, or
    over ``trained``, an IVF already trained (ivf.trained_ivf)."""
    import faiss

    inner: Any
    if kind == "flat":
        inner = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        inner = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        inner.hnsw.efSearch = HNSW_EF_SEARCH
    elif kind == "ivf" and trained is not None:
        inner = trained
    else:
        raise ValueError(f"index type must be one of {', '.join(INDEX_TYPES)}, got {kind!r}")
    id_map: Any = faiss.IndexIDMap2(inner)
    id_map.referenced_objects = [inner]  # the Python wrapper owns inner; keep it alive
    return id_map


def make_index(kind: str, keys: np.ndarray, vectors: np.ndarray, nlist: int | None = None,
               nprobe: int = ivf.NPROBE) -> Any:
    """The index of ``vectors`` under ``keys``; an IVF is trained on those very vectors."""
    trained = ivf.trained_ivf(vectors, nlist, nprobe) if kind == "ivf" else None
    id_map = new_index(kind, vectors.shape[1], trained)
    if len(keys):
        id_map.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), keys)
    return id_map


def all_vectors(id_map: Any) -> np.ndarray:
    inner = searchable(id_map)
    if inner.ntotal == 0:
        return np.zeros((0, id_map.d), np.float32)
    return np.asarray(inner.reconstruct_n(0, inner.ntotal), dtype=np.float32)


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
    """'flat', 'hnsw' or 'ivf': the names build.py chooses between and manifests record."""
    name = type(inner).__name__
    if name.startswith("IndexHNSW"):
        return "hnsw"
    if name.startswith("IndexIVF"):
        return "ivf"
    if name.startswith("IndexFlat"):
        return "flat"
    return name


@dataclass(frozen=True)
class VectorFile:
    """One FAISS file an index was read from: its rows, in order, are rows of the loaded map.
    A flat index that only grows keeps them as segments (index.faiss, index-1.faiss, ...):
    an update links them into the next index and writes only the new rows."""

    path: Path
    digest: str | None
    count: int


def _rows(part: VectorFile | int) -> int:
    return part.count if isinstance(part, VectorFile) else part


def read_vectors(folder: Path, names: Sequence[str], digests: Mapping[str, str]
                 ) -> tuple[Any, tuple[VectorFile, ...]]:
    """The segments read into one IndexIDMap2; ValueError names the file that is not one."""
    import faiss

    id_map: Any = None
    files = []
    for name in names:
        path = folder / name
        try:
            part = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise ValueError(f"{path} cannot be read ({exc})") from exc
        if not isinstance(part, faiss.IndexIDMap2):
            raise ValueError(f"{path} holds a {type(part).__name__}, not an IndexIDMap2")
        if id_map is None:
            id_map = part
        elif index_kind(searchable(id_map)) != "flat" or index_kind(searchable(part)) != "flat":
            raise ValueError(f"{path} is a segment of a {index_kind(searchable(id_map))} index; "
                             "only flat indexes have segments")
        else:
            id_map.add_with_ids(all_vectors(part), vector_keys(part))
        files.append(VectorFile(path, digests.get(name), int(part.ntotal)))
    return id_map, tuple(files)


def save_vectors(folder: Path, name: str, id_map: Any, files: Sequence[VectorFile] = ()
                 ) -> dict[str, str | None]:
    """Write ``name`` (and segments): ``files`` hold the map's first rows as they are (a flat
    index an update only added to), so they are linked and only the rows after them written;
    trailing segments merge while the last holds at least half the rows of the one before."""
    import faiss

    files = list(files) if index_kind(searchable(id_map)) == "flat" else []
    if sum(f.count for f in files) > id_map.ntotal:
        files = []
    new: int = id_map.ntotal - sum(f.count for f in files)  # rows after the files
    parts: list[VectorFile | int] = [*files, new]
    parts = merged_tail(parts, _rows, lambda a, b: _rows(a) + _rows(b))
    files, rest = [f for f in parts if isinstance(f, VectorFile)], _rows(parts[-1])
    out: dict[str, str | None] = {}
    for j, f in enumerate(files):
        out[numbered(name, j)] = linked(f.path, f.digest, folder / numbered(name, j))
        if out[numbered(name, j)] is None:  # no link possible: write everything as one
            for done in out:
                (folder / done).unlink()
            return save_vectors(folder, name, id_map)
    if not files:
        faiss.write_index(id_map, str(folder / name))
        return {name: None}
    first = id_map.ntotal - rest
    inner = searchable(id_map)
    part = make_index("flat", vector_keys(id_map)[first:],
                      np.asarray(inner.reconstruct_n(first, rest), np.float32))
    faiss.write_index(part, str(folder / numbered(name, len(files))))
    return {**out, numbered(name, len(files)): None}
