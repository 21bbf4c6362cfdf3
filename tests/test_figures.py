"""Nøgletal: figures found the way Danish writes them, scored against the labelled set, stored
with the index and served by `python -m retrieval figures` (a subprocess on a real index)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from evaluation.figures import evaluate
from retrieval.indexing.figures import FIGURES_FILE, format_value, read_figures, select
from retrieval.indexing.store import damaged_files, read_manifest
from retrieval.text.figures import figures_in_sentence
from tests.conftest import CORPUS, ROOT


@pytest.mark.parametrize(("sentence", "value", "unit", "what"), [
    ("Socialudvalget bruger 79.000 kroner på demokrati.", 79000, "kr.", "demokrati"),
    ("Resten af budgettet på 316,5 millioner kroner bruges på handicap, socialpsykiatri og "
     "udsatte.", 316_500_000, "kr.", "handicap, socialpsykiatri og udsatte"),
    ("Der er tilført 10,0 mio. kr. til udfordringerne på det sociale område.", 10_000_000,
     "kr.", "udfordringerne på det sociale område"),
    ("Byrådet har afsat 1,2 mia. til nye plejeboliger.", 1_200_000_000, "kr.", "nye plejeboliger"),
    ("Der er afsat 50.000 kr. til Udsatterådet.", 50000, "kr.", "Udsatterådet"),
    ("Der er i 2021 afsat 413.341 kr. til uddeling.", 413341, "kr.", "uddeling"),
    ("Et mål kunne være: 165 flere udsatte københavnere får anvist en bolig.", 165, "antal",
     "udsatte københavnere"),
    ("Det svarer til et fald på 24 pct.", 24, "pct.", "fald"),
    ("Borgeren har ventet i 6 måneder.", 6, "måneder", "ventet"),
    ("Resultaterne viser, at 88% af de adspurgte er tilfredse.", 88, "pct.", "adspurgte"),
    ("Rådet har været to brugere og fra to til tre medlemmer.", 2, "antal", "brugere"),
])
def test_danish_number_forms(sentence: str, value: float, unit: str, what: str) -> None:
    found = figures_in_sentence(sentence)
    assert found, sentence
    first = found[0]
    assert (first.value, first.unit, first.what) == (value, unit, what)
    assert sentence[first.start:first.end] == first.surface


@pytest.mark.parametrize("sentence", [
    "Sagsnr: 23-009570 Sagsfremstilling om ansøgninger efter Servicelovens § 18.",
    "Kontakt Preben Storm, tlf. 27 90 02 10, mail: pst@sonderborg.dk",
    "Handicappolitikken 2023-2026 blev den 31. marts 2023 godkendt af Byrådet.",
    "Mødet holdes kl. 15.30 i mødelokale 2, og punkt 4 behandles først.",
    "Sønderborg Kommune Rådhustorvet 10 6400 Sønderborg",
    "Fagudvalg (i hele 1.000 kr.)",
    "Voksenhandicapområdet omfatter tilbud til dig over 18 år.",
    "Budgetopfølgning pr. 30. september /4492 og sag 11/31929.",
])
def test_not_figures(sentence: str) -> None:
    assert figures_in_sentence(sentence) == []


def test_danish_formatting() -> None:
    assert format_value(316_500_000, "kr.") == "316,5 mio. kr."
    assert format_value(1_200_000_000, "kr.") == "1,2 mia. kr."
    assert format_value(413341, "kr.") == "413.341 kr."
    assert format_value(1.4, "pct.") == "1,4 pct."
    assert format_value(165, "antal") == "165"


def test_labelled_set_meets_the_targets_on_the_seed_documents_and_the_excerpts() -> None:
    scores, misses = evaluate(CORPUS)
    seed, excerpts, _ = scores
    assert seed.labels >= 20 and seed.documents == 5
    assert excerpts.labels >= 40 and excerpts.documents == 26
    for s in (seed, excerpts):
        assert s.precision >= 0.95, misses
        assert s.recall >= 0.90, misses
        assert s.what >= 0.80, misses


def test_figures_are_stored_with_the_index(full_index: Path) -> None:
    manifest = read_manifest(full_index)
    assert FIGURES_FILE in manifest["files"]
    assert damaged_files(full_index, manifest) == []
    figures = read_figures(full_index)
    demokrati = select(figures, municipality="sønderborg", query="demokrati")
    assert (demokrati[0].value, demokrati[0].unit, demokrati[0].what) == (79000, "kr.", "demokrati")
    assert demokrati[0].text[demokrati[0].start:demokrati[0].end] == "79.000 kroner"
    assert all(f.passage_id.startswith(f.document_id + "#") for f in figures)
    assert not any(f.value in (2017, 2022, 2025) and f.unit == "antal" for f in figures)


def figures_cli(index: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "retrieval", "figures", "--index", str(index),
                           *args], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_cli_prints_one_json_object_per_figure(full_index: Path) -> None:
    result = figures_cli(full_index, "--municipality", "København", "--json")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) >= 10
    keys = {"value", "unit", "what", "text", "municipality", "committee", "document_id",
            "passage_id", "period"}
    assert all(keys <= set(r) and r["municipality"] == "København" for r in records)
    assert {"value": 165, "unit": "antal"}.items() <= records[0].items()
    budget = figures_cli(full_index, "--kind", "budget", "--query", "Udsatterådet", "--json")
    [one] = [json.loads(line) for line in budget.stdout.splitlines()]
    assert (one["value"], one["shown"], one["period"]) == (50000, "50.000 kr.", "2017")
    plain = figures_cli(full_index, "--query", "demokrati")
    assert "79.000 kr." in plain.stdout and "sonderborg-budget-2017#000" in plain.stdout
