"""Hotline – for staff on the phone: type, press Enter, read out or copy the answer and source."""

from __future__ import annotations

import streamlit as st
import streamlit.components.v1 as components

from retrieval.answer.compare import comparison_text
from ui import app_support as support
from ui import compare_view
from ui.render import citation, escape, plain_citation

st.set_page_config(page_title="Hotline – Spørg Socialudvalget", page_icon="☎️", layout="wide")
helper = support.assistant_or_stop()
support.purge_old_feedback()

st.title("Hotline")
st.write(
    "Skriv spørgsmålet og tryk Enter. Kopiér svaret med kilden til en e-mail, eller læs det op. "
    "Skriv »sammenlign Randers og Aalborg om hjemløse« for at se kommuner side om side."
)

with st.form("hotline", border=False, enter_to_submit=True):
    ask_col, town_col, kind_col = st.columns([4, 2, 2], vertical_alignment="bottom")
    question = ask_col.text_input(
        "Spørgsmål", key="hotline-question", placeholder="Fx: Hvad er Silkeborgs fokusområder?"
    )
    town = town_col.selectbox(
        "Kommune", [support.ALL_TOWNS, *helper.covered], key="hotline-municipality"
    )
    kind = kind_col.selectbox(
        "Dokumenttype",
        ["", *support.kinds(helper)],
        key="hotline-kind",
        format_func=lambda k: support.kind_label(k) if k else support.ALL_KINDS,
    )
    searched = st.form_submit_button("Søg (Enter)", key="hotline-search", type="primary")

if searched:
    st.session_state.hotline_reply = support.reply(
        helper,
        question,
        municipality=None if town == support.ALL_TOWNS else town,
        kind=kind or None,
        k=5,
    )

answer = st.session_state.get("hotline_reply")
if answer is not None:
    st.markdown(f"*Søgte på* »{escape(answer['question'])}«")
    if answer["removed"]:
        st.info(f"Fjernet fra spørgsmålet: {', '.join(answer['removed'])}.", icon=":material/lock:")
    hits = answer["hits"]
    if answer["error"]:
        st.warning(answer["error"])
    elif answer.get("columns"):  # "sammenlign A og B om …"
        st.header("Sammenligning")
        st.write("Kopiér sammenligningen med alle kilder (knappen øverst til højre i feltet):")
        st.code(comparison_text(answer["columns"]), language=None, wrap_lines=True)
        compare_view.show_columns(answer["columns"])
        hits = []
    elif answer["answered"] and hits:
        st.header("Svar")
        st.markdown(f"**{escape(hits[0].highlight or hits[0].passage.title)}**")
        st.markdown(f"**Kilde:** {citation(hits[0])}")
        st.write("Kopiér svar og kilde (knappen øverst til højre i feltet):")
        st.code(plain_citation(hits[0]), language=None, wrap_lines=True)
    else:
        st.header("Ikke fundet i dokumenterne")
        st.markdown(escape(answer["message"]))
        st.code(answer["message"], language=None, wrap_lines=True)
    if hits:
        st.header("Alle fundne uddrag" if answer["answered"] else "Måske relateret")
        st.markdown(
            "\n".join(
                f"{h.rank}. **{escape(h.highlight or h.passage.title)}** — {citation(h)}"
                for h in hits
            )
        )
    if not answer["error"]:
        support.feedback_widget(answer, mode="hotline")

# Keyboard first: after every search the cursor is back in the question field with the text
# selected, so the next question can simply be typed. (A new id makes the frame run again.)
components.html(
    f"""<script data-run="{answer["id"] if answer else ""}">
    const field = window.parent.document.querySelector('input[aria-label="Spørgsmål"]');
    if (field) {{ field.focus(); field.select(); }}
    </script>""",
    height=0,
    tab_index=-1,  # not a stop for keyboard users
)
