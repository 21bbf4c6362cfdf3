"""What a question asks for, whether a text holds it, and cross-validation by whole towns."""

from __future__ import annotations

import pytest

from evaluation.crossval import Asked, crossvalidate, folds
from evaluation.gold import GoldQuestion
from retrieval.answer.abstain import FEATURES, Evidence
from retrieval.answer.asks import (
    AMOUNT,
    COUNT,
    DATE,
    DURATION,
    EMAIL,
    HOURS,
    NAME,
    PERCENT,
    PERSON,
    PHONE,
    PLACE,
    asked,
    best_holding,
    bound,
    coverage,
    head_bound,
    holds,
)
from retrieval.answer.assistant import Assistant
from retrieval.answer.highlight import best_sentences
from retrieval.answer.rerank import DEPTH, AnswerReranked, answer_signal, rerank, states_head
from retrieval.text.danish import Compounds, words
from retrieval.types import Hit, Passage


@pytest.mark.parametrize(("question", "shape"), [
    ("Hvor mange penge bruger Socialudvalget i Sønderborg på demokrati?", AMOUNT),
    ("Hvad koster en plejebolig om måneden i Rødovre?", AMOUNT),
    ("how much money goes to the homeless in Aalborg", AMOUNT),
    ("Hvor lang er ventetiden på et botilbud i Esbjerg Kommune?", DURATION),
    ("ventetid plejebolig lejre", DURATION),
    ("Hvornår blev politikken vedtaget?", DATE),
    ("Hvor mange borgere er i misbrugsbehandling i Tønder Kommune?", COUNT),
    ("Hvem er formand for Socialudvalget i Faxe Kommune?", NAME),
    ("hvem står i spidsen for området", PERSON),
    # "hvis" is mostly "if", not "whose"
    ("hvad sker der hvis temaerne ikke leverer forslag nok", None),
    ("hvilken forening får tilskud", PERSON),
    ("Hvor mange procent af borgerne er tilfredse?", PERCENT),
    ("Hvad er visionen for psykiatri og handicap?", None),
    # without a question word, or after "hvad er", the noun names the kind of thing
    ("aalborg hjemløsestrategi budget kroner", AMOUNT),
    ("Hvad er skatteprocenten i 2013?", PERCENT),
    ("svendborg antal plejecentre", COUNT),
    ("hotline åbningstid", HOURS),
    ("Hvornår har borgerservice åbent?", HOURS),
    ("helle schultz telefon", PHONE),
    # …but not in a yes/no question or a question about something else
    ("giver kommunen tilskud til lønninger", None),
    ("hvad vil silkeborg gøre ved antallet af pladser", None),
    ("Hvilke områder skal tilbudsviften dække?", None),
])
def test_the_kind_of_thing_asked_for_comes_from_danish_question_grammar(
    question: str, shape: str | None
) -> None:
    assert asked(question).shape == shape


