"""One pipeline: what `python -m evaluation` scores is what `python -m retrieval ask` answers.

The evaluation runner, the CLI and the product's retrievers (dense with window rescoring, BM25,
hybrid) are asked the same questions on the same real index and must rank the same passages in
the same order.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaluation.gold import load_gold
from evaluation.runner import KNOWN, beir_retrievers, evaluate_gold
from retrieval.answer.assistant import Assistant
from retrieval.search.base import Where
from retrieval.search.windows import WindowedDense
from retrieval.text.places import named_municipalities
from tests.test_cli import ask

QUESTIONS = ["g001", "g010", "g030", "g050", "g070"]


@pytest.fixture(scope="module")
def gold() -> list:  # type: ignore[type-arg]
    by_id = {q.id: q for q in load_gold()}
    return [by_id[i] for i in QUESTIONS if i in by_id]


def test_evaluation_and_ask_rank_the_same_passages(
    assistant: Assistant, full_index: Path, gold: list  # type: ignore[type-arg]
) -> None:
    assert len(gold) == len(QUESTIONS)
    records = evaluate_gold(assistant, gold, KNOWN, k=5)
    stdin = "\n".join(q.question for q in gold) + "\n"
    result = ask(full_index, "-", "--json", "--k", "5", "--retriever", "hybrid", stdin=stdin)
    assert result.returncode == 0, result.stderr
    cli = [[h["passage_id"] for h in json.loads(line)["hits"]]
           for line in result.stdout.splitlines()]
    assert [list(r.passage_ids) for r in records if r.retriever == "hybrid"] == cli
    for name in KNOWN:  # the CLI's other retrievers are the same objects, asked in-process
        scored = [list(r.passage_ids) for r in records if r.retriever == name]
        assert scored == [[h.passage.id for h in assistant.ask(q.question, 5, name).hits]
                          for q in gold], name
        for q, ids in zip(gold, scored, strict=True):
            where = Where.of(named_municipalities(q.question))
            direct = assistant.retrievers[name].search(q.question, 5, where)
            assert [h.passage.id for h in direct] == ids, (name, q.id)


def test_beir_scores_the_products_retrievers(assistant: Assistant) -> None:
    """A BEIR run indexes its own passages, but with the very retrievers that answer citizens:
    indexed on the embedded corpus, they rank exactly as the app's do."""
    passages = list(assistant.passages)
    built = {name: r for name, r, _ in beir_retrievers(list(KNOWN), passages)}
    assert isinstance(built["dense"], WindowedDense)
    question = "Hvad er visionen for psykiatri og handicap?"
    for name in KNOWN:
        ours = [h.passage.id for h in built[name].search(question, 10)]
        product = [h.passage.id for h in assistant.retrievers[name].search(question, 10)]
        assert ours == product, name


def test_ask_kind_filters_inside_the_search(assistant: Assistant, full_index: Path) -> None:
    budgets = {p.id for p in assistant.passages if p.kind == "budget"}
    result = ask(full_index, "--json", "--kind", "budget", "--k", "5",
                 "Hvad bruger kommunen penge på?")
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)["hits"]
    # as deep as asked (or every budget passage there is), not a post-filtered handful
    assert len(hits) == min(5, len(budgets))
    assert {h["passage_id"] for h in hits} <= budgets


def test_a_town_filter_searches_as_if_the_question_named_it(assistant: Assistant) -> None:
    """The app's filter, Sammenlign and `--municipality`: the town is part of what is asked,
    so the answer and the decision are those of the question that names it."""
    chosen = assistant.ask("Hvor mange penge bruger socialudvalget på demokrati?",
                           municipality="Sønderborg")
    named = assistant.ask("Hvor mange penge bruger socialudvalget på demokrati i Sønderborg?")
    assert [h.passage.id for h in chosen.hits] == [h.passage.id for h in named.hits]
    assert chosen.answered == named.answered
    assert chosen.question == "Hvor mange penge bruger socialudvalget på demokrati?"
