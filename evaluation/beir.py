"""BEIR folders: corpus.jsonl (_id, title, text), queries.jsonl (_id, text), qrels/<split>.tsv.

Passages keep the BEIR ids (id = document_id = _id, position 0) and carry no municipality or
committee, so every retriever indexes `title + text` just as the BM25 baselines in SOURCE.md do.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrieval.types import Passage


class BeirError(ValueError):
    """A BEIR folder or one of its lines cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class BeirSet:
    name: str
    passages: tuple[Passage, ...]
    queries: dict[str, str]  # only the judged queries, in file order
    qrels: dict[str, dict[str, int]]

    def limited(self, n: int | None) -> BeirSet:
        """The first n judged queries (file order) against the full corpus."""
        if n is None or n >= len(self.queries):
            return self
        if n < 1:
            raise BeirError(f"--limit must be at least 1, got {n}")
        keep = list(self.queries)[:n]
        return BeirSet(
            self.name, self.passages, {q: self.queries[q] for q in keep},
            {q: self.qrels[q] for q in keep},
        )


def _jsonl(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    if not path.is_file():
        raise BeirError(f"{path} not found: a BEIR folder needs corpus.jsonl, queries.jsonl and "
                        "qrels/test.tsv")
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise BeirError(
                    f"{where}: not valid JSON ({exc.msg}); one object per line"
                ) from exc
            if not isinstance(data, dict) or "_id" not in data or "text" not in data:
                raise BeirError(f"{where}: each line needs an object with '_id' and 'text'")
            if not isinstance(data["text"], str):
                raise BeirError(f"{where}: 'text' must be a string, got {data['text']!r}")
            yield where, data


def load_corpus_jsonl(path: Path) -> tuple[Passage, ...]:
    passages: list[Passage] = []
    seen: set[str] = set()
    for where, data in _jsonl(path):
        pid = str(data["_id"])
        if not pid or any(ch.isspace() for ch in pid):
            raise BeirError(f"{where}: passage id {pid!r} is empty or has whitespace, which TREC "
                            "run files cannot hold; rename it")
        if pid in seen:
            raise BeirError(f"{where}: duplicate passage id {pid!r}")
        seen.add(pid)
        passages.append(Passage(
            id=pid, document_id=pid, position=0, text=data["text"],
            title=str(data.get("title") or ""), municipality="", committee="", kind="",
            period="", date="", source="",
        ))
    if not passages:
        raise BeirError(f"{path}: holds no passages")
    return tuple(passages)


def load_queries_jsonl(path: Path) -> dict[str, str]:
    queries: dict[str, str] = {}
    for where, data in _jsonl(path):
        qid = str(data["_id"])
        if not qid or any(ch.isspace() for ch in qid):
            raise BeirError(f"{where}: query id {qid!r} is empty or has whitespace, which TREC "
                            "run files cannot hold; rename it")
        if qid in queries:
            raise BeirError(f"{where}: duplicate query id {qid!r}")
        queries[qid] = data["text"]
    return queries


def load_qrels_tsv(path: Path) -> dict[str, dict[str, int]]:
    """query-id, corpus-id, score per line; a header row (BEIR writes one) is skipped."""
    if not path.is_file():
        siblings = sorted(p.name for p in path.parent.glob("*.tsv")) if path.parent.is_dir() else []
        hint = f"; this folder has {siblings}, choose one with --split" if siblings else ""
        raise BeirError(f"{path} not found{hint}")
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            if len(cols) == 4:  # TREC-style 'qid 0 docid rel' saved as .tsv
                cols = [cols[0], cols[2], cols[3]]
            if len(cols) != 3:
                raise BeirError(
                    f"{path}:{number}: expected 3 tab-separated columns (query-id, corpus-id, "
                    f"score), got {len(cols)}"
                )
            try:
                score = int(float(cols[2]))
            except ValueError as exc:
                if number == 1:
                    continue  # the header row
                raise BeirError(f"{path}:{number}: score {cols[2]!r} is not a number") from exc
            qrels.setdefault(cols[0].strip(), {})[cols[1].strip()] = score
    return qrels


def load_beir(folder: Path | str, split: str = "test") -> BeirSet:
    """Load a BEIR folder; only queries with at least one relevant passage are kept."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BeirError(f"{folder} is not a folder: pass --beir with a BEIR dataset folder")
    passages = load_corpus_jsonl(folder / "corpus.jsonl")
    queries = load_queries_jsonl(folder / "queries.jsonl")
    qrels = load_qrels_tsv(folder / "qrels" / f"{split}.tsv")
    unknown = sorted(set(qrels) - set(queries))
    if unknown:
        raise BeirError(
            f"{folder}/qrels/{split}.tsv judges {len(unknown)} query id(s) missing from "
            f"queries.jsonl, e.g. {unknown[:3]}; fix the ids"
        )
    judged = {q: t for q, t in queries.items() if any(s > 0 for s in qrels.get(q, {}).values())}
    if not judged:
        raise BeirError(f"{folder}: no query has a relevant passage in qrels/{split}.tsv")
    return BeirSet(folder.name, passages, judged, {q: qrels[q] for q in judged})
