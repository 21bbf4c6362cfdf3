"""The embedded gold set: Danish questions whose relevance is defined by the documents.

An answerable question names a document and the exact answer span in that document's cleaned
text; a passage is relevant when its text contains the span (whitespace-normalised). Re-chunking
therefore never invalidates the set: relevance is recomputed from the passages of the day.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from retrieval.types import Passage

GOLD = Path(__file__).with_name("data") / "gold.jsonl"
TYPES = ("fact", "goal", "why", "paraphrase", "keyword", "english", "unanswerable")
# A judged question whose span no passage contains still counts (as a miss), never vanishes:
# it is judged against this id, which no retriever returns.
UNREACHABLE = "__no_passage_contains_the_answer_span__"


class GoldError(ValueError):
    """A gold-set line cannot be used; the message names the line and the fix."""


@dataclass(frozen=True)
class GoldQuestion:
    id: str
    question: str
    answerable: bool
    type: str
    municipality: str = ""
    document_id: str = ""
    answer: str = ""

    def __post_init__(self) -> None:
        if not self.id or not self.question.strip():
            raise GoldError(f"question {self.id!r}: 'id' and 'question' must be non-empty")
        if self.type not in TYPES:
            raise GoldError(f"question {self.id}: type {self.type!r} is not one of {TYPES}")
        if self.answerable and not (self.document_id and self.answer.strip()):
            raise GoldError(
                f"question {self.id}: an answerable question needs 'document_id' and 'answer'"
            )
        if not self.answerable and (self.answer or self.document_id):
            raise GoldError(
                f"question {self.id}: an unanswerable question must not carry 'answer' or "
                "'document_id'; drop them or set \"answerable\": true"
            )


def normalise(text: str) -> str:
    """Whitespace folded to single spaces, so a span matches across a re-rendered line break."""
    return " ".join(text.split())


def load_gold(path: Path | str = GOLD) -> tuple[GoldQuestion, ...]:
    """Read a gold JSONL file; every error names the line and what to fix."""
    path = Path(path)
    if not path.is_file():
        raise GoldError(f"{path} not found: pass --questions with a gold JSONL file")
    questions: list[GoldQuestion] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise GoldError(f"{where}: not valid JSON ({exc.msg}); one object per line") from exc
        if not isinstance(data, dict):
            raise GoldError(f"{where}: expected a JSON object, got {type(data).__name__}")
        fields = {f: data[f] for f in GoldQuestion.__dataclass_fields__ if f in data}
        missing = [f for f in ("id", "question", "answerable", "type") if f not in data]
        if missing:
            raise GoldError(f"{where}: missing field(s) {missing}")
        try:
            question = GoldQuestion(**fields)
        except GoldError as exc:
            raise GoldError(f"{where}: {exc}") from exc
        if question.id in seen:
            raise GoldError(f"{where}: duplicate id {question.id!r}; ids must be unique")
        seen.add(question.id)
        questions.append(question)
    if not questions:
        raise GoldError(f"{path}: holds no questions")
    return tuple(questions)


def check_spans(questions: Iterable[GoldQuestion], texts: dict[str, str]) -> list[str]:
    """Problems with answer spans against document id → cleaned text; empty when all is well."""
    problems = []
    normalised = {doc_id: normalise(text) for doc_id, text in texts.items()}
    for q in questions:
        if not q.answerable:
            continue
        if q.document_id not in normalised:
            problems.append(f"{q.id}: unknown document_id {q.document_id!r}")
        elif normalise(q.answer) not in normalised[q.document_id]:
            problems.append(f"{q.id}: answer {q.answer!r} is not in {q.document_id}")
    return problems


def relevant_ids(question: GoldQuestion, passages: Sequence[Passage]) -> tuple[str, ...]:
    """Passages of the question's document whose text contains its answer span."""
    if not question.answerable:
        return ()
    span = normalise(question.answer)
    return tuple(
        p.id for p in passages
        if p.document_id == question.document_id and span in normalise(p.text)
    )


def gold_qrels(
    questions: Iterable[GoldQuestion], passages: Sequence[Passage]
) -> dict[str, dict[str, int]]:
    """BEIR/ranx qrels for the answerable questions (unanswerable ones are judged by abstention)."""
    qrels: dict[str, dict[str, int]] = {}
    for q in questions:
        if q.answerable:
            qrels[q.id] = dict.fromkeys(relevant_ids(q, passages) or (UNREACHABLE,), 1)
    return qrels
