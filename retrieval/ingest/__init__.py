"""Stage 1: documents in — the corpus folder and its documents.toml, raw files read and cleaned."""
