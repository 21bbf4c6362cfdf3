"""The corpus as documents: every file the catalog (documents.toml) lists, extracted and cleaned,
and the municipalities' contacts that citations and abstentions show."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from retrieval.ingest.catalog import read_catalog
from retrieval.ingest.cleaning import clean, is_excerpt
from retrieval.ingest.extract import extract_text
from retrieval.ingest.files import CorpusError
from retrieval.types import Document

# Bump when cleaning or chunking changes what the same files turn into: indexes then rebuild.
PIPELINE_VERSION = "clean2-chunk2"


@dataclass(frozen=True)
class Municipality:
    """The way to a human when the documents do not answer."""

    name: str
    phone: str = ""
    contact: str = ""
    website: str = ""


@dataclass(frozen=True)
class Corpus:
    documents: tuple[Document, ...]
    municipalities: tuple[Municipality, ...]

    def contact(self, municipality: str) -> Municipality | None:
        return find_contact(self.municipalities, municipality)

    @property
    def hash(self) -> str:
        """Changes whenever any cleaned text or metadata changes, so a stale index is caught."""
        h = hashlib.sha256(PIPELINE_VERSION.encode())
        for d in sorted(self.documents, key=lambda d: d.id):
            h.update(repr(sorted(vars(d).items())).encode("utf-8"))
        return h.hexdigest()[:16]


def find_contact(municipalities: Iterable[Municipality], name: str) -> Municipality | None:
    """The way to a human in the named municipality, if the catalog gives one."""
    return next((m for m in municipalities if m.name.casefold() == name.casefold()), None)


def load_corpus(folder: Path | str = "corpus") -> Corpus:
    """Load and clean every document the catalog lists; any error names the entry and the fix."""
    catalog = read_catalog(folder)
    if not catalog.entries:
        raise CorpusError(f"{catalog.path}: lists no [[document]]; add at least one")
    documents = []
    for i, fields in enumerate(catalog.entries, 1):
        where = f"{catalog.path} [[document]] #{i} ({fields['id']})"
        documents.append(load_document(catalog.folder, fields, where))
    municipalities = tuple(Municipality(**m) for m in catalog.municipalities)
    return Corpus(documents=tuple(documents), municipalities=municipalities)


def load_document(folder: Path, fields: Mapping[str, str], where: str = "") -> Document:
    """Extract (.txt, .html or .pdf) and clean one listed document."""
    path = folder / fields["file"]
    text = clean(extract_text(path), title=fields["title"], excerpt=is_excerpt(fields["source"]))
    if not text.strip():
        raise CorpusError(f"{where or fields['id']}: {path} has no text left after cleaning")
    return Document(text=text, **fields)
