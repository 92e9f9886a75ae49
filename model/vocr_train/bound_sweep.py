"""Runaways and CER under other length bounds, from one unbounded reading.

    cd model && /usr/bin/python3 -m vocr_train.bound_sweep [--bundle repository/vocr_line]
        [--val build/val] [--joined 200] [--bounds 1.3/3,1.2/3,1.1/2]

Greedy decoding stopped after L steps reads the first L tokens of the
unbounded reading, so one pass without `decode.length_bound`, with each
piece's CTC greedy length n kept, gives the reading under any bound
floor(per_char * n) + extra (as predictor.greedy_decode applies it). Prints,
per bound, the CER and runaway count of every validation subset, as
error_report counts them.
"""
import argparse
import copy
import math
import os
import sys
import tempfile
from typing import Dict, List, Tuple

import predictor
from vocr_train.data import SUBSETS, read_labels
from vocr_train.error_report import is_runaway
from vocr_train.evaluate import score
from vocr_train.joined_lines import joined_subset
from vocr_train.vocab import MODEL_DIR

# A piece: its unbounded reading and its CTC greedy length n.
Piece = Tuple[str, int]


class _RecordingSeq:
    """seq, keeping the CTC lengths of the last greedy_lengths call."""

    def __init__(self, seq):
        self.seq, self.lengths = seq, []

    def __getattr__(self, name):
        return getattr(self.seq, name)

    def greedy_lengths(self, memory, mask):
        read = self.seq.greedy_lengths(memory, mask)
        self.lengths = read.tolist()
        return read


def read_unbounded(bundle: str, paths: List[str]) -> List[Tuple[List[Piece], List[bool]]]:
    """Each line's pieces and the spaces between them, read as with no length
    bound: a bound of max_steps leaves only the width's step limit, and the
    predictor still asks the length head, which is all that is kept of it."""
    reader = predictor.Predictor(bundle, threads=2)
    if "length_bound" not in reader.manifest["decode"]:
        raise ValueError(f"{bundle}: no length head, so no length bound to sweep")
    reader.seq = _RecordingSeq(reader.seq)
    reader.manifest = copy.deepcopy(reader.manifest)
    reader.manifest["decode"]["length_bound"] = {"per_char": 0, "extra": reader.manifest["decode"]["max_steps"]}
    seen: Dict[int, int] = {}
    lines = []
    decode, join = predictor.greedy_decode, predictor.join_readings

    def recording_decode(cnn, seq, batch, widths, manifest):
        out = decode(cnn, seq, batch, widths, manifest)
        seen.update((id(r), n) for r, n in zip(out, seq.lengths))
        return out

    def recording_join(pieces, spaces):
        lines.append(([(p.text, seen[id(p)]) for p in pieces], list(spaces)))
        return join(pieces, spaces)

    predictor.greedy_decode, predictor.join_readings = recording_decode, recording_join
    try:
        for start in range(0, len(paths), 16):
            reader.recognize_files(paths[start:start + 16])
    finally:
        predictor.greedy_decode, predictor.join_readings = decode, join
    return lines


def bounded(line: Tuple[List[Piece], List[bool]], per_char: float, extra: int) -> str:
    """The line's reading under the bound. An unbounded piece already stopped
    at its width's step limit, so cutting it to the bound is all that is left."""
    pieces, spaces = line
    read = []
    for text, n in pieces:
        keep = len(text) if math.isinf(per_char) else math.floor(per_char * n) + extra
        read.append(predictor.Reading(text[:keep], 1.0, [1.0] * len(text[:keep])))
    return predictor.join_readings(read, spaces).text


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundle", default=os.path.join(MODEL_DIR, "repository", "vocr_line"))
    parser.add_argument("--val", default=os.path.join(MODEL_DIR, "build", "val"))
    parser.add_argument("--joined", type=int, default=200, help="joined pairs in all (0: none)")
    parser.add_argument("--bounds", default="1.3/3,1.25/3,1.2/3,1.2/2,1.1/2,1.0/3",
                        help="per_char/extra pairs, comma-separated")
    args = parser.parse_args(argv)
    bounds = [(float(p), int(e)) for p, e in (b.split("/") for b in args.bounds.split(","))]
    with tempfile.TemporaryDirectory() as tmp:
        subsets = {name: read_labels(os.path.join(args.val, name)) for name in SUBSETS}
        if args.joined:
            per = max(1, args.joined // len(SUBSETS))
            subsets["joined"] = joined_subset(args.val, SUBSETS, per, os.path.join(tmp, "joined"))
        read = {name: read_unbounded(args.bundle, [p for p, _ in pairs]) for name, pairs in subsets.items()}
    for per_char, extra in [(math.inf, 0)] + bounds:
        cells, runaways = [], 0
        for name, pairs in subsets.items():
            refs = [t for _, t in pairs]
            hyps = [bounded(line, per_char, extra) for line in read[name]]
            count = sum(is_runaway(r, h) for r, h in zip(refs, hyps))
            runaways += count
            cells.append(f"{name} {score(refs, hyps)['cer']:.2f} ({count})")
        label = "no bound" if per_char == math.inf else f"{per_char:g}/{extra}"
        print(f"{label:>9}: {runaways} runaways | " + ", ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
