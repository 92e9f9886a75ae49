"""Tesseract 5 on the validation set, scored with our scorer: the baseline to beat.

    cd model && /usr/bin/python3 -m vocr_train.tesseract_baseline [--val build/val] [--out FILE]

Debian's `tesseract-ocr` with `tesseract-ocr-vie`, LSTM engine (`--oem 1`),
one text line per image (`--psm 7`), one thread (`OMP_THREAD_LIMIT=1`).
Each subset is one tesseract process reading a list of image files, so the
language model loads once per subset, not once per line; lines per second
include reading the PNG files, which ours do not (they are decoded before the
clock starts). Tesseract's output is NFC-normalised and its whitespace
collapsed, the most favourable reading of it.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from typing import Dict, List

from vocr_train.data import SUBSETS, read_labels
from vocr_train.evaluate import score
from vocr_train.vocab import MODEL_DIR

COMMAND = ["tesseract", "-l", "vie", "--oem", "1", "--psm", "7"]
TESSDATA = "/usr/share/tesseract-ocr/5/tessdata"
PAGE_BREAK = "<<<vocr-page>>>"


def version() -> str:
    done = subprocess.run(["tesseract", "--version"], capture_output=True, text=True, check=True)
    return (done.stdout or done.stderr).splitlines()[0].strip()


def read_lines(paths: List[str]) -> List[str]:
    """One tesseract run over a list file: one reading per image, in order."""
    with tempfile.TemporaryDirectory() as tmp:
        listing = os.path.join(tmp, "images.txt")
        with open(listing, "w", encoding="utf-8") as f:
            f.write("\n".join(os.path.abspath(p) for p in paths) + "\n")
        env = dict(os.environ, OMP_THREAD_LIMIT="1")
        # A separator no reading contains; it goes between pages, not after the last one.
        subprocess.run(COMMAND[:1] + [listing, os.path.join(tmp, "out")] + COMMAND[1:]
                       + ["-c", f"page_separator={PAGE_BREAK}"], env=env, check=True, capture_output=True)
        with open(os.path.join(tmp, "out.txt"), encoding="utf-8") as f:
            pages = f.read().split(PAGE_BREAK)
    if len(pages) != len(paths):
        raise RuntimeError(f"tesseract gave {len(pages)} pages for {len(paths)} images")
    return [" ".join(unicodedata.normalize("NFC", p).split()) for p in pages]


def evaluate_tesseract(val_dir: str) -> Dict:
    model_files = [os.path.join(TESSDATA, f"{lang}.traineddata") for lang in ("vie",)]
    result = {"engine": version(), "command": " ".join(COMMAND), "threads": 1, "subsets": {},
              "bytes": sum(os.path.getsize(p) for p in model_files if os.path.exists(p))}
    for subset in SUBSETS:
        pairs = read_labels(os.path.join(val_dir, subset))
        start = time.perf_counter()
        hyps = read_lines([p for p, _ in pairs])
        seconds = time.perf_counter() - start
        result["subsets"][subset] = dict(score([t for _, t in pairs], hyps), lines_per_s=len(pairs) / seconds)
        print(subset, result["subsets"][subset], flush=True)
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--val", default=os.path.join(MODEL_DIR, "build", "val"))
    parser.add_argument("--out", default="", help="write the figures here as JSON")
    args = parser.parse_args(argv)
    if not shutil.which("tesseract"):
        print("tesseract is not installed (tools/install-deps.sh installs it)", file=sys.stderr)
        return 2
    result = evaluate_tesseract(args.val)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
