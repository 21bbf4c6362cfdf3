"""Pick the sentence (or two) of an excerpt that answers the question.

A sentence's score blends its embedding similarity to the question with how many of the
question's content words it contains; amounts, dates and names stay intact because we only ever
select whole sentences of the original text, never rewrite them.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

from retrieval.chunking import sentences

# Weight of term overlap against cosine similarity; fitted on the development set (see README).
OVERLAP_WEIGHT = 0.5
_WORD = re.compile(r"\w+", re.UNICODE)
_STOP = {
    "og", "i", "at", "er", "en", "et", "den", "det", "de", "til", "på", "af", "for", "med", "som",
    "har", "hvad", "hvor", "hvem", "hvilke", "hvilken", "hvornår", "hvordan", "hvorfor", "mange",
    "om", "der", "vil", "skal", "kan", "man", "jeg", "mig", "vi", "the", "what", "how", "is",
    "of", "a", "in", "to", "does", "do", "are", "which", "who", "when", "why",
}


def split_sentences(text: str) -> list[str]:
    """Sentences of a passage; each line (paragraph, bullet) is split on its own."""
    return [s for line in text.split("\n") for s in sentences(line) if s.strip()]


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.casefold()) if w not in _STOP and len(w) > 1}


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


class SentenceVectors:
    """Encodes sentences once and keeps them (LRU), so a warm app highlights without the model."""

    def __init__(self, encode: Callable[[list[str]], np.ndarray], size: int = 20000) -> None:
        self._encode = encode
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            vectors = self._encode(missing)
            with self._lock:
                for t, v in zip(missing, vectors, strict=True):
                    self._cache[t] = v
                while len(self._cache) > self._size:
                    self._cache.popitem(last=False)
        with self._lock:
            for t in texts:
                self._cache.move_to_end(t)
            return np.stack([self._cache[t] for t in texts])


def best_sentences(
    question: str,
    text: str,
    query_vector: np.ndarray | None = None,
    vectors: SentenceVectors | None = None,
    max_sentences: int = 2,
) -> str:
    """The answering sentence, plus its neighbour when that one scores nearly as well."""
    parts = split_sentences(text)
    if not parts:
        return ""
    scores = np.array([OVERLAP_WEIGHT * overlap(question, s) for s in parts])
    if query_vector is not None and vectors is not None:
        scores = scores + vectors(parts) @ query_vector
    best = int(np.argmax(scores))
    chosen = [best]
    if max_sentences > 1 and len(parts) > 1:
        spread = float(scores.max() - np.median(scores)) or 1.0
        for n in (best + 1, best - 1):
            # A short lead-in ("Derfor vil vi:") or a tight runner-up belongs with the answer.
            if 0 <= n < len(parts) and (scores[best] - scores[n]) < 0.15 * spread:
                chosen.append(n)
                break
        if len(parts[best].split()) <= 6 and best + 1 < len(parts) and best + 1 not in chosen:
            chosen.append(best + 1)
    return " ".join(parts[i] for i in sorted(chosen))
