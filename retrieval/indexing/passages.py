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
import os
import re
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import overload

import numpy as np

from retrieval.indexing.folder import linked, merged_tail, numbered
from retrieval.types import Passage

_HEAD = re.compile(rb'\{"id": "([^"\\]*)", "document_id": "([^"\\]*)", ')
_TOWN = b', "municipality": "'
_NAMES = tuple(f.name for f in dataclasses.fields(Passage))
PARSED_MAX = 20_000  # passages kept parsed by a loaded index (~25 MB)


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


class _LineFile:
    """An open segment of passages.jsonl and where each of its lines starts; a line is read
    (pread) when asked for. The descriptor stays open, so an index swapped in meanwhile by an
    update does not change what this one reads. ``digest`` is the manifest's checksum, so an
    update can link the file into the next index unchanged."""

    def __init__(self, path: Path, digest: str | None = None) -> None:
        self.path = path
        self.digest = digest
        self.fd = os.open(path, os.O_RDONLY)
        weakref.finalize(self, os.close, self.fd)
        self.starts = np.zeros(1, dtype=np.int64)  # set by PassageLines._scan
        self.count = 0

    def line(self, i: int) -> bytes:
        start, end = int(self.starts[i]), int(self.starts[i + 1])
        data = os.pread(self.fd, end - start, start)
        return data[:-1] if data.endswith(b"\n") else data

    def lines(self) -> list[bytes]:
        size = int(self.starts[-1])
        data = os.pread(self.fd, size, 0)
        out = data.split(b"\n")
        if out and not out[-1]:
            out.pop()
        return out


