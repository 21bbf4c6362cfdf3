"""Growing the corpus: HTML/PDF ingestion, add/remove/list, incremental updates, crash safety.

Everything runs for real: trafilatura, pypdf, the e5 model, FAISS and bm25s, on tmp copies of
the fixture corpus and its index.
"""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pytest

from retrieval.answer.assistant import Assistant
from retrieval.cli import main
from retrieval.indexing import build as indexing
from retrieval.indexing import store as index_store
from retrieval.indexing.figures import extract, read_figures
from retrieval.indexing.lexical_index import LexicalIndex
from retrieval.indexing.sentences import Ragged, Segment
from retrieval.indexing.status import is_current
from retrieval.indexing.store import IndexUnusable, load_index, read_manifest
from retrieval.indexing.vectors import all_vectors, passage_keys
from retrieval.ingest.add import add_files, remove_document
from retrieval.ingest.catalog import read_catalog
from retrieval.ingest.cleaning import clean
from retrieval.ingest.corpus import Municipality, load_corpus
from retrieval.ingest.extract import html_text, pdf_text, reflow
from retrieval.ingest.files import CorpusError
from retrieval.search.lexical import BM25Retriever
from retrieval.text.chunking import chunk_corpus, split_sentences
from tests.conftest import CORPUS, FIXTURE_CORPUS

PAGE = """<!DOCTYPE html>
<html lang="da"><head><meta charset="utf-8">
<title>Ældrepolitik 2025-2028 | Bøgely Kommune</title></head>
<body>
<header><nav><ul><li><a href="/">Forside</a></li><li><a href="/borger">Borger</a></li>
<li><a href="/politik">Politik og indflydelse</a></li><li><a href="/job">Job i kommunen</a></li>
</ul></nav></header>
<div class="cookie-banner">Vi bruger cookies til statistik. <button>Accepter alle</button></div>
<main><article>
<h1>Ældrepolitik 2025-2028</h1>
<p>Ældre- og Sundhedsudvalget i Bøgely Kommune har vedtaget en ny ældrepolitik, som gælder fra
2025 til 2028. Politikken beskriver, hvordan kommunen vil støtte ældre borgere i at leve et
selvstændigt liv i eget hjem så længe som muligt.</p>
<h2>Fokusområder</h2>
<ul><li>Flere hænder i hjemmeplejen og faste teams omkring den enkelte borger.</li>
<li>Bedre madordninger på plejecentrene, hvor maden laves fra bunden.</li>
<li>Forebyggelse af ensomhed gennem frivillige besøgsvenner.</li></ul>
<p>Udvalget har afsat 4,5 mio. kr. årligt til indsatsen mod ensomhed blandt ældre. Pengene går
blandt andet til besøgsvenner, fællesspisning og transport til aktiviteter i lokalområdet.</p>
</article></main>
<footer><p>Bøgely Kommune</p><p>Rådhustorvet 1</p><p>9999 Bøgely</p>
<p>Telefon 12 34 56 78</p><a href="/privatliv">Privatlivspolitik</a></footer>
</body></html>
"""

PDF_PAGES = [
    [
        "Strategi for hjemløse borgere 2024-2027",
        "Social- og Beskæftigelsesudvalget i Nørrely Kommune vil give flere hjemløse",
        "borgere en varig bolig. Udvalget har derfor afsat 12 mio. kr. til boligsociale",
        "indsatser og en styrket social-",
        "faglig indsats på herbergerne.",
        "1",
    ],
    [
        "Målet er, at antallet af hjemløse halveres inden udgangen af 2027, og at alle",
        "unge under 25 år får tilbudt en bolig inden for tre måneder efter henvendelsen.",
        "2",
    ],
]
HTML_FLAGS = [
    "--municipality", "Bøgely", "--committee", "Ældre- og Sundhedsudvalget", "--kind", "andet",
    "--period", "2025-2028", "--source", "https://boegely.example/aeldrepolitik",
]
PDF_FLAGS = [
    "--municipality", "Nørrely", "--committee", "Social- og Beskæftigelsesudvalget",
    "--kind", "strategi", "--period", "2024-2027", "--source", "Nørrely Kommune (PDF)",
]
QUESTIONS = [
    "Hvor mange penge bruger Bøgely på ensomhed blandt ældre?",
    "Hvad vil Nørrely gøre for hjemløse?",
    "Hvad er budgettet for Socialudvalget i Åby?",
    "udsatte borgere handleplan",
]