@pytest.mark.parametrize(("shape", "text", "expected"), [
    (AMOUNT, "Socialudvalget bruger 79.000 kroner på demokrati.", True),
    (AMOUNT, "Der er tilført 10,0 mio. kr. til området.", True),
    (AMOUNT, "Udvalget arbejder med 79 borgere.", False),
    (DURATION, "Ventetiden er typisk 6 måneder.", True),
    (DURATION, "Ventetiden er kort.", False),
    (DATE, "Politikken blev vedtaget den 24. november 2022.", True),
    (PERCENT, "24 pct. af borgerne er tilfredse.", True),
    (PERSON, "Formand er Jens Hansen.", True),
    (PERSON, "det er besluttet.", False),
    (COUNT, "Der er 124 plejeboliger.", True),
    (COUNT, "Der er seks borgere i rådet.", True),
    # a year, a paragraph, a share and an article are not counts
    (COUNT, "Efter § 18 blev politikken i 2023 fulgt af en plan med 24 pct. flere.", False),
    (NAME, "Formand er Rosa Lykke Yde.", True),
    (NAME, "Formanden for Handicaprådet har ordet.", False),
    (HOURS, "Åben mandag til torsdag kl. 15.00 - 20.00.", True),
    (HOURS, "Hotlinen har åbent hele året.", False),
    (PHONE, "Ring på 27 90 02 46.", True),
    (PHONE, "Budgettet er 316,5 mio. kr.", False),
    # "hvornår": a week number, a time from now or from an event
    (DATE, "Der forventes svar i uge 49/50.", True),
    (DATE, "Der evalueres om ca. 1 år.", True),
    (DATE, "Indsatsen gives, så snart handicappet er konstateret.", True),
    (DATE, "Rådet mødes fire gange om året.", False),
    # "hvor længe gælder …": when it ends
    (DURATION, "Politikken gælder frem til 2024.", True),
    (DURATION, "Borgerne finder frem til Ældrevejlederen.", False),
    # a body after an acronym
    (PERSON, "Et af dem var fra foreningen LEV Sønderborg.", True),
    (None, "Hvad som helst.", True),
])
def test_a_text_holds_the_kind_of_thing_or_not(shape: str | None, text: str,
                                               expected: bool) -> None:
    assert holds(shape, text) is expected


def test_coverage_meets_compounds_and_weighs_words_the_corpus_rarely_uses() -> None:
    corpus = ("botilbud pladser plads botilbud kommune kommune kommune kommune borger borger "
              "plejebolig ventetid")
    compounds = Compounds.from_words(words(corpus))
    ask = asked("Hvor mange botilbudspladser har kommunen?", compounds)
    assert coverage(ask, "Kommunen opretter 20 nye pladser på botilbud.", compounds) == 1.0
    rare_missing = asked("kommune plejebolig", compounds)
    # "kommune" is everywhere in the corpus, "plejebolig" is not: missing it costs more
    assert coverage(rare_missing, "Kommunen har en plan.", compounds) < 0.5
    assert coverage(rare_missing, "Plejeboligen er ny.", compounds) > 0.5


def test_the_thing_and_the_words_must_meet_in_one_sentence() -> None:
    ask = asked("Hvad koster en plejebolig om måneden?")
    apart = ["En plejebolig er en bolig med pleje.", "Budgettet er 40 mio. kr."]
    together = ["En plejebolig koster 7.000 kr. om måneden."]
    assert best_holding(ask, together) > best_holding(ask, apart)


def test_a_count_answers_only_where_the_thing_counted_follows_the_number() -> None:
    ask = asked("Hvor mange hjemløse er der?")
    assert bound(ask, "I 2017 talte vi 120 hjemløse i kommunen.") == 1.0
    # the topic and a number in one sentence, but the number counts something else
    assert bound(ask, "Hjemløse får hjælp af 3 medarbejdere.") < 0.5


def test_the_words_must_be_near_the_thing_asked_for() -> None:
    ask = asked("Hvad koster en plejebolig om måneden?")
    near = "En plejebolig koster 7.000 kr. om måneden for den enkelte beboer i kommunen."
    far = ("En plejebolig er en bolig med pleje døgnet rundt, som visitationen tildeler efter "
           "en samlet vurdering af behovet hos den ældre. Kommunens samlede budget for "
           "området er 40 mio. kr.")
    assert bound(ask, near) > bound(ask, far)


@pytest.mark.parametrize(("question", "head"), [
    # a role and whose role it is
    ("Hvem er formand for Handicaprådet i Sønderborg?", ("formand", "handicapråd")),
    ("hvem er borgmester i randers", ("borgmest",)),
    # the noun counted, after the question words or after "antal"; light verbs are skipped
    ("Hvor mange ansøgninger om §18-tilskud modtog kommunen?", ("ansøgning",)),
    ("hvor mange stod på venteliste til en plejebolig", ("ventelist",)),
    ("roskilde rehabilitering antal borgere", ("borg",)),
    # a description question asks about no kind of thing
    ("Hvad er visionen for psykiatri og handicap?", ()),
])
def test_the_words_a_kind_is_asked_about_come_from_the_question_grammar(
    question: str, head: tuple[str, ...]
) -> None:
    assert tuple(word[0] for word in asked(question).head) == head


