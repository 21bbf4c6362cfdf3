"""The index on disk: a folder of named files, written atomically and checked on load.

index/
  index.faiss      the vectors: a FAISS IndexIDMap2 (stable 64-bit key per passage) over an
                   exact flat or an HNSW index, in passage order
  passages.jsonl   one passage per line, in vector order
  bm25/            the lexical index (retrieval/lexical_index.py)
  manifest.json    model, dimension, index type, corpus hash, per-document hashes, format
                   version, each file's size and SHA-256 (loading checks every size and the
                   checksums of small files; `damaged_files(full=True)` checks them all)

Every write goes to a temporary sibling folder that is swapped in with two renames; if the
process dies between them, the next read restores `<folder>.old`. So an interrupted build or
update always leaves the previous index loadable, and a half-written or mismatched index never
serves citations: every check names the fix.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.indexing.passages import (  # noqa: F401  (passage_key: imported from here too)
    BadPassageLine,
    PassageLines,
    as_lines,
    keys_of,
    passage_key,
)
from retrieval.types import Passage

FORMAT_VERSION = 2
FAISS_FILE = "index.faiss"
PASSAGES_FILE = "passages.jsonl"
MANIFEST_FILE = "manifest.json"
BM25_DIR = "bm25"
REBUILD = "python -m retrieval build"
UPDATE = "python -m retrieval update"
LOCK_TIMEOUT_S = 600
# Files up to this size are checksummed at every load; larger ones (vectors, passages, BM25
# arrays: hundreds of MB at 100,000 passages) are checked by size and structure there, and by
# checksum in `python -m retrieval list` (`damaged_files`).
QUICK_CHECKSUM_MAX = 8 << 20


class IndexUnusable(RuntimeError):
    """The index folder cannot be used as it is; the message says what to run."""


@dataclass(frozen=True)
class StoredIndex:
    manifest: dict[str, Any]
    passages: PassageLines  # parsed line by line when used (retrieval/passage_store.py)
    id_map: Any  # faiss.IndexIDMap2: passage keys → vectors; what updates add to and remove from
    lexical: Any  # retrieval.indexing.lexical_index.LexicalIndex

    @property
    def faiss_index(self) -> Any:
        """The index searched: its result numbers are positions in ``passages``."""
        return searchable(self.id_map)

    @property
    def keys(self) -> np.ndarray:
        return vector_keys(self.id_map)


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


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _sealed(path: Path) -> str:
    """The file's sha256, once it is synced to disk. Hashing and syncing both run without
    the GIL, so `save_index` seals its files side by side: one file's checksum is computed
    while another's pages are written out."""
    digest = _sha256(path)
    with path.open("rb") as f:
        os.fsync(f.fileno())
    return digest


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sporg-socialudvalget")
    except PackageNotFoundError:
        return "0+local"


@contextlib.contextmanager
def writing(folder: Path | str) -> Iterator[None]:
    """One writer per index folder; leftovers of a writer that was killed are cleared first."""
    from filelock import FileLock, Timeout

    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    # In the temp folder, so that no lock file shows up next to index/ in a work tree.
    key = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    lock = Path(tempfile.gettempdir()) / f"sporg-index-{key}.lock"
    try:
        with FileLock(str(lock), timeout=LOCK_TIMEOUT_S):
            _recover(folder)
            for stale in folder.parent.glob(f".{folder.name}-tmp-*"):
                shutil.rmtree(stale, ignore_errors=True)
            yield
    except Timeout:
        raise TimeoutError(
            f"another process has been writing {folder}/ for {LOCK_TIMEOUT_S} s (lock {lock}); "
            "wait for it or stop it, then retry"
        ) from None


