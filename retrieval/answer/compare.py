"""Sammenlign: one question, 2–4 towns, each answered from its own documents only.

Why per town: a comparison is only fair when every town's column is that town's own best cited
excerpt, and a town whose documents do not answer says so ("Det står ikke i dokumenterne fra
Aalborg") instead of borrowing another town's text. Each column is `Assistant.ask` with the
town as the filter, so abstention is decided per town exactly as in the chat.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from retrieval.answer.assistant import DEFAULT_RETRIEVER, Assistant, BadQuestion
from retrieval.text.places import kommune, named_municipalities, strip_places
from retrieval.types import Answer

MIN_TOWNS, MAX_TOWNS = 2, 4
# "sammenlign Randers og Aalborg om hjemløse", "Sammenlign Aarhus, Odense og Vejle på budget"
_ASK = re.compile(r"^\s*sammenlign\s+(?P<towns>.+?)\s+(?:om|på|angående|vedr\.?|mht\.?)\s+"
                  r"(?P<topic>.+?)\s*[?.!]*\s*$", re.IGNORECASE)


def not_in_documents(town: str) -> str:
    return f"Det står ikke i dokumenterne fra {town}."


@dataclass(frozen=True)
class TownAnswer:
    """One column: the town and its answer (its best excerpts, or the plain 'not there')."""

    town: str
    answer: Answer

    def to_json(self) -> dict[str, Any]:
        """The CLI's answer contract plus the town it was asked for."""
        return {**self.answer.to_json(), "municipality": self.town}


def towns_in(text: str) -> list[str]:
    """Municipalities named in a comma/"og" list, spelled as the places list spells them."""
    found: list[str] = []
    for part in re.split(r",|\bog\b|\bsamt\b", text):
        for name in named_municipalities(part.strip()) or ([part.strip()] if part.strip() else []):
            if name.casefold() not in {f.casefold() for f in found}:
                found.append(name)
    return found


def parse_request(text: str) -> tuple[list[str], str] | None:
    """('sammenlign A og B om X') → ([A, B], X); None when the text is not such a request."""
    m = _ASK.match(text)
    if not m:
        return None
    towns = [t for t in towns_in(m.group("towns")) if named_municipalities(t)]
    if len(towns) < MIN_TOWNS:
        return None
    return towns, m.group("topic")


def compare(assistant: Assistant, question: str, towns: Sequence[str], k: int = 3,
            retriever: str = DEFAULT_RETRIEVER, kind: str | None = None) -> list[TownAnswer]:
    """Ask the question once per town with that town as the filter."""
    towns = list(dict.fromkeys(towns))
    if not MIN_TOWNS <= len(towns) <= MAX_TOWNS:
        raise BadQuestion(f"Vælg mellem {MIN_TOWNS} og {MAX_TOWNS} kommuner at sammenligne "
                          f"(du valgte {len(towns)}).")
    topic = strip_places(question).strip() or question
    columns = []
    for town in towns:
        answer = assistant.ask(topic, k=k, retriever=retriever, municipality=town, kind=kind)
        if not answer.answered:
            message = not_in_documents(town)
            if town.casefold() not in {c.casefold() for c in assistant.covered}:
                message += f" Vi har ingen dokumenter fra {kommune(town)}."
            answer = replace(answer, message=message)
        columns.append(TownAnswer(town, answer))
    return columns


def comparison_text(columns: Sequence[TownAnswer]) -> str:
    """Plain text for the hotline's copy button: every town's sentence and its full source."""
    lines = []
    for column in columns:
        a = column.answer
        if a.answered and a.hits:
            p = a.hits[0].passage
            lines.append(f"{column.town}: »{a.hits[0].highlight or p.text}« "
                         f"(Kilde: {p.where}. {p.source})")
        else:
            lines.append(f"{column.town}: {a.message}")
    return "\n".join(lines)
