"""Leave-towns-out cross-validation: whatever is fitted is fitted on some towns, scored on others.

`python -m evaluation crossval` asks every labelled question once through the product (hybrid,
k=5, abstention evidence kept), then, fold by fold, holds out whole municipalities: the fusion
weight is chosen and the abstention rule fitted on the other towns' questions only, and both are
judged on the held-out towns. Each question is judged exactly once, by a rule that never saw its
town: those are the headline figures. An ablation drops one abstention signal at a time.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import product
from typing import Any

from evaluation.gold import GoldQuestion, normalise, relevant_ids
from retrieval.answer.abstain import FEATURES, Abstainer, Evidence, fit_shares
from retrieval.answer.asks import asked as read_question
from retrieval.answer.rerank import ANSWER_WEIGHT, DEPTH, answer_signal, rerank, states_head
from retrieval.search.hybrid import HYBRID_SETTINGS, fuse
from retrieval.types import Hit

WEIGHTS = (0.4, 0.5, 0.6, 0.7, 0.8)  # the dense share when fusing
ANSWER_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5)  # re-ranking by answer signals (0: none)
SETTINGS = tuple(product(WEIGHTS, ANSWER_WEIGHTS))
SHIPPED = (HYBRID_SETTINGS["weight"], ANSWER_WEIGHT)
K = 5
# Shares of training unanswerables the abstention threshold may let through, and the share of
# held-out unanswerables the product promises to abstain on (issue 13's target).
SHARES = (0.05, 0.075, 0.1, 0.125, 0.15)
PROMISE = 0.90
Setting = tuple[float, float]  # (fusion weight, answer weight)


@dataclass(frozen=True)
class Asked:
    """One labelled question as the product saw it, before any fitted decision."""

    question: GoldQuestion
    town: str
    relevant: tuple[str, ...]
    dense: tuple[Hit, ...]
    lexical: tuple[Hit, ...]
    pool: int
    highlight: str  # the first hit's highlighted sentences at the shipped settings
    evidence: Evidence | None  # None: the question names a town the corpus does not cover
    # answer signals (retrieval/answer/rerank.py) of the passages any setting may re-rank
    signals: Mapping[str, float] = field(default_factory=dict)
    stating: frozenset[str] = frozenset()  # … those that state a role or count's head (first)


def ask_all(assistant: Any, questions: Sequence[GoldQuestion]) -> list[Asked]:
    out = []
    compounds = assistant.lexical.compounds
    for q in questions:
        answer, evidence, ranking = assistant.inspect(q.question, k=K)
        stages = ranking.stages if ranking is not None else {}
        dense, lexical = stages.get("dense", []), stages.get("bm25", [])
        pool = max(len(dense), len(lexical), K)
        town = q.municipality or (answer.hits[0].passage.municipality if answer.hits else "")
        ask = read_question(q.question, compounds)
        heads = {h.passage.id: h.passage for w in WEIGHTS
                 for h in fuse(dense, lexical, pool, "blend", w)[:DEPTH]}
        out.append(Asked(
            q, town, relevant_ids(q, assistant.passages) if q.answerable else (),
            tuple(dense), tuple(lexical), pool,
            answer.hits[0].highlight if answer.hits else "", evidence,
            {pid: answer_signal(ask, p, compounds) for pid, p in heads.items()},
            frozenset(pid for pid, p in heads.items() if states_head(ask, p, compounds)),
        ))
    return out


def ranked(a: Asked, setting: Setting) -> list[str]:
    weight, answer_weight = setting
    fused = fuse(list(a.dense), list(a.lexical), a.pool, "blend", weight)
    ordered = rerank(fused[:DEPTH], a.signals, answer_weight, first=a.stating)
    return [h.passage.id for h in ordered[:K]]


def choose(answerable: Sequence[Asked]) -> Setting:
    """The fusion and answer weights that rank these questions' answers best (MRR@5); ties go
    to the setting closest to the shipped one."""
    return max(SETTINGS, key=lambda s: (
        sum(reciprocal_rank(a, s) for a in answerable),
        -abs(s[0] - SHIPPED[0]) - abs(s[1] - SHIPPED[1])))


def reciprocal_rank(a: Asked, setting: Setting) -> float:
    ids = ranked(a, setting)
    return next((1.0 / r for r, pid in enumerate(ids, 1) if pid in a.relevant), 0.0)


def folds(towns: Sequence[str], n: int, seed: int = 13) -> list[list[str]]:
    """Whole towns per fold, shuffled once with a fixed seed (so figures reproduce)."""
    order = sorted(set(towns))
    random.Random(seed).shuffle(order)
    return [order[i::n] for i in range(n)]


def crossvalidate(asked: Sequence[Asked], n_folds: int = 5,
                  features: Sequence[str] = FEATURES, allowed_wrong: float | None = None,
                  seed: int = 13, judge: Callable[[Asked], bool] | None = None
                  ) -> dict[str, Any]:
    """Held-out-town figures: each question judged by weights and a rule fitted without it.
    ``allowed_wrong``: the threshold's share; None chooses it on the training towns alone
    (`choose_share`). ``judge``: report only on these questions (all are still used for
    fitting)."""
    judged: list[tuple[Asked, Setting, bool]] = []  # (question, chosen setting, answered)
    chosen, shares = [], []
    for held in folds([a.town for a in asked], n_folds, seed):
        train = [a for a in asked if a.town not in held]
        test = [a for a in asked if a.town in held]
        weight = choose([a for a in train if a.question.answerable])
        share = choose_share(train, n_folds, features, seed) if allowed_wrong is None \
            else allowed_wrong
        rule = _fit(train, features, (share,))[share]
        chosen.append(weight)
        shares.append(share)
        for a in test:
            answered = a.evidence is not None and rule.answers(a.evidence)
            judged.append((a, weight, answered))
    if judge is not None:
        judged = [j for j in judged if judge(j[0])]
    return {**summarise(judged), "weights_chosen": chosen, "shares_chosen": shares}


def choose_share(asked: Sequence[Asked], n_folds: int, features: Sequence[str],
                 seed: int = 13) -> float:
    """The largest share of training unanswerables the threshold may let through for which a
    leave-towns-out cross-validation *within these towns* still abstains on PROMISE of the
    held-out unanswerable questions: the promise first, then as few answerable questions
    withheld as it allows. (The smallest share when none keeps it.)"""
    abstained: dict[float, list[bool]] = {s: [] for s in SHARES}
    for held in folds([a.town for a in asked], n_folds, seed):
        rules = _fit([a for a in asked if a.town not in held], features, SHARES)
        for a in asked:
            if a.town in held and not a.question.answerable:
                for share, rule in rules.items():
                    abstained[share].append(a.evidence is None or not rule.answers(a.evidence))
    kept = [s for s in SHARES if abstained[s] and _mean(abstained[s]) >= PROMISE]
    return max(kept, default=SHARES[0])


def _fit(train: Sequence[Asked], features: Sequence[str], shares: Sequence[float]
         ) -> dict[float, Abstainer]:
    usable = [a for a in train if a.evidence is not None]
    return fit_shares([a.evidence for a in usable],  # type: ignore[misc]
                      [a.question.answerable for a in usable], features, shares)


def repeated(asked: Sequence[Asked], n_folds: int, features: Sequence[str],
             allowed_wrong: float | None, repeats: int) -> dict[str, dict[str, float]]:
    """The held-out figures over `repeats` different shuffles of towns into folds: with ~25
    towns, which towns share a fold moves the abstention figures by a point or two, so one
    shuffle's figure is reported with the spread around it."""
    runs = [crossvalidate(asked, n_folds, features, allowed_wrong, seed)
            for seed in range(13, 13 + repeats)]
    names = ("hit@1", "mrr@5", "highlight", "answerable_abstained", "unanswerable_abstained")
    return {m: {"mean": _mean([r[m] for r in runs]), "min": min(r[m] for r in runs),
                "max": max(r[m] for r in runs)} for m in names}


def summarise(judged: Sequence[tuple[Asked, Setting, bool]]) -> dict[str, Any]:
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


def in_sample(asked: Sequence[Asked], rule: Abstainer, weight: Setting) -> dict[str, Any]:
    """The shipped settings on every question, for comparison with the held-out figures."""
    return summarise([(a, weight, a.evidence is not None and rule.answers(a.evidence))
                      for a in asked])


def ablation(asked: Sequence[Asked], n_folds: int, features: Sequence[str],
             allowed_wrong: float | None) -> dict[str, dict[str, Any]]:
    """The held-out abstention figures with each signal left out in turn."""
    out = {"all": crossvalidate(asked, n_folds, features, allowed_wrong)}
    for name in features:
        rest = [f for f in features if f != name]
        out[f"without {name}"] = crossvalidate(asked, n_folds, rest, allowed_wrong)
    return {k: {m: v[m] for m in ("unanswerable_abstained", "answerable_abstained")}
            for k, v in out.items()}


def _mean(values: Sequence[bool | float]) -> float:
    return float(sum(values) / len(values)) if values else 0.0
