"""The blocks of the manifest a bundle's consumer needs to run it.

Built from the training config and the model, in one place, so training-time
evaluation, the exporter and (through the manifest) the predictor and the
server all preprocess and decode the same way.
"""
from vocr_train.vocab import Vocab


PADDING = ("before the CNN each line is padded on the right with pad_value to the next multiple of pad_to_multiple "
           "px, alone or batched (predictor.features_by_width); feature columns past its own width are dropped")


def input_spec(cfg: dict, stride: int) -> dict:
    spec = dict(cfg["input"], feature_stride=stride, pad_value=0.0, color="gray",
                resize="scale to height keeping aspect; width rounded to width_multiple and clamped to "
                       "[min_width, max_width]; INTER_AREA when shrinking, INTER_LINEAR otherwise",
                long_lines="a line wider than max_width once scaled is cut in blank gaps into pieces at most "
                           "split_width wide, read one by one and joined (predictor.split_columns)",
                padding=PADDING)
    spec.setdefault("split_width", spec["max_width"])
    spec.setdefault("pad_to_multiple", 1)
    if spec["pad_to_multiple"] != 1 and spec["pad_to_multiple"] % spec["width_multiple"]:
        raise ValueError(f"input.pad_to_multiple {spec['pad_to_multiple']} must be 1 or a multiple of width_multiple")
    if not min(2 * spec["height"], spec["max_width"]) <= spec["split_width"] <= spec["max_width"]:
        raise ValueError(f"input.split_width {spec['split_width']} must lie in [min(2 * height, max_width), max_width]")
    return spec


def length_bound(cfg: dict) -> dict:
    head = cfg["length_head"]
    return {
        "per_char": head["per_char"], "extra": head["extra"],
        "rule": "the attention decoder's step limit is also at most floor(per_char * n) + extra, n being "
                "the length head's CTC greedy reading length (seq.greedy_lengths on the encoder memory: "
                "per column the first best class, repeats merged, blank = pad id, dropped)",
    }


def decode_rule(cfg: dict, with_length_head: bool = False) -> dict:
    """`with_length_head`: the seq module's length head is fitted, so the bound applies."""
    rule = {
        "method": "greedy",
        "extra_steps": 1,
        "max_steps": cfg["model"]["max_decode_steps"],
        "length_rule": "a line stops at EOS (or any special token) or after "
                       "min(max_steps, floor(width / feature_stride) + extra_steps) steps",
        "confidence": "per character: softmax probability of the chosen token; per line: "
                      "exp(mean log-probability of all chosen tokens, EOS included)",
    }
    if with_length_head:
        rule["length_bound"] = length_bound(cfg)
    return rule


def runtime_manifest(cfg: dict, stride: int, vocab: Vocab, with_length_head: bool = False) -> dict:
    return {"input": input_spec(cfg, stride), "vocab": vocab.manifest(), "decode": decode_rule(cfg, with_length_head)}
