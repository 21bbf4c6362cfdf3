"""`python -m benchmarks`: how the product scales from 1,000 to 1,000,000 passages.

Synthetic Danish corpora are made from the real corpus's sentences, recombined into documents
of 8-20 paragraphs with varied amounts and years, each attributed to one of Denmark's 98
municipalities. Two kinds of figure are measured:

- encode-bound (``--encode-sizes``, real model): full build throughput against the bare
  model's encode rate on the same texts, and adding one document to that index;
- index-side (``--sizes``): the index is built by the real code path, but the passage
  vectors are derived from the real vectors of the largest encode-bound corpus: vector i is
  base[i mod n_base] plus Gaussian noise (sigma ``--noise`` per dimension), re-normalised.
  Queries are the 108 real questions of evaluation/data/gold.jsonl, encoded by the model.

It prints JSON and a Markdown table and writes docs/benchmarks.md and docs/latency.png.
Phases that need their own peak memory figure run as child processes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import resource
import shutil
import subprocess
import sys
import time
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import answers
from benchmarks.report import faiss_table, table, write_report
from retrieval.text.places import MUNICIPALITIES

ROOT = Path(__file__).resolve().parent.parent
TOWNS = sorted(MUNICIPALITIES)
COMMITTEES = ("Socialudvalget", "Social- og Sundhedsudvalget", "Ældre- og Handicapudvalget",
              "Børne- og Ungeudvalget", "Beskæftigelsesudvalget")
TITLES = {"budget": "Udvalgets budget", "plan": "Plan for socialområdet", "strategi":
          "Strategi for udsatte borgere", "socialpolitik": "Socialpolitik",
          "arbejdsgrundlag": "Udvalgets arbejdsgrundlag"}
QUESTIONS_FILE = ROOT / "evaluation" / "data" / "gold.jsonl"


# --- synthetic corpora -------------------------------------------------------------------

def real_sentences(corpus_dir: Path = ROOT / "corpus") -> list[str]:
    from retrieval.ingest.corpus import load_corpus
    from retrieval.text.chunking import sentences

    docs = load_corpus(corpus_dir).documents
    return [s for d in docs for p in d.text.split("\n\n") for s in sentences(p)
            if len(s.split()) >= 3]


class Synth:
    """Deterministic recombined documents: (manifest fields, text) by number."""

    def __init__(self, sentences: Sequence[str], seed: int = 7) -> None:
        self.sentences = list(sentences)
        self.seed = seed

    def document(self, i: int) -> tuple[dict[str, str], str]:
        rng = random.Random(self.seed * 1_000_003 + i)
        town = rng.choice(TOWNS)
        kind = rng.choice(list(TITLES))
        start = rng.randint(2010, 2026)
        period = f"{start}-{start + rng.randint(1, 4)}" if kind != "budget" else str(start)
        paras = []
        for _ in range(rng.randint(8, 20)):
            picked = [rng.choice(self.sentences) for _ in range(rng.randint(2, 6))]
            paras.append(" ".join(re.sub(r"\d+", lambda m: str(rng.randint(
                1, 10 ** len(m[0]))), s) for s in picked))
        title = f"{TITLES[kind]} {period}"
        fields = {"id": f"syn-{i:07d}", "file": f"syn-{i:07d}.txt", "title": title,
                  "municipality": town, "committee": rng.choice(COMMITTEES), "kind": kind,
                  "period": period, "source": f"Syntetisk dokument nr. {i}"}
        return fields, title + "\n\n" + "\n\n".join(paras)


def write_corpus(folder: Path, n_passages: int, synth: Synth, first: int = 0) -> int:
    """Documents until the chunker makes at least n_passages; returns the passage count."""
    from retrieval.ingest.catalog import _toml_table
    from retrieval.text.chunking import chunk_text

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    tables, count, i = [], 0, first
    while count < n_passages:
        fields, text = synth.document(i)
        (folder / fields["file"]).write_text(text, "utf-8")
        tables.append(_toml_table(fields))
        count += len(chunk_text(text))
        i += 1
    (folder / "documents.toml").write_text(
        '[[municipality]]\nname = "Aarhus"\nphone = "89 40 20 00"\n' + "".join(tables), "utf-8")
    return count


class TimedEmbedder:
    """The real embedder, adding up the time spent encoding: the share of a build spent in
    the model is a fair figure even when other jobs slow the machine down in the middle."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.seconds = 0.0

    @property
    def model_id(self) -> str:
        return str(self.real.model_id)

    @property
    def dim(self) -> int:
        return int(self.real.dim)

    def encode_passages(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        start = time.perf_counter()
        try:
            return np.asarray(self.real.encode_passages(texts, show_progress=show_progress))
        finally:
            self.seconds += time.perf_counter() - start


class DerivedEmbedder:
    """Vectors derived from real ones (see the module docstring), deterministic per text."""

    def __init__(self, real: Any, base: np.ndarray, noise: float) -> None:
        self.real = real
        self.base = base
        self.noise = noise

    @property
    def model_id(self) -> str:
        return str(self.real.model_id)

    @property
    def dim(self) -> int:
        return int(self.base.shape[1])

    def encode_passages(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        return derive(self.base, [zlib.crc32(t.encode()) for t in texts], self.noise)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self.real.encode_queries(texts))


def derive(base: np.ndarray, seeds: Sequence[int], noise: float) -> np.ndarray:
    """Per seed: a mix of two real vectors (weights 0.5-1 and the rest) plus Gaussian noise of
    sigma ``noise`` per dimension, re-normalised. Mixing makes a continuum like real topics;
    noisy copies of one vector alone would make 100 near-ties per neighbour at 100k."""
    out = np.empty((len(seeds), base.shape[1]), np.float32)
    for row, seed in enumerate(seeds):
        rng = np.random.default_rng(seed)
        i, j = rng.integers(0, len(base), 2)
        w = rng.uniform(0.5, 1.0)
        out[row] = w * base[i] + (1 - w) * base[j] + rng.standard_normal(
            base.shape[1], dtype=np.float32) * noise
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def derived_vectors(base: np.ndarray, n: int, noise: float, seed: int = 0) -> np.ndarray:
    """n vectors for the FAISS curve, as `derive` makes them, in blocks to bound memory."""
    out = np.empty((n, base.shape[1]), np.float32)
    rng = np.random.default_rng(seed)
    for start in range(0, n, 100_000):
        m = min(n, start + 100_000) - start
        i, j = rng.integers(0, len(base), m), rng.integers(0, len(base), m)
        w = rng.uniform(0.5, 1.0, (m, 1)).astype(np.float32)
        block = w * base[i] + (1 - w) * base[j]
        block += rng.standard_normal(block.shape, dtype=np.float32) * noise
        out[start:start + m] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def questions() -> list[str]:
    return [json.loads(line)["question"] for line in QUESTIONS_FILE.read_text("utf-8").splitlines()
            if line.strip()]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000, q))


