"""BM25 with Danish analysis: numbers, stop words, compounds, on inline passages and the corpus."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from pathlib import Path

import pytest

from retrieval.ingest.corpus import load_corpus
from retrieval.search.lexical import BM25Retriever
from retrieval.text.chunking import chunk_corpus
from retrieval.text.danish import STOP_WORDS, Compounds, analyse, normalise_numbers, words
from retrieval.types import Passage

CORPUS = Path(__file__).parent.parent / "corpus"

# Each compound's parts also occur alone somewhere, as they would in a real corpus.
FIXTURE = {
    "bosted": "Kommunen vil øge antallet af botilbudspladser for voksne med handicap.",
    "botilbud": "Et botilbud er en bolig med støtte, og der er ventetid på en plads.",
    "langtid": "Færre børnefamilier skal leve i langtidsfattigdom.",
    "fattig": "Fattigdom og ensomhed hænger ofte sammen.",
    "udsatteråd": "Udsatterådet får et beløb til aktiviteter på væresteder.",
    "råd": "Borgerne kan få råd og vejledning på rådhuset.",
    "udsatte": "Udsatte borgere skal have et sted at bo.",
    "velfærd": "Velfærdsteknologi gør flere selvhjulpne.",
    "teknologi": "Ny teknologi afprøves i hjemmeplejen i Ærø.",
    "budget": "Udvalget bruger 79.000 kroner på demokrati og 316,5 millioner på handicap.",
    "tomt": "Det er ikke noget, vi har.",
}


def _passage(pid: str, text: str) -> Passage:
    return Passage(
        id=pid,
        document_id=pid,
        position=0,
        text=text,
        title="Bilag",
        municipality="Ærø",
        committee="Socialudvalget",
        kind="andet",
        period="2024",
        date="",
        source="test",
    )


@pytest.fixture(scope="module")
def fixture_bm25() -> BM25Retriever:
    retriever = BM25Retriever()
    retriever.index([_passage(pid, text) for pid, text in FIXTURE.items()])
    return retriever


@pytest.fixture(scope="module")
def corpus_bm25() -> BM25Retriever:
    retriever = BM25Retriever()
    retriever.index(chunk_corpus(load_corpus(CORPUS).documents))
    return retriever


def _ids(retriever: BM25Retriever, query: str, k: int = 20) -> list[str]:
    return [h.passage.id for h in retriever.search(query, k)]


# --- the normaliser and the analyser ------------------------------------------------------


@pytest.mark.parametrize(
    ("variants", "tokens"),
    [
        (["79.000 kroner", "79000 kr", "79.000 kr.", "79 000 kr", "79 tusind kr"], ["79000", "kr"]),
        (["79 tusind", "79000", "79.000"], ["79000"]),
        (["316,5 millioner", "316,5 mio.", "316,5 mio", "316,5 mill."], ["316500000"]),
        (["316,5 mio kr", "316,5 mio. kr.", "316,5 millioner kroner"], ["316500000", "kr"]),
        (["10,0 mio. kr.", "10 mio kr", "10 millioner kroner"], ["10000000", "kr"]),
        (["50.000 kr.", "50000 kr", "50 tusind kroner"], ["50000", "kr"]),
        (["2,5 mia.", "2.500 mio", "2,5 milliarder"], ["2500000000"]),
        (["2022-2025", "2022 – 2025", "2022-25", "2022/2025"], ["2022", "2025", "2022_2025"]),
        (["20 pct.", "20 procent", "20%", "20 %"], ["20", "procent"]),
        (["1,4 pct.", "1,40 procent"], ["1_4", "procent"]),
    ],
)
def test_the_ways_people_type_a_number_give_the_same_tokens(
    variants: list[str], tokens: list[str]
) -> None:
    for variant in variants:
        assert words(variant) == tokens, variant


def test_numbers_that_are_not_amounts_are_left_alone() -> None:
    assert words("Tlf. 70 20 40 21") == ["tlf", "70", "20", "40", "21"]
    assert words("8600 Silkeborg") == ["8600", "silkeborg"]
    assert words("5-10 år") == ["5", "10", "år"]
    assert "2017" in words("opdateret 08.12.2017")
    assert words("2025-2022") == ["2025", "2022"]  # not a period: it runs backwards
    assert normalise_numbers("i alt 79.000 kr.").split() == ["i", "alt", "79000", "kr."]


def test_analyse_lowercases_drops_stop_words_and_stems_danish() -> None:
    assert analyse("Hvor mange hjemløse får en bolig i København?") == [
        "hjemløs",
        "får",
        "bol",
        "københavn",
    ]
    # NFC: a decomposed "å" (a + ring) is the same term as the composed one.
    assert analyse("Ra\u030adet") == analyse("Rådet") == ["råd"]
    assert analyse("Socialudvalgets arbejdsgrundlag") == ["socialudvalg", "arbejdsgrundlag"]


def test_stop_words_are_function_words_only() -> None:
    assert 100 <= len(STOP_WORDS) <= 160
    assert all(w == w.lower() for w in STOP_WORDS)
    for content in ("kommune", "borger", "udvalg", "socialudvalget", "bolig", "handicap", "kr"):
        assert content not in STOP_WORDS
    assert analyse("og i at det er på til som en den") == []


# --- compound splitting against a vocabulary ----------------------------------------------


def test_compounds_split_into_parts_the_vocabulary_knows() -> None:
    compounds = Compounds.from_words(
        words("botilbud plads fattigdom udsatte råd teknologi velfærd ende støtte")
    )
    assert compounds.split("botilbudspladser") == ["botilbud", "pladser"]
    assert compounds.split("udsatterådet") == ["udsatte", "rådet"]
    assert compounds.split("velfærdsteknologi") == ["velfærd", "teknologi"]
    # An unknown first part is allowed when the rest is a real head word.
    assert compounds.split("langtidsfattigdom") == ["langtid", "fattigdom"]


def test_remembered_splits_are_the_splits_and_the_memo_is_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Answers split the same words again and again, so Compounds remembers splits: a second
    split of every word of the corpus equals the first and a fresh instance's, and the memo
    stops growing at its bound."""
    corpus_words = words(" ".join(d.text for d in load_corpus(CORPUS).documents))
    remembered, fresh = Compounds.from_words(corpus_words), Compounds.from_words(corpus_words)
    first = [remembered.split(w) for w in corpus_words]
    assert any(first), "the corpus has compounds"
    assert [remembered.split(w) for w in corpus_words] == first
    assert [fresh.split(w) for w in reversed(corpus_words)] == first[::-1]
    first[0].append("changed by a caller")
    assert remembered.split(corpus_words[0]) != first[0]
    monkeypatch.setattr("retrieval.text.danish.SPLIT_MEMO", 5)
    small = Compounds.from_words(corpus_words)
    for w in corpus_words:
        small.split(w)
    assert len(small._splits) == 5


