"""Carrying the training data to another machine (a lent GPU machine).

The generator renders from Debian's fonts and text under /usr; a machine
without them gets a *frozen* copy of the cache instead: the corpus files,
the font scan, and a tarball of the training fonts only (validation fonts
and text stay behind), unpacked at the same absolute paths. A frozen cache
is trusted as it is: the corpus and font scans skip their checks against
the files installed on that machine, which would otherwise rebuild them
from nothing.

    /usr/bin/python3 -m vocr_train.carry --out ../.devcarry     # here
    python3 -m vocr_train.carry --unpack ../.devcarry            # there, as root
"""
import argparse
import json
import os
import shutil
import tarfile

FROZEN_MARKER = "frozen.json"
CACHE_FILES = ("corpus.json", "prose-train.txt", "words.txt", "font_scan.json")
FONTS_TAR = "train-fonts.tar.xz"


def is_frozen(cache_dir: str) -> bool:
    return os.path.exists(os.path.join(cache_dir, FROZEN_MARKER))


def train_font_files(cache_dir: str) -> list:
    """The files the renderer opens for training fonts (unhinted copies where made)."""
    with open(os.path.join(cache_dir, "font_scan.json"), encoding="utf-8") as f:
        scan = json.load(f)
    render = scan["render_paths"]
    return sorted(render.get(p, p) for family in scan["result"]["families"].values()
                  if family["split"] == "train" for p in family["paths"])


def pack(cache_dir: str, out_dir: str) -> None:
    """Write a frozen cache (out_dir/cache) and the training fonts (out_dir/FONTS_TAR)."""
    cache_out = os.path.join(out_dir, "cache")
    os.makedirs(cache_out, exist_ok=True)
    for name in CACHE_FILES:
        shutil.copy2(os.path.join(cache_dir, name), cache_out)
    with open(os.path.join(cache_out, FROZEN_MARKER), "w", encoding="utf-8") as f:
        json.dump({"packed_from": os.path.abspath(cache_dir)}, f)
    with tarfile.open(os.path.join(out_dir, FONTS_TAR), "w:xz") as tar:
        for path in train_font_files(cache_dir):
            tar.add(path, arcname=path.lstrip("/"))


def unpack(carry_dir: str) -> str:
    """Put the fonts back at their absolute paths; returns the frozen cache dir."""
    with tarfile.open(os.path.join(carry_dir, FONTS_TAR)) as tar:
        tar.extractall("/")
    return os.path.join(carry_dir, "cache")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", default="build/cache")
    ap.add_argument("--out", help="pack the cache into this folder")
    ap.add_argument("--unpack", help="unpack a packed folder on this machine")
    args = ap.parse_args()
    if args.out:
        pack(args.cache, args.out)
    if args.unpack:
        print("frozen cache:", unpack(args.unpack))


if __name__ == "__main__":
    main()
