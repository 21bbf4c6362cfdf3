"""Text out of the files municipalities publish: plain text, web pages and PDFs.

Each reader returns raw text in the shape retrieval/ingest/cleaning.py expects (a paragraph or list
item per line); the same cleaning rules then apply whatever the file type. HTML goes through
trafilatura, which drops menus, footers and cookie banners by page structure; PDF through pypdf,
after which lines broken by the page width are joined back into paragraphs.
"""

from __future__ import annotations

import itertools
import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from retrieval.ingest.files import CorpusError, read_text

SUFFIXES = (".txt", ".html", ".htm", ".pdf")
_LIBRARY = {".html": "trafilatura", ".htm": "trafilatura", ".pdf": "pypdf"}
_DASH_ITEM = re.compile(r"^[-–]\s+")
_PAGE_NUMBER = re.compile(r"^(side\s+)?\d{1,3}(\s*(/|af)\s*\d{1,3})?$", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?:;\"”»)]$")
_ITEM_START = re.compile(r"^([•·▪●◦*–-]\s|\d{1,2}[.)]\s)")


def _error(message: str) -> Exception:
    return CorpusError(message)


def extractor_version(path: Path | str) -> str:
    """The library (and version) that reads this file type, so an upgrade marks it changed."""
    library = _LIBRARY.get(Path(path).suffix.lower())
    if library is None:
        return "text"
    try:
        return f"{library}=={version(library)}"
    except PackageNotFoundError:
        return f"{library} (missing)"


def extract_text(path: Path | str) -> str:
    """The document's text, one paragraph a line; raises CorpusError naming the file and fix."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".txt":
            return read_text(path)
        if suffix in (".html", ".htm"):
            return html_text(path.read_bytes(), where=str(path))
        if suffix == ".pdf":
            return pdf_text(path)
    except OSError as exc:  # permission denied, a folder, a file gone since it was listed
        raise _error(f"{path}: cannot be read ({exc.strerror or exc}); check the file") from exc
    raise _error(f"{path}: cannot read {suffix or 'files without a suffix'}; use one of "
                 f"{', '.join(SUFFIXES)} (save other formats as PDF or plain text)")


def html_text(html: bytes | str, where: str = "the page") -> str:
    """The main text of a web page, without navigation, footer or cookie banner."""
    trafilatura = _require("trafilatura")
    text = trafilatura.extract(
        html, output_format="txt", include_comments=False, include_tables=True,
        include_links=False, favor_recall=True,
    )
    if not text or not text.strip():
        raise _error(f"{where}: no main text found in the HTML (an empty page or a script-only "
                     "site?); save the page's text as .txt and add that instead")
    # trafilatura marks list items "- "; the cleaning rules know bullets as "•".
    return "\n".join(_DASH_ITEM.sub("• ", line) for line in text.splitlines())


def pdf_text(path: Path | str) -> str:
    """The text of a PDF with lines re-flowed into paragraphs and running page numbers dropped."""
    pypdf = _require("pypdf")
    from pypdf.errors import PdfReadError

    try:
        reader = pypdf.PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise _error(f"{path}: the PDF is password-protected; add an unprotected copy")
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, OSError, ValueError) as exc:
        raise _error(f"{path}: not a readable PDF ({exc}); re-save it as PDF or .txt") from exc
    text = reflow(pages)
    if not text.strip():
        raise _error(f"{path}: the PDF has no text layer (a scan?); run OCR on it or add the "
                     "text as .txt")
    return text


def pdf_title(path: Path | str) -> str:
    """The title a PDF states in its metadata, or ''."""
    try:
        import pypdf

        meta = pypdf.PdfReader(str(path)).metadata
    except Exception:  # no title is a normal outcome, whatever the reason
        return ""
    return str(meta.title or "").strip() if meta else ""


def html_title(path: Path | str) -> str:
    """The page title a web page states (og:title or <title>), or ''."""
    try:
        import trafilatura

        meta = trafilatura.extract_metadata(Path(path).read_bytes())
    except Exception:  # no title is a normal outcome, whatever the reason
        return ""
    return str(meta.title or "").strip() if meta is not None else ""


def stated_title(path: Path | str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix == ".pdf":
        return pdf_title(path)
    if suffix in (".html", ".htm"):
        return html_title(path)
    return ""


def reflow(pages: list[str]) -> str:
    """Join the lines of PDF pages into paragraphs.

    A PDF line ends where the page width ends, not where a sentence does. A line continues the
    paragraph before it unless that one ended a sentence on a visibly short line, was a short
    heading, or this line starts a list item. Hyphens at a line end are joined ("social-
    området"), except before "og"/"eller" ("social- og sundhedsudvalget"). A lone page number
    at the top or bottom of a page is dropped, and a paragraph runs on across a page break.
    """
    lines: list[str] = []
    for page in pages:
        rows = [" ".join(r.split()) for r in page.splitlines()]
        rows = [r for r in rows if r]
        while rows and _PAGE_NUMBER.match(rows[-1]):
            rows.pop()
        while rows and _PAGE_NUMBER.match(rows[0]):
            rows.pop(0)
        lines.extend(rows)
    if not lines:
        return ""
    widths = sorted(len(r) for r in lines)
    full = widths[len(widths) * 3 // 4]  # a typical full line
    paragraphs: list[str] = [lines[0]]
    for prev, line in itertools.pairwise(lines):
        short = len(prev) < 0.75 * full
        breaks = (
            _ITEM_START.match(line)
            or (short and _SENTENCE_END.search(prev))
            or (short and len(prev.split()) <= 8 and not _SENTENCE_END.search(prev)
                and line[:1].isupper())
        )
        if breaks:
            paragraphs.append(line)
        elif prev.endswith("-") and not prev.endswith(" -") and line[:1].islower() and \
                line.split(" ", 1)[0] not in ("og", "eller"):
            paragraphs[-1] = paragraphs[-1][:-1] + line
        else:
            paragraphs[-1] = f"{paragraphs[-1]} {line}"
    return "\n".join(paragraphs)


def _require(module: str):  # type: ignore[no-untyped-def]
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ModuleNotFoundError(
            f"reading this file type needs {module}, which is not installed: pip install -e ."
        ) from None
