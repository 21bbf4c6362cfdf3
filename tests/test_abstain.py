"""The abstention rule and its calibration: fitted on real evidence from the real corpus.

`fit` promises two things the product relies on (retrieval/abstain.py, README "Abstention"):
the fitted score separates answerable from unanswerable questions, and the threshold is raised
until every training unanswerable question abstains (or lets an allowed share through).
`python -m evaluation crossval --write` fits the rule the product loads, on every town, and
stores the figures it was fitted to.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from evaluation.crossval import SHARES
from evaluation.gold import GOLD
from evaluation.trust import TOWNS
from evaluation.trust import main as crossval
from retrieval.answer.abstain import FEATURES as ALL_FEATURES
from retrieval.answer.abstain import Abstainer, Evidence, evaluate, fit, fit_shares
from retrieval.answer.assistant import Assistant

FEATURES = ("dense_top", "known", "foreign")  # few signals: 30-odd questions can fit them


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


def test_one_regression_serves_every_share(real: tuple[list[Evidence], list[bool]]) -> None:
    """Cross-validation chooses the share from one fit per fold: the same rules as fitting
    each share on its own."""
    evidence, labels = real
    shares = (0.0, 0.1, 0.25)
    many = fit_shares(evidence, labels, FEATURES, shares)
    for share in shares:
        one = fit(evidence, labels, FEATURES, allowed_wrong=share)
        assert many[share].weights == pytest.approx(one.weights)
        assert many[share].bias == pytest.approx(one.bias)


@pytest.mark.slow
def test_a_role_asked_for_must_stand_next_to_a_name_in_what_we_cite(assistant: Assistant
                                                                    ) -> None:
    """Through the product: Sønderborg's documents name the chair of the Social- og
    Seniorudvalg and the head of Psykiatri og Handicap, not the chair of its Handicapråd."""
    refused = assistant.evidence("Hvem er formand for Handicaprådet i Sønderborg?")
    assert refused is not None and refused.head_missing and refused.refused
    assert not assistant.ask("Hvem er formand for Handicaprådet i Sønderborg?").answered
    named = assistant.evidence("Hvem er formand for Social- og Seniorudvalget i Sønderborg?")
    assert named is not None and not named.head_missing


@pytest.mark.slow
@pytest.mark.parametrize(("question", "rule"), [
    # the budget passage holds amounts, none of them for a place on a botilbud (t233)
    ("Hvad koster en plads på et botilbud i Sønderborg om måneden?", "topic_missing"),
    # no word of it is in any document (g090)
    ("Hvordan bliver vejret i morgen i Silkeborg?", "words_unknown"),
])
def test_a_question_about_what_the_passage_never_mentions_is_refused(
        assistant: Assistant, question: str, rule: str) -> None:
    evidence = assistant.evidence(question)
    assert evidence is not None and getattr(evidence, rule) and evidence.refused
    assert not assistant.ask(question).answered
    # the same kind of question on what the document does say passes both rules
    asked_right = assistant.evidence("Hvor mange penge bruger Socialudvalget i Sønderborg på "
                                     "demokrati?")
    assert asked_right is not None and not asked_right.refused


def test_a_rule_with_an_unknown_feature_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown abstention feature"):
        Abstainer({"dense_tpo": 1.0}, 0.0)


@pytest.mark.slow
def test_crossval_writes_the_rule_the_product_loads(
    tmp_path: Path, full_index: Path, assistant: Assistant, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m evaluation crossval --write` on six towns' questions, over the test session's
    index of the embedded corpus: the written rule, as the product loads it, answers and
    abstains on those questions exactly as the figures stored with it say."""
    rows = [json.loads(line) for line in TOWNS.read_text("utf-8").splitlines() if line]
    towns = list(dict.fromkeys(r["municipality"] for r in rows))[:6]
    chosen = [r for r in rows if r["municipality"] in towns]
    questions = tmp_path / "questions.jsonl"
    questions.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in chosen),
                         "utf-8")
    written = tmp_path / "abstention.json"
    args = ["--questions", str(questions), "--corpus", "corpus", "--index", str(full_index),
            "--folds", "3", "--repeats", "1"]
    assert crossval([*args, "--write", str(written)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["towns"] == 6 and report["held_out_towns"]["answerable"] > 0
    # the threshold's share, chosen on training towns only: one per fold, and one for the rule
    assert len(report["held_out_towns"]["shares_chosen"]) == 3
    assert set(report["held_out_towns"]["shares_chosen"]) <= set(SHARES)
    assert report["allowed_wrong_fitted"] in SHARES
    data = json.loads(written.read_text("utf-8"))
    assert set(data["weights"]) == set(ALL_FEATURES)
    fitted = data["fitted_on"]
    assert fitted["in_sample"] == report["in_sample"] and fitted["folds"] == 3
    rule = Abstainer(data["weights"], float(data["bias"]), fitted)
    wrong_answers, wrong_abstentions = [], []
    for r in chosen:
        e = assistant.evidence(r["question"])
        answered = e is not None and rule.answers(e)
        if answered != r["answerable"]:
            (wrong_answers if answered else wrong_abstentions).append(r["id"])
    assert wrong_answers == fitted["in_sample"]["wrong_answers"]
    assert wrong_abstentions == fitted["in_sample"]["wrong_abstentions"]


def test_crossval_refuses_an_index_of_another_corpus(
    mini_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert crossval(["--questions", str(GOLD), "--corpus", "corpus",
                     "--index", str(mini_index)]) == 1  # fmt: skip
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "python -m retrieval" in err and "Traceback" not in err
