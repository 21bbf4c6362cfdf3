"""Reading the files municipalities publish, and the one error every corpus problem raises.

Both sit below everything else in ingest/ (extract, catalog, corpus, add all need them), so
nothing in the stage imports in a circle.
"""

from __future__ import annotations

from pathlib import Path


class CorpusError(ValueError):
    """The corpus manifest or a document in it cannot be used; the message names the fix."""


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
