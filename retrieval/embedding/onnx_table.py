"""The word-embedding table outside the ONNX graph, its rows read from the weights file per token.

Of the exported model's 470 MB, 384 MB are the word-embedding table (250,037 x 384 float32).
Memory-mapped by onnxruntime, every question's tokens fault in their pages and the kernel's
fault-around maps up to 64 KB more each time: after the 476 questions of the labelled sets the
serving process held 318 MB of the table (measured, docs/benchmarks.md). The table's lookup is a
plain row copy (ONNX Gather), so the graph takes those rows as an input instead and the encoder
reads each token's 1.5 KB row with one pread from the same weights file: the page cache keeps the
file, the process keeps only the rows of the question it encodes. The graph's arithmetic is
unchanged, so the vectors are the same.
"""

from __future__ import annotations

import os
import weakref
from pathlib import Path
from typing import Any

import numpy as np

INPUT = "word_vectors"  # the graph input that replaces the table's Gather


def split_word_table(model_file: Path) -> dict[str, Any] | None:
    """Rewrite ``model_file`` (saved with external weights) so that the Gather of the word table
    by ``input_ids`` becomes the input INPUT; returns where the table's rows sit in the weights
    file (for meta.json), or None (graph left as it was) when the graph has no such lookup."""
    import onnx
    from onnx import TensorProto, helper

    model = onnx.load(str(model_file), load_external_data=False)
    graph = model.graph
    tables = {t.name: t for t in graph.initializer
              if len(t.dims) == 2 and t.data_type == TensorProto.FLOAT
              and t.data_location == TensorProto.EXTERNAL}
    lookups = [n for n in graph.node if n.op_type == "Gather" and n.input[0] in tables
               and n.input[1] == "input_ids" and not any(a.name == "axis" and a.i != 0
                                                         for a in n.attribute)]
    if len(lookups) != 1:
        return None
    node = lookups[0]
    table = tables[node.input[0]]
    where = {e.key: e.value for e in table.external_data}
    rows, dim = int(table.dims[0]), int(table.dims[1])
    if int(where.get("length", -1)) != rows * dim * 4:
        return None
    if sum(node.input[0] in n.input for n in graph.node) != 1:
        return None  # the table is used elsewhere too (tied weights): keep it in the graph
    graph.node.remove(node)
    graph.initializer.remove(table)
    graph.input.append(helper.make_tensor_value_info(
        INPUT, TensorProto.FLOAT, ["batch", "tokens", dim]))
    for other in graph.node:
        for i, name in enumerate(other.input):
            if name == node.output[0]:
                other.input[i] = INPUT
    onnx.save(model, str(model_file))
    return {"input": INPUT, "file": where["location"], "offset": int(where.get("offset", 0)),
            "rows": rows, "dim": dim}


class WordTable:
    """Rows of the word-embedding table, read from the weights file with pread (thread-safe)."""

    def __init__(self, folder: Path, meta: dict[str, Any]) -> None:
        self.input: str = meta["input"]
        self.rows: int = meta["rows"]
        self.dim: int = meta["dim"]
        self._offset: int = meta["offset"]
        path = folder / meta["file"]
        if path.stat().st_size < self._offset + self.rows * self.dim * 4:
            raise ValueError(f"{path} is shorter than its word table: export again "
                             f"(delete {folder})")
        self._fd = os.open(path, os.O_RDONLY)
        weakref.finalize(self, os.close, self._fd)

    def lookup(self, ids: np.ndarray) -> np.ndarray:
        """float32 (batch, tokens, dim): row ids[b, t] of the table, as Gather would give."""
        out = np.empty((*ids.shape, self.dim), np.float32)
        width = self.dim * 4
        rows: dict[int, np.ndarray] = {}
        for index, token in np.ndenumerate(ids):
            t = int(token)
            if t not in rows:
                if not 0 <= t < self.rows:
                    raise IndexError(f"token id {t} outside the table of {self.rows} rows")
                data = os.pread(self._fd, width, self._offset + t * width)
                rows[t] = np.frombuffer(data, "<f4")
            out[index] = rows[t]
        return out