def minimal_pdf(pages: list[list[str]], title: str = "") -> bytes:
    """A valid PDF with one Helvetica text line per entry (WinAnsi encoding, so æøå work)."""

    def literal(text: str) -> bytes:
        text = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        return b"(" + text.encode("cp1252") + b")"

    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    for i, lines in enumerate(pages):
        stream = b"BT /F1 11 Tf 14 TL 56 790 Td\n"
        stream += b"".join(literal(line) + b" Tj T*\n" for line in lines) + b"ET"
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font "
            f"<< /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    objects.append(b"<< /Title " + literal(title) + b" >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, obj)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, len(objects), xref)
    return bytes(out)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "aeldrepolitik.html").write_text(PAGE, "utf-8")
    (folder / "strategi.pdf").write_bytes(minimal_pdf(PDF_PAGES, "Strategi for hjemløse"))
    return {"html": folder / "aeldrepolitik.html", "pdf": folder / "strategi.pdf"}


@pytest.fixture
def workspace(tmp_path: Path, mini_index: Path) -> tuple[Path, Path]:
    """A tmp copy of the fixture corpus and of its real index."""
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    shutil.copytree(mini_index, index)
    return corpus, index


def _fields(flags: list[str]) -> dict[str, str]:
    return {k.lstrip("-"): v for k, v in zip(flags[::2], flags[1::2], strict=True)}


# --- extraction (no model) ---------------------------------------------------------------


def test_html_keeps_the_article_and_drops_menu_cookie_banner_and_footer() -> None:
    text = clean(html_text(PAGE), title="Ældrepolitik 2025-2028")
    assert "4,5 mio. kr. årligt til indsatsen mod ensomhed" in text
    assert "• Forebyggelse af ensomhed gennem frivillige besøgsvenner." in text
    for chrome in ("Forside", "Job i kommunen", "cookies", "Rådhustorvet", "Privatlivspolitik"):
        assert chrome not in text


def test_pdf_lines_are_joined_into_paragraphs_without_page_numbers(files) -> None:  # type: ignore[no-untyped-def]
    text = pdf_text(files["pdf"])
    paragraphs = text.split("\n")
    assert paragraphs[0] == "Strategi for hjemløse borgere 2024-2027"
    assert "vil give flere hjemløse borgere en varig bolig." in paragraphs[1]
    assert "styrket socialfaglig indsats på herbergerne." in paragraphs[1]  # hyphen re-joined
    assert paragraphs[2].startswith("Målet er, at antallet af hjemløse halveres")
    assert not any(p.strip() in {"1", "2"} for p in paragraphs)


def test_reflow_keeps_social_og_hyphen_and_list_items() -> None:
    pages = ["Udvalget samarbejder med Social-\nog Sundhedsudvalget om følgende mål og indsatser:"
             "\n• Færre på kanten af arbejdsmarkedet\n• Flere i job"]
    assert reflow(pages).split("\n") == [
        "Udvalget samarbejder med Social- og Sundhedsudvalget om følgende mål og indsatser:",
        "• Færre på kanten af arbejdsmarkedet",
        "• Flere i job",
    ]


def test_unreadable_files_are_refused_with_the_fix(tmp_path: Path) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 this is not really a pdf")
    with pytest.raises(CorpusError, match=r"broken\.pdf.*\.txt"):
        pdf_text(broken)
    empty = minimal_pdf([[]])
    (tmp_path / "scan.pdf").write_bytes(empty)
    with pytest.raises(CorpusError, match=r"no text layer.*OCR"):
        pdf_text(tmp_path / "scan.pdf")


