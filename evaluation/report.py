"""Write one evaluation to reports/<dataset>-<timestamp>/ and copy it to reports/latest/.

The folder holds summary.json (the CLI's JSON and the comparison), records.jsonl (every query and
retriever, for the abstention fit), qrels.trec, runs/<retriever>.trec, misses.tsv, PNG plots, and
report.md / report.html built from the same figures.
"""

from __future__ import annotations

import html
import json
import shutil
import time
from pathlib import Path
from typing import Any

from evaluation import plots
from evaluation.compare import Comparison, Miss, compare_retrievers, misses, rank_table
from evaluation.metrics import METRICS, per_query, summarise
from evaluation.records import Evaluation
from evaluation.trec import write_qrels, write_run

LATEST = "latest"
MAX_ROWS = 200  # misses shown in the report; misses.tsv holds them all
GROUP_METRICS = ("MRR@10", "Hit@5")


def summary_json(evaluation: Evaluation, table: dict[str, dict[str, float]]) -> dict[str, Any]:
    """The object `run --json` prints."""
    return {
        "dataset": evaluation.dataset,
        "queries": len(evaluation.query_ids),
        "judged": len(evaluation.qrels),
        "k": evaluation.k,
        "retrievers": table,
        "index_seconds": evaluation.index_seconds,
    }


def comparison_json(comparison: Comparison) -> dict[str, Any]:
    return {
        "stat_test": comparison.stat_test,
        "max_p": comparison.max_p,
        "p_values": {f"{a} vs {b}": p for (a, b), p in comparison.p_values.items()},
        "win_tie_loss": {f"{a} vs {b}": w for (a, b), w in comparison.win_tie_loss.items()},
    }


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "–" if value is None else str(value)


def _tables(evaluation: Evaluation, table: dict[str, dict[str, float]], comparison: Comparison,
            missed: list[Miss]) -> list[tuple[str, list[str], list[list[str]]]]:
    """(heading, header, rows) for every table in the report, shared by Markdown and HTML."""
    columns = list(next(iter(table.values())))
    out = [("Metrics", ["retriever", *columns],
            [[n, *(_fmt(row[c]) for c in columns)] for n, row in table.items()])]
    if comparison.p_values:
        names = evaluation.retrievers
        rows = []
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                for m in METRICS:
                    p = comparison.p_values[(a, b)][m]
                    w, t, lose = comparison.win_tie_loss[(a, b)][m]
                    mark = "yes" if p < comparison.max_p else "no"
                    rows.append([f"{a} vs {b}", m, _fmt(table[a][m]), _fmt(table[b][m]),
                                 f"{p:.3g}", mark, f"{w}/{t}/{lose}"])
        out.append((f"Significance (paired {comparison.stat_test} t-test, p < {comparison.max_p})",
                    ["pair", "metric", "A", "B", "p", "significant", "A wins/ties/losses"], rows))
    if evaluation.groups:
        out.append(_by_group(evaluation))
    ranks = rank_table(evaluation)
    out.append((f"Per query: rank of the first relevant passage where a retriever misses the top 5 "
                f"(– = not in top {evaluation.k}; {len(ranks)} queries)",
                ["query", "question", *evaluation.retrievers],
                [[str(r["query_id"]), str(r["question"]),
                  *(_fmt(r[n]) for n in evaluation.retrievers)] for r in ranks[:MAX_ROWS]]))
    out.append(("What each retriever returned first instead",
                ["query", "retriever", "rank", "returned", "first words"],
                [[m.query_id, m.retriever, _fmt(m.rank), m.returned_id, m.returned_words]
                 for m in missed[:MAX_ROWS]]))
    return out


def _by_group(evaluation: Evaluation) -> tuple[str, list[str], list[list[str]]]:
    """MRR@10 and Hit@5 per question type (judged questions only), from the per-query values."""
    scores = per_query(evaluation)
    names = evaluation.retrievers
    header = ["type", "questions", *(f"{n} {m}" for n in names for m in GROUP_METRICS)]
    rows = []
    for group in sorted(set(evaluation.groups.values())):
        qids = [q for q, g in evaluation.groups.items() if g == group and q in evaluation.qrels]
        if not qids:
            continue
        cells = [_fmt(sum(scores[n].per_query[m][q] for q in qids) / len(qids))
                 for n in names for m in GROUP_METRICS]
        rows.append([group, str(len(qids)), *cells])
    return "By question type", header, rows


