"""What SECURITY.md promises, checked: nothing leaves the machine, nothing personal is stored
or logged, and stored feedback can be deleted. Each promise there names its test here."""

from __future__ import annotations

import ast
import logging
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import tomllib
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from retrieval.answer.assistant import Assistant
from retrieval.embedding import offline
from retrieval.embedding.model import Embedder
from retrieval.feedback import FeedbackStore
from tests.conftest import CORPUS, ROOT
from ui import app_support

PERSONAL = {  # realistic Danish formats, as citizens type them
    "CPR with dash": "010203-1234",
    "CPR as ten digits": "0102031234",
    "phone with +45": "+45 12 34 56 78",
    "phone as eight digits": "87654321",
    "phone in pairs": "23 45 67 89",
    "e-mail": "ida.hansen@example.dk",
}
BLOCKED = "network access blocked in tests"  # tests/conftest.py's NetworkBlocked
QUESTION = (
    "Jeg hedder Ida, cpr 010203-1234 (min søns er 0102031234). Ring på +45 12 34 56 78, "
    "87654321 eller 23 45 67 89, eller skriv til ida.hansen@example.dk. "
    "Hvad bruger Sønderborg på demokrati?"
)


def assert_nothing_personal(text: str | bytes, where: str) -> None:
    data = text if isinstance(text, str) else text.decode("utf-8", errors="replace")
    for kind, value in PERSONAL.items():
        assert value not in data, f"{kind} ({value}) found in {where}"
        assert value.replace(" ", "") not in data.replace(" ", ""), f"{kind} in {where}"


# -- offline by design -------------------------------------------------------------------------
def test_the_socket_guard_blocks_the_network_and_allows_loopback(socket_guard: list[str]) -> None:
    with pytest.raises(OSError, match=BLOCKED):
        socket.create_connection(("192.0.2.1", 443), timeout=1)  # TEST-NET-1
    with pytest.raises(OSError, match=BLOCKED):
        socket.getaddrinfo("huggingface.co", 443)
    udp = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    with pytest.raises(OSError, match=BLOCKED):
        udp.sendto(b"x", ("2001:db8::1", 53))
    udp.close()
    assert len(socket_guard) == 3
    socket_guard.clear()  # expected here; any other test that tries fails in teardown

    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        socket.create_connection(("localhost", port), timeout=5).close()
    left, right = socket.socketpair(socket.AF_UNIX)
    left.close()
    right.close()
    assert socket_guard == []


