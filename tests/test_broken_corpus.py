"""Broken corpus input: odd encodings, unreadable, empty and huge documents, a malformed
manifest. Each is read correctly or refused naming the file and the fix; the rest still builds.

(tests/test_corpus.py covers manifest field errors and a Latin-1 document; tests/test_ingest.py
covers broken PDFs. This file adds what a build meets in the wild.)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from retrieval.indexing.build import build
from retrieval.indexing.store import MANIFEST_FILE, PASSAGES_FILE, load_index
from retrieval.ingest.corpus import load_corpus
from retrieval.ingest.files import CorpusError
from retrieval.text.chunking import MAX_WORDS, chunk_document
from tests.conftest import FIXTURE_CORPUS, ROOT

ENTRY = """
[[document]]
id = "{id}"
file = "{file}"
title = "Plan for ældre i Åby"
municipality = "Åby"
committee = "Ældreudvalget"
kind = "plan"
period = "2024"
source = "Åby Kommune"
"""
DANISH = (
    "Ældrerådet i Åby får 45.000 kr. til søndagscaféen på Østergård.\n\n"
    "Formand for udvalget er Åse Ørsted, og planen gælder for hele kommunen i 2024.\n"
)


def corpus_with(tmp_path: Path, name: str, content: bytes, doc_id: str = "aaby-aeldre") -> Path:
    """The fixture corpus plus one more document, written as the given bytes."""
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    (corpus / name).write_bytes(content)
    with (corpus / "documents.toml").open("a", encoding="utf-8") as f:
        f.write(ENTRY.format(id=doc_id, file=name))
    return corpus


def document(corpus: Path, doc_id: str = "aaby-aeldre") -> str:
    return next(d.text for d in load_corpus(corpus).documents if d.id == doc_id)


# -- encodings ----------------------------------------------------------------------------------
@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "utf-8", "utf-8-sig"])
def test_danish_text_is_read_correctly_in_the_encodings_sites_use(
    tmp_path: Path, encoding: str
) -> None:
    corpus = corpus_with(tmp_path, "aeldre.txt", DANISH.encode(encoding))
    text = document(corpus)
    assert "Ældrerådet i Åby får 45.000 kr. til søndagscaféen på Østergård." in text
    assert "\ufeff" not in text and "Ã" not in text


def test_a_latin1_manifest_is_read_correctly(tmp_path: Path) -> None:
    corpus = corpus_with(tmp_path, "aeldre.txt", DANISH.encode("utf-8"))
    manifest = corpus / "documents.toml"
    manifest.write_bytes(manifest.read_text("utf-8").encode("latin-1"))
    docs = {d.id: d for d in load_corpus(corpus).documents}
    assert docs["aaby-aeldre"].title == "Plan for ældre i Åby"
    assert docs["aaby-aeldre"].committee == "Ældreudvalget"


def test_text_in_no_known_encoding_is_refused_naming_the_file_and_the_fix(tmp_path: Path) -> None:
    # 0x81, 0x8d, 0x8f, 0x90 and 0x9d are neither UTF-8 nor Windows-1252.
    corpus = corpus_with(tmp_path, "aeldre.txt", b"Plan for \x81\x8d\x8f\x90\x9d i \xc5by\n")
    with pytest.raises(CorpusError, match=r"aeldre\.txt.*save it as UTF-8"):
        load_corpus(corpus)


def test_a_file_mixing_utf8_and_latin1_is_not_indexed_as_mojibake(tmp_path: Path) -> None:
    """Each line is decoded on its own (retrieval/corpus.py), so both halves read correctly."""
    content = "Formand er Åse Ørsted.\n".encode() + "Budget på 12 mio. kr.\n".encode("latin-1")
    corpus = corpus_with(tmp_path, "aeldre.txt", content)
    text = document(corpus)
    assert "Formand er Åse Ørsted." in text and "Budget på 12 mio. kr." in text
    assert "Ã" not in text and "\ufffd" not in text  # no mojibake, no replacement characters


# -- unreadable, empty, huge ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "no text left after cleaning"),
        (b" \n\n\t\n", "no text left after cleaning"),
        (b"Skip til hovedindholdet\nScroll til toppen\n", "no text left after cleaning"),
    ],
    ids=["empty file", "only whitespace", "only web chrome"],
)
def test_an_empty_document_is_refused_naming_it(
    tmp_path: Path, content: bytes, message: str
) -> None:
    corpus = corpus_with(tmp_path, "aeldre.txt", content)
    with pytest.raises(CorpusError, match=rf"aeldre\.txt.*{message}"):
        load_corpus(corpus)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file; run as a normal user")
def test_a_file_without_read_permission_is_refused_naming_it(tmp_path: Path) -> None:
    corpus = corpus_with(tmp_path, "aeldre.txt", DANISH.encode())
    (corpus / "aeldre.txt").chmod(0)
    with pytest.raises(CorpusError, match=r"aeldre\.txt"):
        load_corpus(corpus)


@pytest.mark.skipif(not Path("/proc/self/mem").is_file(), reason="needs Linux's /proc")
@pytest.mark.parametrize("name", ["aeldre.txt", "aeldre.html", "aeldre.pdf"])
def test_a_file_the_system_cannot_read_is_refused_naming_it(tmp_path: Path, name: str) -> None:
    # Reading /proc/self/mem from offset 0 fails with EIO, even for root: a real read error.
    corpus = corpus_with(tmp_path, name, b"")
    (corpus / name).unlink()
    (corpus / name).symlink_to("/proc/self/mem")
    refused = rf"{name.replace('.', '[.]')}: (cannot be read|not a readable PDF)"
    with pytest.raises(CorpusError, match=refused):
        load_corpus(corpus)


def test_a_5_mb_document_is_cleaned_and_chunked_into_bounded_passages(
    tmp_path: Path,
) -> None:
    paragraph = DANISH.split("\n")[0]
    text = "\n\n".join(f"Afsnit {i}. {paragraph}" for i in range(80_000))
    assert len(text.encode()) > 5_000_000
    corpus = corpus_with(tmp_path, "aeldre.txt", text.encode())
    doc = next(d for d in load_corpus(corpus).documents if d.id == "aaby-aeldre")
    passages = chunk_document(doc)  # how fast: `python -m benchmarks.bench --claims`
    assert len({p.id for p in passages}) == len(passages) > 1000
    assert max(len(p.text.split()) for p in passages) <= 2 * MAX_WORDS
    assert "Afsnit 79999." in passages[-1].text


def test_a_long_text_without_full_stops_is_still_cut_into_passages(tmp_path: Path) -> None:
    text = " ".join(f"post{i} 1.200 kr" for i in range(20_000))  # a table read as one line
    corpus = corpus_with(tmp_path, "aeldre.txt", text.encode())
    doc = next(d for d in load_corpus(corpus).documents if d.id == "aaby-aeldre")
    assert max(len(p.text.split()) for p in chunk_document(doc)) <= 2 * MAX_WORDS


# -- the rest of the corpus still builds ---------------------------------------------------------
def test_one_unreadable_document_does_not_stop_the_others_from_building(
    tmp_path: Path, embedder: object
) -> None:
    corpus = corpus_with(tmp_path, "aeldre.txt", b"\x81\x8d\x8f\x90\x9d")
    manifest = build(corpus, tmp_path / "index", show_progress=False)
    assert manifest["documents"] == 2
    assert "aaby-aeldre" in manifest["skipped"] and "UTF-8" in manifest["skipped"]["aaby-aeldre"]
    passages = load_index(tmp_path / "index").passages
    assert {p.document_id for p in passages} == {"aaby-budget-2024", "oelund-plan-2023-2026"}


def test_a_skipped_document_is_listed_and_indexed_once_its_file_is_fixed(
    tmp_path: Path, embedder: object
) -> None:
    corpus = corpus_with(tmp_path, "aeldre.txt", b"\x81\x8d\x8f\x90\x9d")
    index = tmp_path / "index"
    build(corpus, index, show_progress=False)
    listed = _cli("list", "--corpus", str(corpus), "--index", str(index))
    assert listed.returncode == 0, listed.stderr
    (row,) = [line for line in listed.stdout.splitlines() if line.startswith("aaby-aeldre")]
    assert "skipped" in row.split()
    again = _cli("update", "--corpus", str(corpus), "--index", str(index))
    assert again.returncode == 0 and "aaby-aeldre" not in again.stdout  # unchanged: not retried
    (corpus / "aeldre.txt").write_bytes(DANISH.encode("latin-1"))
    fixed = _cli("update", "--corpus", str(corpus), "--index", str(index))
    assert fixed.returncode == 0, fixed.stderr
    manifest = json.loads((index / MANIFEST_FILE).read_text("utf-8"))
    assert manifest["skipped"] == {} and manifest["documents"] == 3
    texts = [p.text for p in load_index(index).passages if p.document_id == "aaby-aeldre"]
    assert texts and "Åse Ørsted" in " ".join(texts)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "retrieval", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=600)  # fmt: skip


def test_a_malformed_manifest_fails_the_build_in_one_line_and_keeps_the_old_index(
    mini_index: Path, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    shutil.copytree(mini_index, index)
    before = {n: (index / n).read_bytes() for n in (MANIFEST_FILE, PASSAGES_FILE)}
    corpus = corpus_with(tmp_path, "aeldre.txt", DANISH.encode())
    manifest = corpus / "documents.toml"
    manifest.write_text(manifest.read_text("utf-8") + '\n[[document]\nid = "x', "utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "retrieval", "build", "--corpus", str(corpus), "--index",
         str(index), "--quiet"], capture_output=True, text=True, cwd=ROOT, timeout=600,
    )  # fmt: skip
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "documents.toml: not valid TOML" in last
    assert "Traceback" not in result.stderr
    assert {n: (index / n).read_bytes() for n in before} == before
    assert json.loads(before[MANIFEST_FILE])["documents"] == 2
