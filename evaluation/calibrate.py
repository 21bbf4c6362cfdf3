"""Fit the abstention rule on the labelled gold set: `python -m evaluation.calibrate`.

Prints in-sample and leave-one-out figures (the honest ones: each question judged by a rule
fitted without it) and writes retrieval/abstention.json, which the product loads.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from retrieval.answer.abstain import PARAMS, Abstainer, Evidence, evaluate, fit

GOLD = Path(__file__).parent / "data" / "gold.jsonl"
FEATURES = ("dense_top", "known", "foreign")


def gather(questions: list[dict], corpus: Path) -> tuple[list[Evidence], list[bool], list[str]]:
    """Evidence for every gold question whose town the corpus covers (the others are refused
    by rule before any threshold is involved)."""
    from retrieval.answer.assistant import Assistant
    from retrieval.indexing.build import build

    with tempfile.TemporaryDirectory() as tmp:
        build(corpus, Path(tmp) / "index", show_progress=False)
        assistant = Assistant.load(Path(tmp) / "index")
        evidence, labels, ids = [], [], []
        for q in questions:
            e = assistant.evidence(q["question"])
            if e is not None:
                evidence.append(e)
                labels.append(bool(q["answerable"]))
                ids.append(q["id"])
    return evidence, labels, ids


def leave_one_out(evidence: list[Evidence], labels: list[bool], features: tuple[str, ...]
                  ) -> dict[str, float]:
    decisions = []
    for i in range(len(evidence)):
        rest = [j for j in range(len(evidence)) if j != i]
        rule = fit([evidence[j] for j in rest], [labels[j] for j in rest], features)
        decisions.append(rule)
    wrong_answer = sum(
        rule.answers(evidence[i]) and not labels[i] for i, rule in enumerate(decisions)
    )
    wrong_abstain = sum(
        (not rule.answers(evidence[i])) and labels[i] for i, rule in enumerate(decisions)
    )
    return {"wrongly_answered": int(wrong_answer), "wrongly_abstained": int(wrong_abstain)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m evaluation.calibrate", description=__doc__)
    ap.add_argument("--questions", type=Path, default=GOLD)
    ap.add_argument("--corpus", type=Path, default=Path("corpus"))
    ap.add_argument("--write", type=Path, default=PARAMS, help="where to save the fitted rule")
    ap.add_argument("--dry-run", action="store_true", help="print figures, write nothing")
    ns = ap.parse_args(argv)
    questions = [json.loads(line) for line in ns.questions.read_text("utf-8").splitlines() if line]
    start = time.perf_counter()
    evidence, labels, _ = gather(questions, ns.corpus)
    rule = fit(evidence, labels, FEATURES)
    in_sample = evaluate(rule, evidence, labels)
    loo = leave_one_out(evidence, labels, FEATURES)
    report = {
        "questions": ns.questions.name,
        "judged": len(evidence),
        "answerable": sum(labels),
        "unanswerable": len(labels) - sum(labels),
        "features": list(FEATURES),
        "in_sample": in_sample,
        "leave_one_out": loo,
        "fitted": time.strftime("%Y-%m-%d"),
    }
    rule = Abstainer(rule.weights, rule.bias, report)
    print(json.dumps({"weights": rule.weights, "bias": rule.bias, **report}, indent=2,
                     ensure_ascii=False))
    print(f"({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    if not ns.dry_run:
        rule.save(ns.write)
        print(f"wrote {ns.write}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
