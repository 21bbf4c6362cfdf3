"""Pick the sentence (or two) of an excerpt that answers the question.

A sentence's score blends its embedding similarity to the question with how many of the
question's key words it uses and whether it holds the kind of thing asked for (an amount, a
duration, a name: retrieval/answer/asks.py, the signals abstention reads too). Amounts, dates
and names stay intact because we only ever select whole sentences, never rewrite them.
"""

from __future__ import annotations

import numpy as np

from retrieval.answer.asks import asked, bound, coverage, holds
from retrieval.text.chunking import split_sentences
from retrieval.text.danish import Compounds

# Weights against cosine similarity, chosen on the development set (see README).
OVERLAP_WEIGHT = 0.2
SHAPE_WEIGHT = 0.03
BOUND_WEIGHT = 0.05  # …and its key words near that thing (asks.bound): +0.012 on gold.jsonl
MAX_ALONE_WORDS = 40  # a sentence this long is answer enough on its own
MIN_WORDS = 12  # fewer words than this rarely answer anything


def best_sentences(
    question: str,
    text: str,
    query_vector: np.ndarray | None = None,
    vectors: np.ndarray | None = None,
    title: str = "",
    compounds: Compounds | None = None,
) -> str:
    """The answering sentence and its best neighbour ("the sentence or two").

    ``vectors`` are the text's sentence vectors in `split_sentences` order (stored in the index,
    so highlighting needs no model).

    A heading that only repeats the document title is never the answer; a lead-in that ends in
    a colon ("kan du kontakte:") brings the line after it, which is where the answer is.
    """
    parts = split_sentences(text)
    if not parts:
        return ""
    candidates = [i for i, s in enumerate(parts) if s.strip() != title.strip()] or [0]
    ask = asked(question, compounds)
    scores = np.array([
        OVERLAP_WEIGHT * coverage(ask, s, compounds)
        + SHAPE_WEIGHT * float(ask.shape is not None and holds(ask.shape, s))
        + BOUND_WEIGHT * (bound(ask, s, compounds) if ask.shape is not None else 0.0)
        for s in parts
    ])
    if query_vector is not None and vectors is not None and len(vectors) == len(parts):
        scores = scores + vectors @ query_vector
    best = max(candidates, key=lambda i: scores[i])
    chosen = [best]
    neighbours = [n for n in (best - 1, best + 1) if n in candidates]
    if parts[best].rstrip().endswith(":") or len(parts[best].split()) <= 6:
        neighbours = [n for n in neighbours if n == best + 1] or neighbours
    if neighbours and len(parts[best].split()) <= MAX_ALONE_WORDS:
        chosen.append(max(neighbours, key=lambda n: scores[n]))
    # Contact blocks and lists are runs of short lines: read on until there is enough to say.
    while sum(len(parts[i].split()) for i in chosen) < MIN_WORDS and max(chosen) + 1 < len(parts):
        chosen.append(max(chosen) + 1)
    return " ".join(parts[i] for i in sorted(chosen))
