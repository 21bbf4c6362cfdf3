"""Danish text analysis for lexical search: one path for passages and questions alike.

Citizens type amounts, periods and compounds differently from how the committees wrote them
("79000 kr" for "79.000 kroner", "botilbud" for "botilbudspladser"). Whatever is not made equal
here can never match, so both sides go through the same normaliser, stop words and stemmer.
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from decimal import Decimal

import Stemmer

from retrieval.text.words import STOP_WORDS

STEMMER = "danish"

# Word endings that are also short words ("ende", "ser", "ret"): as the last part of a split
# they are nearly always an inflection ("pårør-ende", "proces-ser", "håndte-ret"), not a head.
_NOT_A_HEAD = frozenset(
    """
    bar ede else elser ende endes ene ent ere erne hed heden lig lige ligt mer ning ninger
    ret ring ringen ringer ses ser sen ske skab skaber skabet vis
    """.split()  # noqa: SIM905
)
_LINKS = ("", "s", "e")
SPLIT_MEMO = 200_000  # words whose split Compounds keeps (a few tens of MB at most)
# A split of the end of a word: ((parts, inexact parts, link letters, cost), parts), where
# cost is minus the summed log frequency. Every field adds up and lower is better.
_Split = tuple[tuple[int, int, int, float], list[str]]

_local = threading.local()


def stem(word: str) -> str:
    """Snowball Danish; one stemmer per thread, because a PyStemmer object has internal state."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = Stemmer.Stemmer(STEMMER)
    return str(stemmer.stemWord(word))


# --- numbers, amounts, periods ------------------------------------------------------------

_MULTIPLIERS = {
    "tusind": 3,
    "tusinde": 3,
    "tus": 3,
    "tkr": 3,
    "mio": 6,
    "mill": 6,
    "million": 6,
    "millioner": 6,
    "mia": 9,
    "mrd": 9,
    "milliard": 9,
    "milliarder": 9,
}
_YEAR_RANGE = re.compile(r"(?<![\w.,])((?:19|20)\d\d)\s*[-–—/]\s*((?:19|20)?\d\d)(?!\w|[.,]\d)")
_NUMBER = re.compile(
    r"(?<![\w.,])(\d{1,3}(?:[. \u00a0\u202f]\d{3}(?!\d))+|\d+)(?:,(\d+))?(?![\d_])"
    r"(?:\s*(tusinde?|tus\.|t\.?kr\.?|mio\.?|mill\.?|millioner|million|mia\.?|mrd\.?"
    r"|milliarder|milliard)(?!\w))?"
)
_TOKEN = re.compile(r"\w+")
# One spelling for words people write several ways around amounts.
_SYNONYMS = {
    "kroner": "kr",
    "krone": "kr",
    "kroners": "kr",
    "dkk": "kr",
    "pct": "procent",
    "procents": "procent",
    # "over fire år" in a question, "over en 4 årig periode" in the text.
    "to": "2", "tre": "3", "fire": "4", "fem": "5", "seks": "6", "syv": "7", "otte": "8",
    "ti": "10", "tolv": "12", "tyve": "20", "årig": "år", "årige": "år",
}


def _period(match: re.Match[str]) -> str:
    start, end_text = int(match[1]), match[2]
    end = int(end_text) if len(end_text) == 4 else start // 100 * 100 + int(end_text)
    if end <= start:
        return match[0]
    return f" {start} {end} {start}_{end} "


def _amount(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match[1])
    value = Decimal(f"{digits}.{match[2]}" if match[2] else digits)
    unit = (match[3] or "").replace(".", "")
    value = value.scaleb(_MULTIPLIERS.get(unit, 0))
    if value == value.to_integral_value():
        text = str(int(value))
    else:
        text = format(value.normalize(), "f").replace(".", "_")
    return f" {text} kr " if unit == "tkr" else f" {text} "


