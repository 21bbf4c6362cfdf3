"""`python -m retrieval add|remove|update|list`: growing the corpus with the index kept in step.

Kept apart from retrieval/cli.py (build, ask) so each stays one screenful of commands.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from retrieval.embedding.cluster_cli import cluster_flags, embedder_for
from retrieval.embedding.distributed import ClusterUnavailable
from retrieval.indexing.store import IndexUnusable
from retrieval.ingest.files import CorpusError


def fail(reason: str, as_json: bool, question: str | None = None) -> int:
    if as_json:
        record = {"error": reason} if question is None else {"question": question, "error": reason}
        print(json.dumps(record, ensure_ascii=False), flush=True)
    else:
        print(f"error: {reason}", file=sys.stderr)
    return 1


def cluster(ns: argparse.Namespace) -> Any:
    """A RayEmbedder for --ray (retrieval/embedding/distributed.py), else nothing to close."""
    return embedder_for(ns.model, getattr(ns, "ray", False), getattr(ns, "address", None),
                        getattr(ns, "workers", None))


def _report_update(ns: argparse.Namespace, start: float) -> int:
    """Bring the index up to date and say what that took."""
    from retrieval.indexing.build import update

    try:
        with cluster(ns) as embedder:
            report = update(ns.corpus, ns.index, ns.model, show_progress=not ns.quiet,
                            embedder=embedder)
    except (CorpusError, IndexUnusable, ClusterUnavailable) as exc:
        return fail(str(exc), False)
    m = report.manifest
    if report.nothing_to_do:
        print(f"{ns.index}/ was already up to date ({m['passages']} passages).", file=sys.stderr)
        return 0
    what = "rebuilt from scratch" if report.rebuilt else (
        f"updated: {len(report.added)} added, {len(report.changed)} changed, "
        f"{len(report.removed)} removed"
    )
    print(
        f"{ns.index}/ {what}; embedded {report.embedded} passages in "
        f"{time.perf_counter() - start:.1f} s. Now {m['passages']} passages from "
        f"{m['documents']} documents ({m['index_type']} index).",
        file=sys.stderr,
    )
    return 0


def cmd_add(ns: argparse.Namespace) -> int:
    from retrieval.indexing.status import content_hashes
    from retrieval.ingest.add import add_files

    start = time.perf_counter()
    given = {k: getattr(ns, k) or "" for k in
             ("id", "title", "municipality", "committee", "kind", "period", "date", "source",
              "url")}
    try:
        results = add_files(ns.paths, given, ns.corpus, content_hashes(ns.corpus, ns.index))
    except CorpusError as exc:
        return fail(str(exc), False)
    for r in results:
        if r.skipped:
            print(f"Skipped {r.path}: {r.skipped} (a duplicate).", file=sys.stderr)
        else:
            contact = f", with {r.contact}'s contact details" if r.contact else ""
            print(f"Added {r.path} as {r.doc_id}{contact}.", file=sys.stderr)
    if not any(not r.skipped for r in results):
        return 0
    return _report_update(ns, start)


def cmd_remove(ns: argparse.Namespace) -> int:
    from retrieval.ingest.add import remove_document
    from retrieval.ingest.catalog import read_catalog

    start = time.perf_counter()
    try:
        if [e["id"] for e in read_catalog(ns.corpus).entries] == [ns.doc_id]:
            return fail(f"{ns.doc_id} is the corpus's only document; add another first", False)
        entry = remove_document(ns.doc_id, ns.corpus, delete_file=not ns.keep_file)
    except CorpusError as exc:
        return fail(str(exc), False)
    kept = " (file kept)" if ns.keep_file else f" and {entry['file']}"
    print(f"Removed {ns.doc_id} from {ns.corpus}/documents.toml{kept}.", file=sys.stderr)
    return _report_update(ns, start)


def cmd_update(ns: argparse.Namespace) -> int:
    return _report_update(ns, time.perf_counter())


def cmd_list(ns: argparse.Namespace) -> int:
    from dataclasses import asdict

    from retrieval.indexing.status import status

    try:
        state, rows, manifest = status(ns.corpus, ns.index, ns.model)
    except CorpusError as exc:
        return fail(str(exc), ns.json)
    if ns.json:
        record = {"index": state, "index_type": manifest.get("index_type"),
                  "passages": manifest.get("passages"), "documents": [asdict(r) for r in rows]}
        print(json.dumps(record, ensure_ascii=False))
        return 0
    width = max([len(r.id) for r in rows] + [2])
    print(f"{'id':<{width}}  {'passages':>8}  {'state':<8}  municipality · title")
    for r in rows:
        count = "-" if r.passages is None else str(r.passages)
        print(f"{r.id:<{width}}  {count:>8}  {r.state:<8}  {r.municipality} · {r.title}")
    if state == "current":
        print(f"\n{ns.index}/: current — {manifest['passages']} passages, "
              f"{manifest['index_type']} index, model {manifest['model']}")
    elif state == "stale":
        print(f"\n{ns.index}/: stale — run `python -m retrieval update` to embed what changed")
    elif state == "damaged":
        print(f"\n{ns.index}/: damaged — a file's checksum differs from the one written; "
              "run `python -m retrieval build`")
    else:
        print(f"\n{ns.index}/: missing — run `python -m retrieval build`")
    return 0


def corpus_commands(sub: Any) -> None:
    """add, remove, update, list: growing the corpus with the index kept in step."""
    from retrieval.ingest.catalog import KINDS

    def common(p: argparse.ArgumentParser, quiet: bool = True) -> None:
        p.add_argument("--corpus", default="corpus")
        p.add_argument("--index", default="index")
        p.add_argument("--model", default=None)
        if quiet:
            p.add_argument("--quiet", action="store_true", help="no progress bar")

    ad = sub.add_parser("add", help="add .txt/.html/.pdf documents (or folders of them)")
    ad.add_argument("paths", nargs="+", metavar="PATH")
    ad.add_argument("--municipality", help="e.g. Sønderborg")
    ad.add_argument("--committee", help="e.g. Socialudvalget")
    ad.add_argument("--title", help="default: the title an HTML page or PDF states")
    ad.add_argument("--kind", help=f"one of {', '.join(KINDS)}")
    ad.add_argument("--period", help="YYYY or YYYY-YYYY")
    ad.add_argument("--date", help="YYYY-MM-DD (optional)")
    ad.add_argument("--source", help="where it comes from, as a citation shows it (or a URL)")
    ad.add_argument("--url", help="link to the published document (optional)")
    ad.add_argument("--id", help="manifest id (default: from municipality and file name)")
    common(ad)
    ad.set_defaults(func=cmd_add)
    rm = sub.add_parser("remove", help="remove a document from corpus/ and the index")
    rm.add_argument("doc_id", metavar="DOC_ID")
    rm.add_argument("--keep-file", action="store_true", help="keep the raw file in corpus/")
    common(rm)
    rm.set_defaults(func=cmd_remove)
    up = sub.add_parser("update", help="embed only new/changed documents into index/")
    common(up)
    cluster_flags(up)
    up.set_defaults(func=cmd_update)
    ls = sub.add_parser("list", help="documents, passages and the index's state")
    ls.add_argument("--json", action="store_true")
    common(ls, quiet=False)
    ls.set_defaults(func=cmd_list)
