"""`python -m benchmarks.pooled_windows SRC DST [--mix A]`: an index whose window vectors are
pooled from each passage's own forward pass instead of encoded, to score it (docs/benchmarks.md).

Window vectors are most of the build's encoding (issue 16). Pooling them from the token states
the passage's own encoding computes anyway would make them free. This copies the index SRC to
DST with only windows.npy replaced (and its checksum), so that
`python -m evaluation crossval --index DST` scores the pooled windows against SRC's encoded ones.
With `--mix A`, each window is A x pooled + (1 - A) x the mean of its sentences' stored vectors.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

PROMPT = "passage: "


def pooled(states: np.ndarray, offsets: list[list[int]], spans: list[tuple[int, int]]
           ) -> np.ndarray:
    """Mean of the special tokens' and the spans' token states, normalised (e5's pooling is a
    mean over every token, prompt included)."""
    keep = [t for t, (s, e) in enumerate(offsets)
            if s == e or any(s < b and e > a for a, b in spans)]
    v = states[keep].mean(0)
    return np.asarray(v / np.linalg.norm(v), np.float32)


def passage_windows(p: Any, model: Any) -> tuple[list[np.ndarray], np.ndarray]:
    """Its windows pooled from one forward pass (`chunking.windows` order), and the whole pooled
    (which must equal its passage vector)."""
    import torch

    from retrieval.text.chunking import embed_text, header, split_sentences

    head = header(p) if p.title else ""
    body_at = len(PROMPT) + (len(header(p)) + 1 if header(p) else 0)
    text = PROMPT + embed_text(p)
    enc = model.tokenizer(text, return_offsets_mapping=True, truncation=True,
                          max_length=model.max_seq_length, return_tensors="pt")
    offsets = enc.pop("offset_mapping")[0].tolist()
    with torch.no_grad():
        states = model[0].auto_model(**enc).last_hidden_state[0].numpy()
    spans, cursor = [], 0
    for s in split_sentences(p.text):
        at = p.text.find(s, cursor)
        spans.append((body_at + at, body_at + at + len(s)))
        cursor = at + len(s)
    lead = [(0, len(PROMPT))] + ([(len(PROMPT), len(PROMPT) + len(head))] if head else [])
    out = [pooled(states, offsets, [*lead, (spans[i][0], spans[min(i + 2, len(spans) - 1)][1])])
           for i in range(max(1, len(spans) - 2))]
    whole = states.mean(0)
    return out, whole / np.linalg.norm(whole)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.pooled_windows", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src", type=Path)
    ap.add_argument("dst", type=Path)
    ap.add_argument("--mix", type=float, default=1.0)
    ns = ap.parse_args(argv)
    from retrieval.embedding.model import get_embedder
    from retrieval.indexing.store import load_index
    from retrieval.text.chunking import embed_text

    stored = load_index(ns.src)
    if len(stored.sentences.parts["window"].segments) > 1:
        print(f"error: {ns.src}/ keeps its windows in several files (documents added by "
              "update); build it afresh with `python -m retrieval build` first", file=sys.stderr)
        return 1
    embedder = get_embedder()
    rows, wholes = [], []
    for p in stored.passages:
        windows, whole = passage_windows(p, embedder.model)
        rows += windows
        wholes.append(whole)
    check = embedder.encode_passages([embed_text(p) for p in list(stored.passages)[:5]])
    print("whole pooled vs encode_passages, cosine:",
          (np.array(wholes[:5]) * check).sum(1).round(5))
    encoded = np.asarray(stored.sentences.parts["window"].vectors, np.float32)
    new = np.array(rows, np.float32)
    if ns.mix < 1.0:
        sentences = np.asarray(stored.sentences.parts["sentence"].vectors, np.float32)
        s_at, w_at = (np.load(ns.src / f"{k}_starts.npy") for k in ("sentence", "window"))
        for i in range(len(s_at) - 1):
            for j in range(w_at[i + 1] - w_at[i]):
                mean = sentences[s_at[i] + j: s_at[i] + min(j + 3, s_at[i + 1] - s_at[i])].mean(0)
                v = ns.mix * new[w_at[i] + j] + (1 - ns.mix) * mean / np.linalg.norm(mean)
                new[w_at[i] + j] = v / np.linalg.norm(v)
    print(f"windows: cosine to the encoded ones mean {(new * encoded).sum(1).mean():.4f}, "
          f"min {(new * encoded).sum(1).min():.4f}")
    shutil.rmtree(ns.dst, ignore_errors=True)
    shutil.copytree(ns.src, ns.dst)
    np.save(ns.dst / "windows.npy", new.astype(np.float16))
    manifest = json.loads((ns.dst / "manifest.json").read_text("utf-8"))
    manifest["files"]["windows.npy"] = hashlib.sha256((ns.dst / "windows.npy").read_bytes()
                                                      ).hexdigest()
    (ns.dst / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False),
                                          "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
