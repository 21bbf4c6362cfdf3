"""Among the first few hits, the passage whose best sentence answers the question moves up.

Fusion ranks passages by how close each is to the question as a whole, and two neighbouring
passages of one document are often about equally close while only one holds what is asked for
("Hvor mange ansøgninger modtog …" → the passage with "67 ansøgninger"). Each of the first
DEPTH hits therefore gains ANSWER_WEIGHT times its best sentence's answer signals: the share of
the question's key words it uses, the asked-for kind of thing in it, and those words near that
thing (retrieval/answer/asks.py; the highlighter scores sentences by the same signals, so the
passage moved up is the one whose sentence is then highlighted). ANSWER_WEIGHT is chosen by
leave-towns-out cross-validation (`python -m evaluation crossval`), like the fusion weight.

A question for a role's holder or a count asked about something named ("hvem er formand for
Handicaprådet", "hvor mange ansøgninger") is answered only by a passage stating the thing next
to those words (`asks.head_bound`); such passages come first whatever they score, since the
abstention rule refuses to cite any other first (`abstain.Evidence.head_missing`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

from retrieval.answer.asks import Ask, asked, head_bound
from retrieval.answer.highlight import answer_candidates, answer_signals
from retrieval.search.base import EVERYWHERE, Ranking, Retriever, Where
from retrieval.text.chunking import split_sentences
from retrieval.text.danish import Compounds
from retrieval.types import Hit, Passage

DEPTH = 5  # the hits re-ranked: a question's answer is almost always among them (hit@5 0.99)
# Chosen by leave-towns-out cross-validation (README, "Retrieval quality").
ANSWER_WEIGHT = 0.75
# Above any fused score (≤ 1) plus weighted signals: a passage stating a role or count next to
# its head goes first.
HEAD_BONUS = 2.0


def answer_signal(ask: Ask, passage: Passage, compounds: Compounds | None = None) -> float:
    """The passage's best sentence's answer signals (0 for an empty passage)."""
    parts = split_sentences(passage.text)
    if not parts:
        return 0.0
    signals = answer_signals(ask, parts, compounds)
    return float(max(signals[i] for i in answer_candidates(parts, passage.title)))


def states_head(ask: Ask, passage: Passage, compounds: Compounds | None = None) -> bool:
    """Whether the passage states what a role-or-count question asks, next to what it is
    asked about (False for every other question)."""
    return ask.headed and head_bound(ask, passage.text, compounds) == 1.0


def rerank(hits: Sequence[Hit], signals: Mapping[str, float], weight: float,
           depth: int = DEPTH, first: Collection[str] = ()) -> list[Hit]:
    """The same hits, the first `depth` re-sorted by score + weight × signal (ties keep their
    order), ranks renumbered; ``signals`` by passage id (a passage without one has none);
    passages in ``first`` (ids, `states_head`) ahead of the others. Each re-sorted hit carries
    the score it was sorted by (+ HEAD_BONUS in ``first``), so scores fall as ranks do, as
    every door shows them and TREC tools sort by them."""
    scored = [(h.score + weight * signals.get(h.passage.id, 0.0)
               + (HEAD_BONUS if h.passage.id in first else 0.0), i, h)
              for i, h in enumerate(hits[:depth])]
    head = [Hit(h.passage, score, h.rank, h.highlight)
            for score, _, h in sorted(scored, key=lambda t: (-t[0], t[1]))]
    ordered = head + list(hits[depth:])
    return [Hit(h.passage, h.score, r, h.highlight) for r, h in enumerate(ordered, 1)]


class AnswerReranked(Retriever):
    """Another retriever's ranking, its first DEPTH hits re-ranked by their answer signals.

    Stages: the inner retriever's, its own ranking under `inner.name` before re-ranking as
    "fused", and the re-ranked one under this retriever's name."""

    def __init__(self, inner: Retriever,
                 compounds: Callable[[], Compounds | None] = lambda: None,
                 weight: float = ANSWER_WEIGHT, depth: int = DEPTH) -> None:
        """``compounds``: the lexical index's current compound splitter (it changes when
        passages are indexed again)."""
        self.inner = inner
        self.name = inner.name
        self.compounds = compounds
        self.weight = weight
        self.depth = depth

    @property
    def passages(self) -> Sequence[Passage]:
        return self.inner.passages

    def index(self, passages: Sequence[Passage]) -> None:
        self.inner.index(passages)

    def search(self, query: str, k: int = 5, where: Where = EVERYWHERE) -> list[Hit]:
        return self.explain(query, k, where).hits

    def explain(self, query: str, k: int = 5, where: Where = EVERYWHERE) -> Ranking:
        inner = self.inner.explain(query, max(k, self.depth), where)
        fused = inner.stages.get(self.inner.name, inner.hits)
        compounds = self.compounds()
        ask = asked(query, compounds)
        signals = {h.passage.id: answer_signal(ask, h.passage, compounds)
                   for h in fused[: self.depth]}
        first = {h.passage.id for h in fused[: self.depth]
                 if states_head(ask, h.passage, compounds)}
        ordered = rerank(fused, signals, self.weight, self.depth, first)
        return Ranking(ordered[:k], {**inner.stages, "fused": fused, self.name: ordered})
