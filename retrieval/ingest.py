"""Growing the corpus: add documents to corpus/, remove them, and know what changed.

Adding copies the raw file as published into corpus/ and appends a [[document]] table to
documents.toml, validated by the same rules as retrieval/corpus.py; the index then catches up
with `retrieval.indexing.update`, which embeds only what is new or changed. Whether a document
changed is told by a hash of its raw bytes and metadata, so a corpus of thousands of documents
is checked in well under a second, without cleaning any of them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrieval.cleaning import clean, is_excerpt
from retrieval.corpus import (
    KINDS,
    MANIFEST,
    MUNICIPALITY_FIELDS,
    PIPELINE_VERSION,
    REQUIRED,
    CorpusError,
    _check_fields,
    read_text,
    validate_entry,
)
from retrieval.extract import SUFFIXES, extract_text, extractor_version, stated_title
from retrieval.types import Document

FLAGS = {  # manifest field → the `add` flag that sets it
    "id": "--id", "title": "--title", "municipality": "--municipality",
    "committee": "--committee", "kind": "--kind", "period": "--period", "source": "--source",
    "date": "--date", "url": "--url",
}
FIELD_ORDER = ("id", "file", "title", "municipality", "committee", "kind", "period", "date",
               "source", "url")
_HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z_]+)\s*\]\]?\s*(#.*)?$")
_PARSED: dict[tuple[str, int, int, int], dict[str, Any]] = {}
# The same version's entries and municipalities once validated (files are checked each time).
_VALID: dict[tuple[str, int, int, int], tuple[tuple[dict[str, str], ...],
                                               tuple[dict[str, str], ...]]] = {}
_SUFFIXES: dict[str, str] = {}  # manifest 'file' → its suffix, lowercased
_CLEAN: set[tuple[str, int, int, int]] = set()  # versions whose data JSON keeps as it is
_METAS: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}  # see `fingerprint`
_VERSIONS: dict[str, str] = {}  # file suffix → extractor_version
CACHE_MIN_BYTES = 256 << 10  # a smaller documents.toml parses in milliseconds: no cache file
_SLUG_LETTERS = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "ae", "Ø": "oe", "Å": "aa"})


@dataclass(frozen=True)
class CorpusManifest:
    """documents.toml, validated but with no document read: cheap at any corpus size."""

    folder: Path
    entries: tuple[dict[str, str], ...]
    municipalities: tuple[dict[str, str], ...]

    def entry(self, doc_id: str) -> dict[str, str] | None:
        return next((e for e in self.entries if e["id"] == doc_id), None)


@dataclass(frozen=True)
class Added:
    """What `add` did with one file: added as ``doc_id``, or skipped and why."""

    path: Path
    doc_id: str
    skipped: str = ""


def _stat_key(path: Path) -> tuple[str, int, int, int]:
    st = path.stat()
    return (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)


def _parsed(manifest: Path) -> dict[str, Any]:
    """tomllib.loads, once per version of the file: 11,000 entries take 1-3 s to parse, so a
    large manifest's parse is also kept on disk as JSON (read in well under 0.1 s), for the
    next command, under the file's size, mtime and inode (as git trusts its index)."""
    return _parsed_version(manifest)[1]


def _parsed_version(manifest: Path) -> tuple[tuple[str, int, int, int], dict[str, Any]]:
    """`_parsed`, with the version (stat key) it is of."""
    key = _stat_key(manifest)
    if key not in _PARSED:
        data = _cached(key)
        if data is not None:
            _remember(key, data, stored=True)
        else:
            try:
                data = tomllib.loads(read_text(manifest))
            except tomllib.TOMLDecodeError as exc:
                raise CorpusError(f"{manifest}: not valid TOML ({exc})") from exc
            _remember(key, data)
    return key, _PARSED[key]  # read-only: callers copy what they keep


def _cache_file(key: tuple[str, int, int, int]) -> Path:
    from retrieval.embedding import models_dir  # the project's cache ($SPORG_CACHE)

    name = hashlib.sha256(key[0].encode("utf-8")).hexdigest()[:16]
    return models_dir().parent / "manifests" / f"{name}.json"


