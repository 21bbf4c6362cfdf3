"""Converting the bundled model once per machine, safely shared: a file lock, a temporary folder
renamed into place, stale leftovers of a killed run removed (split from model.py)."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

CONVERTING = "Converting the bundled multilingual-e5-small model (first run only, ~20 s)…"
LOCK_TIMEOUT_S = 900  # a conversion takes 10-20 s; waiting this long means the converter hangs


@contextlib.contextmanager
def quiet_progress() -> Iterator[None]:
    """Hide transformers' per-file progress bars, which would clutter the CLI and the app log."""
    from transformers.utils import logging as hf_logging
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def ensure_converted(bin_path: Path, folder: Path) -> None:
    """Convert once per machine: under a file lock, into a temp folder renamed into place."""
    if (folder / "modules.json").is_file():
        return
    from filelock import FileLock, Timeout

    folder.parent.mkdir(parents=True, exist_ok=True)
    lock_path = f"{folder}.lock"
    try:
        with FileLock(lock_path, timeout=LOCK_TIMEOUT_S):
            if (folder / "modules.json").is_file():  # another process finished while we waited
                return
            for stale in folder.parent.glob(f"{folder.name}.tmp-*"):  # left by a killed run
                shutil.rmtree(stale, ignore_errors=True)
            from retrieval.embedding.e5_convert import convert

            print(CONVERTING, file=sys.stderr, flush=True)
            start = time.perf_counter()
            tmp = Path(tempfile.mkdtemp(prefix=f"{folder.name}.tmp-", dir=folder.parent))
            try:
                with quiet_progress():
                    convert(bin_path, tmp)
                tmp.chmod(0o755)  # mkdtemp's 0700 would lock out other users of a shared cache
                os.replace(tmp, folder)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            took = time.perf_counter() - start
            print(f"…done in {took:.0f} s, cached in {folder}", file=sys.stderr, flush=True)
    except Timeout:
        raise TimeoutError(
            f"waited {LOCK_TIMEOUT_S} s for another process converting the model into {folder} "
            f"(lock {lock_path}); stop that process, then retry"
        ) from None
