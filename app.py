"""Spørg Socialudvalget – a chat that answers with cited excerpts from the committees' documents."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import streamlit as st

from ui import app_support as support
from ui import compare_view
from ui.page import danish_page
from ui.read_aloud import read_aloud
from ui.render import citation, document_view, escape, marked_excerpt, spoken_answer

st.set_page_config(page_title="Spørg Socialudvalget", page_icon="💬", layout="centered")
danish_page()
helper = support.assistant_or_stop()
support.purge_old_feedback()

if "messages" not in st.session_state:
    st.session_state.messages = []


def ask_later(question: str) -> None:
    st.session_state.pending = question


def clear() -> None:
    st.session_state.messages = []


def views(answer: dict[str, Any]) -> list[dict[str, str]]:
    """Each hit's markdown (sentence, marked excerpt, source, whole document), made once when the
    answer arrives and kept with it: redrawing the conversation on every page run then reads
    no documents and marks no excerpts, so a question costs the same in a long conversation."""
    made = []
    for hit in answer["hits"]:
        label = "Uddrag" if answer["answered"] else "Måske relateret"
        # Only an answer is marked; a "maybe related" excerpt is shown as it stands.
        shown = hit if answer["answered"] else replace(hit, highlight="")
        made.append({
            "sentence": f"**{label} {hit.rank}:** {escape(hit.highlight or hit.passage.title)}",
            "excerpt": marked_excerpt(shown),
            "source": f"**Kilde:** {citation(hit)}",
            "document": document_view(shown, helper.document(shown.passage.document_id)),
        })
    return made


def show_answer(answer: dict[str, Any]) -> None:
    """One answer: the searched question, the message, then each hit – sentence, excerpt, source."""
    if answer["removed"]:
        st.info(
            f"Jeg har fjernet {' og '.join(answer['removed'])} fra dit spørgsmål. "
            "Skriv aldrig personlige oplysninger her.",
            icon=":material/lock:",
        )
    if answer["error"]:
        st.warning(answer["error"])
        return
    if answer.get("columns"):  # "sammenlign A og B om …": the towns side by side
        st.markdown(escape(answer["message"]))
        compare_view.show_columns(answer["columns"])
        support.feedback_widget(answer, mode="borger")
        return
    if answer["rewritten"]:
        st.markdown(f"*Jeg søgte på:* »{escape(answer['question'])}«")
    st.markdown(escape(answer["message"]))
    if "views" not in answer:
        answer["views"] = views(answer)
    for view in answer["views"]:
        with st.container(border=True):
            st.markdown(view["sentence"])
            st.markdown(view["excerpt"])
            st.markdown(view["source"])
            with st.expander("Vis hele kilden"):
                st.markdown(view["document"])
    read_aloud(spoken_answer(answer["message"], answer["answered"], answer["hits"]), answer["id"])
    support.feedback_widget(answer, mode="borger")


with st.sidebar:
    st.markdown("**Afgræns søgningen**")  # not a heading: the page's first heading is its title
    towns = [support.ALL_TOWNS, *helper.covered]
    town = st.selectbox("Kommune", towns, key="municipality")
    kinds = ["", *support.kinds(helper)]
    kind = st.selectbox(
        "Dokumenttype",
        kinds,
        key="kind",
        format_func=lambda k: support.kind_label(k) if k else support.ALL_KINDS,
    )
    st.button("Ryd samtale", key="clear", on_click=clear, icon=":material/delete_sweep:")
    st.markdown("**Eksempler**")  # not a heading: the page's first heading is its title
    for i, example in enumerate(support.EXAMPLES):
        st.button(example, key=f"example-{i}", on_click=ask_later, args=(example,))
    st.markdown("**Om tjenesten**")  # not a heading: the page's first heading is its title
    st.write(
        "Spørg om socialudvalgenes budgetter, mål, fokusområder og planer. "
        "Svarene er uddrag af kommunernes egne dokumenter med kilde. "
        "Tjenesten skriver ikke selv svar."
    )
    st.write("Skriv ikke CPR-nummer, telefonnummer eller e-mail. Vi fjerner dem, hvis du gør.")
    st.page_link("pages/5_Tilgængelighed.py", label="Tilgængelighedserklæring",
                 icon=":material/accessibility_new:")

st.title("Spørg Socialudvalget")
if not st.session_state.messages:
    st.write(
        "Stil et spørgsmål om socialudvalget i din kommune. Du får uddrag af kommunens egne "
        "dokumenter med kilde. Se eksempler i menuen."
    )

for message in st.session_state.messages:
    with st.chat_message(message["role"]):
        if message["role"] == "user":
            st.markdown(escape(message["content"]))
        else:
            show_answer(message["content"])

prompt = st.chat_input("Skriv dit spørgsmål her", key="question")
prompt = prompt or st.session_state.pop("pending", None)
if prompt:
    previous = support.previous_question(st.session_state.messages)
    with st.spinner("Søger i dokumenterne …"):
        reply = support.reply(
            helper,
            prompt,
            previous=previous,
            municipality=None if town == support.ALL_TOWNS else town,
            kind=kind or None,
        )
    st.session_state.messages.append({"role": "user", "content": reply["typed"]})
    st.session_state.messages.append({"role": "assistant", "content": reply})
    with st.chat_message("user"):
        st.markdown(escape(reply["typed"]))
    with st.chat_message("assistant"):
        show_answer(reply)
