"""Offline by design: the switches that keep the model libraries off the network.

The bundled model is converted locally and every index is built here, so nothing needs a model
hub. huggingface_hub, transformers and datasets read these variables when they are first
imported, so this module is imported at the top of retrieval/embedding/model.py, before any of them.
A deployment that wants a hub model opts in explicitly with HF_HUB_OFFLINE=0 (see README);
values already set in the environment are never overridden.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

SWITCHES = {
    "HF_HUB_OFFLINE": "1",  # huggingface_hub: no downloads, no metadata requests
    "TRANSFORMERS_OFFLINE": "1",  # transformers: local files only
    "HF_DATASETS_OFFLINE": "1",  # datasets (if a dependency ever imports it)
    "HF_HUB_DISABLE_TELEMETRY": "1",  # no usage pings, even when a download is allowed
}


def apply(environ: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """Set each switch unless it is already set; returns the values now in force."""
    env = os.environ if environ is None else environ
    for name, value in SWITCHES.items():
        env.setdefault(name, value)
    return {name: env[name] for name in SWITCHES}


apply()
