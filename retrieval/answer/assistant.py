"""Question in, Answer out: retrieve, decide whether the documents answer, highlight, cite.

One Assistant is loaded per process and shared read-only by every session and thread.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.answer import messages
from retrieval.answer.abstain import Abstainer, Evidence
from retrieval.answer.highlight import SentenceVectors, best_sentences
from retrieval.embedding.model import get_embedder
from retrieval.indexing.build import build, corpus_fingerprint, is_current
from retrieval.indexing.passages import PassageLines
from retrieval.indexing.store import IndexUnusable, load_index
from retrieval.ingest.corpus import Municipality
from retrieval.search.base import Retriever
from retrieval.search.dense import DenseRetriever
from retrieval.search.hybrid import HYBRID_SETTINGS, HybridRetriever, fuse
from retrieval.search.lexical import BM25Retriever
from retrieval.search.windows import WindowRescorer
from retrieval.text.language import detect_language
from retrieval.text.places import named_municipalities
from retrieval.types import Answer, Hit, Passage

__all__ = ["Assistant", "BadQuestion", "Evidence", "build", "is_current", "validate_question"]

RETRIEVERS = ("dense", "bm25", "hybrid")
DEFAULT_RETRIEVER = "hybrid"
MAX_QUESTION_CHARS = 1000
POOL = 50
TOWN_POOL = 2000
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
    ) -> None:
        self.dense = dense
        self.lexical = lexical
        self.hybrid = HybridRetriever(dense, lexical, **HYBRID_SETTINGS)
        self.retrievers: dict[str, Retriever] = {
            "dense": dense,
            "bm25": lexical,
            "hybrid": self.hybrid,
        }
        self.passages = dense.passages
        self._towns = _positions_by_town(self.passages)
        self.municipalities = tuple(municipalities)
        self.abstainer = abstainer or Abstainer.default()
        self.manifest = manifest or {}
        self.sentence_vectors = SentenceVectors(self._encode_sentences)
        self.windows = WindowRescorer(self.sentence_vectors)

    def _encode_sentences(self, texts: Sequence[str]) -> Any:
        """Sentences and windows for highlighting and rescoring, SENTENCE_BATCH at a time: short
        texts padded to their batch's longest cost less in small batches. Measured at 100,000
        passages: three first answers took 8.0 s instead of 10.1 s and peaked 93 MB lower."""
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
        corpus_hash = None if corpus_dir is None else corpus_fingerprint(corpus_dir, index_dir)
        stored = load_index(index_dir, model_id=embedder.model_id, corpus_hash=corpus_hash)
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
        return cls(dense, lexical, municipalities, manifest=manifest)

    # -- answering -----------------------------------------------------------------------
    def contact(self, municipality: str) -> Municipality | None:
        for m in self.municipalities:
            if m.name.casefold() == municipality.casefold():
                return m
        return None

    @property
    def covered(self) -> list[str]:
        """Municipalities the corpus has documents from."""
        return sorted(name for name, _ in self._towns.values())

    @functools.cached_property
    def _documents(self) -> dict[str, list[int]]:
        """document id → its passages' positions, in index order, made once (on first use)."""
        doc_ids = (self.passages.heads()[1] if isinstance(self.passages, PassageLines)
                   else [p.document_id for p in self.passages])
        found: dict[str, list[int]] = {}
        for i, doc_id in enumerate(doc_ids):
            found.setdefault(doc_id, []).append(i)
        return found

    def document(self, document_id: str) -> list[Passage]:
        """One document's passages in reading order ("Vis hele kilden"), without reading the
        other documents' passages: at 100,000 passages a scan would parse them all."""
        passages = [self.passages[i] for i in self._documents.get(document_id, [])]
        return sorted(passages, key=lambda p: p.position)

    @functools.cached_property
    def kinds(self) -> list[str]:
        """Document types in the corpus (one passage read per document), for the filters."""
        return sorted({self.passages[at[0]].kind for at in self._documents.values()})

    def ask(
        self, question: str, k: int = 5, retriever: str = DEFAULT_RETRIEVER,
        municipality: str | None = None,
    ) -> Answer:
        question = validate_question(question)
        if retriever not in self.retrievers:
            choices = ", ".join(sorted(self.retrievers))
            raise ValueError(f"unknown retriever {retriever!r}; choose one of {choices}")
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        language = detect_language(question)
        named = [municipality] if municipality else named_municipalities(question)
        covered = {c.casefold() for c in self.covered}
        towns = {t.casefold() for t in named if t.casefold() in covered}
        if named and not towns:
            message = messages.not_covered(named, self.covered, language)
            return Answer(question, language, False, message, ())
        found = self._search(question, language, named, towns, k, retriever)
        hits, evidence, query_vector = found
        answered = bool(hits) and self.abstainer.answers(evidence)
        hits = [self._highlight(question, query_vector, h, i < 3) for i, h in enumerate(hits)]
        town = named[0] if named else (hits[0].passage.municipality if hits else "")
        message = messages.answer_message(language, answered, self.contact(town) if town else None)
        return Answer(question, language, answered, message, tuple(hits))

    def evidence(self, question: str, retriever: str = DEFAULT_RETRIEVER) -> Evidence | None:
        """The abstention evidence for a question (None when it names an uncovered town), for
        calibration; the same path as `ask`."""
        question = validate_question(question)
        named = named_municipalities(question)
        covered = {c.casefold() for c in self.covered}
        towns = {t.casefold() for t in named if t.casefold() in covered}
        if named and not towns:
            return None
        language = detect_language(question)
        return self._search(question, language, named, towns, 5, retriever)[1]

    def _search(
        self, question: str, language: str, named: list[str], towns: set[str], k: int,
        retriever: str,
    ) -> tuple[list[Hit], Evidence, Any]:
        query_vector = self.dense.query_vector(question)
        if towns:  # filtered inside both searches, as deep as before the filter moved in
            allowed = np.sort(np.concatenate([self._towns[t][1] for t in sorted(towns)]))
            mask = np.zeros(len(self.passages), dtype=bool)
            mask[allowed] = True
            pool = min(len(allowed), TOWN_POOL)
            plain = self.dense.search_vector(query_vector, pool, allowed=allowed)
            lexical_hits = self.lexical.search(question, pool, allowed=mask)
        else:
            pool = min(len(self.passages), max(POOL, k))
            plain = self.dense.search_vector(query_vector, pool)
            lexical_hits = self.lexical.search(question, pool)
        dense_hits = self.windows.rescore(query_vector, plain)
        if retriever == "dense":
            ranked = dense_hits
        elif retriever == "bm25":
            ranked = lexical_hits
        else:
            ranked = fuse(dense_hits, lexical_hits, pool, self.hybrid.fusion, self.hybrid.weight)
        hits = [replace(h, rank=r) for r, h in enumerate(ranked[:k], 1)]
        known = self.lexical.known_fraction(question, ignore=named)
        evidence = Evidence.of(question, language, plain, lexical_hits, ranked, known)
        return hits, evidence, query_vector

    def _highlight(self, question: str, qv: Any, hit: Hit, use_vectors: bool) -> Hit:
        text = best_sentences(
            question,
            hit.passage.text,
            qv if use_vectors else None,
            self.sentence_vectors if use_vectors else None,
            title=hit.passage.title,
        )
        return replace(hit, highlight=text)


def _positions_by_town(passages: Sequence[Passage]) -> dict[str, tuple[str, np.ndarray]]:
    """casefolded municipality → (its name as written, its passages' positions), once per load:
    a town filter then costs nothing to set up per question, even at 100,000 passages."""
    names = (passages.municipalities() if isinstance(passages, PassageLines)
             else [p.municipality for p in passages])
    found: dict[str, tuple[str, list[int]]] = {}
    for i, name in enumerate(names):
        found.setdefault(name.casefold(), (name, []))[1].append(i)
    return {t: (name, np.asarray(at, dtype=np.int64)) for t, (name, at) in found.items()}


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
