"""documents.toml, the corpus catalog: which files are documents, with the metadata every
citation shows. (The index's own record is `index/manifest.json`; see retrieval/indexing/.)

Validation is strict because a wrong municipality or date on a citation is worse than no answer.
At 11,000 documents parsing the TOML takes 1-3 s, so a process keeps one parsed and validated
version of the file (and a large file's parse is also kept on disk as JSON for the next command,
under the file's size, mtime and inode, as git trusts its index). Writing the catalog happens
here too, so the cache is only ever changed by the code that changes the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrieval.ingest.files import CorpusError, read_text

CATALOG = "documents.toml"
KINDS = ("budget", "arbejdsgrundlag", "plan", "socialpolitik", "strategi", "referat", "andet")
REQUIRED = ("id", "file", "title", "municipality", "committee", "kind", "period", "source")
OPTIONAL = ("date", "url")
FIELD_ORDER = ("id", "file", "title", "municipality", "committee", "kind", "period", "date",
               "source", "url")
MUNICIPALITY_FIELDS = ("name", "phone", "contact", "website")
CACHE_MIN_BYTES = 256 << 10  # a smaller documents.toml parses in milliseconds: no cache file
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_PERIOD = re.compile(r"^(19|20)\d\d(-(19|20)\d\d)?$")
_DATE = re.compile(r"^(19|20)\d\d-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
_HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z_]+)\s*\]\]?\s*(#.*)?$")

Key = tuple[str, int, int, int]
Tables = tuple[tuple[dict[str, str], ...], tuple[dict[str, str], ...]]


@dataclass(frozen=True)
class Catalog:
    """documents.toml, validated but with no document read: cheap at any corpus size."""

    folder: Path
    entries: tuple[dict[str, str], ...]
    municipalities: tuple[dict[str, str], ...]

    @property
    def path(self) -> Path:
        return self.folder / CATALOG

    def entry(self, doc_id: str) -> dict[str, str] | None:
        return next((e for e in self.entries if e["id"] == doc_id), None)


def read_catalog(folder: Path | str) -> Catalog:
    """The catalog's entries, validated, and every listed file present."""
    folder = Path(folder)
    path = folder / CATALOG
    if not path.is_file():
        raise CorpusError(f"{path} not found: a corpus folder needs a {CATALOG} catalog")
    entries, municipalities = _CACHE.validated(path)
    for i, fields in enumerate(entries, 1):
        if not os.path.isfile(os.path.join(folder, fields["file"])):
            where = f"{path} [[document]] #{i} ({fields['id']})"
            raise CorpusError(
                f"{where}: file {folder / fields['file']} not found; fix 'file' or add the file"
            )
    return Catalog(folder, entries, municipalities)


def append_documents(folder: Path, tables: Sequence[dict[str, str]],
                     municipalities: Sequence[dict[str, str]] = ()) -> None:
    """Append validated [[document]] tables (and [[municipality]] contacts), atomically; the
    cache learns them without a parse."""
    path = folder / CATALOG
    text = ("".join(_toml_table(m, "municipality", MUNICIPALITY_FIELDS) for m in municipalities)
            + "".join(_toml_table(fields) for fields in tables))
    written = tomllib.loads(text)
    if (written.get("document", []) != list(tables)
            or written.get("municipality", []) != [_present(m) for m in municipalities]):
        raise CorpusError(f"could not write {[f['id'] for f in tables]} as TOML")
    _CACHE.validated(path)  # the version we append to, parsed and validated
    old = _CACHE.key
    _replace(path, read_text(path).rstrip("\n") + "\n" + text)
    if old is not None:
        _CACHE.appended(old, _stat_key(path), tables, [_present(m) for m in municipalities])


def remove_document_table(catalog: Catalog, doc_id: str) -> Catalog:
    """The catalog without doc_id's table (comments and other tables kept as written)."""
    text = read_text(catalog.path)
    _replace(catalog.path, _without_table(text, doc_id))
    after = read_catalog(catalog.folder)
    expected = [e for e in catalog.entries if e["id"] != doc_id]
    if list(after.entries) != expected or after.municipalities != catalog.municipalities:
        _replace(catalog.path, text)
        raise CorpusError(f"could not remove {doc_id!r} cleanly from {catalog.path}; "
                          "edit the file by hand")
    return after


def check_fields(where: str, entry: Mapping[str, object], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(entry) - set(allowed))
    if unknown:
        raise CorpusError(f"{where}: unknown field(s) {unknown}; allowed: {', '.join(allowed)}")
    for key, value in entry.items():
        if not isinstance(value, str):
            raise CorpusError(f"{where}: field {key!r} must be a string, got {value!r}")


def validate_entry(entry: Mapping[str, object], where: str) -> dict[str, str]:
    """Check one [[document]] table and return it as strings; raises CorpusError naming the fix."""
    check_fields(where, entry, REQUIRED + OPTIONAL)
    missing = [k for k in REQUIRED if not str(entry.get(k, "")).strip()]
    if missing:
        raise CorpusError(f"{where}: missing field(s) {missing}")
    fields = {k: str(v).strip() for k, v in entry.items()}
    if not _ID.match(fields["id"]):
        raise CorpusError(f"{where}: id {fields['id']!r} must be lowercase letters, digits and '-'")
    if fields["kind"] not in KINDS:
        raise CorpusError(f"{where}: kind {fields['kind']!r} is not one of {', '.join(KINDS)}")
    if not _PERIOD.match(fields["period"]):
        raise CorpusError(f"{where}: period {fields['period']!r} must be YYYY or YYYY-YYYY")
    if fields.get("date") and not _DATE.match(fields["date"]):
        raise CorpusError(f"{where}: date {fields['date']!r} must be YYYY-MM-DD")
    return fields


