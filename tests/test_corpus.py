"""Cleaning, chunking and manifest validation on a tiny fixture corpus and the embedded one."""

from __future__ import annotations

import itertools
import re
import shutil
from pathlib import Path

import pytest

from retrieval.ingest.cleaning import clean, is_excerpt
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
            "You are here",
            "Slå adgang",
            "Kopier link",
            "Udskriv",
            "cookies",
            "Page 1",
            "Transkript",
            "Indholdsfortegnelse",
            '"attributes"',
        ):
            assert chrome not in doc.text, (doc.id, chrome)
        # A whole page starts at its own title. An excerpt's manifest title is often not its
        # page heading (minutes open with the date or the committee), so that check is for pages.
        if not is_excerpt(doc.source):
            assert doc.text.startswith(doc.title), doc.id


def test_sentences_keep_danish_abbreviations_and_amounts_together() -> None:
    text = (
        "Der er tilført 10,0 mio. kr. til området. Vi vil bl.a. styrke dialogen. "
        "Målet er ca. 20 pct. 2. Færre udsættes. Rådet holdt første møde d. 7. april 2016. "
        "3. Eventuelt."
    )
    assert sentences(text) == [
        "Der er tilført 10,0 mio. kr. til området.",
        "Vi vil bl.a. styrke dialogen.",
        "Målet er ca. 20 pct.",
        "2. Færre udsættes.",
        "Rådet holdt første møde d. 7. april 2016.",  # a date, not list item 7
        "3. Eventuelt.",
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


# --- Chrome of the multi-town excerpts: one small inline example per general rule. ---


@pytest.mark.parametrize(
    "chrome",
    [
        "Skip til hoved indholdet",  # skip link, with the space some sites put in
        "You are here",  # breadcrumb label, English or Danish
        "Slå adgang med tegn til/fra",  # accessibility toggle
        "Aaby Kommune Logo",  # a logo's alt text
        "Til indholdsfortegnelse",  # back-link on minutes pages
        "Indhold",  # an empty contents heading
        "Udskriv",  # print link
        "Kopier link til punktet  -   Print",  # item links on minutes pages
        "Følg os på Facebook",  # social link
        "Page 1",  # page viewer (issuu)
        "57",  # a bare page number
        'Se vores "cookiepolitik".',  # cookie policy link
        "Læs hele udsattepolitikken for Aaby Kommune her",  # link to the full document
        "resultater_vedr._tilfredshed_med_maden.pdf",  # attachment file name
        '[[{"attributes":{},"fields":{}}]]',  # template/JSON residue
    ],
)
def test_line_chrome_of_municipal_pages_is_removed(chrome: str) -> None:
    text = f"Udsattepolitik\n\n{chrome}\n\nUdvalget har 10 medlemmer."
    assert clean(text) == "Udsattepolitik\n\nUdvalget har 10 medlemmer."


def test_a_cookie_banner_paragraph_is_removed_but_content_mentioning_cookies_is_not() -> None:
    banner = (
        'Vi bruger cookies til statistik. Hvis du ikke siger "nej tak til cookies", antager vi, '
        "at du accepterer vores cookie politik."
    )
    other = "Dette site bruger cookies. Hvis du fortsætter, så accepterer du dette."
    text = f"{banner}\n\n{other}\n\nReferat\n\nBorgere kan søge om cookies til caféen."
    assert clean(text) == "Referat\n\nBorgere kan søge om cookies til caféen."


def test_headings_glued_by_a_dropped_link_are_split() -> None:
    text = "Bilag\n\nIngen bilag.\n\nBilagBeslutning\n\nGodkendt.\n\nFrivilligVest"
    assert (
        clean(text) == "Bilag\n\nIngen bilag.\n\nBilag\n\nBeslutning\n\nGodkendt.\n\nFrivilligVest"
    )
    assert clean("Indholdsfortegnelse1. Fraværende\n\nAlle mødt.") == "1. Fraværende\n\nAlle mødt."


def test_a_short_viewer_transcript_loses_its_page_numbers() -> None:
    text = (
        "Save this PDF as:\n\nTranskript\n\n1 Referat af mødet. Deltagere: Åse Ørsted\n\n"
        "2 Afbud: Bo Berg. Sagen blev godkendt."
    )
    # Two pages are enough inside a transcript; the unfinished page 1 runs on into page 2.
    assert (
        clean(text)
        == "Referat af mødet. Deltagere: Åse Ørsted Afbud: Bo Berg. Sagen blev godkendt."
    )
    # Outside a transcript, two paragraphs opening with numbers are amounts, not pages.
    assert (
        clean("1 borger klagede.\n\n2 borgere fik svar.")
        == "1 borger klagede.\n\n2 borgere fik svar."
    )


def test_agenda_item_numbers_are_not_page_numbers() -> None:
    text = (
        "1 : Godkendelse af dagsorden\n\nGodkendt.\n\n2 : Status\n\nTaget til efterretning."
        "\n\n3 : Eventuelt"
    )
    assert "1 : Godkendelse af dagsorden" in clean(text)
    assert "3 : Eventuelt" in clean(text)


def test_a_transcript_table_of_contents_run_is_cut_out() -> None:
    leader = (
        "Transkript\n\n1 Referat mandag den 8. august 2011 Indholdsfortegnelse 1. Godkendelse "
        "af dagsorden Orienteringssager Eventuelt...14 Side 1 1. Godkendelse af dagsorden "
        "Godkendt.\n\n"
        "2 Side 2 2. Orienteringssager Der er 124 plejeboliger."
    )
    assert clean(leader) == (
        "Referat mandag den 8. august 2011 1. Godkendelse af dagsorden Godkendt.\n\n"
        "2. Orienteringssager Der er 124 plejeboliger."
    )
    entries = (
        "Transkript\n\n1 marts 2006 Frivillighedspolitik Forord 2 1. Visionen 4 2. Værdierne 5 3. "
        "Indsatsområder Synlighed\n\n2 Forord Frivillige gør en forskel."
    )
    assert clean(entries) == "marts 2006 Frivillighedspolitik Forord Frivillige gør en forskel."


def test_a_lone_symbol_font_bullet_glyph_is_removed() -> None:
    assert clean("Det skaber ligebehandling. ƒ\n\n• \uf0b7 Solidaritet.") == (
        "Det skaber ligebehandling.\n\n• Solidaritet."
    )


def test_the_cut_off_end_of_an_excerpt_is_dropped() -> None:
    assert is_excerpt("Aaby Kommune, siden »Plan« (uddrag)")
    assert not is_excerpt("Aaby Kommunes hjemmeside, siden »Plan«")
    cut = "Plan\n\nDer er 124 pladser. Målet er nået. BRK har siden 2011 arbejdet tæ"
    assert clean(cut, excerpt=True) == "Plan\n\nDer er 124 pladser. Målet er nået."
    assert clean(cut) == cut  # a whole document keeps its last line as published
    # A final "." after a number or a short abbreviation is where the cut fell, not a full stop.
    assert clean("Plan\n\nMødet er holdt. Derfor er mødet den 23.", excerpt=True) == (
        "Plan\n\nMødet er holdt."
    )
    assert clean("Plan\n\nVi har tilsyn. Et varsel fra Socialtilsyn Nord d.", excerpt=True) == (
        "Plan\n\nVi har tilsyn."
    )
    # A last paragraph with no complete sentence goes, and so do headings left with nothing.
    tail = (
        "Plan\n\nDer er afsat 413.341 kr.\n\n3 : Opfølgning på politikken\n\nSagsnr: 25-018298"
        "\n\nSagsfremstilling\n\nAd 2: Lægedækningen:\n\nEt af"
    )
    assert clean(tail, excerpt=True) == "Plan\n\nDer er afsat 413.341 kr."
    # A complete end is kept, and trimming twice changes nothing.
    done = clean(cut, excerpt=True)
    assert clean(done, excerpt=True) == done


def test_every_excerpt_in_the_corpus_ends_with_a_complete_sentence() -> None:
    for doc in load_corpus(CORPUS).documents:
        if is_excerpt(doc.source):
            last = doc.text.split("\n")[-1]
            # A list item is complete without a full stop ("• at kommentere på politiske forslag").
            is_item = re.match(r"(• |\d{1,2}\. )", last)
            assert re.search(r"[.!?”\"»)]$", last) or is_item, (doc.id, last)
