"""Pick the sentence (or two) of an excerpt that answers the question.

A sentence's score blends its embedding similarity to the question with how many of the
question's content words it contains; amounts, dates and names stay intact because we only ever
select whole sentences of the original text, never rewrite them.
"""

from __future__ import annotations

import re

import numpy as np

from retrieval.text.chunking import split_sentences
from retrieval.text.words import NOT_CONTENT

# Weights against cosine similarity, chosen on the development set (see README).
OVERLAP_WEIGHT = 0.2
SHAPE_WEIGHT = 0.03
MAX_ALONE_WORDS = 40  # a sentence this long is answer enough on its own
MIN_WORDS = 12  # fewer words than this rarely answer anything
_WORD = re.compile(r"\w+", re.UNICODE)


def _content_words(text: str) -> set[str]:
    """Words that say what is asked; place names only say where, and every sentence of a
    town's document shares them."""
    from retrieval.text.places import strip_places

    words = _WORD.findall(strip_places(text).casefold())
    return {w for w in words if w not in NOT_CONTENT and len(w) > 1}


def overlap(question: str, sentence: str) -> float:
    """Share of the question's content words found in the sentence, prefix-matched (≥ 5 letters)
    so Danish inflections ('fokusområder' ~ 'fokusområderne') still count."""
    q = _content_words(question)
    if not q:
        return 0.0
    s = _content_words(sentence)
    found = 0
    for w in q:
        if w in s or (len(w) >= 5 and any(t.startswith(w[:5]) for t in s)):
            found += 1
    return found / len(q)


_NUMBER_Q = re.compile(
    r"\b(hvor (mange|meget|stor|store|lang|længe)|how (much|many|long)|beløb|antal|procent)\b"
)
_DATE_Q = re.compile(r"\b(hvornår|hvilket år|hvilke år|when|which year)\b")
# "who" in Danish grammar: hvem/hvis, or hvilken/hvilket/hvilke before a noun for a person or a
# body (a society, council, committee, organisation, chair, mayor, supplier…).
_WHO_Q = re.compile(
    r"\b(hvem|hvis|who|whose|(hvilken|hvilket|hvilke|which) (\w+ )?(forening\w*|organisation\w*|"
    r"råd\w*|udvalg\w*|formand\w*|forkvinde\w*|borgmester\w*|politiker\w*|parti\w*|"
    r"leverandør\w*|aktør\w*|partner\w*|myndighed\w*|forvaltning\w*|afdeling\w*|person\w*|"
    r"medlem\w*|minister\w*|institution\w*|virksomhed\w*))\b"
)
_DATE = re.compile(
    r"\b(19|20)\d\d\b|\b(januar|februar|marts|april|maj|juni|juli|august|september|oktober|"
    r"november|december)\b", re.IGNORECASE,
)
_NAME = re.compile(r"\b[A-ZÆØÅ][a-zæøå]+ [A-ZÆØÅ][a-zæøå]+")


def answer_shape(question: str, sentence: str) -> float:
    """1.0 when the sentence holds what the question asks for: an amount for 'hvor mange', a
    date for 'hvornår', a name for 'hvem'. Cheap, and it is what separates the one sentence
    with the figure from its neighbours that only talk about the topic."""
    q = question.casefold()
    if _NUMBER_Q.search(q):
        return 1.0 if re.search(r"\d", sentence) else 0.0
    if _DATE_Q.search(q):
        return 1.0 if _DATE.search(sentence) else 0.0
    if _WHO_Q.search(q):
        return 1.0 if _NAME.search(sentence) else 0.0
    return 0.0


def best_sentences(
    question: str,
    text: str,
    query_vector: np.ndarray | None = None,
    vectors: np.ndarray | None = None,
    title: str = "",
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
    scores = np.array([
        OVERLAP_WEIGHT * overlap(question, s) + SHAPE_WEIGHT * answer_shape(question, s)
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
