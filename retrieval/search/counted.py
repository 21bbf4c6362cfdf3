"""BM25 scored at question time from word counts, so that adding a document rescores nothing.

bm25s keeps a score for every (passage, term): the corpus statistics (number of passages, mean
length, each term's document frequency) and the compound splitter, which learns from the whole
corpus, are baked into them, so one added document meant rescoring and rewriting all of them
(1.0-1.5 s and 140 MB at 100,000 passages). Lucene keeps what an addition does not change, each
passage's own counts, and applies the statistics when a question comes; so does this. The index
stores how often each word occurs in each passage, in column segments an update appends to, and
the terms each word analyses to; a question's terms are scored from them with the formula of
bm25s's Lucene method, in the order and precision of our bm25s indexing loop, so the scores are
the ones bm25s gives, bit for bit (tests/test_ingest.py). A term once scored is kept: at most
what bm25s's score matrix held.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse

from retrieval.indexing.folder import merged_tail

# Columns scanned at a time for the passages' lengths: bounds the temporary arrays at load.
_CHUNK = 1 << 20


@dataclass(frozen=True)
class CountSegment:
    """Consecutive passages' word counts, one compressed column per word (a question reads a
    few words' columns). Covers the first ``len(indptr) - 1`` words of the vocabulary; a
    segment read from an index keeps its files and checksums, so an update links them."""

    data: np.ndarray  # int32 occurrences
    indices: np.ndarray  # int32 passage, relative to the segment's first
    indptr: np.ndarray  # int64, one more than the words covered
    rows: int
    files: tuple[Path, ...] = ()
    digests: tuple[str | None, ...] = ()

    @classmethod
    def of(cls, counts: sparse.spmatrix) -> CountSegment:
        csc = sparse.csc_matrix(counts)
        csc.sort_indices()
        return cls(csc.data.astype(np.int32), csc.indices.astype(np.int32),
                   csc.indptr.astype(np.int64), int(csc.shape[0]))

    @property
    def words(self) -> int:
        return len(self.indptr) - 1

    def matrix(self, words: int) -> sparse.csc_matrix:
        """As a scipy matrix padded to ``words`` columns (a copy of the arrays)."""
        indptr = np.concatenate([self.indptr, np.full(words - self.words, self.indptr[-1])])
        return sparse.csc_matrix((np.asarray(self.data), np.asarray(self.indices), indptr),
                                 shape=(self.rows, words))

    def problem(self, vocabulary: int) -> str | None:
        if self.words > vocabulary:
            return f"a count segment covers {self.words} words, the vocabulary has {vocabulary}"
        if len(self.data) != len(self.indices) or self.indptr[-1] != len(self.data):
            return "a count segment's arrays do not fit together"
        if len(self.indices) and int(np.max(self.indices)) >= self.rows:
            return f"a count segment names a passage beyond its {self.rows}"
        return None


def merged(segments: Sequence[CountSegment], words: int) -> list[CountSegment]:
    """Trailing segments merged by doubling, as every segmented file (`folder.merged_tail`)."""
    return merged_tail(segments, lambda s: s.rows, lambda a, b: CountSegment.of(
        sparse.vstack([a.matrix(words), b.matrix(words)])))


class CountedBM25:
    """What the lexical retriever asks of bm25s — ``vocab_dict`` and ``get_scores_from_ids`` —
    answered from word counts and the words' terms."""

    def __init__(self, segments: Sequence[CountSegment], term_words: Sequence[Sequence[int]],
                 terms: Sequence[str], words: int, k1: float, b: float) -> None:
        self.segments = tuple(segments)
        self.vocab_dict = {t: i for i, t in enumerate(terms)}
        self.words_of = [np.asarray(w, np.int64) for w in term_words]
        self.num_docs = sum(s.rows for s in self.segments)
        self._offsets = np.cumsum([0] + [s.rows for s in self.segments])
        self._words, self._k1, self._b = words, k1, b
        self._norm_: np.ndarray | None = None
        self._scored: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    @property
    def _norm(self) -> np.ndarray:
        """Each passage's length normalisation, as bm25s computes it (float64); made at the
        first question, so an update, which asks none, never reads every count."""
        if self._norm_ is None:
            every = np.concatenate(self.words_of) if self.words_of else np.zeros(0, np.int64)
            terms_per_word = np.bincount(every, minlength=self._words)
            doc_len = np.concatenate([_lengths(s, terms_per_word) for s in self.segments])
            avg_len = doc_len.mean() if len(doc_len) else 1.0
            self._norm_ = self._k1 * ((1 - self._b) + self._b * doc_len / avg_len)
        return self._norm_

    def get_scores_from_ids(self, ids: Sequence[int]) -> np.ndarray:
        """Every passage's summed score for these terms, float32, added term by term as bm25s
        adds its stored columns."""
        scores = np.zeros(self.num_docs, dtype=np.float32)
        for t in ids:
            rows, values = self._column(int(t))
            scores[rows] += values
        return scores

    def _column(self, term: int) -> tuple[np.ndarray, np.ndarray]:
        found = self._scored.get(term)
        if found is not None:
            return found
        rows, tf = self._term_counts(self.words_of[term])
        df = len(rows)
        idf = np.float32(math.log(1 + (self.num_docs - df + 0.5) / (df + 0.5)))
        tf64 = tf.astype(np.float64)
        values = (idf * (tf64 / (self._norm[rows] + tf64))).astype(np.float32)
        # At most every term's column, as bm25s's matrix held (62 MB at 100,000 passages); a race
        # only scores a term twice.
        found = self._scored[term] = (rows.astype(np.int32), values)
        return found

    def _term_counts(self, words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Passages using any of the words, and the words' summed counts in each."""
        rows: list[np.ndarray] = []
        counts: list[np.ndarray] = []
        for seg, offset in zip(self.segments, self._offsets.tolist(), strict=False):
            for w in words[words < seg.words].tolist():
                start, stop = int(seg.indptr[w]), int(seg.indptr[w + 1])
                rows.append(np.asarray(seg.indices[start:stop], np.int64) + offset)
                counts.append(np.asarray(seg.data[start:stop], np.int64))
        if len(rows) == 1:
            return rows[0], counts[0]
        if not rows:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        summed = np.bincount(np.concatenate(rows), np.concatenate(counts), self.num_docs)
        hit = np.flatnonzero(summed)
        return hit, summed[hit].astype(np.int64)


def _lengths(seg: CountSegment, terms_per_word: np.ndarray) -> np.ndarray:
    """Each passage's length in terms (what bm25s counts), column block by column block."""
    total = np.zeros(seg.rows, np.float64)
    indptr = np.asarray(seg.indptr)
    start = 0
    while start < seg.words:
        stop = int(np.searchsorted(indptr, indptr[start] + _CHUNK, side="right")) - 1
        stop = min(max(stop, start + 1), seg.words)
        lo, hi = int(indptr[start]), int(indptr[stop])
        per_word = np.repeat(terms_per_word[start:stop], np.diff(indptr[start:stop + 1]))
        weights = per_word * np.asarray(seg.data[lo:hi], np.int64)
        total += np.bincount(np.asarray(seg.indices[lo:hi]), weights, seg.rows)
        start = stop
    return total.astype(np.int64)
