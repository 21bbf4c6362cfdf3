"""The index folder: real FAISS files built, reloaded, and refused when they do not match."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from retrieval.answer.assistant import Assistant
from retrieval.indexing.build import build
from retrieval.indexing.figures import FIGURES_FILE
from retrieval.indexing.status import is_current
from retrieval.indexing.store import (
    BM25_DIR,
    FAISS_FILE,
    FORMAT_VERSION,
    MANIFEST_FILE,
    PASSAGES_FILE,
    IndexUnusable,
    load_index,
    read_manifest,
)
from retrieval.search.base import Where
from tests.conftest import FIXTURE_CORPUS


def _copy(index: Path, tmp_path: Path) -> Path:
    target = tmp_path / "index"
    shutil.copytree(index, target)
    return target


def test_build_writes_named_files_and_a_complete_manifest(mini_index: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    assert sorted(p.name for p in mini_index.iterdir()) == sorted([
        BM25_DIR,
        FIGURES_FILE,
        FAISS_FILE,
        MANIFEST_FILE,
        PASSAGES_FILE,
        "sentence_starts.npy",
        "sentences.npy",
        "window_starts.npy",
        "windows.npy",
    ])
    manifest = read_manifest(mini_index)
    assert manifest["model"] == embedder.model_id
    assert manifest["dimension"] == 384
    assert manifest["format_version"] == FORMAT_VERSION == 5
    assert manifest["index_type"] == "flat"
    assert manifest["faiss_class"] == "IndexIDMap2(IndexFlatIP)"
    assert manifest["documents"] == 2
    assert sorted(manifest["sources"]) == ["aaby-budget-2024", "oelund-plan-2023-2026"]
    assert sum(r["passages"] for r in manifest["sources"].values()) == manifest["passages"]
    assert {f"{BM25_DIR}/words.json", f"{BM25_DIR}/counts.data.npy", FAISS_FILE, PASSAGES_FILE,
            FIGURES_FILE, "sentences.npy",
            "sentence_starts.npy", "windows.npy", "window_starts.npy"} <= set(manifest["files"])
    assert len(manifest["corpus_hash"]) == 16
    lines = (mini_index / PASSAGES_FILE).read_text(encoding="utf-8").splitlines()
    assert len(lines) == manifest["passages"]
    assert "Åse Ørsted" in "".join(lines)  # Danish letters stay readable on disk
    assert not list(mini_index.parent.glob(".index-tmp-*"))


def test_stored_vectors_are_the_models_normalised_passage_vectors(
    mini_index: Path, embedder
) -> None:  # type: ignore[no-untyped-def]
    from retrieval.text.chunking import embed_text

    stored = load_index(mini_index)
    vectors = stored.faiss_index.reconstruct_n(0, stored.faiss_index.ntotal)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    fresh = embedder.encode_passages([embed_text(stored.passages[0])])[0]
    assert float(fresh @ vectors[0]) > 0.9999


def test_rebuild_of_an_unchanged_corpus_is_skipped_and_a_changed_one_is_not(
    mini_index: Path, tmp_path: Path
) -> None:
    assert is_current(mini_index, FIXTURE_CORPUS)
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    assert is_current(mini_index, corpus)
    doc = corpus / "aaby-budget.txt"
    doc.write_text(doc.read_text(encoding="utf-8") + "\nEn ny sætning om budgettet.\n", "utf-8")
    assert not is_current(mini_index, corpus)


def test_index_built_from_another_corpus_version_is_refused(
    mini_index: Path, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    manifest = corpus / "documents.toml"
    manifest.write_text(manifest.read_text("utf-8").replace("2024-01-15", "2024-01-16"), "utf-8")
    with pytest.raises(
        IndexUnusable, match=r"another version of the corpus.*python -m retrieval build"
    ):
        Assistant.load(mini_index, corpus_dir=corpus)


def test_index_built_with_another_model_is_refused(mini_index: Path, tmp_path: Path) -> None:
    index = _copy(mini_index, tmp_path)
    manifest = json.loads((index / MANIFEST_FILE).read_text("utf-8"))
    manifest["model"] = "some/other-model"
    (index / MANIFEST_FILE).write_text(json.dumps(manifest), "utf-8")
    wanted = r"built with model 'some/other-model'.*retrieval build"
    with pytest.raises(IndexUnusable, match=wanted):
        Assistant.load(index)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: shutil.rmtree(d), "no index at"),
        (lambda d: (d / MANIFEST_FILE).unlink(), "manifest.json is missing"),
        (lambda d: (d / FAISS_FILE).write_bytes((d / FAISS_FILE).read_bytes()[:100]), "damaged"),
        (
            lambda d: (d / PASSAGES_FILE).write_text(
                "\n".join((d / PASSAGES_FILE).read_text("utf-8").splitlines()[:-1]) + "\n", "utf-8"
            ),
            "damaged",
        ),
        (lambda d: (d / MANIFEST_FILE).write_text("{not json", "utf-8"), "not valid JSON"),
    ],
)
def test_broken_index_gets_a_clear_message_naming_the_fix(
    mini_index: Path,
    tmp_path: Path,
    damage,
    message: str,  # type: ignore[no-untyped-def]
) -> None:
    index = _copy(mini_index, tmp_path)
    damage(index)
    with pytest.raises(IndexUnusable, match=message) as info:
        load_index(index)
    assert "python -m retrieval build" in str(info.value)


def test_passages_out_of_step_with_vectors_are_refused_even_with_fixed_checksums(
    mini_index: Path, tmp_path: Path
) -> None:
    from retrieval.indexing.folder import sha256

    index = _copy(mini_index, tmp_path)
    lines = (index / PASSAGES_FILE).read_text("utf-8").splitlines()
    (index / PASSAGES_FILE).write_text("\n".join(lines[:-1]) + "\n", "utf-8")
    manifest = json.loads((index / MANIFEST_FILE).read_text("utf-8"))
    manifest["files"][PASSAGES_FILE] = sha256(index / PASSAGES_FILE)
    manifest["sizes"][PASSAGES_FILE] = (index / PASSAGES_FILE).stat().st_size
    (index / MANIFEST_FILE).write_text(json.dumps(manifest), "utf-8")
    with pytest.raises(IndexUnusable, match="out of step"):
        load_index(index)


def test_interrupted_swap_leaves_the_previous_index_loadable(
    mini_index: Path, tmp_path: Path
) -> None:
    index = _copy(mini_index, tmp_path)
    # The state a crash between the two renames of a rebuild leaves behind.
    index.rename(tmp_path / "index.old")
    stored = load_index(index)
    assert len(stored.passages) == read_manifest(index)["passages"]


def test_a_failed_build_keeps_the_old_index(mini_index: Path, tmp_path: Path) -> None:
    index = _copy(mini_index, tmp_path)
    before = (index / MANIFEST_FILE).read_text("utf-8")
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    (corpus / "aaby-budget.txt").unlink()
    with pytest.raises(Exception, match=r"aaby-budget\.txt"):
        build(corpus, index, show_progress=False)
    assert (index / MANIFEST_FILE).read_text("utf-8") == before
    load_index(index)


def _renumbered(hits: list, keep) -> list:  # type: ignore[type-arg,no-untyped-def]
    from dataclasses import replace

    return [replace(h, rank=r) for r, h in enumerate([h for h in hits if keep(h)], 1)]


@pytest.mark.parametrize("town", ["Sønderborg", "København", "Høje-Taastrup"])
def test_a_town_filter_inside_the_search_equals_filtering_a_full_search(
    assistant: Assistant, town: str
) -> None:
    """FAISS IDSelector and the BM25 mask return what a search of everything, filtered
    afterwards, returns: the same passages, scores and order."""
    question = "Hvad gør kommunen for hjemløse og udsatte borgere?"
    everything = len(assistant.passages)
    in_town = lambda h: h.passage.municipality == town  # noqa: E731
    n = sum(1 for p in assistant.passages if p.municipality == town)
    assert 0 < n < everything
    where = Where.of([town])
    dense = assistant.dense.search(question, n, where)
    assert dense == _renumbered(assistant.dense.search(question, everything), in_town)
    lexical = assistant.lexical.search(question, n, where)
    assert lexical == _renumbered(assistant.lexical.search(question, everything), in_town)
    assert lexical and all(in_town(h) for h in lexical)


@pytest.mark.parametrize("name", ["dense", "bm25", "hybrid"])
def test_a_document_type_filter_works_inside_every_retriever(
    assistant: Assistant, name: str
) -> None:
    """`ask --kind` and the app's filter: only that type comes back, as deep as asked, and
    with a town too, only that town's documents of that type."""
    retriever = assistant.retrievers[name]
    question = "Hvad er budgettet for det sociale område?"
    budget = retriever.search(question, 5, Where.of(kinds=["budget"]))
    assert budget and all(h.passage.kind == "budget" for h in budget)
    assert [h.rank for h in budget] == list(range(1, len(budget) + 1))
    both = retriever.search(question, 5, Where.of(["Silkeborg"], ["budget"]))
    assert both == []  # Silkeborg has no budget in the corpus, only its arbejdsgrundlag
    plans = retriever.search(question, 5, Where.of(["Silkeborg"], ["arbejdsgrundlag"]))
    assert plans and {h.passage.municipality for h in plans} == {"Silkeborg"}


