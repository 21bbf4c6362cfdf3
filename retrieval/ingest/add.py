"""Growing the corpus: add documents to corpus/ and remove them.

Adding copies the raw file as published into corpus/ and appends a [[document]] table to
documents.toml, validated by the catalog's rules (with the town's [[municipality]] contact when
the folder's own documents.toml gives one the corpus lacks); the index then catches up with
`retrieval.indexing.build.update`, which embeds only what is new or changed
(retrieval/ingest/changes.py).
"""

from __future__ import annotations

import re
import shutil
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from retrieval.ingest.catalog import (
    CATALOG,
    FIELD_ORDER,
    KINDS,
    REQUIRED,
    append_documents,
    read_catalog,
    remove_document_table,
    validate_entry,
    validate_municipality,
)
from retrieval.ingest.changes import content_hash
from retrieval.ingest.cleaning import clean, is_excerpt
from retrieval.ingest.extract import SUFFIXES, extract_text, stated_title
from retrieval.ingest.files import CorpusError, read_text

FLAGS = {  # manifest field → the `add` flag that sets it
    "id": "--id", "title": "--title", "municipality": "--municipality",
    "committee": "--committee", "kind": "--kind", "period": "--period", "source": "--source",
    "date": "--date", "url": "--url",
}
_SLUG_LETTERS = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "ae", "Ø": "oe", "Å": "aa"})


@dataclass(frozen=True)
class Added:
    """What `add` did with one file: added as ``doc_id``, or skipped and why."""

    path: Path
    doc_id: str
    skipped: str = ""
    contact: str = ""  # the town whose way to a human came along from the folder's catalog


