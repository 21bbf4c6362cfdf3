"""IVF for a national corpus (issue 17): how many lists, when to retrain, what the manifest says.

At 1,000,000 passages a flat scan costs 62 ms per query, three times the whole retrieval budget,
and our HNSW settings find only 0.64 of the exact top 10 there (docs/benchmarks.md), while an
inverted file of 4096 lists probing 64 of them found 0.92 in 1.3 ms. So above IVF_MIN passages
the index is an `IndexIVFFlat` (inner product, the vectors stored uncompressed: no recall lost
to quantisation) inside the same `IndexIDMap2`, its ids the passage positions as for flat.

An IVF is trained: k-means places `nlist` centroids and each vector is filed under the nearest.
Vectors added later are filed under centroids placed for the corpus as it was, so an index that
keeps growing drifts from one built fresh (lists grow uneven; a query probing 64 lists scans
ever more vectors, and new topics sit in lists trained for others). The rule (`retrain_due`):
an update adds to the trained lists as they are while the corpus stays within RETRAIN_GROWTH
of the size it was trained on, and retrains from the stored vectors (no re-encoding) once it
has grown (or shrunk) past that factor, at which point `nlist_for` also gives more lists.
Removing passages re-files the kept vectors under the same centroids (IVF's own removal would
renumber nothing, and the positions must stay contiguous); no training, no encoding.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

# Above this many passages, IVF (below: flat, then HNSW; build.index_type_for). HNSW at our
# settings held recall@10 0.93 at 100,000 but 0.64 at 1,000,000 (docs/benchmarks.md); IVF with
# nprobe 64 measured 0.96 at 200,000 and 0.95 at 1M (docs/scaling.md, "IVF"), so it takes over
# well before 1M. (HNSW was not measured at 200k: where exactly it stops paying is open.)
IVF_MIN = 200_000
NPROBE = 64  # lists probed per query, the build's default (`build --nprobe`)
NLIST_PER_ROOT = 4  # nlist ≈ 4·√N: 4,000 lists at 1M, 1,789 at 200k
NLIST_MAX = 65_536
POINTS_PER_LIST = 39  # FAISS's k-means warns below 39 training points per centroid
RETRAIN_GROWTH = 2.0  # retrain once the corpus is twice (or half) the size trained on
# A filter allowing less than this share of the corpus probes every list: 64 lists of 4,000
# hold ~1.6 % of the corpus, so one town's passages would mostly be missed (cf. HNSW).
IVF_EXACT_SHARE = 0.2


def nlist_for(n: int) -> int:
    """4·√N lists, at most NLIST_MAX, and few enough that each has POINTS_PER_LIST vectors
    to train on (a small corpus forced to IVF gets one list per 39 passages, at least one)."""
    return max(1, min(NLIST_MAX, round(NLIST_PER_ROOT * math.sqrt(n)), n // POINTS_PER_LIST))


def trained_ivf(vectors: np.ndarray, nlist: int | None = None, nprobe: int = NPROBE) -> Any:
    """An empty IndexIVFFlat (inner product) whose centroids are trained on ``vectors``.

    k-means is FAISS's, seeded, so the same vectors give the same centroids; above
    256·nlist vectors FAISS trains on a sample of that size."""
    import faiss

    n, dim = vectors.shape
    nlist = nlist or nlist_for(n)
    if n < nlist:
        raise ValueError(f"an IVF index of {nlist} lists needs at least {nlist} vectors to "
                         f"train on, got {n}: use --index-type flat, or fewer lists")
    if nprobe < 1:
        raise ValueError(f"--nprobe must be at least 1, got {nprobe}")
    quantizer = faiss.IndexFlatIP(dim)
    inner: Any = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    inner.referenced_objects = [quantizer]  # the Python wrapper owns it; keep it alive
    inner.train(np.ascontiguousarray(vectors, dtype=np.float32))
    inner.nprobe = nprobe  # FAISS probes min(nprobe, nlist); kept as asked for a retrain
    return inner


def emptied(inner: Any) -> Any:
    """A copy of a trained IVF with the same centroids and nprobe and no vectors."""
    import faiss

    copy = faiss.clone_index(inner)
    copy.reset()
    return copy


def retrain_due(trained_on: int, n: int) -> str | None:
    """Why an IVF trained on ``trained_on`` vectors should be retrained for ``n``, or None."""
    if n > RETRAIN_GROWTH * trained_on:
        return f"{n} passages, more than {RETRAIN_GROWTH:g}× the {trained_on} trained on"
    if n * RETRAIN_GROWTH < trained_on:
        return f"{n} passages, less than 1/{RETRAIN_GROWTH:g} of the {trained_on} trained on"
    return None


def manifest_entry(inner: Any, trained_on: int) -> dict[str, Any]:
    """What manifest.json records of an IVF index ({} for another kind)."""
    import faiss

    if not isinstance(inner, faiss.IndexIVF):
        return {}
    return {"ivf": {"nlist": int(inner.nlist), "nprobe": int(inner.nprobe),
                    "trained_on": int(trained_on), "retrain_growth": RETRAIN_GROWTH}}


def manifest_problem(manifest: dict[str, Any], inner: Any) -> str | None:
    """How the stored index and the manifest's account of it disagree, or None."""
    from retrieval.indexing.vectors import index_kind

    kind = index_kind(inner)
    if manifest.get("index_type") != kind:
        return f"the manifest says a {manifest.get('index_type')} index, index.faiss holds {kind}"
    if kind != "ivf":
        return None
    ivf = manifest.get("ivf") or {}
    stored = {"nlist": int(inner.nlist), "nprobe": int(inner.nprobe)}
    if {k: ivf.get(k) for k in stored} != stored or not isinstance(ivf.get("trained_on"), int):
        return f"the manifest's IVF settings {ivf} are not the index's {stored}"
    return None
