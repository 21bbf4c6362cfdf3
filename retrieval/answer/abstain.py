"""Decide whether the documents answer a question at all.

e5 cosine scores sit in a narrow band (~0.80-0.88), so nothing here is guessed. The evidence
for one question is a handful of numbers (how close the best passage is, how many of the
question's words the cited text holds, whether it holds the kind of thing asked for, whether it
is asked in another language); a logistic rule over them is fitted on labelled questions of
many towns with unanswerable ones (`python -m evaluation crossval --write`, judged on towns
held out) and stored in abstention.json next to this file, with the figures it was fitted to.
Hard rules sit on top, each refusing what no score should answer: a year the question names
must appear in what we would cite ("the budget for 2023" is not answered by the budget for
2017); a Danish question for a role's holder or a count must find it next to what it is asked
about; one for any kind of thing (an amount, a date, a name…) must find at least one of its key
words in the first passage; and one whose words the corpus never uses is about something it does
not cover. Questions a rule refuses are left out of the fit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.answer.asks import (
    asked,
    best_holding,
    bound,
    coverage,
    head_bound,
    holds,
)
from retrieval.text.chunking import split_sentences
from retrieval.text.danish import Compounds
from retrieval.types import Hit

PARAMS = Path(__file__).with_name("abstention.json")
FEATURES = ("dense_top", "dense_margin", "lexical_top", "known", "foreign", "personal", "covered",
            "passage_covered", "shape_missing", "shape_covered", "shape_covered3", "bound",
            "bound3", "sentence_top", "window_top", "asks_kind", "kind_bound", "kind_bound3",
            "kind_shape_missing")
MAX_MARGIN = 0.05  # one town's only passage has no runner-up: its "margin" is its whole score
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")


@dataclass(frozen=True)
class Evidence:
    """What the abstention decision looks at for one question, whichever retriever ranks.

    The first five say whether the corpus is about the question's topic, the sixth whether it is
    about the asker's own case (which policies rarely settle); the next ones whether
    what we would cite answers it (retrieval/answer/asks.py): its key words in the cited
    sentences and in their passage, and the kind of thing asked for (an amount, a duration, a
    name…) present or not."""

    dense_top: float  # cosine of the best dense passage
    dense_margin: float  # how far it is ahead of the second
    lexical_top: float  # best BM25 score
    known: float  # share of the question's words (place names aside) the corpus uses at all
    foreign: float  # 1.0 when the question is not in Danish (then few words can be known)
    personal: float  # 1.0 when asked about the asker's own case ("hvordan søger jeg om …")
    covered: float  # share of the question's key words in the cited sentences
    passage_covered: float  # … in the whole first passage
    shape_missing: float  # 1.0 when the question asks for a kind of thing they do not hold
    shape_covered: float  # best coverage of a sentence of the first passage holding that thing
    shape_covered3: float  # … of the first three passages
    bound: float  # best coverage near a thing of the asked-for kind in the first passage
    bound3: float  # … in the first three passages
    sentence_top: float  # cosine of the first passage's best sentence (stored vectors)
    window_top: float  # … of its best three-sentence window
    # A question asking for a kind of thing (an amount, a date, a name…) is answered only where
    # that thing is; one asking for a description, by a passage on its topic. The same signals
    # weigh differently for the two, so they enter again, for kind questions only.
    asks_kind: float  # 1.0 when the question asks for a kind of thing
    kind_bound: float
    kind_bound3: float
    kind_shape_missing: float
    year_missing: bool  # the question names a year that nothing we would cite mentions
    # A Danish question for a role's holder or a count, and the first passage has no such thing
    # next to what it is asked about ("Hvem er formand for Handicaprådet": a list of members,
    # another body's chair; "hvor mange ansøgninger": no number before "ansøgninger")
    head_missing: bool = False
    # A Danish question for a kind of thing, and the first passage uses none of its key words:
    # "Hvad koster en plads på et botilbud om måneden" is not answered by the budget's amounts.
    topic_missing: bool = False
    # A Danish question none of whose words (place names aside) the corpus uses at all: "Hvordan
    # bliver vejret i morgen?" is about something no document here mentions.
    words_unknown: bool = False

    @classmethod
    def of(
        cls, question: str, language: str, dense: Sequence[Hit], lexical: Sequence[Hit],
        ranked: Sequence[Hit], known: float, compounds: Compounds | None = None,
        closest: tuple[float, float] = (0.0, 0.0),
    ) -> Evidence:
        """``ranked``: the hits we would cite, the first already highlighted; ``closest``: the
        cosine of its best sentence and best window to the question."""
        d0 = dense[0].score if dense else 0.0
        d1 = dense[1].score if len(dense) > 1 else 0.0
        cited = " ".join(f"{h.passage.text} {h.passage.period}" for h in ranked[:3])
        missing = any(year not in cited for year in _YEAR.findall(question))
        ask = asked(question, compounds)
        first = ranked[0] if ranked else None
        sentences = (first.highlight or first.passage.text) if first else ""
        passage = first.passage.text if first else ""
        kind = 0.0 if ask.shape is None else 1.0
        shape_missing = 0.0 if holds(ask.shape, sentences) else 1.0
        near = bound(ask, passage, compounds)
        in_passage = coverage(ask, passage, compounds)
        near3 = max([near, *(bound(ask, h.passage.text, compounds) for h in ranked[1:3])])
        return cls(
            dense_top=d0, dense_margin=min(d0 - d1, MAX_MARGIN),
            lexical_top=lexical[0].score if lexical else 0.0,
            known=known, foreign=0.0 if language == "da" else 1.0,
            personal=float(ask.personal),
            covered=coverage(ask, sentences, compounds),
            passage_covered=in_passage,
            shape_missing=shape_missing,
            shape_covered=best_holding(ask, split_sentences(passage), compounds),
            shape_covered3=max((best_holding(ask, split_sentences(h.passage.text), compounds)
                                for h in ranked[:3]), default=0.0),
            bound=near, bound3=near3,
            sentence_top=closest[0], window_top=closest[1],
            asks_kind=kind, kind_bound=kind * near, kind_bound3=kind * near3,
            kind_shape_missing=kind * shape_missing,
            head_missing=(language == "da" and ask.headed
                          and not head_bound(ask, passage, compounds)),
            topic_missing=language == "da" and kind == 1.0 and bool(ask.terms) and not in_passage,
            words_unknown=language == "da" and known == 0.0,
            year_missing=missing,
        )

    @property
    def refused(self) -> bool:
        """Refused by a hard rule, whatever the signals score."""
        return (self.year_missing or self.head_missing or self.topic_missing
                or self.words_unknown)

    def vector(self, names: Sequence[str] = FEATURES) -> list[float]:
        return [float(getattr(self, n)) for n in names]


@dataclass(frozen=True)
class Abstainer:
    """Answer when bias + Σ weight·feature ≥ 0 and no named year is missing."""

    weights: dict[str, float] = field(default_factory=dict)
    bias: float = 0.0
    fitted_on: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.weights) - set(FEATURES)
        if unknown:
            raise ValueError(f"unknown abstention feature(s) {sorted(unknown)}; known: {FEATURES}")

    @classmethod
    def default(cls) -> Abstainer:
        """The fitted rule; without one (a fresh checkout never lacks it) never abstain."""
        if PARAMS.is_file():
            data = json.loads(PARAMS.read_text(encoding="utf-8"))
            return cls(data["weights"], float(data["bias"]), data.get("fitted_on", {}))
        return cls()

    def save(self, path: Path = PARAMS) -> None:
        data = {"weights": self.weights, "bias": self.bias, "fitted_on": self.fitted_on}
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    def score(self, evidence: Evidence) -> float:
        return self.bias + sum(w * float(getattr(evidence, n)) for n, w in self.weights.items())

    def answers(self, evidence: Evidence) -> bool:
        return bool(not evidence.refused and self.score(evidence) >= 0.0)


def fit(
    evidence: Sequence[Evidence], answerable: Sequence[bool], features: Sequence[str],
    l2: float = 3.0, unanswerable_weight: float = 3.0, margin: float = 1e-6,
    allowed_wrong: float = 0.0,
) -> Abstainer:
    """Logistic regression (plain numpy, standardised features), then the threshold moved up
    until every training unanswerable question abstains (plus `margin`; or all but a share
    ``allowed_wrong`` of them), because a wrong answer costs a citizen more than a "please call
    the municipality"."""
    return fit_shares(evidence, answerable, features, (allowed_wrong,), l2,
                      unanswerable_weight, margin)[allowed_wrong]


