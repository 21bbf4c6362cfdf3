"""Amounts and counts in Danish text: "79.000 kroner", "316,5 mio. kr.", "24 pct.", "165 flere",
"6 måneder", "tre fokusområder" — and not years, dates, periods, "§ 18", phone or case numbers.

Why: citizens ask "hvor mange penge …" more than anything else, and a figure is only useful with
what it is for. Every rule here is Danish grammar (a unit after the number, "til/på <noun
phrase>" after the amount, "<noun> på <amount>" before it, the counted noun after a count),
never one document's wording. What each figure belongs to comes from retrieval/text/phrases.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from retrieval.text.chunking import split_sentences
from retrieval.text.phrases import count_phrase, figure_phrase

WORD_NUMBERS = {
    "én": 1, "ét": 1, "to": 2, "tre": 3, "fire": 4, "fem": 5, "seks": 6, "syv": 7, "otte": 8,
    "ni": 9, "ti": 10, "elleve": 11, "tolv": 12, "femten": 15, "tyve": 20, "halvanden": 1.5,
}
# A number: "413.341", "316,5", "8 ½", or a number word; never glued to letters, "-", "/", ":"
# or a further digit group (dates "28.09.2018", times "15.30", periods "2022-2025", "11/31929").
_DIGITS = r"(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?(?:\s?½)?"
_WORDS = "|".join(sorted(WORD_NUMBERS, key=len, reverse=True))
NUMBER = re.compile(
    rf"(?<![\w§/.,\-])(?<!\d:)(?:(?P<digits>{_DIGITS})|(?P<word>{_WORDS}))(?![\w/:\-]|[.,]\d)",
    re.IGNORECASE,
)
_SCALES = {"mia": 1e9, "milliard": 1e9, "mio": 1e6, "mill": 1e6, "million": 1e6, "tusind": 1e3}
MONEY = re.compile(
    r"\s*(?:(?P<scale>mia\.|milliard(?:er)?|mio\.|mill\.|million(?:er)?|tusind)\s*)?"
    r"(?P<kr>kr\.?|kroner)?(?!\w)", re.IGNORECASE)
PERCENT = re.compile(r"\s*(?:pct\.?|procent|%)(?!\w)", re.IGNORECASE)
DURATION = re.compile(
    r"[\s\-]*(?P<unit>årig|år|måneders|måneder|måned|dage|dages|døgn|uger|ugers|uge|timer)(?!\w)",
    re.IGNORECASE)
DURATION_UNITS = {"år": "år", "årig": "år", "måned": "måneder", "måneder": "måneder",
                  "måneders": "måneder", "dage": "dage", "dages": "dage", "døgn": "dage",
                  "uge": "uger", "uger": "uger", "ugers": "uger", "timer": "timer"}
# A number after one of these names a thing ("§ 18", "punkt 4", "type 2", "uge 49"), it does
# not count one; after "i (hele)" before "kr." it is a table's unit ("i hele 1.000 kr.").
LABELS = frozenset(
    """§ stk nr pkt punkt punkter punkterne side sidenr bilag bind uge kl version type fase trin
    niveau princip serviceområde mødelokale lokale sag sagsnr tlf telefon t cvr ean postnr
    vej gade kapitel afsnit pulje runde""".split()  # noqa: SIM905 - a word list reads best as words
)
MONTHS = frozenset(
    """januar februar marts april maj juni juli august september oktober november december
    jan feb mar apr jun jul aug sep sept okt nov dec""".split()  # noqa: SIM905
)


@dataclass(frozen=True)
class FoundFigure:
    """One figure in one sentence: its value in its unit, what it is for, where it stands."""

    value: float
    unit: str  # "kr.", "pct.", "år", "måneder", "dage", "uger", "timer" or "antal"
    what: str
    sentence: str
    start: int  # the figure's span in the sentence, number and unit
    end: int

    @property
    def surface(self) -> str:
        return self.sentence[self.start:self.end]


def figures_in(text: str) -> Iterator[FoundFigure]:
    """Every figure in a passage's text, sentence by sentence, in reading order."""
    for sentence in split_sentences(text):
        yield from figures_in_sentence(sentence)


