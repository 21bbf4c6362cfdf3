"""`python -m benchmarks.cluster`: `build --ray` against the plain build (issue 17, scaling.md).

For each size, a synthetic corpus of N passages (benchmarks/bench.py's `Synth`, from the real
corpus's sentences) is built three ways, each in a fresh process, one after the other:

- plain: `build()` with the local model, as `python -m retrieval build` does; the model load
  counts (a fresh process pays it, as the command does);
- ray, W workers: `build()` with a RayEmbedder on a local cluster this process starts; the time
  counts Ray's start-up and every worker's model load, reported apart as `startup_s`, and the
  encoding stages' own times give the steady rate (`encode_rate`: passages per second of the
  encoding stages, sentences and windows included, which is what a cluster scales).

Every result carries the load average at its start and end: other jobs share these 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.bench import ROOT, Synth, real_sentences, write_corpus


def corpus_for(n: int, work: Path) -> Path:
    """The synthetic corpus of ~n passages, written once and reused by every mode."""
    folder = work / f"corpus-{n}"
    if not (folder / "documents.toml").is_file():
        write_corpus(folder, n, Synth(real_sentences()))
    return folder


def phase(mode: str, n: int, workers: int, work: Path) -> dict[str, Any]:
    from retrieval.indexing.build import build

    corpus = corpus_for(n, work)
    index = work / f"index-{n}-{mode}-{workers}"
    load = os.getloadavg()
    start = time.perf_counter()
    if mode == "plain":
        manifest = build(corpus, index, show_progress=False)
        extra: dict[str, Any] = {}
    else:
        from retrieval.embedding.distributed import RayEmbedder, RayOptions

        with RayEmbedder(options=RayOptions(workers=workers)) as embedder:
            manifest = build(corpus, index, show_progress=True,
                             embedder=embedder)  # type: ignore[arg-type]
        encode_s = sum(s for _, _, s in embedder.stages)
        extra = {"startup_s": embedder.startup_s, "encode_s": encode_s,
                 "encode_rate": manifest["passages"] / encode_s,
                 "stages": [list(s) for s in embedder.stages]}
    total = time.perf_counter() - start
    return {"mode": mode, "workers": workers, "passages": manifest["passages"], "total_s": total,
            "rate": manifest["passages"] / total, "load_average_at_start": load,
            "load_average_at_end": os.getloadavg(), **extra}


def child(mode: str, n: int, workers: int, work: Path) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "benchmarks.cluster", "--phase", mode, "--n", str(n),
           "--workers", str(workers), "--work", str(work)]
    out = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, check=True).stdout.decode()
    return dict(json.loads(out.strip().splitlines()[-1]))


def table(results: Sequence[dict[str, Any]]) -> str:
    rows = ["| passages | build | total | passages/s (whole build) | Ray start-up | "
            "encoding passages/s | load avg at start |", "| ---: | --- | ---: | ---: | ---: | "
            "---: | ---: |"]
    for r in results:
        how = "plain" if r["mode"] == "plain" else f"--ray, {r['workers']} worker(s)"
        rows.append(
            f"| {r['passages']:,} | {how} | {r['total_s']:.0f} s | {r['rate']:.2f} | "
            + (f"{r['startup_s']:.1f} s | {r['encode_rate']:.2f} |" if "startup_s" in r
               else "– | – |") + f" {r['load_average_at_start'][0]:.1f} |")
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.cluster", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,3000")
    ap.add_argument("--runs", default="plain:1,ray:1,ray:2",
                    help="mode:workers pairs, run in this order for each size")
    ap.add_argument("--work", default="/tmp/sporg-ray-bench")
    ap.add_argument("--out", default=str(ROOT / "docs" / "scaling.json"),
                    help="results are appended to this JSON list")
    ap.add_argument("--phase", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    ns = ap.parse_args(argv)
    work = Path(ns.work)
    work.mkdir(parents=True, exist_ok=True)
    if ns.phase:
        print(json.dumps(phase(ns.phase, ns.n, ns.workers, work)))
        return 0
    out = Path(ns.out)
    results: list[dict[str, Any]] = json.loads(out.read_text()) if out.is_file() else []
    for n in [int(x) for x in ns.sizes.split(",") if x]:
        for run in ns.runs.split(","):
            mode, workers = run.split(":")
            if mode not in ("plain", "ray"):
                raise SystemExit(f"--runs: mode must be plain or ray, got {mode!r} in {run!r}")
            print(f"{n} passages, {run} …", file=sys.stderr, flush=True)
            r = child(mode, n, int(workers), work)
            r["date"] = time.strftime("%Y-%m-%d %H:%M")
            results.append(r)
            out.write_text(json.dumps(results, indent=1) + "\n")
            print(table([r]).splitlines()[-1], file=sys.stderr, flush=True)
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
