"""The product's sentences to citizens, in plain Danish, kept in one place."""

from __future__ import annotations

from retrieval.ingest.corpus import Municipality
from retrieval.text.places import kommune

ANSWERED = "Her er de steder i dokumenterne, der bedst svarer på dit spørgsmål."
NOT_FOUND = (
    "Jeg kan ikke finde svaret i de dokumenter, jeg kender. "
    "De nærmeste uddrag står nedenfor som »måske relateret« – "
    "de svarer ikke sikkert på spørgsmålet."
)
SOURCES_DANISH = "Kilderne er på dansk. (The sources are in Danish.)"


def contact_sentence(contact: Municipality | None) -> str:
    """The way to a human: a phone number where the documents give one, else the website."""
    if contact is None:
        return "Kontakt din kommune for at få svar."
    where = kommune(contact.name)
    if contact.phone:
        extra = f" ({contact.contact})" if contact.contact else ""
        return f"Kontakt {where} på telefon {contact.phone}{extra}."
    if contact.website:
        return f"Kontakt {where} via {contact.website}."
    return f"Kontakt {where}."


def answer_message(language: str, answered: bool, contact: Municipality | None) -> str:
    parts = [ANSWERED] if answered else [NOT_FOUND, contact_sentence(contact)]
    if language != "da":
        parts.append(SOURCES_DANISH)
    return " ".join(parts)


def not_covered(named: list[str], covered: list[str], language: str) -> str:
    """Say which towns we do have, rather than answering with another town's documents."""
    asked = " og ".join(kommune(n) for n in named)
    have = ", ".join(covered)
    text = (
        f"Jeg har ingen dokumenter fra {asked}, så jeg kan ikke svare på det. "
        f"Jeg kender kun dokumenter fra disse kommuner: {have}. "
        f"Kontakt {kommune(named[0])} direkte for at få svar."
    )
    return f"{text} {SOURCES_DANISH}" if language != "da" else text
