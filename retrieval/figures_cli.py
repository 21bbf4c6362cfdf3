"""`python -m retrieval figures`: the Nøgletal of the index folder, one line or JSON object each.

Kept apart from retrieval/cli.py so that file stays about asking and building; it reads only
figures.jsonl and the manifest, so it needs no model and starts at once.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from retrieval.indexing.figures import FIGURES_FILE, read_figures, select
from retrieval.indexing.store import IndexUnusable, read_manifest


def cmd_figures(ns: argparse.Namespace) -> int:
    """Every stored figure matching the filters; a missing or old index names the fix."""
    try:
        manifest = read_manifest(ns.index)
    except IndexUnusable as exc:
        return _fail(str(exc), ns.json)
    if FIGURES_FILE not in manifest.get("files", {}):
        return _fail(f"{ns.index}/ has no figures yet: run `python -m retrieval build`", ns.json)
    for f in select(read_figures(ns.index), ns.municipality, ns.kind, ns.query, ns.unit):
        if ns.json:
            print(json.dumps(f.to_json(), ensure_ascii=False))
        else:
            print(f"{f.shown:>18}  {f.what[:40]:40}  {f.municipality} · {f.title} · {f.period}"
                  f"  [{f.passage_id}]")
    return 0


def _fail(reason: str, as_json: bool) -> int:
    if as_json:
        print(json.dumps({"error": reason}, ensure_ascii=False))
    else:
        print(f"error: {reason}", file=sys.stderr)
    return 1


def figures_command(sub: Any) -> None:
    """Add `figures` to the CLI's subcommands."""
    f = sub.add_parser("figures", help="every amount and count in the corpus (Nøgletal)")
    f.add_argument("--index", default="index")
    f.add_argument("--municipality", default=None, help="only this municipality's figures")
    f.add_argument("--kind", default=None, help="only documents of this type (e.g. budget)")
    f.add_argument("--query", default=None, help="words the figure's phrase or sentence holds")
    f.add_argument("--unit", default=None, help="kr., pct., antal, år, måneder, dage …")
    f.add_argument("--json", action="store_true", help="one JSON object per figure per line")
    f.set_defaults(func=cmd_figures)
