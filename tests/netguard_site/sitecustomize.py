"""Loaded by Python at start when this folder is on PYTHONPATH: the tests' network guard for a
server process they start. Blocked attempts are appended to $SPORG_NETGUARD_LOG."""

import os

from tests.netguard import install


def _record(what: str) -> None:
    with open(os.environ["SPORG_NETGUARD_LOG"], "a", encoding="utf-8") as log:
        log.write(what + "\n")


if os.environ.get("SPORG_NETGUARD_LOG"):
    install(_record)