def test_a_role_is_answered_only_by_a_name_next_to_it_and_whose_role_it_is() -> None:
    ask = asked("Hvem er formand for Handicaprådet?")
    assert head_bound(ask, "Handicaprådets formand Jeppe Bülow-Lehnsby fortæller om politikken.")
    # another body's chair, with a word of the body's name nearby ("Handicap")
    assert not head_bound(ask, "Preben Storm, formand for Social- og Seniorudvalget. Helle "
                               "Schultz, chef for Psykiatri og Handicap.")
    # the members, without the role
    assert not head_bound(ask, "Handicaprådet: Deltagere • Pia Vestergaard • Jens Erik Damgaard")


@pytest.mark.parametrize(("question", "personal"), [
    ("Hvordan fornyer jeg mit pas?", True),
    ("Hvem kan jeg kontakte om udsatterådet?", True),
    ("How do I apply for Danish citizenship?", True),
    ("I hvilket år blev politikken vedtaget?", False),  # Danish "i", not English "I"
    ("Hvordan vil kommunen hjælpe borgerne?", False),
])
def test_a_question_about_the_askers_own_case_is_told_from_grammar(question: str,
                                                                   personal: bool) -> None:
    assert asked(question).personal is personal


def test_a_number_naming_something_is_a_key_word_one_in_a_date_or_paragraph_is_not() -> None:
    assert ("3",) in asked("Hvad handler princip 3 om?").terms
    assert ("28",) in asked("Hvilket punkt 28 blev udsat?").terms
    assert not any(t[0].isdigit() for t in asked("ventet den 12. juli 2011").terms)
    assert not any(t[0].isdigit() for t in asked("brønderslev §18 pulje beløb").terms)
    assert not any(t[0].isdigit() for t in asked("der var 27 borgere").terms)


def test_an_ordinal_or_a_list_number_is_not_a_count() -> None:
    ask = asked("hvor mange borgere får hjælp af ældrevejlederen")
    assert not head_bound(ask, "1. Hvor mange borgere får hjælp af Ældrevejlederen?")
    assert head_bound(ask, "Ældrevejlederen hjalp 124 borgere i 2019.")
    assert not holds(COUNT, "Mødet den 12. november.")


def test_a_meeting_place_is_asked_for_and_held() -> None:
    assert asked("Hvor holdt udvalget møde i maj 2022?").shape == PLACE
    assert asked("Where did the committee meet in April 2021?").shape == PLACE
    assert asked("Hvor mange borgere bor på botilbud?").shape == COUNT
    assert holds(PLACE, "Sted: Rådhuset, mødelokale 2A")
    assert holds(PLACE, "Videbæk Hjemmepleje, Stationsvej 8, Videbæk")
    assert not holds(PLACE, "Udvalget drøftede 4 salg af grunde.")


def _evidence(score: float) -> Evidence:
    values = dict.fromkeys(FEATURES, score)
    return Evidence(**values, year_missing=False)  # type: ignore[arg-type]


def _asked(qid: str, town: str, answerable: bool, score: float) -> Asked:
    q = GoldQuestion(qid, f"spørgsmål {qid}", answerable, "fact" if answerable else "unanswerable",
                     town, "doc" if answerable else "", "svar" if answerable else "")
    return Asked(q, town, (), (), (), 5, "", _evidence(score))