def fit_shares(
    evidence: Sequence[Evidence], answerable: Sequence[bool], features: Sequence[str],
    shares: Sequence[float], l2: float = 3.0, unanswerable_weight: float = 3.0,
    margin: float = 1e-6,
) -> dict[float, Abstainer]:
    """`fit` for several allowed shares at once: the regression does not depend on the share,
    only the threshold does, so choosing a share by cross-validation fits once per fold."""
    # A question a hard rule refuses abstains whatever it scores: it teaches the score nothing.
    usable = [i for i, e in enumerate(evidence) if not e.refused]
    x = np.array([evidence[i].vector(features) for i in usable], dtype=float)
    y = np.array([answerable[i] for i in usable], dtype=float)
    mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mu) / sd
    sample = np.where(y == 1, 1.0, unanswerable_weight)
    w, b = np.zeros(z.shape[1]), 0.0
    for _ in range(5000):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        g = (p - y) * sample
        w -= 0.1 * (z.T @ g / len(y) + l2 * w / len(y))
        b -= 0.1 * float(g.mean())
    scores = z @ w + b
    negatives = sorted((float(s) for s, label in zip(scores, y, strict=True) if not label),
                       reverse=True)
    # Fold standardisation and threshold into raw-feature weights: score = bias + Σ w·x.
    raw = w / sd
    weights = {n: float(v) for n, v in zip(features, raw, strict=True)}
    out = {}
    for share in shares:
        # Above all but `share` of them (none by default).
        threshold = negatives[int(share * len(negatives))] + margin if negatives else 0.0
        out[share] = Abstainer(weights, b - float(raw @ mu) - threshold)
    return out


def evaluate(abstainer: Abstainer, evidence: Sequence[Evidence], answerable: Sequence[bool]
             ) -> dict[str, float]:
    """Abstention as a retrieval-of-the-unanswerable task: precision, recall, F1."""
    abstained = [not abstainer.answers(e) for e in evidence]
    tp = sum(a and not y for a, y in zip(abstained, answerable, strict=True))
    fp = sum(a and y for a, y in zip(abstained, answerable, strict=True))
    fn = sum((not a) and (not y) for a, y in zip(abstained, answerable, strict=True))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": float(precision), "recall": float(recall), "f1": float(f1),
            "wrongly_abstained": int(fp), "wrongly_answered": int(fn)}


def describe(abstainer: Abstainer) -> dict[str, Any]:
    return asdict(abstainer)
