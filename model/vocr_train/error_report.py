"""Where the bundle's errors are, next to Tesseract's on the same images.

    cd model && /usr/bin/python3 -m vocr_train.error_report [--bundle repository/vocr_line]
        [--val build/val] [--joined 200] [--no-tesseract] [--out FILE.json] [--into-manifest]

Reads every validation subset, and a `joined` subset of validation lines
joined in pairs (vocr_train.joined_lines: 40-70+ characters, the widest
through the long-line path), with the bundle (the reference predictor) and
with Tesseract 5 (`vie`, psm 7), and reports for both:
- CER per subset and by reference length: <= 20, 21-36, 37-50, 51-64, > 64
  characters, over all subsets together;
- runaway readings: longer than 1.3x the reference + 3 characters, counted
  per subset and listed in full in the JSON report;
- recall of every vocabulary symbol: of its occurrences in the references,
  the share an edit-distance alignment keeps in place; the symbols under 90 %
  and those the validation never shows are listed.
Scored as everywhere in the project (vocr_train.evaluate). With
--into-manifest the figures become the bundle manifest's `evaluation`.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
from collections import Counter
from typing import Dict, List, Sequence, Tuple

from predictor import Predictor
from vocr_train.data import SUBSETS, read_labels
from vocr_train.evaluate import score
from vocr_train.joined_lines import joined_subset
from vocr_train.vocab import MODEL_DIR

LENGTH_BUCKETS = ((0, 20), (21, 36), (37, 50), (51, 64), (65, 10**9))
RECALL_GOAL = 90.0


def bucket_name(low: int, high: int) -> str:
    return f"<= {high}" if low == 0 else (f"> {low - 1}" if high >= 10**9 else f"{low}-{high}")


def is_runaway(ref: str, hyp: str) -> bool:
    """A reading far longer than its line: the decoder looped instead of ending."""
    return len(hyp) > 1.3 * len(ref) + 3


def kept_in_place(ref: str, hyp: str) -> List[bool]:
    """For each reference character, whether a minimum edit alignment matches
    it to the same character of `hyp` (ties broken towards matches)."""
    n, m = len(ref), len(hyp)
    d = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        d[i][0] = i
    for j in range(m + 1):
        d[0][j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]))
    kept = [False] * n
    i, j = n, m
    while i > 0 and j > 0:
        if ref[i - 1] == hyp[j - 1] and d[i][j] == d[i - 1][j - 1]:
            kept[i - 1] = True
            i, j = i - 1, j - 1
        elif d[i][j] == d[i - 1][j - 1] + 1:
            i, j = i - 1, j - 1
        elif d[i][j] == d[i - 1][j] + 1:
            i -= 1
        else:
            j -= 1
    return kept


def symbol_recall(pairs: Sequence[Tuple[str, str]]) -> Dict[str, Tuple[int, int]]:
    """symbol -> (occurrences in the references, occurrences kept in place)."""
    seen, kept = Counter(), Counter()
    for ref, hyp in pairs:
        for c, ok in zip(ref, kept_in_place(ref, hyp)):
            seen[c] += 1
            kept[c] += ok
    return {c: (seen[c], kept[c]) for c in seen}


def by_length(pairs: Sequence[Tuple[str, str]]) -> Dict[str, dict]:
    out = {}
    for low, high in LENGTH_BUCKETS:
        chosen = [(r, h) for r, h in pairs if low <= len(r) <= high]
        out[bucket_name(low, high)] = {"lines": len(chosen), "cer": score(*zip(*chosen))["cer"] if chosen else None}
    return out


def engine_report(readings: Dict[str, List[Tuple[str, str]]], vocabulary: str) -> dict:
    """readings: subset -> [(reference, reading)]."""
    everything = [p for pairs in readings.values() for p in pairs]
    recall = symbol_recall(everything)
    low = {c: round(100.0 * k / n, 1) for c, (n, k) in sorted(recall.items()) if 100.0 * k / n < RECALL_GOAL}
    return {
        "subsets": {name: dict(score(*zip(*pairs)), runaways=sum(is_runaway(r, h) for r, h in pairs))
                    for name, pairs in readings.items()},
        "runaway_readings": [{"subset": name, "reference": r, "reading": h}
                             for name, pairs in readings.items() for r, h in pairs if is_runaway(r, h)],
        "by_length": by_length(everything),
        "symbols_below_goal": low,
        "symbols_unseen": "".join(c for c in vocabulary if c not in recall),
        "symbol_recall": {c: [n, k] for c, (n, k) in sorted(recall.items())},
    }


def read_with_bundle(bundle: str, subsets: Dict[str, List[Tuple[str, str]]]) -> Dict[str, List[Tuple[str, str]]]:
    predictor = Predictor(bundle, threads=2)
    return {name: list(zip([t for _, t in pairs], [r.text for r in predictor.recognize_files([p for p, _ in pairs])]))
            for name, pairs in subsets.items()}


def read_with_tesseract(subsets: Dict[str, List[Tuple[str, str]]]) -> Dict[str, List[Tuple[str, str]]]:
    from vocr_train.tesseract_baseline import read_lines
    return {name: list(zip([t for _, t in pairs], read_lines([p for p, _ in pairs]))) for name, pairs in subsets.items()}


def markdown(report: dict) -> str:
    engines = list(report["engines"])
    head = "| | " + " | ".join(engines) + " |\n|---|" + "---:|" * len(engines) + "\n"
    first = report["engines"][engines[0]]
    out = ["CER % per subset (runaway readings in brackets)\n", head]
    for name in first["subsets"]:
        cells = [f"{e['subsets'][name]['cer']:.2f} ({e['subsets'][name]['runaways']})"
                 for e in report["engines"].values()]
        out.append(f"| {name} ({first['subsets'][name]['lines']}) | " + " | ".join(cells) + " |\n")
    out += ["\nCER % by reference length, all subsets\n", head]
    for name, cell in first["by_length"].items():
        cells = [("-" if e["by_length"][name]["cer"] is None else f"{e['by_length'][name]['cer']:.2f}")
                 for e in report["engines"].values()]
        out.append(f"| {name} chars ({cell['lines']}) | " + " | ".join(cells) + " |\n")
    for engine, e in report["engines"].items():
        low = ", ".join(f"`{c}` {r}" for c, r in e["symbols_below_goal"].items()) or "none"
        out.append(f"\n{engine}: symbols under {RECALL_GOAL:.0f} % recall: {low}; "
                   f"never in the validation: `{e['symbols_unseen']}`\n")
    return "".join(out)


def manifest_evaluation(report: dict) -> dict:
    """The report as a manifest's `evaluation`: per-subset figures under the
    shipped variant's name (QAT CNN, dynamic-int8 decoder), Tesseract's beside
    them, and CER by length for both."""
    from vocr_train.export import variant_name
    engines = list(report["engines"].values())
    shipped = variant_name("qat", "dynamic")
    evaluation = {
        "note": "int8 bundle (QAT CNN + dynamic-int8 decoder) read by the reference predictor and Tesseract 5 "
                "(vie, psm 7) on the same validation lines (held-out fonts and text): "
                "python3 -m vocr_train.error_report",
        "variants": {shipped: {"accuracy": engines[0]["subsets"]}},
        "by_length": {shipped: engines[0]["by_length"]},
    }
    if len(engines) > 1:
        evaluation["tesseract"] = {"subsets": engines[1]["subsets"]}
        evaluation["by_length"]["tesseract"] = engines[1]["by_length"]
    return evaluation


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", default=os.path.join(MODEL_DIR, "repository", "vocr_line"))
    parser.add_argument("--val", default=os.path.join(MODEL_DIR, "build", "val"))
    parser.add_argument("--joined", type=int, default=200, help="joined pairs in all (0: none)")
    parser.add_argument("--no-tesseract", action="store_true")
    parser.add_argument("--out", default="", help="write the report here as JSON")
    parser.add_argument("--into-manifest", action="store_true", help="write the figures into the bundle's manifest")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        subsets = {name: read_labels(os.path.join(args.val, name)) for name in SUBSETS}
        if args.joined:
            per = max(1, args.joined // len(SUBSETS))
            subsets["joined"] = joined_subset(args.val, SUBSETS, per, os.path.join(tmp, "joined"))
        predictor_name = "vocr-serve bundle"
        readings = {predictor_name: read_with_bundle(args.bundle, subsets)}
        if not args.no_tesseract and shutil.which("tesseract"):
            readings["Tesseract 5"] = read_with_tesseract(subsets)
    vocabulary = Predictor(args.bundle).manifest["vocab"]["chars"]
    report = {"bundle": args.bundle, "engines": {name: engine_report(r, vocabulary) for name, r in readings.items()}}
    print(markdown(report))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(report, f, ensure_ascii=False, indent=1)
    if args.into_manifest:
        from vocr_train.export import update_manifest
        update_manifest(args.bundle, evaluation=manifest_evaluation(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
