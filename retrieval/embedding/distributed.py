"""Passages encoded by a pool of Ray actors (issue 17): a build that outgrows one machine.

Encoding is 99.6 % of a build (docs/benchmarks.md), so encoding is the only part that leaves the
driver, the machine running `python -m retrieval build --ray`. The driver reads and chunks the
corpus, hands the texts to Ray actors (one model per actor, loaded once, which is why actors and
not tasks) and writes the index itself through the very same `build()`/`update()` code as the
single-machine build: the same files, manifest, checksums, lock and atomic swap.
`RayEmbedder` offers what those functions use of an Embedder (`model_id`, `dim`,
`encode_passages`); build.py does not know Ray exists.

Same vectors: the driver orders the texts exactly as sentence-transformers orders one call's
texts (np.argsort of minus the length) and cuts that order into tasks of the model's batch size,
so every batch the model sees holds the same texts, hence the same padding, as in the
single-machine build. Measured on the embedded corpus: passage and window vectors bit-identical,
4 of 214 sentence rows off by at most 2.4e-7. Other batch sizes pad differently and differ by a
float32 ulp or so (~1e-7): within tolerance, but enough to move a score that sits on a threshold.
Each vector is put back at its text's place.

Faults: actors restart when their process dies (`max_restarts=-1`) and the batch they were
running is sent again (`max_task_retries=-1`). The driver files each batch's vectors under the
batch's number and refuses a result whose size is not the batch's, so a batch run twice lands
once and a lost one is an error, never a gap. `$SPORG_RAY_CRASH_ONCE` names a flag file: the
first worker that finds it deletes it and kills its own process (tests/test_ray_build.py).

Ray is imported only here and in joining.py (how a cluster is joined), only when asked for:
the default install does not need it.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import Any, TextIO

import numpy as np

from retrieval.embedding.joining import ClusterUnavailable, check_token, connect, reachable
from retrieval.embedding.model import BATCH_SIZE, MODEL_ENV, resolve_model
from retrieval.embedding.progress import Progress

EXTRA = "pip install -e '.[cluster]'"
CRASH_ENV = "SPORG_RAY_CRASH_ONCE"
# The order build() and update() encode in (build.py, sentences.py): named in the progress line.
STAGES = ("passages", "sentences", "windows")

def require_ray() -> Any:
    """The ray module, or a one-line error naming the extra that installs it."""
    try:
        import ray
    except ModuleNotFoundError as exc:
        if exc.name != "ray":
            raise ClusterUnavailable(f"Ray cannot be imported ({exc}): {EXTRA}") from exc
        raise ClusterUnavailable(
            f"--ray needs Ray, which is not installed: {EXTRA} (the optional 'cluster' extra)"
        ) from None
    except ImportError as exc:
        raise ClusterUnavailable(f"Ray cannot be imported ({exc}): {EXTRA}") from exc
    return ray


@dataclass(frozen=True)
class RayOptions:
    """How to encode on Ray. ``address`` None starts a private local cluster on this machine;
    ``workers`` None uses one worker per ``cpus_per_worker`` CPUs of the cluster."""

    address: str | None = None
    workers: int | None = None
    cpus_per_worker: int = 1
    batch: int = BATCH_SIZE  # texts per task: the model's batch, for bit-identical vectors
    in_flight: int = 2  # tasks queued per worker, so none waits for the driver

    def __post_init__(self) -> None:
        for name in ("cpus_per_worker", "batch", "in_flight"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"--workers must be at least 1, got {self.workers}")


class EncodeWorker:
    """One model in one Ray worker process; made a Ray actor class by `_actor_class`."""

    def __init__(self, model: str | None, threads: int, model_id: str) -> None:
        import torch

        from retrieval.embedding.model import get_embedder

        torch.set_num_threads(threads)
        self.embedder = get_embedder(model)
        if self.embedder.model_id != model_id:
            raise ClusterUnavailable(
                f"worker {os.uname().nodename} has model {self.embedder.model_id!r}, the driver "
                f"{model_id!r}: install the same package versions (and model) on every node")
        self.dim = int(self.embedder.model.get_embedding_dimension())

    def describe(self) -> dict[str, Any]:
        import retrieval

        return {"node": os.uname().nodename, "pid": os.getpid(), "dim": self.dim,
                "code": retrieval.__file__}

    def encode(self, number: int, texts: list[str]) -> tuple[int, np.ndarray]:
        _crash_if_flagged()
        return number, self.embedder.encode_passages(texts)


def _crash_if_flagged() -> None:
    """Really kill this worker process, once per flag file: the fault test's trigger."""
    flag = os.environ.get(CRASH_ENV)
    if not flag:
        return
    try:
        os.unlink(flag)  # only one worker can win this
    except FileNotFoundError:
        return
    with open(f"{flag}.killed", "a", encoding="utf-8") as f:
        f.write(f"{os.getpid()}\n")
    os._exit(17)


