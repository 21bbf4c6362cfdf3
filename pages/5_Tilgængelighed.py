"""Tilgængelighed – the accessibility statement (docs/tilgaengelighed.md), linked from "Om
tjenesten" in the chat's sidebar. Public bodies must publish one (webtilgængelighedsloven)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui.page import danish_page

STATEMENT = Path(__file__).resolve().parent.parent / "docs" / "tilgaengelighed.md"

st.set_page_config(page_title="Tilgængelighed – Spørg Socialudvalget", page_icon="♿")
danish_page()
try:
    st.markdown(STATEMENT.read_text("utf-8"))  # our own document: Markdown on purpose
except OSError:
    st.title("Tilgængelighedserklæring")
    st.warning("Erklæringen kunne ikke læses. Kontakt kommunen, der driver tjenesten.")
