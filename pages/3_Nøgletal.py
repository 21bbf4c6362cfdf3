"""Nøgletal – every amount and count in the documents as a table where each row is a citation."""

from __future__ import annotations

import streamlit as st

from ui import app_support as support
from ui import figures_view as view
from ui.render import escape

st.set_page_config(page_title="Nøgletal – Spørg Socialudvalget", page_icon="🔢", layout="wide")
helper = support.assistant_or_stop()
everything = view.figures()

st.title("Nøgletal")
st.write(
    "Alle beløb og antal i dokumenterne. Sortér ved at klikke på en kolonne, vælg rækker for "
    "at se uddraget med tallet markeret og for at sammenligne dem som søjler."
)

town_col, kind_col, period_col, unit_col, search_col = st.columns([2, 2, 2, 2, 3])
town = town_col.selectbox("Kommune", ["", *sorted({f.municipality for f in everything})],
                          key="figures-municipality",
                          format_func=lambda t: t or support.ALL_TOWNS)
kind = kind_col.selectbox("Dokumenttype", ["", *sorted({f.kind for f in everything})],
                          key="figures-kind",
                          format_func=lambda k: support.kind_label(k) if k else support.ALL_KINDS)
period = period_col.selectbox("Periode", ["", *sorted({f.period for f in everything})],
                              key="figures-period", format_func=lambda p: p or "Alle perioder")
unit = unit_col.selectbox("Enhed", ["", *sorted({f.unit for f in everything})],
                          key="figures-unit",
                          format_func=lambda u: view.UNIT_NAMES.get(u, u) if u else "Alle enheder")
query = search_col.text_input("Søg", key="figures-query", placeholder="Fx: demokrati, hjemløse")

rows = view.filtered(everything, town, kind, period, unit, query)
st.caption(f"{len(rows)} af {len(everything)} tal")
if not rows:
    st.info("Ingen tal passer til filtrene. Fjern et filter eller søg på noget andet.")
    st.stop()

frame = view.table(rows)
event = st.dataframe(
    view.styled(frame), key="figures-table", on_select="rerun", selection_mode="multi-row",
    hide_index=True, width="stretch",
    column_config={"Tal": st.column_config.Column("Tal", width="medium", help="Beløb i kroner, "
                                                  "procent, antal eller varighed"),
                   "Hvad": st.column_config.Column("Hvad", width="large")},
)
st.download_button("Hent tabellen som CSV", view.csv_bytes(rows), file_name="noegletal.csv",
                   mime="text/csv", key="figures-csv")

picked = [rows[i] for i in event.selection.rows if i < len(rows)] if event else []
st.header("Valgte tal")
data, note = view.chart_data(picked)
if data is None:
    st.info(note)
else:
    st.bar_chart(data, horizontal=True, y_label="", x_label=note)
for f in picked:
    passage = next((p for p in helper.document(f.document_id) if p.id == f.passage_id), None)
    with st.expander(f"{f.shown} – {f.what or f.title} ({f.municipality})", expanded=True):
        st.markdown(view.marked_passage(f, passage.text if passage else f.text))
        st.markdown(f"**Kilde:** {view.citation_line(f)}")
        st.caption(f"Uddrag {escape(f.passage_id)}")