def test_the_highlight_brings_the_asked_for_thing_from_the_line_next_to_its_subject() -> None:
    """A name sits on the line above its title: the title's line matches the question's words,
    the name answers it."""
    text = ("Torben Hansen\nBorgmester\nRosa Lykke Yde\nFormand for Socialudvalget\n"
            "Politikken beskriver rammerne for kommunens samarbejde med borgere med handicap.")
    highlight = best_sentences("Hvem er formand for Socialudvalget i Randers?", text)
    assert "Rosa Lykke Yde" in highlight and "Torben Hansen" not in highlight
    # a description question brings no line for a kind it does not ask for
    assert "Rosa" not in best_sentences("Hvad beskriver politikken?", text)


def test_a_sentence_pointing_back_brings_the_one_before_it() -> None:
    """ "Derfor …" answers "hvorfor" only with the sentence it points back to."""
    text = ("Kommunen har arbejdet med økonomisk balance i flere år. Området er fortsat under et "
            "stort udgiftspres. Derfor har centret udarbejdet en plan for socialområdet for "
            "voksne. Planen blev godkendt i marts 2014 af byrådet efter en lang høring.")
    highlight = best_sentences("Hvorfor lavede kommunen en plan for socialområdet for voksne?",
                               text)
    assert "udgiftspres" in highlight and "godkendt" not in highlight


def test_a_numbered_item_looks_for_the_asked_for_thing_after_it() -> None:
    """A numbered goal is followed by its figure; the figure before it is the previous goal's."""
    text = ("1. Flere får anvist en bolig.\nEt mål kunne være en stigning på ca. 20 pct.\n"
            "2. Færre udsættes fra deres bolig på årsplan.\nEt mål kunne være 80 færre "
            "udsættelser.\nDet svarer til et fald på ca. 15 pct.")
    highlight = best_sentences("Med hvor mange procent skal udsættelser fra boliger falde?", text)
    assert "15 pct." in highlight and "20 pct." not in highlight


def test_a_lead_in_ending_in_a_colon_is_never_the_last_line_shown() -> None:
    text = ("Her kan du hente hele planen for socialområdet.\nHvis du vil høre mere om planen "
            "kan du kontakte:\nHenriette Holmskov,\nhenrietteho@htk.dk\nTlf: 51 43 05 98")
    highlight = best_sentences("kontaktperson plan socialområdet", text)
    assert "Henriette Holmskov" in highlight
    assert asked("What is the email address of the contact person?").shape == EMAIL
    assert holds(EMAIL, text) and not holds(EMAIL, "Skriv til os.")
    assert holds(DATE, "SLUTTIDSPUNKT 04-06-2020 11:00:00")


@pytest.mark.slow
@pytest.mark.parametrize(("question", "answer"), [  # labelled in evaluation/data/towns.jsonl
    ("Hvem er formand for Socialudvalget i Randers?", "Rosa Lykke Yde"),  # t058
    ("Hvor længe havde man i gennemsnit ventet på en plejebolig i Lejre den 12. juli 2011?",
     "289 dage"),  # t205
    ("What percentage increase does Copenhagen aim for in people with special needs getting "
     "a job or education?", "en stigning på 1,4 pct."),  # t021
    ("hvem havde meldt afbud til social- og sundhedsudvalgets møde på bornholm",
     "Carsten Scheibye"),  # t183
])
def test_the_first_highlight_holds_the_labelled_answer(assistant: Assistant, question: str,
                                                       answer: str) -> None:
    """Through the product, over the embedded corpus, with stored sentence and window vectors:
    short answer sentences next to the sentence naming their subject (each missed before the
    window context and the asked-for-thing reach)."""
    hits = assistant.ask(question).hits
    assert hits and answer in hits[0].highlight, hits[0].highlight if hits else None


def test_folds_hold_out_whole_towns_and_judge_every_question_once() -> None:
    towns = [f"By{i}" for i in range(10)]
    parts = folds(towns * 3, 5)
    assert sorted(t for p in parts for t in p) == sorted(towns)
    assert all(len(p) == 2 for p in parts)
    asked_ = [_asked(f"q{t}{i}", t, i % 3 != 0, 1.0 if i % 3 else 0.0)
              for t in towns for i in range(6)]
    result = crossvalidate(asked_, 5, ["dense_top"])
    assert result["answerable"] + result["unanswerable"] == len(asked_)
    # separable evidence: held-out towns are judged right by rules fitted without them
    assert result["unanswerable_abstained"] == 1.0
    assert result["answerable_abstained"] == 0.0


