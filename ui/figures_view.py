"""The Nøgletal page's logic, kept out of the page so it reads top to bottom and tests can call it.

Every row is a citation: the figure, what it is for, and where it stands. The table keeps the
numeric value (so sorting sorts numbers) and shows it the Danish way ("316,5 mio. kr.").
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from retrieval.indexing.figures import Figure, format_value, read_figures, select
from retrieval.indexing.store import MANIFEST_FILE
from retrieval.text.places import kommune
from ui.render import escape

UNIT_NAMES = {"kr.": "Kroner", "pct.": "Procent", "antal": "Antal", "år": "År",
              "måneder": "Måneder", "dage": "Dage", "uger": "Uger", "timer": "Timer"}
COLUMNS = ["Tal", "Hvad", "Kommune", "Udvalg", "Dokument", "Type", "Periode", "Enhed"]


@st.cache_data(show_spinner=False, max_entries=4)
def _cached(index_dir: str, stamp: int) -> list[Figure]:
    """Read once per index version (`stamp` is the manifest's modification time)."""
    return read_figures(index_dir)


def figures() -> list[Figure]:
    """The figures of the app's index ($SPORG_INDEX), re-read when the index is rebuilt."""
    index_dir = os.environ.get("SPORG_INDEX", "index")
    try:
        stamp = (Path(index_dir) / MANIFEST_FILE).stat().st_mtime_ns
    except OSError:
        stamp = 0
    return _cached(index_dir, stamp)


def filtered(all_figures: Sequence[Figure], municipality: str = "", kind: str = "",
             period: str = "", unit: str = "", query: str = "") -> list[Figure]:
    chosen = select(all_figures, municipality or None, kind or None, query or None, unit or None)
    return [f for f in chosen if not period or f.period == period]


def table(rows: Sequence[Figure]) -> pd.DataFrame:
    """One row per figure; "Tal" is the number in kroner, percent, count or duration."""
    return pd.DataFrame(
        [[f.value, f.what, f.municipality, f.committee, f.title, f.kind, f.period, f.unit]
         for f in rows], columns=COLUMNS)


def styled(frame: pd.DataFrame) -> Any:
    """Danish formatting per row's unit, numbers right-aligned; sorting still sees numbers."""
    styler = frame.style
    for unit in frame["Enhed"].unique():
        rows = frame.index[frame["Enhed"] == unit]
        styler = styler.format(lambda v, u=unit: format_value(v, u),
                               subset=pd.IndexSlice[rows, "Tal"])
    return styler.set_properties(subset=["Tal"], **{"text-align": "right"})


def csv_bytes(rows: Sequence[Figure]) -> bytes:
    """The table as CSV with every citation field (Excel reads the BOM as UTF-8)."""
    frame = pd.DataFrame([{**f.to_json(), "shown": f.shown} for f in rows])
    return frame.to_csv(index=False).encode("utf-8-sig")


def marked(f: Figure) -> str:
    """The sentence with the figure in bold on a highlight, all text escaped."""
    before, number, after = f.text[:f.start], f.text[f.start:f.end], f.text[f.end:]
    return f"{escape(before)}**:orange-background[{escape(number)}]**{escape(after)}"


def chart_data(rows: Sequence[Figure]) -> tuple[pd.DataFrame | None, str]:
    """A bar per picked row when they share a unit; else why not (comparing kroner with
    percentages would mislead)."""
    units = {f.unit for f in rows}
    if len(rows) < 1:
        return None, "Vælg rækker i tabellen for at se dem som søjler."
    if len(units) > 1:
        names = ", ".join(UNIT_NAMES.get(u, u) for u in sorted(units))
        return None, f"Søjlerne kan kun sammenligne tal med samme enhed (valgt: {names})."
    unit = units.pop()
    labels = [f"{f.municipality}: {f.what or f.title} ({format_value(f.value, f.unit)})"
              for f in rows]
    name = UNIT_NAMES.get(unit, unit)
    values = [f.value for f in rows]
    if unit == "kr." and max(values) >= 1e6:  # an axis of "40,000,000" reads badly: millions
        name, values = "Mio. kr.", [v / 1e6 for v in values]
    return pd.DataFrame({name: values}, index=labels), name


def marked_passage(f: Figure, passage_text: str) -> str:
    """The whole excerpt with the figure's sentence in place and the figure marked."""
    at = passage_text.find(f.text)
    if at < 0:
        return marked(f)
    before, after = passage_text[:at], passage_text[at + len(f.text):]
    return f"{escape(before)}{marked(f)}{escape(after)}".replace("\n", "  \n")


def citation_line(f: Figure) -> str:
    parts = [kommune(f.municipality), f.committee, f.title, f.period, f.source]
    return " · ".join(escape(p) for p in parts if p)
