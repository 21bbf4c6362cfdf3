"""Questions encoded with onnxruntime on the same converted weights, so answering needs no torch.

Importing torch, transformers and sentence-transformers took ~6 s of every cold start, and a query
went through them in ~40 ms where the same graph in onnxruntime takes ~16 ms (issue 16). The
converted model is exported once, next to itself (`<model>/onnx/`), and used only after its vectors
were checked against sentence-transformers (cosine >= MIN_COSINE on CHECK_TEXTS); otherwise a
`REFUSED` note is left there and queries stay on sentence-transformers, which remains the reference
and what builds the index. Only models whose pipeline we can reproduce exactly (transformer, mean
pooling, normalisation) are exported; any other model simply uses sentence-transformers.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.embedding.onnx_table import WordTable, split_word_table

# Export 4 keeps the weights in a file of their own, which onnxruntime memory-maps (a session
# costs ~145 MB instead of 530 MB, and no transient 0.3 GB copy while loading), and the 384 MB
# word-embedding table out of the graph: its rows are read per token (onnx_table.py). A folder
# of its own, so processes still running an older release keep their "onnx/" (export 2).
ONNX_DIR = "onnx4"
MODEL_FILE = "model.onnx"  # graph optimised once at export, so a start only loads it
WEIGHTS_FILE = "model.onnx.data"  # its initializers, page-aligned by onnxruntime: mapped, not read
RAW_FILE = "exported.onnx"  # torch's export, removed once optimised
EXPORT_VERSION = 4  # in meta.json; an older export is replaced
META_FILE = "meta.json"
REFUSED = "REFUSED"
RUNTIME_ENV = "SPORG_QUERY_RUNTIME"  # "torch" keeps questions on sentence-transformers
MIN_COSINE = 0.9999
CHECK_TEXTS = (
    "Hvor mange penge bruger Socialudvalget i Sønderborg på demokrati?",
    "Hvad er Silkeborgs fokusområder?",
    "og i København?",
    "What are the goals for homeless people in Copenhagen?",
    "Hvilke mål har Høje-Taastrup for borgere med handicap og psykiske lidelser i 2014-2020?",
    "botilbudspladser 79.000 kr. ~ æøå ‍ test",
)
_PIPELINE = ("Transformer", "Pooling", "Normalize")


def wanted() -> bool:
    return os.environ.get(RUNTIME_ENV, "onnx").strip().lower() != "torch"


def exportable(folder: Path) -> bool:
    """A transformer + mean pooling + normalisation, with a tokenizer.json we can load."""
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    kinds = tuple(m.get("type", "").rsplit(".", 1)[-1] for m in modules)
    return (kinds == _PIPELINE and pooling.get("pooling_mode") == "mean"
            and (folder / "tokenizer.json").is_file())


def ready(folder: Path) -> bool:
    out = folder / ONNX_DIR
    try:
        meta = json.loads((out / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return ((out / MODEL_FILE).is_file() and (out / WEIGHTS_FILE).is_file()
            and meta.get("version") == EXPORT_VERSION)


def refused(folder: Path) -> bool:
    return (folder / ONNX_DIR / REFUSED).is_file()


def export(folder: Path, model: Any) -> bool:
    """Export ``model`` (the loaded SentenceTransformer of ``folder``) and check it; True when the
    ONNX copy agrees and may answer questions. Written to a temporary folder, renamed in place."""
    import torch

    transformer = model[0].auto_model.eval()
    tmp = Path(tempfile.mkdtemp(prefix=f"{ONNX_DIR}.tmp-", dir=folder))
    try:
        ids = torch.ones((1, 8), dtype=torch.long)
        with torch.no_grad():
            torch.onnx.export(
                _LastHidden(transformer), (ids, torch.ones_like(ids)), str(tmp / RAW_FILE),
                input_names=["input_ids", "attention_mask"], output_names=["hidden"],
                dynamic_axes={n: {0: "batch", 1: "tokens"}
                              for n in ("input_ids", "attention_mask", "hidden")},
                opset_version=17, dynamo=False,
            )
        _optimise(tmp / RAW_FILE, tmp / MODEL_FILE)
        (tmp / RAW_FILE).unlink()
        prompt = str((model.prompts or {}).get("query") or "")
        meta = {"version": EXPORT_VERSION, "max_length": int(model.max_seq_length),
                "query_prompt": prompt, "dim": int(model.get_embedding_dimension()),
                "word_table": split_word_table(tmp / MODEL_FILE)}
        (tmp / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
        reference = model.encode([prompt + t for t in CHECK_TEXTS],
                                 normalize_embeddings=True, convert_to_numpy=True)
        ours = OnnxQueryEncoder(folder, tmp).encode(list(CHECK_TEXTS))
        agreement = float(np.min(np.sum(reference * ours, axis=1)))
        if agreement < MIN_COSINE:
            (tmp / REFUSED).write_text(f"min cosine {agreement:.6f} < {MIN_COSINE}\n", "utf-8")
            (tmp / MODEL_FILE).unlink()
            (tmp / WEIGHTS_FILE).unlink()
        tmp.chmod(0o755)
        shutil.rmtree(folder / ONNX_DIR, ignore_errors=True)  # an older export
        os.replace(tmp, folder / ONNX_DIR)
        return agreement >= MIN_COSINE
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _optimise(raw: Path, out: Path) -> None:
    """Run onnxruntime's graph optimisations once and keep the result: creating a session
    from the raw export optimised it again at every start (8 s of a cold start under load,
    profiled). Extended level: no hardware-specific layouts, so a shared cache stays portable."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(out)
    options.add_session_config_entry(
        "session.optimized_model_external_initializers_file_name", WEIGHTS_FILE)
    options.add_session_config_entry(
        "session.optimized_model_external_initializers_min_size_in_bytes", "1024")
    onnxruntime.InferenceSession(str(raw), options, providers=["CPUExecutionProvider"])


