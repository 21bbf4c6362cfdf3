"""Evaluering – the latest evaluation report, and one question through every retriever."""

from __future__ import annotations

import os

import streamlit as st

from evaluation.latest import load_latest
from retrieval.text.privacy import redact_report
from ui.app_support import assistant_or_stop, log, redact_field, safe_ask
from ui.render import escape

REPORTS_DIR = os.environ.get("SPORG_REPORTS", "reports")
MAKE_REPORT = "python -m evaluation run --out reports"

st.set_page_config(page_title="Evaluering – Spørg Socialudvalget", page_icon="📊", layout="wide")


st.title("Evaluering")
st.write(
    "Her ses den seneste evaluering af søgningen (nDCG@10, MRR@10, Recall og Hit for hver "
    "søgemetode), og du kan stille ét spørgsmål og se, hvad hver søgemetode finder."
)

st.header("Seneste rapport")
try:
    report = load_latest(REPORTS_DIR)
except Exception:
    log.exception("could not read the latest report")
    report = None
    st.warning(f"Rapporten i {REPORTS_DIR}/latest kunne ikke læses. Lav en ny med `{MAKE_REPORT}`.")
else:
    if report is None:
        st.info(f"Der er endnu ingen rapport. Lav en med:\n\n`{MAKE_REPORT}`")

if report is not None:
    s = report.summary
    st.caption(
        f"Datasæt: {s.get('dataset', '?')} · {s.get('queries', '?')} spørgsmål, heraf "
        f"{s.get('judged', '?')} med kendt svar · top {s.get('k', '?')} · "
        f"lavet {s.get('created', '?')}"
    )
    st.subheader("Nøgletal pr. søgemetode")
    st.dataframe(report.table, hide_index=True, key="metrics-table")
    st.caption(
        "Latens i millisekunder pr. spørgsmål; sekunder er samlet tid pr. søgemetode. "
        "Afståelse: præcision og genkaldelse for at svare »det står ikke i dokumenterne« "
        "ved spørgsmål, dokumenterne ikke besvarer."
    )
    for image in report.images:
        st.image(str(image), width="stretch")
    if report.significance:
        st.subheader("Er forskellene signifikante?")
        st.dataframe(report.significance, hide_index=True, key="significance-table")
    st.subheader(f"Spørgsmål, hvor en søgemetode ikke har et relevant uddrag i top 5 "
                 f"({len(report.misses)})")
    if report.misses:
        st.dataframe(list(report.misses), hide_index=True, key="misses-table")
    else:
        st.write("Ingen.")
    html_report = report.folder / "report.html"
    if html_report.is_file():
        st.download_button("Hent rapporten som HTML", html_report.read_bytes(),
                           file_name="rapport.html", mime="text/html", key="download-report")

st.header("Prøv et spørgsmål")
with st.form("try-question"):
    question = st.text_input("Spørgsmål", key="eval-question",
                             placeholder="Fx: Hvad er fokusområderne i Silkeborg?")
    k = st.number_input("Antal uddrag pr. søgemetode", 1, 20, 5, key="eval-k")
    # The field is redacted before the page runs: not in the widget's state, not searched, not
    # in the search's cache of recent questions.
    asked = st.form_submit_button("Søg med alle søgemetoder", on_click=redact_field,
                                  args=("eval-question",))  # fmt: skip

cleaned = redact_report(question)  # again, whatever filled the field
question = cleaned.text
removed = (*st.session_state.get("eval-question-removed", ()), *cleaned.found)
if asked and removed:
    st.info(f"Fjernet fra spørgsmålet: {', '.join(dict.fromkeys(removed))}.",
            icon=":material/lock:")  # fmt: skip
if asked and question.strip():
    helper = assistant_or_stop()  # the app's own cached Assistant: one model per server
    names = list(helper.retrievers)
    for column, name in zip(st.columns(len(names)), names, strict=True):
        with column:
            st.subheader(name)
            reply = safe_ask(helper, question, k=int(k), retriever=name)
            if reply["error"]:
                st.warning(reply["error"])
                continue
            st.caption("Besvaret" if reply["answered"] else "Afstår: ikke sikkert i dokumenterne")
            for hit in reply["hits"]:
                with st.container(border=True):
                    # Inside a code span Markdown escapes show as typed: no escape(), and no
                    # backtick can end the span early.
                    passage_id = hit.passage.id.replace("`", "'")
                    st.markdown(f"**{hit.rank}.** `{passage_id}` · score {hit.score:.3f}")
                    st.markdown(escape(" ".join(hit.passage.text.split()[:30])) + " …")
            if not reply["hits"]:
                st.write("Ingen uddrag fundet.")
elif asked:
    st.warning("Skriv et spørgsmål først.")
