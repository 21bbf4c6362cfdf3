"""Personal data out of everything we keep: CPR numbers, phone numbers and e-mail addresses.

Citizens sometimes type their own CPR number or phone number into a question. The app redacts the
question as soon as it arrives, so neither the search, the feedback database nor a log line ever
holds it. `RedactingFilter` does the same for log records, including their tracebacks.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from typing import Any

CPR_MARK = "[CPR-nummer fjernet]"
PHONE_MARK = "[telefonnummer fjernet]"
EMAIL_MARK = "[e-mail fjernet]"

# A number glued to a digit, or to a thousands separator followed by a digit, is part of something
# longer (an amount like 1.234.567,50 or an account number) and is left for the longer rules.
_START = r"(?<!\d)(?<!\d[.,])"
_END = r"(?!\d)(?![.,]\d)"
# DDMMYY-NNNN, DDMMYY NNNN or ten digits in a row.
_CPR = re.compile(rf"{_START}\d{{6}}[-‐–  ]?\d{{4}}{_END}")
# +45 / 0045 / (+45), then 8 digits: 12345678, 12 34 56 78, 12.34.56.78, 1234 5678.
_PHONE = re.compile(
    rf"(?:(?<!\d)\(?(?:\+|00)45\)?[  ]?|{_START})"
    rf"(?:\d{{8}}|\d{{2}}(?:[  .]\d{{2}}){{3}}|\d{{4}}[  ]\d{{4}}){_END}"
)
_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# '2014 2020' is a span of years in a question, not a phone number.
_YEARS = re.compile(r"(?:19|20)\d\d[  ](?:19|20)\d\d")


@dataclass(frozen=True)
class Redacted:
    """The text with personal data replaced, and what was found, in Danish ("et CPR-nummer")."""

    text: str
    found: tuple[str, ...] = ()


def redact_report(text: str) -> Redacted:
    """Replace CPR numbers, phone numbers and e-mail addresses, saying which kinds were there."""
    found: list[str] = []
    text, n = _EMAIL.subn(EMAIL_MARK, text)
    if n:
        found.append("en e-mailadresse")
    phones = 0

    def phone(match: re.Match[str]) -> str:
        nonlocal phones
        if _YEARS.fullmatch(match.group(0)):
            return match.group(0)
        phones += 1
        return PHONE_MARK

    text = _PHONE.sub(phone, text)
    if phones:
        found.append("et telefonnummer")
    text, n = _CPR.subn(CPR_MARK, text)
    if n:
        found.append("et CPR-nummer")
    return Redacted(text, tuple(found))


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
