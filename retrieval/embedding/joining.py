"""Joining a Ray cluster for `build --ray`: start a private one, or join one at --address.

Ray 2.60 starts clusters with token authentication: `ray start --head` turns it on when a token
exists (RAY_AUTH_TOKEN, a file named by RAY_AUTH_TOKEN_PATH, or ~/.ray/auth_token), and
`ray.init()` on a new local cluster always does. A driver joining an *explicit* address sends no
token unless RAY_AUTH_MODE=token is set: Ray does not hand the local token to whatever address it
is given (ray/_private/worker.py: "an explicit address ... never does"). We keep that rule, so
the user states the mode and the token, and we only make a refusal quick and clear: ray.init
itself retries a refused token for ~20 s and then reports "Failed to connect", which does not
say why. One GCS call answers in ~0.1 s with Ray's AuthenticationError instead.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

ADDRESS_FIX = ("give the head's address as --address HOST:6379 (or ray://HOST:10001, or auto on "
               "a cluster node), or leave it out for a local cluster")
TOKEN_FIX = ("set RAY_AUTH_MODE=token and the cluster's token in RAY_AUTH_TOKEN (or in a file "
             "named by RAY_AUTH_TOKEN_PATH); `ray get-auth-token` on the head prints it "
             "(docs/scaling.md)")


class ClusterUnavailable(RuntimeError):
    """Ray is missing, or the cluster cannot encode; the message names the fix."""


def connect(ray: Any, address: str | None) -> None:
    """Join the cluster at ``address``, or start a private one here ("local"); never report
    usage to Ray's servers (this product runs offline)."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    reachable(address)
    check_token(address)
    try:
        ray.init(address=address or "local", logging_level=logging.WARNING,
                 configure_logging=True)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ClusterUnavailable(
            f"cannot join a Ray cluster at {address!r} ({exc}): {ADDRESS_FIX}; a cluster with "
            f"token authentication also needs: {TOKEN_FIX}") from exc


def reachable(address: str | None) -> None:
    """Fail in seconds on an address nothing listens at: Ray itself keeps retrying for minutes
    (measured: still waiting for 127.0.0.1:1 after 5 minutes)."""
    if address in (None, "auto", "local"):
        return
    host, port = _host_port(address)
    try:
        socket.create_connection((host, port), timeout=10).close()
    except OSError as exc:
        raise ClusterUnavailable(
            f"nothing answers at --address {address!r} ({exc}): {ADDRESS_FIX}") from exc


def check_token(address: str | None) -> None:
    """Refuse at once, naming the fix, when the head at ``address`` refuses our token (or its
    absence). Only a GCS address (HOST:PORT) is asked: a local or automatic cluster sends the
    local token by Ray's own rule, and a Ray Client address (ray://) speaks another protocol."""
    if address in (None, "auto", "local") or address.startswith("ray://"):
        return
    from ray.exceptions import AuthenticationError

    try:
        from ray._raylet import GcsClient  # type: ignore[attr-defined]  # not public API
    except ImportError:
        return
    host, port = _host_port(address)
    try:
        GcsClient(address=f"{host}:{port}")
    except AuthenticationError:
        mode = os.environ.get("RAY_AUTH_MODE", "")
        if mode.lower() == "token":
            why = "the token this machine has is not the cluster's"
        else:
            why = f"it needs a token and RAY_AUTH_MODE is {mode or 'not set'}"
        raise ClusterUnavailable(
            f"the Ray cluster at {address!r} refused this machine ({why}): {TOKEN_FIX}"
        ) from None
    except Exception:  # not an auth refusal: ray.init reports it, with its own message
        return


def _host_port(address: str) -> tuple[str, int]:
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise ClusterUnavailable(f"--address {address!r} is not HOST:PORT: {ADDRESS_FIX}")
    return host, int(port)
