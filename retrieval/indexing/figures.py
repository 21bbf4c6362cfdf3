"""Nøgletal: every figure in the corpus as a cited record, stored in the index folder.

figures.jsonl holds one Figure per line, sorted by passage and place, written with the index
(listed and checksummed in manifest.json) so that the table, the CLI and the page read the same
figures the citations come from. A build extracts them from every passage; an update keeps the
figures of unchanged documents and extracts only the fresh passages, and because the file is
sorted the two give the same bytes (tests/test_ingest.py). An update that only adds documents
writes their figures as figures-1.jsonl, ... (each sorted) and links the files before it.
"""

from __future__ import annotations

import heapq
import json
import os
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from retrieval.indexing.folder import linked, merged_tail, numbered, segments
from retrieval.text.chunking import split_sentences
from retrieval.text.danish import stem
from retrieval.text.figures import figures_in_sentence
from retrieval.types import Passage

FIGURES_FILE = "figures.jsonl"
_DOCUMENT = re.compile(rb'"document_id": "([a-z0-9-]+)"')  # catalog ids are [a-z0-9-]


@dataclass(frozen=True)
class Figure:
    """One figure with everything a citation needs; ``start``/``end`` mark it in ``text``."""

    value: float
    unit: str
    what: str
    text: str  # the sentence it stands in
    start: int
    end: int
    municipality: str
    committee: str
    document_id: str
    title: str
    kind: str
    period: str
    passage_id: str
    source: str = ""

    @property
    def shown(self) -> str:
        """The value the Danish way: "316,5 mio. kr.", "24 pct.", "165"."""
        return format_value(self.value, self.unit)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["value"] = int(self.value) if float(self.value).is_integer() else self.value
        data["shown"] = self.shown
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Figure:
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**{**fields, "value": float(fields["value"])})


def format_value(value: float, unit: str) -> str:
    """Danish number formatting: thousands with ".", decimals with ","."""
    def number(x: float, decimals: int = 1) -> str:
        text = f"{x:,.{decimals}f}" if not float(x).is_integer() else f"{int(x):,}"
        return text.replace(",", "_").replace(".", ",").replace("_", ".")

    if unit == "kr.":
        if abs(value) >= 1e9:
            return f"{number(value / 1e9)} mia. kr."
        if abs(value) >= 1e6:
            return f"{number(value / 1e6)} mio. kr."
        return f"{number(value)} kr."
    if unit == "antal":
        return number(value)
    return f"{number(value)} {unit}"


def extract(passages: Iterable[Passage]) -> list[Figure]:
    """Every figure in these passages, once: a sentence repeated as the next passage's overlap
    (retrieval/text/chunking.py) is counted in the passage it first appears in."""
    figures: list[Figure] = []
    previous: Passage | None = None
    for p in passages:
        seen = (previous.text if previous is not None and previous.document_id == p.document_id
                and previous.position == p.position - 1 else "")
        for i, sentence in enumerate(split_sentences(p.text)):
            if i < 3 and seen and sentence in seen[-len(sentence) - 400:]:
                continue  # the overlap sentence: already counted
            figures.extend(Figure(f.value, f.unit, f.what, f.sentence, f.start, f.end,
                                  p.municipality, p.committee, p.document_id, p.title, p.kind,
                                  p.period or p.date, p.id, p.source)
                           for f in figures_in_sentence(sentence))
        previous = p
    return sorted_figures(figures)


def sorted_figures(figures: Iterable[Figure]) -> list[Figure]:
    """The stored order: by document, passage and place, so update and build agree."""
    return sorted(figures, key=lambda f: (f.document_id, f.passage_id))  # stable: reading order


def to_lines(figures: Sequence[Figure]) -> bytes:
    return "".join(json.dumps(f.to_json(), ensure_ascii=False) + "\n"
                   for f in figures).encode("utf-8")


def updated_lines(folder: Path | str, drop: set[str], fresh: Sequence[Figure]) -> bytes:
    """What `to_lines(sorted_figures(kept + fresh))` gives, where kept are the stored figures of
    the documents not in ``drop``: their lines are kept as read and merged by document with
    the fresh ones. Parsing and re-serialising 100,000 figures took ~10 s of adding one
    document at 100,000 passages (profiled); fresh documents are never among the kept ones."""
    kept = _merged(*(p.read_bytes() for p in figure_files(folder)), drop=drop)
    return _merged(kept, to_lines(sorted_figures(fresh)))


