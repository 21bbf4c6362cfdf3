"""Loaded by Python at start when this folder is on PYTHONPATH: the tests' network guard for a
server process they start. Blocked attempts are appended to $SPORG_NETGUARD_LOG.

Once the guard is installed, this process's id is appended to $SPORG_NETGUARD_MARKER: a test
that finds the server's pid there knows the guard really loaded in the server (an import error
here would otherwise leave the server unguarded and the log empty, which reads as "no
attempts")."""

import os

from tests.netguard import install


def _record(what: str) -> None:
    with open(os.environ["SPORG_NETGUARD_LOG"], "a", encoding="utf-8") as log:
        log.write(what + "\n")


if os.environ.get("SPORG_NETGUARD_LOG"):
    install(_record)
    if os.environ.get("SPORG_NETGUARD_MARKER"):
        with open(os.environ["SPORG_NETGUARD_MARKER"], "a", encoding="utf-8") as marker:
            marker.write(f"{os.getpid()}\n")
