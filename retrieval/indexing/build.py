"""Building index/ from corpus/, keeping it up to date incrementally, and knowing its state.

`build` cleans, chunks and embeds every document. `update` compares each document's source
hash (raw bytes + metadata, see retrieval/ingest/changes.py) with the one the index recorded, embeds
only new or changed documents, removes the vectors of removed or changed ones by their stable
keys, rescores BM25, and swaps the result in atomically. Both end in the same index: the same
passages, vectors, BM25 scores and therefore the same search results (tests/test_ingest.py).

The FAISS index type follows the corpus size (see docs/benchmarks.md for the measurements):
exact flat search while a query costs little, HNSW above FLAT_MAX passages, IVF above IVF_MIN
(retrieval/indexing/ivf.py, with its retraining rule for updates).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.embedding.model import Embedder, get_embedder
from retrieval.indexing import ivf
from retrieval.indexing.figures import (
    FIGURES_FILE,
    Appended,
    Figure,
    extract,
    figure_files,
    sorted_figures,
    to_lines,
    updated_lines,
)
from retrieval.indexing.folder import writing
from retrieval.indexing.lexical_index import LexicalIndex
from retrieval.indexing.sentences import SentenceArrays
from retrieval.indexing.store import (
    IndexUnusable,
    StoredIndex,
    load_index,
    save_index,
)
from retrieval.indexing.vectors import (
    INDEX_TYPES,
    all_vectors,
    index_kind,
    make_index,
    new_index,
    passage_keys,
    searchable,
)
from retrieval.ingest import catalog, changes
from retrieval.ingest.corpus import load_document
from retrieval.ingest.files import CorpusError
from retrieval.text.chunking import chunk_document, embed_text
from retrieval.types import Document, Passage

Fingerprints = dict[str, dict[str, Any]]

# Chosen by measurement (python -m benchmarks.bench, docs/benchmarks.md): one exact flat query
# took 6.9 ms (p50, one thread) at 100,000 vectors and grows linearly, so up to 125,000 the
# hybrid search stays well inside its 20 ms budget with exact results, cheap removal and no
# graph to build. Above, HNSW; efSearch 512 measured recall@10 0.93 against exact at 100,000
# (0.88 at 256) for 1.8 ms, still small next to BM25's share of the budget.
FLAT_MAX = 125_000


def index_type_for(n_passages: int) -> str:
    """Exact search while it is cheap; HNSW once a flat scan would eat the latency budget;
    IVF where HNSW's recall falls (ivf.py)."""
    if n_passages > ivf.IVF_MIN:
        return "ivf"
    return "flat" if n_passages <= FLAT_MAX else "hnsw"


@dataclass(frozen=True)
class UpdateReport:
    """What an update did; ``embedded`` counts passages encoded by the model."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    embedded: int = 0
    rebuilt: bool = False
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def nothing_to_do(self) -> bool:
        return not (self.added or self.changed or self.removed or self.rebuilt)


def build(
    corpus_dir: Path | str = "corpus",
    index_dir: Path | str = "index",
    model: str | None = None,
    show_progress: bool = True,
    index_type: str | None = None,
    embedder: Embedder | None = None,
    nprobe: int = ivf.NPROBE,
) -> dict[str, Any]:
    """Clean, chunk, embed and save every document; returns the new manifest.

    ``index_type`` None follows the corpus size (index_type_for); ``nprobe`` is an IVF's."""
    embedder = embedder or get_embedder(model)
    if index_type is not None and index_type not in INDEX_TYPES:
        raise ValueError(f"index type must be one of {', '.join(INDEX_TYPES)}, got {index_type!r}")
    with writing(index_dir):
        cm = catalog.read_catalog(corpus_dir)
        if not cm.entries:
            raise CorpusError(f"{cm.path}: lists no [[document]]; add one")
        return _full(cm, changes.fingerprints(cm), index_dir, embedder, show_progress,
                     index_type, nprobe)