def test_compounds_refuse_inflections_stop_words_and_short_guesses() -> None:
    compounds = Compounds.from_words(words("ende støtte ser råd borger kommune"))
    assert compounds.split("pårørende") == []  # "-ende" is an ending, not the word "ende"
    assert compounds.split("understøtte") == []  # "under" is a stop word
    assert compounds.split("processer") == []
    assert compounds.split("borgerne") == []
    assert compounds.split("kommunens") == []
    assert compounds.split("79000") == []


def test_three_letter_parts_and_frequent_words_are_not_split() -> None:
    big = Compounds({"ten": 9, "nis": 9, "tennis": 1, "frank": 2, "rig": 3, "frankrig": 50})
    assert big.split("tennis") == []  # three letters without a linking "s"
    assert big.split("frankrig") == []  # used far more often than "frank" and "rig"
    small = Compounds({"langtidsfattigdom": 5, "fattigdom": 1, "udsatte": 3, "råd": 1})
    assert small.split("langtidsfattigdom") == ["langtid", "fattigdom"]  # too rare to judge
    assert small.split("udsatterådet") == ["udsatte", "rådet"]


def test_a_query_word_is_split_too(fixture_bm25: BM25Retriever) -> None:
    terms = fixture_bm25.query_terms("Hvor mange botilbudspladser?")
    assert terms == ["botilbudsplads", "botilbud", "plads"]