def test_corpus_loader_reads_html_and_pdf_entries(tmp_path: Path, files) -> None:  # type: ignore[no-untyped-def]
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    results = add_files([files["html"].parent], {
        "municipality": "Bøgely", "committee": "Udvalget", "kind": "andet", "period": "2025",
        "source": "Bøgely Kommune",
    }, corpus, {})
    assert [r.doc_id for r in results] == ["boegely-aeldrepolitik", "boegely-strategi"]
    docs = {d.id: d for d in load_corpus(corpus).documents}
    assert docs["boegely-aeldrepolitik"].title == "Ældrepolitik 2025-2028"  # site name cut
    assert "halveres inden udgangen af 2027" in docs["boegely-strategi"].text
    assert docs["boegely-strategi"].title == "Strategi for hjemløse"  # the PDF's own title


def test_a_folders_contact_comes_along_for_a_town_the_corpus_lacks(tmp_path: Path) -> None:
    corpus, incoming = tmp_path / "corpus", tmp_path / "indkomne"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    incoming.mkdir()
    listed = ""
    for name in ("handicap", "udsatte"):
        (incoming / f"{name}.txt").write_text(
            f"Bøgely Kommunes {name}politik\nByrådet vedtog politikken for {name}området i 2025.\n",
            "utf-8")
        listed += (f'[[document]]\nid = "boegely-{name}"\nfile = "{name}.txt"\n'
                   f'title = "{name.capitalize()}politik"\nmunicipality = "Bøgely"\n'
                   'committee = "Socialudvalget"\nkind = "socialpolitik"\nperiod = "2025"\n'
                   'source = "Bøgely Kommune"\n\n')
    (incoming / "documents.toml").write_text(
        '[[municipality]]\nname = "Bøgely"\nphone = "12 34 56 78"\n\n'
        '[[municipality]]\nname = "Andeby"\nphone = "87 65 43 21"\n\n' + listed, "utf-8")
    before = read_catalog(corpus).municipalities
    results = add_files([incoming], {}, corpus, {})
    # Once, with the town's first document; a town nothing was added for stays out.
    assert [r.contact for r in results] == ["Bøgely", ""]
    after = read_catalog(corpus).municipalities  # what this process remembers it wrote …
    assert list(after) == [*before, {"name": "Bøgely", "phone": "12 34 56 78"}]
    parsed = tomllib.loads((corpus / "documents.toml").read_text("utf-8"))
    assert parsed["municipality"] == list(after)  # … is what the file says
    assert load_corpus(corpus).contact("bøgely") == Municipality("Bøgely", phone="12 34 56 78")
    # A town the corpus already has keeps its own contact.
    (incoming / "documents.toml").write_text(
        (incoming / "documents.toml").read_text("utf-8").replace("12 34 56 78", "11 11 11 11")
        .replace("boegely-", "boegely2-"), "utf-8")
    for name in ("handicap", "udsatte"):
        path = incoming / f"{name}.txt"
        path.write_text(path.read_text("utf-8") + "Politikken evalueres i 2027.\n", "utf-8")
    assert [r.contact for r in add_files([incoming], {}, corpus, {})] == ["", ""]
    assert load_corpus(corpus).contact("Bøgely") == Municipality("Bøgely", phone="12 34 56 78")


# --- the manifest ------------------------------------------------------------------------


def test_missing_metadata_names_the_flags(workspace, files, capsys) -> None:  # type: ignore[no-untyped-def]
    corpus, index = workspace
    before = (corpus / "documents.toml").read_text("utf-8")
    rc = main(["add", str(files["pdf"]), "--corpus", str(corpus), "--index", str(index),
               "--municipality", "Nørrely"])
    assert rc == 1
    err = capsys.readouterr().err
    assert "--committee, --kind, --period, --source" in err
    assert "strategi" in err  # the kinds are listed
    assert (corpus / "documents.toml").read_text("utf-8") == before
    rc = main(["add", str(files["pdf"]), *PDF_FLAGS, "--period", "24-27", "--corpus",
               str(corpus), "--index", str(index)])
    assert rc == 1
    assert "period '24-27' must be YYYY or YYYY-YYYY" in capsys.readouterr().err
    assert not (corpus / "strategi.pdf").exists()


