"""Question in, Answer out: retrieve, decide whether the documents answer, highlight, cite.

One Assistant is loaded per process and shared read-only by every session and thread.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.answer import messages
from retrieval.answer.abstain import Abstainer, Evidence
from retrieval.answer.highlight import best_sentences
from retrieval.answer.rerank import AnswerReranked
from retrieval.embedding.cache import EncodedSentences, SentenceSource
from retrieval.embedding.model import get_embedder
from retrieval.indexing.sentences import StoredSentences
from retrieval.indexing.status import corpus_fingerprint
from retrieval.indexing.store import IndexUnusable, load_index
from retrieval.ingest.corpus import Municipality, find_contact
from retrieval.search.base import Ranking, Retriever, Where
from retrieval.search.dense import DenseRetriever
from retrieval.search.hybrid import HYBRID_SETTINGS, HybridRetriever
from retrieval.search.lexical import BM25Retriever
from retrieval.search.windows import WindowedDense, WindowRescorer
from retrieval.text.language import detect_language
from retrieval.text.places import named_municipalities
from retrieval.types import Answer, Hit, Passage

__all__ = ["Assistant", "BadQuestion", "compose", "validate_question"]

RETRIEVERS = ("dense", "bm25", "hybrid")
DEFAULT_RETRIEVER = "hybrid"
MAX_QUESTION_CHARS = 1000
SENTENCE_BATCH = 8


class BadQuestion(ValueError):
    """A question we cannot search for; the message is Danish and shown as is."""


class Assistant:
    def __init__(
        self,
        dense: DenseRetriever,
        lexical: BM25Retriever,
        municipalities: Sequence[Municipality] = (),
        abstainer: Abstainer | None = None,
        manifest: dict[str, Any] | None = None,
        sentences: SentenceSource | None = None,
    ) -> None:
        """``sentences``: the index's stored sentence vectors (`load` passes them); without
        them (passages indexed in memory) sentences are encoded when first needed."""
        self.dense = dense
        self.lexical = lexical
        self.sentences = sentences or EncodedSentences(self._encode_sentences)
        self.retrievers = compose(dense, lexical, self.sentences)
        self.hybrid = self.retrievers["hybrid"]
        self.passages = dense.passages
        self.facets = dense.facets
        self.municipalities = tuple(municipalities)
        self.abstainer = abstainer or Abstainer.default()
        self.manifest = manifest or {}

    def _encode_sentences(self, texts: Sequence[str]) -> Any:
        """Sentences of passages indexed in memory, SENTENCE_BATCH at a time: short texts padded
        to their batch's longest cost less in small batches (measured at 100,000 passages: 8.0 s
        instead of 10.1 s for three first answers, when answers still encoded)."""
        encode = self.dense.embedder.encode_passages
        texts = list(texts)
        if len(texts) <= SENTENCE_BATCH:
            return encode(texts)
        return np.concatenate([encode(texts[i:i + SENTENCE_BATCH])
                               for i in range(0, len(texts), SENTENCE_BATCH)])

    # -- loading -------------------------------------------------------------------------
    @classmethod
    def load(
        cls,
        index_dir: Path | str = "index",
        model: str | None = None,
        corpus_dir: Path | str | None = None,
    ) -> Assistant:
        """Load index/ and check it against the model (and the corpus, when given)."""
        import faiss

        faiss.omp_set_num_threads(1)  # one query at a time: OpenMP threads only cost (benchmarks)
        embedder = get_embedder(model)
        # The query encoder (tokenizer, onnxruntime session) loads while the index does: most
        # of a cold start besides imports, and neither waits for the other.
        loading = threading.Thread(target=lambda: embedder.query_runtime, daemon=True)
        loading.start()
        try:
            corpus_hash = (None if corpus_dir is None
                           else corpus_fingerprint(corpus_dir, index_dir))
            stored = load_index(index_dir, model_id=embedder.model_id, corpus_hash=corpus_hash)
        finally:
            # Also when the index is refused: a process that exits while onnxruntime is still
            # building its session in this thread aborts ("terminate called without an active
            # exception", exit -6) after printing the refusal.
            loading.join()
        if stored.id_map.d != embedder.dim:
            raise IndexUnusable(
                f"{index_dir}/ holds vectors of dimension {stored.id_map.d}, the model "
                f"{embedder.model_id!r} makes {embedder.dim}: run `python -m retrieval build`"
            )
        dense = DenseRetriever(embedder)
        dense.attach(stored.passages, stored.faiss_index)
        lexical = stored.lexical.retriever  # the saved BM25 index: nothing re-analysed at start
        municipalities = [Municipality(**m) for m in stored.manifest.get("municipalities", [])]
        # Per-document records (11,000 at 100,000 passages) are for updates, not for answering.
        manifest = {k: v for k, v in stored.manifest.items() if k != "sources"}
        sentences = StoredSentences(stored.sentences, stored.passages.heads()[0])
        return cls(dense, lexical, municipalities, manifest=manifest, sentences=sentences)

    # -- answering -----------------------------------------------------------------------
    def contact(self, municipality: str) -> Municipality | None:
        """The town's way to a human; a town the catalog gives no contact for is still named
        ("Kontakt Nyborg Kommune"), which says more than "din kommune"."""
        if not municipality:
            return None
        return find_contact(self.municipalities, municipality) or Municipality(municipality)

    @property
    def covered(self) -> list[str]:
        """Municipalities the corpus has documents from."""
        return sorted(name for name, _ in self.facets.towns.values())

    def document(self, document_id: str) -> list[Passage]:
        """One document's passages in reading order ("Vis hele kilden"), without reading the
        other documents' passages: at 100,000 passages a scan would parse them all."""
        at = self.facets.documents.get(document_id, ())
        return sorted((self.passages[int(i)] for i in at), key=lambda p: p.position)

    @property
    def kinds(self) -> list[str]:
        """Document types in the corpus (one passage read per document), for the filters."""
        return sorted(name for name, _ in self.facets.kinds.values())

    def ask(
        self, question: str, k: int = 5, retriever: str = DEFAULT_RETRIEVER,
        municipality: str | None = None, kind: str | None = None,
    ) -> Answer:
        """The one pipeline every door calls: where to search, search, highlight, abstain.

        ``municipality`` and ``kind`` filter inside the search, as a town named in the
        question does."""
        return self.inspect(question, k, retriever, municipality, kind)[0]

    def inspect(
        self, question: str, k: int = 5, retriever: str = DEFAULT_RETRIEVER,
        municipality: str | None = None, kind: str | None = None,
    ) -> tuple[Answer, Evidence | None, Ranking | None]:
        """`ask`, with what the decision was made from (for calibration and evaluation): the
        evidence and every retriever's ranking; both None when the question names a town the
        corpus does not cover (refused by rule, no search)."""
        question = validate_question(question)
        if retriever not in self.retrievers:
            choices = ", ".join(sorted(self.retrievers))
            raise ValueError(f"unknown retriever {retriever!r}; choose one of {choices}")
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        language = detect_language(question)
        named = [municipality] if municipality else named_municipalities(question)
        where = self._where(named, kind)
        if named and not where.municipalities:
            message = messages.not_covered(named, self.covered, language)
            return Answer(question, language, False, message, ()), None, None
        searched = _with_town(question, municipality)
        ranking = self.hybrid.explain(searched, k, where)
        qv = self.dense.query_vector(searched)
        ranked = ranking.stages.get(retriever, [])[:k]
        # The first three hits' sentences and windows against the question, computed once: the
        # highlight reads them all, the evidence the first hit's best.
        similar = [self._similarities(qv, h.passage) for h in ranked[:3]]
        hits = [self._highlight(question, replace(h, rank=r), *(similar[r - 1] if r <= 3 else ()))
                for r, h in enumerate(ranked, 1)]
        known = self.lexical.known_fraction(searched, ignore=named)
        evidence = Evidence.of(searched, language, ranking.stages.get("dense_passages", []),
                               ranking.stages.get("bm25", []), hits, known,
                               self.lexical.compounds, _closest(similar))
        answered = bool(hits) and self.abstainer.answers(evidence)
        town = named[0] if named else (hits[0].passage.municipality if hits else "")
        message = messages.answer_message(language, answered, self.contact(town))
        return Answer(question, language, answered, message, tuple(hits)), evidence, ranking

    def evidence(self, question: str, retriever: str = DEFAULT_RETRIEVER) -> Evidence | None:
        """The abstention evidence for a question (None when it names an uncovered town), for
        calibration; the same path as `ask`."""
        return self.inspect(question, 5, retriever)[1]

    def _similarities(self, qv: Any, passage: Passage) -> tuple[np.ndarray, np.ndarray]:
        """Cosines of a passage's stored sentences and windows to the question (no model)."""
        return self.sentences.of(passage) @ qv, self.sentences.windows(passage) @ qv

    def _where(self, named: Sequence[str], kind: str | None) -> Where:
        """The filter for the covered towns among those named (none covered: an empty set)."""
        covered = self.facets.towns
        return Where.of([t for t in named if t.casefold() in covered], [kind] if kind else [])

    def _highlight(self, question: str, hit: Hit, sentences: np.ndarray | None = None,
                   windows: np.ndarray | None = None) -> Hit:
        text = best_sentences(question, hit.passage.text, sentences, windows,
                              title=hit.passage.title, compounds=self.lexical.compounds)
        return replace(hit, highlight=text)


def _closest(similar: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[float, float]:
    """How close the first hit's best sentence and best window come to the question."""
    if not similar:
        return 0.0, 0.0
    sentences, windows = similar[0]
    return (float(sentences.max()) if len(sentences) else 0.0,
            float(windows.max()) if len(windows) else 0.0)


def _with_town(question: str, municipality: str | None) -> str:
    """A town chosen in a filter is part of what is asked: searched as if the question named it,
    as the passages name their town and the abstention rule was fitted on questions that do."""
    if not municipality or named_municipalities(question):
        return question
    return f"{question.rstrip(' ?.!')} i {municipality}?"


def compose(dense: DenseRetriever, lexical: BM25Retriever, vectors: SentenceSource
            ) -> dict[str, Retriever]:
    """The product's retrievers by name: what citizens get is what evaluators score."""
    windowed = WindowedDense(dense, WindowRescorer(vectors))
    hybrid = HybridRetriever(windowed, lexical, **HYBRID_SETTINGS)
    return {"dense": windowed, "bm25": lexical,
            "hybrid": AnswerReranked(hybrid, lambda: lexical.compounds)}


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
