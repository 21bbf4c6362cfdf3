"""`python -m evaluation figures`: precision, recall and "what" accuracy of figure extraction.

The labelled set (evaluation/data/figures.jsonl) was written by reading the cleaned text of the
5 seed documents and the 26 corpus-extra documents before the extractor existed. Each label
names a document, a fragment of the sentence, the value, the unit and what the figure is for.
An extracted figure matches a label when the document, value and unit agree and the fragment is
in its sentence (one to one). "What" is right when at least half of the label's content words
(Snowball stems, function words ignored) are in the extracted phrase and that phrase has at most
8 content words, so a whole sentence never counts as a phrase.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from retrieval.indexing.figures import Figure, extract
from retrieval.ingest import catalog
from retrieval.ingest.cleaning import is_excerpt
from retrieval.ingest.corpus import load_document
from retrieval.text.chunking import chunk_document
from retrieval.text.danish import stem
from retrieval.text.words import STOP_WORDS

LABELS = Path(__file__).parent / "data" / "figures.jsonl"


@dataclass(frozen=True)
class Score:
    name: str
    documents: int
    labels: int
    extracted: int
    matched: int
    what_right: int

    @property
    def precision(self) -> float:
        return self.matched / self.extracted if self.extracted else 1.0

    @property
    def recall(self) -> float:
        return self.matched / self.labels if self.labels else 1.0

    @property
    def what(self) -> float:
        return self.what_right / self.matched if self.matched else 1.0

    def to_json(self) -> dict[str, object]:
        return {"set": self.name, "documents": self.documents, "labels": self.labels,
                "extracted": self.extracted, "matched": self.matched,
                "precision": round(self.precision, 4), "recall": round(self.recall, 4),
                "what": round(self.what, 4)}


def content(text: str) -> set[str]:
    words = (w.strip(".,:;()»«\"–-") for w in text.casefold().split())
    return {stem(w) for w in words if w and w not in STOP_WORDS}


def what_right(label: str, found: str) -> bool:
    want, got = content(label), content(found)
    return bool(want) and len(got) <= 8 and len(want & got) * 2 >= len(want)


def corpus_figures(folder: Path | str) -> tuple[list[str], list[Figure]]:
    """The figures the product extracts from a corpus folder, cleaned and chunked as it is."""
    cm = catalog.read_catalog(folder)
    docs = [load_document(cm.folder, e) for e in cm.entries]
    return [d.id for d in docs], extract(p for d in docs for p in chunk_document(d))


def score(name: str, labels: Sequence[dict], figures: Sequence[Figure], documents: int,
          misses: list[str]) -> Score:
    """One to one: each label takes the first unmatched figure that agrees with it."""
    free = list(figures)
    matched = right = 0
    for label in labels:
        hit = next((f for f in free if f.document_id == label["document_id"]
                    and abs(f.value - float(label["value"])) < 1e-6 and f.unit == label["unit"]
                    and label["text"] in f.text), None)
        if hit is None:
            misses.append(f"missed  {label['document_id']}: {label['text']!r}")
            continue
        free.remove(hit)
        matched += 1
        if what_right(label["what"], hit.what):
            right += 1
        else:
            misses.append(f"what    {label['document_id']}: {hit.what!r} for {label['what']!r}")
    misses.extend(f"extra   {f.document_id}: {f.shown} {f.what!r} in {f.text[:80]!r}"
                  for f in free)
    return Score(name, documents, len(labels), len(figures), matched, right)


def evaluate(corpus: Path | str = "corpus", labels_file: Path | str = LABELS
             ) -> tuple[list[Score], list[str]]:
    """Scored separately for the five seed documents and the page excerpts (source "(uddrag)"),
    which were labelled before the extractor existed but also read while writing its rules."""
    labels = [json.loads(x) for x in Path(labels_file).read_text(encoding="utf-8").splitlines()
              if x.strip()]
    excerpts = {e["id"] for e in catalog.read_catalog(corpus).entries
                if is_excerpt(e["source"])}
    ids, figures = corpus_figures(corpus)
    scores: list[Score] = []
    misses: list[str] = []
    for name, wanted in (("seed", False), ("excerpts", True)):
        mine_ids = [i for i in ids if (i in excerpts) == wanted]
        mine = [x for x in labels if x["document_id"] in mine_ids]
        found = [f for f in figures if f.document_id in mine_ids]
        scores.append(score(name, mine, found, len(mine_ids), misses))
    return [*scores, _total(scores)], misses


def _total(scores: Iterable[Score]) -> Score:
    s = list(scores)
    return Score("all", *(sum(getattr(x, f) for x in s) for f in
                          ("documents", "labels", "extracted", "matched", "what_right")))
