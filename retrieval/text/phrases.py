"""What a figure is for, by Danish grammar: the noun phrase a figure belongs to.

Rules, in order (none names a document's wording):
- an amount followed by "til/på/for <noun phrase>" (a passive verb may stand between: "kroner
  bruges på handicap, socialpsykiatri og udsatte") belongs to that phrase;
- a share followed by "af <noun phrase>" ("0,5 procent af servicedriftsbudgettet") to that;
- "N-årig <noun>", "N måneders <noun>" to the noun;
- otherwise the noun phrase just before a preposition before the figure ("en stigning på ca.
  20 pct.", "behovet til 6,0 mio. kr.", "ventet i 263 dage"), else the clause's subject;
- a count belongs to the noun phrase after it ("165 flere udsatte københavnere", "fra to til tre
  medlemmer", "15 ud af byrådets 25 medlemmer").
"""

from __future__ import annotations

import re

from retrieval.text.words import STOP_WORDS

# Words that end a noun phrase besides function words: common verbs and adverbs that follow
# a subject or a counted noun ("165 flere københavnere får …", "730 færre københavnere lever").
VERBS = frozenset(
    """får fik kommer lever begår klarer står modtager bruges bruger afsættes afsat tilført
    ventet venter søges blev bliver fordeles fordelt gives givet udgør ligger viser
    mens hvor hvis da derfor""".split()  # noqa: SIM905 - a word list reads best as words
)
AUX = frozenset("er var har havde blev bliver".split())  # noqa: SIM905 - "er faldet fra"
DETERMINERS = frozenset("en et den det de denne dette disse sin sit sine".split())  # noqa: SIM905
# What may stand between a number and its unit or before it without changing what it is for.
QUALIFIERS = re.compile(
    r"(?:\s*\b(?:ca|cirka|omkring|lidt over|godt|knap|næsten|mindst|højst|op til|over|under)"
    r"\b\.?)+\s*$", re.IGNORECASE)
FLERE = frozenset("flere færre mere mindre ekstra nye".split())  # noqa: SIM905
LINKS = frozenset("med om til på for af i".split())  # noqa: SIM905 - inside a counted phrase
_TOKEN = re.compile(r"[\wæøåÆØÅ'’\-]+|[^\s\w]")
MAX_WORDS = 7


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _is_word(token: str) -> bool:
    return bool(re.fullmatch(r"[^\W\d_][\w\-]*", token))


def _stops(token: str) -> bool:
    low = token.casefold()
    return low in VERBS or (low in STOP_WORDS and low not in LINKS and low not in DETERMINERS)


def noun_phrase(tokens: list[str], allow_links: bool = True, max_words: int = MAX_WORDS,
                links: frozenset[str] = LINKS) -> str:
    """The noun phrase the tokens start with: words up to a verb, a function word or a stop
    (".", ":", ";", "("); commas continue a list only into another content word ("handicap,
    socialpsykiatri og udsatte"); "med/om/til/på …" continue it when ``allow_links``."""
    words: list[str] = []
    for i, tok in enumerate(tokens):
        low = tok.casefold()
        if tok == "," and words:
            nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
            if _is_word(nxt) and not _stops(nxt) and nxt.casefold() not in LINKS:
                words.append(",")
                continue
            break
        if not _is_word(tok):
            break
        if low == "og" and words:
            words.append(tok)
            continue
        if low in LINKS and (not allow_links or not words or low not in links):
            break
        if _stops(tok) or len(words) >= max_words:
            break
        words.append(tok)
    while words and (words[-1].casefold() in LINKS | DETERMINERS | {"og", ","}):
        words.pop()
    while words and words[0].casefold() in DETERMINERS:
        words.pop(0)
    return " ".join(words).replace(" ,", ",")


def count_phrase(sentence: str, end: int) -> str:
    """What a count counts: the noun phrase after it, '' when none follows (then the number is
    an address, a page or a list number, not a count)."""
    tokens = _tokens(sentence[end:])
    if tokens[:2] and [t.casefold() for t in tokens[:2]] == ["ud", "af"]:
        tokens = tokens[2:]  # "15 ud af byrådets 25 medlemmer"
        tokens = [t for t in tokens if not re.fullmatch(r"\d+", t)]
    if len(tokens) >= 3 and tokens[0].casefold() == "til" and tokens[1].casefold() in _NUMBERISH:
        tokens = tokens[2:]  # "fra to til tre medlemmer"
    elif tokens and tokens[0].casefold() in FLERE:
        tokens = tokens[1:]
    if not tokens or not _is_word(tokens[0]) or len(tokens[0]) < 3:
        return ""
    if tokens[0][0].isupper() or _stops(tokens[0]) or tokens[0].casefold() in LINKS:
        return ""  # "8600 Silkeborg", "1 Forord", "57 og …"
    if len(tokens[0]) > 5 and tokens[0].casefold().endswith("es"):
        return ""  # a passive verb: "16 flyttes til …" (an agenda point, not a count)
    return noun_phrase(tokens)


_NUMBERISH = frozenset("to tre fire fem seks syv otte ni ti elleve tolv".split())  # noqa: SIM905


def figure_phrase(sentence: str, start: int, end: int, unit: str) -> str:
    """What an amount, share or duration is for (see the module's rules)."""
    after = _tokens(sentence[end:])
    low = [t.casefold() for t in after]
    if unit == "kr.":
        at = 1 if low[:1] and low[0] in VERBS and low[1:2] and low[1] in ("til", "på", "for") else 0
        if low[at:at + 1] and low[at] in ("til", "på", "for"):
            phrase = noun_phrase(after[at + 1:], links=LINKS - {"til", "i"})
            if phrase:
                return phrase
    if unit == "pct." and low[:1] == ["af"]:
        phrase = noun_phrase(after[1:], allow_links=False)
        if phrase:
            return phrase
    if unit != "kr." and sentence[start:end].rstrip().endswith(("årig", "måneders", "ugers",
                                                               "dages")):
        phrase = noun_phrase(after, allow_links=False, max_words=2)
        if phrase:
            return phrase
    return _before(sentence[:start])


def _before(text: str) -> str:
    """The noun phrase before "på/til/i/om/fra/af" before the figure, else the clause's
    subject: "en stigning på ca.", "reducere behovet til", "sygefraværet er faldet fra"."""
    text = QUALIFIERS.sub("", text).rstrip()
    tokens = _tokens(text)
    if tokens and tokens[-1].casefold() in ("på", "til", "i", "om", "af", "fra", "med"):
        words: list[str] = []
        for tok in reversed(tokens[:-1]):
            if not _is_word(tok) or tok.casefold() in STOP_WORDS or len(words) >= 2:
                break
            words.insert(0, tok)
        auxiliary = (tokens[-1].casefold() in ("fra", "til") and len(tokens) > len(words) + 1
                     and tokens[-len(words) - 2].casefold() in AUX)
        if words and not auxiliary:
            return " ".join(words)
    clause = re.split(r",\s|[:;(]|\b(?:hvor|mens|som|der|at)\b", text)[-1]
    return noun_phrase(_tokens(clause), allow_links=False, max_words=3)
