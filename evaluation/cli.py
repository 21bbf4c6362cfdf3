"""`python -m evaluation run|compare`: score retrievers on the gold set or any BEIR folder.

  run      [--questions FILE | --beir DIR] [--retriever dense|bm25|hybrid|all] [--k 10]
           [--limit N] [--json] [--out reports]
  compare  [REPORT_DIR]   re-read a report's records and qrels; side by side with significance
  crossval [--questions FILES] [--folds 5] [--ablation] [--write]
           held-out-by-town figures and the fitted abstention rule (evaluation/trust.py)
  figures  [--corpus corpus] [--json] [--misses]   figure extraction against
           evaluation/data/figures.jsonl: precision, recall, "what" accuracy per document set
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from evaluation.beir import BeirError, load_beir
from evaluation.compare import compare_retrievers, misses
from evaluation.gold import GOLD, GoldError, load_gold
from evaluation.metrics import METRICS, summarise
from evaluation.records import Evaluation, QueryRecord
from evaluation.report import LATEST, summary_json, write_report
from evaluation.runner import KNOWN, choose, run_beir, run_gold
from evaluation.trec import TrecError, read_qrels
from retrieval.indexing.store import IndexUnusable


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _names(value: str) -> list[str]:
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in (*KNOWN, "all")]
    if not names or unknown:
        raise ValueError(f"unknown retriever(s) {unknown or [value]}; choose from "
                         f"{', '.join(KNOWN)} or all (comma-separate several)")
    return names


def _print_table(table: dict[str, dict[str, float]], out=sys.stdout) -> None:
    columns = list(next(iter(table.values())))
    width = max(len(c) for c in columns)
    out.write(f"{'':{width}}  " + "  ".join(f"{n:>10}" for n in table) + "\n")
    for c in columns:
        out.write(f"{c:{width}}  " + "  ".join(f"{table[n][c]:10.4f}" for n in table) + "\n")


def _print_comparison(evaluation: Evaluation) -> None:
    comparison = compare_retrievers(evaluation)
    names = evaluation.retrievers
    if comparison.p_values:
        print(f"\nSignificance ({comparison.stat_test} paired t-test, * = p < {comparison.max_p}):")
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                cells = [f"{m} p={comparison.p_values[(a, b)][m]:.3g}"
                         f"{'*' if comparison.significant(a, b, m) else ''}" for m in METRICS]
                print(f"  {a} vs {b}: " + ", ".join(cells))
    missed = misses(evaluation)
    print("\nMisses (no relevant passage in the top 5): "
          + ", ".join(f"{n} {sum(m.retriever == n for m in missed)}" for n in names))


def cmd_run(ns: argparse.Namespace) -> int:
    names = _names(ns.retriever)
    start = time.perf_counter()
    if ns.beir:
        beir = load_beir(ns.beir, ns.split).limited(ns.limit)
        chosen = choose(names, KNOWN)
        _say(f"{beir.name}: {len(beir.passages)} passages, {len(beir.queries)} judged queries; "
             f"retrievers {', '.join(chosen)}")
        evaluation = run_beir(beir, chosen, ns.k, ns.model, progress=_say)
    else:
        questions = load_gold(ns.questions)
        if ns.limit is not None:
            if ns.limit < 1:
                raise ValueError(f"--limit must be at least 1, got {ns.limit}")
            questions = questions[: ns.limit]
        where = (f"index {ns.index}/" if ns.index else "index built in a temporary folder")
        _say(f"{Path(ns.questions).stem}: {len(questions)} questions over {ns.corpus}/ ({where})")
        evaluation = run_gold(questions, names, ns.k, ns.corpus, ns.model, Path(ns.questions).stem,
                              ns.index)
    table = summarise(evaluation)
    summary = summary_json(evaluation, table)
    summary["seconds"] = time.perf_counter() - start
    folder = write_report(evaluation, ns.out, table) if ns.out else None
    if folder is not None:
        summary["report"] = str(folder)
    if ns.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(f"{evaluation.dataset}: {summary['queries']} queries ({summary['judged']} judged), "
              f"k={evaluation.k}, {summary['seconds']:.1f} s")
        _print_table(table)
        _print_comparison(evaluation)
        if folder is not None:
            print(f"\nReport: {folder}/report.html (copied to {Path(ns.out) / LATEST}/)")
    return 0


def load_saved(folder: Path | str) -> Evaluation:
    """An Evaluation re-read from a report folder (records.jsonl, qrels.trec, summary.json)."""
    folder = Path(folder)
    for name in ("records.jsonl", "qrels.trec", "summary.json"):
        if not (folder / name).is_file():
            raise FileNotFoundError(f"{folder / name} not found: pass a folder written by "
                                    "`python -m evaluation run --out DIR`")
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    lines = (folder / "records.jsonl").read_text(encoding="utf-8").splitlines()
    records = tuple(QueryRecord.from_json(json.loads(x)) for x in lines if x.strip())
    kind = "gold" if any("abstention_f1" in r for r in summary["retrievers"].values()) else "beir"
    seconds = {n: float(r.get("seconds", 0.0)) for n, r in summary["retrievers"].items()}
    return Evaluation(summary["dataset"], kind, int(summary.get("k", 10)), records,
                      read_qrels(folder / "qrels.trec"), seconds=seconds)


def cmd_compare(ns: argparse.Namespace) -> int:
    evaluation = load_saved(ns.report)
    table = summarise(evaluation)
    if ns.json:
        summary = summary_json(evaluation, table)
        comparison = compare_retrievers(evaluation)
        summary["p_values"] = {f"{a} vs {b}": p for (a, b), p in comparison.p_values.items()}
        print(json.dumps(summary, ensure_ascii=False))
        return 0
    print(f"{evaluation.dataset} (from {ns.report}): {len(evaluation.qrels)} judged queries")
    _print_table(table)
    _print_comparison(evaluation)
    for m in misses(evaluation):
        print(f"  {m.retriever:7} {m.query_id:12} rank {m.rank or '-':>3}  got {m.returned_id}  "
              f"| {m.question}")
    return 0


def cmd_figures(ns: argparse.Namespace) -> int:
    from evaluation.figures import evaluate

    scores, misses = evaluate(ns.corpus)
    if ns.json:
        for s in scores:
            print(json.dumps(s.to_json(), ensure_ascii=False))
    else:
        print(f"{'set':13} {'docs':>4} {'labels':>6} {'found':>5} {'matched':>7} "
              f"{'precision':>9} {'recall':>6} {'what':>6}")
        for s in scores:
            print(f"{s.name:13} {s.documents:4} {s.labels:6} {s.extracted:5} {s.matched:7} "
                  f"{s.precision:9.3f} {s.recall:6.3f} {s.what:6.3f}")
    if ns.misses:
        print("\n".join(misses), file=sys.stderr)
    return 0


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m evaluation", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="evaluate retrievers on the gold set or a BEIR folder")
    source = r.add_mutually_exclusive_group()
    source.add_argument("--questions", default=str(GOLD), help="gold JSONL (default: embedded)")
    source.add_argument("--beir", default=None, help="BEIR folder (corpus, queries, qrels/)")
    r.add_argument("--split", default="test", help="qrels/<split>.tsv of a BEIR folder")
    r.add_argument("--retriever", default="all", help="dense, bm25, hybrid or all (default)")
    r.add_argument("--k", type=int, default=10, help="passages kept per query (default 10)")
    r.add_argument("--limit", type=int, default=None, help="only the first N queries")
    r.add_argument("--corpus", default="corpus", help="corpus folder for the gold set")
    r.add_argument("--index", default=None,
                   help="an index already built from --corpus (default: build one in a "
                        "temporary folder)")
    r.add_argument("--model", default=None, help="embedding model (default: bundled e5)")
    r.add_argument("--json", action="store_true", help="print one JSON object")
    r.add_argument("--out", default="reports", help="report folder ('' for none)")
    r.set_defaults(func=cmd_run)
    c = sub.add_parser("compare", help="side by side with significance, from a saved report")
    c.add_argument("report", nargs="?", default=f"reports/{LATEST}")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_compare)
    f = sub.add_parser("figures", help="precision/recall of figure extraction (Nøgletal)")
    f.add_argument("--corpus", default="corpus", help="seed corpus folder")
    f.add_argument("--json", action="store_true", help="one JSON object per set")
    f.add_argument("--misses", action="store_true", help="list misses and extras on stderr")
    f.set_defaults(func=cmd_figures)
    return ap


def main(argv: Iterable[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] == ["crossval"]:  # its own parser: it fits, the others only score
        from evaluation.trust import main as crossval

        return crossval(args[1:])
    ns = parser().parse_args(args)
    try:
        if getattr(ns, "k", 1) < 1:
            raise ValueError(f"--k must be at least 1, got {ns.k}")
        return int(ns.func(ns))
    except (GoldError, BeirError, TrecError, ValueError, FileNotFoundError, KeyError,
            IndexUnusable) as exc:
        message = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
        if getattr(ns, "json", False):
            print(json.dumps({"error": message}, ensure_ascii=False))
        else:
            _say(f"error: {message}")
        return 1
