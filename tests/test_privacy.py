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

C, P, E = CPR_MARK, PHONE_MARK, EMAIL_MARK
NBSP, THIN, NNBSP, NBHY, EN, EM, MINUS, ZWSP = (
    "\u00a0", "\u2009", "\u202f", "\u2011", "\u2013", "\u2014", "\u2212", "\u200b"
)

# Each row: what a citizen typed, and what must be left of it. The expected texts are written
# by hand, not produced by the code. Personal data first, then ordinary figures that must stay.
PERSONAL = [
    # CPR numbers, as people write them
    ("Mit CPR-nummer er 010203-1234.", f"Mit CPR-nummer er {C}."),
    ("cpr 0102031234 – kan I hjælpe?", f"cpr {C} – kan I hjælpe?"),
    ("Min søn har cpr. 311299 4321", f"Min søn har cpr. {C}"),
    ("Jeg har cpr 01.02.03-1234 og vil klage", f"Jeg har cpr {C} og vil klage"),
    ("Født 010203 - 1234, hvad får jeg?", f"Født {C}, hvad får jeg?"),
    ("Hjælp til 150675-2211 i Sønderborg", f"Hjælp til {C} i Sønderborg"),
    ("personnummer 5501011234", f"personnummer {C}"),  # not a date, but named a CPR number
    (f"CPR{NBSP}010203{NBSP}1234 tak", f"CPR{NBSP}{C} tak"),
    (f"010203{NBHY}1234 er min mors", f"{C} er min mors"),
    (f"010203{EN}1234 er min fars", f"{C} er min fars"),
    (f"010203{MINUS}1234", C),
    (f"0102{ZWSP}03-1234 kopieret fra en mail", f"{C} kopieret fra en mail"),
    ("(cpr: 241288-0987)", f"(cpr: {C})"),
    # phone numbers
    ("Ring til mig på +45 12 34 56 78", f"Ring til mig på {P}"),
    ("tlf. 12345678, tak", f"tlf. {P}, tak"),
    ("mobil: 12 34 56 78", f"mobil: {P}"),
    ("Ring 2345 6789 efter kl. 16", f"Ring {P} efter kl. 16"),
    ("nummer 0045 12345678", f"nummer {P}"),
    ("(+45) 87 65 43 21 er mit nummer", f"{P} er mit nummer"),
    ("+4512345678", P),
    ("Kan I ringe på 12-34-56-78?", f"Kan I ringe på {P}?"),
    ("Mit nummer er 1234-5678", f"Mit nummer er {P}"),
    ("+45 12-34-56-78 hele dagen", f"{P} hele dagen"),
    ("Træffes på 12 34 5678", f"Træffes på {P}"),
    ("ring 2040 2010 efter kl. 16", f"ring {P} efter kl. 16"),
    ("tlf 2014 2020", f"tlf {P}"),  # two years, but the word says phone
    (f"Ring{NBSP}12{NBSP}34{NBSP}56{NBSP}78", f"Ring{NBSP}{P}"),
    (f"telefon 12{THIN}34{THIN}56{THIN}78", f"telefon {P}"),
    (f"+45{NNBSP}2345{NNBSP}6789", P),
    (f"12{NBHY}34{NBHY}56{NBHY}78 er min mobil", f"{P} er min mobil"),
    ("Min datter (22 33 44 55) har ikke fået svar", f"Min datter ({P}) har ikke fået svar"),
    ("sms til 87.65.43.21 når I ved det", f"sms til {P} når I ved det"),
    ("telefonnummer:22334455", f"telefonnummer:{P}"),
    ("0045 2233 4455", P),
    ("Jeg bor i Aabenraa, ring 7462 1234", f"Jeg bor i Aabenraa, ring {P}"),
    ("ring 12 34 56 78 eller 2040 2010", f"ring {P} eller {P}"),  # the second: still after "ring"
    # e-mail addresses
    ("skriv til jens.hansen@mail.dk", f"skriv til {E}"),
    ("Mail: søren_ø+kommune@post.tele.dk.", f"Mail: {E}."),
    ("min mail er Anne-Marie.Ølgaard@gmail.com og tlf 22 33 44 55", f"min mail er {E} og tlf {P}"),
    # all three
    ("010203-1234, 12 34 56 78 og a@b.dk", f"{C}, {P} og {E}"),
]

ORDINARY = [
    "Socialudvalget bruger 79.000 kroner på demokrati.",
    "Budgettet er på 316,5 millioner kroner.",
    "Der er afsat 1.234.567,50 kr. i 2017.",
    "Planen for 2014-2020 og 2022-2025.",
    "Hvad skete der mellem 2014 2020?",
    "Ring til Hotline Syddanmark mandag til torsdag kl. 15.00-20.00.",
    "Hvor mange af de 12.000 borgere får hjælp?",
    "Er der et budget på 45000000 kr til ældre?",
    "Hvad betyder CVR 29189919 i regnskabet?",
    "Kommunens CVR-nr. 29 18 99 19",
    "P-nummer 1003388394 står på fakturaen",
    "EAN 5798000012345 bruges til e-faktura",
    "EAN-nummer 5798000420014",
    "Åbent kl. 10.00 12.00 på torsdage",
    "Hvorfor koster det 5000000000 kr?",
    "Bruger de 12345678 kr på hjemløse?",
    "Stigning på 12 34 56 78 %? Nej, 12 %.",
    "Budgettet 2023: 12345678",
    "Hvad blev der brugt i 2022-2025?",
    f"Strategien for 2022{EN}2025",
    "Handleplan 2019 2023 for socialområdet",
    "Er der sparet 2,5 mio. kr. fra 2024?",
    "Udgifterne steg 3,4 % fra 2021 til 2022.",
    "Hvad er det i DKK 45000000?",
    "Hvor mange pladser er der i 2025?",
    "Hvad sagde man den 12.05.2023?",
    "Mødet den 01-02-2023 kl. 16.00",
    "Sønderborg har 74.000 indbyggere og 1.200 medarbejdere",
    "Hvad er målene for 2030 i Silkeborg?",
    "Tal fra side 12, 34 og 56",
    "Hvad er Silkeborgs fokusområder?",
    f"Budgettet{NBSP}er{NBSP}79.000{NBSP}kroner",  # NBSP in ordinary text is kept as typed
    "Skriv til kommunen via borger.dk",
    "Mellem kl. 8 og 12 på 1. sal",
]


@pytest.mark.parametrize(("text", "expected"), PERSONAL)
def test_personal_data_is_redacted(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_numbers_in_questions_are_kept(text: str) -> None:
    assert redact(text) == text


def test_the_table_is_big_enough_to_mean_something() -> None:
    assert len(PERSONAL) + len(ORDINARY) >= 60
    assert len({t for t, _ in PERSONAL} | set(ORDINARY)) == len(PERSONAL) + len(ORDINARY)


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