def save_index(
    folder: Path | str,
    passages: Sequence[Passage],
    id_map: Any,
    lexical: Any,
    model_id: str,
    corpus_hash: str,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write into a temporary sibling folder, then swap it in with renames.

    Passages given as `PassageLines` are written as the lines they were read as, so an update
    does not parse or serialise 100,000 unchanged passages again.

    If the process dies between the two renames, `read_manifest` finds `<folder>.old` and
    restores it, so an interrupted build always leaves the previous index loadable.
    """
    import faiss

    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    passages = as_lines(passages)
    keys = passage_keys(passages)
    stored_keys = vector_keys(id_map)
    if not np.array_equal(keys, stored_keys):
        raise ValueError("the vectors' keys are not the passages' keys in passage order")
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-tmp-", dir=folder.parent))
    try:
        faiss.write_index(id_map, str(tmp / FAISS_FILE))
        with (tmp / PASSAGES_FILE).open("wb") as f:
            passages.write_to(f)
        lexical.save(tmp / BM25_DIR)
        lexical_files = sorted(f"{BM25_DIR}/{p.name}" for p in (tmp / BM25_DIR).iterdir())
        names = [FAISS_FILE, PASSAGES_FILE, *lexical_files]
        with ThreadPoolExecutor(max_workers=3) as pool:  # every file synced before the swap
            digests = dict(zip(names, pool.map(lambda name: _sealed(tmp / name), names),
                               strict=True))
        inner = faiss.downcast_index(id_map.index)
        manifest = {
            "format_version": FORMAT_VERSION,
            "model": model_id,
            "dimension": int(id_map.d),
            "prompts": {"query": "query: ", "passage": "passage: "},
            "index_type": index_kind(inner),
            "faiss_class": f"IndexIDMap2({type(inner).__name__})",
            "corpus_hash": corpus_hash,
            "passages": len(passages),
            "documents": len(set(passages.heads()[1])),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "package_version": package_version(),
            "bm25": lexical.retriever.params,
            "files": digests,
            "sizes": {name: (tmp / name).stat().st_size for name in names},
            **(extra or {}),
        }
        (tmp / MANIFEST_FILE).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        with (tmp / MANIFEST_FILE).open("rb") as f:
            os.fsync(f.fileno())
        old = folder.with_name(folder.name + ".old")
        if old.exists():
            shutil.rmtree(old)
        if folder.exists():
            os.replace(folder, old)
        os.replace(tmp, folder)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def index_kind(inner: Any) -> str:
    """'flat' or 'hnsw': the names indexing.py chooses between and manifests record."""
    name = type(inner).__name__
    if name.startswith("IndexHNSW"):
        return "hnsw"
    if name.startswith("IndexFlat"):
        return "flat"
    return name


def _recover(folder: Path) -> None:
    old = folder.with_name(folder.name + ".old")
    if not folder.exists() and old.is_dir():
        print(f"Restoring {old} left by an interrupted build", file=sys.stderr)
        os.replace(old, folder)


def read_manifest(folder: Path | str) -> dict[str, Any]:
    folder = Path(folder)
    _recover(folder)
    if not folder.is_dir():
        raise IndexUnusable(f"no index at {folder}/: run `{REBUILD}` to build it")
    path = folder / MANIFEST_FILE
    if not path.is_file():
        raise IndexUnusable(f"{path} is missing, so {folder}/ is incomplete: run `{REBUILD}`")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IndexUnusable(f"{path} is not valid JSON ({exc}): run `{REBUILD}`") from exc
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexUnusable(
            f"{folder}/ has format version {manifest.get('format_version')!r}, this program "
            f"reads version {FORMAT_VERSION}: run `{REBUILD}`"
        )
    return manifest


def damaged_files(folder: Path | str, manifest: dict[str, Any], full: bool = True,
                  for_update: bool = True) -> list[str]:
    """Names of the manifest's files that are not as written; raises if one is missing.

    ``full`` checksums every file; otherwise a file is checked by its size, and by checksum
    only when small (QUICK_CHECKSUM_MAX) or when the manifest has no sizes. A truncated or
    extended file is caught either way; a byte changed in place inside a large file is caught
    by the full check (`list`) or, for passages and vector keys, by the consistency checks of
    `load_index`."""
    from retrieval.indexing.lexical_index import COUNTS_FILE

    folder = Path(folder)
    sizes = manifest.get("sizes", {})
    damaged = []
    for name, digest in manifest.get("files", {}).items():
        path = folder / name
        if not path.is_file():
            raise IndexUnusable(f"{path} is missing: run `{REBUILD}`")
        if name.endswith(COUNTS_FILE) and not for_update:
            continue  # only updates read it; a damaged copy is caught then
        size = sizes.get(name)
        resized = size is not None and path.stat().st_size != size
        summed = full or size is None or size <= QUICK_CHECKSUM_MAX
        if resized or (summed and _sha256(path) != digest):
            damaged.append(name)
    return damaged


def load_index(
    folder: Path | str,
    model_id: str | None = None,
    corpus_hash: str | None = None,
    for_update: bool = False,
) -> StoredIndex:
    """Load and verify; with model_id/corpus_hash given, refuse an index built from others.

    ``for_update`` also loads the word counts an update of the lexical index needs."""
    import faiss

    from retrieval.indexing.lexical_index import LexicalIndex

    folder = Path(folder)
    manifest = read_manifest(folder)
    if model_id is not None and manifest.get("model") != model_id:
        raise IndexUnusable(
            f"{folder}/ was built with model {manifest.get('model')!r}, you asked for "
            f"{model_id!r}: run `{REBUILD}` (with --model if you use another model)"
        )
    if corpus_hash is not None and manifest.get("corpus_hash") != corpus_hash:
        raise IndexUnusable(
            f"{folder}/ was built from another version of the corpus (hash "
            f"{manifest.get('corpus_hash')}, corpus now {corpus_hash}): run `{UPDATE}` to "
            f"embed only what changed, or `{REBUILD}`"
        )
    for name in damaged_files(folder, manifest, full=False, for_update=for_update):
        raise IndexUnusable(
            f"{folder / name} is damaged or was changed after the build: run `{REBUILD}`"
        )
    try:
        id_map = faiss.read_index(str(folder / FAISS_FILE))
    except RuntimeError as exc:
        raise IndexUnusable(
            f"{folder / FAISS_FILE} cannot be read ({exc}): run `{REBUILD}`"
        ) from exc
    if not isinstance(id_map, faiss.IndexIDMap2):
        raise IndexUnusable(
            f"{folder / FAISS_FILE} holds a {type(id_map).__name__}, not an IndexIDMap2: "
            f"run `{REBUILD}`"
        )
    passages = PassageLines.read(folder / PASSAGES_FILE, towns=not for_update)
    if id_map.ntotal != len(passages) or manifest.get("passages") != len(passages):
        raise IndexUnusable(
            f"{folder}/ is out of step: {id_map.ntotal} vectors, {len(passages)} passages, "
            f"manifest says {manifest.get('passages')}: run `{REBUILD}`"
        )
    if id_map.d != manifest.get("dimension"):
        raise IndexUnusable(
            f"{folder}/ vectors have dimension {id_map.d}, manifest says "
            f"{manifest.get('dimension')}: run `{REBUILD}`"
        )
    keys = vector_keys(id_map)
    try:
        expected = passage_keys(passages)
    except BadPassageLine as exc:
        raise IndexUnusable(f"{folder / PASSAGES_FILE}: {exc}") from exc
    if not np.array_equal(keys, expected):
        raise IndexUnusable(
            f"{folder}/ is out of step: the vectors' keys are not those of passages.jsonl: "
            f"run `{REBUILD}`"
        )
    try:
        lexical = LexicalIndex.load(folder / BM25_DIR, passages, with_counts=for_update)
    except (OSError, ValueError, KeyError) as exc:
        raise IndexUnusable(f"{folder / BM25_DIR} cannot be used ({exc}): run `{REBUILD}`") from exc
    return StoredIndex(manifest, passages, id_map, lexical)
