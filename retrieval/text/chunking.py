"""Cut cleaned documents into excerpts a citizen can read on their own.

Passages follow sentences and paragraphs (never mid-sentence), aim at 40-150 words, and repeat
the last sentence of the previous passage when a paragraph is split, so that an answer that
straddles a cut still has its context in one excerpt.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from retrieval.text.words import MONTH_NAMES
from retrieval.types import Document, Passage

MIN_WORDS = 40
TARGET_WORDS = 110
MAX_WORDS = 150

# Danish abbreviations that end in a full stop without ending the sentence.
ABBREVIATIONS = {
    "bl.a",
    "f.eks",
    "fx",
    "mio",
    "mia",
    "kr",
    "ca",
    "pct",
    "nr",
    "kl",
    "tlf",
    "jf",
    "dvs",
    "evt",
    "inkl",
    "ekskl",
    "mht",
    "iht",
    "vedr",
    "osv",
    "mv",
    "m.v",
    "m.fl",
    "etc",
    "st",
    "stk",
    "hhv",
    "bl.a.",
    "t.o.m",
    "f.o.m",
    "ift",
    "pga",
    "el",
    "fhv",
    "gl",
    "ekstra",
    "d",  # "d. 7. april 2016": the date's "den"
}
_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[\"”»(]?[A-ZÆØÅ0-9•])")
_LIST_ITEM = re.compile(r"^\d{1,2}\.(\s|$)")
_LIST_MARKER = re.compile(r"^\d{1,2}\.$")
# "7. april 2016" looks like list item 7 but is a date: after "d." it continues the sentence.
_DATE = re.compile(rf"^\d{{1,2}}\.\s?({MONTH_NAMES})\b", re.IGNORECASE)


def sentences(paragraph: str) -> list[str]:
    """Split on sentence ends, keeping 'bl.a. Socialudvalget' and '10,0 mio. kr.' together."""
    parts: list[str] = []
    for part in _SPLIT.split(paragraph.strip()):
        if parts and _LIST_MARKER.match(parts[-1]):
            parts[-1] = f"{parts[-1]} {part}"  # '2.' starts the list item that follows it
        else:
            parts.append(part)
    out: list[str] = []
    for part in parts:
        if out:
            last_word = out[-1].rsplit(" ", 1)[-1].rstrip(".").lower()
            if last_word in ABBREVIATIONS and (not _LIST_ITEM.match(part) or _DATE.match(part)):
                out[-1] = f"{out[-1]} {part}"
                continue
        out.append(part)
    return [s for s in out if s]


def _words(text: str) -> int:
    return len(text.split())


def _units(text: str) -> Iterable[tuple[int, str]]:
    """(paragraph number, sentence) in reading order; short headings glue to what follows."""
    for number, para in enumerate(p for p in text.split("\n\n") if p.strip()):
        for sentence in sentences(para):
            for piece in _pieces(sentence):
                yield number, piece


def _pieces(sentence: str) -> list[str]:
    """A 'sentence' over MAX_WORDS (a PDF table read as one line, a list without full stops)
    is cut at word boundaries into TARGET_WORDS-word pieces, so no passage outgrows the model."""
    words = sentence.split()
    if len(words) <= MAX_WORDS:
        return [sentence]
    return [" ".join(words[i : i + TARGET_WORDS]) for i in range(0, len(words), TARGET_WORDS)]


def chunk_text(text: str) -> list[str]:
    """Pack sentences into passages of about TARGET_WORDS words; paragraphs keep their breaks."""
    chunks: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    count = 0
    for unit in _units(text):
        n = _words(unit[1])
        para_break = bool(current) and unit[0] != current[-1][0]
        full = count + n > MAX_WORDS or (count >= TARGET_WORDS and para_break)
        if current and full:
            chunks.append(current)
            # Overlap one sentence when the cut falls inside a paragraph.
            tail = current[-1]
            if tail[0] == unit[0] and _words(tail[1]) <= 40 and len(current) > 1:
                current, count = [tail], _words(tail[1])
            else:
                current, count = [], 0
        current.append(unit)
        count += n
    if current:
        if (
            chunks
            and count < MIN_WORDS
            and sum(_words(s) for _, s in chunks[-1]) + count <= MAX_WORDS
        ):
            chunks[-1].extend(u for u in current if u not in chunks[-1])
        else:
            chunks.append(current)
    return [_render(c) for c in chunks]


def _render(units: list[tuple[int, str]]) -> str:
    lines: list[str] = []
    last = None
    for para, sentence in units:
        if para == last:
            lines[-1] = f"{lines[-1]} {sentence}"
        else:
            lines.append(sentence)
        last = para
    return "\n".join(lines)


def chunk_document(doc: Document) -> list[Passage]:
    return [Passage.from_document(doc, i, t) for i, t in enumerate(chunk_text(doc.text))]


def chunk_corpus(documents: Iterable[Document]) -> list[Passage]:
    return [p for doc in documents for p in chunk_document(doc)]


def header(passage: Passage) -> str:
    """Where a passage is from: "municipality Kommune, committee: title" (may be empty)."""
    where = f"{passage.municipality} Kommune" if passage.municipality else ""
    head = ", ".join(x for x in (where, passage.committee) if x)
    return f"{head}: {passage.title}" if head and passage.title else head or passage.title


def embed_text(passage: Passage) -> str:
    """What the retrievers see: the excerpt plus where it is from, so 'i Silkeborg' can match."""
    head = header(passage)
    return f"{head}\n{passage.text}" if head else passage.text


def windows(passage: Passage, size: int = 3) -> list[str]:
    """Each run of `size` consecutive sentences under the passage's header (one window of all
    when there are fewer): what window rescoring compares a question with."""
    head = header(passage) if passage.title else ""
    parts = split_sentences(passage.text)
    spans = [" ".join(parts[i : i + size]) for i in range(max(1, len(parts) - size + 1))]
    return [f"{head}\n{s}" if head else s for s in spans]


def split_sentences(text: str) -> list[str]:
    """Sentences of a passage; each line (paragraph, bullet) is split on its own."""
    return [s for line in text.split("\n") for s in sentences(line) if s.strip()]
