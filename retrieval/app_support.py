"""The app's logic, kept out of app.py so the page reads top to bottom and tests can call it."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from retrieval.assistant import Assistant, BadQuestion, build, is_current

log = logging.getLogger("sporg")

EXAMPLES = (
    "Hvor mange penge bruger Socialudvalget i Sønderborg på demokrati?",
    "Hvad er fokusområderne for Socialudvalget i Silkeborg?",
    "Hvilke socialpolitiske mål har København for hjemløse?",
    "Hvornår blev planen for socialområdet for voksne i Høje-Taastrup godkendt?",
)
UNEXPECTED = (
    "Der skete en fejl, så jeg kunne ikke søge i dokumenterne. Prøv igen om lidt. "
    "Hvis fejlen bliver ved, så kontakt din kommune."
)


def load_assistant(index_dir: str | Path, corpus_dir: str | Path, model: str | None = None
                   ) -> Assistant:
    """Build index/ first when it is missing or stale, so a fresh clone just works."""
    if not is_current(index_dir, corpus_dir, model):
        log.warning("index %s is missing or stale: building it from %s", index_dir, corpus_dir)
        build(corpus_dir, index_dir, model, show_progress=False)
    return Assistant.load(index_dir, model=model, corpus_dir=corpus_dir)


def safe_ask(assistant: Assistant, question: str, **options: Any) -> dict[str, Any]:
    """An answer as the page stores it; bad input and failures become a Danish message."""
    try:
        answer = assistant.ask(question, **options)
    except BadQuestion as exc:
        return {"error": str(exc), "answered": False, "message": str(exc), "hits": []}
    except Exception:
        log.exception("question failed")
        return {"error": UNEXPECTED, "answered": False, "message": UNEXPECTED, "hits": []}
    return {
        "error": "",
        "answered": answer.answered,
        "message": answer.message,
        "hits": list(answer.hits),
        "language": answer.language,
    }