class PassageLines(Sequence[Passage]):
    """Read-only and shared by threads: a race parses one line twice, to equal passages.

    A loaded index keeps only where each line starts (`_LineFile`, one per segment file), its
    ids and its municipalities: ~10 MB at 100,000 passages instead of ~125 MB of lines.
    Passages added after it are held as lines in memory (``_lines``, after the files'), so
    adding a document links the files as they are (`save`) and writes only its lines."""

    def __init__(self, lines: list[bytes]) -> None:
        self._lines = lines
        self._files: list[_LineFile] = []
        self._bounds = np.zeros(1, dtype=np.int64)  # first line of each file, then the total
        self._parsed: dict[int, Passage] = {}
        self._heads: tuple[list[str], list[str]] | None = None  # computed once, carried over
        self._keys: np.ndarray | None = None
        self._towns: list[str] | None = None

    @classmethod
    def read(cls, paths: Path | Sequence[Path], towns: bool = True,
             digests: Mapping[str, str] | None = None) -> PassageLines:
        """The segment files in order, with their checksums by name when given; ``towns=False``
        leaves the municipalities to be read when asked for (an update never asks)."""
        out = cls([])
        digests = digests or {}
        out._files = [_LineFile(p, digests.get(p.name))
                      for p in ([paths] if isinstance(paths, Path) else paths)]
        out._scan(towns)
        return out

    @classmethod
    def of(cls, passages: Iterable[Passage]) -> PassageLines:
        passages = list(passages)
        out = cls([dump(p) for p in passages])
        out._parsed = dict(enumerate(passages))
        out._heads = ([p.id for p in passages], [p.document_id for p in passages])
        return out

    @property
    def _base(self) -> int:
        """How many lines come from the files."""
        return int(self._bounds[-1])

    def _line(self, i: int) -> bytes:
        if i < self._base:
            at = int(np.searchsorted(self._bounds, i, side="right")) - 1
            return self._files[at].line(i - int(self._bounds[at]))
        return self._lines[i - self._base]

    def _scan(self, with_towns: bool = True) -> None:
        """Ids, document ids and municipalities of every line, in one pass over the files."""
        ids: list[str] = []
        docs: list[str] = []
        towns: list[str] = []
        names: dict[bytes, str] = {}  # one str per distinct document id and municipality
        for file in self._files:
            starts = [0]
            with os.fdopen(os.dup(file.fd), "rb") as f:
                f.seek(0)
                for line in f:
                    n = len(ids)
                    starts.append(starts[-1] + len(line))
                    m = _HEAD.match(line)
                    town = _town(line) if with_towns else b""
                    if m is None or town is None:  # escaped characters, or not our layout
                        p = self._parsed[n] = _parse(line, n + 1)
                        ids.append(p.id)
                        docs.append(p.document_id)
                        towns.append(p.municipality)
                        continue
                    ids.append(m.group(1).decode("utf-8"))
                    doc = m.group(2)
                    docs.append(names.get(doc) or names.setdefault(doc, doc.decode("utf-8")))
                    if with_towns:
                        towns.append(names.get(town)
                                     or names.setdefault(town, town.decode("utf-8")))
            file.starts = np.asarray(starts, dtype=np.int64)
            file.count = len(starts) - 1
        self._heads = (ids, docs)
        self._towns = towns if with_towns else None
        self._bounds = np.cumsum([0] + [f.count for f in self._files]).astype(np.int64)

    def __len__(self) -> int:
        return self._base + len(self._lines)

    @overload
    def __getitem__(self, index: int) -> Passage: ...

    @overload
    def __getitem__(self, index: slice) -> list[Passage]: ...

    def __getitem__(self, index: int | slice) -> Passage | list[Passage]:
        if type(index) is int and index >= 0:  # a deep search asks for ~2,000 of these
            found = self._parsed.get(index)
            if found is not None:
                return found
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"passage {index} of {len(self)}")
        found = self._parsed.get(index)
        if found is None:
            if len(self._parsed) >= PARSED_MAX and self._files:
                self._parsed.clear()  # bounded: a long-running app must not parse its way to all
            found = self._parsed[index] = _parse(self._line(index), index + 1)
        return found

    def __iter__(self) -> Iterator[Passage]:
        return (self[i] for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PassageLines):
            return self.lines == other.lines
        if isinstance(other, Sequence):
            return len(self) == len(other) and all(
                a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    @property
    def lines(self) -> list[bytes]:
        """Every line as written (those in the files read from them)."""
        if not self._files:
            return self._lines
        return [line for f in self._files for line in f.lines()] + self._lines

    def save(self, folder: Path, name: str) -> dict[str, str | None]:
        """Write ``name`` and its segments into ``folder``: files read from an index are
        linked (their checksums returned), the lines added after them written as one more
        segment (None: to be checksummed). Trailing segments merge while the last holds at
        least half the lines of the one before, as the sentence arrays do."""
        parts: list[_LineFile | list[bytes]] = [*self._files]
        if self._lines or not parts:
            parts.append(self._lines)
        parts = merged_tail(parts, _count, lambda a, b: [*_lines(a), *_lines(b)])
        out: dict[str, str | None] = {}
        for j, part in enumerate(parts):
            to = folder / numbered(name, j)
            out[to.name] = (linked(part.path, part.digest, to) if isinstance(part, _LineFile)
                            else None)
            if out[to.name] is None:
                with to.open("wb") as f:
                    f.writelines(line + b"\n" for line in _lines(part))
        return out

    def heads(self) -> tuple[list[str], list[str]]:
        """(passage ids, document ids), read from the start of each line."""
        if self._heads is None:
            ids, docs = [], []
            for n, line in enumerate(self.lines):
                m = _HEAD.match(line)
                if m is None:  # escaped characters, or not our layout: parse it
                    p = self[n]
                    ids.append(p.id)
                    docs.append(p.document_id)
                else:
                    ids.append(m.group(1).decode("utf-8"))
                    docs.append(m.group(2).decode("utf-8"))
            self._heads = (ids, docs)
        return self._heads

    def keys(self) -> np.ndarray:
        """Each passage's stable FAISS key (`passage_key`), computed once."""
        if self._keys is None:
            self._keys = keys_of(self.heads()[0])
        return self._keys

    def municipalities(self) -> list[str]:
        """Each passage's municipality, read from its line (it follows the text)."""
        if self._towns is None:
            self._towns = [
                town.decode("utf-8") if (town := _town(line)) is not None else self[n].municipality
                for n, line in enumerate(self.lines)
            ]
        return self._towns

    def taken(self, keep: np.ndarray) -> PassageLines:
        """The lines where ``keep`` is True, parsed passages carried over."""
        if keep.all():
            return self  # nothing removed (an added document): no line read
        at = np.flatnonzero(keep).tolist()
        lines = self.lines
        out = PassageLines([lines[i] for i in at])
        out._parsed = {j: self._parsed[i] for j, i in enumerate(at) if i in self._parsed}
        if self._heads is not None:
            out._heads = ([self._heads[0][i] for i in at], [self._heads[1][i] for i in at])
        if self._keys is not None:
            out._keys = self._keys[keep]
        return out

    def __add__(self, other: Sequence[Passage]) -> PassageLines:
        extra = other if isinstance(other, PassageLines) else PassageLines.of(other)
        out = PassageLines(self._lines + extra.lines)
        out._files, out._bounds = self._files, self._bounds
        out._parsed = {**self._parsed, **{len(self) + i: p for i, p in extra._parsed.items()}}
        if self._heads is not None and extra._heads is not None:
            out._heads = (self._heads[0] + extra._heads[0], self._heads[1] + extra._heads[1])
        if self._keys is not None:
            out._keys = np.concatenate([self._keys, extra.keys()])
        return out


def _count(part: _LineFile | list[bytes]) -> int:
    return part.count if isinstance(part, _LineFile) else len(part)


def _lines(part: _LineFile | list[bytes]) -> list[bytes]:
    return part.lines() if isinstance(part, _LineFile) else part


def _town(line: bytes) -> bytes | None:
    """The municipality's raw value: the last '"municipality": "' is the field (quotes
    inside values are escaped); None when it holds escapes, so the line is parsed instead."""
    at = line.rfind(_TOWN)
    if at < 0:
        return None
    end = line.find(b'", ', at + len(_TOWN))
    value = line[at + len(_TOWN):end] if end >= 0 else b"\\"
    return None if b"\\" in value else value


def as_lines(passages: Sequence[Passage]) -> PassageLines:
    return passages if isinstance(passages, PassageLines) else PassageLines.of(passages)