def du_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


# --- phases --------------------------------------------------------------------------------

def phase_encode(n: int, work: Path) -> dict[str, Any]:
    """Build with the real model vs the bare model on the same texts; then add one document."""
    from retrieval.embedding.model import get_embedder
    from retrieval.indexing import build as indexing
    from retrieval.indexing.store import load_index
    from retrieval.ingest.add import add_files
    from retrieval.text.chunking import embed_text

    synth = Synth(real_sentences())
    corpus, index = work / f"corpus-{n}", work / f"index-{n}"
    passages = write_corpus(corpus, n, synth)
    embedder = get_embedder()
    embedder.encode_passages(["opvarmning af modellen"])  # load the model outside the timings
    timed = TimedEmbedder(embedder)
    start = time.perf_counter()
    manifest = indexing.build(corpus, index, show_progress=False,
                              embedder=timed)  # type: ignore[arg-type]
    build_s = time.perf_counter() - start
    stored = load_index(index)
    texts = [embed_text(p) for p in stored.passages]
    start = time.perf_counter()
    vectors = embedder.encode_passages(texts)
    encode_s = time.perf_counter() - start
    np.save(work / f"vectors-{n}.npy", vectors)

    fields, text = synth.document(10_000_000)
    new = work / "new-document" / "nyt-dokument.txt"
    new.parent.mkdir(exist_ok=True)
    new.write_text(text, "utf-8")
    meta = {k: v for k, v in fields.items() if k not in ("id", "file")}
    start = time.perf_counter()
    add_files([new], meta, corpus, {})
    report = indexing.update(corpus, index)
    add_s = time.perf_counter() - start
    fresh = [p for p in load_index(index).passages if p.document_id == report.added[0]]
    start = time.perf_counter()
    embedder.encode_passages([embed_text(p) for p in fresh])
    add_encode_s = time.perf_counter() - start
    return {
        "passages": manifest["passages"], "planned": passages, "build_s": build_s,
        "build_rate": manifest["passages"] / build_s, "encode_s": encode_s,
        "build_encode_s": timed.seconds, "build_encode_share": timed.seconds / build_s,
        "encode_rate": len(texts) / encode_s, "build_vs_encode": encode_s / build_s,
        "add_passages": len(fresh), "add_s": add_s, "add_encode_s": add_encode_s,
        "add_overhead_s": add_s - add_encode_s, "peak_rss_mb": peak_rss_mb(),
    }


