"""The abstention rule and its calibration: fitted on real evidence from the real corpus.

`fit` promises two things the product relies on (retrieval/abstain.py, README "Abstention"):
the fitted score separates answerable from unanswerable questions, and the threshold is raised
until every training unanswerable question abstains. `python -m evaluation.calibrate` writes
the rule the product loads, with the figures it was fitted to.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from evaluation import calibrate
from retrieval.answer.abstain import Abstainer, Evidence, evaluate, fit
from retrieval.answer.assistant import Assistant

GOLD = Path(calibrate.__file__).parent / "data" / "gold.jsonl"
FEATURES = calibrate.FEATURES


def _gold(answerable: int, unanswerable: int) -> list[dict]:  # type: ignore[type-arg]
    """The first questions of each kind from the gold set, in its order."""
    rows = [json.loads(line) for line in GOLD.read_text("utf-8").splitlines() if line]
    yes = [r for r in rows if r["answerable"]][:answerable]
    no = [r for r in rows if not r["answerable"]][:unanswerable]
    return yes + no


@pytest.fixture(scope="module")
def real(assistant: Assistant) -> tuple[list[Evidence], list[bool]]:
    """Evidence for 24 answerable and 14 unanswerable gold questions (covered towns only)."""
    evidence, labels = [], []
    for q in _gold(24, 14):
        e = assistant.evidence(q["question"])
        if e is not None:
            evidence.append(e)
            labels.append(bool(q["answerable"]))
    assert sum(labels) >= 20 and len(labels) - sum(labels) >= 8, "too few to fit on"
    return evidence, labels


def test_fit_on_real_evidence_separates_and_makes_every_training_unanswerable_abstain(
    real: tuple[list[Evidence], list[bool]],
) -> None:
    evidence, labels = real
    rule = fit(evidence, labels, FEATURES)
    assert set(rule.weights) == set(FEATURES)
    assert rule.weights["dense_top"] > 0 and rule.weights["known"] > 0  # closer, more known
    assert all(not rule.answers(e) for e, y in zip(evidence, labels, strict=True) if not y)
    scores = [rule.score(e) for e in evidence]
    yes = sorted(s for s, y in zip(scores, labels, strict=True) if y)
    no = sorted(s for s, y in zip(scores, labels, strict=True) if not y)
    assert yes[len(yes) // 2] > no[len(no) // 2]  # the median answerable beats the median other
    figures = evaluate(rule, evidence, labels)
    assert figures["wrongly_answered"] == 0 and figures["recall"] == 1.0
    assert figures["wrongly_abstained"] < len(yes)  # some answerable questions are answered


def test_allowing_a_share_of_wrong_answers_lowers_the_threshold_by_that_share(
    real: tuple[list[Evidence], list[bool]],
) -> None:
    """`crossval` fits with allowed_wrong: at most that share of training unanswerables (year
    rule aside) is answered, and never fewer answerable ones than with none allowed."""
    evidence, labels = real
    strict = fit(evidence, labels, FEATURES)
    loose = fit(evidence, labels, FEATURES, allowed_wrong=0.25)
    negatives = [e for e, y in zip(evidence, labels, strict=True) if not y and not e.year_missing]
    answered = sum(loose.answers(e) for e in negatives)
    assert answered <= 0.25 * len(negatives)
    positives = [e for e, y in zip(evidence, labels, strict=True) if y]
    assert sum(loose.answers(e) for e in positives) >= sum(strict.answers(e) for e in positives)


def test_the_threshold_sits_just_above_the_best_unanswerable(
    real: tuple[list[Evidence], list[bool]],
) -> None:
    """After folding standardisation and threshold into raw weights, the best-scoring training
    unanswerable (with no missing year) scores exactly -margin."""
    evidence, labels = real
    rule = fit(evidence, labels, FEATURES, margin=0.25)
    best = max(rule.score(e) for e, y in zip(evidence, labels, strict=True)
               if not y and not e.year_missing)  # fmt: skip
    assert best == pytest.approx(-0.25, abs=1e-6)


def test_an_unanswerable_that_the_year_rule_refuses_does_not_move_the_threshold(
    real: tuple[list[Evidence], list[bool]],
) -> None:
    """The year rule abstains on its own, so such a question must not cost answerable ones."""
    evidence, labels = real
    base = fit(evidence, labels, FEATURES)
    best_answer = max(evidence, key=lambda e: e.dense_top)
    year_only = replace(best_answer, year_missing=True)  # looks answerable, names a wrong year
    with_year = fit([*evidence, year_only], [*labels, False], FEATURES)
    assert not with_year.answers(year_only)
    kept = [e for e, y in zip(evidence, labels, strict=True) if y]
    assert [with_year.answers(e) for e in kept] == [base.answers(e) for e in kept]


def test_a_rule_with_an_unknown_feature_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown abstention feature"):
        Abstainer({"dense_tpo": 1.0}, 0.0)


def test_leave_one_out_judges_each_question_by_a_rule_fitted_without_it(
    real: tuple[list[Evidence], list[bool]],
) -> None:
    evidence, labels = real
    loo = calibrate.leave_one_out(evidence, labels, FEATURES)
    in_sample = evaluate(fit(evidence, labels, FEATURES), evidence, labels)
    # In sample no unanswerable is answered by construction; held out, that can happen, and
    # is what the figure is for. It can never be more than the unanswerable questions.
    assert 0 <= loo["wrongly_answered"] <= len(labels) - sum(labels)
    assert loo["wrongly_abstained"] >= 0 and in_sample["wrongly_answered"] == 0


@pytest.mark.slow
def test_calibrate_writes_the_rule_the_product_loads(
    tmp_path: Path, assistant: Assistant
) -> None:
    """`python -m evaluation.calibrate` on a small question file: the written rule answers
    and abstains on those questions exactly as its stored figures say (checked on the test
    session's index of the same corpus, built the same way as calibrate's own)."""
    questions = tmp_path / "questions.jsonl"
    rows = _gold(14, 8)
    questions.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    written = tmp_path / "abstention.json"
    dry = calibrate.main(["--questions", str(questions), "--corpus", "corpus",
                          "--write", str(written), "--dry-run"])  # fmt: skip
    assert dry == 0 and not written.exists()
    assert calibrate.main(["--questions", str(questions), "--corpus", "corpus",
                           "--write", str(written)]) == 0  # fmt: skip
    data = json.loads(written.read_text("utf-8"))
    fitted = data["fitted_on"]
    assert fitted["questions"] == "questions.jsonl" and fitted["features"] == list(FEATURES)
    assert fitted["answerable"] + fitted["unanswerable"] == fitted["judged"] <= len(rows)
    assert fitted["in_sample"]["wrongly_answered"] == 0
    rule = Abstainer(data["weights"], float(data["bias"]), fitted)
    judged = [(assistant.evidence(r["question"]), r["answerable"]) for r in rows]
    judged = [(e, y) for e, y in judged if e is not None]
    assert len(judged) == fitted["judged"]
    evidence, labels = [e for e, _ in judged], [y for _, y in judged]
    assert evaluate(rule, evidence, labels) == pytest.approx(fitted["in_sample"])