def _timing(evaluation: Evaluation) -> str:
    if evaluation.kind == "gold":
        if not evaluation.index_seconds:
            return "seconds is query time per retriever (on an index built beforehand)"
        build = max(evaluation.index_seconds.values())
        return f"seconds is query time per retriever (the shared index build took {build:.1f} s)"
    return "seconds is wall time per retriever, its own indexing included"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(title: str, notes: list[str], tables: list[tuple[str, list[str], list[list[str]]]],
             images: list[str]) -> str:
    lines = [f"# {title}", "", *notes, ""]
    for heading, header, rows in tables:
        lines += [f"## {heading}", "", "| " + " | ".join(header) + " |",
                  "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
        lines.append("")
    lines += ["## Plots", ""] + [f"![{name}]({name})" for name in images]
    return "\n".join(lines) + "\n"


def html_page(title: str, notes: list[str], tables: list[tuple[str, list[str], list[list[str]]]],
              images: list[str]) -> str:
    e = html.escape
    parts = [
        "<!doctype html><html lang='en'><meta charset='utf-8'>", f"<title>{e(title)}</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:"
        "collapse;margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;"
        "text-align:left}th{background:#f3f3f3}img{max-width:100%}</style>",
        f"<h1>{e(title)}</h1>", *(f"<p>{e(n)}</p>" for n in notes),
    ]
    for heading, header, rows in tables:
        parts.append(f"<h2>{e(heading)}</h2><table><tr>"
                     + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr>")
        parts += ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows]
        parts.append("</table>")
    parts += ["<h2>Plots</h2>"] + [f"<img src='{e(i)}' alt='{e(i)}'>" for i in images]
    return "\n".join(parts) + "\n</html>\n"


def write_report(evaluation: Evaluation, out: Path | str = "reports",
                 table: dict[str, dict[str, float]] | None = None) -> Path:
    """Write every file of the report; returns its folder (reports/latest is a copy of it)."""
    table = table if table is not None else summarise(evaluation)
    comparison = compare_retrievers(evaluation)
    missed = misses(evaluation)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder = Path(out) / f"{evaluation.dataset}-{stamp}"
    n = 1
    while folder.exists():
        n += 1
        folder = Path(out) / f"{evaluation.dataset}-{stamp}-{n}"
    folder.mkdir(parents=True)

    summary = summary_json(evaluation, table)
    summary["comparison"] = comparison_json(comparison)
    summary["created"] = stamp
    (folder / "summary.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    with (folder / "records.jsonl").open("w", encoding="utf-8") as f:
        for r in evaluation.records:
            f.write(json.dumps(r.to_json(), ensure_ascii=False) + "\n")
    write_qrels(folder / "qrels.trec", evaluation.qrels)
    for name in evaluation.retrievers:
        write_run(folder / "runs" / f"{name}.trec", evaluation.of(name), name)
    with (folder / "misses.tsv").open("w", encoding="utf-8") as f:
        f.write("query_id\tretriever\trank\treturned_id\treturned_words\tquestion\n")
        for m in missed:
            cells = [m.query_id, m.retriever, _fmt(m.rank), m.returned_id, m.returned_words,
                     m.question]
            f.write("\t".join(" ".join(c.split()) for c in cells) + "\n")

    images = [plots.metric_bars(table, folder / "metrics.png", evaluation.dataset).name]
    if evaluation.kind == "gold":
        images.append(plots.score_distributions(evaluation, folder / "scores.png").name)
    title = f"Retrieval evaluation: {evaluation.dataset} ({stamp})"
    notes = [
        f"{len(evaluation.query_ids)} queries, {len(evaluation.qrels)} judged, top k = "
        f"{evaluation.k}. Metrics by ranx over the judged queries; a judged query with no "
        f"relevant passage returned scores 0. Latency is per query in ms; {_timing(evaluation)}.",
    ]
    if evaluation.kind == "gold":
        notes.append("Abstention: positive class = the assistant abstained; truth = the question "
                     "is unanswerable (precision/recall are 0 when it never abstains).")
    tables = _tables(evaluation, table, comparison, missed)
    (folder / "report.md").write_text(markdown(title, notes, tables, images), encoding="utf-8")
    (folder / "report.html").write_text(html_page(title, notes, tables, images), encoding="utf-8")

    latest = Path(out) / LATEST
    if latest.is_symlink() or latest.is_file():
        latest.unlink()
    elif latest.is_dir():
        shutil.rmtree(latest)
    shutil.copytree(folder, latest)
    return folder