# --- retrieval on the inline fixture ------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("botilbud", {"bosted", "botilbud"}),  # query word inside a document compound
        ("botilbudspladser", {"bosted", "botilbud"}),  # query compound meets its part
        ("fattigdom", {"langtid", "fattig"}),
        ("udsatte", {"udsatteråd", "udsatte"}),
        ("Udsatterådet", {"udsatteråd", "udsatte", "råd"}),
        ("teknologi", {"velfærd", "teknologi"}),
    ],
)
def test_compounds_meet_their_parts(
    fixture_bm25: BM25Retriever, query: str, expected: set[str]
) -> None:
    assert set(_ids(fixture_bm25, query)) == expected


def test_whole_compound_ranks_above_a_passage_with_one_part(fixture_bm25: BM25Retriever) -> None:
    assert _ids(fixture_bm25, "botilbudspladser")[0] == "bosted"
    assert _ids(fixture_bm25, "langtidsfattigdom")[0] == "langtid"


def test_query_parts_can_be_switched_off() -> None:
    retriever = BM25Retriever(part_weight=0.0)
    retriever.index([_passage(pid, text) for pid, text in FIXTURE.items()])
    assert _ids(retriever, "botilbudspladser") == ["bosted"]
    assert set(_ids(retriever, "botilbud")) == {"bosted", "botilbud"}  # passages are still split


def test_params_record_what_changes_the_ranking(fixture_bm25: BM25Retriever) -> None:
    params = fixture_bm25.params
    assert params["stemmer"] == "danish" and params["method"] == "lucene"
    assert set(params["stop_words"]) == STOP_WORDS
    assert params["bm25s_version"] == version("bm25s")
    assert (params["k1"], params["b"], params["part_weight"]) == (1.2, 0.75, 0.3)


@pytest.mark.parametrize("query", ["79000 kr", "79.000 kroner", "79 tusind", "316,5 mio. kr."])
def test_amounts_match_however_they_are_typed(fixture_bm25: BM25Retriever, query: str) -> None:
    assert _ids(fixture_bm25, query)[0] == "budget"


@pytest.mark.parametrize("query", ["", "   ", "?!", "og i at det er", "Hvad er det, vi har?"])
def test_empty_or_stop_word_queries_return_nothing(fixture_bm25: BM25Retriever, query: str) -> None:
    assert fixture_bm25.search(query) == []


def test_only_matching_passages_are_returned_best_first(fixture_bm25: BM25Retriever) -> None:
    hits = fixture_bm25.search("teknologi i hjemmeplejen", k=50)
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert [h.passage.id for h in hits] == ["teknologi", "velfærd"]
    assert all(h.score > 0 for h in hits)
    assert hits[0].score > hits[1].score


def test_k_larger_than_the_corpus_and_invalid_k(fixture_bm25: BM25Retriever) -> None:
    hits = fixture_bm25.search("ærø", k=1000)  # the municipality is in every passage's header
    assert len(hits) == len(FIXTURE)
    assert len(fixture_bm25.search("ærø", k=3)) == 3
    with pytest.raises(ValueError, match="k must be at least 1"):
        fixture_bm25.search("ærø", k=0)


def test_unindexed_and_reindexed_retrievers() -> None:
    retriever = BM25Retriever(k1=0.9, b=0.4)
    assert retriever.search("botilbud") == []
    assert len(retriever.passages) == 0
    retriever.index([_passage("a", "Et botilbud i Ærø.")])
    assert _ids(retriever, "botilbud") == ["a"]
    retriever.index([_passage("b", "Fattigdom i Ærø.")])
    assert _ids(retriever, "botilbud") == []
    assert [p.id for p in retriever.passages] == ["b"]
    retriever.index([])
    assert retriever.search("fattigdom") == []