def phase_index(n: int, work: Path, base_file: Path, noise: float) -> dict[str, Any]:
    """Build an n-passage index by the real code path with derived vectors."""
    from retrieval.embedding.model import get_embedder
    from retrieval.indexing import build as indexing
    from retrieval.ingest import catalog, changes

    synth = Synth(real_sentences())
    corpus, index = work / f"corpus-{n}", work / f"index-{n}"
    start = time.perf_counter()
    write_corpus(corpus, n, synth)
    write_s = time.perf_counter() - start
    derived = DerivedEmbedder(get_embedder(), np.load(base_file), noise)
    start = time.perf_counter()
    cm = catalog.read_catalog(corpus)
    from retrieval.indexing.folder import writing

    with writing(index):
        manifest = indexing._full(cm, changes.fingerprints(cm), index, derived,  # type: ignore[arg-type]
                                  False)
    return {"passages": manifest["passages"], "documents": manifest["documents"],
            "index_type": manifest["index_type"], "write_corpus_s": write_s,
            "build_s_without_encoding": time.perf_counter() - start,
            "index_mb": du_mb(index), "peak_rss_mb": peak_rss_mb()}


def phase_serve(n: int, work: Path, queries: int) -> dict[str, Any]:
    """Warm query latency per retriever, against the bare query-encoding time."""
    from retrieval.answer.assistant import Assistant
    from retrieval.search.hybrid import POOL, HybridRetriever, fuse

    start = time.perf_counter()
    assistant = Assistant.load(work / f"index-{n}", corpus_dir=work / f"corpus-{n}")
    load_s = time.perf_counter() - start
    qs = questions()[:queries]
    dense, lexical, hybrid = assistant.dense, assistant.lexical, assistant.hybrid
    assert isinstance(hybrid, HybridRetriever), type(hybrid)
    for q in qs[:5]:  # warm up
        dense.embedder.encode_queries([q])
        lexical.search(q, POOL)
    timings: dict[str, list[float]] = {"encode": [], "dense": [], "bm25": [], "hybrid": []}
    for q in qs:
        t0 = time.perf_counter()
        qv = dense.embedder.encode_queries([q])[0]
        t1 = time.perf_counter()
        dense.search_vector(qv, 5)
        t2 = time.perf_counter()
        lexical.search(q, 5)
        t3 = time.perf_counter()
        hits = fuse(dense.search_vector(qv, POOL), lexical.search(q, POOL), 5,
                    hybrid.fusion, hybrid.weight)
        t4 = time.perf_counter()
        assert hits
        for key, value in zip(timings, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            timings[key].append(value)
    start = time.perf_counter()
    for q in qs[:5]:
        assistant.ask(q)
    ask_ms = (time.perf_counter() - start) / min(5, len(qs)) * 1000
    out: dict[str, Any] = {"passages": len(assistant.passages), "load_s": load_s,
                           "ask_mean_ms": ask_ms, "peak_rss_mb": peak_rss_mb()}
    for key, values in timings.items():
        out[f"{key}_p50_ms"] = pct(values, 50)
        out[f"{key}_p95_ms"] = pct(values, 95)
    return out


def phase_add(n: int, work: Path, synth_seed: int = 7) -> dict[str, Any]:
    """Add one real-encoded document to the (derived-vector) n-passage index."""
    from retrieval.embedding.model import get_embedder
    from retrieval.indexing import build as indexing
    from retrieval.indexing.store import load_index
    from retrieval.ingest.add import add_files
    from retrieval.text.chunking import embed_text

    synth = Synth(real_sentences(), synth_seed)
    embedder = get_embedder()
    embedder.encode_passages(["opvarmning af modellen"])
    corpus, index = work / f"corpus-{n}", work / f"index-{n}"
    number = 20_000_000 + int(time.time()) % 1_000_000  # a new document at every run
    fields, text = synth.document(number)
    new = work / "new-document" / f"nyt-dokument-{number}.txt"
    new.parent.mkdir(exist_ok=True)
    new.write_text(text, "utf-8")
    meta = {k: v for k, v in fields.items() if k not in ("id", "file")}
    start = time.perf_counter()
    from retrieval.indexing.status import content_hashes

    add_files([new], meta, corpus, content_hashes(corpus, index))
    to_corpus_s = time.perf_counter() - start
    # The update encodes the passages and (since issue 16) their sentences and windows: its own
    # time inside the model is what "besides encoding" leaves out.
    timed = TimedEmbedder(embedder)
    report = indexing.update(corpus, index, embedder=timed)  # type: ignore[arg-type]
    add_s = time.perf_counter() - start
    fresh = [p for p in load_index(index).passages if p.document_id == report.added[0]]
    start = time.perf_counter()
    embedder.encode_passages([embed_text(p) for p in fresh])
    passages_s = time.perf_counter() - start
    return {"passages": report.manifest["passages"], "add_passages": len(fresh),
            "add_s": add_s, "add_to_corpus_s": to_corpus_s, "add_encode_s": timed.seconds,
            "add_encode_passages_only_s": passages_s, "add_overhead_s": add_s - timed.seconds,
            "peak_rss_mb": peak_rss_mb(), "load_average": os.getloadavg()}


def phase_faiss(n: int, base_file: Path, noise: float, queries_file: Path) -> dict[str, Any]:
    """Flat vs HNSW (vs IVF at 1M) on n derived vectors: recall@10 against exact, latency."""
    import faiss

    base = np.load(base_file)
    xb = derived_vectors(base, n, noise)
    xq = np.load(queries_file)
    out: dict[str, Any] = {"passages": n}

    def latency(index: Any, k: int = 50) -> tuple[float, float]:
        index.search(xq[:5], k)
        times = []
        for q in xq:
            t = time.perf_counter()
            index.search(q.reshape(1, -1), k)
            times.append(time.perf_counter() - t)
        return pct(times, 50), pct(times, 95)

    flat = faiss.IndexFlatIP(xb.shape[1])
    flat.add(xb)
    _, truth = flat.search(xq, 10)
    for threads in (1, 2):
        faiss.omp_set_num_threads(threads)
        out[f"flat_p50_ms_{threads}t"], out[f"flat_p95_ms_{threads}t"] = latency(flat)
    faiss.omp_set_num_threads(2)

    def recall(index: Any) -> float:
        _, found = index.search(xq, 10)
        return float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth,
                                                                        strict=True)]))

    from retrieval.indexing.vectors import HNSW_EF_CONSTRUCTION, HNSW_M

    hnsw = faiss.IndexHNSWFlat(xb.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    start = time.perf_counter()
    hnsw.add(xb)
    out["hnsw_build_s"] = time.perf_counter() - start
    faiss.omp_set_num_threads(1)
    for ef in (32, 64, 128, 256, 512):
        hnsw.hnsw.efSearch = ef
        out[f"hnsw_ef{ef}_recall10"] = recall(hnsw)
        out[f"hnsw_ef{ef}_p50_ms"], out[f"hnsw_ef{ef}_p95_ms"] = latency(hnsw)
    faiss.omp_set_num_threads(2)
    if n >= 1_000_000:
        del hnsw
        nlist = 4096
        ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(xb.shape[1]), xb.shape[1], nlist,
                                 faiss.METRIC_INNER_PRODUCT)
        start = time.perf_counter()
        ivf.train(xb[np.random.default_rng(1).choice(n, 100_000, replace=False)])
        ivf.add(xb)
        out["ivf_build_s"] = time.perf_counter() - start
        faiss.omp_set_num_threads(1)
        for nprobe in (16, 64):
            ivf.nprobe = nprobe
            out[f"ivf_np{nprobe}_recall10"] = recall(ivf)
            out[f"ivf_np{nprobe}_p50_ms"], out[f"ivf_np{nprobe}_p95_ms"] = latency(ivf)
        faiss.omp_set_num_threads(2)
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def cold_start(n: int, work: Path) -> dict[str, Any]:
    """`python -m retrieval ask` in a fresh process: wall time to the first answer, peak RSS."""
    cmd = [sys.executable, "-m", "retrieval", "ask", questions()[0], "--json",
           "--index", str(work / f"index-{n}")]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    out = proc.stdout.read().decode() if proc.stdout else ""
    if status != 0 or '"hits"' not in out:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise RuntimeError(f"cold start failed ({status}): {err[-2000:]}")
    return {"cold_start_s": wall, "cold_start_rss_mb": usage.ru_maxrss / 1024}


