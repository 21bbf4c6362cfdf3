"""Personal data out of everything we keep: CPR numbers, phone numbers and e-mail addresses.

Citizens sometimes type their own CPR number or phone number into a question. The app redacts the
question as soon as it arrives, so neither the search, the feedback database nor a log line ever
holds it. `RedactingFilter` does the same for log records, including their tracebacks.

Redaction decides by shape *and* context, because the same digits are a phone number in "ring
2040 2010" and a period in "planen for 2020-2024", and an 8-digit run is a phone number in
"tlf 29189919" but a company in "CVR 29189919":
- Unicode spaces (NBSP, thin space …), dashes (en/em dash, non-breaking hyphen, minus) and
  invisible characters (zero-width space, soft hyphen) are normalised first, since text pasted
  from a web page or Word carries them. Matches are mapped back, so what is kept stays as typed.
- A CPR number is six digits that form a date (DD MM YY, with or without dots) and four more;
  after "CPR"/"personnummer" any ten digits count.
- A phone number is eight digits in a Danish shape (12345678, 12 34 56 78, 12-34-56-78,
  1234 5678, 12 34 5678 …), anything after +45/0045, and any eight digits after a phone word
  (ring, tlf, telefon, mobil, nummer, sms).
- Kept: figures next to an amount or unit (kr, kroner, DKK, mio, mia, %, procent, budget,
  beløb …), identifiers that are not personal (CVR, P-nummer, EAN, SE-nummer), times after
  "kl." and pairs of years ("2014 2020", "2022-2025") unless a phone word says otherwise.

Presidio was tried as the engine and not chosen (README "Libraries we chose", SECURITY.md §2).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

CPR_MARK = "[CPR-nummer fjernet]"
PHONE_MARK = "[telefonnummer fjernet]"
EMAIL_MARK = "[e-mail fjernet]"

# Spaces and dashes people paste from web pages and Word, each mapped to one plain character.
_SPACES = "\u00a0\u1680\u202f\u205f\u3000\t" + "".join(map(chr, range(0x2000, 0x200B)))
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad")
_TABLE = {**{ord(c): " " for c in _SPACES}, **{ord(c): "-" for c in _DASHES}}

# A number glued to a digit, or to a thousands separator followed by a digit, is part of something
# longer (an amount like 1.234.567,50 or an account number) and is left alone.
_START = r"(?<!\d)(?<!\d[.,])"
_END = r"(?!\d)(?![.,]\d)"
_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# DDMMYY-NNNN as typed: 010203-1234, 0102031234, 010203 1234, 010203 - 1234, 01.02.03-1234.
_CPR = re.compile(
    rf"{_START}(?P<d>\d\d)(?P<s>[.-]?)(?P<m>\d\d)(?P=s)(?P<y>\d\d)(?: ?- ?| )?\d{{4}}{_END}"
)
# Eight digits with at most one space, dot or dash between any two, maybe after +45 / 0045 / (+45).
_PREFIX = r"(?P<prefix>(?<![\w+])(?:\+|00) ?45[ -]?|\(\+?45\) ?)"
_PHONE = re.compile(rf"(?:{_PREFIX}|{_START})(?P<body>\d(?:[ .-]?\d){{7}}){_END}")
# The shapes a Danish number is written in, when no word says what it is.
_PHONE_SHAPES = re.compile(
    r"\d{8}|\d\d(?P<a>[ .-])\d\d(?P=a)\d\d(?P=a)\d\d|\d{4}[ -]\d{4}"
    r"|\d\d(?P<b>[ -])\d\d(?P=b)\d{4}|\d{4} \d\d \d\d"
)
_YEARS = re.compile(r"(?:19|20)\d\d[ -](?:19|20)\d\d")
_DATE = re.compile(r"(?P<d>\d\d)(?P<s>[ .-])(?P<m>\d\d)(?P=s)(?P<y>(?:19|20)\d\d)")
# Between a word and the number it names: other words, and years ("budget 2023: 12345678").
_GAP = re.compile(r"(?:[^\d\n]|(?<!\d)(?:19|20)\d\d(?!\d))*")

_W = r"(?<![\w-])"
# Words that say what the next number is, looked for in the text just before (or after) it.
_CPR_WORDS = re.compile(rf"{_W}(?:cpr|personnummer|personnr)\w*[^\d\n]{{0,25}}$", re.I)
_PHONE_WORDS = re.compile(
    rf"{_W}(?:ring\w*|tlf|telefon\w*|mobil\w*|nummer|nr|sms|fastnet\w*)(?!\w)", re.I
)
_ID_BEFORE = re.compile(
    rf"{_W}(?:cvr|p|ean|se|gln)(?:[ .-]?(?:nummer|nr|no)\.?)?\s*[:.#]?\s*$", re.I
)
_TIME_BEFORE = re.compile(rf"{_W}(?:kl|klokken)\.?\s*$", re.I)
_AMOUNT_BEFORE = re.compile(
    rf"{_W}(?:(?:kr|kroner|dkk|eur|euro|budget\w*|beløb\w*|bevilling\w*|udgift\w*|indtægt\w*"
    rf"|tilskud\w*|ramme\w*|pris\w*|koste\w*)(?!\w)|€)",
    re.I,
)
_AMOUNT_AFTER = re.compile(
    r"^\s*(?:kr\b|kr\.|kroner|dkk|eur\b|euro|€|mio\b|mio\.|mia\b|mia\.|mill\w*|milliard\w*"
    r"|%|procent|pct\b|,-|timer\b|borgere\b|personer\b|m2\b|m²|km\b)",
    re.I,
)


@dataclass(frozen=True)
class Redacted:
    """The text with personal data replaced, and what was found, in Danish ("et CPR-nummer")."""

    text: str
    found: tuple[str, ...] = ()


def normalise(text: str) -> tuple[str, list[int]]:
    """Plain spaces and hyphens for their Unicode look-alikes, invisible characters dropped.

    Returns the normalised text and, for each of its characters, its index in `text`, so a
    match can be cut out of the text as typed and everything else kept exactly as it was.
    """
    chars: list[str] = []
    origin: list[int] = []
    for i, char in enumerate(text):
        if char in _INVISIBLE:
            continue
        chars.append(char.translate(_TABLE))
        origin.append(i)
    return "".join(chars), origin


def _distance(words: re.Pattern[str], before: str, most: int) -> int | None:
    """How many words stand between the last of `words` and the end of `before`, if at most
    `most` and none of them is a number other than a year; None otherwise."""
    found = list(words.finditer(before))
    if not found:
        return None
    gap = before[found[-1].end() :]  # the last one is the nearest
    if not _GAP.fullmatch(gap) or len(gap.split()) > most:
        return None
    return len(gap.split())


def _nearest(before: str) -> str:
    """Which kind of word stands nearest before a number: 'phone', 'amount' or ''.

    A phone word reaches four words ("ring til mig på 12345678"), an amount word three
    ("budgettet for 2023 er 12345678"); when both reach, the nearer one decides.
    """
    phone = _distance(_PHONE_WORDS, before, 4)
    amount = _distance(_AMOUNT_BEFORE, before, 3)
    if phone is None and amount is None:
        return ""
    if amount is None or (phone is not None and phone <= amount):
        return "phone"
    return "amount"


def _is_date(day: str, month: str, year: str) -> bool:
    try:
        date(2000 + int(year), int(month), int(day))
    except ValueError:
        return False
    return True


def _ordinary(norm: str, start: int, end: int) -> bool:
    """A figure the words around it call an amount, a time or a company's identifier."""
    before = norm[max(0, start - 60) : start]
    return bool(
        _ID_BEFORE.search(before) or _TIME_BEFORE.search(before) or _AMOUNT_AFTER.match(norm[end:])
    )


