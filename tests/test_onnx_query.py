"""The onnxruntime query encoder agrees with sentence-transformers, the reference, on the real
converted model (cosine >= 0.9999), and another model falls back to sentence-transformers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retrieval.embedding import onnx_query
from retrieval.embedding.model import Embedder

TEXTS = [
    *onnx_query.CHECK_TEXTS,
    "Hvornår har genbrugspladsen i Høje-Taastrup åbent?",
    "Hvad gør Sønderborg for frivillige? " * 40,  # past the truncation length
    "x",
]


def test_onnx_queries_agree_with_sentence_transformers(embedder: Embedder) -> None:
    runtime = embedder.query_runtime
    assert runtime is not None, "the bundled model should export to ONNX"
    exported = Path(embedder.path) / onnx_query.ONNX_DIR
    # The weights sit in their own file, which onnxruntime maps instead of reading (serving RSS).
    assert (exported / onnx_query.MODEL_FILE).stat().st_size < 5_000_000
    assert (exported / onnx_query.WEIGHTS_FILE).stat().st_size > 400_000_000
    # ... and the word-embedding table is read per token, outside the graph (onnx_table.py).
    assert runtime.table is not None and runtime.table.rows > 200_000
    ours = embedder.encode_queries(TEXTS)  # what answers use
    reference = embedder._encode(TEXTS, "query", False)  # sentence-transformers
    cosines = np.sum(ours * reference, axis=1)
    assert cosines.min() >= onnx_query.MIN_COSINE, cosines
    assert ours.shape == (len(TEXTS), embedder.dim)


def test_torch_runtime_can_be_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(onnx_query.RUNTIME_ENV, "torch")
    assert Embedder().query_runtime is None


def test_a_model_we_cannot_reproduce_is_not_exported(tmp_path: Path) -> None:
    (tmp_path / "modules.json").write_text('[{"type": "x.Transformer"}, {"type": "x.Dense"}]')
    assert not onnx_query.exportable(tmp_path)
    assert onnx_query.query_encoder(tmp_path, lambda: None) is None
