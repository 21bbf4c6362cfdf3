"""The running app and a headless Chromium, shared by the browser test files.

Loaded from tests/conftest.py so every browser test file gets the same `server` and `browser`
fixtures. Playwright is imported only inside the fixtures: the other tiers run without it.
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
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

ROOT = Path(__file__).parent.parent
CORPUS = ROOT / "corpus"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LONG = 240_000  # ms: the first page load loads the model in the server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(full_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`streamlit run app.py` on a free local port, on the test index and a fresh feedback db."""
    folder = tmp_path_factory.mktemp("browser")
    port = _free_port()
    env = {
        **os.environ,
        "SPORG_INDEX": str(full_index),
        "SPORG_CORPUS": str(CORPUS),
        "SPORG_FEEDBACK_DB": str(folder / "feedback.sqlite3"),
        # Every socket of the server guarded: a real session must not reach the network.
        "SPORG_NETGUARD_LOG": str(folder / "network.log"),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "tests" / "netguard_site"), str(ROOT)]),
    }
    log = (folder / "streamlit.log").open("w")
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.address", "127.0.0.1", "--server.port", str(port),
               "--browser.gatherUsageStats", "false"]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start; see {folder / 'streamlit.log'}")
            time.sleep(0.5)
        yield {"url": url, "db": folder / "feedback.sqlite3", "folder": folder}
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
    tried = (folder / "network.log").read_text("utf-8") if (folder / "network.log").exists() else ""
    assert tried == "", f"the server tried to reach the network: {tried}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _open(
    browser: Browser, url: str, width: int = 1280, height: int = 900, script: str = "", **kw: Any
) -> Page:
    """A fresh Danish browser context on `url`; `script` runs first in every frame it loads."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale="da-DK", **kw)
    if script:
        context.add_init_script(script)
    page = context.new_page()
    page.set_default_timeout(LONG)
    page.goto(url, timeout=LONG)
    return page


def _ask(page: Page, question: str) -> None:
    box = page.get_by_label("Skriv dit spørgsmål her")
    box.fill(question)
    box.press("Enter")


def missing_browser() -> str:
    """Why the browser tests cannot run here, or "" when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed: pip install -e '.[dev]'"
    if not Path(CHROMIUM).is_file():
        return "Chromium is not installed: apt-get install -y chromium (make test does it as root)"
    return ""


def _idle(page: Page) -> None:
    """Wait until the app has finished running (Streamlit's 'Running…' widget is gone)."""
    from playwright.sync_api import expect

    expect(page.get_by_test_id("stStatusWidget")).to_be_hidden()
