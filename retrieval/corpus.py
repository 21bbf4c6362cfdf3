"""The corpus manifest: which files are documents, and the metadata every citation shows.

Validation is strict because a wrong municipality or date on a citation is worse than no answer.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from retrieval.cleaning import clean, is_excerpt
from retrieval.extract import extract_text
from retrieval.types import Document

MANIFEST = "documents.toml"
# Bump when cleaning or chunking changes what the same files turn into: indexes then rebuild.
PIPELINE_VERSION = "clean2-chunk2"
KINDS = ("budget", "arbejdsgrundlag", "plan", "socialpolitik", "strategi", "referat", "andet")
REQUIRED = ("id", "file", "title", "municipality", "committee", "kind", "period", "source")
OPTIONAL = ("date", "url")
MUNICIPALITY_FIELDS = ("name", "phone", "contact", "website")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_PERIOD = re.compile(r"^(19|20)\d\d(-(19|20)\d\d)?$")
_DATE = re.compile(r"^(19|20)\d\d-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")


class CorpusError(ValueError):
    """The corpus manifest or a document in it cannot be used; the message names the fix."""


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
        for m in self.municipalities:
            if m.name.casefold() == municipality.casefold():
                return m
        return None

    @property
    def hash(self) -> str:
        """Changes whenever any cleaned text or metadata changes, so a stale index is caught."""
        h = hashlib.sha256(PIPELINE_VERSION.encode())
        for d in sorted(self.documents, key=lambda d: d.id):
            h.update(repr(sorted(vars(d).items())).encode("utf-8"))
        return h.hexdigest()[:16]


def read_text(path: Path) -> str:
    """Read a document as UTF-8, falling back to Latin-1/CP1252 that older Danish sites still use.

    The fallback is per line: a file pasted together from a UTF-8 page and a Latin-1 one keeps
    both 'Åse Ørsted' and 'på' instead of turning the UTF-8 half into 'Ã…se'.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        why = exc.strerror or exc
        raise CorpusError(f"{path}: cannot be read ({why}); check the file") from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    lines = []
    for line in raw.splitlines(keepends=True):
        try:
            lines.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            try:
                lines.append(line.decode("cp1252"))
            except UnicodeDecodeError:
                raise CorpusError(
                    f"{path}: not UTF-8 or Windows-1252 text; save it as UTF-8"
                ) from None
    return "".join(lines)


def _check_fields(where: str, entry: dict[str, object], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(entry) - set(allowed))
    if unknown:
        raise CorpusError(f"{where}: unknown field(s) {unknown}; allowed: {', '.join(allowed)}")
    for key, value in entry.items():
        if not isinstance(value, str):
            raise CorpusError(f"{where}: field {key!r} must be a string, got {value!r}")


def validate_entry(entry: dict[str, object], where: str) -> dict[str, str]:
    """Check one [[document]] table and return it as strings; raises CorpusError naming the fix."""
    _check_fields(where, entry, REQUIRED + OPTIONAL)
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


def load_corpus(folder: Path | str = "corpus") -> Corpus:
    """Load and clean every document the manifest lists; any error names the entry and the fix."""
    folder = Path(folder)
    manifest = folder / MANIFEST
    if not manifest.is_file():
        raise CorpusError(f"{manifest} not found: a corpus folder needs a {MANIFEST} manifest")
    try:
        data = tomllib.loads(read_text(manifest))
    except tomllib.TOMLDecodeError as exc:
        raise CorpusError(f"{manifest}: not valid TOML ({exc})") from exc
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
        municipalities.append(Municipality(**entry))

    documents: list[Document] = []
    seen: set[str] = set()
    for i, entry in enumerate(data.get("document", []), 1):
        where = f"{manifest} [[document]] #{i} ({entry.get('id', '?')})"
        fields = validate_entry(entry, where)
        if fields["id"] in seen:
            raise CorpusError(f"{where}: duplicate id {fields['id']!r}")
        seen.add(fields["id"])
        path = folder / fields["file"]
        if not path.is_file():
            raise CorpusError(f"{where}: file {path} not found; fix 'file' or add the file")
        text = clean(
            extract_text(path), title=fields["title"], excerpt=is_excerpt(fields["source"])
        )  # .txt, .html or .pdf
        if not text.strip():
            raise CorpusError(f"{where}: {path} has no text left after cleaning")
        documents.append(Document(text=text, **fields))
    if not documents:
        raise CorpusError(f"{manifest}: lists no [[document]]; add at least one")
    return Corpus(documents=tuple(documents), municipalities=tuple(municipalities))
