"""vocr-serve trainer: synthetic data, QAT/PTQ/dynamic quantization, bundle export."""
