"""Spørg Socialudvalget – a chat that answers with cited excerpts from the committees' documents."""

from __future__ import annotations

import os

import streamlit as st

from retrieval.app_support import EXAMPLES, load_assistant, safe_ask
from retrieval.render import citation, escape, marked_excerpt

INDEX_DIR = os.environ.get("SPORG_INDEX", "index")
CORPUS_DIR = os.environ.get("SPORG_CORPUS", "corpus")

st.set_page_config(page_title="Spørg Socialudvalget", page_icon="💬", layout="centered")


@st.cache_resource(
    show_spinner="Henter dokumenter og sprogmodel – første gang tager det lidt tid …"
)
def assistant():  # type: ignore[no-untyped-def]
    return load_assistant(INDEX_DIR, CORPUS_DIR)


def show_answer(answer: dict) -> None:  # type: ignore[type-arg]
    """Draw one stored answer: message, then each excerpt with its citation."""
    if answer.get("error"):
        st.warning(answer["error"])
        return
    st.markdown(escape(answer["message"]))
    hits = answer["hits"]
    if not answer["answered"] and hits:
        st.caption("Måske relateret – disse uddrag svarer ikke sikkert på spørgsmålet:")
    for hit in hits:
        with st.container(border=True):
            st.markdown(f"**{escape(hit.highlight or hit.passage.text[:200])}**")
            st.caption(f"Kilde: {citation(hit)}")
            with st.expander("Vis hele uddraget"):
                st.markdown(marked_excerpt(hit))


with st.sidebar:
    st.header("Om tjenesten")
    st.write(
        "Spørg om socialudvalgenes budgetter, mål, fokusområder og planer. "
        "Svarene er uddrag af kommunernes egne dokumenter med kildeangivelse. "
        "Tjenesten skriver ikke selv svar."
    )
    if st.button("Ryd samtale", key="clear"):
        st.session_state.messages = []

st.title("Spørg Socialudvalget")

if "messages" not in st.session_state:
    st.session_state.messages = []

try:
    helper = assistant()
except Exception as exc:
    st.error(f"Tjenesten kan ikke starte lige nu: {exc}")
    st.stop()

prompt = st.chat_input("Skriv dit spørgsmål her", key="question")

if not st.session_state.messages and not prompt:
    st.write("Prøv fx et af disse spørgsmål:")
    for i, example in enumerate(EXAMPLES):
        if st.button(example, key=f"example-{i}"):
            st.session_state.pending = example

for message in st.session_state.messages:
    with st.chat_message(message["role"]):
        if message["role"] == "user":
            st.markdown(escape(message["content"]))
        else:
            show_answer(message["content"])

prompt = prompt or st.session_state.pop("pending", None)
if prompt:
    st.session_state.messages.append({"role": "user", "content": prompt})
    with st.chat_message("user"):
        st.markdown(escape(prompt))
    with st.chat_message("assistant"), st.spinner("Søger i dokumenterne …"):
        reply = safe_ask(helper, prompt)
        show_answer(reply)
    st.session_state.messages.append({"role": "assistant", "content": reply})