def child(phase: str, *args: str) -> dict[str, Any]:
    """Run a phase in a fresh process: its own peak RSS, nothing shared with the others."""
    cmd = [sys.executable, "-m", "benchmarks.bench", "--phase", phase, *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    out = proc.stdout.read().decode() if proc.stdout else ""
    if status != 0:
        raise RuntimeError(f"bench phase {phase} {args} failed with status {status}")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    result["process_peak_rss_mb"] = usage.ru_maxrss / 1024
    return result


def machine() -> dict[str, Any]:
    import faiss

    return {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "load_average_at_start": os.getloadavg(), "python": platform.python_version(),
            "faiss": faiss.__version__, "date": time.strftime("%Y-%m-%d %H:%M")}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--encode-sizes", default="1000,10000")
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--faiss-sizes", default="10000,100000,1000000")
    ap.add_argument("--noise", type=float, default=0.01, help="per-dimension sigma")
    ap.add_argument("--queries", type=int, default=108)
    ap.add_argument("--work", default="/tmp/sporg-bench", help="scratch folder (GBs at 1M)")
    ap.add_argument("--out", default=str(ROOT / "docs"))
    ap.add_argument("--reuse", action="store_true", help="reuse encode results in --work")
    ap.add_argument("--claims", action="store_true",
                    help="only the speed promises the tests do not time (benchmarks/claims.py)")
    ap.add_argument("--answers", default="embedded,1000",
                    help="whole answers (issue 16) on 'embedded' (corpus/) and index-side sizes")
    ap.add_argument("--thread-questions", type=int, default=60,
                    help="questions per thread in the 8-thread run")
    ap.add_argument("--phase", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--base", help=argparse.SUPPRESS)
    ap.add_argument("--qfile", help=argparse.SUPPRESS)
    ap.add_argument("--index", help=argparse.SUPPRESS)
    ap.add_argument("--corpus", help=argparse.SUPPRESS)
    ns = ap.parse_args(argv)
    if ns.claims:
        from benchmarks.claims import main as claims

        return claims()
    work = Path(ns.work)
    work.mkdir(parents=True, exist_ok=True)
    if ns.phase:
        return _run_phase(ns, work)

    sizes = [int(x) for x in ns.sizes.split(",") if x]
    results: dict[str, Any] = {"machine": machine(), "noise": ns.noise, "encode": [],
                               "index": [], "faiss": []}
    previous = Path(ns.out) / "benchmarks.json"
    runs: list[dict[str, Any]] = []
    if ns.reuse and previous.is_file():  # keep the sizes this run does not measure again
        old = json.loads(previous.read_text("utf-8"))
        faiss_sizes = {int(x) for x in ns.faiss_sizes.split(",") if x}
        results["index"] = [r for r in old.get("index", []) if r.get("planned") not in sizes]
        results["faiss"] = [r for r in old.get("faiss", []) if r["passages"] not in faiss_sizes]
        runs = old.get("runs", [])
    saved = work / "encode.json"
    reused = ns.reuse and saved.is_file()
    measured = [f"{what} {value}" for what, value in (
        ("encode-bound", "" if reused else ns.encode_sizes), ("index-side", ns.sizes),
        ("FAISS", ns.faiss_sizes)) if value]
    if measured:  # each run's date and load stay with the figures it made
        runs.append({**results["machine"], "measured": "; ".join(measured)})
    results["runs"] = runs
    if reused:
        results["encode"] = json.loads(saved.read_text())
    else:
        for n in [int(x) for x in ns.encode_sizes.split(",") if x]:
            print(f"encode-bound, {n} passages …", file=sys.stderr, flush=True)
            results["encode"].append(child("encode", "--n", str(n), "--work", str(work)))
            saved.write_text(json.dumps(results["encode"]))
    base_n = max(int(x) for x in ns.encode_sizes.split(",") if x)
    base = work / f"vectors-{base_n}.npy"
    queries = work / "queries.npy"
    if not queries.is_file():
        from retrieval.embedding.model import get_embedder

        np.save(queries, get_embedder().encode_queries(questions()))
    results["base"] = {"file": base.name, "vectors": int(np.load(base).shape[0])}
    for n in sizes:
        print(f"index-side, {n} passages …", file=sys.stderr, flush=True)
        r = child("index", "--n", str(n), "--work", str(work), "--noise", str(ns.noise),
                  "--base", str(base))
        r["planned"] = n
        r["serve"] = child("serve", "--n", str(n), "--work", str(work),
                           "--queries", str(ns.queries))
        r["cold"] = cold_start(n, work)
        r["add"] = child("add", "--n", str(n), "--work", str(work))
        results["index"].append(r)
        results["index"].sort(key=lambda r: r["passages"])
        write_report(results, Path(ns.out))
    if ns.answers:
        results["answers"] = [r for r in results.get("answers", [])
                              if str(r["planned"]) not in ns.answers.split(",")]
        for size in [x for x in ns.answers.split(",") if x]:
            print(f"whole answers, {size} …", file=sys.stderr, flush=True)
            results["answers"].append(measure_answers(size, work, ns.thread_questions))
            write_report(results, Path(ns.out))
    for n in [int(x) for x in ns.faiss_sizes.split(",") if x]:
        print(f"FAISS types, {n} vectors …", file=sys.stderr, flush=True)
        results["faiss"].append(child("faiss", "--n", str(n), "--work", str(work), "--noise",
                                      str(ns.noise), "--base", str(base), "--qfile",
                                      str(queries)))
        results["faiss"].sort(key=lambda r: r["passages"])
        write_report(results, Path(ns.out))
    write_report(results, Path(ns.out))  # also when only encode-bound sizes were (re)measured
    print(json.dumps(results, ensure_ascii=False))
    print(table(results))
    print(faiss_table(results))
    return 0


def measure_answers(size: str, work: Path, per_thread: int) -> dict[str, Any]:
    """Whole answers on the embedded corpus ("embedded") or an index-side size built above."""
    if size == "embedded":
        index, corpus = answers.embedded_index(work), ROOT / "corpus"
    else:
        index, corpus = work / f"index-{size}", work / f"corpus-{size}"
    where = ["--index", str(index), "--corpus", str(corpus), "--work", str(work)]
    return {"planned": size, "load_average": os.getloadavg(), "index_mb": du_mb(index),
            "answers": child("answers", *where),
            "threads": child("threads", *where, "--thread-questions", str(per_thread)),
            "cold": answers.cold_start(index)}


def _run_phase(ns: argparse.Namespace, work: Path) -> int:
    args = ns
    if ns.phase == "encode":
        out = phase_encode(ns.n, work)
    elif ns.phase == "index":
        out = phase_index(ns.n, work, Path(args.base), ns.noise)
    elif ns.phase == "serve":
        out = phase_serve(ns.n, work, ns.queries)
    elif ns.phase == "add":
        out = phase_add(ns.n, work)
    elif ns.phase in ("answers", "threads"):
        corpus = Path(ns.corpus) if ns.corpus else None
        out = (answers.phase_answers(Path(ns.index), corpus) if ns.phase == "answers" else
               answers.phase_threads(Path(ns.index), corpus, ns.thread_questions))
    elif ns.phase == "faiss":
        out = phase_faiss(ns.n, Path(args.base), ns.noise, Path(args.qfile))
    else:
        raise SystemExit(f"unknown phase {ns.phase!r}")
    print(json.dumps(out))
    return 0



if __name__ == "__main__":
    sys.exit(main())
