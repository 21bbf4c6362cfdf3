"""The index on disk: a folder of named files, written atomically and checked on load.

index/
  index.faiss      the vectors: a FAISS IndexIDMap2 (stable 64-bit key per passage) over an
                   exact flat, an HNSW or an IVF index (retrieval/indexing/ivf.py), in passage
                   order; a flat index that an update added to keeps the new rows in
                   index-1.faiss, ... (retrieval/indexing/vectors.py)
  passages.jsonl   one passage per line, in vector order; an update that adds documents writes
                   their lines as passages-1.jsonl, ... (retrieval/indexing/passages.py)
  bm25/            the lexical index: word counts in segments, scored at question time
                   (retrieval/indexing/lexical_index.py)
  sentences.npy, sentence_starts.npy, windows.npy, window_starts.npy
                   every passage's sentence and window vectors, float16 (retrieval/indexing/
                   sentences.py), so answers highlight and rescore windows without the model;
                   an update that adds documents writes their rows as sentences-1.npy,
                   windows-1.npy, ... and links the unchanged files from the previous index
  figures.jsonl    every amount and count, cited (retrieval/indexing/figures.py); an update
                   that adds documents writes theirs as figures-1.jsonl, ...
  manifest.json    model, dimension, index type (an IVF's lists, nprobe, vectors trained on),
                   corpus hash, per-document hashes, format
                   version, each file's size and SHA-256 (loading checks every size and the
                   checksums of small files; `damaged_files(full=True)` checks them all)

Every write goes to a temporary sibling folder that is swapped in with two renames; if the
process dies between them, the next read restores `<folder>.old`. So an interrupted build or
update always leaves the previous index loadable, and a half-written or mismatched index never
serves citations: every check names the fix.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.indexing.figures import Appended, Figure, save_figures
from retrieval.indexing.folder import (
    recover,
    sealed,
    segments,
    sha256,
    swap_in,
    temporary_sibling,
)
from retrieval.indexing.ivf import manifest_problem
from retrieval.indexing.passages import BadPassageLine, PassageLines, as_lines
from retrieval.indexing.sentences import FILES as SENTENCE_FILES
from retrieval.indexing.sentences import SentenceArrays
from retrieval.indexing.vectors import (
    VectorFile,
    index_kind,
    passage_keys,
    read_vectors,
    save_vectors,
    searchable,
    vector_keys,
)
from retrieval.types import Passage

FORMAT_VERSION = 5  # 3: sentence vectors stored at build time; 4: BM25 scored from counts;
# 5: sentences no longer split inside "d. 7. april" (the stored sentence vectors follow the split)
FAISS_FILE = "index.faiss"
PASSAGES_FILE = "passages.jsonl"
MANIFEST_FILE = "manifest.json"
BM25_DIR = "bm25"
REBUILD = "python -m retrieval build"
UPDATE = "python -m retrieval update"
# Files up to this size are checksummed at every load; larger ones (vectors, passages, BM25
# arrays: hundreds of MB at 100,000 passages) are checked by size and structure there, and by
# checksum in `python -m retrieval list` (`damaged_files`).
QUICK_CHECKSUM_MAX = 8 << 20


class IndexUnusable(RuntimeError):
    """The index folder cannot be used as it is; the message says what to run."""


@dataclass(frozen=True)
class StoredIndex:
    manifest: dict[str, Any]
    passages: PassageLines  # parsed line by line when used (retrieval/indexing/passages.py)
    id_map: Any  # faiss.IndexIDMap2: passage keys → vectors; what updates add to and remove from
    lexical: Any  # retrieval.indexing.lexical_index.LexicalIndex
    sentences: SentenceArrays  # every passage's sentence vectors (memory-mapped)
    vector_files: tuple[VectorFile, ...] = ()  # the FAISS files id_map was read from

    @property
    def faiss_index(self) -> Any:
        """The index searched: its result numbers are positions in ``passages``."""
        return searchable(self.id_map)

    @property
    def keys(self) -> np.ndarray:
        return vector_keys(self.id_map)


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sporg-socialudvalget")
    except PackageNotFoundError:
        return "0+local"


def save_index(
    folder: Path | str,
    passages: Sequence[Passage],
    id_map: Any,
    lexical: Any,
    sentences: SentenceArrays,
    model_id: str,
    corpus_hash: str,
    extra: dict[str, Any] | None = None,
    figures: Sequence[Figure] | bytes | Appended | None = None,
    vector_files: Sequence[VectorFile] = (),
) -> dict[str, Any]:
    """Write into a temporary sibling folder, swap it in with renames; returns the manifest.

    Passages given as `PassageLines` are written as the lines they were read as, so an update
    does not parse or serialise 100,000 unchanged passages again; files read from an index and
    unchanged (passages, BM25 counts, sentence vectors, and ``vector_files``, the FAISS files
    holding id_map's first rows as they are) are linked, not written.

    If the process dies between the two renames, `read_manifest` finds `<folder>.old` and
    restores it, so an interrupted build always leaves the previous index loadable.
    """

    folder = Path(folder)
    passages = as_lines(passages)
    keys = passage_keys(passages)
    stored_keys = vector_keys(id_map)
    if not np.array_equal(keys, stored_keys):
        raise ValueError("the vectors' keys are not the passages' keys in passage order")
    if (problem := sentences.problem(len(passages), int(id_map.d))) is not None:
        raise ValueError(problem)
    tmp = temporary_sibling(folder)
    try:
        # Unchanged segments are linked, with their checksums.
        linked = {**save_vectors(tmp, FAISS_FILE, id_map, vector_files),
                  **passages.save(tmp, PASSAGES_FILE), **lexical.save(tmp / BM25_DIR),
                  **sentences.save(tmp)}
        names = [name for name, digest in linked.items() if digest is None]
        if figures is not None:
            linked.update(figured := save_figures(tmp, figures))
            names += [name for name, digest in figured.items() if digest is None]
        with ThreadPoolExecutor(max_workers=3) as pool:  # every file synced before the swap
            digests = dict(zip(names, pool.map(lambda name: sealed(tmp / name), names),
                               strict=True))
        digests.update({name: d for name, d in linked.items() if d is not None})
        names = list(digests)
        manifest = {**_describe(passages, id_map, lexical, model_id, corpus_hash), "files": digests,
                    "sizes": {name: (tmp / name).stat().st_size for name in names}, **(extra or {})}
        # Compact: with an indent json falls back to its Python encoder, 0.1 s for the 3 MB
        # manifest of 15,000 documents at every update.
        text = json.dumps(manifest, ensure_ascii=False) + "\n"
        (tmp / MANIFEST_FILE).write_text(text, encoding="utf-8")
        with (tmp / MANIFEST_FILE).open("rb") as f:
            os.fsync(f.fileno())
        swap_in(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    written: dict[str, Any] = json.loads(text)  # as read_manifest would give it
    return written


def _describe(passages: PassageLines, id_map: Any, lexical: Any, model_id: str,
              corpus_hash: str) -> dict[str, Any]:
    """What manifest.json says of the index besides its files."""
    import faiss

    inner = faiss.downcast_index(id_map.index)
    return {
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
    }


def read_manifest(folder: Path | str) -> dict[str, Any]:
    folder = Path(folder)
    recover(folder)
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


def damaged_files(folder: Path | str, manifest: dict[str, Any], full: bool = True
                  ) -> list[str]:
    """Names of the manifest's files that are not as written; raises if one is missing.

    ``full`` checksums every file; otherwise a file is checked by its size, and by checksum
    only when small (QUICK_CHECKSUM_MAX) or when the manifest has no sizes. A truncated or
    extended file is caught either way; a byte changed in place inside a large file is caught
    by the full check (`list`) or, for passages and vector keys, by the consistency checks of
    `load_index`."""
    folder = Path(folder)
    sizes = manifest.get("sizes", {})
    damaged = []
    for name, digest in manifest.get("files", {}).items():
        path = folder / name
        if not path.is_file():
            raise IndexUnusable(f"{path} is missing: run `{REBUILD}`")
        size = sizes.get(name)
        resized = size is not None and path.stat().st_size != size
        summed = full or size is None or size <= QUICK_CHECKSUM_MAX
        if resized or (summed and sha256(path) != digest):
            damaged.append(name)
    return damaged


def load_index(
    folder: Path | str,
    model_id: str | None = None,
    corpus_hash: str | None = None,
    for_update: bool = False,
) -> StoredIndex:
    """Load and verify; with model_id/corpus_hash given, refuse an index built from others.

    ``for_update`` skips what only questions use (the passages' towns)."""

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
    for name in damaged_files(folder, manifest, full=False):
        raise IndexUnusable(
            f"{folder / name} is damaged or was changed after the build: run `{REBUILD}`"
        )
    files = manifest.get("files", {})
    # FAISS reads its file without the GIL while the passages' lines are scanned: at 100,000
    # passages the two took 0.5-0.6 s one after the other, 0.3-0.4 s side by side.
    with ThreadPoolExecutor(max_workers=1) as pool:
        vectors = pool.submit(read_vectors, folder, segments(FAISS_FILE, files), files)
        try:
            passages = PassageLines.read([folder / n for n in segments(PASSAGES_FILE, files)],
                                         towns=not for_update, digests=files)
        except (OSError, ValueError) as exc:
            raise IndexUnusable(
                f"{folder}/ passages cannot be read ({exc}): run `{REBUILD}`") from exc
        try:
            id_map, vector_files = vectors.result()
        except ValueError as exc:
            raise IndexUnusable(f"{exc}: run `{REBUILD}`") from exc
    if (problem := manifest_problem(manifest, searchable(id_map))) is not None:
        raise IndexUnusable(f"{folder}/ is out of step: {problem}: run `{REBUILD}`")
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
        lexical = LexicalIndex.load(folder / BM25_DIR, passages, manifest.get("files"))
    except (OSError, ValueError, KeyError) as exc:
        raise IndexUnusable(f"{folder / BM25_DIR} cannot be used ({exc}): run `{REBUILD}`") from exc
    return StoredIndex(manifest, passages, id_map, lexical,
                       _read_sentences(folder, id_map, manifest), vector_files)


def _read_sentences(folder: Path, id_map: Any, manifest: dict[str, Any]) -> SentenceArrays:
    """The sentence vectors, memory-mapped, refused when they do not fit the passages."""
    try:
        sentences = SentenceArrays.read(folder, manifest.get("files") or SENTENCE_FILES)
    except (OSError, ValueError) as exc:
        raise IndexUnusable(
            f"{folder}/ sentence vectors cannot be read ({exc}): run `{REBUILD}`") from exc
    if (problem := sentences.problem(int(id_map.ntotal), int(id_map.d))) is not None:
        raise IndexUnusable(f"{folder}/ is out of step: {problem}: run `{REBUILD}`")
    return sentences
