"""The encoder as an ONNX graph: 4-bit ``MatMulNBits`` projections, fused attention and norms.

Input ``x`` is the embedded batch [batch, tokens, hidden] (after the embedding
LayerNorm, done in NumPy so the 250k-row table stays 4-bit), ``mask`` marks the real
tokens [batch, tokens]; output ``pooled`` is each text's mean over its real tokens
[batch, hidden], not yet L2-normalised (windows of long texts are averaged first).
"""

from __future__ import annotations

import numpy as np

from assistant.providers.e5.weights import QK, E5Weights, dequantize, q4_values

MS = "com.microsoft"
OPSET = 17


def pack_for_matmul_nbits(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Q4_0 blocks [n_out, nb] to ``MatMulNBits``' layout: packed [n_out, nb, 16] and scales.

    Q4_0 keeps weight j in byte j's low nibble and weight j + 16 in its high nibble;
    MatMulNBits wants weights 2j and 2j + 1 in byte j. Both store value + 8, which is
    MatMulNBits' default zero point for 4 bits, so the values are unchanged.
    """
    unsigned = (q4_values(blocks) + 8).astype(np.uint8)  # [n_out, nb, 32]
    packed = unsigned[..., 0::2] | (unsigned[..., 1::2] << 4)
    scales = blocks["d"].astype(np.float32).reshape(-1)
    return np.ascontiguousarray(packed), scales


def int8_columns(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Q4_0 blocks [n_out, nb] as int8 [n_in, n_out] with one scale per output column.

    Each column's 4-bit values times their block scales are re-quantised to int8 on the
    column's own scale: the rounding step is at most 1/254 of the column's largest
    weight, far below the 4-bit step it came from.
    """
    weights = dequantize(blocks)  # [n_out, n_in]
    scale = np.abs(weights).max(axis=1) / 127
    scale = np.where(scale == 0, 1, scale).astype(np.float32)
    q = np.clip(np.rint(weights / scale[:, None]), -127, 127).astype(np.int8)
    return np.ascontiguousarray(q.T), scale


def build_model(
    weights: E5Weights, int8: bool = True, exact: frozenset[str] = frozenset()
) -> bytes:
    """The serialised ONNX model of the encoder layers and the mean pooling.

    ``int8``: the projections run as int8 GEMMs (``DynamicQuantizeMatMul``, VNNI/AMX
    kernels, about 3.5x the fp32 rate here) on int8 copies of the 4-bit weights;
    otherwise as ``MatMulNBits`` on the 4-bit blocks themselves, as do the projections
    named in ``exact`` (by their short name: q, k, v, ao, fi, fo).
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    shape, tensors = weights.shape, weights.tensors
    hidden, ffn = shape.hidden, shape.ffn
    nodes: list[onnx.NodeProto] = []
    inits: list[onnx.TensorProto] = []

    def init(name: str, array: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def linear(x: str, prefix: str, n_in: int, n_out: int, out: str) -> str:
        bias = np.asarray(tensors[f"{prefix}.b"], np.float32)
        if int8 and prefix.split(".")[-1] not in exact:
            q, scale = int8_columns(tensors[f"{prefix}.w"])
            nodes.append(helper.make_node(
                "DynamicQuantizeMatMul",
                [x, init(f"{prefix}.wq", q), init(f"{prefix}.ws", scale), "",
                 init(f"{prefix}.b", bias)],
                [out], domain=MS,
            ))
            return out
        packed, scales = pack_for_matmul_nbits(tensors[f"{prefix}.w"])
        nodes.append(helper.make_node(
            "MatMulNBits",
            [x, init(f"{prefix}.wq", packed), init(f"{prefix}.ws", scales), "", "",
             init(f"{prefix}.b", bias)],
            [out], domain=MS, K=n_in, N=n_out, bits=4, block_size=QK, accuracy_level=4,
        ))
        return out

    def add_norm(x: str, residual: str, prefix: str, out: str) -> str:
        """LayerNorm(x + residual) with the layer's weight and bias."""
        nodes.append(helper.make_node(
            "SkipLayerNormalization",
            [x, residual, init(f"{prefix}.w", tensors[f"{prefix}.w"]),
             init(f"{prefix}.b", tensors[f"{prefix}.b"])],
            [out], domain=MS, epsilon=shape.eps,
        ))
        return out

    init("axis_last", np.array([-1], np.int64))
    # key padding mask for the fused attention: int32 [batch, tokens], 1 = real token
    nodes.append(helper.make_node("Cast", ["mask"], ["mask_i32"], to=TensorProto.INT32))
    x = "x"
    for layer in range(shape.layers):
        p = f"l{layer}"
        q = linear(x, f"{p}.q", hidden, hidden, f"{p}.q_out")
        k = linear(x, f"{p}.k", hidden, hidden, f"{p}.k_out")
        v = linear(x, f"{p}.v", hidden, hidden, f"{p}.v_out")
        nodes.append(helper.make_node(
            "MultiHeadAttention", [q, k, v, "", "mask_i32"], [f"{p}.ctx"], domain=MS,
            num_heads=shape.heads,
        ))
        attn = linear(f"{p}.ctx", f"{p}.ao", hidden, hidden, f"{p}.attn")
        h = add_norm(attn, x, f"{p}.aln", f"{p}.h")
        mid = linear(h, f"{p}.fi", hidden, ffn, f"{p}.mid")
        nodes.append(helper.make_node("Gelu", [mid], [f"{p}.act"], domain=MS))
        out = linear(f"{p}.act", f"{p}.fo", ffn, hidden, f"{p}.ffn")
        x = add_norm(out, h, f"{p}.oln", f"{p}.y")

    # mean over real tokens: sum(x * mask) / sum(mask)
    nodes += [
        helper.make_node("Unsqueeze", ["mask", "axis_last"], ["mask3"]),
        helper.make_node("Mul", [x, "mask3"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", init("axis_tokens", np.array([1], np.int64))],
                         ["summed"], keepdims=0),
        helper.make_node("ReduceSum", ["mask3", "axis_tokens"], ["counts"], keepdims=0),
        helper.make_node("Div", ["summed", "counts"], ["pooled"]),
    ]
    graph = helper.make_graph(
        nodes, "e5-small-q4",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "tokens", hidden]),
         helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["batch", "tokens"])],
        [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["batch", hidden])],
        inits,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid(MS, 1)]
    )
    model.ir_version = 8
    return model.SerializeToString()
