"""Evaluation tier: gold set, BEIR loader, ranx metrics against hand-computed values, TREC files
checked by an independent plain-Python computation, and the `python -m evaluation` CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from evaluation.beir import BeirError, load_beir
from evaluation.cli import main
from evaluation.compare import compare_retrievers
from evaluation.gold import GOLD, GoldError, check_spans, gold_qrels, load_gold, relevant_ids
from evaluation.metrics import METRICS, Abstention, latency_percentiles, retrieval_scores, summarise
from evaluation.records import Evaluation, QueryRecord
from evaluation.report import write_report
from evaluation.trec import read_qrels, read_run, strictly_decreasing, write_qrels, write_run
from retrieval.ingest.corpus import load_corpus
from retrieval.text.chunking import chunk_corpus

ROOT = Path(__file__).parent.parent
SEED_DOCUMENTS = {
    "sonderborg-budget-2017",
    "koebenhavn-grundlag-2014-2017",
    "silkeborg-arbejdsgrundlag-2022-2025",
    "hoeje-taastrup-plan-voksne-2014-2020",
    "sonderborg-socialpolitik-2021-2024",
}
SHARED_EVAL = Path("/work/shared/eval")
KEYS = {*METRICS, "latency_p50_ms", "latency_p95_ms", "seconds"}


# -- gold set ------------------------------------------------------------------------------
def test_gold_set_schema_and_every_span_is_in_its_document() -> None:
    questions = load_gold(GOLD)
    answerable = [q for q in questions if q.answerable]
    assert len(questions) >= 80
    assert len(questions) - len(answerable) >= 15
    assert sum(q.type == "english" for q in questions) >= 5
    assert {"fact", "goal", "why", "paraphrase", "keyword"} <= {q.type for q in questions}
    documents = load_corpus(ROOT / "corpus").documents
    # The gold set was written for the five seed documents, before the multi-town excerpts;
    # evaluation/data/towns.jsonl covers every document of today's corpus.
    assert {q.document_id for q in answerable} == SEED_DOCUMENTS
    assert {d.id for d in documents} >= SEED_DOCUMENTS
    assert check_spans(questions, {d.id: d.text for d in documents}) == []
    # Today's chunking keeps every span inside some passage, so no question is unreachable.
    passages = chunk_corpus(documents)
    assert [q.id for q in answerable if not relevant_ids(q, passages)] == []
    assert len(set(q.question.casefold() for q in questions)) == len(questions)


def test_relevance_follows_the_span_not_the_chunking(tmp_path: Path) -> None:
    corpus = load_corpus(ROOT / "corpus")
    q = next(q for q in load_gold(GOLD) if q.answer == "79.000 kroner")
    passages = chunk_corpus(corpus.documents)
    relevant = relevant_ids(q, passages)
    assert relevant and all("79.000 kroner" in p.text for p in passages if p.id in relevant)
    qrels = gold_qrels([q], passages[:1] if relevant[0] != passages[0].id else passages[1:2])
    assert list(qrels[q.id]) == ["__no_passage_contains_the_answer_span__"]


def test_gold_loader_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "gold.jsonl"
    good = {"id": "g1", "question": "Hvad koster det?", "answerable": False, "type": "unanswerable"}
    path.write_text(json.dumps(good) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(GoldError, match=r"gold.jsonl:2: not valid JSON"):
        load_gold(path)
    bad = {"id": "g2", "question": "Hvem er formand?", "answerable": True, "type": "fact"}
    path.write_text(json.dumps(bad, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(GoldError, match=r":1: .*needs 'document_id' and 'answer'"):
        load_gold(path)


# -- BEIR ----------------------------------------------------------------------------------
def _tiny_beir(folder: Path) -> Path:
    corpus = [
        ("d1", "Ærø", "Ærø er en ø i Østersøen med færgeforbindelse til Svendborg."),
        ("d2", "Søndergade", "Søndergade i Åbybro har en bager og en købmand."),
        ("d3", "Frikadeller", "Frikadeller steges på panden i smør og serveres med kartofler."),
        ("d4", "Bølgeenergi", "Bølgeenergi omdanner havets bølger til elektricitet."),
    ]
    queries = [("q1", "Hvilken færge sejler til Ærø?"), ("q2", "Hvordan steger man frikadeller"),
               ("q3", "bager i Åbybro"), ("q4", "et spørgsmål uden vurdering")]
    (folder / "qrels").mkdir(parents=True)
    with (folder / "corpus.jsonl").open("w", encoding="utf-8") as f:
        for pid, title, text in corpus:
            row = {"_id": pid, "title": title, "text": text}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    with (folder / "queries.jsonl").open("w", encoding="utf-8") as f:
        for qid, text in queries:
            f.write(json.dumps({"_id": qid, "text": text}, ensure_ascii=False) + "\n")
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td3\t1\nq3\td2\t1\nq3\td4\t0\n",
        encoding="utf-8",
    )
    return folder


def test_beir_loader_reads_passages_queries_and_qrels(tmp_path: Path) -> None:
    beir = load_beir(_tiny_beir(tmp_path / "mini_da"))
    assert beir.name == "mini_da"
    assert [p.id for p in beir.passages] == ["d1", "d2", "d3", "d4"]
    p = beir.passages[0]
    assert (p.document_id, p.position, p.title) == ("d1", 0, "Ærø")
    assert (p.municipality, p.committee, p.text.startswith("Ærø er")) == ("", "", True)
    assert list(beir.queries) == ["q1", "q2", "q3"]  # q4 has no qrels, so it is not judged
    assert beir.qrels["q3"] == {"d2": 1, "d4": 0}
    assert list(beir.limited(2).queries) == ["q1", "q2"]


def test_beir_loader_errors_name_the_file_and_line(tmp_path: Path) -> None:
    folder = _tiny_beir(tmp_path / "b")
    (folder / "qrels" / "test.tsv").rename(folder / "qrels" / "dev.tsv")
    with pytest.raises(BeirError, match=r"test.tsv not found; this folder has \['dev.tsv'\]"):
        load_beir(folder)
    assert list(load_beir(folder, split="dev").queries) == ["q1", "q2", "q3"]
    with (folder / "corpus.jsonl").open("a", encoding="utf-8") as f:
        f.write('{"_id": "d5", "title": "uden tekst"}\n')
    with pytest.raises(BeirError, match=r"corpus.jsonl:5: each line needs .*'_id' and 'text'"):
        load_beir(folder, split="dev")
    (folder / "corpus.jsonl").unlink()
    with pytest.raises(BeirError, match=r"corpus.jsonl not found"):
        load_beir(folder, split="dev")


# -- metrics -------------------------------------------------------------------------------
def test_ranx_metrics_match_hand_computed_values() -> None:
    qrels = {"q1": {"a": 1}, "q2": {"b": 1, "c": 1}}
    scores = retrieval_scores(qrels, {"q1": ["a", "x"], "q2": ["x", "b", "y"]})
    assert scores.aggregated["MRR@10"] == pytest.approx(0.75)  # ranks 1 and 2
    assert scores.aggregated["Hit@1"] == pytest.approx(0.5)
    assert scores.aggregated["Hit@5"] == pytest.approx(1.0)
    assert scores.per_query["Recall@5"] == pytest.approx({"q1": 1.0, "q2": 0.5})
    ndcg_q2 = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert scores.per_query["nDCG@10"] == pytest.approx({"q1": 1.0, "q2": ndcg_q2})


def test_a_judged_query_the_run_never_returned_scores_zero() -> None:
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}, "q3": {"c": 1}}
    scores = retrieval_scores(qrels, {"q1": ["a"], "q2": ["x", "b"]})
    assert scores.per_query["MRR@10"] == pytest.approx({"q1": 1.0, "q2": 0.5, "q3": 0.0})
    assert scores.aggregated["MRR@10"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="unknown metric 'P@3'"):
        retrieval_scores(qrels, {}, metrics=["P@3"])
    # a run that returned nothing at all (a corpus without the questions' towns) scores zero
    nothing = retrieval_scores(qrels, {"q1": []})
    assert nothing.aggregated["MRR@10"] == 0.0 and nothing.per_query["Hit@5"]["q3"] == 0.0


def test_significance_pairs_retrievers_and_identical_rankings_give_p_one() -> None:
    qrels = {f"q{i}": {"a": 1} for i in range(6)}
    records = []
    for i in range(6):
        records.append(QueryRecord(f"q{i}", "dense", "x", ("a", "b"), (2.0, 1.0), ("a",), 1.0))
        records.append(QueryRecord(f"q{i}", "bm25", "x", ("a", "b") if i < 3 else ("b", "a"),
                                   (2.0, 1.0), ("a",), 1.0))
    comparison = compare_retrievers(Evaluation("mini", "beir", 10, tuple(records), qrels))
    assert comparison.p_values[("dense", "bm25")]["Hit@5"] == 1.0  # identical: no NaN
    assert comparison.win_tie_loss[("dense", "bm25")]["Hit@1"] == (3, 3, 0)
    assert comparison.means["bm25"]["MRR@10"] == pytest.approx(0.75)


def _record(qid: str, answered: bool, answerable: bool, ms: float = 1.0) -> QueryRecord:
    return QueryRecord(qid, "dense", "spørgsmål", ("p1",), (0.9,), ("p1",) if answerable else (),
                       ms, answered=answered, answerable=answerable)


def test_abstention_and_latency_by_hand() -> None:
    # 2 right abstentions, 1 wrong abstention, 1 missed abstention, 2 right answers.
    records = [_record("a", False, False), _record("b", False, False), _record("c", False, True),
               _record("d", True, False), _record("e", True, True), _record("f", True, True)]
    a = Abstention.of(records)
    assert (a.precision, a.recall) == (pytest.approx(2 / 3), pytest.approx(2 / 3))
    assert a.f1 == pytest.approx(2 / 3)
    assert Abstention.of([_record("x", True, True)]).precision == 0.0  # never abstains
    p50, p95 = latency_percentiles([_record(str(i), True, True, float(i)) for i in range(1, 101)])
    assert (p50, p95) == (pytest.approx(50.5), pytest.approx(95.05))


# -- TREC files and the independent check --------------------------------------------------
def independent_scores(run_path: Path, qrels_path: Path) -> dict[str, float]:
    """nDCG@10 and MRR@10 in plain Python from TREC files, sorting by score as trec_eval does."""
    qrels: dict[str, dict[str, int]] = {}
    for line in qrels_path.read_text(encoding="utf-8").splitlines():
        qid, _, doc, rel = line.split()
        qrels.setdefault(qid, {})[doc] = int(rel)
    ranked: dict[str, list[tuple[float, str]]] = {}
    for line in run_path.read_text(encoding="utf-8").splitlines():
        qid, _, doc, _rank, score, _tag = line.split()
        ranked.setdefault(qid, []).append((float(score), doc))
    ndcg = rr = 0.0
    for qid, rels in qrels.items():
        docs = [d for _, d in sorted(ranked.get(qid, []), key=lambda x: -x[0])][:10]
        dcg = sum(rels.get(d, 0) / math.log2(i + 2) for i, d in enumerate(docs))
        ideal = sorted((r for r in rels.values() if r > 0), reverse=True)[:10]
        ndcg += dcg / sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
        rr += next((1 / (i + 1) for i, d in enumerate(docs) if rels.get(d, 0) > 0), 0.0)
    return {"nDCG@10": ndcg / len(qrels), "MRR@10": rr / len(qrels)}


def test_trec_round_trip_and_independent_recomputation(tmp_path: Path) -> None:
    records = (
        QueryRecord("q1", "bm25", "a", ("x", "a", "y"), (2.0, 2.0, 1.0), ("a",), 1.0),  # a tie
        QueryRecord("q2", "bm25", "b", ("b", "c"), (3.5, 0.25), ("b", "c"), 1.0),
        QueryRecord("q3", "bm25", "c", (), (), ("z",), 1.0),  # judged, nothing returned
    )
    qrels = {"q1": {"a": 1}, "q2": {"b": 1, "c": 1}, "q3": {"z": 1}}
    evaluation = Evaluation("mini", "beir", 10, records, qrels)
    run_path = write_run(tmp_path / "bm25.trec", records, "bm25")
    qrels_path = write_qrels(tmp_path / "qrels.trec", qrels)
    lines = read_run(run_path)
    assert [(x.query_id, x.doc_id, x.rank) for x in lines] == [
        ("q1", "x", 1), ("q1", "a", 2), ("q1", "y", 3), ("q2", "b", 1), ("q2", "c", 2)]
    assert lines[0].score == 2.0 and 1.0 < lines[1].score < 2.0  # the tie kept in rank order
    assert read_qrels(qrels_path) == qrels
    table = summarise(evaluation)["bm25"]
    assert table["MRR@10"] == pytest.approx((0.5 + 1 + 0) / 3, abs=1e-12)
    for metric, value in independent_scores(run_path, qrels_path).items():
        assert abs(table[metric] - value) < 1e-6, metric
    nudged = strictly_decreasing([3.0, 3.0, 3.0, 1.0])
    assert nudged[0] == 3.0 and nudged[3] == 1.0  # only ties move
    assert nudged[0] > nudged[1] > nudged[2] > nudged[3]  # a strict order trec_eval keeps
    assert nudged[1] == math.nextafter(3.0, 0.0) and 3.0 - nudged[2] < 1e-12  # by one float
    assert strictly_decreasing([2.0, 1.5, 1.0]) == [2.0, 1.5, 1.0]


def test_gold_report_has_abstention_types_misses_and_plots(tmp_path: Path) -> None:
    def rec(qid: str, name: str, ids: tuple[str, ...], answered: bool = True,
            answerable: bool = True) -> QueryRecord:
        scores = tuple(0.9 - 0.01 * i for i in range(len(ids)))
        return QueryRecord(qid, name, f"spørgsmål {qid} om æøå", ids, scores,
                           ("p1",) if answerable else (), 12.0, answered, answerable)

    records = (
        rec("g1", "dense", ("p1", "p2")), rec("g2", "dense", ("p3", "p4", "p5", "p6", "p7", "p1")),
        rec("g3", "dense", ("p2",), answered=False, answerable=False),
        rec("g1", "bm25", ("p2", "p1")), rec("g2", "bm25", ("p1",)),
        rec("g3", "bm25", ("p2",), answered=True, answerable=False),
    )
    evaluation = Evaluation(
        "gold", "gold", 10, records, {"g1": {"p1": 1}, "g2": {"p1": 1}},
        texts={f"p{i}": f"Uddrag {i} om Sønderborgs budget" for i in range(1, 8)},
        seconds={"dense": 1.0, "bm25": 0.5},
        groups={"g1": "fact", "g2": "why", "g3": "unanswerable"},
    )
    folder = write_report(evaluation, tmp_path)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["retrievers"]["dense"]["abstention_f1"] == 1.0
    assert summary["retrievers"]["bm25"]["abstention_recall"] == 0.0
    assert summary["retrievers"]["dense"]["MRR@10"] == pytest.approx((1 + 1 / 6) / 2)
    md = (folder / "report.md").read_text(encoding="utf-8")
    assert "## By question type" in md and "| why | 1 |" in md
    assert "| g2 | dense | 6 | p3 | Uddrag 3 om Sønderborgs budget |" in md
    assert (folder / "scores.png").stat().st_size > 0
    assert (tmp_path / "latest" / "report.html").is_file()


# -- CLI -----------------------------------------------------------------------------------
def test_cli_run_json_on_a_beir_folder_with_bm25(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                 ) -> None:
    folder = _tiny_beir(tmp_path / "mini_da")
    out = tmp_path / "reports"
    assert main(["run", "--beir", str(folder), "--retriever", "bm25", "--json",
                 "--out", str(out)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["dataset"] == "mini_da" and result["queries"] == 3
    assert set(result["retrievers"]) == {"bm25"}
    row = result["retrievers"]["bm25"]
    assert set(row) >= KEYS and not any(k.startswith("abstention") for k in row)
    assert all(0.0 <= row[m] <= 1.0 for m in METRICS)
    latest = out / "latest"
    for name in ("report.md", "report.html", "metrics.png", "summary.json", "records.jsonl",
                 "qrels.trec", "runs/bm25.trec", "misses.tsv"):
        assert (latest / name).is_file(), name
    assert "| bm25 |" in (latest / "report.md").read_text(encoding="utf-8")
    for metric, value in independent_scores(latest / "runs" / "bm25.trec",
                                            latest / "qrels.trec").items():
        assert abs(row[metric] - value) < 1e-6, metric

    assert main(["compare", str(latest), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["retrievers"]["bm25"]["nDCG@10"] == pytest.approx(row["nDCG@10"], abs=1e-12)


def test_cli_errors_name_the_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--beir", str(tmp_path / "missing"), "--retriever", "bm25",
                 "--json"]) == 1
    assert "is not a folder" in json.loads(capsys.readouterr().out)["error"]
    folder = _tiny_beir(tmp_path / "b")
    assert main(["run", "--beir", str(folder), "--retriever", "tfidf", "--out", ""]) == 1
    assert "unknown retriever(s) ['tfidf']" in capsys.readouterr().err
    assert main(["run", "--beir", str(folder), "--k", "0", "--out", ""]) == 1
    assert "--k must be at least 1" in capsys.readouterr().err


# -- slow: the real model ------------------------------------------------------------------
@pytest.mark.slow
def test_cli_all_retrievers_on_a_beir_folder_agree_with_the_exported_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _tiny_beir(tmp_path / "mini_da")
    assert main(["run", "--beir", str(folder), "--retriever", "all", "--json",
                 "--out", str(tmp_path / "r")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert "dense" in result["retrievers"]
    for name, row in result["retrievers"].items():
        assert row["Hit@5"] == 1.0, name  # three unambiguous questions
        found = independent_scores(tmp_path / "r" / "latest" / "runs" / f"{name}.trec",
                                   tmp_path / "r" / "latest" / "qrels.trec")
        for metric, value in found.items():
            assert abs(row[metric] - value) < 1e-6, (name, metric)


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED_EVAL / "xquad_da").is_dir(), reason="shared BEIR sets not here")
def test_xquad_bm25_from_exported_files_agrees(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--beir", str(SHARED_EVAL / "xquad_da"), "--retriever", "bm25",
                 "--json", "--out", str(tmp_path)]) == 0
    row = json.loads(capsys.readouterr().out)["retrievers"]["bm25"]
    assert row["nDCG@10"] > 0.9  # SOURCE.md's BM25 baseline is 0.94
    found = independent_scores(tmp_path / "latest" / "runs" / "bm25.trec",
                               tmp_path / "latest" / "qrels.trec")
    for metric, value in found.items():
        assert abs(row[metric] - value) < 1e-6, metric


@pytest.mark.slow
def test_gold_run_through_the_product_keeps_per_query_records(full_index: Path) -> None:
    """On the test session's index of the embedded corpus (`--index`: a build saved)."""
    from evaluation.runner import run_gold

    questions = load_gold(GOLD)
    sample = [q for q in questions if q.answerable][:6] + [q for q in questions
                                                           if not q.answerable][:2]
    evaluation = run_gold(sample, "all", k=10, corpus_dir=ROOT / "corpus", index_dir=full_index)
    assert evaluation.index_seconds == {}  # nothing built, so no build time is reported
    assert "dense" in evaluation.retrievers
    assert len(evaluation.records) == len(sample) * len(evaluation.retrievers)
    table = summarise(evaluation)
    assert {"abstention_precision", "abstention_recall", "abstention_f1"} <= set(table["dense"])
    assert table["dense"]["Hit@5"] >= 0.8
    record = evaluation.of("dense")[0]
    assert record.passage_ids and record.relevant and record.latency_ms > 0