def _cpr(norm: str, match: re.Match[str]) -> bool:
    start, end = match.span()
    if _ordinary(norm, start, end):
        return False
    if _CPR_WORDS.search(norm[max(0, start - 60) : start]):
        return True
    return _is_date(match["d"], match["m"], match["y"]) and _nearest(norm[:start][-60:]) != "amount"


def _phone(norm: str, match: re.Match[str]) -> bool:
    if match["prefix"]:
        return True
    start, end = match.span()
    if _ordinary(norm, start, end):
        return False
    body = match["body"]
    nearest = _nearest(norm[max(0, start - 60) : start])
    if nearest == "phone":
        return True
    if nearest == "amount" or _YEARS.fullmatch(body):
        return False
    date_like = _DATE.fullmatch(body)
    if date_like and _is_date(date_like["d"], date_like["m"], date_like["y"][2:]):
        return False
    return bool(_PHONE_SHAPES.fullmatch(body))


_RULES: tuple[tuple[re.Pattern[str], Callable[[str, re.Match[str]], bool], str, str], ...] = (
    (_EMAIL, lambda norm, match: True, EMAIL_MARK, "en e-mailadresse"),
    (_PHONE, _phone, PHONE_MARK, "et telefonnummer"),
    (_CPR, _cpr, CPR_MARK, "et CPR-nummer"),
)


def redact_report(text: str) -> Redacted:
    """Replace CPR numbers, phone numbers and e-mail addresses, saying which kinds were there."""
    norm, origin = normalise(text)
    # What the rules read as context: `norm` with what was already found blanked out (same
    # length), so "ring 12 34 56 78 eller 2040 2010" reads the second number after a phone word.
    context = norm
    taken: list[tuple[int, int, str]] = []  # spans in `norm`, and their marker
    found: list[str] = []
    for pattern, accept, mark, name in _RULES:
        for match in pattern.finditer(norm):
            start, end = match.span()
            if any(s < end and start < e for s, e, _ in taken) or not accept(context, match):
                continue
            taken.append((start, end, mark))
            context = context[:start] + "#" * (end - start) + context[end:]
            if name not in found:
                found.append(name)
    pieces: list[str] = []
    position = 0
    for start, end, mark in sorted(taken):
        pieces += [text[position : origin[start]], mark]
        position = origin[end - 1] + 1
    pieces.append(text[position:])
    return Redacted("".join(pieces), tuple(found))


def redact(text: str) -> str:
    """The text with CPR numbers, phone numbers and e-mail addresses replaced by a marker."""
    return redact_report(text).text


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the message, its arguments and any traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_PROTECTED: set[str] = set()
_LOCK = threading.Lock()


def protect_logger(logger: logging.Logger) -> logging.Logger:
    """Redact every record of this logger and of its children ('sporg.hotline').

    A logger's own filters never see its children's records, and handlers belong to whoever
    configures logging, so the redaction is done where every record is made: in the record
    factory, for records whose logger is this one or below it.
    """
    with _LOCK:
        if not _PROTECTED:
            previous = logging.getLogRecordFactory()

            def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
                record = previous(*args, **kwargs)
                if _under_protected(record.name):
                    _REDACTOR.filter(record)
                return record

            logging.setLogRecordFactory(factory)
        _PROTECTED.add(logger.name)
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())  # also covers records made with makeLogRecord
    return logger


def _under_protected(name: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in _PROTECTED)


_REDACTOR = RedactingFilter()
