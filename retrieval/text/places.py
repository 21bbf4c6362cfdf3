"""Which Danish municipalities a question names, so answers come from the right town.

All 98 municipalities are listed so that a question about a town the corpus does not cover is
told so, instead of getting another town's answer.
"""

from __future__ import annotations

import functools
import re

MUNICIPALITIES = [
    "Albertslund",
    "Allerød",
    "Assens",
    "Ballerup",
    "Billund",
    "Bornholm",
    "Brøndby",
    "Brønderslev",
    "Dragør",
    "Egedal",
    "Esbjerg",
    "Fanø",
    "Favrskov",
    "Faxe",
    "Fredensborg",
    "Fredericia",
    "Frederiksberg",
    "Frederikshavn",
    "Frederikssund",
    "Furesø",
    "Faaborg-Midtfyn",
    "Gentofte",
    "Gladsaxe",
    "Glostrup",
    "Greve",
    "Gribskov",
    "Guldborgsund",
    "Haderslev",
    "Halsnæs",
    "Hedensted",
    "Helsingør",
    "Herlev",
    "Herning",
    "Hillerød",
    "Hjørring",
    "Holbæk",
    "Holstebro",
    "Horsens",
    "Hvidovre",
    "Høje-Taastrup",
    "Hørsholm",
    "Ikast-Brande",
    "Ishøj",
    "Jammerbugt",
    "Kalundborg",
    "Kerteminde",
    "Kolding",
    "København",
    "Køge",
    "Langeland",
    "Lejre",
    "Lemvig",
    "Lolland",
    "Lyngby-Taarbæk",
    "Læsø",
    "Mariagerfjord",
    "Middelfart",
    "Morsø",
    "Norddjurs",
    "Nordfyns",
    "Nyborg",
    "Næstved",
    "Odder",
    "Odense",
    "Odsherred",
    "Randers",
    "Rebild",
    "Ringkøbing-Skjern",
    "Ringsted",
    "Roskilde",
    "Rudersdal",
    "Rødovre",
    "Samsø",
    "Silkeborg",
    "Skanderborg",
    "Skive",
    "Slagelse",
    "Solrød",
    "Sorø",
    "Stevns",
    "Struer",
    "Svendborg",
    "Syddjurs",
    "Sønderborg",
    "Thisted",
    "Tønder",
    "Tårnby",
    "Vallensbæk",
    "Varde",
    "Vejen",
    "Vejle",
    "Vesthimmerland",
    "Viborg",
    "Vordingborg",
    "Ærø",
    "Aabenraa",
    "Aalborg",
    "Aarhus",
]
# Names people use that no spelling rule derives from the official one.
ALIASES = {"copenhagen": "København", "kbh": "København"}
# Names that are also ordinary Danish words (the road, a count, a slice, an otter, tinder…):
# they count only when written with a capital letter or followed by "Kommune".
AMBIGUOUS = {
    "Vejen",
    "Greve",
    "Skive",
    "Odder",
    "Varde",
    "Tønder",
    "Stevns",
    "Struer",
    "Lejre",
    "Faxe",
    "Sorø",
    "Assens",
    "Morsø",
    "Rebild",
}


# The two municipalities not called "<town> Kommune" (Danish puts København in the genitive).
_OFFICIAL = {"København": "Københavns Kommune", "Bornholm": "Bornholms Regionskommune"}


def kommune(town: str) -> str:
    """The municipality's own name, as a citation or "Kontakt …" writes it."""
    return _OFFICIAL.get(town, f"{town} Kommune")


_LETTERS = {"æ": "(?:æ|ae)", "ø": "(?:ø|oe|o)", "å": "(?:å|aa)", "aa": "(?:aa|å)"}


def spelling(name: str) -> str:
    """A pattern for every way the name is typed: æ/ø/å folded to ASCII (Soenderborg,
    Sonderborg), aa and å for each other (Århus, Tåstrup), a hyphen as a space or nothing
    (Høje Taastrup, Lyngby Taarbæk, Ringkøbing Skjern); any case unless the caller says not."""
    out, i = [], 0
    while i < len(name):
        two, one = name[i:i + 2].casefold(), name[i].casefold()
        if two == "aa":
            out.append(_LETTERS["aa"])
            i += 2
            continue
        out.append(_LETTERS.get(one) or (r"[\s-]?" if one == "-" else re.escape(one)))
        i += 1
    return "".join(out)


def _parts(name: str) -> list[str]:
    """A two-part municipality's towns name it too (Lyngby, Taastrup, Skjern, Ikast); short
    parts are left out, being ordinary words as often as places ("Høje" is "high")."""
    parts = name.split("-")
    return [p for p in parts if len(p) >= 5] if len(parts) > 1 else []


def _patterns() -> list[tuple[re.Pattern[str], str]]:
    out = []
    for name in MUNICIPALITIES:
        if name in AMBIGUOUS:  # the capital letter is part of the name here
            pattern = (rf"\b{re.escape(name[0])}{spelling(name[1:])}s?\b"
                       rf"|\b(?i:{spelling(name)}s? kommune)\b")
        else:
            # 'Silkeborgs', 'københavnere', 'københavnske' all name the town.
            tail = r"\w*" if len(name) >= 6 else r"s?"
            pattern = rf"(?i:\b{spelling(name)}{tail}\b)"
        out.append((re.compile(pattern), name))
    for name in MUNICIPALITIES:
        for part in _parts(name):
            out.append((re.compile(rf"(?i:\b{spelling(part)}s?\b)"), name))
    for alias, name in ALIASES.items():
        out.append((re.compile(rf"(?i:\b{re.escape(alias)}s?\b)"), name))
    return out


_PATTERNS = _patterns()
# One pass over a text that names no place at all (most sentences a highlight scores): the
# per-name scan below took most of an answer's highlighting time (profiled, issue 16).
_ANY_PLACE = re.compile("|".join(f"(?:{pattern.pattern})" for pattern, _ in _PATTERNS))


def find_places(question: str) -> list[tuple[int, int, str]]:
    """(start, end, municipality) of each place named, in order, overlaps resolved longest first."""
    return list(_find_places(question))


@functools.lru_cache(maxsize=1 << 15)
def _find_places(question: str) -> tuple[tuple[int, int, str], ...]:
    """Cached: the same passages' sentences come back in answer after answer."""
    if not _ANY_PLACE.search(question):
        return ()
    spans = sorted(((m.start(), m.end(), name) for pattern, name in _PATTERNS
                    for m in pattern.finditer(question)), key=lambda s: (s[0], -s[1]))
    kept: list[tuple[int, int, str]] = []
    for span in spans:
        if not kept or span[0] >= kept[-1][1]:
            kept.append(span)
    return tuple(kept)


def named_municipalities(question: str) -> list[str]:
    """Municipalities the question names, in the order they first appear."""
    return list(dict.fromkeys(name for _, _, name in find_places(question)))


def strip_places(text: str) -> str:
    """The text without the municipality names in it."""
    for start, end, _ in reversed(find_places(text)):
        text = f"{text[:start]} {text[end:]}"
    return " ".join(text.split())
