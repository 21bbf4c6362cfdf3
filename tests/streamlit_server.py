"""A real `streamlit run` for the browser tests: every socket guarded, and the guard proven.

The server runs with tests/netguard_site on its PYTHONPATH, so Python loads the network guard
into it at start (sitecustomize). The guard records blocked attempts in one file and the pid of
each process it guards in another; `serve` checks that the server's own pid is there before any
test uses it, so "no attempts" can only mean the guard was on and nothing was tried.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
START_SECONDS = 120


def browser_missing() -> str:
    """Why the browser tests cannot run here, or '' when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed: pip install -e '.[dev]'"
    if not Path(CHROMIUM).is_file():
        return "Chromium is not installed: apt-get install -y chromium (make test does it as root)"
    return ""


def require_browser() -> None:
    """Skip the calling test module without a browser; under CI=true fail it instead, so a CI
    run cannot be green with no browser test run. Call at module level."""
    why = browser_missing()
    if not why:
        return
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"CI=true and the browser tests cannot run – {why}", pytrace=False)
    pytest.skip(f"browser tests skipped – {why}", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextmanager
def serve(
    script: str, folder: Path, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> Iterator[dict[str, object]]:
    """`streamlit run <script>` on a free local port, guarded; yields url, folder and process.

    `cwd` decides which .streamlit/config.toml the server reads. On exit the server is stopped
    and any network attempt it made fails the test.
    """
    guard_log, marker = folder / "network.log", folder / "netguard.pids"
    port = free_port()
    environment = {
        **os.environ,
        **(env or {}),
        "SPORG_NETGUARD_LOG": str(guard_log),
        "SPORG_NETGUARD_MARKER": str(marker),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "tests" / "netguard_site"), str(ROOT)]),
    }
    log = (folder / "streamlit.log").open("w")
    command = [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true",
               "--server.address", "127.0.0.1", "--server.port", str(port),
               "--browser.gatherUsageStats", "false"]  # fmt: skip
    process = subprocess.Popen(command, cwd=cwd, env=environment, stdout=log,
                               stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while not _healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start; see {folder / 'streamlit.log'}")
            time.sleep(0.5)
        guarded = marker.read_text("utf-8").split() if marker.exists() else []
        assert str(process.pid) in guarded, "the network guard did not load in the server"
        yield {"url": url, "folder": folder, "process": process}
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        log.close()
    tried = guard_log.read_text("utf-8") if guard_log.exists() else ""
    assert tried == "", f"the server tried to reach the network: {tried}"
