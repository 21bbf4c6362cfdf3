"""Follow-up questions in a chat: "og i Silkeborg?" means the previous question, asked of Silkeborg.

Only a message that clearly is such a follow-up is rewritten: it names a municipality and has no
other content words ("og i Silkeborg?", "Hvad med København?", "Høje-Taastrup?"). Anything longer
is a question of its own and is searched as typed. The page shows the question actually searched.
"""

from __future__ import annotations

import re

from retrieval.text.places import named_municipalities, strip_places

# Words a follow-up may hold besides the municipality's name.
FILLER = {
    "og", "hvad", "med", "i", "for", "så", "om", "hos", "kommune", "kommunes", "kommuner",
    "end", "da", "der", "dér", "men", "nu", "samme", "spørgsmål", "det", "gælder", "angår",
    "ang", "vedr", "hvordan", "ser", "ud",
}  # fmt: skip
_WORD = re.compile(r"[\wæøåÆØÅ-]+")


def is_followup(message: str) -> bool:
    """True for "og i Silkeborg?", "hvad med København?", "Silkeborg?" – a town and no topic."""
    if not named_municipalities(message):
        return False
    rest = [w.casefold() for w in _WORD.findall(strip_places(message))]
    return all(w in FILLER for w in rest)


def resolve(message: str, previous: str | None) -> str:
    """The question to search: the previous question with the town swapped, or the message."""
    if not previous or not is_followup(message):
        return message
    towns = named_municipalities(message)
    return swap_municipality(previous, towns)


def swap_municipality(question: str, towns: list[str]) -> str:
    """The question about `towns` instead of the municipalities it names (or added to it)."""
    new = " og ".join(towns)
    old = named_municipalities(question)
    if not old:
        body = question.rstrip(" ?.!")
        end = question[len(body):].strip() or "?"
        return f"{body} i {new}{end}"
    question = re.sub(r"(?i)\bhøje\s+taastrup", "Høje-Taastrup", question)
    gaps = _WORD.split(question)
    out: list[str] = [gaps[0]]
    replaced = False
    for word, gap in zip(_WORD.findall(question), gaps[1:], strict=True):
        names = named_municipalities(word)
        if len(names) == 1 and names[0] in old:
            if replaced:  # a second old town goes, with the "og" or comma that joined it
                while out and out[-1].strip() in {"", "og", ","}:
                    out.pop()
                out.append(gap)
                continue
            genitive = word.casefold().endswith("s") and not names[0].casefold().endswith("s")
            word = new + ("s" if genitive else "")
            replaced = True
        out += [word, gap]
    return "".join(out)