def test_importing_the_app_turns_the_hub_switches_on_without_overriding_an_opt_in() -> None:
    code = (
        "import os, json, ui.app_support, retrieval.embedding.offline\n"
        "import huggingface_hub.constants as c\n"
        "print(json.dumps([{k: os.environ[k] for k in retrieval.embedding.offline.SWITCHES}, "
        "c.HF_HUB_OFFLINE]))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in offline.SWITCHES}
    run = subprocess.run(
        [sys.executable, "-c", code], env=clean, cwd=ROOT, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == (
        '[{"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", '
        '"HF_HUB_DISABLE_TELEMETRY": "1"}, true]'
    )
    assert offline.apply({"HF_HUB_OFFLINE": "0"})["HF_HUB_OFFLINE"] == "0"  # an explicit opt-in


def test_a_hub_model_name_fails_fast_and_clearly_without_touching_the_network() -> None:
    with pytest.raises(OSError, match="HF_HUB_OFFLINE=0"):
        Embedder("intfloat/multilingual-e5-small").encode_queries(["Hvad er budgettet?"])
    # The socket guard fails this test in teardown if anything tried the network, so there was
    # nothing to retry; how fast it fails is measured by `python -m benchmarks.bench --claims`.


def test_the_app_sends_no_usage_statistics_however_it_is_started() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text("utf-8"))
    assert config["browser"]["gatherUsageStats"] is False


def test_the_app_server_as_make_run_starts_it_tries_no_network(
    full_index: Path, tmp_path: Path
) -> None:
    """A real `streamlit run app.py` (only the port added), its sockets guarded by
    tests/netguard_site: starting, serving the page and a health check reach nothing outside
    loopback. Streamlit alone would look up its "External URL" at checkip.amazonaws.com."""
    guard_log, marker = tmp_path / "network.log", tmp_path / "netguard.pids"
    env = {**os.environ, "SPORG_INDEX": str(full_index), "SPORG_CORPUS": str(CORPUS),
           "SPORG_FEEDBACK_DB": str(tmp_path / "feedback.sqlite3"),
           "SPORG_NETGUARD_LOG": str(guard_log), "SPORG_NETGUARD_MARKER": str(marker),
           "PYTHONPATH": os.pathsep.join([str(ROOT / "tests" / "netguard_site"), str(ROOT)])}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = (tmp_path / "streamlit.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py",
                               "--server.port", str(port)], cwd=ROOT, env=env, stdout=out,
                              stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not _serves(f"http://127.0.0.1:{port}/_stcore/health"):
            assert server.poll() is None and time.monotonic() < deadline, "did not start"
            time.sleep(0.5)
        assert _serves(f"http://127.0.0.1:{port}/")
        time.sleep(2)  # the start-up banner is printed after the server is up
    finally:
        server.terminate()
        server.wait(timeout=30)
        out.close()
    assert "URL" in (tmp_path / "streamlit.log").read_text("utf-8")  # it did print its banner
    # The guard loaded in this very server (else an empty log would prove nothing) …
    assert str(server.pid) in marker.read_text("utf-8").split()
    tried = guard_log.read_text("utf-8").splitlines() if guard_log.exists() else []
    assert tried == []  # … and it blocked nothing


def _serves(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


# -- nothing personal stored or logged ---------------------------------------------------------
def test_personal_data_never_reaches_the_search_the_database_or_the_log(
    assistant: Assistant, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "feedback.sqlite3"
    with caplog.at_level(logging.DEBUG):
        answer = app_support.reply(assistant, QUESTION)
        store = FeedbackStore(db)
        store.record(answer["question"], [h.passage.id for h in answer["hits"]], 1)
        store.record(QUESTION, [], 0, mode="hotline")  # the store redacts on its own, too
        app_support.log.warning("spørgsmål: %s", QUESTION)
        try:
            raise ValueError(f"kunne ikke svare på {QUESTION!r}")
        except ValueError:
            app_support.log.exception("fejl for %s", PERSONAL["e-mail"])
    assert set(answer["removed"]) == {"et CPR-nummer", "et telefonnummer", "en e-mailadresse"}
    assert "demokrati" in answer["question"] and answer["hits"]
    for key in ("typed", "question", "message"):
        assert_nothing_personal(answer[key], f"the reply's {key}")
    for row in FeedbackStore(db).all():
        assert_nothing_personal(row.question, "a feedback row")
    for file in tmp_path.iterdir():  # the database, its WAL and shared-memory files
        assert_nothing_personal(file.read_bytes(), file.name)
    assert caplog.records and "[CPR-nummer fjernet]" in caplog.text
    assert_nothing_personal(caplog.text, "the log")


def test_child_loggers_of_the_app_are_redacted_too(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        logging.getLogger(f"{app_support.log.name}.hotline").info("spørgsmål: %s", QUESTION)
    assert_nothing_personal(caplog.text, "a child logger's record")


def test_a_failing_feedback_store_tells_the_citizen_and_logs_nothing_personal(
    full_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    monkeypatch.setenv("SPORG_INDEX", str(full_index))
    monkeypatch.setenv("SPORG_CORPUS", str(CORPUS))
    monkeypatch.setenv("SPORG_FEEDBACK_DB", str(tmp_path))  # a folder: SQLite cannot open it
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()
    at.chat_input(key="question").set_value(QUESTION).run()
    with caplog.at_level(logging.DEBUG):
        at.feedback[0].set_value(1).run()
    assert not at.exception
    assert any("kunne ikke gemmes" in str(t.value) for t in at.toast)
    assert "feedback could not be stored" in caplog.text
    assert_nothing_personal(caplog.text, "the log")
    assert_nothing_personal("\n".join(str(m.value) for m in at.markdown), "the page")


# -- how long feedback is kept, and deleting it ------------------------------------------------
def make_old(db: Path, row: int) -> None:
    with sqlite3.connect(db) as raw:
        raw.execute("UPDATE feedback SET created = '2020-01-01T00:00:00+00:00' WHERE id = ?", [row])


def test_old_feedback_is_deleted_by_the_command_security_md_gives(tmp_path: Path) -> None:
    text = (ROOT / "SECURITY.md").read_text("utf-8")
    (command,) = re.findall(r'sqlite3 data/feedback\.sqlite3 "(DELETE FROM feedback[^"]*)"', text)
    db = tmp_path / "feedback.sqlite3"
    store = FeedbackStore(db)
    old = store.record("Hvad er Silkeborgs fokusområder?", [], 1)
    store.record("Hvad bruger Sønderborg på demokrati?", [], 0)
    with sqlite3.connect(db) as raw:
        raw.execute(
            "UPDATE feedback SET created = '2020-01-01T00:00:00+00:00' WHERE id = ?", (old,)
        )
    with sqlite3.connect(db, isolation_level=None) as raw:
        raw.executescript(command)
    assert [r.question for r in FeedbackStore(db).all()] == ["Hvad bruger Sønderborg på demokrati?"]
    assert b"Silkeborg" not in db.read_bytes()  # VACUUM: no deleted text left in free pages


def test_old_feedback_can_be_purged(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    row = store.record("Hvad er Silkeborgs fokusområder?", [], 1)
    with sqlite3.connect(store.path) as raw:
        raw.execute(
            "UPDATE feedback SET created = '2020-01-01T00:00:00+00:00' WHERE id = ?", (row,)
        )
    store.record("Hvad bruger Sønderborg på demokrati?", [], 1)
    assert store.purge(older_than=timedelta(days=365)) == 1
    assert [r.question for r in store.all()] == ["Hvad bruger Sønderborg på demokrati?"]
    assert b"Silkeborg" not in store.path.read_bytes()  # vacuumed: nothing left in free pages


@pytest.mark.parametrize("page", ["app.py", "pages/2_Hotline.py"])
def test_the_app_deletes_feedback_older_than_a_year_when_it_starts(
    feedback_db: Path, page: str
) -> None:
    db = feedback_db
    store = FeedbackStore(db)
    old = store.record("Hvad er Silkeborgs fokusområder?", [], 1)
    make_old(db, old)
    recent = store.record("Hvad bruger Sønderborg på demokrati?", [], 0)
    with sqlite3.connect(db) as raw:  # 300 days old: inside the 12 months
        raw.execute("UPDATE feedback SET created = datetime('now', '-300 days') WHERE id = ?",
                    [recent])  # fmt: skip
    at = AppTest.from_file(str(ROOT / page), default_timeout=300).run()
    assert not at.exception and not at.error
    assert [r.id for r in FeedbackStore(db).all()] == [recent]


def test_the_app_starts_without_creating_a_feedback_database(feedback_db: Path) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()
    assert not at.exception and not at.error
    assert not feedback_db.exists()  # nothing stored until someone rates


# -- SECURITY.md stays true --------------------------------------------------------------------
def test_every_test_security_md_names_exists() -> None:
    text = (ROOT / "SECURITY.md").read_text("utf-8")
    named = re.findall(r"(tests/test_\w+\.py)::(test_\w+)", text)
    assert len(named) >= 10
    for path, name in named:
        tree = ast.parse((ROOT / path).read_text("utf-8"))
        functions = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert name in functions, f"SECURITY.md names {path}::{name}, which does not exist"
    assert "data/feedback.sqlite3" in text and "SPORG_FEEDBACK_DB" in text
