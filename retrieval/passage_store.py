"""passages.jsonl held as its raw lines, each parsed the first time it is used.

At 100,000 passages, parsing every line into a `Passage` takes seconds — most of a cold start
and most of an incremental update — while a question reads a few dozen passages and an update
reads none of the unchanged ones. `PassageLines` is a `Sequence[Passage]` over the lines as
written: the ids (for the FAISS key check) and the municipalities (for the town filter) are
read from the lines directly, lines are copied to a new index without being parsed again, and
a passage is parsed once, when something asks for it.

The lines are the ones `dump` writes (json.dumps, Passage field order, no ASCII escaping), so
the first two fields are always the id and the document id; a line that does not look like
that is parsed in full instead.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import overload

import numpy as np

from retrieval.types import Passage

_HEAD = re.compile(rb'\{"id": "([^"\\]*)", "document_id": "([^"\\]*)", ')
_TOWN = b', "municipality": "'
_NAMES = tuple(f.name for f in dataclasses.fields(Passage))


class BadPassageLine(ValueError):
    """A line of passages.jsonl is not a passage; the index must be rebuilt."""


def passage_key(passage_id: str) -> int:
    """The passage's stable FAISS id: 63 bits of the SHA-256 of its id ("document#NNN").

    The same passage gets the same key in a full build and in any update, so vectors can be
    removed by document without renumbering anything.
    """
    return int.from_bytes(hashlib.sha256(passage_id.encode("utf-8")).digest()[:8], "big") >> 1


def keys_of(ids: Sequence[str]) -> np.ndarray:
    return np.fromiter((passage_key(i) for i in ids), dtype=np.int64, count=len(ids))


def dump(passage: Passage) -> bytes:
    """One line of passages.jsonl (without the newline); asdict is 5x slower."""
    record = {n: getattr(passage, n) for n in _NAMES}
    return json.dumps(record, ensure_ascii=False).encode("utf-8")


def _parse(line: bytes, number: int) -> Passage:
    try:
        return Passage.from_json(json.loads(line))
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError) as exc:
        raise BadPassageLine(f"line {number} is not a passage ({exc}); the index is damaged: "
                             "run `python -m retrieval build`") from exc


class PassageLines(Sequence[Passage]):
    """Read-only and shared by threads: a race parses one line twice, to equal passages."""

    def __init__(self, lines: list[bytes]) -> None:
        self._lines = lines
        self._parsed: dict[int, Passage] = {}
        self._heads: tuple[list[str], list[str]] | None = None  # computed once, carried over
        self._keys: np.ndarray | None = None

    @classmethod
    def read(cls, path: Path) -> PassageLines:
        data = path.read_bytes()
        lines = data.split(b"\n")
        if lines and not lines[-1]:
            lines.pop()
        return cls(lines)

    @classmethod
    def of(cls, passages: Iterable[Passage]) -> PassageLines:
        passages = list(passages)
        out = cls([dump(p) for p in passages])
        out._parsed = dict(enumerate(passages))
        out._heads = ([p.id for p in passages], [p.document_id for p in passages])
        return out

    def __len__(self) -> int:
        return len(self._lines)

    @overload
    def __getitem__(self, index: int) -> Passage: ...

    @overload
    def __getitem__(self, index: slice) -> list[Passage]: ...

    def __getitem__(self, index: int | slice) -> Passage | list[Passage]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self._lines)
        found = self._parsed.get(index)
        if found is None:
            found = self._parsed[index] = _parse(self._lines[index], index + 1)
        return found

    def __iter__(self) -> Iterator[Passage]:
        return (self[i] for i in range(len(self._lines)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PassageLines):
            return self._lines == other._lines
        if isinstance(other, Sequence):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    @property
    def lines(self) -> list[bytes]:
        return self._lines

    def heads(self) -> tuple[list[str], list[str]]:
        """(passage ids, document ids), read from the start of each line."""
        if self._heads is None:
            self._heads = self._read_heads()
        return self._heads

    def keys(self) -> np.ndarray:
        """Each passage's stable FAISS key (`passage_key`), computed once."""
        if self._keys is None:
            self._keys = keys_of(self.heads()[0])
        return self._keys

    def _read_heads(self) -> tuple[list[str], list[str]]:
        ids: list[str] = []
        docs: list[str] = []
        for n, line in enumerate(self._lines):
            m = _HEAD.match(line)
            if m is None:  # escaped characters, or not our layout: parse it
                p = self[n]
                ids.append(p.id)
                docs.append(p.document_id)
            else:
                ids.append(m.group(1).decode("utf-8"))
                docs.append(m.group(2).decode("utf-8"))
        return ids, docs

    def municipalities(self) -> list[str]:
        """Each passage's municipality, read from its line (it follows the text)."""
        out: list[str] = []
        for n, line in enumerate(self._lines):
            at = line.rfind(_TOWN)
            end = line.find(b'", ', at + len(_TOWN)) if at >= 0 else -1
            value = line[at + len(_TOWN):end] if end >= 0 else b"\\"
            out.append(self[n].municipality if b"\\" in value else value.decode("utf-8"))
        return out

    def taken(self, keep: np.ndarray) -> PassageLines:
        """The lines where ``keep`` is True, parsed passages carried over."""
        at = np.flatnonzero(keep).tolist()
        out = PassageLines([self._lines[i] for i in at])
        out._parsed = {j: self._parsed[i] for j, i in enumerate(at) if i in self._parsed}
        if self._heads is not None:
            out._heads = ([self._heads[0][i] for i in at], [self._heads[1][i] for i in at])
        if self._keys is not None:
            out._keys = self._keys[keep]
        return out

    def __add__(self, other: Sequence[Passage]) -> PassageLines:
        extra = other if isinstance(other, PassageLines) else PassageLines.of(other)
        out = PassageLines(self._lines + extra._lines)
        out._parsed = {**self._parsed, **{len(self) + i: p for i, p in extra._parsed.items()}}
        if self._heads is not None and extra._heads is not None:
            out._heads = (self._heads[0] + extra._heads[0], self._heads[1] + extra._heads[1])
        if self._keys is not None:
            out._keys = np.concatenate([self._keys, extra.keys()])
        return out


def as_lines(passages: Sequence[Passage]) -> PassageLines:
    return passages if isinstance(passages, PassageLines) else PassageLines.of(passages)