def update(
    corpus_dir: Path | str = "corpus",
    index_dir: Path | str = "index",
    model: str | None = None,
    show_progress: bool = False,
    embedder: Embedder | None = None,
) -> UpdateReport:
    """Bring index/ in line with corpus/, embedding only new and changed documents.

    With no usable index (none yet, another model or format), this is a full build."""
    embedder = embedder or get_embedder(model)
    with writing(index_dir), changes.gc_paused():
        cm = catalog.read_catalog(corpus_dir)
        if not cm.entries:
            raise CorpusError(f"{cm.path} lists no [[document]]; add one")
        try:
            stored = load_index(index_dir, model_id=embedder.model_id, for_update=True)
        except IndexUnusable as exc:
            print(f"{exc}\nBuilding {index_dir}/ from scratch.", file=sys.stderr)
            stored = None
        if stored is None:
            manifest = _full(cm, changes.fingerprints(cm), index_dir, embedder, show_progress)
            return UpdateReport(added=tuple(e["id"] for e in cm.entries),
                                embedded=manifest["passages"], rebuilt=True, manifest=manifest)
        prints = changes.fingerprints(cm, stored.manifest.get("sources", {}))
        return _incremental(cm, prints, stored, index_dir, embedder, show_progress)


def _full(cm: catalog.Catalog, prints: Fingerprints, index_dir: Path | str,
          embedder: Embedder, show_progress: bool, index_type: str | None = None,
          nprobe: int = ivf.NPROBE) -> dict[str, Any]:
    docs, skipped = _readable(cm, cm.entries)
    if not docs:
        raise CorpusError(f"{cm.folder}: no listed document could be read: {skipped}")
    passages = [p for d in docs for p in chunk_document(d)]
    vectors = embedder.encode_passages([embed_text(p) for p in passages],
                                       show_progress=show_progress)
    sentences = SentenceArrays.encode(embedder, passages, show_progress=show_progress)
    kind = index_type or index_type_for(len(passages))
    id_map = make_index(kind, passage_keys(passages), vectors, nprobe=nprobe)
    counts = _counts(passages)
    sources = {d.id: _record(prints[d.id], changes.content_hash(d.text), counts.get(d.id, 0))
               for d in docs}
    sources.update({i: _skipped(prints[i], why) for i, why in skipped.items()})
    sources = {e["id"]: sources[e["id"]] for e in cm.entries}
    corpus_hash = changes.corpus_hash(cm, changes.source_hashes(prints))
    extra = {**_extra(cm, sources), **ivf.manifest_entry(searchable(id_map), len(passages))}
    return save_index(index_dir, passages, id_map, LexicalIndex.build(passages), sentences,
                      embedder.model_id, corpus_hash, extra, figures=extract(passages))


def _incremental(cm: catalog.Catalog, prints: Fingerprints, stored: StoredIndex,
                 index_dir: Path | str, embedder: Embedder, show_progress: bool
                 ) -> UpdateReport:
    records: dict[str, dict[str, Any]] = stored.manifest.get("sources", {})
    hashes = changes.source_hashes(prints)
    todo = [e for e in cm.entries if records.get(e["id"], {}).get("source") != hashes[e["id"]]]
    added = tuple(e["id"] for e in todo if e["id"] not in records)
    changed = tuple(e["id"] for e in todo if e["id"] in records)
    removed = tuple(i for i in records if i not in hashes)
    corpus_hash = changes.corpus_hash(cm, hashes)
    if not todo and not removed and stored.manifest.get("corpus_hash") == corpus_hash:
        return UpdateReport(manifest=stored.manifest)

    docs, skipped = _readable(cm, todo)
    fresh = [p for d in docs for p in chunk_document(d)]
    drop = set(changed) | set(removed)
    owners = stored.passages.heads()[1]  # document ids, without parsing 100,000 passages
    keep = np.fromiter((d not in drop for d in owners), dtype=bool, count=len(owners))
    vectors = embedder.encode_passages([embed_text(p) for p in fresh],
                                       show_progress=show_progress)
    trained_on = int(stored.manifest.get("ivf", {}).get("trained_on", 0))
    id_map, trained_on = _updated_vectors(stored.id_map, stored.keys, keep, fresh, vectors,
                                          trained_on)
    passages = stored.passages.taken(keep) + fresh
    lexical = stored.lexical.update(keep, fresh, passages)
    sentences = stored.sentences.taken(keep) + SentenceArrays.encode(embedder, fresh)

    counts = _counts(fresh)
    sources = {i: r for i, r in records.items() if i not in drop}
    for d in docs:
        sources[d.id] = _record(prints[d.id], changes.content_hash(d.text), counts.get(d.id, 0))
    sources.update({i: _skipped(prints[i], why) for i, why in skipped.items()})
    # Manifest order, with the fingerprints' current stat (a touched, unchanged file).
    sources = {e["id"]: {**sources[e["id"]], **prints[e["id"]]} for e in cm.entries}
    # Figures of unchanged documents are kept; only fresh passages are read for new ones.
    figures: list[Figure] | bytes | Appended
    files = stored.manifest.get("files", {})
    if FIGURES_FILE in files and not drop:  # the files linked, the new lines after them
        figures = Appended(tuple((p, files.get(p.name)) for p in figure_files(index_dir)),
                           to_lines(sorted_figures(extract(fresh))))
    elif FIGURES_FILE in files:  # their lines, not re-serialised
        figures = updated_lines(index_dir, drop, extract(fresh))
    else:  # an index from before figures: read the kept passages once
        figures = sorted_figures(extract(stored.passages.taken(keep)) + extract(fresh))
    extra = {**_extra(cm, sources), **ivf.manifest_entry(searchable(id_map), trained_on)}
    # A flat index that was only added to keeps its files: they are linked, the rows written.
    unchanged = stored.vector_files if id_map is stored.id_map and keep.all() else ()
    manifest = save_index(index_dir, passages, id_map, lexical, sentences, embedder.model_id,
                          corpus_hash, extra, figures=figures, vector_files=unchanged)
    return UpdateReport(added, changed, removed, len(fresh), manifest=manifest)


