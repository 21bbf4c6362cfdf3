"""Pick the sentence (or two) of an excerpt that answers the question.

A sentence's score blends its embedding similarity to the question with how many of the
question's key words it uses and whether it holds the kind of thing asked for (an amount, a
duration, a name: retrieval/answer/asks.py, the signals abstention reads too). Amounts, dates
and names stay intact because we only ever select whole sentences, never rewrite them.
"""

from __future__ import annotations

import re

import numpy as np

from retrieval.answer.asks import Ask, asked, bound, coverage, holds
from retrieval.text.chunking import split_sentences
from retrieval.text.danish import Compounds

# Weights against cosine similarity, chosen on the development set (see README).
OVERLAP_WEIGHT = 0.2
SHAPE_WEIGHT = 0.03
BOUND_WEIGHT = 0.05  # …and its key words near that thing (asks.bound): +0.012 on gold.jsonl
MAX_ALONE_WORDS = 40  # a sentence this long is answer enough on its own
MIN_WORDS = 12  # fewer words than this rarely answer anything
WINDOW_WEIGHT = 1.0  # a sentence's best 3-sentence window, as much as the sentence itself
THING_REACH = 2  # how far from the best sentence the asked-for thing is looked for
# A sentence that opens by pointing back ("Derfor …", "Det betyder …") says why or what of the
# one before it: that one comes along. A numbered item or a heading introduces what follows it.
_POINTS_BACK = re.compile(r"^(derfor|dette|det (betyder|skyldes|vil sige)|heraf|herfor|således|"
                          r"therefore|this)\b", re.IGNORECASE)
_INTRODUCES = re.compile(r"^\d{1,2}\.\s")


def best_sentences(
    question: str,
    text: str,
    similarity: np.ndarray | None = None,
    window_similarity: np.ndarray | None = None,
    title: str = "",
    compounds: Compounds | None = None,
) -> str:
    """The answering sentence and its best neighbour ("the sentence or two").

    ``similarity``: the cosines of the text's sentences to the question in `split_sentences`
    order, ``window_similarity`` its 3-sentence windows' (`chunking.windows`; both from vectors
    stored in the index, so highlighting needs no model). A short sentence says little on its
    own ("Det svarer til et fald på 24 pct."), so each sentence also scores by the best window
    it is part of. When the question asks for a kind of thing (an amount, a date, a name) that
    the best sentence lacks, the nearest sentence within THING_REACH that holds it comes along,
    with those between: such answers sit next to the sentence that names their subject (a name
    on the line above its title, a share in the sentence after the goal).

    A heading that only repeats the document title is never the answer; a lead-in that ends in
    a colon ("kan du kontakte:") brings the line after it, which is where the answer is.
    """
    parts = split_sentences(text)
    if not parts:
        return ""
    candidates = answer_candidates(parts, title)
    ask = asked(question, compounds)
    thing = [ask.shape is not None and holds(ask.shape, s) for s in parts]
    scores = answer_signals(ask, parts, compounds)
    if similarity is not None and len(similarity) == len(parts):
        scores = scores + similarity
        if window_similarity is not None and len(window_similarity) == max(1, len(parts) - 2):
            scores = scores + WINDOW_WEIGHT * _window_context(window_similarity, len(parts))
    best = max(candidates, key=lambda i: scores[i])
    chosen = [best]
    neighbours = [n for n in (best - 1, best + 1) if n in candidates]
    introduces = (parts[best].rstrip().endswith(":") or len(parts[best].split()) <= 6
                  or bool(_INTRODUCES.match(parts[best])))
    if introduces:
        neighbours = [n for n in neighbours if n == best + 1] or neighbours
    elif _POINTS_BACK.match(parts[best]):
        neighbours = [n for n in neighbours if n == best - 1] or neighbours
    near = [n for n in range(best - THING_REACH, best + THING_REACH + 1)
            if n != best and n in candidates and thing[n]]
    if parts[best].rstrip().endswith(":") or _INTRODUCES.match(parts[best]):
        near = [n for n in near if n > best] or near
    if near and not thing[best]:
        closest = max(near, key=lambda n: (-abs(n - best), scores[n]))
        chosen = list(range(min(closest, best), max(closest, best) + 1))
    elif neighbours and len(parts[best].split()) <= MAX_ALONE_WORDS:
        chosen.append(max(neighbours, key=lambda n: scores[n]))
    # Contact blocks and lists are runs of short lines: read on until there is enough to say,
    # and past a lead-in that ends in a colon.
    while max(chosen) + 1 < len(parts) and (
            sum(len(parts[i].split()) for i in chosen) < MIN_WORDS
            or parts[max(chosen)].rstrip().endswith(":")):
        chosen.append(max(chosen) + 1)
    return " ".join(parts[i] for i in sorted(chosen))


def answer_candidates(parts: list[str], title: str) -> list[int]:
    """The sentences that may answer: all but a heading that only repeats the title."""
    return [i for i, s in enumerate(parts) if s.strip() != title.strip()] or [0]


def answer_signals(ask: Ask, parts: list[str], compounds: Compounds | None = None
                   ) -> np.ndarray:
    """Each sentence's answer signals, before any cosine: the question's key words it uses, the
    asked-for kind of thing in it, and those words near that thing. Passages are re-ranked by
    their best sentence's (retrieval/answer/rerank.py)."""
    return np.array([
        OVERLAP_WEIGHT * coverage(ask, s, compounds)
        + (SHAPE_WEIGHT * float(holds(ask.shape, s)) + BOUND_WEIGHT * bound(ask, s, compounds)
           if ask.shape is not None else 0.0)
        for s in parts
    ])


def _window_context(window_scores: np.ndarray, n: int) -> np.ndarray:
    """Each sentence's best score among the windows that hold it (window j: sentences j..j+2)."""
    context = np.full(n, -np.inf)
    for j, score in enumerate(window_scores):
        stop = j + 3 if n >= 3 else n
        context[j:stop] = np.maximum(context[j:stop], score)
    return context