class RayEmbedder:
    """An Embedder for build()/update() whose passages are encoded on Ray.

    Ray starts (or is joined) at the first text to encode, so an update with nothing to do
    starts nothing; `close()` (or leaving the `with` block) stops the actors, and the local
    cluster if this object started it."""

    def __init__(self, model: str | None = None, options: RayOptions | None = None,
                 stream: TextIO | None = None) -> None:
        require_ray()
        self.spec = model or os.environ.get(MODEL_ENV)
        self.options = options or RayOptions()
        self.stream = stream if stream is not None else sys.stderr
        self._model_id = resolve_model(self.spec, convert=False)[1]
        reachable(self.options.address)  # before minutes of chunking, not after
        check_token(self.options.address)
        self._actors: list[Any] = []
        self._started_ray = False
        self._calls = 0
        self.workers: list[dict[str, Any]] = []  # describe() of each worker, once started
        self.startup_s = 0.0  # joining or starting Ray, and every worker loading its model
        self.stages: list[tuple[str, int, float]] = []  # (stage, texts, seconds encoding)

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dim(self) -> int:
        self._start()
        return int(self.workers[0]["dim"])

    def encode_passages(self, texts: Any, show_progress: bool = True) -> np.ndarray:
        """Documents, with the passage prompt, each on some worker; rows in input order."""
        texts = list(texts)
        stage = STAGES[self._calls] if self._calls < len(STAGES) else "texts"
        self._calls += 1
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        self._start()
        order = np.argsort([-len(t) for t in texts])  # sentence-transformers' own order
        size = self.options.batch
        batches = [order[i:i + size] for i in range(0, len(order), size)]
        progress = Progress(stage, len(texts), len(self._actors), self.stream, show_progress)
        out = np.zeros((len(texts), self.dim), np.float32)
        self._run([[texts[j] for j in b] for b in batches], batches, out, progress)
        progress.finish()
        self.stages.append((stage, len(texts), time.perf_counter() - progress.start))
        return out

    def _run(self, batches: list[list[str]], rows: list[np.ndarray], out: np.ndarray,
             progress: Progress) -> None:
        """Every batch through the pool, at most `in_flight` per worker, each result written
        once into its rows of ``out`` as it arrives (at 1M passages the sentence vectors are
        ~11 GB: they are not held twice)."""
        import ray

        results: set[int] = set()
        pending: dict[Any, Any] = {}  # task ref → actor
        queue = list(range(len(batches)))[::-1]

        def submit(actor: Any) -> None:
            number = queue.pop()
            name = f"encode {progress.stage} ({len(batches)} batches)"  # one row in the dashboard
            ref = actor.encode.options(name=name).remote(number, batches[number])
            pending[ref] = actor

        for _ in range(self.options.in_flight):
            for actor in self._actors:
                if queue:
                    submit(actor)
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            actor = pending.pop(done[0])
            number, vectors = ray.get(done[0])
            if number in results or len(vectors) != len(batches[number]):
                raise RuntimeError(f"batch {number} came back twice or with {len(vectors)} "
                                   f"rows for {len(batches[number])} texts")
            out[rows[number]] = vectors
            results.add(number)
            progress.add(len(vectors))
            if queue:
                submit(actor)
        if missing := set(range(len(batches))) - set(results):
            raise RuntimeError(f"batches {sorted(missing)[:5]} never came back")

    def _start(self) -> None:
        if self._actors:
            return
        ray = require_ray()
        began = time.perf_counter()
        if not ray.is_initialized():
            connect(ray, self.options.address)
            self._started_ray = True
        cpus = float(ray.cluster_resources().get("CPU", 1))
        per = self.options.cpus_per_worker
        count = self.options.workers or max(1, int(cpus // per))
        env = {k: os.environ[k] for k in (CRASH_ENV,) if os.environ.get(k)}
        actor = ray.remote(EncodeWorker).options(
            num_cpus=per, max_restarts=-1, max_task_retries=-1,
            runtime_env={"env_vars": env} if env else None)
        started = time.perf_counter()
        print(f"Ray: starting {count} worker(s) of {per} CPU, one model each …",
              file=self.stream, flush=True)
        self._actors = [actor.remote(self.spec, per, self._model_id) for _ in range(count)]
        try:
            self.workers = ray.get([a.describe.remote() for a in self._actors])
        except ray.exceptions.RayActorError as exc:
            raise ClusterUnavailable(f"a Ray worker could not load the model: {exc}") from exc
        nodes = sorted({w["node"] for w in self.workers})
        self.startup_s = time.perf_counter() - began
        print(f"Ray: {count} worker(s) ready on {', '.join(nodes)} in "
              f"{time.perf_counter() - started:.1f} s", file=self.stream, flush=True)

    def close(self) -> None:
        if not self._actors and not self._started_ray:
            return
        import ray

        for actor in self._actors:
            ray.kill(actor)
        self._actors = []
        if self._started_ray:
            ray.shutdown()
            self._started_ray = False

    def __enter__(self) -> RayEmbedder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

