"""Sammenlign – one question, 2–4 towns side by side, each answered from its own documents."""

from __future__ import annotations

import streamlit as st

from retrieval.answer.compare import MAX_TOWNS, MIN_TOWNS, comparison_text
from ui import app_support as support
from ui import compare_view
from ui.render import escape

st.set_page_config(page_title="Sammenlign – Spørg Socialudvalget", page_icon="⚖️",
                   layout="wide")
helper = support.assistant_or_stop()

st.title("Sammenlign kommuner")
st.write(
    f"Vælg {MIN_TOWNS} til {MAX_TOWNS} kommuner og stil ét spørgsmål. Hver kommune svarer med "
    "sit eget bedste uddrag og kilde – eller siger, at det ikke står i dens dokumenter."
)

with st.form("compare", border=False, enter_to_submit=True):
    towns = st.multiselect("Kommuner", helper.covered, key="compare-towns",
                           max_selections=MAX_TOWNS, placeholder="Vælg kommuner")
    question = st.text_input("Spørgsmål", key="compare-question",
                             placeholder="Fx: Hvad gør kommunen for hjemløse?")
    kind = st.selectbox("Dokumenttype", ["", *support.kinds(helper)], key="compare-kind",
                        format_func=lambda k: support.kind_label(k) if k else support.ALL_KINDS)
    asked = st.form_submit_button("Sammenlign", key="compare-search", type="primary")

if asked:
    if len(towns) < MIN_TOWNS:
        st.session_state.comparison = {"error": f"Vælg mindst {MIN_TOWNS} kommuner.",
                                       "columns": [], "question": question}
    else:
        with st.spinner("Søger i hver kommunes dokumenter …"):
            st.session_state.comparison = compare_view.safe_compare(
                helper, support.redact_report(question).text, towns, kind=kind or None)

result = st.session_state.get("comparison")
if result is not None:
    if result["error"]:
        st.warning(result["error"])
    else:
        st.markdown(f"*Søgte på* »{escape(result['question'])}«")
        compare_view.show_columns(result["columns"])
        with st.expander("Kopiér som tekst med alle kilder"):
            st.code(comparison_text(result["columns"]), language=None, wrap_lines=True)
