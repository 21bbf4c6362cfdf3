"""The Nøgletal page in AppTest: a filterable table of cited figures, Danish numbers, CSV, bars."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

PAGE = str(ROOT / "pages" / "3_Nøgletal.py")


@pytest.fixture
def page(feedback_db: Path) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.run()
    assert not at.exception
    return at


def test_table_lists_every_figure_with_filters(page: AppTest) -> None:
    assert page.title[0].value == "Nøgletal"
    assert [s.label for s in page.selectbox] == ["Kommune", "Dokumenttype", "Periode", "Enhed"]
    table = page.dataframe[0].value
    assert list(table.columns[:3]) == ["Tal", "Hvad", "Kommune"]
    assert len(table) >= 20
    assert table["Tal"].dtype.kind == "f"  # sorted as numbers, shown the Danish way


def test_filters_and_search_narrow_the_table(page: AppTest) -> None:
    page.selectbox(key="figures-municipality").select("Sønderborg").run()
    page.selectbox(key="figures-unit").select("kr.").run()
    table = page.dataframe[0].value
    assert set(table["Kommune"]) == {"Sønderborg"} and set(table["Enhed"]) == {"kr."}
    assert 316_500_000.0 in set(table["Tal"])
    page.text_input(key="figures-query").input("demokrati").run()
    found = page.dataframe[0].value
    assert "demokrati" in list(found["Hvad"]) and len(found) == 2  # both figures of its sentence
    page.text_input(key="figures-query").input("skraldespand").run()
    assert not page.dataframe and "Ingen tal passer" in page.info[0].value


def test_picked_rows_open_their_excerpt_and_a_bar_chart(page: AppTest) -> None:
    page.selectbox(key="figures-municipality").select("Sønderborg").run()
    page.selectbox(key="figures-unit").select("kr.").run()
    table = page.dataframe[0].value
    picked = [int(table.index[table["Hvad"] == w][0]) for w in ("demokrati", "Udsatterådet")]
    page.session_state["figures-table"] = {"selection": {"rows": picked, "columns": []}}
    page.run()
    assert not page.exception
    excerpts = [str(m.value) for m in page.markdown]
    assert any("**:orange-background[79\\.000 kroner]**" in m for m in excerpts)
    assert any("Socialudvalgets budget" in m for m in excerpts)
    assert page.get("arrow_vega_lite_chart") or page.get("vega_lite_chart")
    assert [e.label for e in page.expander][:2] == ["79.000 kr. – demokrati (Sønderborg)",
                                                    "50.000 kr. – Udsatterådet (Sønderborg)"]


def test_bars_refuse_mixed_units(page: AppTest) -> None:
    page.selectbox(key="figures-municipality").select("Sønderborg").run()
    table = page.dataframe[0].value
    kr = int(table.index[table["Enhed"] == "kr."][0])
    count = int(table.index[table["Enhed"] == "antal"][0])
    page.session_state["figures-table"] = {"selection": {"rows": [kr, count], "columns": []}}
    page.run()
    assert "samme enhed" in page.info[0].value
    assert len(page.expander) == 2


def test_csv_download_is_offered(page: AppTest) -> None:
    assert page.get("download_button")