def _cached(key: tuple[str, int, int, int]) -> dict[str, Any] | None:
    if key[1] < CACHE_MIN_BYTES:
        return None
    try:
        record = json.loads(_cache_file(key).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return record["data"] if record.get("key") == list(key) else None


def _remember(key: tuple[str, int, int, int], data: dict[str, Any], stored: bool = False,
              clean: bool = False) -> None:
    """In this process; and on disk when the manifest is large and its values are JSON's.

    ``stored``: ``data`` was just read from the disk cache under this key (nothing to write);
    ``clean``: ``data`` is known to survive JSON unchanged (no need to check it)."""
    _PARSED.clear()  # keep one version: the cache is for one command's repeated reads
    _PARSED[key] = data
    for old in [k for k in _VALID if k != key]:
        del _VALID[old]
    _CLEAN.clear()
    if stored:
        _CLEAN.add(key)
        return
    if key[1] < CACHE_MIN_BYTES:
        return
    try:
        text = json.dumps({"key": list(key), "data": data}, ensure_ascii=False)
        if not clean and json.loads(text)["data"] != data:  # e.g. TOML dates: no cache
            return
        _CLEAN.add(key)
        path = _cache_file(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(text, "utf-8")
        os.replace(tmp, path)
    except (OSError, TypeError, ValueError):
        return  # a cache only: a read-only home or odd values cost speed, nothing else


def read_manifest(folder: Path | str) -> CorpusManifest:
    """The manifest's entries, checked as `load_corpus` checks them (files must exist)."""
    folder = Path(folder)
    manifest = folder / MANIFEST
    if not manifest.is_file():
        raise CorpusError(f"{manifest} not found: a corpus folder needs a {MANIFEST} manifest")
    key, data = _parsed_version(manifest)
    if key not in _VALID:
        _VALID[key] = _validated(manifest, data)
    entries, municipalities = _VALID[key]
    for i, fields in enumerate(entries, 1):
        if not os.path.isfile(os.path.join(folder, fields["file"])):
            where = f"{manifest} [[document]] #{i} ({fields['id']})"
            raise CorpusError(
                f"{where}: file {folder / fields['file']} not found; fix 'file' or add the file"
            )
    return CorpusManifest(folder, entries, municipalities)


def _validated(manifest: Path, data: Mapping[str, Any]
               ) -> tuple[tuple[dict[str, str], ...], tuple[dict[str, str], ...]]:
    """The manifest's entries and municipalities, checked as `load_corpus` checks them (but
    for the files: `read_manifest` checks those at every call)."""
    unknown = sorted(set(data) - {"document", "municipality"})
    if unknown:
        raise CorpusError(
            f"{manifest}: unknown table(s) {unknown}; use [[document]], [[municipality]]"
        )
    municipalities = []
    for i, entry in enumerate(data.get("municipality", []), 1):
        where = f"{manifest} [[municipality]] #{i}"
        _check_fields(where, entry, MUNICIPALITY_FIELDS)
        if not entry.get("name"):
            raise CorpusError(f"{where}: missing field 'name'")
        municipalities.append(dict(entry))
    entries: list[dict[str, str]] = []
    seen: set[str] = set()
    for i, entry in enumerate(data.get("document", []), 1):
        where = f"{manifest} [[document]] #{i} ({entry.get('id', '?')})"
        fields = validate_entry(entry, where)
        if fields["id"] in seen:
            raise CorpusError(f"{where}: duplicate id {fields['id']!r}")
        seen.add(fields["id"])
        entries.append(fields)
    return tuple(entries), tuple(municipalities)


def fingerprint(folder: Path, fields: Mapping[str, str],
                record: Mapping[str, object] | None = None) -> dict[str, object]:
    """The document's source hash: changes when the raw file, its metadata, the cleaning
    pipeline or its extractor does. Returned with the parts it is made of, ``meta`` (hash of
    everything but the file) and ``stat`` (size, mtime): when both equal those an index
    ``record`` kept, the file is not read again, as git trusts its index."""
    # Plain strings until the file must be read: 11,000 Path objects per call cost ~0.05 s.
    st = os.stat(os.path.join(folder, fields["file"]))
    stat = [st.st_size, st.st_mtime_ns]
    suffix = _SUFFIXES.get(fields["file"]) or Path(fields["file"]).suffix.lower()
    if len(_SUFFIXES) > 1_000_000:
        _SUFFIXES.clear()
    _SUFFIXES[fields["file"]] = suffix
    if suffix not in _VERSIONS:  # package metadata, read once per file type and process
        _VERSIONS[suffix] = extractor_version(folder / fields["file"])
    # The metadata's hash, once per process (`add` fingerprints the corpus twice).
    items = tuple(sorted(fields.items()))
    meta = _METAS.get((_VERSIONS[suffix], items), "")
    if not meta:
        h = hashlib.sha256(f"{PIPELINE_VERSION}|{_VERSIONS[suffix]}|".encode())
        h.update(json.dumps(items, ensure_ascii=False).encode("utf-8"))
        if len(_METAS) > 1_000_000:
            _METAS.clear()
        meta = _METAS[_VERSIONS[suffix], items] = h.hexdigest()[:16]
    if record and record.get("meta") == meta and record.get("stat") == stat:
        return {"source": record["source"], "meta": meta, "stat": stat}
    h = hashlib.sha256(meta.encode())
    with (folder / fields["file"]).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return {"source": h.hexdigest()[:16], "meta": meta, "stat": stat}


def fingerprints(manifest: CorpusManifest, records: Mapping[str, Mapping[str, object]] | None
                 = None) -> dict[str, dict[str, object]]:
    """`fingerprint` of every document, reusing what an index's ``records`` know."""
    records = records or {}
    return {e["id"]: fingerprint(manifest.folder, e, records.get(e["id"]))
            for e in manifest.entries}


def corpus_hash(manifest: CorpusManifest, hashes: Mapping[str, str]) -> str:
    """One hash of every document's source hash and the municipalities' contact details."""
    h = hashlib.sha256(f"{PIPELINE_VERSION}|".encode())
    h.update(json.dumps(sorted(hashes.items())).encode())
    h.update(json.dumps([sorted(m.items()) for m in manifest.municipalities],
                        ensure_ascii=False).encode("utf-8"))
    return h.hexdigest()[:16]


def load_document(folder: Path, fields: Mapping[str, str]) -> Document:
    """Extract and clean one listed document, as `load_corpus` does for all of them."""
    path = folder / fields["file"]
    text = clean(
            extract_text(path), title=fields["title"], excerpt=is_excerpt(fields["source"])
        )
    if not text.strip():
        raise CorpusError(f"{path} ({fields['id']}) has no text left after cleaning")
    return Document(text=text, **fields)


def content_hash(text: str) -> str:
    """Of the cleaned text: the same document fetched twice, or as HTML and as PDF, matches."""
    return hashlib.sha256(" ".join(text.split()).casefold().encode("utf-8")).hexdigest()[:16]


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
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return {}
    try:
        data = tomllib.loads(read_text(manifest))
    except tomllib.TOMLDecodeError as exc:
        raise CorpusError(f"{manifest}: not valid TOML ({exc})") from exc
    return {str(e.get("file", "")): {k: str(v) for k, v in e.items()}
            for e in data.get("document", [])}


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
            f"metadata in a {MANIFEST} next to it"
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
    id (see `retrieval.indexing.content_hashes`). Everything is checked before anything is
    written, so one bad file adds nothing; the manifest is replaced atomically at the end.
    """
    folder = Path(corpus_dir)
    manifest = read_manifest(folder)
    taken = {e["id"] for e in manifest.entries}
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
        results.append(Added(path, fields["id"]))
    copied: list[Path] = []
    try:
        for path, fields in planned:
            target = folder / fields["file"]
            if not target.exists():
                shutil.copy2(path, target)
                copied.append(target)
        if planned:
            tables = "".join(_toml_table(fields) for _, fields in planned)
            if tomllib.loads(tables).get("document") != [f for _, f in planned]:
                raise CorpusError(f"could not write {[f['id'] for _, f in planned]} as TOML")
            old_key, data = _parsed_version(folder / MANIFEST)
            valid, json_clean = _VALID.get(old_key), old_key in _CLEAN
            text = read_text(folder / MANIFEST).rstrip("\n") + "\n" + tables
            _replace(folder / MANIFEST, text)
            # What we appended reads back as these tables, so the rest need not be parsed again,
            # nor validated: the new tables were validated above, their ids are new.
            new_key = _stat_key(folder / MANIFEST)
            _remember(new_key, {  # the appended tables are strings: JSON keeps them
                **data, "document": [*data.get("document", []), *(f for _, f in planned)]},
                clean=json_clean)
            if valid is not None:
                _VALID[new_key] = (
                    (*valid[0], *(validate_entry(dict(f), str(p)) for p, f in planned)),
                    valid[1])
    except BaseException:
        for target in copied:
            target.unlink(missing_ok=True)
        raise
    return results


def remove_document(doc_id: str, corpus_dir: Path | str, delete_file: bool = True
                    ) -> dict[str, str]:
    """Take a document out of documents.toml (and its raw file out of corpus/)."""
    folder = Path(corpus_dir)
    manifest = read_manifest(folder)
    entry = manifest.entry(doc_id)
    if entry is None:
        ids = ", ".join(e["id"] for e in manifest.entries[:8])
        raise CorpusError(
            f"no document with id {doc_id!r} in {folder / MANIFEST}; "
            f"`python -m retrieval list` shows them (e.g. {ids})"
        )
    text = read_text(folder / MANIFEST)
    _replace(folder / MANIFEST, _without_table(text, doc_id))
    after = read_manifest(folder)
    expected = [e for e in manifest.entries if e["id"] != doc_id]
    if list(after.entries) != expected or after.municipalities != manifest.municipalities:
        _replace(folder / MANIFEST, text)
        raise CorpusError(f"could not remove {doc_id!r} cleanly from {folder / MANIFEST}; "
                          "edit the file by hand")
    still_used = any(e["file"] == entry["file"] for e in after.entries)
    if delete_file and not still_used:
        (folder / entry["file"]).unlink(missing_ok=True)
    return entry


def _target_name(folder: Path, path: Path, doc_id: str) -> str:
    """Keep the published file name unless another file already has it."""
    if path.resolve().parent == folder.resolve():
        return path.name
    target = folder / path.name
    if not target.exists() or target.read_bytes() == path.read_bytes():
        return path.name
    return f"{doc_id}{path.suffix.lower()}"


def _toml_table(fields: Mapping[str, str]) -> str:
    # A JSON string with ensure_ascii=False is a valid TOML basic string.
    lines = [f"{k} = {json.dumps(fields[k], ensure_ascii=False)}"
             for k in FIELD_ORDER if fields.get(k)]
    return "\n[[document]]\n" + "\n".join(lines) + "\n"


def _without_table(text: str, doc_id: str) -> str:
    """documents.toml without the [[document]] table whose id is doc_id; comments and the
    other tables are kept as written."""
    lines = text.splitlines(keepends=True)
    headers = [i for i, line in enumerate(lines) if _HEADER.match(line)]
    for n, start in enumerate(headers):
        if _HEADER.match(lines[start])[1] != "document":  # type: ignore[index]
            continue
        end = headers[n + 1] if n + 1 < len(headers) else len(lines)
        block = "".join(lines[start:end])
        if tomllib.loads(block).get("document", [{}])[0].get("id") != doc_id:
            continue
        # Comment lines right before the next table describe that table: keep them.
        while end > start + 1 and lines[end - 1].lstrip().startswith("#"):
            end -= 1
        return "".join(lines[:start] + lines[end:])
    return text


def _replace(path: Path, text: str) -> None:
    """Write via a temporary file and a rename, so documents.toml is never half-written."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
