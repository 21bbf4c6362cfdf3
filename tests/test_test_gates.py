"""The gates that keep a green run honest: no browser under CI fails, and a server's network
guard is proven loaded, not assumed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import streamlit_server
from tests.conftest import ROOT

SCRIPT = ROOT / "tests" / "ensure_chromium.sh"


def _bare_path(tmp_path: Path) -> Path:
    """A PATH with `id` and nothing else: no chromium, no apt-get."""
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "id").symlink_to(shutil.which("id") or "/usr/bin/id")
    return folder


@pytest.mark.parametrize(("ci", "code"), [("true", 1), ("", 0)])
def test_a_missing_chromium_fails_make_test_under_ci_only(
    tmp_path: Path, ci: str, code: int
) -> None:
    env = {"PATH": str(_bare_path(tmp_path)), "CI": ci}
    run = subprocess.run(["/bin/sh", str(SCRIPT)], env=env, capture_output=True, text=True,
                         timeout=60)  # fmt: skip
    assert run.returncode == code, run
    said = run.stderr if code else run.stdout
    assert ("browser tests must run in CI" if code else "will be skipped") in said


def test_make_test_runs_the_chromium_check_without_ignoring_its_failure() -> None:
    recipe = (ROOT / "Makefile").read_text("utf-8").split("\ntest:", 1)[1].split("\n\n", 1)[0]
    lines = [line.strip() for line in recipe.splitlines() if "ensure_chromium" in line]
    assert lines == ["@sh tests/ensure_chromium.sh"]  # no leading '-', no '|| true'


@pytest.mark.parametrize(("ci", "outcome"), [("true", "Failed"), ("", "Skipped")])
def test_browser_tests_fail_under_ci_and_skip_elsewhere_without_a_browser(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ci: str, outcome: str
) -> None:
    monkeypatch.setattr(streamlit_server, "CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.setenv("CI", ci)
    with pytest.raises(BaseException) as raised:  # pytest's Failed and Skipped outcomes
        streamlit_server.require_browser()
    assert type(raised.value).__name__ == outcome
    assert "Chromium is not installed" in str(raised.value)


def _python_with_the_guard(tmp_path: Path, pythonpath: list[Path]) -> tuple[Path, str]:
    """Start Python as the tests start a server; return the marker file and the pid."""
    marker = tmp_path / "netguard.pids"
    env = {**os.environ, "SPORG_NETGUARD_LOG": str(tmp_path / "network.log"),
           "SPORG_NETGUARD_MARKER": str(marker),
           "PYTHONPATH": os.pathsep.join(map(str, pythonpath))}  # fmt: skip
    run = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], env=env,
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert run.returncode == 0, run.stderr
    return marker, run.stdout.strip()


def test_the_guard_marks_the_process_it_guards(tmp_path: Path) -> None:
    marker, pid = _python_with_the_guard(tmp_path, [ROOT / "tests" / "netguard_site", ROOT])
    assert marker.read_text("utf-8").split() == [pid]


def test_a_guard_that_fails_to_import_leaves_no_mark(tmp_path: Path) -> None:
    """Without the project on the path, sitecustomize's import fails and Python carries on
    unguarded: this is the case the marker exists to catch (tests/streamlit_server.serve)."""
    marker, _ = _python_with_the_guard(tmp_path, [ROOT / "tests" / "netguard_site"])
    assert not marker.exists()
