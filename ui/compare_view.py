"""Towns side by side: one column per town with its best cited excerpt, or the plain "not there".

Shared by the chat ("sammenlign Randers og Aalborg om hjemløse"), the Sammenlign page and the
hotline, so a comparison looks and reads the same wherever it is asked.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any

import streamlit as st

from retrieval.answer.assistant import Assistant, BadQuestion
from retrieval.answer.compare import TownAnswer, compare
from ui.app_support import UNEXPECTED, log
from ui.render import citation, escape, marked_excerpt


def safe_compare(assistant: Assistant, question: str, towns: Sequence[str],
                 kind: str | None = None, k: int = 3) -> dict[str, Any]:
    """A comparison as pages keep it; bad input and failures become a Danish message."""
    try:
        columns = compare(assistant, question, towns, k=k, kind=kind)
    except BadQuestion as exc:
        return {"error": str(exc), "columns": [], "question": question}
    except Exception:
        log.exception("comparison failed")
        return {"error": UNEXPECTED, "columns": [], "question": question}
    return {"error": "", "columns": columns, "question": question}


def show_columns(columns: Sequence[TownAnswer]) -> None:
    """One column per town: its sentence, its excerpt with the sentence marked, its source."""
    for column, place in zip(columns, st.columns(len(columns)), strict=True):
        with place:
            st.header(column.town)  # h2 under the page's h1: no heading level skipped
            answer = column.answer
            if answer.answered and answer.hits:
                hit = answer.hits[0]
                st.markdown(f"**{escape(hit.highlight or hit.passage.title)}**")
                with st.container(border=True):
                    st.markdown(marked_excerpt(hit))
                    st.markdown(f"**Kilde:** {citation(hit)}")
            else:
                st.markdown(escape(answer.message))


def chat_comparison(assistant: Assistant, typed: str, removed: Sequence[str],
                    request: tuple[list[str], str], kind: str | None, started: float
                    ) -> dict[str, Any]:
    """A chat message asking to compare towns, as a reply dict with one column per town."""
    towns, topic = request
    result = safe_compare(assistant, topic, towns, kind=kind or None)
    columns = result["columns"]
    names = " og ".join(towns)
    return {
        "error": result["error"], "answered": any(c.answer.answered for c in columns),
        "message": result["error"] or f"Sådan svarer dokumenterne fra {names} om »{topic}«.",
        "hits": [c.answer.hits[0] for c in columns if c.answer.answered and c.answer.hits],
        "columns": columns, "id": uuid.uuid4().hex, "typed": typed, "question": topic,
        "rewritten": True, "removed": removed, "feedback_row": None,
        "elapsed": time.perf_counter() - started,
    }