class _LastHidden:  # a torch.nn.Module made lazily, so importing this file needs no torch
    def __new__(cls, transformer: Any) -> Any:
        import torch

        class Wrapped(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.inner = transformer

            def forward(self, input_ids: Any, attention_mask: Any) -> Any:
                return self.inner(input_ids=input_ids, attention_mask=attention_mask
                                  ).last_hidden_state

        return Wrapped()


class OnnxQueryEncoder:
    """Tokenizer (the `tokenizers` library) + onnxruntime + mean pooling + normalisation; one
    intra-op thread per question, as torch had (docs/benchmarks.md). Thread-safe."""

    def __init__(self, folder: Path, onnx_dir: Path | None = None) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        onnx_dir = onnx_dir or folder / ONNX_DIR
        meta = json.loads((onnx_dir / META_FILE).read_text(encoding="utf-8"))
        self.prompt: str = meta["query_prompt"]
        self.dim: int = meta["dim"]
        # The tokenizer (17 MB of JSON) and the session load side by side; the session maps
        # its 470 MB of weights (WEIGHTS_FILE) instead of reading them.
        tokenizer: list[Any] = []
        reading = threading.Thread(target=lambda: tokenizer.append(
            Tokenizer.from_file(str(folder / "tokenizer.json"))), daemon=True)
        reading.start()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = int(os.environ.get("SPORG_TORCH_THREADS", "1"))
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
        try:
            self.session = onnxruntime.InferenceSession(
                str(onnx_dir / MODEL_FILE), options, providers=["CPUExecutionProvider"])
        finally:
            reading.join()  # never leave a native thread running behind an exception
        if not tokenizer:
            raise RuntimeError(f"could not read {folder / 'tokenizer.json'}")
        self.tokenizer = tokenizer[0]
        self.table = WordTable(onnx_dir, meta["word_table"]) if meta.get("word_table") else None
        self.tokenizer.enable_truncation(meta["max_length"])
        self.tokenizer.no_padding()

    def encode(self, texts: list[str]) -> np.ndarray:
        """Normalised query vectors; each text gets the model's query prompt."""
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        encodings = self.tokenizer.encode_batch([self.prompt + t for t in texts])
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), width), np.int64)
        mask = np.zeros((len(texts), width), np.int64)
        pad = self.tokenizer.token_to_id("<pad>") or 0
        ids[:] = pad
        for row, e in enumerate(encodings):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if self.table is not None:
            feeds[self.table.input] = self.table.lookup(ids)
        (hidden,) = self.session.run(None, feeds)
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.ascontiguousarray(pooled / np.maximum(norms, 1e-12), dtype=np.float32)


def query_encoder(folder: Path, load_model: Callable[[], Any]) -> OnnxQueryEncoder | None:
    """The ONNX query encoder for the converted model in ``folder``, exported (and checked) on
    first use under a file lock; None where sentence-transformers must answer: switched off
    ($SPORG_QUERY_RUNTIME=torch), onnxruntime missing, a pipeline we cannot reproduce, or an
    export that disagreed with the reference."""
    if not wanted() or refused(folder) or not exportable(folder):
        return None
    if importlib.util.find_spec("onnxruntime") is None:
        return None
    if not ready(folder):
        from filelock import FileLock

        with FileLock(f"{folder}.onnx.lock", timeout=900):
            if not ready(folder) and not refused(folder):
                for stale in folder.glob(f"{ONNX_DIR}.tmp-*"):  # left by a killed export
                    shutil.rmtree(stale, ignore_errors=True)
                print("Exporting the model's query encoder to ONNX (first run only)…",
                      file=sys.stderr, flush=True)
                export(folder, load_model())
        if not ready(folder):
            return None
    return OnnxQueryEncoder(folder)
