"""What a question asks for, read from Danish question grammar, and whether a text holds it.

A passage about the right topic is not yet an answer: "Hvor lang er ventetiden på et botilbud?"
is answered by a duration, "Hvem er formand?" by a name, "Hvad koster en plejebolig?" by an
amount. Abstention and highlighting both ask the same two things of the text they would cite:
does it hold that kind of thing, and does it use the question's own key words (stems and
compound parts, so "botilbudspladser" meets "botilbud")? Every pattern here is grammar or
ordinary vocabulary (question words, units, month names), never one document's wording.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from retrieval.text.danish import Compounds, word_terms, words
from retrieval.text.places import strip_places
from retrieval.text.words import LIGHT_VERBS, MONTH_NAMES, NOT_CONTENT

AMOUNT, COUNT, DURATION, DATE, PERSON, PERCENT, HOURS, PHONE, NAME, EMAIL, PLACE = (
    "amount", "count", "duration", "date", "person", "percent", "hours", "phone", "name",
    "email", "place")
HEADED = (NAME, COUNT)  # kinds named next to the word asked about: "formand X", "17 høringssvar"

_Q = {  # first match wins: the more specific questions come first
    HOURS: (r"åbningstid\w*|hvornår (har|er) [\w ]{0,30}(åben|åbent|lukket)|opening hours|when "
            r"is [\w ]{0,30} open"),
    EMAIL: r"e-?mail\w*|mailadresse\w*",
    PHONE: r"telefon\w*|tlf|phone( number)?|ringe til",
    PERCENT: r"hvor (mange|stor(e)?) (procent|pct|andel)|hvilken andel|what (share|percentage)",
    AMOUNT: (r"hvor (mange|meget) (penge|kroner|kr|mio|millioner|mia)|hvad koster|hvad (kostede|"
             r"koster)|hvor (meget|mange) (koster|kostede|bruger|brugte|bruges|får|fik|gives|"
             r"giver|afsætter|afsatte|afsættes|sparer|spares|investerer|tilføres|bevilger|"
             r"bevilges|bevilgede)|hvor stort (er|var|bliver)? ?(budget|beløb|tilskud)\w*|"
             r"hvor (store|stort) (er|var)? ?(udgift|besparelse|ramme)\w*|hvad (er|var|bliver) "
             r"(prisen|budgettet|beløbet|tilskuddet|egenbetalingen|udgiften)|how much"),
    DURATION: (r"hvor (lang|lange|længe)|hvor lang tid|ventetid\w*|how long|hvor mange "
               r"(dage|uger|måneder|år|timer)"),
    DATE: (r"hvornår|hvilken dato|hvilket år|hvilken måned|hvilke år|fra hvilket år|"
           r"when|which year|what date"),
    COUNT: r"hvor mange|how many",
    PLACE: (r"hvor (holdt|holdes|afholdt|afholdes|foregik|foregår|mødtes|mødes|ligger|lå)|"
            r"hvilket sted|mødested\w*|where"),
    # "Hvem er formand …" is answered by a person's name, not by a body.
    NAME: (r"(hvem|who) (er|var|bliver|blev|is|was) (\w+ )?(formand|forkvinde|næstformand|"
           r"borgmester|\w*borgmester|rådmand|\w*chef|leder|direktør|kontaktperson|ordfører|"
           r"sekretær|chair\w*|mayor|head|director)\w*"),
    PERSON: (r"hvem|who|whose|(hvilken|hvilket|hvilke|which) (\w+ )?(forening\w*|"
             r"organisation\w*|råd\w*|udvalg\w*|formand\w*|forkvinde\w*|borgmester\w*|"
             r"politiker\w*|parti\w*|leverandør\w*|aktør\w*|partner\w*|myndighed\w*|"
             r"forvaltning\w*|afdeling\w*|person\w*|medlem\w*|minister\w*|institution\w*|"
             r"virksomhed\w*)"),
}
_QUESTION = {shape: re.compile(rf"\b({pattern})\b") for shape, pattern in _Q.items()}
# Without a question word ("aalborg hjemløsestrategi budget kroner") or after "hvad er"
# ("hvad er skatteprocenten …"), the noun names the kind of thing asked for.
_NOUN = {
    PERCENT: r"\w*(procent|procenten)|pct|andel(en)?",
    AMOUNT: (r"kroner|kr|beløb\w*|penge|\w*(pris|prisen|takst|taksten|budget|budgettet|"
             r"egenbetaling|egenbetalingen|tilskud|tilskuddet)"),
    COUNT: r"antal(let)?",
}
_NOUN_RE = {shape: re.compile(rf"\b({pattern})\b") for shape, pattern in _NOUN.items()}
# A question word anywhere, or a verb first (a yes/no question): not a keyword query.
_ANY_QUESTION_WORD = re.compile(r"\b(hv\w+|who|what|when|where|which|why|how)\b|^\s*(er|var|har|"
                                r"havde|kan|kunne|skal|skulle|vil|ville|må|får|fik|giver|gav|"
                                r"bliver|blev|gælder|findes|kommer|tæller|betyder|is|are|does|do|"
                                r"can|will)\b")
_WHAT_IS = re.compile(r"^\s*(hvad|what) (er|var|bliver|blev|is|was)\b")
# Words that only say which kind of thing is asked for; the rest of the question says what about.
_CUES = frozenset("""
    hvor hvad hvem hvis hvilken hvilket hvilke hvornår hvordan hvorfor mange meget lang lange
    længe stor store stort koster kostede antal andel procent pct tid dato when which what who
    how much many long kommune kommunen kommunens penge kroner kr beløb beløbet antal antallet
    procent procenten pct telefon telefonnummer telefonnummeret tlf åbningstid åbningstider
    phone number percentage
