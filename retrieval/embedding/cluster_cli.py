"""The command line's side of Ray builds: the flags `build` and `update` take, and the embedder
they mean. Kept apart from distributed.py so the CLI imports neither Ray nor the actor code
until --ray is given."""

from __future__ import annotations

import argparse
import contextlib
from typing import Any

from retrieval.embedding.distributed import EXTRA, ClusterUnavailable, RayEmbedder, RayOptions


def cluster_flags(parser: argparse.ArgumentParser) -> None:
    """--ray, --address, --workers for `build` and `update`."""
    parser.add_argument("--ray", action="store_true",
                        help=f"encode on a Ray cluster (needs the 'cluster' extra: {EXTRA})")
    parser.add_argument("--address", default=None,
                        help="with --ray: the cluster's head, e.g. HOST:6379 (default: a local "
                             "cluster on this machine)")
    parser.add_argument("--workers", type=int, default=None,
                        help="with --ray: models to run (default: one per CPU of the cluster)")


def embedder_for(model: str | None, ray: bool, address: str | None = None,
                 workers: int | None = None) -> contextlib.AbstractContextManager[Any]:
    """A RayEmbedder to close after the build, or None (the local model) without --ray."""
    if not ray:
        if address is not None or workers is not None:
            what = "--address" if address is not None else "--workers"
            raise ClusterUnavailable(f"{what} is for Ray builds: add --ray")
        return contextlib.nullcontext(None)
    try:
        options = RayOptions(address=address, workers=workers)
    except ValueError as exc:
        raise ClusterUnavailable(str(exc)) from exc
    return RayEmbedder(model, options)
