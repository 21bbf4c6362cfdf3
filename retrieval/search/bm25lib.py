"""bm25s, imported without numba.

bm25s imports numba whenever it is installed (the evaluation extra brings it, through ranx) and
then JIT-compiles its scoring on first use; importing numba alone took 2-7 s of every cold start
of `python -m retrieval ask` (python -X importtime, docs/benchmarks.md). We score through bm25s's
numpy path (`get_scores_from_ids`), so numba buys nothing here. Import bm25s from this module.
"""

from __future__ import annotations

import sys

if "bm25s" not in sys.modules and "numba" not in sys.modules:
    sys.modules["numba"] = None  # type: ignore[assignment]  # makes `import numba` fail inside
    try:
        import bm25s
    finally:
        del sys.modules["numba"]

import bm25s  # binds the name for importers (already loaded above)
from bm25s.version import __version__ as BM25S_VERSION

__all__ = ["BM25S_VERSION", "bm25s"]
