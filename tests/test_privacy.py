"""Personal data in questions: realistic Danish CPR numbers, phone numbers and e-mail addresses."""

from __future__ import annotations

import logging

import pytest

from retrieval.text.privacy import (
    CPR_MARK,
    EMAIL_MARK,
    PHONE_MARK,
    RedactingFilter,
    protect_logger,
    redact,
    redact_report,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mit CPR-nummer er 010203-1234.", f"Mit CPR-nummer er {CPR_MARK}."),
        ("cpr 0102031234 – kan I hjælpe?", f"cpr {CPR_MARK} – kan I hjælpe?"),
        ("Min søn har cpr. 311299 4321", f"Min søn har cpr. {CPR_MARK}"),
        ("Ring til mig på +45 12 34 56 78", f"Ring til mig på {PHONE_MARK}"),
        ("tlf. 12345678, tak", f"tlf. {PHONE_MARK}, tak"),
        ("mobil: 12 34 56 78", f"mobil: {PHONE_MARK}"),
        ("Ring 2345 6789 efter kl. 16", f"Ring {PHONE_MARK} efter kl. 16"),
        ("nummer 0045 12345678", f"nummer {PHONE_MARK}"),
        ("(+45) 87 65 43 21 er mit nummer", f"{PHONE_MARK} er mit nummer"),
        ("+4512345678", PHONE_MARK),
        ("skriv til jens.hansen@mail.dk", f"skriv til {EMAIL_MARK}"),
        ("Mail: søren_ø+kommune@post.tele.dk.", f"Mail: {EMAIL_MARK}."),
    ],
)
def test_personal_data_is_redacted(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Socialudvalget bruger 79.000 kroner på demokrati.",
        "Budgettet er på 316,5 millioner kroner.",
        "Der er afsat 1.234.567,50 kr. i 2017.",
        "Planen for 2014-2020 og 2022-2025.",
        "Hvad skete der mellem 2014 2020?",
        "Ring til Hotline Syddanmark mandag til torsdag kl. 15.00-20.00.",
        "Hvor mange af de 12.000 borgere får hjælp?",
    ],
)
def test_ordinary_numbers_in_questions_are_kept(text: str) -> None:
    assert redact(text) == text


def test_report_names_what_was_removed_in_danish() -> None:
    report = redact_report("010203-1234, 12 34 56 78 og a@b.dk")
    assert set(report.found) == {"et CPR-nummer", "et telefonnummer", "en e-mailadresse"}
    assert "1234" not in report.text and "@" not in report.text
    assert redact_report("Hvad er Silkeborgs fokusområder?").found == ()


def test_log_records_are_redacted_with_args_and_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = protect_logger(logging.getLogger("sporg.test-privacy"))
    protect_logger(log)  # adding it twice adds one filter
    assert sum(isinstance(f, RedactingFilter) for f in log.filters) == 1
    with caplog.at_level(logging.INFO, logger="sporg.test-privacy"):
        log.info("question %r from %s", "cpr 010203-1234", "x@y.dk")
        try:
            raise ValueError("bad question: ring 12 34 56 78")
        except ValueError:
            log.exception("failed")
    text = caplog.text
    assert "010203-1234" not in text and "x@y.dk" not in text and "12 34 56 78" not in text
    assert CPR_MARK in text and EMAIL_MARK in text and PHONE_MARK in text
