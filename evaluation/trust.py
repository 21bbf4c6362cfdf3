"""`python -m evaluation crossval`: the held-out-by-town figures, the ablation, and the fitted rule.

Asks every labelled question (by default the gold set and the towns set) once through the
product over the whole corpus, then cross-validates by town (evaluation/crossval.py). With
`--write`, the abstention rule and fusion weight are finally fitted on all towns and saved to
retrieval/answer/abstention.json, which the product loads.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from evaluation.crossval import (
    PROMISE,
    SHARES,
    ablation,
    ask_all,
    choose,
    choose_share,
    crossvalidate,
    in_sample,
    repeated,
)
from evaluation.gold import GOLD, load_gold
from retrieval.answer.abstain import FEATURES, PARAMS, Abstainer, fit
from retrieval.indexing.store import IndexUnusable

TOWNS = GOLD.with_name("towns.jsonl")
SIGNALS = FEATURES  # every signal: the ablation shows what each adds


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m evaluation crossval", description=__doc__)
    ap.add_argument("--questions", nargs="+", type=Path, default=[GOLD, TOWNS])
    ap.add_argument("--corpus", type=Path, default=Path("corpus"))
    ap.add_argument("--index", type=Path, default=None,
                    help="an index already built from --corpus (default: build one in a "
                         "temporary folder)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--features", default=",".join(SIGNALS),
                    help=f"abstention signals, comma-separated, from {', '.join(FEATURES)}")
    ap.add_argument("--allowed-wrong", type=float, default=None,
                    help="share of training unanswerables the threshold may let through "
                         f"(default: the largest of {', '.join(map(str, SHARES))} that still "
                         f"abstains on {PROMISE:.0%} of unanswerable questions of held-out "
                         "towns, chosen on the training towns alone)")
    ap.add_argument("--ablation", action="store_true", help="also leave each signal out")
    ap.add_argument("--repeats", type=int, default=8,
                    help="shuffles of towns into folds for the spread of the held-out figures")
    ap.add_argument("--write", type=Path, nargs="?", const=PARAMS, default=None,
                    help="fit on every town and save the rule (default path: the product's)")
    return ap


def main(argv: list[str] | None = None) -> int:
    ns = parser().parse_args(argv)
    features = [f for f in ns.features.split(",") if f]
    unknown = [f for f in features if f not in FEATURES]
    if unknown:
        print(f"error: unknown signal(s) {unknown}; choose from {', '.join(FEATURES)}",
              file=sys.stderr)
        return 1
    questions = [q for path in ns.questions for q in load_gold(path)]
    start = time.perf_counter()
    try:
        asked = _ask(questions, ns.corpus, ns.index)
    except (IndexUnusable, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    report: dict[str, Any] = {
        "questions": [p.name for p in ns.questions], "towns": len({a.town for a in asked}),
        "features": features, "allowed_wrong": ns.allowed_wrong, "folds": ns.folds,
        "held_out_towns": crossvalidate(asked, ns.folds, features, ns.allowed_wrong),
    }
    if ns.repeats > 1:
        report["held_out_towns_repeated"] = repeated(asked, ns.folds, features,
                                                     ns.allowed_wrong, ns.repeats)
    # The five original documents with the whole corpus loaded, judged by rules fitted
    # without their towns (the gold set's ids start with "g").
    report["seed_documents_held_out"] = crossvalidate(
        asked, ns.folds, features, ns.allowed_wrong,
        judge=lambda a: a.question.id.startswith("g"))
    if ns.ablation:
        report["ablation"] = ablation(asked, ns.folds, features, ns.allowed_wrong)
    share = ns.allowed_wrong if ns.allowed_wrong is not None \
        else choose_share(asked, ns.folds, features)
    report["allowed_wrong_fitted"] = share
    usable = [a for a in asked if a.evidence is not None]
    rule = fit([a.evidence for a in usable], [a.question.answerable for a in usable],  # type: ignore[misc]
               features, allowed_wrong=share)
    setting = choose([a for a in asked if a.question.answerable])
    report["in_sample"] = in_sample(asked, rule, setting)
    report["fusion_weight"], report["answer_weight"] = setting
    print(json.dumps(report, ensure_ascii=False, indent=2))
    print(f"({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    if ns.write:
        fitted = {k: v for k, v in report.items() if k != "ablation"}
        Abstainer(rule.weights, rule.bias, {**fitted, "fitted": time.strftime("%Y-%m-%d")}
                  ).save(ns.write)
        print(f"wrote {ns.write}", file=sys.stderr)
    return 0


def _ask(questions: list[Any], corpus: Path, index: Path | None) -> list[Any]:
    from evaluation.runner import open_assistant

    assistant, _ = open_assistant(corpus, index)
    return ask_all(assistant, questions)


if __name__ == "__main__":
    sys.exit(main())
