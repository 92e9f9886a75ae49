"""vocr-serve trainer: synthetic data, QAT/PTQ/dynamic quantization, bundle export."""

import os

# Debian's oneDNN 2.6 (which torch 1.13 links) corrupts memory in its AMX int8
# convolution on CPUs with AMX; cap it at the level below unless the caller
# chose one, as predictor.py and the server do.
if "ONEDNN_MAX_CPU_ISA" not in os.environ:
    os.environ.setdefault("DNNL_MAX_CPU_ISA", "AVX512_CORE_BF16")
