"""The CLI's JSON contract, run as a user runs it: a subprocess on a real index."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from retrieval.ingest.add import merge_metadata
from tests.conftest import FIXTURE_CORPUS, ROOT

KEYS = {"question", "language", "answered", "message", "hits"}
HIT_KEYS = {
    "rank",
    "score",
    "passage_id",
    "text",
    "highlight",
    "document_id",
    "title",
    "municipality",
    "committee",
    "date",
    "source",
}


def ask(index: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "retrieval", "ask", "--index", str(index), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def retrieval_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Any `python -m retrieval` command, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "retrieval", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )


@pytest.fixture(scope="module")
def batch(full_index: Path) -> list[dict]:  # type: ignore[type-arg]
    questions = [
        "Hvor mange penge bruger socialudvalget i Sønderborg på demokrati?",
        "hvor mange færre københavnere skal leve i langtidsfattigdom",
        "What are the focus areas of the social committee in Silkeborg?",
        "Hvad er budgettet for skoler i Aarhus?",
        "Hvornår tømmes skraldespanden?",
    ]
    result = ask(full_index, "-", "--json", "--k", "5", stdin="\n".join(questions) + "\n")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(questions)
    return [json.loads(line) for line in lines]


def test_every_line_follows_the_contract(batch: list[dict]) -> None:  # type: ignore[type-arg]
    for record in batch:
        assert set(record) == KEYS
        assert isinstance(record["answered"], bool)
        assert record["message"]
        for rank, hit in enumerate(record["hits"], 1):
            assert set(hit) == HIT_KEYS
            assert hit["rank"] == rank
            assert hit["highlight"] and hit["highlight"] in hit["text"].replace("\n", " ")
            assert hit["passage_id"].startswith(hit["document_id"] + "#")
        scores = [h["score"] for h in record["hits"]]
        assert scores == sorted(scores, reverse=True)


def test_answers_come_from_the_right_document_with_the_fact_highlighted(batch: list[dict]) -> None:  # type: ignore[type-arg]
    budget, poverty, english, *_ = batch
    assert budget["answered"]
    assert budget["hits"][0]["document_id"] == "sonderborg-budget-2017"
    assert "79.000 kroner" in budget["hits"][0]["highlight"]
    assert budget["hits"][0]["municipality"] == "Sønderborg"
    assert poverty["answered"]
    assert "730 færre københavnere" in poverty["hits"][0]["text"]
    assert english["language"] == "en"
    assert "dansk" in english["message"]
    assert english["hits"][0]["document_id"] == "silkeborg-arbejdsgrundlag-2022-2025"


def test_unanswerable_and_uncovered_questions_say_so(batch: list[dict]) -> None:  # type: ignore[type-arg]
    aarhus, waste = batch[3], batch[4]
    assert not aarhus["answered"]
    assert "Aarhus" in aarhus["message"]
    assert all(h["municipality"] != "Aarhus" for h in aarhus["hits"])
    assert not waste["answered"]
    assert "ikke finde" in waste["message"]


def test_copenhagen_teasers_are_never_cited(batch: list[dict]) -> None:  # type: ignore[type-arg]
    for record in batch:
        for hit in record["hits"]:
            for teaser in ("Hvidovre", "Horsens", "Odsherred", "Læs mere", "SocialStrategi"):
                assert teaser not in hit["text"]


def test_readable_output_cites_the_source(full_index: Path) -> None:
    result = ask(full_index, "Hvad", "er", "Silkeborgs", "fokusområder?", "--k", "2")
    assert result.returncode == 0, result.stderr
    assert "Spørgsmål: Hvad er Silkeborgs fokusområder?" in result.stdout
    assert "Silkeborg Kommune · Socialudvalget · Socialudvalgets arbejdsgrundlag" in result.stdout


def test_unusable_input_exits_non_zero_with_a_one_line_reason(full_index: Path) -> None:
    result = ask(full_index, "?", "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout.strip())["error"]
    result = ask(full_index, "x" * 2000)
    assert result.returncode == 1
    assert "for langt" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_only_the_redacted_question_is_searched_and_echoed(full_index: Path) -> None:
    """`question` in the JSON is the text the search was given (Assistant.ask returns it)."""
    lines = "cpr 010203-1234: hvad bruger Sønderborg på demokrati?\nring 2040 2010 om budgettet\n"
    result = ask(full_index, "-", "--json", "--k", "1", stdin=lines)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["question"] for r in records] == [
        "cpr [CPR-nummer fjernet]: hvad bruger Sønderborg på demokrati?",
        "ring [telefonnummer fjernet] om budgettet",
    ]
    assert records[0]["hits"][0]["document_id"] == "sonderborg-budget-2017"
    readable = ask(full_index, "Min mail er a@b.dk og tlf 12 34 56 78 – Silkeborgs fokus?")
    said = "Spørgsmål: Min mail er [e-mail fjernet] og tlf [telefonnummer fjernet]"
    assert said in readable.stdout
    for output in (result.stdout + result.stderr, readable.stdout + readable.stderr):
        assert "010203" not in output and "2040 2010" not in output and "a@b.dk" not in output


def test_missing_index_names_the_fix(tmp_path: Path) -> None:
    result = ask(tmp_path / "nowhere", "Hvad er budgettet?", "--json")
    assert result.returncode == 1
    assert "python -m retrieval build" in json.loads(result.stdout)["error"]


FOLDER_MANIFEST = """\
[[municipality]]
name = "Vordingborg"
contact = "Vordingborg Kommune"
website = "vordingborg.dk"

