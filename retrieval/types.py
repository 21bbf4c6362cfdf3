"""The records that flow one way through the product: Document → Passage → Hit → Answer.

They are frozen so that a cached index can be shared by many Streamlit sessions and threads
without anyone mutating what another session is about to cite.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from retrieval.text.places import kommune


@dataclass(frozen=True)
class Document:
    """One source document with the metadata a citation needs."""

    id: str
    title: str
    municipality: str
    committee: str
    kind: str
    period: str
    source: str
    text: str
    date: str = ""
    url: str = ""
    file: str = ""

    @property
    def when(self) -> str:
        """The date a citizen should see: the period the document covers, else its date."""
        return self.period or self.date


@dataclass(frozen=True)
class Passage:
    """A readable excerpt of a document; its id is stable for a given text and chunking."""

    id: str
    document_id: str
    position: int
    text: str
    title: str
    municipality: str
    committee: str
    kind: str
    period: str
    date: str
    source: str
    url: str = ""

    @classmethod
    def from_document(cls, doc: Document, position: int, text: str) -> Passage:
        return cls(
            id=f"{doc.id}#{position:03d}",
            document_id=doc.id,
            position=position,
            text=text,
            title=doc.title,
            municipality=doc.municipality,
            committee=doc.committee,
            kind=doc.kind,
            period=doc.period,
            date=doc.date,
            source=doc.source,
            url=doc.url,
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Passage:
        return cls(**data)

    @property
    def when(self) -> str:
        return self.period or self.date

    @property
    def citation(self) -> str:
        """Municipality · committee · title · period · source, as shown under every excerpt."""
        parts = [kommune(self.municipality), self.committee, self.title, self.when, self.source]
        return " · ".join(p for p in parts if p)

    @property
    def where(self) -> str:
        """Municipality, committee, title, period: a plain-text citation's "Kilde: …" (copied,
        read aloud, compared)."""
        return ", ".join(x for x in (kommune(self.municipality), self.committee, self.title,
                                     self.when) if x)


@dataclass(frozen=True)
class Hit:
    """A passage as one retriever ranked it for one question."""

    passage: Passage
    score: float
    rank: int
    highlight: str = ""

    def __post_init__(self) -> None:
        if self.rank < 1:
            raise ValueError(f"rank must be 1 or more, got {self.rank}")


@dataclass(frozen=True)
class Answer:
    """What the product says to one question: cited hits, or a plain 'not in the documents'."""

    question: str
    language: str
    answered: bool
    message: str
    hits: tuple[Hit, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        """The CLI's fixed JSON contract; evaluators and scripts rely on these keys."""
        return {
            "question": self.question,
            "language": self.language,
            "answered": self.answered,
            "message": self.message,
            "hits": [
                {
                    "rank": h.rank,
                    "score": round(float(h.score), 6),
                    "passage_id": h.passage.id,
                    "text": h.passage.text,
                    "highlight": h.highlight,
                    "document_id": h.passage.document_id,
                    "title": h.passage.title,
                    "municipality": h.passage.municipality,
                    "committee": h.passage.committee,
                    "date": h.passage.when,
                    "source": h.passage.source,
                }
                for h in self.hits
            ],
        }
