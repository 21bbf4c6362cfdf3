"""Lexical retrieval: BM25 (bm25s, Lucene variant) over Danish terms from retrieval.text.danish.

Dense vectors miss exact amounts, years and rare compounds; BM25 catches them, provided that
passages and questions are analysed alike. The compound splitter learns its vocabulary from the
passages in `index()`, so it adapts to whatever corpus is indexed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from retrieval.indexing.passages import PassageLines
from retrieval.search.base import EVERYWHERE, Retriever, Where, check_k
from retrieval.search.bm25lib import BM25S_VERSION, bm25s
from retrieval.search.facets import Facets
from retrieval.text.chunking import embed_text
from retrieval.text.danish import STEMMER, STOP_WORDS, Compounds, word_terms, words
from retrieval.types import Hit, Passage


@dataclass(frozen=True)
class _State:
    """Everything one search reads, swapped in whole so a re-index never shows half a state."""

    passages: Sequence[Passage] = ()
    compounds: Compounds | None = None
    bm25: Any = None  # bm25s.BM25 (index()) or the stored index's counted.CountedBM25
    facets: Facets = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "facets", Facets(self.passages))


class BM25Retriever(Retriever):
    name = "bm25"

    def __init__(self, k1: float = 1.2, b: float = 0.75, part_weight: float = 0.3) -> None:
        """k1, b: Lucene's defaults. part_weight: how much a query word's compound parts count.

        Parts found by splitting are weaker evidence than the words typed; at full weight they
        cost ranking quality on the Danish BEIR sets (DanFEVER), at 0.3 they gain on XQuAD-da.
        """
        self.k1 = k1
        self.b = b
        self.part_weight = part_weight
        self._state = _State()

    @property
    def passages(self) -> Sequence[Passage]:
        return self._state.passages

    @property
    def facets(self) -> Facets:
        return self._state.facets

    @property
    def compounds(self) -> Compounds | None:
        """The corpus vocabulary that compound words are split against (None before index)."""
        return self._state.compounds

    @property
    def bm25(self) -> Any:
        """The scorer searched (None before index): bm25s's, or the stored index's."""
        return self._state.bm25

    def attach(self, passages: Sequence[Passage], compounds: Compounds, bm25: Any) -> None:
        """Use a scorer made elsewhere (the stored index's, retrieval/indexing/lexical_index.py):
        anything with bm25s's ``vocab_dict``, ``get_scores_from_ids`` and a passage count."""
        scored = getattr(bm25, "num_docs", None)
        if scored is None:
            scored = bm25.scores["num_docs"]
        if scored != len(passages):
            raise ValueError(
                f"the BM25 index scores {scored} passages but there are "
                f"{len(passages)}: run `python -m retrieval build`"
            )
        # A PassageLines (loaded index) stays lazy; anything else is frozen as a tuple.
        kept = passages if isinstance(passages, tuple | PassageLines) else tuple(passages)
        self._state = _State(passages=kept, compounds=compounds, bm25=bm25)

    @property
    def params(self) -> dict[str, Any]:
        """Every setting that changes the ranking, for an index manifest to record and compare."""
        return {
            "retriever": self.name,
            "method": "lucene",
            "k1": self.k1,
            "b": self.b,
            "part_weight": self.part_weight,
            "stemmer": STEMMER,
            "stop_words": sorted(STOP_WORDS),
            "bm25s_version": BM25S_VERSION,
        }

    def index(self, passages: Sequence[Passage]) -> None:
        passages = tuple(passages)
        if not passages:
            self._state = _State()
            return
        texts = [words(embed_text(p)) for p in passages]
        compounds = Compounds.from_words(w for text in texts for w in text)
        # Splitting is the slow step and a corpus repeats its words, so analyse each once.
        terms: dict[str, list[str]] = {}
        corpus: list[list[str]] = []
        for text in texts:
            doc: list[str] = []
            for word in text:
                found = terms.get(word)
                if found is None:
                    found = terms[word] = word_terms(word, compounds)
                doc.extend(found)
            corpus.append(doc)
        bm25 = bm25s.BM25(method="lucene", k1=self.k1, b=self.b)
        bm25.index(corpus, show_progress=False)
        self._state = _State(passages=passages, compounds=compounds, bm25=bm25)

    def query_terms(self, query: str) -> list[str]:
        """The distinct terms a query is searched with: typed words first, then their parts."""
        whole, parts = _split_query(query, self._state.compounds)
        return whole + parts

    def known_fraction(self, query: str, ignore: Sequence[str] = ()) -> float:
        """Share of the query's words (those in `ignore`, e.g. place names, aside) that the
        corpus uses at all: a question about passports or dogs is mostly words we never saw."""
        state = self._state
        if state.bm25 is None:
            return 0.0
        skip = set(_split_query(" ".join(ignore), state.compounds)[0])
        terms = [t for t in _split_query(query, state.compounds)[0] if t not in skip]
        if not terms:
            return 1.0
        # 'a', 'b', '1' are in every corpus's vocabulary and say nothing about the question: a
        # pasted table of single characters, with no word of two letters, is not a question we
        # know the words of.
        if not any(sum(ch.isalpha() for ch in t) > 1 for t in terms):
            return 0.0
        vocab = state.bm25.vocab_dict
        return sum(t in vocab for t in terms) / len(terms)

    def search(self, query: str, k: int = 5, where: Where = EVERYWHERE) -> list[Hit]:
        """Only passages sharing a term with the query, so fewer than k hits is a real answer.

        ``where`` filters before the top k are taken, so a filter never empties a result that
        a deeper search would have filled."""
        state = self._state
        if state.bm25 is None:
            return []
        allowed = self.facets.allowed(where)
        if allowed is not None and not len(allowed):
            return []
        k = check_k(k, len(state.passages))
        vocab = state.bm25.vocab_dict
        whole, parts = _split_query(query, state.compounds)
        whole_ids = [vocab[t] for t in whole if t in vocab]
        part_ids = [vocab[t] for t in parts if t in vocab] if self.part_weight else []
        if not whole_ids and not part_ids:
            return []
        scores = np.zeros(len(state.passages), dtype=np.float32)
        if whole_ids:
            scores += state.bm25.get_scores_from_ids(whole_ids)
        if part_ids:
            scores += self.part_weight * state.bm25.get_scores_from_ids(part_ids)
        matched = np.flatnonzero(scores > 0)
        if allowed is not None:
            matched = np.intersect1d(matched, allowed, assume_unique=True)
        # Best first; ties keep passage order so that results are reproducible.
        if len(matched) > k:  # keep the k best (ties included) before sorting: cheap at 100k
            kth = np.partition(scores[matched], len(matched) - k)[len(matched) - k]
            matched = matched[scores[matched] >= kth]
        order = matched[np.lexsort((matched, -scores[matched]))][:k]
        return [
            Hit(passage=state.passages[i], score=float(scores[i]), rank=rank)
            for rank, i in enumerate(order.tolist(), 1)
        ]


def _split_query(query: str, compounds: Compounds | None) -> tuple[list[str], list[str]]:
    """Distinct stems of the typed words, and the distinct stems of their parts not among them."""
    whole: dict[str, None] = {}
    parts: dict[str, None] = {}
    for word in words(query):
        terms = word_terms(word, compounds)
        if terms:
            whole[terms[0]] = None
            parts.update(dict.fromkeys(terms[1:]))
    return list(whole), [t for t in parts if t not in whole]