@pytest.mark.slow
def test_the_passage_whose_sentence_answers_is_moved_up(assistant: Assistant) -> None:
    """Through the product: fusion puts another town's minutes (which name the committee's
    members, no deputy chair) first; the answer signals of each passage's best sentence move
    the policy that names the deputy chair to the top, and its highlight holds the name."""
    question = "Hvem er næstformand i Social- og Seniorudvalget?"  # g037 in gold.jsonl
    reranked = assistant.retrievers["hybrid"]
    assert isinstance(reranked, AnswerReranked) and reranked.weight > 0
    fused = reranked.inner.search(question, 5)
    assert not fused[0].passage.id.startswith("sonderborg-socialpolitik")
    hits = assistant.ask(question).hits
    assert hits[0].passage.id.startswith("sonderborg-socialpolitik")
    assert "Ganeswaran Shanmugaratnam" in hits[0].highlight
    # the same passages, only the first DEPTH re-ordered
    assert {h.passage.id for h in hits} <= {h.passage.id for h in reranked.inner.search(
        question, 10)}


def test_rerank_orders_by_score_plus_weighted_signal_and_keeps_the_tail() -> None:
    passages = [Passage(f"d#{i:03d}", "d", i, f"tekst {i}", "T", "By", "Udvalg", "politik",
                        "2020", "2020-01-01", "kilde") for i in range(7)]
    hits = [Hit(p, 1.0 - 0.1 * i, i + 1) for i, p in enumerate(passages)]
    signals = {"d#001": 0.5, "d#006": 9.0}  # d#006 is beyond the depth: never moved
    out = rerank(hits, signals, weight=1.0, depth=5)
    assert [h.passage.id for h in out] == ["d#001", "d#000", "d#002", "d#003", "d#004",
                                          "d#005", "d#006"]
    assert [h.rank for h in out] == list(range(1, 8))
    assert rerank(hits, signals, weight=0.0) == hits
    # a passage stating a role or count's head comes first whatever it scores
    first = rerank(hits, signals, weight=1.0, first={"d#003"})
    assert [h.passage.id for h in first][:3] == ["d#003", "d#001", "d#000"]
    # each hit carries the score it was ranked by: scores fall as ranks do
    for ranked_ in (out, first):
        scores = [h.score for h in ranked_]
        assert scores == sorted(scores, reverse=True)
    assert out[0].score == pytest.approx(0.9 + 0.5)


@pytest.mark.slow
def test_the_passage_naming_the_role_next_to_a_name_comes_first(assistant: Assistant) -> None:
    """Through the product: Rudersdal's news item runs over two passages; by score and
    answer signals the second comes first (another committee's chair, "Formand for Social- og
    Sundhedsudvalget Birgitte …"), the first states "Handicaprådets formand Jeppe …"."""
    question = "hvem er formand for handicaprådet i rudersdal"  # t087 in towns.jsonl
    reranked = assistant.retrievers["hybrid"]
    assert isinstance(reranked, AnswerReranked)
    compounds = assistant.lexical.compounds
    ask = asked(question, compounds)
    answer, _, ranking = assistant.inspect(question)  # searched within Rudersdal
    assert ranking is not None
    fused = ranking.stages["fused"]
    signals = {h.passage.id: answer_signal(ask, h.passage, compounds) for h in fused[:DEPTH]}
    by_signal = rerank(fused, signals, reranked.weight)
    assert not states_head(ask, by_signal[0].passage, compounds)
    hits = answer.hits
    assert states_head(ask, hits[0].passage, compounds)
    assert "Jeppe Bülow-Lehnsby" in hits[0].highlight
