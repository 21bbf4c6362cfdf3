"""A folder written as a whole: one writer at a time, built in a temporary sibling, swapped in
with two renames, every file synced and checksummed first.

If the process dies between the two renames, the next reader restores `<folder>.old`, so an
interrupted write always leaves the previous folder in place. retrieval/indexing/store.py says
what the files are; this module only makes writing them safe.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

LOCK_TIMEOUT_S = 600


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def numbered(name: str, j: int) -> str:
    """The name of a file's j-th segment: passages.jsonl, passages-1.jsonl, passages-2.jsonl.

    Large files that only grow when documents are added are kept as segments: an update links
    the unchanged ones from the previous index (`linked`) and writes only the new rows."""
    if j == 0:
        return name
    stem, dot, suffix = name.partition(".")
    return f"{stem}-{j}{dot}{suffix}"


def segments(name: str, names: Collection[str]) -> list[str]:
    """The segments of ``name`` among an index's files, in order; at least ``name`` itself."""
    found = [numbered(name, 0)]
    while numbered(name, len(found)) in names:
        found.append(numbered(name, len(found)))
    if numbered(name, len(found) + 1) in names:
        raise ValueError(f"segments of {name} are not numbered 0, 1, 2, ...: {sorted(names)}")
    return found


def merged_tail(parts: Sequence[T], size: Callable[[T], int], join: Callable[[T, T], T]
                ) -> list[T]:
    """Trailing segments joined while the last holds at least half of the one before: one
    file per doubling, so a corpus grown by many small updates reads a few files and each row
    is rewritten about log2(n) times in all."""
    out = list(parts)
    while len(out) > 1 and 2 * size(out[-1]) >= size(out[-2]):
        last = out.pop()
        out[-1] = join(out[-1], last)
    return out


def linked(source: Path | None, digest: str | None, to: Path) -> str | None:
    """Link an unchanged file of the previous index in and return its checksum; None when it
    must be written instead (no source, no recorded checksum, or no hard links here)."""
    if source is None or digest is None:
        return None
    try:
        os.link(source, to)
    except OSError:
        return None
    return digest


def sealed(path: Path) -> str:
    """The file's sha256, once it is synced to disk. Hashing and syncing both run without
    the GIL, so a writer seals its files side by side: one file's checksum is computed
    while another's pages are written out."""
    digest = sha256(path)
    with path.open("rb") as f:
        os.fsync(f.fileno())
    return digest


@contextlib.contextmanager
def writing(folder: Path | str) -> Iterator[None]:
    """One writer per index folder; leftovers of a writer that was killed are cleared first."""
    from filelock import FileLock, Timeout

    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    # In the temp folder, so that no lock file shows up next to index/ in a work tree.
    key = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    lock = Path(tempfile.gettempdir()) / f"sporg-index-{key}.lock"
    try:
        with FileLock(str(lock), timeout=LOCK_TIMEOUT_S):
            recover(folder)
            for stale in folder.parent.glob(f".{folder.name}-tmp-*"):
                shutil.rmtree(stale, ignore_errors=True)
            yield
    except Timeout:
        raise TimeoutError(
            f"another process has been writing {folder}/ for {LOCK_TIMEOUT_S} s (lock {lock}); "
            "wait for it or stop it, then retry"
        ) from None


def recover(folder: Path) -> None:
    old = folder.with_name(folder.name + ".old")
    if not folder.exists() and old.is_dir():
        print(f"Restoring {old} left by an interrupted build", file=sys.stderr)
        os.replace(old, folder)




def temporary_sibling(folder: Path) -> Path:
    """An empty folder next to ``folder`` to write into (cleared by `writing` if abandoned)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{folder.name}-tmp-", dir=folder.parent))


def swap_in(tmp: Path, folder: Path) -> None:
    """Replace ``folder`` by ``tmp`` with two renames (see `recover`)."""
    old = folder.with_name(folder.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if folder.exists():
        os.replace(folder, old)
    os.replace(tmp, folder)
    shutil.rmtree(old, ignore_errors=True)
