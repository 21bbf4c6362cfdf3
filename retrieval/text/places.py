"""Which Danish municipalities a question names, so answers come from the right town.

All 98 municipalities are listed so that a question about a town the corpus does not cover is
told so, instead of getting another town's answer.
"""

from __future__ import annotations

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
ALIASES = {
    "copenhagen": "København",
    "kbh": "København",
    "århus": "Aarhus",
    "ålborg": "Aalborg",
    "åbenrå": "Aabenraa",
    "høje taastrup": "Høje-Taastrup",
    "hoeje-taastrup": "Høje-Taastrup",
    "taastrup": "Høje-Taastrup",
    "sonderborg": "Sønderborg",
    "koebenhavn": "København",
    "kobenhavn": "København", "hovedstaden": "København",
    "lyngby": "Lyngby-Taarbæk",
    "faaborg": "Faaborg-Midtfyn",
}
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


def _patterns() -> list[tuple[re.Pattern[str], str]]:
    out = []
    for name in MUNICIPALITIES:
        if name in AMBIGUOUS:
            pattern = rf"\b{name}s?\b|\b(?i:{name}s? kommune)\b"
        else:
            # 'Silkeborgs', 'københavnere', 'københavnske' all name the town.
            tail = r"\w*" if len(name) >= 6 else r"s?"
            pattern = rf"(?i:\b{re.escape(name)}{tail}\b)"
        out.append((re.compile(pattern), name))
    for alias, name in ALIASES.items():
        out.append((re.compile(rf"(?i:\b{re.escape(alias)}s?\b)"), name))
    return out


_PATTERNS = _patterns()


def named_municipalities(question: str) -> list[str]:
    """Municipalities the question names, in the order they first appear."""
    found: dict[str, int] = {}
    for pattern, name in _PATTERNS:
        if m := pattern.search(question):
            found.setdefault(name, m.start())
    return sorted(found, key=found.__getitem__)


def strip_places(text: str) -> str:
    """The text without the municipality names in it."""
    for pattern, _ in _PATTERNS:
        text = pattern.sub(" ", text)
    return " ".join(text.split())