def test_a_town_filter_on_hnsw_is_exact(assistant: Assistant) -> None:
    """One town of many is a small subset: HNSW's graph walk would find few of its passages,
    so they are scored exactly (small and large subsets both checked against brute force)."""
    from retrieval.indexing.build import all_vectors, make_index
    from retrieval.indexing.vectors import searchable
    from retrieval.search.dense import filtered_search

    flat = assistant.dense.faiss_index
    vectors = np.asarray(flat.reconstruct_n(0, flat.ntotal), dtype=np.float32)
    keys = np.arange(len(vectors), dtype=np.int64) + 7
    hnsw = searchable(make_index("hnsw", keys, vectors))
    assert np.array_equal(all_vectors(make_index("hnsw", keys, vectors)), vectors)
    qv = assistant.dense.query_vector("Hvad koster hjemmeplejen?").reshape(1, -1)
    for allowed in (np.arange(0, len(vectors), 13), np.arange(0, len(vectors), 2)):
        k = min(10, len(allowed))
        exact = allowed[np.argsort(-(vectors[allowed] @ qv[0]), kind="stable")[:k]]
        _, ids = filtered_search(hnsw, qv, k, allowed)
        assert set(ids[0].tolist()) == set(exact.tolist())


def test_passage_lines_read_ids_and_towns_from_the_lines_and_parse_on_use(tmp_path: Path) -> None:
    """The shortcuts (ids, municipalities read from the raw line) agree with a full parse,
    including values with quotes and backslashes, which fall back to parsing."""
    from retrieval.indexing.passages import PassageLines
    from retrieval.types import Passage

    def passage(doc: str, n: int, town: str, text: str) -> Passage:
        return Passage(id=f"{doc}#{n:03d}", document_id=doc, position=n, text=text,
                       title="Plan", municipality=town, committee="Socialudvalget",
                       kind="plan", period="2024", date="", source="s")

    passages = [
        passage("åby-plan", 0, "Åby", 'Teksten nævner "municipality": "Aarhus" i citat.'),
        passage('rå"id', 1, "Ølund", "Backslash \\ og æøå."),
        passage("ølund", 2, 'Sankt "Hans"', "Tekst."),
    ]
    path = tmp_path / "passages.jsonl"
    path.write_bytes(b"".join(line + b"\n" for line in PassageLines.of(passages).lines))
    read = PassageLines.read(path)
    assert len(read) == 3
    assert read.heads() == ([p.id for p in passages], [p.document_id for p in passages])
    assert read.municipalities() == ["Åby", "Ølund", 'Sankt "Hans"']
    assert list(read) == passages and read[-1] == passages[2]
    both = read.taken(np.array([True, False, True])).__add__([passages[1]])
    assert list(both) == [passages[0], passages[2], passages[1]]
    with pytest.raises(IndexError):
        read[3]
    grown = read.taken(np.ones(3, dtype=bool)).__add__([passage("ny", 0, "Åby", "Ny tekst.")])
    again = tmp_path / "again"
    again.mkdir()
    # The file's lines kept as they are, the new one written as a segment of its own.
    assert grown.save(again, "passages.jsonl") == {"passages.jsonl": None,
                                                   "passages-1.jsonl": None}
    assert (again / "passages.jsonl").read_bytes() == path.read_bytes()
    assert (again / "passages-1.jsonl").read_bytes() == grown.lines[-1] + b"\n"
    both_files = [again / "passages.jsonl", again / "passages-1.jsonl"]
    assert list(PassageLines.read(both_files)) == [*passages, grown[3]]
    # A file whose checksum the manifest recorded is linked, not copied.
    digested = PassageLines.read(path, digests={"passages.jsonl": "abc"}).__add__([grown[3]])
    linked = tmp_path / "linked"
    linked.mkdir()
    assert digested.save(linked, "passages.jsonl")["passages.jsonl"] == "abc"
    assert (linked / "passages.jsonl").stat().st_ino == path.stat().st_ino