def slug(text: str) -> str:
    """A manifest id from a file name: 'Budget Åby 2024.pdf' → 'budget-aaby-2024'."""
    text = unicodedata.normalize("NFKD", text.translate(_SLUG_LETTERS).lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "dokument"


def expand(paths: Iterable[Path | str]) -> list[Path]:
    """Files to add: each file given, and the readable files of each folder given (sorted)."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.iterdir()
                           if p.is_file() and p.suffix.lower() in SUFFIXES)
            if not found:
                raise CorpusError(f"{path}/ has no {', '.join(SUFFIXES)} files to add")
            files.extend(found)
        elif path.is_file():
            if path.suffix.lower() not in SUFFIXES:
                raise CorpusError(f"{path}: cannot add {path.suffix or 'a file without suffix'}; "
                                  f"add {', '.join(SUFFIXES)} files")
            files.append(path)
        else:
            raise CorpusError(f"{path} does not exist")
    return files


def sidecar(folder: Path) -> dict[str, dict[str, str]]:
    """Metadata for files in a folder being added, from a documents.toml of its own."""
    return {str(e.get("file", "")): {k: str(v) for k, v in e.items()}
            for e in _folder_catalog(folder).get("document", [])}


def sidecar_contacts(folder: Path) -> dict[str, dict[str, str]]:
    """The ways to a human a folder's own documents.toml gives, by town (casefolded): without
    them an added town's unanswered questions could only say "Kontakt … Kommune"."""
    where = f"{folder / CATALOG} [[municipality]]"
    listed = [validate_municipality(entry, f"{where} #{i}")
              for i, entry in enumerate(_folder_catalog(folder).get("municipality", []), 1)]
    return {m["name"].casefold(): m for m in listed}


def _folder_catalog(folder: Path) -> dict[str, list[dict[str, object]]]:
    manifest = folder / CATALOG
    if not manifest.is_file():
        return {}
    try:
        return tomllib.loads(read_text(manifest))
    except tomllib.TOMLDecodeError as exc:
        raise CorpusError(f"{manifest}: not valid TOML ({exc})") from exc


def merge_metadata(listed: Mapping[str, str], given: Mapping[str, str]) -> dict[str, str]:
    """A flag that was given overrides the folder's documents.toml; an absent one does not.

    The CLI passes every flag, absent ones as "", so a plain dict merge would blank out the
    folder's own metadata and `add folder/` would then ask for flags the folder already states.
    """
    return {**listed, **{k: v for k, v in given.items() if v and v.strip()}}


def entry_for(path: Path, given: Mapping[str, str], taken: set[str]) -> dict[str, str]:
    """The manifest entry for a file: flags (or a sidecar documents.toml), then what the file
    itself states (an HTML or PDF title); errors name the flags still missing."""
    fields = {k: v.strip() for k, v in given.items() if v and v.strip() and k != "file"}
    if "title" not in fields and (title := stated_title(path)):
        fields["title"] = title
    fields.setdefault("id", slug(f"{fields.get('municipality', '')}-{path.stem}"))
    if fields.get("source", "").startswith(("http://", "https://")):
        fields.setdefault("url", fields["source"])
    missing = [FLAGS[k] for k in REQUIRED if k != "file" and not fields.get(k)]
    if missing:
        hint = f" (one of {', '.join(KINDS)})" if "--kind" in missing else ""
        raise CorpusError(
            f"cannot add {path}: give {', '.join(missing)}{hint}, or list the file with its "
            f"metadata in a {CATALOG} next to it"
        )
    if fields["id"] in taken:
        raise CorpusError(
            f"cannot add {path}: the corpus already has a document with id {fields['id']!r}; "
            f"give another --id, or `python -m retrieval remove {fields['id']}` first"
        )
    return fields


def add_files(
    paths: Iterable[Path | str],
    given: Mapping[str, str],
    corpus_dir: Path | str,
    known_contents: Mapping[str, str],
) -> list[Added]:
    """Copy files into corpus/ and list them in documents.toml; skip duplicates.

    ``known_contents`` maps the content hash of every document already in the corpus to its
    id (see `retrieval.indexing.build.content_hashes`). Everything is checked before anything is
    written, so one bad file adds nothing; the manifest is replaced atomically at the end.
    """
    folder = Path(corpus_dir)
    catalog = read_catalog(folder)
    taken = {e["id"] for e in catalog.entries}
    towns = {m["name"].casefold() for m in catalog.municipalities}
    contacts: list[dict[str, str]] = []
    seen = dict(known_contents)
    results: list[Added] = []
    planned: list[tuple[Path, dict[str, str]]] = []
    for path in expand(paths):
        meta = merge_metadata(sidecar(path.parent).get(path.name, {}), given)
        fields = entry_for(path, meta, taken)
        fields["file"] = _target_name(folder, path, fields["id"])
        where = f"{path} (as {fields['id']})"
        fields = validate_entry({k: fields[k] for k in FIELD_ORDER if k in fields}, where)
        text = clean(
            extract_text(path), title=fields["title"], excerpt=is_excerpt(fields["source"])
        )
        if not text.strip():
            raise CorpusError(f"{path}: no text left after cleaning; is it the right file?")
        digest = content_hash(text)
        if digest in seen:
            results.append(Added(path, seen[digest], f"same content as {seen[digest]!r}"))
            continue
        seen[digest] = fields["id"]
        taken.add(fields["id"])
        planned.append((path, fields))
        town = fields["municipality"].casefold()
        contact = sidecar_contacts(path.parent).get(town) if town not in towns else None
        if contact:
            towns.add(town)
            contacts.append(contact)
        results.append(Added(path, fields["id"], contact=contact["name"] if contact else ""))
    copied: list[Path] = []
    try:
        for path, fields in planned:
            target = folder / fields["file"]
            if not target.exists():
                shutil.copy2(path, target)
                copied.append(target)
        if planned:
            append_documents(folder, [fields for _, fields in planned], contacts)
    except BaseException:
        for target in copied:
            target.unlink(missing_ok=True)
        raise
    return results


def remove_document(doc_id: str, corpus_dir: Path | str, delete_file: bool = True
                    ) -> dict[str, str]:
    """Take a document out of documents.toml (and its raw file out of corpus/)."""
    catalog = read_catalog(corpus_dir)
    entry = catalog.entry(doc_id)
    if entry is None:
        ids = ", ".join(e["id"] for e in catalog.entries[:8])
        raise CorpusError(
            f"no document with id {doc_id!r} in {catalog.path}; "
            f"`python -m retrieval list` shows them (e.g. {ids})"
        )
    after = remove_document_table(catalog, doc_id)
    still_used = any(e["file"] == entry["file"] for e in after.entries)
    if delete_file and not still_used:
        (catalog.folder / entry["file"]).unlink(missing_ok=True)
    return entry


def _target_name(folder: Path, path: Path, doc_id: str) -> str:
    """Keep the published file name unless another file already has it."""
    if path.resolve().parent == folder.resolve():
        return path.name
    target = folder / path.name
    if not target.exists() or target.read_bytes() == path.read_bytes():
        return path.name
    return f"{doc_id}{path.suffix.lower()}"
