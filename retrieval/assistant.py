"""Question in, Answer out: retrieve, decide whether the documents answer, highlight, cite.

One Assistant is loaded per process and shared read-only by every session and thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from retrieval import messages
from retrieval.abstain import Abstainer
from retrieval.base import Retriever
from retrieval.corpus import Municipality, load_corpus
from retrieval.dense import DenseRetriever
from retrieval.embedding import Embedder, get_embedder
from retrieval.highlight import SentenceVectors, best_sentences
from retrieval.index_store import IndexUnusable, load_index, read_manifest, save_index
from retrieval.language import detect_language
from retrieval.types import Answer, Hit, Passage

RETRIEVERS = ("dense",)
DEFAULT_RETRIEVER = "dense"
MAX_QUESTION_CHARS = 1000


class BadQuestion(ValueError):
    """A question we cannot search for; the message is Danish and shown as is."""


@dataclass(frozen=True)
class Evidence:
    """What the abstention decision looks at for one question."""

    hits: tuple[Hit, ...]
    top_score: float
    margin: float


class Assistant:
    def __init__(
        self,
        passages: Sequence[Passage],
        embedder: Embedder,
        retrievers: dict[str, Retriever],
        municipalities: Sequence[Municipality] = (),
        abstainer: Abstainer | None = None,
        manifest: dict[str, Any] | None = None,
    ) -> None:
        self.passages = tuple(passages)
        self.embedder = embedder
        self.retrievers = retrievers
        self.municipalities = tuple(municipalities)
        self.abstainer = abstainer or Abstainer.default()
        self.manifest = manifest or {}
        self.sentence_vectors = SentenceVectors(embedder.encode_queries)

    # -- loading -------------------------------------------------------------------------
    @classmethod
    def load(
        cls, index_dir: Path | str = "index", model: str | None = None,
        corpus_dir: Path | str | None = None,
    ) -> Assistant:
        """Load index/ and check it against the model (and the corpus, when given)."""
        embedder = get_embedder(model)
        corpus_hash = load_corpus(corpus_dir).hash if corpus_dir is not None else None
        stored = load_index(index_dir, model_id=embedder.model_id, corpus_hash=corpus_hash)
        return cls.from_parts(stored.passages, embedder, stored.faiss_index, stored.manifest)

    @classmethod
    def from_parts(
        cls, passages: Sequence[Passage], embedder: Embedder, faiss_index: Any,
        manifest: dict[str, Any],
    ) -> Assistant:
        dense = DenseRetriever(embedder)
        dense.attach(passages, faiss_index)
        municipalities = [Municipality(**m) for m in manifest.get("municipalities", [])]
        return cls(passages, embedder, {"dense": dense}, municipalities, manifest=manifest)

    # -- answering -----------------------------------------------------------------------
    def contact(self, municipality: str) -> Municipality | None:
        for m in self.municipalities:
            if m.name.casefold() == municipality.casefold():
                return m
        return None

    def ask(
        self, question: str, k: int = 5, retriever: str = DEFAULT_RETRIEVER,
        municipality: str | None = None,
    ) -> Answer:
        question = validate_question(question)
        if retriever not in self.retrievers:
            raise ValueError(f"unknown retriever {retriever!r}; choose one of {sorted(self.retrievers)}")
        language = detect_language(question)
        query_vector = self.embedder.encode_queries([question])[0]
        dense = self.retrievers["dense"]
        assert isinstance(dense, DenseRetriever)
        pool = max(k, 20)
        hits = (
            dense.search_vector(query_vector, pool)
            if retriever == "dense" else self.retrievers[retriever].search(question, pool)
        )
        if municipality:
            hits = [h for h in hits if h.passage.municipality.casefold() == municipality.casefold()]
        hits = [replace(h, rank=r) for r, h in enumerate(hits[:k], 1)]
        top = hits[0].score if hits else 0.0
        margin = top - hits[1].score if len(hits) > 1 else top
        answered = bool(hits) and self.abstainer.answers(Evidence(tuple(hits), top, margin))
        hits = [self._highlight(question, query_vector, h, i < 3) for i, h in enumerate(hits)]
        town = municipality or (hits[0].passage.municipality if hits else "")
        message = messages.answer_message(language, answered, self.contact(town) if town else None)
        return Answer(question, language, answered, message, tuple(hits))

    def _highlight(self, question: str, qv: Any, hit: Hit, use_vectors: bool) -> Hit:
        text = best_sentences(
            question, hit.passage.text, qv if use_vectors else None,
            self.sentence_vectors if use_vectors else None,
        )
        return replace(hit, highlight=text)


def validate_question(question: str) -> str:
    """Normalise whitespace; refuse what cannot be searched, in Danish, naming the problem."""
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in question).split())
    if not text:
        raise BadQuestion("Skriv et spørgsmål – feltet er tomt.")
    if sum(ch.isalnum() for ch in text) < 2:
        raise BadQuestion("Spørgsmålet er for kort. Skriv gerne en hel sætning.")
    if len(text) > MAX_QUESTION_CHARS:
        raise BadQuestion(
            f"Spørgsmålet er for langt ({len(text)} tegn). Skriv det kortere, højst "
            f"{MAX_QUESTION_CHARS} tegn."
        )
    return text


def build(
    corpus_dir: Path | str = "corpus", index_dir: Path | str = "index", model: str | None = None,
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
        and manifest.get("model") == resolve_model(model)[1]
    )
