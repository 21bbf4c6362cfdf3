"""Shared fixtures: the real model, real indexes built once per test session, and a network
guard that keeps every test on this machine."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from retrieval.assistant import Assistant, build
from retrieval.embedding import Embedder, get_embedder

ROOT = Path(__file__).parent.parent
FIXTURE_CORPUS = Path(__file__).parent / "fixtures" / "mini_corpus"
CORPUS = ROOT / "corpus"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return get_embedder()


@pytest.fixture(scope="session")
def mini_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """The tiny Danish fixture corpus, embedded for real."""
    folder = tmp_path_factory.mktemp("mini") / "index"
    build(FIXTURE_CORPUS, folder, show_progress=False)
    return folder


@pytest.fixture(scope="session")
def full_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """The whole embedded corpus, built the way `make run` builds it (never the app's index/)."""
    folder = tmp_path_factory.mktemp("full") / "index"
    build(CORPUS, folder, show_progress=False)
    return folder


@pytest.fixture(scope="session")
def assistant(full_index: Path) -> Assistant:
    return Assistant.load(full_index, corpus_dir=CORPUS)


@pytest.fixture
def feedback_db(full_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app's environment for AppTest: the full test index and corpus, and a fresh feedback
    database (returned; not created until someone rates)."""
    path = tmp_path / "feedback.sqlite3"
    monkeypatch.setenv("SPORG_INDEX", str(full_index))
    monkeypatch.setenv("SPORG_CORPUS", str(CORPUS))
    monkeypatch.setenv("SPORG_FEEDBACK_DB", str(path))
    return path


# -- offline by design: no test may reach beyond this machine ------------------------------
class NetworkBlocked(OSError):
    """Raised for any connection or name lookup outside loopback while the tests run."""


_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
network_attempts: list[str] = []  # what was blocked since the last test ended


def _is_local(host: object) -> bool:
    if host in (None, "", b""):
        return True
    name = host.decode() if isinstance(host, bytes) else str(host)
    if name.lower().rstrip(".") in _LOCAL_NAMES:
        return True
    try:
        address = ipaddress.ip_address(name.split("%")[0])
    except ValueError:
        return False  # a name that a resolver would look up over the network
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def _is_address(host: object) -> bool:
    name = host.decode() if isinstance(host, bytes) else str(host)
    try:
        ipaddress.ip_address(name.split("%")[0])
    except ValueError:
        return False
    return True


def _blocked(what: str) -> NetworkBlocked:
    network_attempts.append(what)
    return NetworkBlocked(f"network access blocked in tests: {what} (only loopback is allowed)")


def _guard_address(sock: socket.socket, address: Any, call: str) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
        raise _blocked(f"{call}({address!r})")


@pytest.fixture(scope="session", autouse=True)
def socket_guard() -> Iterator[list[str]]:
    """Allow AF_UNIX and loopback (127.0.0.0/8, ::1) only; anything else raises NetworkBlocked
    and is recorded, so that a library which swallows the error still fails the test."""
    methods = ("connect", "connect_ex", "sendto")
    real: dict[str, Any] = {name: getattr(socket.socket, name) for name in methods}
    real["getaddrinfo"] = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        _guard_address(self, address, "connect")
        real["connect"](self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        _guard_address(self, address, "connect_ex")
        return int(real["connect_ex"](self, address))

    def sendto(self: socket.socket, data: Any, *args: Any) -> int:
        _guard_address(self, args[-1], "sendto")
        return int(real["sendto"](self, data, *args))

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_local(host) and not _is_address(host):  # a name only a DNS server knows
            raise _blocked(f"getaddrinfo({host!r})")
        return real["getaddrinfo"](host, *args, **kwargs)

    guarded: dict[str, Any] = {"connect": connect, "connect_ex": connect_ex, "sendto": sendto}
    for name in methods:
        setattr(socket.socket, name, guarded[name])
    socket.getaddrinfo = getaddrinfo
    try:
        yield network_attempts
    finally:
        for name in methods:
            setattr(socket.socket, name, real[name])
        socket.getaddrinfo = real["getaddrinfo"]


@pytest.fixture(autouse=True)
def no_network(socket_guard: list[str]) -> Iterator[None]:
    """Fail the test (in teardown) if it, or a session fixture before it, tried the network."""
    yield
    tried, socket_guard[:] = list(socket_guard), []
    if tried:
        pytest.fail(f"tried to reach the network: {tried}", pytrace=False)