def normalise_numbers(text: str) -> str:
    """Rewrite amounts and periods so every way of typing them gives the same tokens.

    Danish writes "79.000" and "316,5"; people type "79000", "79 tusind" or "316,5 mio". A value
    becomes its plain digits (a decimal as "1_4"), a period "2022-2025" becomes its two years
    plus "2022_2025", and "%" becomes the word "procent". Expects lowercased text.
    """
    text = text.replace("%", " procent ")
    text = _YEAR_RANGE.sub(_period, text)
    return _NUMBER.sub(_amount, text)


def words(text: str) -> list[str]:
    """Tokens before stop words and stemming, so the corpus vocabulary can be counted from them."""
    text = unicodedata.normalize("NFC", text).lower().replace("\u00ad", "")
    return [_SYNONYMS.get(w, w) for w in _TOKEN.findall(normalise_numbers(text))]


# --- compounds ----------------------------------------------------------------------------


class Compounds:
    """Split glued Danish words into parts that the corpus itself uses as words.

    No dictionary of compounds: a part counts when the corpus uses it as a word, or uses a word
    with its stem (then the stem must have 4+ letters, since short stems match any syllable).
    Three-letter parts are where a large vocabulary finds nonsense ("ten" + "nis"), so they must
    be exact words and either end in a linking "s" ("livs-kvalitet") or be the head after an
    exact word of 5+ letters ("udsatte-rådet"). Only the first part may be unknown ("botilbud"
    in "botilbudspladser"), and then the rest must be 5+ letters. Among splits, fewer unknown
    parts win, then fewer parts, more exact words, fewer linking letters, more frequent parts.
    Read-only after construction except for a memo of splits (a pure function of the word), so
    threads can share one.
    """

    def __init__(
        self,
        counts: Mapping[str, int],
        min_unknown: int = 4,
        min_head: int = 5,
        min_evidence: int = 10,
    ) -> None:
        self.counts = {w: n for w, n in counts.items() if w not in STOP_WORDS and w.isalpha()}
        self.stem_counts: dict[str, int] = {}
        for word, n in self.counts.items():
            key = stem(word)
            self.stem_counts[key] = self.stem_counts.get(key, 0) + n
        self.min_unknown = min_unknown
        self.min_head = min_head
        self.min_evidence = min_evidence
        self._starts = {w[:4] for w in (*self.counts, *self.stem_counts) if len(w) >= 4}
        # Answers split the same words of the same sentences question after question (coverage
        # of every highlighted sentence): unmemoised, splitting was half of an answer's time
        # (cProfile, 80 new questions on the 31-document corpus). Bounded, so a huge vocabulary
        # costs at most SPLIT_MEMO entries; a race only computes a split twice.
        self._splits: dict[str, tuple[str, ...]] = {}

    @classmethod
    def from_words(cls, tokens: Iterable[str], **options: int) -> Compounds:
        return cls(Counter(tokens), **options)

    def known(self, part: str, short: bool = False) -> tuple[int, bool]:
        """(corpus frequency, exact word?) of a candidate part; frequency 0 means unusable.

        short: the place allows a three-letter word, or an inflection of one ("rådet").
        """
        if len(part) < 3 or part in STOP_WORDS or (len(part) == 3 and not short):
            return 0, False
        if part in self.counts:
            return self.counts[part], True
        # A Danish stem is a prefix of its word, so most syllables are ruled out without stemming.
        if part[:4] not in self._starts and not (short and part[:3] in self.counts):
            return 0, False
        key = stem(part)
        if len(key) < 4:
            return (self.counts.get(key, 0) if short else 0), False
        return self.stem_counts.get(key) or self.counts.get(key, 0), False

    def split(self, word: str) -> list[str]:
        """The parts of a compound, or [] when it is not one the corpus can vouch for."""
        if len(word) < 7 or not word.isalpha():
            return []
        parts = self._splits.get(word)
        if parts is None:
            parts = tuple(self._split(word))
            if len(self._splits) < SPLIT_MEMO:
                self._splits[word] = parts
        return list(parts)

    def _split(self, word: str) -> list[str]:
        memo: dict[tuple[int, bool], _Split | None] = {}
        best: tuple[tuple[int, int, int, int, float], list[str]] | None = None
        for end in range(3, len(word) - 2):
            first = word[:end]
            for link in _LINKS:
                if not word.startswith(link, end):
                    continue
                freq, exact = self.known(first, short=link == "s")
                if not freq and (
                    len(first) < self.min_unknown
                    or first in STOP_WORDS
                    or (not link and first[-1] in "se")  # "langtid-s-", not "langtids-"
                ):
                    continue
                rest = end + len(link)
                tail = self._known_parts(word, rest, memo, exact and end >= 5)
                if tail is None or (not freq and len(word) - rest < self.min_head):
                    continue
                (n, inexact, links, cost), parts = tail
                key = (
                    0 if freq else 1,
                    n + 1,
                    inexact + (not exact),
                    links + len(link),
                    cost - math.log1p(freq),
                )
                if best is None or key < best[0]:
                    best = (key, [first, *parts])
        if best is None or self._vetoed(word, best[1]):
            return []
        return best[1]

    def _vetoed(self, word: str, parts: list[str]) -> bool:
        """Koehn & Knight's test: a word used more often than its parts is no compound of them.

        "frankrig" outnumbers "frank" and "rig", "transport" outnumbers "tran" and "port". Only
        applied to words seen min_evidence times or more: in a small corpus "langtidsfattigdom"
        may occur 5 times and "fattigdom" once, and that says nothing.
        """
        count = self.counts.get(word, 0)
        if count < self.min_evidence:
            return False
        freqs = [self.known(p, short=True)[0] for p in parts]
        return count > math.exp(sum(math.log(f) if f else -math.inf for f in freqs) / len(freqs))

    def _known_parts(
        self, word: str, start: int, memo: dict[tuple[int, bool], _Split | None], short: bool
    ) -> _Split | None:
        """Best split of word[start:] into known parts (one part if the rest is a known word).

        short: the part before is an exact word of 5+ letters, so a three-letter head may end
        the word ("udsatte" + "rådet"), which is too risky after a short, guessed or inflected one.
        """
        if (start, short) in memo:
            return memo[start, short]
        rest = word[start:]
        freq, exact = 0, False
        if rest not in _NOT_A_HEAD and stem(rest) not in _NOT_A_HEAD:
            freq, exact = self.known(rest, short=short)
        best: _Split | None = ((1, int(not exact), 0, -math.log1p(freq)), [rest]) if freq else None
        for end in range(start + 3, len(word) - 2):
            for link in _LINKS:
                if not word.startswith(link, end):
                    continue
                freq, exact = self.known(word[start:end], short=link == "s")
                if not freq:
                    continue
                tail = self._known_parts(word, end + len(link), memo, exact and end - start >= 5)
                if tail is None:
                    continue
                (n, inexact, links, cost), parts = tail
                key = (n + 1, inexact + (not exact), links + len(link), cost - math.log1p(freq))
                if best is None or key < best[0]:
                    best = (key, [word[start:end], *parts])
        memo[start, short] = best
        return best


def word_terms(word: str, compounds: Compounds | None = None, depth: int = 2) -> list[str]:
    """The index terms of one word: its stem, then the stems of its parts (and theirs)."""
    if word in STOP_WORDS:
        return []
    terms = [stem(word)]
    if compounds is not None and depth > 0:
        for part in compounds.split(word):
            for term in word_terms(part, compounds, depth - 1):
                if term not in terms:
                    terms.append(term)
    return terms


def analyse(text: str, compounds: Compounds | None = None) -> list[str]:
    """Terms for BM25, used unchanged for passages and for questions so the two can meet."""
    return [term for word in words(text) for term in word_terms(word, compounds)]