@dataclass(frozen=True)
class Appended:
    """An update that only added documents: the previous index's figure files, linked as they
    are (with their checksums), and the added documents' lines after them."""

    files: tuple[tuple[Path, str | None], ...]
    lines: bytes


def save_figures(folder: Path, figures: Sequence[Figure] | bytes | Appended
                 ) -> dict[str, str | None]:
    """Write figures.jsonl, or link the files of ``Appended`` and write its lines as the next
    segment (figures-1.jsonl, ...; each sorted; trailing segments merge while the last holds
    at least half the bytes of the one before). Returns name → checksum of linked files,
    None for those written."""
    if not isinstance(figures, Appended):
        (folder / FIGURES_FILE).write_bytes(
            figures if isinstance(figures, bytes) else to_lines(figures))
        return {FIGURES_FILE: None}
    parts: list[tuple[Path, str | None] | bytes] = [*figures.files, figures.lines]
    parts = merged_tail(parts, _size, lambda a, b: _merged(_bytes(a), _bytes(b)))
    files = [f for f in parts if isinstance(f, tuple)]
    new = _bytes(parts[-1]) if isinstance(parts[-1], bytes) else b""
    out: dict[str, str | None] = {}
    for j, (path, digest) in enumerate(files):
        out[numbered(FIGURES_FILE, j)] = linked(path, digest, folder / numbered(FIGURES_FILE, j))
        if out[numbered(FIGURES_FILE, j)] is None:  # no links here: one file, as a build
            for name in out:
                (folder / name).unlink()
            return save_figures(folder, _merged(*(p.read_bytes() for p, _ in figures.files),
                                                figures.lines))
    if new or not files:
        (folder / numbered(FIGURES_FILE, len(files))).write_bytes(new)
        out[numbered(FIGURES_FILE, len(files))] = None
    return out


def _size(part: tuple[Path, str | None] | bytes) -> int:
    return len(part) if isinstance(part, bytes) else part[0].stat().st_size


def _bytes(part: tuple[Path, str | None] | bytes) -> bytes:
    return part if isinstance(part, bytes) else part[0].read_bytes()


def figure_files(folder: Path | str) -> list[Path]:
    """figures.jsonl and its segments (none for an index built before figures existed)."""
    folder = Path(folder)
    names = set(os.listdir(folder)) if folder.is_dir() else set()
    if FIGURES_FILE not in names:
        return []
    return [folder / n for n in segments(FIGURES_FILE, names)]


def _merged(*parts: bytes, drop: Collection[str] = ()) -> bytes:
    """Sorted figure files merged into one sorted file, without ``drop``'s documents: lines are
    kept as written (documents never span two files, so merging by document suffices)."""
    keyed = []
    for part in parts:
        lines = []
        for line in part.splitlines(keepends=True):
            if not line.strip():
                continue
            found = _DOCUMENT.search(line)
            doc = found[1].decode() if found else str(json.loads(line)["document_id"])
            if doc not in drop:
                lines.append((doc, line if line.endswith(b"\n") else line + b"\n"))
        keyed.append(lines)
    return b"".join(line for _, line in heapq.merge(*keyed, key=lambda item: item[0]))


def read_figures(folder: Path | str) -> list[Figure]:
    """The figures of an index folder, in the stored order (none for an index built before
    figures existed)."""
    return [Figure.from_json(json.loads(line))
            for line in _merged(*(p.read_bytes() for p in figure_files(folder))).splitlines()]


def select(figures: Iterable[Figure], municipality: str | None = None, kind: str | None = None,
           query: str | None = None, unit: str | None = None) -> list[Figure]:
    """Figures matching every filter given; the query matches stems of what, sentence, title,
    municipality and committee (a citizen may type the town in the search box)."""
    stems = {stem(w) for w in (query or "").casefold().split() if w}
    out = []
    for f in figures:
        if municipality and f.municipality.casefold() != municipality.casefold():
            continue
        if kind and f.kind.casefold() != kind.casefold():
            continue
        if unit and f.unit != unit:
            continue
        if stems:
            words = {stem(w.strip(".,:;()»«\"")) for w in
                     f"{f.what} {f.text} {f.title} {f.municipality} {f.committee}"
                     .casefold().split()}
            if not stems <= words:
                continue
        out.append(f)
    return out
