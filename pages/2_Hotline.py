"""Hotline – for staff on the phone: type, press Enter, read out or copy the answer and source."""

from __future__ import annotations

import streamlit as st
import streamlit.components.v1 as components

from retrieval.answer.assistant import Assistant
from retrieval.answer.compare import comparison_text
from ui import app_support as support
from ui import compare_view
from ui.page import danish_page
from ui.read_aloud import read_aloud
from ui.render import citation, escape, plain_citation, spoken_answer

st.set_page_config(page_title="Hotline – Spørg Socialudvalget", page_icon="☎️", layout="wide")
danish_page()
helper = support.assistant_or_stop()
support.purge_old_feedback()


def search(assistant: Assistant) -> None:
    """Answer the submitted question before the page runs, and put the redacted text back in
    the field: the widget's state must never hold a CPR or phone number that was typed."""
    state = st.session_state
    town = state.get("hotline-municipality", support.ALL_TOWNS)
    state.hotline_reply = support.reply(
        assistant,
        str(state.get("hotline-question") or ""),
        municipality=None if town == support.ALL_TOWNS else town,
        kind=state.get("hotline-kind") or None,
        k=5,
    )
    state["hotline-question"] = state.hotline_reply["typed"]


st.title("Hotline")
st.write(
    "Skriv spørgsmålet og tryk Enter. Kopiér svaret med kilden til en e-mail, eller læs det op. "
    "Skriv »sammenlign Randers og Aalborg om hjemløse« for at se kommuner side om side."
)

with st.form("hotline", border=False, enter_to_submit=True):
    ask_col, town_col, kind_col = st.columns([4, 2, 2], vertical_alignment="bottom")
    ask_col.text_input(
        "Spørgsmål", key="hotline-question", placeholder="Fx: Hvad er Silkeborgs fokusområder?"
    )
    town_col.selectbox(
        "Kommune", [support.ALL_TOWNS, *helper.covered], key="hotline-municipality"
    )
    kind_col.selectbox(
        "Dokumenttype",
        ["", *support.kinds(helper)],
        key="hotline-kind",
        format_func=lambda k: support.kind_label(k) if k else support.ALL_KINDS,
    )
    st.form_submit_button("Søg (Enter)", key="hotline-search", type="primary",
                          on_click=search, args=(helper,))  # fmt: skip

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
    if not answer["error"]:
        read_aloud(spoken_answer(answer["message"], answer["answered"], hits), answer["id"])
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
# selected, so the next question can simply be typed, also when switching here from another page
# with the keyboard. (A new id makes the frame run again.)
components.html(
    f"""<script data-run="{answer["id"] if answer else ""}">
    // Coming from another page, the field may be drawn a moment after this frame: wait for it.
    let tries = 50;
    const focusField = () => {{
      const field = window.parent.document.querySelector('input[aria-label="Spørgsmål"]');
      if (field) {{ field.focus(); field.select(); }}
      else if (tries-- > 0) setTimeout(focusField, 100);
    }};
    focusField();
    </script>""",
    height=0,
    tab_index=-1,  # not a stop for keyboard users
)