""".split())  # noqa: SIM905

_NUMBER = r"\d+(?:[.,]\d+)*"
_NUMBER_WORDS = (r"en|et|én|ét|to|tre|fire|fem|seks|syv|otte|ni|ti|elleve|tolv|tyve|tredive|"
                 r"fyrre|halvtreds|hundrede|tusind|halvt|halvandet|nogle")
_UNTIL = (r"\b(frem til|indtil|til og med|til udgangen af)\s+"
          rf"((19|20)\d\d|\d{{1,2}}\.|{MONTH_NAMES})")
_HOLDS = {
    AMOUNT: rf"{_NUMBER}\s*(kr\b|kroner|mio|mia|millioner|milliarder|mill\b|tusind|dkk)|kr\.?\s*"
            rf"{_NUMBER}",
    PERCENT: rf"{_NUMBER}\s*(%|pct|procent)",
    # "Hvor længe gælder politikken?" is answered by when it ends: "frem til 2024".
    DURATION: rf"\b({_NUMBER}|{_NUMBER_WORDS})\s+(\w+\s+)?(dag|døgn|uge|måned|år|time|minut)"
              rf"\w*|\b(dag|uge|måned|år)lig\w*|{_UNTIL}",
    # A week number ("i uge 49/50"), or a time relative to now or to an event ("om ca. 1 år",
    # "så snart handicappet er konstateret") answers "hvornår" too.
    DATE: rf"\b(19|20)\d\d\b|\b({MONTH_NAMES})\b|"
          r"\b\d{1,2}\.\s?\d{1,2}\.|\b\d{1,2}[-/]\d{1,2}[-/](19|20)\d\d\b|"
          rf"\buge\s?\d{{1,2}}\b|\bom\s+(ca\.?\s+|cirka\s+|omkring\s+)?({_NUMBER}|{_NUMBER_WORDS})"
          r"\s+(dag|døgn|uge|måned|år)\w*|\bså snart\b",
    # A count, not a year, a paragraph ("§ 18"), a share, an ordinal or list number ("3. juni",
    # "1. Hvor mange …") or an article ("en", "et").
    COUNT: r"(?<![§\d.,])(?<!§ )(?!(?:19|20)\d\d\b)\d+(?:[.,]\d+)*(?![\d.,]*\s*(?:%|pct|procent))"
           r"(?!\d|\.(?:\s|$))|"
           r"\b(én|ét|to|tre|fire|fem|seks|syv|otte|ni|ti|elleve|tolv|tyve|tredive|fyrre|"
           r"halvtreds|hundrede|tusind)\b",
    HOURS: r"\bkl\.?\s*\d|\b\d{1,2}[.:]\d{2}\s*[-–]\s*\d{1,2}|\b(mandag|tirsdag|onsdag|torsdag|"
           r"fredag|lørdag|søndag|hverdage)\w*",
    PHONE: r"\b\d{2}\s?\d{2}\s?\d{2}\s?\d{2}\b",
    EMAIL: r"\b[\w.+-]+@[\w-]+\.[\w.]+",
    # A meeting room, a town hall, or a street address ("Stationsvej 8", "Kanalstræde 2").
    PLACE: (r"\b(mødelokale\w*|lokale|\w*sal(en)?|rådhus\w*|\w+(vej|gade|stræde|allé|plads|"
            r"torv|vænge|vænget|bakken|huset|centret|svinget))\b(\s+\d+\w?)?"),
}
# A person or a body: two capitalised words, or one capitalised word inside a sentence (also
# after an acronym: "foreningen LEV Sønderborg").
_UPPER, _LOWER = "A-ZÆØÅÄÖÜÉ", "a-zæøåäöüéèáó"  # names from abroad too ("Bülow", "Sjöberg")
_NAME = re.compile(rf"\b[{_UPPER}][{_LOWER}]+[ -][{_UPPER}][{_LOWER}]+|"
                   rf"(?<=[{_LOWER}{_UPPER},] )[{_UPPER}][{_LOWER}]{{2,}}")
# A person's full name: two or more capitalised words in a row ("Rosa Lykke Yde").
_FULL_NAME = re.compile(
    rf"\b[{_UPPER}][{_LOWER}]+(?:[ -][{_UPPER}]\.)?(?:[ -][{_UPPER}][{_LOWER}]+)+")
# Case matters for names only.
_HOLDS_RE = {**{shape: re.compile(pattern, re.IGNORECASE) for shape, pattern in _HOLDS.items()},
             PERSON: _NAME, NAME: _FULL_NAME}
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
# The asker's own case ("hvordan fornyer jeg mit pas", "how do I apply"): committees' documents
# set policy and budgets, they rarely say what one citizen should do.
# English "I" only after a verb: Danish "i" is a preposition ("I hvilket år …").
_PERSONAL = re.compile(r"\b(jeg|mig|min|mit|mine|my|me)\b|\b(do|can|should|shall|will|may|am) i\b",
                       re.IGNORECASE)
# A number that names something ("princip 3", "punkt 28") is a key word; one in a date, an
# ordinal or a paragraph ("12. juli", "§18") is not.
_LABELLED = re.compile(r"\b([a-zæøå]{3,}) (\d{1,3})\b(?![.,]?\d|\.)")


@dataclass(frozen=True)
class Ask:
    """The kind of thing asked for (None: a goal, a plan, a description), the years named,
    and the question's key words as index terms (first the word's stem, then its parts)."""

    shape: str | None
    years: tuple[str, ...]
    terms: tuple[tuple[str, ...], ...]
    # The words the kind of thing is asked about, as terms: the role and whose it is in "hvem
    # er *formand* for *Handicaprådet*", the noun counted in "hvor mange *ansøgninger* …".
    # Empty when the kind comes from a noun alone or nothing is asked for.
    head: tuple[tuple[str, ...], ...] = ()
    personal: bool = False  # asked in the first person singular: about the asker's own case

    @property
    def headed(self) -> bool:
        """A role's holder or a count, asked about something named: only a text that states
        the thing next to those words answers it (`head_bound`)."""
        return self.shape in HEADED and bool(self.head)


@lru_cache(maxsize=1024)  # one answer reads its question ~7 times (re-ranking, each highlight,
# the evidence); an Ask is frozen, so all may share it
def asked(question: str, compounds: Compounds | None = None) -> Ask:
    q = question.casefold()
    found = next(((s, m) for s, pattern in _QUESTION.items() if (m := pattern.search(q))), None)
    if found is None and (_WHAT_IS.search(q) or not _ANY_QUESTION_WORD.search(q)):
        found = next(((s, m) for s, pattern in _NOUN_RE.items() if (m := pattern.search(q))),
                     None)
    shape = found[0] if found else None
    labelled = {n for label, n in _LABELLED.findall(q) if label not in NOT_CONTENT}
    content = [w for w in words(strip_places(question))
               if w not in _CUES and w not in NOT_CONTENT
               and (w in labelled if w.isdigit() else len(w) > 1)]
    terms = tuple(dict.fromkeys(t for w in content if (t := tuple(word_terms(w, compounds)))))
    head: tuple[tuple[str, ...], ...] = ()
    if found:
        # the first content word after the question words; for a role, the role itself (the
        # question words' last) and that word, whose role it is
        start, stop = found[1].span()
        after = [w for w in words(strip_places(q[stop:]))
                 if w in content and w not in LIGHT_VERBS][:1]
        chosen = [*words(q[start:stop])[-1:], *after] if shape == NAME else after
        head = tuple(t for w in chosen if (t := tuple(word_terms(w, compounds))))
    return Ask(shape, tuple(_YEAR.findall(question)), terms, head,
               bool(_PERSONAL.search(question)))


def holds(shape: str | None, text: str) -> bool:
    """Whether the text holds a thing of that kind (any text holds "no particular kind")."""
    return shape is None or bool(_HOLDS_RE[shape].search(text))


def coverage(ask: Ask, text: str, compounds: Compounds | None = None) -> float:
    """Share of the question's key words the text uses, each weighted by how rare it is in the
    corpus (a word the corpus never uses weighs most: it is what the question is about). A word
    counts when the text has its stem, or at least half of its compound parts
    ("botilbudspladser": botilbud + plads)."""
    if not ask.terms:  # nothing asked about ("| a | b |", "hvad koster det?"): nothing met
        return 0.0
    found = _terms_in(text, compounds)
    counts = compounds.stem_counts if compounds is not None else {}
    hit = total = 0.0
    for terms in ask.terms:
        weight = 1.0 / math.log(2.0 + counts.get(terms[0], 0))
        total += weight
        if terms[0] in found:
            hit += weight
        elif len(terms) > 1:
            share = sum(p in found for p in terms[1:]) / len(terms[1:])
            hit += weight * share if share >= 0.5 else 0.0
    return hit / total


@lru_cache(maxsize=4096)  # ~4 KB each: a bounded ~16 MB
def _terms_in(text: str, compounds: Compounds | None) -> frozenset[str]:
    """A text's index terms. One answer asks this of the same sentences and passages several
    times (highlight, abstention, the first three passages), and popular passages come back
    question after question: analysing each once took coverage from 13 to 4 ms per answer
    (profiled over towns.jsonl)."""
    return frozenset(t for w in words(text) for t in word_terms(w, compounds))


def mentions(shape: str | None, text: str) -> list[tuple[int, int]]:
    """Where the text holds a thing of that kind (character spans)."""
    if shape is None:
        return [(0, len(text))]
    return [m.span() for m in _HOLDS_RE[shape].finditer(text)]


COUNTED_REACH = 30  # characters after a count: two or three words


def bound(ask: Ask, text: str, compounds: Compounds | None = None, reach: int = 60) -> float:
    """The best coverage of the question's key words near a thing of the asked-for kind: "Hvor
    mange hjemløse" is answered by "120 hjemløse", not by a sentence that mentions homelessness
    and, somewhere, a number. ``reach``: characters either side (about eight words)."""
    # Danish puts the thing counted right after the number ("17 høringssvar", "seks borgere").
    before, after = (0, COUNTED_REACH) if ask.shape == COUNT else (reach, reach)
    return max((coverage(ask, text[max(0, a - before):b + after], compounds)
                for a, b in mentions(ask.shape, text)), default=0.0)


def head_bound(ask: Ask, text: str, compounds: Compounds | None = None,
               reach: int = 60) -> float:
    """1.0 when the words the kind of thing is asked about (`Ask.head`) stand near a thing of
    that kind: "Hvem er formand for Handicaprådet" is not answered by a list of members' names
    without "formand", nor by another body's chair. A word counts by its stem or by all of
    its compound parts ("handicap" alone is not "handicapråd")."""
    if ask.shape is None or not ask.head:
        return 0.0
    before, after = (0, COUNTED_REACH) if ask.shape == COUNT else (reach, reach)
    for a, b in mentions(ask.shape, text):
        found = _terms_in(text[max(0, a - before):b + after], compounds)
        if all(w[0] in found or (len(w) > 1 and all(t in found for t in w[1:]))
               for w in ask.head):
            return 1.0
    return 0.0


def best_holding(ask: Ask, sentences: list[str], compounds: Compounds | None = None) -> float:
    """The best coverage among sentences that hold what is asked for (0 when none does): the
    thing asked for and the words it is asked about, in one sentence."""
    return max((coverage(ask, s, compounds) for s in sentences if holds(ask.shape, s)),
               default=0.0)