def figures_in_sentence(sentence: str) -> list[FoundFigure]:
    found: list[FoundFigure] = []
    for m in NUMBER.finditer(sentence):
        if _is_reference(sentence, m):
            continue
        value = _number_value(m)
        figure = _with_unit(sentence, m, value, found)
        if figure is not None:
            found.append(figure)
    return found


def _number_value(m: re.Match[str]) -> float:
    if m.group("word"):
        return float(WORD_NUMBERS[m.group("word").casefold()])
    text = m.group("digits")
    half = "½" in text
    text = text.replace("½", "").strip().replace(".", "").replace(",", ".")
    return float(text) + (0.5 if half else 0.0)


def _with_unit(sentence: str, m: re.Match[str], value: float, earlier: list[FoundFigure]
               ) -> FoundFigure | None:
    """The figure this number starts, judged by what follows it (its unit or counted noun)."""
    rest = sentence[m.end():]
    digits = bool(m.group("digits"))
    money = MONEY.match(rest)
    if digits and money and (money.group("kr") or money.group("scale")):
        if _table_unit(sentence, m.start()):
            return None
        scale = (money.group("scale") or "").casefold().rstrip(".")
        factor = next((v for k, v in _SCALES.items() if scale.startswith(k)), 1.0)
        return _figure(sentence, m.start(), m.end() + money.end(), value * factor, "kr.", earlier)
    pct = PERCENT.match(rest)
    if digits and pct:
        return _figure(sentence, m.start(), m.end() + pct.end(), value, "pct.", earlier)
    duration = DURATION.match(rest)
    if duration:
        unit = DURATION_UNITS[duration.group("unit").casefold()]
        if unit == "år" and _age_limit(sentence, m.start(), duration.group("unit")):
            return None
        return _figure(sentence, m.start(), m.end() + duration.end(), value, unit, earlier)
    if digits and re.fullmatch(r"(19|20)\d\d", m.group("digits")):
        return None  # a year
    what = count_phrase(sentence, m.end())
    if not what:
        return None
    return FoundFigure(value, "antal", what, sentence, m.start(), m.end())


def _figure(sentence: str, start: int, end: int, value: float, unit: str,
            earlier: list[FoundFigure]) -> FoundFigure:
    """An amount, share or duration, with the phrase it belongs to; "svarende til 8 ½ måned"
    restates the figure before it, so it belongs to the same thing."""
    what = figure_phrase(sentence, start, end, unit)
    before = sentence[:start].casefold()
    if earlier and re.search(r"svarende til(?: \w+){0,2}\s*$", before):
        what = earlier[-1].what
    return FoundFigure(value, unit, what, sentence, start, end)


def _is_reference(sentence: str, m: re.Match[str]) -> bool:
    """A number that names or dates something: after a label ("§ 18", "nr. 4"), an ordinal
    ("12. november", "1. Indledning"), a day before a month, or part of a phone number."""
    before = sentence[:m.start()].rstrip()
    previous = re.search(r"([\w§]+)\.?:?$", before)
    if previous and previous.group(1).casefold() in LABELS:
        return True
    after = sentence[m.end():]
    if m.group("digits") and re.match(r"\.(\s|$)", after):
        return True  # an ordinal: a date, a list item, an agenda point
    nxt = re.match(r"\s*(\w+)", after)
    if nxt and nxt.group(1).casefold() in MONTHS:
        return True
    if m.group("digits") and re.fullmatch(r"\d{2}", m.group("digits")):
        around = sentence[max(0, m.start() - 9):m.end() + 9]
        if re.search(r"\d{2} \d{2} \d{2}", around):
            return True  # "27 90 02 10"
    return False


def _table_unit(sentence: str, start: int) -> bool:
    """ "(i hele 1.000 kr.)": the unit of a table's amounts, not an amount."""
    return bool(re.search(r"\bi (hele )?$", sentence[:start].casefold()))


def _age_limit(sentence: str, start: int, unit: str) -> bool:
    """ "dig over 18 år": an age limit, not a duration ("over en 4 årig periode" is one)."""
    return unit.casefold() == "år" and bool(
        re.search(r"\b(over|under|fra|til) $", sentence[:start].casefold()))
