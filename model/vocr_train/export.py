"""Export: TorchScript files plus manifest.json, the bundle the server loads.

A bundle is `<repository>/<model name>/<version>/` holding `cnn.pt`,
`seq.pt` and `manifest.json` (contract in ../shared/SPEC.md and
model/README.md). The manifest lists each file's size and SHA-256, the
quantization of each part and the fp32 reference size of each part, and
everything a consumer needs to preprocess and decode (see contract.py).
"""
import datetime
import io
import json
import os
import shutil
from typing import Dict, Optional

import torch

from predictor import FORMAT, MANIFEST, sha256_file
from vocr_train.contract import runtime_manifest
from vocr_train.model import Backbone, SeqModel, count_parameters
from vocr_train.vocab import Vocab

CNN_FILE, SEQ_FILE = "cnn.pt", "seq.pt"

QUANT_CNN = {
    "fp32": {"scheme": "fp32"},
    "ptq": {"scheme": "PTQ int8", "weights": "int8 per-channel symmetric", "activations": "uint8 per-tensor, static"},
    "qat": {"scheme": "QAT int8", "weights": "int8 per-channel symmetric", "activations": "uint8 per-tensor, static"},
}
QUANT_SEQ = {
    "fp32": {"scheme": "fp32"},
    "dynamic": {"scheme": "dynamic int8", "modules": ["GRU (as Linear products)", "GRUCell", "Linear"],
                "weights": "int8 per-tensor (quantize_dynamic)",
                "activations": "int8 symmetric at a range fixed at export, per layer (batch-invariant)",
                "arithmetic": "q = round_half_even(clamp(x, -bound, bound) * input_multiplier); "
                              "y = float32(q . W^T, exact int32) * output_scale + bias",
                "float": "exp, sigmoid, tanh and sums over columns as fixed float32 operation sequences "
                         "(vocr_train/bitexact_math.py); softmax over the line's own columns"},
}
VARIANTS = [(cnn, seq) for cnn in QUANT_CNN for seq in QUANT_SEQ]


def variant_name(cnn: str, seq: str) -> str:
    return f"{cnn}-cnn_{seq}-seq"


def scripted_bytes(module: torch.nn.Module) -> int:
    """Size of a module's TorchScript serialisation (the fp32 reference size of a part)."""
    buffer = io.BytesIO()
    torch.jit.save(torch.jit.script(module), buffer)
    return buffer.getbuffer().nbytes


def file_entry(bundle_dir: str, name: str, **extra) -> dict:
    path = os.path.join(bundle_dir, name)
    return dict({"path": name, "bytes": os.path.getsize(path), "sha256": sha256_file(path)}, **extra)


def write_manifest(bundle_dir: str, manifest: dict) -> None:
    tmp = os.path.join(bundle_dir, MANIFEST + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=1)
        f.write("\n")
    os.replace(tmp, os.path.join(bundle_dir, MANIFEST))


def export_bundle(bundle_dir: str, cfg: dict, cnn: torch.nn.Module, seq: torch.nn.Module,
                  fp32_cnn: Backbone, fp32_seq: SeqModel, cnn_quant: str, seq_quant: str, engine: str,
                  evaluation: Optional[Dict] = None, training: Optional[Dict] = None,
                  with_length_head: bool = False) -> dict:
    """Script and save both parts and write the manifest describing them.

    The bundle is assembled in a sibling directory and renamed into place, so
    a server watching the repository never sees a half-written version.
    """
    final_dir = bundle_dir.rstrip(os.sep)
    bundle_dir = final_dir + ".partial"
    shutil.rmtree(bundle_dir, ignore_errors=True)
    os.makedirs(bundle_dir)
    torch.jit.save(torch.jit.script(cnn.eval()), os.path.join(bundle_dir, CNN_FILE))
    torch.jit.save(torch.jit.script(seq.eval()), os.path.join(bundle_dir, SEQ_FILE))
    vocab = Vocab()
    m = cfg["model"]
    manifest = {
        "format": FORMAT,
        "name": cfg["name"],
        "version": cfg["export"]["version"],
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        **runtime_manifest(cfg, fp32_cnn.stride, vocab, with_length_head),
        "quantization": {"engine": engine, "cnn": QUANT_CNN[cnn_quant], "seq": QUANT_SEQ[seq_quant]},
        "files": {
            "cnn": file_entry(bundle_dir, CNN_FILE, parameters=count_parameters(fp32_cnn),
                              fp32_reference_bytes=scripted_bytes(fp32_cnn),
                              interface="forward(images float32 [B, channels, height, W]) -> features [B, W / feature_stride, features]"),
            "seq": file_entry(bundle_dir, SEQ_FILE, parameters=count_parameters(fp32_seq),
                              fp32_reference_bytes=scripted_bytes(fp32_seq),
                              interface="encode(features [B,T,F], lengths int64 [B]) -> (memory [B,T,M], keys [B,T,A], mask bool [B,T], hidden [B,D]); "
                                        "decode_step(tokens int64 [B], hidden [B,D], memory, keys, mask) -> (log_probs [B,V], hidden [B,D]); "
                                        "greedy_lengths(memory, mask) -> int64 [B]"),
        },
        "dims": {"features": m["features"], "memory": 2 * m["enc_hidden"], "attention": m["attn"],
                 "hidden": m["dec_hidden"], "vocab_size": len(vocab)},
        "evaluation": evaluation or {"variants": {}, "note": "not evaluated yet: run the evaluate and report steps"},
        "training": training or {},
    }
    write_manifest(bundle_dir, manifest)
    if os.path.exists(final_dir):
        shutil.rmtree(final_dir + ".old", ignore_errors=True)
        os.rename(final_dir, final_dir + ".old")
    os.rename(bundle_dir, final_dir)
    shutil.rmtree(final_dir + ".old", ignore_errors=True)
    return manifest


def update_manifest(bundle_dir: str, **fields) -> dict:
    """Replace top-level fields (e.g. the evaluation table); file checksums stay valid."""
    with open(os.path.join(bundle_dir, MANIFEST), encoding="utf-8") as f:
        manifest = json.load(f)
    manifest.update(fields)
    write_manifest(bundle_dir, manifest)
    return manifest
