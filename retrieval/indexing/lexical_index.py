"""The BM25 index on disk, and its update when documents come and go.

`BM25Retriever.index` analyses every passage and runs bm25s's scoring loop: ~40 s at 100,000
passages, too slow to repeat at every start or every added document. Here the same index is
kept as what it is made of — how often each word occurs in each passage (a sparse matrix) —
from which the BM25 scores are recomputed with array arithmetic in well under a second:

  bm25/
    data.csc.index.npy, indices.csc.index.npy, indptr.csc.index.npy,
    vocab.index.json, params.index.json   bm25s's own files (scores and term vocabulary)
    words.json                            word vocabulary with corpus counts, retriever params
    counts.npz                            passages × words occurrence counts (for updates)

The compound splitter learns from the whole corpus, so one new document can change how old
words split. Every update therefore re-analyses the word vocabulary (not the passages) and
rescores everything; the result is the index `BM25Retriever.index` builds over the same
passages, score for score (tests/test_ingest.py checks this).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from retrieval.indexing.passages import as_lines
from retrieval.search.bm25lib import bm25s
from retrieval.search.lexical import BM25Retriever
from retrieval.text.chunking import embed_text
from retrieval.text.danish import Compounds, word_terms, words
from retrieval.types import Passage

WORDS_FILE = "words.json"
COUNTS_FILE = "counts.npz"
BM25S_FILES = (
    "data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy",
    "vocab.index.json", "params.index.json",
)
FILES = (*BM25S_FILES, WORDS_FILE, COUNTS_FILE)


@dataclass(frozen=True)
class LexicalIndex:
    """Word counts per passage (rows in passage order) and the BM25 index scored from them."""

    words: tuple[str, ...]
    counts: sparse.csr_matrix
    retriever: BM25Retriever
    totals: np.ndarray  # each word's count in the whole corpus (the column sums of counts)

    @classmethod
    def build(cls, passages: Sequence[Passage], retriever: BM25Retriever | None = None
              ) -> LexicalIndex:
        vocab: dict[str, int] = {}
        counts = _count(passages, vocab)
        return _scored(tuple(vocab), counts, _column_sums(counts), passages,
                       retriever or BM25Retriever())

    def update(self, keep: np.ndarray, added: Sequence[Passage],
               passages: Sequence[Passage] | None = None) -> LexicalIndex:
        """Drop the rows where ``keep`` is False, append ``added``, and rescore. ``passages``,
        when the caller has it, is that result already (the kept passages, then ``added``)."""
        retriever = self.retriever
        if passages is None:
            passages = as_lines(retriever.passages).taken(keep) + added
        vocab = {w: i for i, w in enumerate(self.words)}
        new = _count(added, vocab)
        # Word totals updated by what left and what came, not summed again over 100,000 rows.
        totals = np.zeros(len(vocab), np.int64)
        totals[: len(self.totals)] = self.totals
        totals[: self.counts.shape[1]] -= _column_sums(self.counts[np.flatnonzero(~keep)])
        totals += _column_sums(new)
        old = self.counts if keep.all() else self.counts[np.flatnonzero(keep)]
        counts = sparse.csr_matrix(  # the rows stacked without copying them through scipy
            (np.concatenate([old.data, new.data]).astype(np.int32, copy=False),
             np.concatenate([old.indices, new.indices]).astype(np.int32, copy=False),
             np.concatenate([old.indptr, new.indptr[1:] + old.indptr[-1]]).astype(np.int64)),
            shape=(old.shape[0] + new.shape[0], len(vocab)))
        fresh = BM25Retriever(k1=retriever.k1, b=retriever.b, part_weight=retriever.part_weight)
        return _scored(tuple(vocab), counts, totals, passages, fresh)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        bm25 = self.retriever.bm25
        if bm25 is None:
            raise ValueError("an empty lexical index cannot be saved; the corpus has no passages")
        bm25.save(str(folder), show_progress=False)
        record = {
            "params": self.retriever.params,
            "words": dict(zip(self.words, self.totals.tolist(), strict=True)),
        }
        (folder / WORDS_FILE).write_text(json.dumps(record, ensure_ascii=False), "utf-8")
        sparse.save_npz(folder / COUNTS_FILE, self.counts, compressed=False)

    @classmethod
    def load(cls, folder: Path, passages: Sequence[Passage], with_counts: bool = True
             ) -> LexicalIndex:
        """Rebuild the retriever from the saved files; ``with_counts=False`` skips the matrix
        only updates need, for a faster start."""
        for name in FILES if with_counts else (*BM25S_FILES, WORDS_FILE):
            if not (folder / name).is_file():
                raise FileNotFoundError(f"{folder / name} is missing")
        record = json.loads((folder / WORDS_FILE).read_text("utf-8"))
        params = record["params"]
        retriever = BM25Retriever(params["k1"], params["b"], params["part_weight"])
        if retriever.params != params:
            raise ValueError(
                f"{folder} was written with BM25 settings {params}, this program uses "
                f"{retriever.params}"
            )
        # The score arrays are mapped, not read: a question touches only its terms' postings,
        # so most of the ~55 MB (at 100,000 passages) never becomes resident, and an update
        # (with_counts) scores anew from the counts and never reads them.
        bm25 = bm25s.BM25.load(str(folder), show_progress=False, mmap=True)
        if bm25.scores["num_docs"] != len(passages):
            raise ValueError(
                f"{folder} scores {bm25.scores['num_docs']} passages, the index has {len(passages)}"
            )
        counted = {w: n for w, n in record["words"].items() if n > 0}
        retriever.attach(passages, Compounds(counted), bm25)
        if with_counts:
            counts = sparse.load_npz(folder / COUNTS_FILE).tocsr()
        else:
            counts = sparse.csr_matrix((len(passages), len(record["words"])), dtype=np.int32)
        totals = np.fromiter(record["words"].values(), np.int64, len(record["words"]))
        return cls(tuple(record["words"]), counts, retriever, totals)


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


def _scored(vocabulary: tuple[str, ...], counts: sparse.csr_matrix, totals: np.ndarray,
            passages: Sequence[Passage], retriever: BM25Retriever) -> LexicalIndex:
    """Drop words no passage uses any more, split the rest, and score BM25 as bm25s does."""
    used = np.flatnonzero(totals > 0)
    if len(used) < len(vocabulary):
        counts = counts[:, used].tocsr()
        vocabulary = tuple(vocabulary[i] for i in used)
        totals = totals[used]
    if not passages:
        retriever.index(())
        return LexicalIndex(vocabulary, counts, retriever, totals)
    compounds = Compounds(dict(zip(vocabulary, totals.tolist(), strict=True)))
    terms: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    for row, word in enumerate(vocabulary):
        for term in word_terms(word, compounds):
            rows.append(row)
            cols.append(terms.setdefault(term, len(terms)))
    analysis = sparse.csr_matrix(
        (np.ones(len(rows), np.int32), (rows, cols)), shape=(len(vocabulary), len(terms))
    )
    tf = (counts @ analysis).tocsr()  # passages × terms
    # A product of positive counts has no duplicates and no zeros; its rows' columns are not
    # sorted, which nothing below depends on (row sums are of integers, the CSC is made by
    # rows in order), so they are left as they are: sorting took ~0.25 s at 100,000 passages.
    tf.eliminate_zeros()
    retriever.attach(passages, compounds, _bm25(tf, terms, retriever))
    return LexicalIndex(vocabulary, counts, retriever, totals)


def _bm25(tf: sparse.csr_matrix, terms: dict[str, int], retriever: BM25Retriever) -> bm25s.BM25:
    """bm25s's Lucene scores, computed in the same order and precision as its indexing loop."""
    k1, b = retriever.k1, retriever.b
    n_docs = tf.shape[0]
    # Row sums by a cumulative sum, exact for integer counts and much faster than scipy's.
    running = np.concatenate([[0], np.cumsum(tf.data, dtype=np.int64)])
    doc_len = running[tf.indptr[1:]] - running[tf.indptr[:-1]]
    avg_len = doc_len.mean()
    df = np.bincount(tf.indices, minlength=len(terms))  # no explicit zeros: eliminated
    idf = np.zeros(len(terms), dtype=np.float32)
    for i, d in enumerate(df.tolist()):  # math.log, as bm25s: numpy's log may differ by an ulp
        if d:
            idf[i] = math.log(1 + (n_docs - d + 0.5) / (d + 0.5))
    tf_values = tf.data.astype(np.float32)
    norm = k1 * ((1 - b) + b * doc_len / avg_len)
    # tfc = tf / (norm + tf); values = idf * tfc: in float64 as before, in one buffer.
    tfc = np.repeat(norm, np.diff(tf.indptr))
    np.add(tfc, tf_values, out=tfc)
    np.divide(tf_values, tfc, out=tfc)
    np.multiply(idf[tf.indices], tfc, out=tfc)
    values = tfc.astype(np.float32)
    empty = len(terms)  # bm25s adds an empty token with no postings
    # tf is canonical CSR, so its CSC has each column's rows in order, as bm25s's has.
    scored = sparse.csr_matrix((values, tf.indices, tf.indptr),
                               shape=(n_docs, empty + 1)).tocsc()
    bm25 = bm25s.BM25(method="lucene", k1=k1, b=b)
    bm25.scores = {
        "data": scored.data.astype(np.float32, copy=False),
        "indices": scored.indices.astype(np.int32, copy=False),
        "indptr": scored.indptr.astype(np.int64, copy=False),
        "num_docs": n_docs,
    }
    bm25.vocab_dict = {**terms, "": empty}
    bm25.unique_token_ids_set = set(bm25.vocab_dict.values())
    bm25.nonoccurrence_array = None
    return bm25


def describe(index: LexicalIndex) -> dict[str, Any]:
    """Sizes worth recording in a manifest."""
    bm25 = index.retriever.bm25
    return {"words": len(index.words), "terms": len(bm25.vocab_dict) - 1 if bm25 else 0}