def test_remove_keeps_comments_and_the_other_tables(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    manifest = corpus / "documents.toml"
    before = tomllib.loads(manifest.read_text("utf-8"))
    entry = remove_document("sonderborg-budget-2017", corpus)
    after_text = manifest.read_text("utf-8")
    after = tomllib.loads(after_text)
    assert entry["file"] == "sonderborg-socialudvalget-budget-2017.txt"
    assert not (corpus / entry["file"]).exists()
    assert after["municipality"] == before["municipality"]
    assert after["document"] == [d for d in before["document"]
                                 if d["id"] != "sonderborg-budget-2017"]
    assert after_text.startswith("# The embedded default corpus of Spørg Socialudvalget.")
    with pytest.raises(CorpusError, match=r"no document with id 'nope'.*retrieval list"):
        remove_document("nope", corpus)


# --- add / remove / list through the CLI --------------------------------------------------


def test_add_list_remove_through_the_cli(workspace, files, capsys) -> None:  # type: ignore[no-untyped-def]
    corpus, index = workspace
    where = ["--corpus", str(corpus), "--index", str(index), "--quiet"]
    assert main(["add", str(files["html"]), *HTML_FLAGS, *where]) == 0
    assert main(["add", str(files["pdf"]), *PDF_FLAGS, *where]) == 0
    err = capsys.readouterr().err
    assert "as boegely-aeldrepolitik" in err and "1 added, 0 changed, 0 removed" in err

    assert main(["list", "--json", "--corpus", str(corpus), "--index", str(index)]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["index"] == "current"
    states = {d["id"]: (d["state"], d["passages"]) for d in listing["documents"]}
    assert set(states) == {"aaby-budget-2024", "oelund-plan-2023-2026",
                           "boegely-aeldrepolitik", "noerrely-strategi"}
    assert all(state == "current" and n >= 1 for state, n in states.values())
    assert (corpus / "strategi.pdf").read_bytes() == files["pdf"].read_bytes()  # raw, as published

    assistant = Assistant.load(index, corpus_dir=corpus)
    answer = assistant.ask("Hvor mange penge bruger Bøgely på ensomhed blandt ældre?")
    assert answer.hits[0].passage.document_id == "boegely-aeldrepolitik"
    assert "4,5 mio. kr." in answer.hits[0].passage.text

    # The same page again, under another name and id: skipped, nothing embedded.
    copy = files["html"].with_name("kopi.html")
    shutil.copy(files["html"], copy)
    assert main(["add", str(copy), *HTML_FLAGS, "--id", "kopi", *where]) == 0
    assert "Skipped" in capsys.readouterr().err
    assert "kopi" not in (corpus / "documents.toml").read_text("utf-8")

    assert main(["remove", "boegely-aeldrepolitik", *where]) == 0
    assert "0 added, 0 changed, 1 removed" in capsys.readouterr().err
    assert not (corpus / "aeldrepolitik.html").exists()
    assistant = Assistant.load(index, corpus_dir=corpus)
    for retriever in ("dense", "bm25", "hybrid"):
        answer = assistant.ask(QUESTIONS[0], k=10, retriever=retriever)
        assert all(h.passage.document_id != "boegely-aeldrepolitik" for h in answer.hits)

    assert main(["list", "--corpus", str(corpus), "--index", str(index)]) == 0
    out = capsys.readouterr().out
    assert "noerrely-strategi" in out and "boegely" not in out and "current" in out


def test_list_shows_a_stale_index_and_update_catches_up(workspace, capsys) -> None:  # type: ignore[no-untyped-def]
    corpus, index = workspace
    doc = corpus / "aaby-budget.txt"
    doc.write_text(doc.read_text("utf-8") + "\nUdvalget har også afsat 2 mio. kr. til ny "
                   "rusmiddelbehandling for unge i Åby.\n", "utf-8")
    main(["list", "--corpus", str(corpus), "--index", str(index)])
    out = capsys.readouterr().out
    assert "aaby-budget-2024" in out and "stale" in out and "retrieval update" in out
    assert main(["update", "--corpus", str(corpus), "--index", str(index), "--quiet"]) == 0
    assert "0 added, 1 changed, 0 removed" in capsys.readouterr().err
    assert is_current(index, corpus)
    assert main(["update", "--corpus", str(corpus), "--index", str(index)]) == 0
    assert "already up to date" in capsys.readouterr().err


# --- incremental == full -------------------------------------------------------------------


def test_incremental_update_gives_the_results_of_a_full_rebuild(workspace, files, tmp_path) -> None:  # type: ignore[no-untyped-def]
    corpus, index = workspace
    add_files([files["html"]], _fields(HTML_FLAGS), corpus, {})
    first = indexing.update(corpus, index)
    assert first.added == ("boegely-aeldrepolitik",) and first.embedded >= 1
    add_files([files["pdf"]], _fields(PDF_FLAGS), corpus, {})
    doc = corpus / "oelund-plan.txt"
    doc.write_text(doc.read_text("utf-8") + "\nØlund opretter 20 nye botilbudspladser.\n", "utf-8")
    remove_document("aaby-budget-2024", corpus)
    second = indexing.update(corpus, index)
    assert second.added == ("noerrely-strategi",)
    assert second.changed == ("oelund-plan-2023-2026",)
    assert second.removed == ("aaby-budget-2024",)
    assert second.embedded == sum(  # only the new and the changed document were encoded
        r["passages"] for d, r in second.manifest["sources"].items() if d != "boegely-aeldrepolitik"
    )

    full = tmp_path / "full"
    indexing.build(corpus, full, show_progress=False)
    a, b = Assistant.load(index, corpus_dir=corpus), Assistant.load(full, corpus_dir=corpus)
    assert sorted(p.id for p in a.passages) == sorted(p.id for p in b.passages)
    for key in ("corpus_hash", "sources", "passages", "index_type"):
        assert read_manifest(index)[key] == read_manifest(full)[key]
    # Nøgletal: the update kept unchanged documents' figures and read only the fresh passages,
    # yet wrote the very file a full build writes (and the manifest's checksum of it).
    assert (index / "figures.jsonl").read_bytes() == (full / "figures.jsonl").read_bytes()
    assert read_manifest(index)["files"]["figures.jsonl"] == \
        read_manifest(full)["files"]["figures.jsonl"]
    updated = read_figures(index)
    assert {f.document_id for f in updated} >= {"boegely-aeldrepolitik", "noerrely-strategi"}
    assert not any(f.document_id == "aaby-budget-2024" for f in updated)
    assert any(f.value == 20 and f.unit == "antal" and "botilbudspladser" in f.what
               for f in updated)
    # The stored sentence vectors follow the passages: the same rows for each passage.
    for passage in b.passages:
        rows_a, rows_b = a.sentences.of(passage), b.sentences.of(passage)
        assert rows_a.shape == rows_b.shape == (len(split_sentences(passage.text)), 384)
        assert np.allclose(rows_a, rows_b, atol=2e-3), passage.id
    for question in QUESTIONS:
        for retriever in ("dense", "bm25", "hybrid"):
            hits_a = a.retrievers[retriever].search(question, 5)
            hits_b = b.retrievers[retriever].search(question, 5)
            assert [h.passage for h in hits_a] == [h.passage for h in hits_b], (question, retriever)
            assert np.allclose([h.score for h in hits_a], [h.score for h in hits_b], atol=1e-5)


LINKED = ("sentences.npy", "windows.npy", "index.faiss", "passages.jsonl", "figures.jsonl",
          "bm25/counts.data.npy", "bm25/counts.indices.npy", "bm25/counts.indptr.npy")


@pytest.mark.slow
def test_adding_a_document_links_the_unchanged_files_and_writes_only_its_rows(  # type: ignore[no-untyped-def]
        full_index, files, embedder, tmp_path) -> None:
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(CORPUS, corpus)
    shutil.copytree(full_index, index)
    before, old = read_manifest(index), load_index(index)
    inodes = {n: (index / n).stat().st_ino for n in LINKED}
    add_files([files["html"]], _fields(HTML_FLAGS), corpus, {})
    report = indexing.update(corpus, index)
    after = read_manifest(index)
    for name, inode in inodes.items():  # the same file, linked into the new folder
        assert (index / name).stat().st_ino == inode, name
        assert after["files"][name] == before["files"][name]
    assert {"sentences-1.npy", "windows-1.npy", "index-1.faiss", "passages-1.jsonl",
            "bm25/counts-1.data.npy"} <= set(after["files"])
    assert index_store.damaged_files(index, after, full=True) == []
    new = load_index(index)
    # What the segments hold together is what one file each would: the old passages, vectors
    # and figures as they were, then the new document's; BM25 scores as a fresh index's.
    assert list(new.passages)[: len(old.passages)] == list(old.passages)
    assert np.array_equal(all_vectors(new.id_map)[: len(old.passages)], all_vectors(old.id_map))
    assert np.array_equal(new.keys, passage_keys(list(new.passages)))
    assert read_figures(index) == extract(list(new.passages))
    reference = BM25Retriever()
    reference.index(list(new.passages))
    for question in QUESTIONS:
        ours, theirs = new.lexical.retriever.search(question, 20), reference.search(question, 20)
        assert [(h.passage.id, h.score) for h in ours] == [(h.passage.id, h.score) for h in theirs]
    for kind in ("sentence", "window"):  # the old rows as they were, the new ones encoded
        rows_old, rows_new = old.sentences.parts[kind], new.sentences.parts[kind]
        for i in range(len(old.passages)):
            assert np.array_equal(rows_old.rows(i), rows_new.rows(i))
    fresh = [(i, p) for i, p in enumerate(new.passages) if p.document_id in report.added]
    assert fresh and fresh[0][0] == len(old.passages)
    for i, p in fresh:
        expected = embedder.encode_passages(split_sentences(p.text))
        assert np.allclose(new.sentences.parts["sentence"].rows(i), expected, atol=2e-3)
    # Removing it again rewrites the kept rows as one file per kind: the original rows.
    remove_document(report.added[0], corpus)
    indexing.update(corpus, index)
    names = set(read_manifest(index)["files"])
    assert set(LINKED) <= names
    assert not [n for n in names if "-1." in n]
    assert (index / "sentences.npy").stat().st_ino != inodes["sentences.npy"]
    for kind in ("sentence", "window"):
        assert np.array_equal(np.load(index / f"{kind}s.npy"), np.load(full_index / f"{kind}s.npy"))
    for name in ("passages.jsonl", "figures.jsonl"):
        assert (index / name).read_bytes() == (full_index / name).read_bytes()


def test_segments_merge_from_the_end_once_the_last_holds_half_the_rows_of_the_one_before(
) -> None:
    def ragged(*sizes: int) -> Ragged:
        segments = [Segment(np.full((n, 2), j, np.float16)) for j, n in enumerate(sizes)]
        return Ragged(segments, np.cumsum([0, *sizes]))  # one passage per segment

    assert [len(s.rows) for s in ragged(100, 10).merged().segments] == [100, 10]
    assert [len(s.rows) for s in ragged(100, 10, 5).merged().segments] == [100, 15]
    assert [len(s.rows) for s in ragged(100, 30, 20, 20).merged().segments] == [170]
    merged = ragged(100, 30, 20, 20).merged()
    assert [float(merged.rows(i)[0, 0]) for i in range(4)] == [0, 1, 2, 3]
    assert merged.problem("sentence", 4, 2) is None


def test_saved_bm25_scores_exactly_as_bm25retriever_index() -> None:
    passages = chunk_corpus(load_corpus(CORPUS).documents)
    reference = BM25Retriever()
    reference.index(passages)
    built = LexicalIndex.build(passages)
    first = passages[0].document_id
    keep = np.array([p.document_id != first for p in passages])
    updated = built.update(keep, []).update(np.ones(int(keep.sum()), bool),
                                            [p for p in passages if p.document_id == first])
    again = BM25Retriever()
    again.index(updated.retriever.passages)
    for question in ("Hvor mange penge bruger Sønderborg på demokrati?", "hjemløse i København",
                     "botilbudspladser", "fokusområder 2022-2025"):
        for ours, theirs in ((built.retriever, reference), (updated.retriever, again)):
            a, b = ours.search(question, 20), theirs.search(question, 20)
            assert [(h.passage.id, h.score) for h in a] == [(h.passage.id, h.score) for h in b]


def test_hnsw_index_is_updated_and_removes_documents(workspace, files, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    corpus, index = workspace
    monkeypatch.setattr(indexing, "FLAT_MAX", 0)  # every size is "large": HNSW
    remove_document("aaby-budget-2024", corpus)
    indexing.update(corpus, index)
    manifest = read_manifest(index)
    assert manifest["index_type"] == "hnsw"
    assert manifest["faiss_class"] == "IndexIDMap2(IndexHNSWFlat)"
    stored = load_index(index)
    assert {p.document_id for p in stored.passages} == {"oelund-plan-2023-2026"}
    hits = Assistant.load(index).retrievers["dense"].search("udsatte borgere", 3)
    assert hits and hits[0].passage.document_id == "oelund-plan-2023-2026"


# --- crash safety --------------------------------------------------------------------------


class Crash(BaseException):
    """Stands in for a kill: not an Exception, so nothing on the way may swallow it."""


def _crash_at(monkeypatch, where: str) -> None:  # type: ignore[no-untyped-def]
    if where == "encoding":
        from retrieval.embedding.model import Embedder

        monkeypatch.setattr(Embedder, "encode_passages", lambda *a, **k: (_ for _ in ()).throw(
            Crash()))
    elif where == "writing bm25":
        monkeypatch.setattr(LexicalIndex, "save", lambda *a, **k: (_ for _ in ()).throw(Crash()))
    elif where == "writing vectors":
        import faiss

        monkeypatch.setattr(faiss, "write_index", lambda *a, **k: (_ for _ in ()).throw(Crash()))
    elif where == "between the renames":
        real = index_store.os.replace
        calls = []

        def replace(src, dst):  # type: ignore[no-untyped-def]
            calls.append(src)
            if len(calls) == 2:  # old index moved aside, new one not yet in place
                raise Crash()
            return real(src, dst)

        monkeypatch.setattr(index_store.os, "replace", replace)


@pytest.mark.parametrize(
    "where", ["encoding", "writing bm25", "writing vectors", "between the renames"]
)
def test_an_interrupted_update_leaves_the_previous_index_loadable(  # type: ignore[no-untyped-def]
    workspace, files, monkeypatch, where
) -> None:
    corpus, index = workspace
    before = read_manifest(index)
    before_ids = [p.id for p in load_index(index).passages]
    add_files([files["pdf"]], _fields(PDF_FLAGS), corpus, {})
    with monkeypatch.context() as m:
        _crash_at(m, where)
        with pytest.raises(Crash):
            indexing.update(corpus, index)
    stored = load_index(index)  # restores index.old when the crash came between the renames
    assert stored.manifest == before
    assert [p.id for p in stored.passages] == before_ids
    assert not list(index.parent.glob(".index-tmp-*"))
    with pytest.raises(IndexUnusable, match="another version of the corpus"):
        Assistant.load(index, corpus_dir=corpus)  # stale, and says so
    assert indexing.update(corpus, index).added == ("noerrely-strategi",)
    assert "noerrely-strategi" in {p.document_id for p in load_index(index).passages}


def test_a_touched_but_unchanged_file_is_not_re_embedded(workspace) -> None:  # type: ignore[no-untyped-def]
    corpus, index = workspace
    doc = corpus / "oelund-plan.txt"
    doc.write_bytes(doc.read_bytes())  # new mtime, same bytes
    assert is_current(index, corpus)
    assert indexing.update(corpus, index).nothing_to_do


def test_list_verifies_every_checksum_that_loading_leaves_to_sizes(  # type: ignore[no-untyped-def]
    workspace, capsys, monkeypatch
) -> None:
    """Loading checks large files by size (seconds saved at 100,000 passages); `list` reads
    every checksum, so a byte changed in place is still found, with the fix named."""
    corpus, index = workspace
    monkeypatch.setattr(index_store, "QUICK_CHECKSUM_MAX", 0)  # every file counts as large
    faiss_file = index / index_store.FAISS_FILE
    data = bytearray(faiss_file.read_bytes())
    at = len(data) - 8 * read_manifest(index)["passages"] - 100  # inside the vectors
    data[at] ^= 0x01
    faiss_file.write_bytes(bytes(data))
    load_index(index)  # same size, still consistent: loads
    main(["list", "--corpus", str(corpus), "--index", str(index)])
    out = capsys.readouterr().out
    assert "damaged" in out and "python -m retrieval build" in out
    monkeypatch.setattr(index_store, "QUICK_CHECKSUM_MAX", 8 << 20)
    with pytest.raises(IndexUnusable, match=r"damaged.*retrieval build"):
        load_index(index)
