"""What changed in the corpus since the index was built, told without cleaning a document.

A document's source hash covers its raw bytes, its metadata, the cleaning pipeline and its
extractor's version; when the metadata hash and the file's size and mtime equal what the index
recorded, the file is not read again (as git trusts its index). A corpus of thousands of
documents is checked in well under a second.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from retrieval.ingest.catalog import Catalog
from retrieval.ingest.corpus import PIPELINE_VERSION
from retrieval.ingest.extract import extractor_version


@functools.lru_cache(maxsize=16)
def _extractor(suffix: str) -> str:
    """Package metadata, read once per file type and process."""
    return extractor_version(Path(f"x{suffix}"))


@functools.lru_cache(maxsize=1 << 20)
def _meta_hash(file: str, items: tuple[tuple[str, str], ...]) -> str:
    """The metadata's hash, once per process (`add` fingerprints the corpus twice)."""
    version = _extractor(os.path.splitext(file)[1].lower())
    h = hashlib.sha256(f"{PIPELINE_VERSION}|{version}|".encode())
    # Catalog values are validated strings, joined by control characters they have no use for
    # (0.04 s for 15,000 documents where json.dumps took 0.3 s).
    h.update("\x1f".join(f"{k}\x1e{v}" for k, v in items).encode("utf-8"))
    return h.hexdigest()[:16]


def fingerprint(folder: Path, fields: Mapping[str, str],
                record: Mapping[str, object] | None = None) -> dict[str, object]:
    """The document's source hash: changes when the raw file, its metadata, the cleaning
    pipeline or its extractor does. Returned with the parts it is made of, ``meta`` (hash of
    everything but the file) and ``stat`` (size, mtime): when both equal those an index
    ``record`` kept, the file is not read again, as git trusts its index."""
    # Plain strings until the file must be read: 11,000 Path objects per call cost ~0.05 s.
    st = os.stat(os.path.join(folder, fields["file"]))
    stat = [st.st_size, st.st_mtime_ns]
    meta = _meta_hash(fields["file"], tuple(sorted(fields.items())))
    if record and record.get("meta") == meta and record.get("stat") == stat:
        return {"source": record["source"], "meta": meta, "stat": stat}
    h = hashlib.sha256(meta.encode())
    with (folder / fields["file"]).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return {"source": h.hexdigest()[:16], "meta": meta, "stat": stat}


def fingerprints(manifest: Catalog, records: Mapping[str, Mapping[str, object]] | None
                 = None) -> dict[str, dict[str, object]]:
    """`fingerprint` of every document, reusing what an index's ``records`` know."""
    records = records or {}
    return {e["id"]: fingerprint(manifest.folder, e, records.get(e["id"]))
            for e in manifest.entries}


def corpus_hash(manifest: Catalog, hashes: Mapping[str, str]) -> str:
    """One hash of every document's source hash and the municipalities' contact details."""
    h = hashlib.sha256(f"{PIPELINE_VERSION}|".encode())
    h.update(json.dumps(sorted(hashes.items())).encode())
    h.update(json.dumps([sorted(m.items()) for m in manifest.municipalities],
                        ensure_ascii=False).encode("utf-8"))
    return h.hexdigest()[:16]


def content_hash(text: str) -> str:
    """Of the cleaned text: the same document fetched twice, or as HTML and as PDF, matches."""
    return hashlib.sha256(" ".join(text.split()).casefold().encode("utf-8")).hexdigest()[:16]


def source_hashes(prints: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {doc_id: str(p["source"]) for doc_id, p in prints.items()}


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection during work over the whole corpus (an update, the duplicate
    check). It builds hundreds of thousands of small containers (15,000 documents' records,
    100,000 passages' ids) and each collection of the oldest generation walks all of them:
    ~0.5 s of adding one document at 100,000 passages. Nothing it makes is cyclic garbage;
    refcounting frees it, and the collector resumes after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
