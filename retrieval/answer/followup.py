"""Follow-up questions in a chat: "og i Silkeborg?" means the previous question, asked of Silkeborg.

Only a message that clearly is such a follow-up is rewritten: it names a municipality and has no
other content words ("og i Silkeborg?", "Hvad med København?", "Høje-Taastrup?"). Anything longer
is a question of its own and is searched as typed. The page shows the question actually searched.
"""

from __future__ import annotations

import re

from retrieval.text.places import find_places, named_municipalities, strip_places
from retrieval.text.words import FOLLOWUP_WORDS

_WORD = re.compile(r"[\wæøåÆØÅ-]+")
_JOINER = re.compile(r"^\s*(,|og|eller)?\s*$", re.IGNORECASE)


def is_followup(message: str) -> bool:
    """True for "og i Silkeborg?", "hvad med København?", "Silkeborg?" – a town and no topic."""
    if not named_municipalities(message):
        return False
    rest = [w.casefold() for w in _WORD.findall(strip_places(message))]
    return all(w in FOLLOWUP_WORDS for w in rest)


def resolve(message: str, previous: str | None) -> str:
    """The question to search: the previous question with the town swapped, or the message."""
    if not previous or not is_followup(message):
        return message
    towns = named_municipalities(message)
    return swap_municipality(previous, towns)


def swap_municipality(question: str, towns: list[str]) -> str:
    """The question about `towns` instead of the municipalities it names (or added to it).

    The first place named takes the new towns (keeping a genitive s); further places go, with
    the "og" or comma that joined them. Places are found by their spans, so a name typed as two
    words ("Høje Taastrup", "Lyngby Taarbæk") is one place."""
    new = " og ".join(towns)
    places = find_places(question)
    if not places:
        body = question.rstrip(" ?.!")
        mark = question[len(body):].strip() or "?"
        return f"{body} i {new}{mark}"
    out, at = [], 0
    for n, (start, end, name) in enumerate(places):
        if n == 0:
            typed = question[start:end]
            genitive = typed.casefold().endswith("s") and not name.casefold().endswith("s")
            out += [question[at:start], new + ("s" if genitive else "")]
        else:
            out.append(_JOINER.sub("", question[at:start]))
        at = end
    out.append(question[at:])
    return "".join(out)
