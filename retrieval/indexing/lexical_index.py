"""The BM25 index on disk, and its update when documents come and go.

`BM25Retriever.index` analyses every passage and runs bm25s's scoring loop: ~40 s at 100,000
passages, too slow to repeat at every start or every added document. Here the index is kept as
what it is made of, how often each word occurs in each passage, and scored when a question
comes (retrieval/search/counted.py), so an update that adds documents writes only their counts:

  bm25/
    words.json                 retriever settings; the word vocabulary with corpus counts; each
                               term's words; the passages in each count segment
    counts.data.npy, counts.indices.npy, counts.indptr.npy
                               passages × words occurrence counts, by word (CSC); an update
                               that adds documents writes theirs as counts-1.*.npy, ... and
                               links the unchanged files from the previous index

The compound splitter learns from the whole corpus, so one new document can change how old
words split. Every update therefore re-analyses the word vocabulary (not the passages); the
scores are those `BM25Retriever.index` gives over the same passages, score for score
(tests/test_ingest.py checks this).
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from retrieval.indexing.passages import as_lines
from retrieval.search.counted import CountedBM25, CountSegment, merged
from retrieval.search.lexical import BM25Retriever
from retrieval.text.chunking import embed_text
from retrieval.text.danish import Compounds, word_terms, words
from retrieval.types import Passage

WORDS_FILE = "words.json"
ARRAYS = ("data", "indices", "indptr")
_SEGMENT = re.compile(r"^counts(?:-(\d+))?\.(data|indices|indptr)\.npy$")


@dataclass(frozen=True)
class LexicalIndex:
    """Word counts per passage (segments of rows in passage order) and the BM25 retriever
    scoring from them."""

    words: tuple[str, ...]
    segments: tuple[CountSegment, ...]
    retriever: BM25Retriever
    totals: np.ndarray  # each word's count in the whole corpus (the counts' column sums)

    @classmethod
    def build(cls, passages: Sequence[Passage], retriever: BM25Retriever | None = None
              ) -> LexicalIndex:
        vocab: dict[str, int] = {}
        counts = _count(passages, vocab)
        return _scored(tuple(vocab), (CountSegment.of(counts),), _column_sums(counts), passages,
                       retriever or BM25Retriever())

    def update(self, keep: np.ndarray, added: Sequence[Passage],
               passages: Sequence[Passage] | None = None) -> LexicalIndex:
        """Drop the rows where ``keep`` is False, append ``added``, and score anew. ``passages``,
        when the caller has it, is that result already (the kept passages, then ``added``).

        Adding only appends a segment; a removal compacts the counts into one."""
        retriever = self.retriever
        if passages is None:
            passages = as_lines(retriever.passages).taken(keep) + added
        vocab = {w: i for i, w in enumerate(self.words)}
        new = _count(added, vocab)
        totals = np.zeros(len(vocab), np.int64)
        totals[: len(self.totals)] = self.totals
        totals += _column_sums(new)
        fresh = BM25Retriever(k1=retriever.k1, b=retriever.b, part_weight=retriever.part_weight)
        if keep.all():
            segments = (*self.segments, *([CountSegment.of(new)] if new.shape[0] else []))
            return _scored(tuple(vocab), segments, totals, passages, fresh)
        old = sparse.vstack([s.matrix(len(self.words)) for s in self.segments]).tocsr()
        gone = old[np.flatnonzero(~keep)]
        totals[: len(self.words)] -= _column_sums(gone.tocsr())
        new.resize((new.shape[0], len(vocab)))
        old.resize((old.shape[0], len(vocab)))
        counts = sparse.vstack([old[np.flatnonzero(keep)], new]).tocsr()
        used = np.flatnonzero(totals > 0)  # words no passage uses any more are dropped
        vocabulary = tuple(vocab)
        if len(used) < len(vocabulary):
            counts = counts[:, used]
            vocabulary, totals = tuple(vocabulary[i] for i in used), totals[used]
        return _scored(vocabulary, (CountSegment.of(counts),), totals, passages, fresh)

    def save(self, folder: Path) -> dict[str, str | None]:
        """Write (or link) every file; returns name → checksum for files linked from the index
        they were read from, None for those written (to be checksummed)."""
        folder.mkdir(parents=True, exist_ok=True)
        scorer = self.retriever.bm25
        if not isinstance(scorer, CountedBM25):
            raise ValueError("an empty lexical index cannot be saved; the corpus has no passages")
        segments = merged(self.segments, len(self.words))
        out: dict[str, str | None] = {}
        for j, seg in enumerate(segments):
            digests = seg.digests or (None,) * len(ARRAYS)
            for array, path, digest in zip(ARRAYS, _paths(folder, j), digests, strict=True):
                out[f"{folder.name}/{path.name}"] = _linked(digest, seg, array, path)
        term_words = {t: w.tolist() for t, w in zip(scorer.vocab_dict, scorer.words_of,
                                                    strict=True)}
        record = {
            "params": self.retriever.params,
            "words": dict(zip(self.words, self.totals.tolist(), strict=True)),
            "terms": term_words,
            "segments": [s.rows for s in segments],
        }
        (folder / WORDS_FILE).write_text(json.dumps(record, ensure_ascii=False), "utf-8")
        out[f"{folder.name}/{WORDS_FILE}"] = None
        return out

    @classmethod
    def load(cls, folder: Path, passages: Sequence[Passage],
             digests: Mapping[str, str] | None = None) -> LexicalIndex:
        """Map the count files and attach the retriever; ``digests`` (the manifest's, keyed
        ``bm25/<name>``) let an update link unchanged files instead of writing them."""
        if not (folder / WORDS_FILE).is_file():
            raise FileNotFoundError(f"{folder / WORDS_FILE} is missing")
        record = json.loads((folder / WORDS_FILE).read_text("utf-8"))
        params = record["params"]
        retriever = BM25Retriever(params["k1"], params["b"], params["part_weight"])
        if retriever.params != params:
            raise ValueError(
                f"{folder} was written with BM25 settings {params}, this program uses "
                f"{retriever.params}"
            )
        digests = digests or {}
        found = sorted({int(m[1] or 0) for p in folder.iterdir() if (m := _SEGMENT.match(p.name))})
        if found != list(range(len(record["segments"]))):
            raise ValueError(f"{folder} has count segments {found}, words.json lists "
                             f"{len(record['segments'])}")
        segments = []
        for j, rows in enumerate(record["segments"]):
            paths = _paths(folder, j)
            data, indices, indptr = (np.load(p, mmap_mode="r", allow_pickle=False)
                                     for p in paths)
            segments.append(CountSegment(data, indices, indptr, rows=int(rows), files=paths,
                                         digests=tuple(digests.get(f"{folder.name}/{p.name}")
                                                       for p in paths)))
        words_ = tuple(record["words"])
        for seg in segments:
            if (problem := seg.problem(len(words_))) is not None:
                raise ValueError(f"{folder}: {problem}")
        if sum(s.rows for s in segments) != len(passages):
            raise ValueError(f"{folder} counts {sum(s.rows for s in segments)} passages, the "
                             f"index has {len(passages)}")
        totals = np.fromiter(record["words"].values(), np.int64, len(words_))
        scorer = CountedBM25(segments, list(record["terms"].values()), list(record["terms"]),
                             len(words_), retriever.k1, retriever.b)
        retriever.attach(passages, Compounds(dict(zip(words_, totals.tolist(), strict=True))),
                         scorer)
        return cls(words_, tuple(segments), retriever, totals)


def _paths(folder: Path, j: int) -> tuple[Path, ...]:
    stem = "counts" if j == 0 else f"counts-{j}"
    return tuple(folder / f"{stem}.{a}.npy" for a in ARRAYS)


def _linked(digest: str | None, seg: CountSegment, array: str, to: Path) -> str | None:
    """Link the segment's unchanged file from the previous index (its checksum returned), or
    write the array (None: to be checksummed)."""
    source = dict(zip(ARRAYS, seg.files, strict=False)).get(array)
    if digest is not None and source is not None:
        try:
            os.link(source, to)
            return digest
        except OSError:
            pass
    np.save(to, np.ascontiguousarray(getattr(seg, array)))
    return None


def _count(passages: Sequence[Passage], vocab: dict[str, int]) -> sparse.csr_matrix:
    """Occurrences of each word in each passage; new words are appended to ``vocab``."""
    indptr = [0]
    cols: list[int] = []
    data: list[int] = []
    for p in passages:
        for word, n in Counter(words(embed_text(p))).items():
            col = vocab.get(word)
            if col is None:
                col = vocab[word] = len(vocab)
            cols.append(col)
            data.append(n)
        indptr.append(len(cols))
    return sparse.csr_matrix(
        (np.asarray(data, np.int32), np.asarray(cols, np.int32), np.asarray(indptr, np.int64)),
        shape=(len(passages), len(vocab)),
    )


def _column_sums(counts: sparse.csr_matrix) -> np.ndarray:
    """How often each word occurs in the corpus (exact: integer counts)."""
    sums = np.bincount(counts.indices, weights=counts.data, minlength=counts.shape[1])
    return sums.astype(np.int64)


def _scored(vocabulary: tuple[str, ...], segments: Sequence[CountSegment], totals: np.ndarray,
            passages: Sequence[Passage], retriever: BM25Retriever) -> LexicalIndex:
    """Split the vocabulary's words against the corpus and attach a scorer over the counts."""
    if not passages:
        retriever.index(())
        return LexicalIndex(vocabulary, tuple(segments), retriever, totals)
    compounds = Compounds(dict(zip(vocabulary, totals.tolist(), strict=True)))
    terms: dict[str, list[int]] = {}
    for row, word in enumerate(vocabulary):
        for term in word_terms(word, compounds):
            terms.setdefault(term, []).append(row)
    scorer = CountedBM25(segments, list(terms.values()), list(terms), len(vocabulary),
                         retriever.k1, retriever.b)
    retriever.attach(passages, compounds, scorer)
    return LexicalIndex(vocabulary, tuple(segments), retriever, totals)


def describe(index: LexicalIndex) -> dict[str, Any]:
    """Sizes worth recording in a manifest."""
    scorer = index.retriever.bm25
    return {"words": len(index.words), "terms": len(scorer.vocab_dict) if scorer else 0}