def _updated_vectors(id_map: Any, keys: np.ndarray, keep: np.ndarray,
                     fresh: Sequence[Passage], vectors: np.ndarray, trained_on: int
                     ) -> tuple[Any, int]:
    """Remove by key and append, and the number of vectors an IVF was trained on.

    HNSW cannot remove, so its graph is rebuilt from the stored vectors (no re-encoding), as is
    the index when the corpus size calls for another type. An IVF adds to its trained lists,
    re-files the kept vectors under the same centroids when some are removed, and is retrained
    from the stored vectors when ivf.retrain_due says the corpus outgrew its training."""
    import faiss

    inner = searchable(id_map)
    kind, n = index_kind(inner), int(keep.sum()) + len(fresh)
    wanted = index_type_for(n)
    retrain = kind == "ivf" and wanted == kind and ivf.retrain_due(trained_on, n)
    if retrain:
        print(f"Retraining the IVF index: {retrain}.", file=sys.stderr)
    if wanted != kind or retrain or (kind != "flat" and not keep.all()):
        all_keys = np.concatenate([keys[keep], passage_keys(fresh)])
        every = np.concatenate([all_vectors(id_map)[keep], vectors])
        if kind == "ivf" and not retrain and wanted == kind:  # same centroids, no training
            kept: Any = new_index(kind, id_map.d, ivf.emptied(inner))
            kept.add_with_ids(np.ascontiguousarray(every, dtype=np.float32), all_keys)
            return kept, trained_on
        nprobe = int(inner.nprobe) if kind == "ivf" else ivf.NPROBE
        return make_index(wanted, all_keys, every, nprobe=nprobe), n
    if not keep.all():
        id_map.remove_ids(faiss.IDSelectorBatch(keys[~keep]))
    if len(fresh):
        id_map.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), passage_keys(fresh))
    return id_map, trained_on


def _readable(cm: catalog.Catalog, entries: Sequence[dict[str, str]]
              ) -> tuple[list[Document], dict[str, str]]:
    """The documents that can be read and cleaned, and {id: why} for those that cannot.

    One broken file (unreadable, wrong encoding, empty after cleaning) must not keep the rest
    of the corpus out of the index: it is skipped with a warning naming it, and recorded in the
    manifest so `list` shows it and the next update tries it again once the file changes.
    """
    docs: list[Document] = []
    skipped: dict[str, str] = {}
    for entry in entries:
        try:
            docs.append(load_document(cm.folder, entry))
        except CorpusError as exc:
            skipped[entry["id"]] = str(exc)
            print(f"Skipping {entry['id']}: {exc}", file=sys.stderr)
    return docs, skipped


def _skipped(fingerprint: dict[str, Any], why: str) -> dict[str, Any]:
    return {**fingerprint, "content": "", "passages": 0, "skipped": why}


def _record(fingerprint: dict[str, Any], content: str, passages: int) -> dict[str, Any]:
    return {**fingerprint, "content": content, "passages": passages}


def _counts(passages: Sequence[Passage]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for p in passages:
        counts[p.document_id] = counts.get(p.document_id, 0) + 1
    return counts


def _extra(cm: catalog.Catalog, sources: dict[str, Any]) -> dict[str, Any]:
    from retrieval.ingest.corpus import PIPELINE_VERSION

    return {
        "pipeline_version": PIPELINE_VERSION,
        "municipalities": [dict(m) for m in cm.municipalities],
        "sources": sources,
        "skipped": {i: r["skipped"] for i, r in sources.items() if "skipped" in r},
    }
