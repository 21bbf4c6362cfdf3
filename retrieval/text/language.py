"""Which language a question is in, with the Scandinavian confusion langdetect is known for.

langdetect labels about one in ten short Danish questions as Norwegian or Swedish, so those
count as Danish; and a question with æ/ø/å in it is Danish whatever the detector says.
"""

from __future__ import annotations

import threading

SCANDINAVIAN = {"da", "no", "nb", "nn", "sv"}
_lock = threading.Lock()
_ready = False


def _detector_ready() -> None:
    """langdetect loads its profiles lazily into a global; do it once, under a lock."""
    global _ready
    with _lock:
        if not _ready:
            from langdetect import DetectorFactory

            DetectorFactory.seed = 0  # deterministic answers for the same text
            _ready = True


def detect_language(text: str) -> str:
    """An ISO 639-1 code; 'da' whenever the text could plausibly be Danish.

    Place names are taken out first: "Sønderborg" in an English question says nothing about
    the language it is asked in.
    """
    from retrieval.text.places import strip_places

    text = strip_places(text)
    if any(ch in text for ch in "æøåÆØÅ"):
        return "da"
    if sum(ch.isalpha() for ch in text) < 3 or len(text.split()) < 4:
        return "da"  # too short to tell; keyword queries here are almost always Danish
    _detector_ready()
    from langdetect import LangDetectException, detect_langs

    try:
        guesses = detect_langs(text)
    except LangDetectException:
        return "da"
    best = guesses[0]
    if best.lang in SCANDINAVIAN:
        return "da"
    if any(g.lang in SCANDINAVIAN and g.prob >= 0.2 for g in guesses):
        return "da"
    return str(best.lang)
