"""A network guard for tests: loopback and Unix sockets only.

Installed for the test process by tests/conftest.py, and for servers the tests start (a real
`streamlit run app.py`) through tests/netguard_site/sitecustomize.py, which records every blocked
attempt in the file `$SPORG_NETGUARD_LOG` names, so a library that swallows the error is still
caught.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
_METHODS = ("connect", "connect_ex", "sendto")


class NetworkBlocked(OSError):
    """Raised for any connection or name lookup outside loopback while the guard is on."""


def is_local(host: object) -> bool:
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


def install(record: Callable[[str], None]) -> Callable[[], None]:
    """Guard this process's sockets; `record` hears of every blocked attempt. Returns the undo."""
    real: dict[str, Any] = {name: getattr(socket.socket, name) for name in _METHODS}
    real["getaddrinfo"] = socket.getaddrinfo

    def blocked(what: str) -> NetworkBlocked:
        record(what)
        return NetworkBlocked(f"network access blocked in tests: {what} (only loopback is allowed)")

    def check(sock: socket.socket, address: Any, call: str) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_local(address[0]):
            raise blocked(f"{call}({address!r})")

    def connect(self: socket.socket, address: Any) -> None:
        check(self, address, "connect")
        real["connect"](self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(self, address, "connect_ex")
        return int(real["connect_ex"](self, address))

    def sendto(self: socket.socket, data: Any, *args: Any) -> int:
        check(self, args[-1], "sendto")
        return int(real["sendto"](self, data, *args))

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not is_local(host) and not _is_address(host):  # a name only a DNS server knows
            raise blocked(f"getaddrinfo({host!r})")
        return real["getaddrinfo"](host, *args, **kwargs)

    guarded: dict[str, Any] = {"connect": connect, "connect_ex": connect_ex, "sendto": sendto}
    for name in _METHODS:
        setattr(socket.socket, name, guarded[name])
    socket.getaddrinfo = getaddrinfo

    def undo() -> None:
        for name in _METHODS:
            setattr(socket.socket, name, real[name])
        socket.getaddrinfo = real["getaddrinfo"]

    return undo
