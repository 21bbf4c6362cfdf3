"""What the index holds and whether it matches the corpus, answered without loading a model.

`status` (for `python -m retrieval list`) is also where every file's checksum is verified:
loading checks sizes and small files only (retrieval/indexing/store.py), so a byte changed in
place inside a large file is found here and reported as a damaged index.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrieval.indexing.store import IndexUnusable, damaged_files, read_manifest
from retrieval.ingest import catalog, changes
from retrieval.ingest.corpus import load_document


def corpus_fingerprint(corpus_dir: Path | str, index_dir: Path | str | None = None) -> str:
    """The corpus hash an index records, computed without cleaning a single document (and,
    given the index, without reading the files whose size and mtime it recorded)."""
    cm = catalog.read_catalog(corpus_dir)
    prints = changes.fingerprints(cm, _records(index_dir))
    return changes.corpus_hash(cm, changes.source_hashes(prints))


def _records(index_dir: Path | str | None) -> dict[str, Any]:
    if index_dir is None:
        return {}
    try:
        return dict(read_manifest(index_dir).get("sources", {}))
    except IndexUnusable:
        return {}


def is_current(index_dir: Path | str, corpus_dir: Path | str, model: str | None = None) -> bool:
    """True when index/ matches this corpus and model, so `make run` can skip the build."""
    try:
        manifest = read_manifest(index_dir)
    except IndexUnusable:
        return False
    from retrieval.embedding.model import resolve_model

    return (
        manifest.get("corpus_hash") == corpus_fingerprint(corpus_dir, index_dir)
        and manifest.get("model") == resolve_model(model, convert=False)[1]
    )


def content_hashes(corpus_dir: Path | str, index_dir: Path | str) -> dict[str, str]:
    """Content hash → id of every corpus document, from the index where it is current (cheap),
    else by extracting and cleaning the document."""
    with changes.gc_paused():
        cm = catalog.read_catalog(corpus_dir)
        records = _records(index_dir)
        prints = changes.fingerprints(cm, records)
        out: dict[str, str] = {}
        for e in cm.entries:
            record = records.get(e["id"], {})
            if record.get("source") == prints[e["id"]]["source"]:
                if not record.get("skipped"):
                    out[record["content"]] = e["id"]
            else:
                out[changes.content_hash(load_document(cm.folder, e).text)] = e["id"]
        return out


@dataclass(frozen=True)
class DocumentState:
    id: str
    title: str
    municipality: str
    file: str
    passages: int | None  # None: not in the index
    state: str  # current, stale (changed since indexed), missing (not indexed), removed,
    # skipped (could not be read: see the manifest's 'skipped')


def status(corpus_dir: Path | str, index_dir: Path | str, model: str | None = None
           ) -> tuple[str, list[DocumentState], dict[str, Any]]:
    """(index state, one row per document, index manifest or {}) without loading any model.

    The index state is 'current', 'stale' (documents or model differ: run update), 'damaged'
    (a file's checksum differs: rebuild) or 'missing' (no usable index)."""
    from retrieval.embedding.model import resolve_model

    cm = catalog.read_catalog(corpus_dir)
    try:
        manifest = read_manifest(index_dir)
        damaged = damaged_files(index_dir, manifest)
    except IndexUnusable:
        manifest, damaged = {}, []
    records = manifest.get("sources", {})
    rows = []
    hashes = changes.source_hashes(changes.fingerprints(cm, records))
    for e in cm.entries:
        record = records.get(e["id"])
        state = ("missing" if record is None
                 else "stale" if record.get("source") != hashes[e["id"]]
                 else "skipped" if record.get("skipped") else "current")
        rows.append(DocumentState(e["id"], e["title"], e["municipality"], e["file"],
                                  record.get("passages") if record else None, state))
    for doc_id, record in records.items():
        if doc_id not in hashes:
            rows.append(DocumentState(doc_id, "", "", "", record.get("passages"), "removed"))
    if not manifest:
        state = "missing"
    elif damaged:
        state = "damaged"
    elif (manifest.get("corpus_hash") == changes.corpus_hash(cm, hashes)
          and manifest.get("model") == resolve_model(model, convert=False)[1]):
        state = "current"
    else:
        state = "stale"
    return state, rows, manifest
