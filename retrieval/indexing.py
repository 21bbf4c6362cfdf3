"""Building index/ from corpus/: clean, chunk, embed, save; and knowing when that is needed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from retrieval.corpus import load_corpus
from retrieval.dense import DenseRetriever
from retrieval.embedding import get_embedder
from retrieval.index_store import IndexUnusable, read_manifest, save_index


def build(
    corpus_dir: Path | str = "corpus",
    index_dir: Path | str = "index",
    model: str | None = None,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Clean, chunk, embed and save; returns the new manifest."""
    from retrieval.chunking import chunk_corpus

    corpus = load_corpus(corpus_dir)
    passages = chunk_corpus(corpus.documents)
    embedder = get_embedder(model)
    dense = DenseRetriever(embedder)
    dense.index(passages, show_progress=show_progress)
    extra = {"municipalities": [vars(m) for m in corpus.municipalities]}
    save_index(index_dir, passages, dense.faiss_index, embedder.model_id, corpus.hash, extra)
    return read_manifest(index_dir)


def is_current(index_dir: Path | str, corpus_dir: Path | str, model: str | None = None) -> bool:
    """True when index/ matches this corpus and model, so `make run` can skip the build."""
    try:
        manifest = read_manifest(index_dir)
    except IndexUnusable:
        return False
    from retrieval.embedding import resolve_model

    return (
        manifest.get("corpus_hash") == load_corpus(corpus_dir).hash
        and manifest.get("model") == resolve_model(model, convert=False)[1]
    )
