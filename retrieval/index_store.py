"""The index on disk: a folder of named files, written atomically and checked on load.

index/
  index.faiss      the vectors (FAISS)
  passages.jsonl   one passage per line, in vector order
  manifest.json    model, dimension, corpus hash, format version, file checksums

A half-written or mismatched index must never serve citations, so every check names the fix.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrieval.types import Passage

FORMAT_VERSION = 1
FAISS_FILE = "index.faiss"
PASSAGES_FILE = "passages.jsonl"
MANIFEST_FILE = "manifest.json"
REBUILD = "python -m retrieval build"


class IndexUnusable(RuntimeError):
    """The index folder cannot be used as it is; the message says what to run."""


@dataclass(frozen=True)
class StoredIndex:
    manifest: dict[str, Any]
    passages: tuple[Passage, ...]
    faiss_index: Any


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sporg-socialudvalget")
    except PackageNotFoundError:
        return "0+local"


def save_index(
    folder: Path | str,
    passages: list[Passage],
    faiss_index: Any,
    model_id: str,
    corpus_hash: str,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write into a temporary sibling folder, then swap it in with renames.

    If the process dies between the two renames, `load_index` finds `<folder>.old` and restores
    it, so an interrupted build always leaves the previous index loadable.
    """
    import faiss

    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-tmp-", dir=folder.parent))
    try:
        faiss.write_index(faiss_index, str(tmp / FAISS_FILE))
        with (tmp / PASSAGES_FILE).open("w", encoding="utf-8") as f:
            for p in passages:
                f.write(json.dumps(p.to_json(), ensure_ascii=False) + "\n")
        manifest = {
            "format_version": FORMAT_VERSION,
            "model": model_id,
            "dimension": int(faiss_index.d),
            "prompts": {"query": "query: ", "passage": "passage: "},
            "index_type": type(faiss_index).__name__,
            "corpus_hash": corpus_hash,
            "passages": len(passages),
            "documents": len({p.document_id for p in passages}),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "package_version": package_version(),
            "files": {name: _sha256(tmp / name) for name in (FAISS_FILE, PASSAGES_FILE)},
            **(extra or {}),
        }
        (tmp / MANIFEST_FILE).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        for name in (FAISS_FILE, PASSAGES_FILE, MANIFEST_FILE):
            with (tmp / name).open("rb") as f:
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


def load_index(
    folder: Path | str, model_id: str | None = None, corpus_hash: str | None = None
) -> StoredIndex:
    """Load and verify; with model_id/corpus_hash given, refuse an index built from others."""
    import faiss

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
            f"{manifest.get('corpus_hash')}, corpus now {corpus_hash}): run `{REBUILD}`"
        )
    for name, digest in manifest.get("files", {}).items():
        path = folder / name
        if not path.is_file():
            raise IndexUnusable(f"{path} is missing: run `{REBUILD}`")
        if _sha256(path) != digest:
            raise IndexUnusable(
                f"{path} is damaged or was changed after the build: run `{REBUILD}`"
            )
    try:
        index = faiss.read_index(str(folder / FAISS_FILE))
    except RuntimeError as exc:
        raise IndexUnusable(
            f"{folder / FAISS_FILE} cannot be read ({exc}): run `{REBUILD}`"
        ) from exc
    passages = []
    with (folder / PASSAGES_FILE).open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                passages.append(Passage.from_json(json.loads(line)))
            except (json.JSONDecodeError, TypeError) as exc:
                raise IndexUnusable(
                    f"{folder / PASSAGES_FILE} line {n} is not a passage ({exc}): run `{REBUILD}`"
                ) from exc
    if index.ntotal != len(passages) or manifest.get("passages") != len(passages):
        raise IndexUnusable(
            f"{folder}/ is out of step: {index.ntotal} vectors, {len(passages)} passages, "
            f"manifest says {manifest.get('passages')}: run `{REBUILD}`"
        )
    if index.d != manifest.get("dimension"):
        raise IndexUnusable(
            f"{folder}/ vectors have dimension {index.d}, manifest says "
            f"{manifest.get('dimension')}: run `{REBUILD}`"
        )
    return StoredIndex(manifest=manifest, passages=tuple(passages), faiss_index=index)
