"""Leave-towns-out cross-validation: whatever is fitted is fitted on some towns, scored on others.

`python -m evaluation crossval` asks every labelled question once through the product (hybrid,
k=5, abstention evidence kept), then, fold by fold, holds out whole municipalities: the fusion
weight is chosen and the abstention rule fitted on the other towns' questions only, and both are
judged on the held-out towns. Each question is judged exactly once, by a rule that never saw its
town: those are the headline figures. An ablation drops one abstention signal at a time.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from evaluation.gold import GoldQuestion, normalise, relevant_ids
from retrieval.answer.abstain import FEATURES, Abstainer, Evidence, fit
from retrieval.search.hybrid import fuse
from retrieval.types import Hit

WEIGHTS = (0.4, 0.5, 0.6, 0.7, 0.8)
K = 5


@dataclass(frozen=True)
class Asked:
    """One labelled question as the product saw it, before any fitted decision."""

    question: GoldQuestion
    town: str
    relevant: tuple[str, ...]
    dense: tuple[Hit, ...]
    lexical: tuple[Hit, ...]
    pool: int
    highlight: str  # the first hit's highlighted sentences at the shipped fusion weight
    evidence: Evidence | None  # None: the question names a town the corpus does not cover


def ask_all(assistant: Any, questions: Sequence[GoldQuestion]) -> list[Asked]:
    out = []
    for q in questions:
        answer, evidence, ranking = assistant.inspect(q.question, k=K)
        stages = ranking.stages if ranking is not None else {}
        dense, lexical = stages.get("dense", []), stages.get("bm25", [])
        town = q.municipality or (answer.hits[0].passage.municipality if answer.hits else "")
        out.append(Asked(
            q, town, relevant_ids(q, assistant.passages) if q.answerable else (),
            tuple(dense), tuple(lexical), max(len(dense), len(lexical), K),
            answer.hits[0].highlight if answer.hits else "", evidence,
        ))
    return out


def ranked(a: Asked, weight: float) -> list[str]:
    return [h.passage.id for h in fuse(list(a.dense), list(a.lexical), a.pool, "blend",
                                       weight)[:K]]


def reciprocal_rank(a: Asked, weight: float) -> float:
    ids = ranked(a, weight)
    return next((1.0 / r for r, pid in enumerate(ids, 1) if pid in a.relevant), 0.0)


def folds(towns: Sequence[str], n: int, seed: int = 13) -> list[list[str]]:
    """Whole towns per fold, shuffled once with a fixed seed (so figures reproduce)."""
    order = sorted(set(towns))
    random.Random(seed).shuffle(order)
    return [order[i::n] for i in range(n)]


def crossvalidate(asked: Sequence[Asked], n_folds: int = 5,
                  features: Sequence[str] = FEATURES, allowed_wrong: float = 0.0
                  ) -> dict[str, Any]:
    """Held-out-town figures: each question judged by a weight and a rule fitted without it."""
    judged: list[tuple[Asked, float, bool]] = []  # (question, chosen weight, answered)
    chosen = []
    for held in folds([a.town for a in asked], n_folds):
        train = [a for a in asked if a.town not in held]
        test = [a for a in asked if a.town in held]
        answerable = [a for a in train if a.question.answerable]
        weight = max(WEIGHTS, key=lambda w: (sum(reciprocal_rank(a, w) for a in answerable),
                                             -abs(w - 0.6)))
        usable = [a for a in train if a.evidence is not None]
        rule = fit([a.evidence for a in usable],  # type: ignore[misc]
                   [a.question.answerable for a in usable], features,
                   allowed_wrong=allowed_wrong)
        chosen.append(weight)
        for a in test:
            answered = a.evidence is not None and rule.answers(a.evidence)
            judged.append((a, weight, answered))
    return {**summarise(judged), "weights_chosen": chosen}


def summarise(judged: Sequence[tuple[Asked, float, bool]]) -> dict[str, Any]:
    ans = [(a, w, d) for a, w, d in judged if a.question.answerable]
    una = [(a, w, d) for a, w, d in judged if not a.question.answerable]
    rr = [reciprocal_rank(a, w) for a, w, _ in ans]
    span = [normalise(a.question.answer) in normalise(a.highlight) for a, _, _ in ans]
    return {
        "answerable": len(ans), "unanswerable": len(una),
        "hit@1": _mean([r == 1.0 for r in rr]), "hit@5": _mean([r > 0 for r in rr]),
        "mrr@5": _mean(rr), "highlight": _mean(span),
        "answerable_abstained": _mean([not d for _, _, d in ans]),
        "unanswerable_abstained": _mean([not d for _, _, d in una]),
        "wrong_answers": [a.question.id for a, _, d in una if d],
        "wrong_abstentions": [a.question.id for a, _, d in ans if not d],
    }


def in_sample(asked: Sequence[Asked], rule: Abstainer, weight: float) -> dict[str, Any]:
    """The shipped settings on every question, for comparison with the held-out figures."""
    return summarise([(a, weight, a.evidence is not None and rule.answers(a.evidence))
                      for a in asked])


def ablation(asked: Sequence[Asked], n_folds: int, features: Sequence[str],
             allowed_wrong: float) -> dict[str, dict[str, Any]]:
    """The held-out abstention figures with each signal left out in turn."""
    out = {"all": crossvalidate(asked, n_folds, features, allowed_wrong)}
    for name in features:
        rest = [f for f in features if f != name]
        out[f"without {name}"] = crossvalidate(asked, n_folds, rest, allowed_wrong)
    return {k: {m: v[m] for m in ("unanswerable_abstained", "answerable_abstained")}
            for k, v in out.items()}


def _mean(values: Sequence[bool | float]) -> float:
    return float(sum(values) / len(values)) if values else 0.0