def validate_municipality(entry: Mapping[str, object], where: str) -> dict[str, str]:
    """Check one [[municipality]] table (the way to a human in that town)."""
    check_fields(where, entry, MUNICIPALITY_FIELDS)
    if not entry.get("name"):
        raise CorpusError(f"{where}: missing field 'name'")
    return {k: str(v) for k, v in entry.items()}


def _validated(path: Path, data: Mapping[str, Any]) -> Tables:
    """The catalog's entries and municipalities, checked (but for the files: `read_catalog`
    checks those at every call)."""
    unknown = sorted(set(data) - {"document", "municipality"})
    if unknown:
        raise CorpusError(f"{path}: unknown table(s) {unknown}; use [[document]], [[municipality]]")
    municipalities = [validate_municipality(entry, f"{path} [[municipality]] #{i}")
                      for i, entry in enumerate(data.get("municipality", []), 1)]
    entries: list[dict[str, str]] = []
    seen: set[str] = set()
    for i, entry in enumerate(data.get("document", []), 1):
        where = f"{path} [[document]] #{i} ({entry.get('id', '?')})"
        fields = validate_entry(entry, where)
        if fields["id"] in seen:
            raise CorpusError(f"{where}: duplicate id {fields['id']!r}")
        seen.add(fields["id"])
        entries.append(fields)
    return tuple(entries), tuple(municipalities)


class _ParseCache:
    """One version of documents.toml, parsed and validated, per process (one command's repeated
    reads); a large file's parse also on disk as JSON, when JSON keeps its values."""

    def __init__(self) -> None:
        self.key: Key | None = None
        self.data: dict[str, Any] = {}
        self.tables: Tables | None = None
        self.json_clean = False

    def validated(self, path: Path) -> Tables:
        key = _stat_key(path)
        if key != self.key:
            data = _from_disk(key)
            if data is not None:
                self._remember(key, data, json_clean=True)
            else:
                try:
                    data = tomllib.loads(read_text(path))
                except tomllib.TOMLDecodeError as exc:
                    raise CorpusError(f"{path}: not valid TOML ({exc})") from exc
                self._remember(key, data, json_clean=_to_disk(key, data))
        if self.tables is None:
            self.tables = _validated(path, self.data)
        return self.tables

    def appended(self, old: Key, new: Key, tables: Sequence[dict[str, str]],
                 contacts: Sequence[dict[str, str]] = ()) -> None:
        """What `append_documents` wrote reads back as these tables: nothing to parse again."""
        if old != self.key or self.tables is None:
            return
        entries, municipalities = self.tables
        data = {**self.data, "document": [*self.data.get("document", []), *tables]}
        if contacts:
            data["municipality"] = [*self.data.get("municipality", []), *contacts]
        self._remember(new, data, _to_disk(new, data, known_clean=self.json_clean))
        self.tables = ((*entries, *(dict(t) for t in tables)),
                       (*municipalities, *(dict(c) for c in contacts)))

    def _remember(self, key: Key, data: dict[str, Any], json_clean: bool) -> None:
        self.key, self.data, self.tables, self.json_clean = key, data, None, json_clean


_CACHE = _ParseCache()


def _stat_key(path: Path) -> Key:
    st = path.stat()
    return (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)


def _cache_file(key: Key) -> Path:
    from retrieval.embedding.model import models_dir  # the project's cache ($SPORG_CACHE)

    name = hashlib.sha256(key[0].encode("utf-8")).hexdigest()[:16]
    return models_dir().parent / "manifests" / f"{name}.json"


def _from_disk(key: Key) -> dict[str, Any] | None:
    if key[1] < CACHE_MIN_BYTES:
        return None
    try:
        record = json.loads(_cache_file(key).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return record["data"] if record.get("key") == list(key) else None


def _to_disk(key: Key, data: dict[str, Any], known_clean: bool = False) -> bool:
    """Keep a large catalog's parse on disk; True when JSON keeps its values as they are."""
    if key[1] < CACHE_MIN_BYTES:
        return False
    try:
        text = json.dumps({"key": list(key), "data": data}, ensure_ascii=False)
        if not known_clean and json.loads(text)["data"] != data:  # e.g. TOML dates: no cache
            return False
        path = _cache_file(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(text, "utf-8")
        os.replace(tmp, path)
        return True
    except (OSError, TypeError, ValueError):
        return False  # a cache only: a read-only home or odd values cost speed, nothing else


def _toml_table(fields: Mapping[str, str], table: str = "document",
                order: Sequence[str] = FIELD_ORDER) -> str:
    # A JSON string with ensure_ascii=False is a valid TOML basic string.
    lines = [f"{k} = {json.dumps(fields[k], ensure_ascii=False)}"
             for k in order if fields.get(k)]
    return f"\n[[{table}]]\n" + "\n".join(lines) + "\n"


def _present(fields: Mapping[str, str]) -> dict[str, str]:
    """A table as it reads back: empty fields are not written."""
    return {k: v for k, v in fields.items() if v}


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