[[document]]
id = "nyborg-udsattepolitik"
file = "nyborg-udsattepolitik.txt"
title = "Udsattepolitik for Nyborg Kommune"
municipality = "Nyborg"
committee = "Socialudvalget"
kind = "socialpolitik"
period = "2019"
source = "Nyborg Kommune, siden »Udsattepolitik for Nyborg Kommune« (uddrag)"

[[document]]
id = "vordingborg-udsatteraad"
file = "vordingborg-udsatteraad.txt"
title = "Udsatteråd"
municipality = "Vordingborg"
committee = "Udvalget for Social og Psykiatri"
kind = "andet"
period = "2020"
source = "Vordingborg Kommune, siden »Udsatteråd« (uddrag)"
"""


def test_add_a_folder_without_flags_takes_the_folders_own_metadata(
    mini_index: Path, tmp_path: Path
) -> None:
    """`add indkomne/` as the README shows: no flags, metadata from the folder's documents.toml."""
    corpus, index, incoming = tmp_path / "corpus", tmp_path / "index", tmp_path / "indkomne"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    shutil.copytree(mini_index, index)
    incoming.mkdir()
    for name in ("nyborg-udsattepolitik.txt", "vordingborg-udsatteraad.txt"):
        shutil.copy2(ROOT / "corpus" / name, incoming / name)
    (incoming / "documents.toml").write_text(FOLDER_MANIFEST, encoding="utf-8")
    where = ["--corpus", str(corpus), "--index", str(index)]
    added = retrieval_cli("add", str(incoming), *where)
    assert added.returncode == 0, added.stderr
    listed = retrieval_cli("list", "--json", *where)
    assert listed.returncode == 0, listed.stderr
    docs = {d["id"]: d for d in json.loads(listed.stdout)["documents"]}
    assert docs["vordingborg-udsatteraad"]["municipality"] == "Vordingborg"
    assert docs["nyborg-udsattepolitik"]["municipality"] == "Nyborg"
    manifest = (corpus / "documents.toml").read_text("utf-8")
    assert 'committee = "Udvalget for Social og Psykiatri"' in manifest
    answer = ask(index, "Hvor mange medlemmer får udsatterådet i Vordingborg?", "--json")
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout)["hits"][0]["document_id"] == "vordingborg-udsatteraad"
    # The folder's [[municipality]] came along: an unanswered question about the new town
    # gives its way to a human; a town the folder gives no contact for is still named.
    assert "with Vordingborg's contact details" in added.stderr
    assert 'website = "vordingborg.dk"' in manifest
    lines = ask(index, "--json", stdin="Hvor lang er ventetiden på et botilbud i Vordingborg?\n"
                "Hvad koster en plads på et herberg i Nyborg?\n")
    assert lines.returncode == 0, lines.stderr
    vordingborg, nyborg = (json.loads(line) for line in lines.stdout.splitlines())
    assert not vordingborg["answered"] and not nyborg["answered"]
    assert "Kontakt Vordingborg Kommune via vordingborg.dk." in vordingborg["message"]
    assert "Kontakt Nyborg Kommune." in nyborg["message"]


def test_a_flag_given_overrides_the_folders_metadata_and_an_absent_one_does_not() -> None:
    listed = {"title": "Udsatteråd", "committee": "Udvalget for Social og Psykiatri"}
    given = {"title": "", "committee": "Socialudvalget", "kind": "  "}
    assert merge_metadata(listed, given) == {"title": "Udsatteråd", "committee": "Socialudvalget"}
