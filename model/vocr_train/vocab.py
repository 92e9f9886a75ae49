"""The vocabulary: VietOCR's default Vietnamese characters plus pad/sos/eos.

`model/vocab.json` is the one place the characters are written down; the
exporter copies them into each bundle's manifest, which is where the server
and the predictor read them.
"""
import json
import os
from typing import List

MODEL_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # model/, where relative paths start
VOCAB_PATH = os.path.join(MODEL_DIR, "vocab.json")


class Vocab:
    def __init__(self, path: str = VOCAB_PATH):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        self.chars: str = data["chars"]
        self.pad, self.sos, self.eos = (data["specials"][k] for k in ("pad", "sos", "eos"))
        self.first = max(self.pad, self.sos, self.eos) + 1
        self.index = {c: i + self.first for i, c in enumerate(self.chars)}

    def __len__(self) -> int:
        return self.first + len(self.chars)

    def encode(self, text: str) -> List[int]:
        """Character ids of `text` (every character must be in the vocabulary)."""
        return [self.index[c] for c in text]

    def manifest(self) -> dict:
        return {"chars": self.chars, "size": len(self), "pad": self.pad, "sos": self.sos, "eos": self.eos,
                "first_char_id": self.first}
