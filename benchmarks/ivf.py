"""`python -m benchmarks.ivf`: the IVF index at 200k-1M passages (issue 17, docs/scaling.md).

What the build makes (retrieval.indexing.vectors.make_index "ivf": nlist by ivf.nlist_for,
trained on every vector) is measured against exact search on the same vectors:

- recall@10 of the 108 labelled questions against a flat scan, and one query's latency
  (p50/p95, one thread, as the app searches), for several nprobe;
- a filtered search (retrieval.search.dense.filtered_search) allowing 1 % and 25 % of the
  corpus: its latency and recall@10 against the exact filtered answer;
- the retraining rule: an index trained on the first half of the vectors and grown to all of
  them by updates (no retraining, as `update` does below RETRAIN_GROWTH) against one trained on
  all, when the second half is like the first and when it comes from other topics (vectors
  derived from the other half of the base), the case that makes lists drift.

Vectors are derived from real e5 vectors as in benchmarks/bench.py (`derived_vectors`): the
base is every vector (passages, sentences, windows) of a built index folder, e.g. the one
`python -m benchmarks.cluster` leaves in /tmp/sporg-ray-bench. Queries: the labelled questions
encoded by the model. The load average is recorded at the start and end: other jobs share
these 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.bench import ROOT, derived_vectors, pct, questions


def base_vectors(index: Path) -> np.ndarray:
    """Every real vector an index folder holds: passages, sentences and windows."""
    from retrieval.indexing.store import load_index
    from retrieval.indexing.vectors import all_vectors

    stored = load_index(index)
    parts = [all_vectors(stored.id_map)]
    parts += [np.asarray(p.vectors, np.float32) for p in stored.sentences.parts.values()]
    base = np.concatenate(parts)
    return base / np.linalg.norm(base, axis=1, keepdims=True)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / truth.shape[1]
                          for a, b in zip(found, truth, strict=True)]))


def timed(search: Any, xq: np.ndarray) -> tuple[float, float]:
    search(xq[:1])
    times = []
    for q in xq:
        start = time.perf_counter()
        search(q.reshape(1, -1))
        times.append(time.perf_counter() - start)
    return pct(times, 50), pct(times, 95)


def measure(n: int, base: np.ndarray, xq: np.ndarray, nprobes: list[int], with_drift: bool = True
            ) -> dict[str, Any]:
    import faiss

    from retrieval.indexing import ivf
    from retrieval.indexing.vectors import make_index, searchable
    from retrieval.search.dense import filtered_search

    out: dict[str, Any] = {"passages": n, "load_average_at_start": os.getloadavg()}
    xb = derived_vectors(base, n, 0.01)
    faiss.omp_set_num_threads(2)
    flat = faiss.IndexFlatIP(xb.shape[1])
    flat.add(xb)
    _, truth = flat.search(xq, 10)
    start = time.perf_counter()
    index = searchable(make_index("ivf", np.arange(n, dtype=np.int64), xb))
    out.update(nlist=int(index.nlist), build_s=time.perf_counter() - start)
    faiss.omp_set_num_threads(1)
    out["flat_p50_ms"], out["flat_p95_ms"] = timed(lambda q: flat.search(q, 10), xq)
    sizes = np.array([index.invlists.list_size(i) for i in range(index.nlist)])
    out["list_size_max_over_mean"] = float(sizes.max() / sizes.mean())
    for nprobe in nprobes:
        index.nprobe = nprobe
        out[f"np{nprobe}_recall10"] = recall(index.search(xq, 10)[1], truth)
        out[f"np{nprobe}_p50_ms"], out[f"np{nprobe}_p95_ms"] = timed(
            lambda q, i=index: i.search(q, 10), xq)
    index.nprobe = ivf.NPROBE
    rng = np.random.default_rng(1)
    for share in (0.01, 0.25):
        allowed = np.sort(rng.choice(n, int(n * share), replace=False))
        exact = np.stack([filtered_search(flat, q.reshape(1, -1), 10, allowed)[1][0] for q in xq])
        found = np.stack([filtered_search(index, q.reshape(1, -1), 10, allowed)[1][0]
                          for q in xq])
        key = f"filter{int(share * 100)}"
        out[f"{key}_recall10"] = recall(found, exact)
        out[f"{key}_p50_ms"], out[f"{key}_p95_ms"] = timed(
            lambda q, a=allowed, i=index: filtered_search(i, q, 10, a), xq)
    del index
    if with_drift:
        out.update(drift(n, base, xq, xb, truth))
    out["load_average_at_end"] = os.getloadavg()
    return out


def drift(n: int, base: np.ndarray, xq: np.ndarray, xb: np.ndarray, truth: np.ndarray
          ) -> dict[str, Any]:
    """Recall at nprobe 64 of an IVF trained on half the vectors and grown to all of them."""
    import faiss

    from retrieval.indexing import ivf

    out: dict[str, Any] = {}
    half = n // 2
    # "other topics": the second half derived from the other half of the base's vectors.
    order = np.random.default_rng(2).permutation(len(base))
    first = derived_vectors(base[order[: len(base) // 2]], half, 0.01, seed=3)
    second = derived_vectors(base[order[len(base) // 2:]], n - half, 0.01, seed=4)
    for case, (a, b) in {"same": (xb[:half], xb[half:]), "new_topics": (first, second)}.items():
        every = np.concatenate([a, b])
        if case == "same":
            exact = truth
        else:
            flat = faiss.IndexFlatIP(every.shape[1])
            flat.add(every)
            exact = flat.search(xq, 10)[1]
        for trained_on, vectors in (("half", a), ("all", every)):
            faiss.omp_set_num_threads(2)
            index = ivf.trained_ivf(vectors, ivf.nlist_for(len(vectors)))
            index.add(every)
            faiss.omp_set_num_threads(1)
            key = f"drift_{case}_trained_on_{trained_on}"
            out[f"{key}_recall10"] = recall(index.search(xq, 10)[1], exact)
            out[f"{key}_p50_ms"], _ = timed(lambda q, i=index: i.search(q, 10), xq)
            sizes = np.array([index.invlists.list_size(i) for i in range(index.nlist)])
            out[f"{key}_list_max_over_mean"] = float(sizes.max() / sizes.mean())
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.ivf", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="200000,1000000")
    ap.add_argument("--nprobe", default="16,32,64,128")
    ap.add_argument("--no-drift", action="store_true",
                    help="skip the retraining comparison (four more IVF trainings)")
    ap.add_argument("--base-index", default="/tmp/sporg-ray-bench/index-1000-plain-1",
                    help="an index folder whose vectors the synthetic ones are derived from")
    ap.add_argument("--out", default=str(ROOT / "docs" / "ivf.json"),
                    help="results are appended to this JSON list")
    ns = ap.parse_args(argv)
    from retrieval.embedding.model import get_embedder

    base = base_vectors(Path(ns.base_index))
    xq = get_embedder().encode_queries(questions()).astype(np.float32)
    out = Path(ns.out)
    results: list[dict[str, Any]] = json.loads(out.read_text()) if out.is_file() else []
    for n in [int(x) for x in ns.sizes.split(",") if x]:
        print(f"IVF at {n} vectors …", file=sys.stderr, flush=True)
        r = measure(n, base, xq, [int(x) for x in ns.nprobe.split(",")], not ns.no_drift)
        r.update(base_vectors=len(base), date=time.strftime("%Y-%m-%d %H:%M"))
        results.append(r)
        out.write_text(json.dumps(results, indent=1) + "\n")
        print(json.dumps(r), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