def test_searching_from_many_threads_gives_the_serial_answers(
    fixture_bm25: BM25Retriever,
) -> None:
    queries = ["botilbud", "fattigdom", "Udsatterådet", "79000 kr", "teknologi", "råd"] * 40
    serial = [_ids(fixture_bm25, q) for q in queries]
    with ThreadPoolExecutor(max_workers=8) as pool:
        parallel = list(pool.map(lambda q: _ids(fixture_bm25, q), queries))
    assert parallel == serial


# --- retrieval on the embedded corpus -----------------------------------------------------


def test_corpus_botilbudspladser_finds_silkeborg(corpus_bm25: BM25Retriever) -> None:
    for query in ("botilbudspladser", "botilbud", "Hvor mange pladser er der på botilbud?"):
        top = corpus_bm25.search(query)[0].passage
        assert top.municipality == "Silkeborg", query
        assert "botilbudspladser" in top.text


def test_corpus_fattigdom_finds_every_langtidsfattigdom_passage(
    corpus_bm25: BM25Retriever,
) -> None:
    wanted = {p.id for p in corpus_bm25.passages if "langtidsfattigdom" in p.text}
    assert wanted
    assert all(
        "københavn" in p.municipality.lower() for p in corpus_bm25.passages if p.id in wanted
    )
    assert wanted <= set(_ids(corpus_bm25, "fattigdom", k=50))


def test_corpus_udsatteraadet_finds_the_soenderborg_budget(corpus_bm25: BM25Retriever) -> None:
    # With five documents the Sønderborg budget was the only one naming an udsatteråd (top 2);
    # six towns' documents do now, and every passage that names one must rank above all others.
    wanted = {p.id for p in corpus_bm25.passages if "udsatteråd" in p.text.lower()}
    assert any(pid.startswith("sonderborg-budget-2017#") for pid in wanted)
    top = corpus_bm25.search("Udsatterådet", k=len(wanted))
    assert {h.passage.id for h in top} == wanted
    assert any("Udsatterådet" in h.passage.text for h in top[:2])


def test_corpus_teknologi_finds_velfaerdsteknologi(corpus_bm25: BM25Retriever) -> None:
    wanted = {p.id for p in corpus_bm25.passages if "velfærdsteknologi" in p.text.lower()}
    assert len(wanted) >= 2
    assert wanted <= set(_ids(corpus_bm25, "teknologi", k=50))


@pytest.mark.parametrize(
    "query",
    ["79000 kr", "79.000 kroner", "79 tusind", "79.000 kr.", "79 000 kr", "79 tusind kroner"],
)
def test_corpus_each_form_of_79000_kr_ranks_the_budget_first(
    corpus_bm25: BM25Retriever, query: str
) -> None:
    top = corpus_bm25.search(query)[0].passage
    assert top.document_id == "sonderborg-budget-2017"
    assert "79.000 kroner" in top.text


@pytest.mark.parametrize(
    ("query", "phrase"),
    [("316,5 mio", "316,5 millioner"), ("10 mio", "10,0 mio. kr."), ("50000", "50.000 kr.")],
)
def test_corpus_other_amounts(corpus_bm25: BM25Retriever, query: str, phrase: str) -> None:
    assert phrase in corpus_bm25.search(query)[0].passage.text


def test_corpus_stop_words_match_nothing(corpus_bm25: BM25Retriever) -> None:
    assert corpus_bm25.search("og i at det er på til som en den", k=50) == []
    assert corpus_bm25.search("", k=50) == []


def test_corpus_k_larger_than_the_corpus(corpus_bm25: BM25Retriever) -> None:
    hits = corpus_bm25.search("socialudvalget", k=10_000)
    assert 0 < len(hits) <= len(corpus_bm25.passages)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True) and scores[-1] > 0
