"""The app's logic, kept out of the pages so they read top to bottom and tests can call it.

A reply is a plain dict that the pages keep in `st.session_state` and redraw: the question as
typed (redacted), the question actually searched, the hits, the message, and the feedback row.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

import streamlit as st

from retrieval.answer import messages
from retrieval.answer.assistant import Assistant, BadQuestion
from retrieval.answer.compare import parse_request
from retrieval.answer.followup import resolve
from retrieval.feedback import FeedbackStore, default_path
from retrieval.indexing.build import build
from retrieval.indexing.status import is_current
from retrieval.indexing.store import MANIFEST_FILE, IndexUnusable
from retrieval.text.privacy import protect_logger, redact_report

log = protect_logger(logging.getLogger("sporg"))

EXAMPLES = (
    "Hvor mange penge bruger Socialudvalget i Sønderborg på demokrati?",
    "Hvad er fokusområderne for Socialudvalget i Silkeborg?",
    "Hvilke socialpolitiske mål har København for hjemløse?",
    "Hvornår blev planen for socialområdet for voksne i Høje-Taastrup godkendt?",
    "Hvor mange penge er afsat til frivilligt socialt arbejde i Brønderslev i 2021?",
    "Hvor mange medlemmer skal Udsatterådet i Vordingborg have?",
    "Hvornår blev Aalborgs hjemløsestrategi godkendt?",
)
UNEXPECTED = (
    "Der skete en fejl, så jeg kunne ikke søge i dokumenterne. Prøv igen om lidt. "
    "Hvis fejlen bliver ved, så kontakt din kommune."
)
CANNOT_START = (
    "Tjenesten kan ikke starte lige nu. Prøv igen om lidt. "
    "Hvis fejlen bliver ved, så kontakt din kommune."
)
LOADING = "Henter dokumenter og sprogmodel – første gang tager det lidt tid …"
ALL_TOWNS = "Alle kommuner"
ALL_KINDS = "Alle dokumenttyper"
KIND_NAMES = {
    "budget": "Budget",
    "arbejdsgrundlag": "Arbejdsgrundlag",
    "plan": "Plan",
    "socialpolitik": "Socialpolitik",
    "strategi": "Strategi",
    "referat": "Referat",
    "andet": "Andet",
}


def load_assistant(index_dir: str | Path, corpus_dir: str | Path, model: str | None = None
                   ) -> Assistant:
    """Build index/ first when it is missing or stale, so a fresh clone just works."""
    if not is_current(index_dir, corpus_dir, model):
        log.warning("index %s is missing or stale: building it from %s", index_dir, corpus_dir)
        build(corpus_dir, index_dir, model, show_progress=False)
    return Assistant.load(index_dir, model=model, corpus_dir=corpus_dir)


@st.cache_resource(show_spinner=LOADING, max_entries=2)
def cached_assistant(index_dir: str, corpus_dir: str, stamp: int = 0) -> Assistant:
    """One Assistant per index for the whole server, shared read-only by every session.

    `stamp` is the index manifest's modification time: an index rebuilt on disk while the server
    runs (`python -m retrieval build`) is loaded by the next page run instead of the old one.

    Queries get one thread each (`$SPORG_TORCH_THREADS`, torch or onnxruntime): on a busy 2-core
    machine two threads per query made the warm median 4-10x slower. The sentence and window
    vectors the answers use come from the index, so there is nothing to warm up.
    """
    assistant = load_assistant(index_dir, corpus_dir)
    if assistant.dense.embedder.query_runtime is None:  # questions go through torch: import it
        import torch

        torch.set_num_threads(int(os.environ.get("SPORG_TORCH_THREADS", "1")))
    return assistant


def assistant_or_stop() -> Assistant:
    """The shared Assistant for $SPORG_INDEX / $SPORG_CORPUS; a Danish error and stop if not."""
    index_dir = os.environ.get("SPORG_INDEX", "index")
    corpus_dir = os.environ.get("SPORG_CORPUS", "corpus")
    try:
        return cached_assistant(index_dir, corpus_dir, _stamp(index_dir))
    except Exception as exc:
        log.exception("the assistant could not be loaded")
        st.error(CANNOT_START)
        if isinstance(exc, IndexUnusable):
            st.write(
                "Søgeindekset passer ikke til dokumenterne. Det kan bygges igen ud fra "
                "dokumenterne på denne maskine. Det tager et par minutter."
            )
            st.button("Byg søgeindekset igen", key="rebuild", on_click=_rebuild,
                      args=(index_dir, corpus_dir))  # fmt: skip
        with st.expander("Teknisk forklaring (til driften)"):
            st.text(str(exc))
        st.stop()
        raise  # st.stop() raises; this line is for type checkers


def _stamp(index_dir: str) -> int:
    try:
        return (Path(index_dir) / MANIFEST_FILE).stat().st_mtime_ns
    except OSError:
        return 0


def _rebuild(index_dir: str, corpus_dir: str) -> None:
    """Rebuild an unusable index from the local corpus (atomically: see index_store)."""
    log.warning("rebuilding index %s from %s on request", index_dir, corpus_dir)
    try:
        build(corpus_dir, index_dir, None, show_progress=False)
    except Exception:
        log.exception("rebuilding the index failed")
        st.toast("Søgeindekset kunne ikke bygges. Kontakt driften.")
    cached_assistant.clear()


@st.cache_resource
def feedback_store(path: str) -> FeedbackStore:
    return FeedbackStore(path)


def purge_old_feedback() -> int:
    """Delete feedback past its retention, once per server process (see SECURITY.md)."""
    return _purge(str(default_path()))


@st.cache_resource(show_spinner=False)
def _purge(path: str) -> int:
    """Once per server process: delete ratings past the retention SECURITY.md promises.

    A missing database is left missing; a store that cannot be opened is logged, never shown.
    """
    if not Path(path).is_file():
        return 0
    try:
        deleted = feedback_store(path).purge()
    except (sqlite3.Error, OSError):
        log.exception("old feedback could not be purged")
        return 0
    if deleted:
        log.info("purged %d feedback rows older than the retention period", deleted)
    return deleted


def kinds(assistant: Assistant) -> list[str]:
    """Document types in the corpus, as stored (see KIND_NAMES for the Danish labels)."""
    return assistant.kinds


def kind_label(kind: str) -> str:
    return KIND_NAMES.get(kind, kind.capitalize())


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


def reply(
    assistant: Assistant,
    typed: str,
    previous: str | None = None,
    municipality: str | None = None,
    kind: str | None = None,
    k: int = 3,
) -> dict[str, Any]:
    """Answer one message of a conversation.

    The message is redacted first (nothing personal reaches the search, the feedback or a log);
    a follow-up like "og i Silkeborg?" is searched as `previous` with the town swapped; the
    municipality and document-type filters work inside the search, as in the CLI.
    """
    started = time.perf_counter()
    cleaned = redact_report(typed)
    request = parse_request(cleaned.text)
    if request is not None:  # "sammenlign Randers og Aalborg om hjemløse"
        from ui.compare_view import chat_comparison

        return chat_comparison(assistant, cleaned.text, cleaned.found, request, kind, started)
    question = resolve(cleaned.text, previous)
    result = safe_ask(assistant, question, k=k, municipality=municipality or None,
                      kind=kind or None)
    if kind and not result["error"] and not result["hits"]:
        result["message"] = (
            f"Jeg fandt ingen uddrag i dokumenter af typen »{kind_label(kind)}«. "
            f"Vælg »{ALL_KINDS}« for at søge i alle dokumenter."
        )
    if not result["message"]:  # never a blank answer
        result["message"] = messages.NOT_FOUND
    return {
        **result,
        "id": uuid.uuid4().hex,
        "typed": cleaned.text,
        "question": question,
        "rewritten": question != cleaned.text,
        "removed": cleaned.found,
        "elapsed": time.perf_counter() - started,
        "feedback_row": None,
    }


def redact_field(key: str) -> tuple[str, ...]:
    """Replace a text field's value in the session with its redacted text, before the page runs.

    Called from the submit button's callback: a widget keeps what was typed in
    `st.session_state` (and sends it back to the browser on every run), so the field itself
    must be cleaned, not only the copy we search. Returns what was removed, in Danish, and
    keeps it under `<key>-removed` for the page to tell the user.
    """
    cleaned = redact_report(str(st.session_state.get(key) or ""))
    st.session_state[key] = cleaned.text
    st.session_state[f"{key}-removed"] = cleaned.found
    return cleaned.found


def previous_question(history: list[dict[str, Any]]) -> str | None:
    """The last question searched in this conversation (for follow-ups), if any."""
    for message in reversed(history):
        content = message.get("content")
        if message.get("role") == "assistant" and isinstance(content, dict) and not content.get(
            "error"
        ):
            return str(content.get("question") or "") or None
    return None


def feedback_widget(answer: dict[str, Any], mode: str) -> None:
    """Thumbs up/down under an answer, stored in SQLite as soon as it is clicked."""
    st.markdown("Hjalp svaret? Giv en tommelfinger op eller ned.")
    key = f"feedback-{answer['id']}"
    st.feedback("thumbs", key=key, on_change=_store_feedback, args=(answer, key, mode))


def _store_feedback(answer: dict[str, Any], key: str, mode: str) -> None:
    rating = st.session_state.get(key)
    try:
        store = feedback_store(str(default_path()))
        if answer.get("feedback_row") is None:
            if rating is not None:
                ids = [h.passage.id for h in answer["hits"]]
                answer["feedback_row"] = store.record(
                    answer["question"], ids, int(rating), mode, bool(answer["answered"])
                )
        else:
            store.change(answer["feedback_row"], rating)
            if rating is None:
                answer["feedback_row"] = None
    except Exception:
        log.exception("feedback could not be stored")
        st.toast("Din vurdering kunne ikke gemmes. Prøv igen senere.")
        return
    if rating is not None:
        st.toast("Tak for din vurdering!")