TOWNS = ROOT / "evaluation" / "data" / "towns.jsonl"
STYLES = {"full", "lowercase", "keywords", "no_town", "misspelled", "english"}


def test_towns_set_covers_every_document_with_spans_inside_one_passage() -> None:
    """The multi-town set: every document asked about, spans verbatim and never across passages."""
    questions = load_gold(TOWNS)
    answerable = [q for q in questions if q.answerable]
    assert len(answerable) >= 200 and len(questions) - len(answerable) >= 80
    corpus = load_corpus(ROOT / "corpus")
    documents = corpus.documents
    per_document = {d.id: sum(q.document_id == d.id for q in answerable) for d in documents}
    assert min(per_document.values()) >= 6, per_document
    assert check_spans(questions, {d.id: d.text for d in documents}) == []
    passages = chunk_corpus(documents)
    assert [q.id for q in answerable if not relevant_ids(q, passages)] == []
    towns = {d.municipality for d in documents}
    assert {q.municipality for q in questions} == towns
    assert all(q.municipality in towns for q in questions if not q.answerable)
    assert len({q.question.casefold() for q in questions}) == len(questions)
    gold_wording = {q.question.casefold() for q in load_gold(GOLD)}
    assert not gold_wording & {q.question.casefold() for q in questions}
    styles = [json.loads(line)["style"] for line in TOWNS.read_text("utf-8").splitlines()]
    assert set(styles) == STYLES
