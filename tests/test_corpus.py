"""Cleaning, chunking and manifest validation on a tiny fixture corpus and the embedded one."""

from __future__ import annotations

import itertools
import re
import shutil
from pathlib import Path

import pytest

from retrieval.ingest.cleaning import clean
from retrieval.ingest.corpus import load_corpus
from retrieval.ingest.files import CorpusError
from retrieval.text.chunking import MAX_WORDS, chunk_corpus, chunk_text, sentences

FIXTURE = Path(__file__).parent / "fixtures" / "mini_corpus"
CORPUS = Path(__file__).parent.parent / "corpus"


def test_web_chrome_and_address_footer_are_removed_but_contacts_kept() -> None:
    doc = load_corpus(FIXTURE).documents[0]
    for chrome in (
        "Skip til hovedindholdet",
        "Borger\n",
        "Søg",
        "Scroll til toppen",
        "CVR",
        "Rådhuspladsen 1",
        "9999 Åby",
    ):
        assert chrome not in doc.text
    assert doc.text.startswith("Socialudvalgets budget 2024")
    assert "Formand for Socialudvalget er Åse Ørsted." in doc.text
    assert "Ring til Borgerservice på tlf. 11 22 33 44." in doc.text
    assert "212,4 millioner kroner" in doc.text


def test_pdf_page_numbers_go_and_split_sentences_are_rejoined() -> None:
    doc = load_corpus(FIXTURE).documents[1]
    assert "og den skal evalueres hvert år." in doc.text
    assert "\n2 " not in doc.text and "\n3 " not in doc.text
    assert "Målet er, at 40 flere borgere får en fast bolig inden 2026." in doc.text
    for chrome in ("Save this PDF", "WORD", "Download", "Transkript"):
        assert chrome not in doc.text


def test_teasers_of_other_documents_are_removed() -> None:
    doc = load_corpus(FIXTURE).documents[1]
    assert "Nabokommunen" not in doc.text
    assert "Fjernby" not in doc.text
    assert "Læs mere" not in doc.text
    assert "Frivillige foreninger inddrages" in doc.text


def test_copenhagen_transcript_keeps_goals_and_drops_all_teasers() -> None:
    corpus = load_corpus(CORPUS)
    kbh = next(d for d in corpus.documents if d.municipality == "København")
    raw = (CORPUS / kbh.file).read_text(encoding="utf-8")
    assert raw.count("Læs mere") > 70
    assert "Læs mere" not in kbh.text
    # Teasers name other towns and other documents; none of that may remain.
    for foreign in (
        "Hvidovre",
        "Horsens",
        "Odsherred",
        "Fredensborg",
        "Faaborg-Midtfyn",
        "SocialStrategi 2018",
        "Mai Mercado",
    ):
        assert foreign not in kbh.text
    assert "165 flere udsatte københavnere får anvist en bolig" in kbh.text
    assert "730 færre københavnere lever i langtidsfattigdom" in kbh.text
    assert "Princip 4: København skal være blandt de bedste" in kbh.text


def test_every_embedded_document_loses_its_chrome() -> None:
    for doc in load_corpus(CORPUS).documents:
        for chrome in (
            "Skip til",
            "Scroll til toppen",
            "Save this PDF",
            "Genveje",
            "Få siden oplæst",
            "Skriv en kommentar",
            "CVR",
            "Læs mere",
        ):
            assert chrome not in doc.text, (doc.id, chrome)
        assert doc.text.startswith(doc.title), doc.id


def test_sentences_keep_danish_abbreviations_and_amounts_together() -> None:
    text = (
        "Der er tilført 10,0 mio. kr. til området. Vi vil bl.a. styrke dialogen. "
        "Målet er ca. 20 pct. 2. Færre udsættes."
    )
    assert sentences(text) == [
        "Der er tilført 10,0 mio. kr. til området.",
        "Vi vil bl.a. styrke dialogen.",
        "Målet er ca. 20 pct.",
        "2. Færre udsættes.",
    ]


def test_passages_are_readable_sized_with_stable_ids() -> None:
    corpus = load_corpus(CORPUS)
    passages = chunk_corpus(corpus.documents)
    assert len({p.id for p in passages}) == len(passages)
    assert passages == chunk_corpus(load_corpus(CORPUS).documents)
    for p in passages:
        assert len(p.text.split()) <= MAX_WORDS, p.id
        assert p.id.startswith(p.document_id + "#")
        # A passage ends where a sentence or a paragraph of its document ends.
        doc = next(d for d in corpus.documents if d.id == p.document_id)
        last = p.text.split("\n")[-1]
        assert re.search(re.escape(last) + r"($|\n| (?=[A-ZÆØÅ0-9•]))", doc.text), p.id
    long_ones = [p for p in passages if len(p.text.split()) >= 40]
    assert len(long_ones) >= len(passages) - 2


def test_chunks_overlap_by_one_sentence_inside_a_paragraph() -> None:
    sentence = "Udvalget arbejder med mange gode og vigtige sager for borgerne i kommunen hver dag."
    text = " ".join(f"{sentence[:-1]} nummer {i}." for i in range(30))
    chunks = chunk_text(text)
    assert len(chunks) >= 3
    for a, b in itertools.pairwise(chunks):
        assert sentences(a)[-1] == sentences(b)[0]


def test_cleaning_is_idempotent() -> None:
    doc = load_corpus(FIXTURE).documents[0]
    assert clean(doc.text, doc.title) == doc.text


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s.replace('kind = "budget"', 'kind = "regnskab"'), "kind 'regnskab'"),
        (lambda s: s.replace('date = "2024-01-15"', 'date = "15-01-2024"'), "must be YYYY-MM-DD"),
        (lambda s: s.replace('period = "2024"', 'period = "i år"'), "YYYY or YYYY-YYYY"),
        (lambda s: s.replace('file = "aaby-budget.txt"', 'file = "mangler.txt"'), "mangler.txt"),
        (lambda s: s.replace('committee = "Socialudvalget"\n', 'udvalg = "x"\n', 1), "unknown"),
        (lambda s: s.replace('title = "Socialudvalgets budget 2024"\n', ""), "missing field"),
        (lambda s: s + "\n[[document]\n", "not valid TOML"),
    ],
)
def test_manifest_errors_name_the_problem(tmp_path: Path, edit, message: str) -> None:  # type: ignore[no-untyped-def]
    shutil.copytree(FIXTURE, tmp_path / "c")
    manifest = tmp_path / "c" / "documents.toml"
    manifest.write_text(edit(manifest.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(CorpusError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_corpus(tmp_path / "c")


def test_latin1_document_is_read_correctly(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE, tmp_path / "c")
    path = tmp_path / "c" / "aaby-budget.txt"
    path.write_bytes(path.read_text(encoding="utf-8").encode("cp1252"))
    doc = load_corpus(tmp_path / "c").documents[0]
    assert "Åse Ørsted" in doc.text
