"""Run questions through retrievers and keep one record per (question, retriever).

The gold set goes through the product itself (`Assistant.ask`), so what is measured is what a
citizen gets, abstention included. BEIR sets index their passages with each retriever directly.
Indexes are built in a temporary folder or in memory; the app's index/ is never touched.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from evaluation.beir import BeirSet
from evaluation.gold import GoldQuestion, gold_qrels, relevant_ids
from evaluation.records import Evaluation, QueryRecord
from retrieval.search.base import Retriever
from retrieval.types import Passage

if TYPE_CHECKING:
    from retrieval.answer.assistant import Assistant

KNOWN = ("dense", "bm25", "hybrid")


def choose(requested: str | Iterable[str], available: Sequence[str]) -> list[str]:
    """Resolve 'all' (every available one, in KNOWN order) or named retrievers; names the fix."""
    names = [requested] if isinstance(requested, str) else list(requested)
    if "all" in names:
        return [n for n in KNOWN if n in available] + [n for n in available if n not in KNOWN]
    missing = [n for n in names if n not in available]
    if missing:
        raise ValueError(
            f"retriever(s) {missing} not available here; choose from {list(available)} or 'all'"
        )
    return list(dict.fromkeys(names))


def evaluate_gold(
    assistant: Assistant, questions: Sequence[GoldQuestion], retrievers: Sequence[str],
    k: int = 10,
) -> list[QueryRecord]:
    """Ask every question with every retriever through the product; one record each."""
    passages = assistant.passages
    records: list[QueryRecord] = []
    for name in retrievers:
        if questions:  # warm-up, so the first timed question does not pay for lazy start-up
            assistant.ask(questions[0].question, k=k, retriever=name)
        assistant.dense.forget_queries()  # each question's latency includes encoding it
        for q in questions:
            start = time.perf_counter()
            answer = assistant.ask(q.question, k=k, retriever=name)
            latency = (time.perf_counter() - start) * 1000
            records.append(QueryRecord(
                query_id=q.id, retriever=name, question=q.question,
                passage_ids=tuple(h.passage.id for h in answer.hits),
                scores=tuple(float(h.score) for h in answer.hits),
                relevant=relevant_ids(q, passages), latency_ms=latency,
                answered=answer.answered, answerable=q.answerable,
            ))
    return records


def evaluate_retriever(
    retriever: Retriever, name: str, queries: dict[str, str],
    qrels: dict[str, dict[str, int]], k: int = 10,
) -> list[QueryRecord]:
    """Search every query with one indexed retriever; answered is always True (no abstention)."""
    records = []
    for qid, text in queries.items():
        start = time.perf_counter()
        hits = retriever.search(text, k)
        latency = (time.perf_counter() - start) * 1000
        relevant = tuple(pid for pid, rel in qrels.get(qid, {}).items() if rel > 0)
        records.append(QueryRecord(
            query_id=qid, retriever=name, question=text,
            passage_ids=tuple(h.passage.id for h in hits),
            scores=tuple(float(h.score) for h in hits), relevant=relevant, latency_ms=latency,
        ))
    return records


def beir_retrievers(
    names: Sequence[str], passages: Sequence[Passage], model: str | None = None,
) -> Iterator[tuple[str, Retriever, float]]:
    """(name, indexed retriever, seconds spent indexing) for each requested name, in order.

    The retrievers are the product's own (`compose`: dense with window rescoring, BM25, their
    hybrid), so a BEIR score is a score of what answers citizens. Dense and BM25 are indexed
    only when a requested retriever needs them; hybrid reuses both.
    """
    from retrieval.answer.assistant import compose
    from retrieval.embedding.cache import EncodedSentences
    from retrieval.embedding.model import get_embedder
    from retrieval.search.dense import DenseRetriever
    from retrieval.search.lexical import BM25Retriever

    unknown = [n for n in names if n not in KNOWN]
    if unknown:
        raise ValueError(f"unknown retriever {unknown[0]!r}; choose from {list(KNOWN)} or 'all'")
    seconds: dict[str, float] = {}
    dense = DenseRetriever(get_embedder(model))
    lexical = BM25Retriever()
    for name, part in (("dense", dense), ("bm25", lexical)):
        if name in names or "hybrid" in names:
            start = time.perf_counter()
            part.index(passages)
            seconds[name] = time.perf_counter() - start
    seconds["hybrid"] = seconds.get("dense", 0.0) + seconds.get("bm25", 0.0)
    product = compose(dense, lexical, EncodedSentences(dense.embedder.encode_passages))
    for name in names:
        yield name, product[name], seconds[name]


def run_beir(
    beir: BeirSet, names: Sequence[str], k: int = 10, model: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> Evaluation:
    """Index the BEIR passages with each retriever (in memory) and search every judged query."""
    records: list[QueryRecord] = []
    seconds: dict[str, float] = {}
    index_seconds: dict[str, float] = {}
    for name, retriever, indexing in beir_retrievers(names, beir.passages, model):
        start = time.perf_counter()
        records += evaluate_retriever(retriever, name, beir.queries, beir.qrels, k)
        index_seconds[name] = indexing
        seconds[name] = indexing + time.perf_counter() - start
        if progress is not None:
            progress(f"  {name}: indexed in {indexing:.1f} s, {len(beir.queries)} queries in "
                     f"{seconds[name] - indexing:.1f} s")
    return Evaluation(
        dataset=beir.name, kind="beir", k=k, records=tuple(records), qrels=beir.qrels,
        texts={p.id: p.text for p in beir.passages}, seconds=seconds,
        index_seconds=index_seconds,
    )


def open_assistant(corpus_dir: Path | str, index_dir: Path | str | None = None,
                   model: str | None = None) -> tuple[Assistant, float | None]:
    """The product over the corpus, and the seconds its build took: built in a temporary folder
    (never the app's index/), or `index_dir` when given (an index already built from this
    corpus: a stale one is refused, so its scores are the corpus's; saves the build, minutes on
    the embedded corpus)."""
    from retrieval.answer.assistant import Assistant
    from retrieval.indexing.build import build

    if index_dir is not None:
        return Assistant.load(index_dir, model=model, corpus_dir=corpus_dir), None
    with tempfile.TemporaryDirectory(prefix="sporg-eval-") as tmp:
        start = time.perf_counter()
        build(corpus_dir, Path(tmp) / "index", model, show_progress=False)
        assistant = Assistant.load(Path(tmp) / "index", model=model, corpus_dir=corpus_dir)
        return assistant, time.perf_counter() - start


def run_gold(
    questions: Sequence[GoldQuestion], names: str | Sequence[str] = "all", k: int = 10,
    corpus_dir: Path | str = "corpus", model: str | None = None, dataset: str = "gold",
    index_dir: Path | str | None = None,
) -> Evaluation:
    """Ask every question of the product over the corpus (`open_assistant`)."""
    assistant, build_seconds = open_assistant(corpus_dir, index_dir, model)
    chosen = choose(names, list(assistant.retrievers))
    records: list[QueryRecord] = []
    seconds: dict[str, float] = {}
    for name in chosen:
        start = time.perf_counter()
        records += evaluate_gold(assistant, questions, [name], k)
        seconds[name] = time.perf_counter() - start
    return Evaluation(
        dataset=dataset, kind="gold", k=k, records=tuple(records),
        qrels=gold_qrels(questions, assistant.passages),
        texts={p.id: p.text for p in assistant.passages}, seconds=seconds,
        index_seconds={} if build_seconds is None else dict.fromkeys(chosen, build_seconds),
        groups={q.id: q.type for q in questions},
    )
