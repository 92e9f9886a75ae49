#!/usr/bin/python3
"""Reference predictor: reads text lines with an exported bundle only.

It imports nothing from the trainer, so it shows what any consumer of a
bundle (the C++ server above all) has to do, and the server's answers are
tested against it. Everything it needs comes from `manifest.json`: the input
spec, the vocabulary, the special tokens, the decoding length rule and the
quantized engine.

    /usr/bin/python3 model/predictor.py --bundle model/repository/vocr_line IMAGE...

Decoding is greedy and batched, and it drops finished lines from the batch
after every step, exactly as the server does.

A line wider than the model's maximum width once scaled to its height (a
whole paragraph line of 80-120 characters) is cut into pieces in the widest
blank gaps, each piece is read like a line of its own, and the readings are
joined, with a space where the gap was as wide as a word space
(`split_columns`, `join_readings`; the server does the same).
"""
import argparse
import hashlib
import json
import math
import os
import sys
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import cv2
import numpy as np

# Debian's oneDNN 2.6 (which torch 1.13 links) corrupts memory in its AMX int8
# convolution on CPUs with AMX: cap it at the level below, unless the caller
# chose one. The server does the same (server/core/onednn_isa.h), so both run
# the same kernels. It must be set before torch runs its first oneDNN primitive.
if "ONEDNN_MAX_CPU_ISA" not in os.environ:
    os.environ.setdefault("DNNL_MAX_CPU_ISA", "AVX512_CORE_BF16")

import torch  # noqa: E402

MANIFEST = "manifest.json"
FORMAT = "vocr-bundle/1"


class BundleError(Exception):
    """The bundle is missing, malformed, or does not match its manifest."""


class ImageError(ValueError):
    """An input that is not a usable line image."""


class Reading(NamedTuple):
    text: str
    confidence: float
    char_confidences: List[float]


def resolve_bundle(path: str) -> str:
    """A version directory, or a model directory whose highest numeric version is used."""
    if os.path.isfile(os.path.join(path, MANIFEST)):
        return path
    if not os.path.isdir(path):
        raise BundleError(f"{path}: no such bundle directory")
    versions = sorted((int(d) for d in os.listdir(path) if d.isdigit()), reverse=True)
    if not versions:
        raise BundleError(f"{path}: neither {MANIFEST} nor numeric version directories found")
    return os.path.join(path, str(versions[0]))


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_manifest(bundle_dir: str, verify: bool = True) -> dict:
    """Parse the manifest and check every file's size and SHA-256 against it."""
    path = os.path.join(bundle_dir, MANIFEST)
    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
    except OSError as e:
        raise BundleError(f"{path}: cannot read: {e.strerror}") from e
    except json.JSONDecodeError as e:
        raise BundleError(f"{path}: not valid JSON: {e}") from e
    if manifest.get("format") != FORMAT:
        raise BundleError(f"{path}: format is {manifest.get('format')!r}, expected {FORMAT!r}")
    for key in ("input", "vocab", "decode", "files", "quantization"):
        if key not in manifest:
            raise BundleError(f"{path}: missing key {key!r}")
    for part in ("cnn", "seq"):
        if part not in manifest["files"]:
            raise BundleError(f"{path}: files has no {part!r} entry")
        name = manifest["files"][part].get("path", "")
        if not name or os.path.isabs(name) or ".." in name.split("/"):
            raise BundleError(f"{path}: files.{part}.path {name!r} must be a plain file name inside the bundle")
    vocab = manifest["vocab"]
    if vocab.get("size") != vocab.get("first_char_id", 0) + len(vocab.get("chars", "")):
        raise BundleError(f"{path}: vocab.size {vocab.get('size')} != first_char_id + number of chars")
    if manifest.get("dims", {}).get("vocab_size") != vocab["size"]:
        raise BundleError(f"{path}: dims.vocab_size {manifest.get('dims', {}).get('vocab_size')} != vocab.size {vocab['size']}")
    if verify:
        for part, entry in manifest["files"].items():
            file_path = os.path.join(bundle_dir, entry["path"])
            if not os.path.isfile(file_path):
                raise BundleError(f"{file_path}: missing (manifest part {part!r})")
            size = os.path.getsize(file_path)
            if size != entry["bytes"]:
                raise BundleError(f"{file_path}: size {size} bytes, manifest says {entry['bytes']}")
            digest = sha256_file(file_path)
            if digest != entry["sha256"]:
                raise BundleError(f"{file_path}: SHA-256 {digest} does not match the manifest's {entry['sha256']}")
    return manifest


def decode_image(data: bytes) -> np.ndarray:
    """Encoded bytes (anything OpenCV reads) -> uint8 array, HxW or HxWxC (BGR/BGRA)."""
    if not data:
        raise ImageError("empty image: 0 bytes")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ImageError(f"not a decodable image ({len(data)} bytes; OpenCV could not read it)")
    if image.dtype != np.uint8:
        image = cv2.convertScaleAbs(image, alpha=255.0 / max(1.0, float(image.max())))
    return image


def target_width(width: int, height: int, spec: dict) -> int:
    """Width after scaling to the model's height, rounded to the width multiple and clamped."""
    multiple = spec["width_multiple"]
    scaled = width * spec["height"] / height
    rounded = int(math.floor(scaled / multiple + 0.5)) * multiple
    return max(spec["min_width"], min(spec["max_width"], rounded))


def to_gray(image: np.ndarray, spec: dict) -> np.ndarray:
    """uint8 image (gray, BGR or BGRA) -> uint8 HxW, checked to be large enough for a line."""
    if image.ndim == 2:
        gray = image
    elif image.ndim == 3 and image.shape[2] in (1, 3, 4):
        code = {1: None, 3: cv2.COLOR_BGR2GRAY, 4: cv2.COLOR_BGRA2GRAY}[image.shape[2]]
        gray = image[:, :, 0] if code is None else cv2.cvtColor(image, code)
    else:
        raise ImageError(f"unsupported image shape {image.shape}")
    if spec["channels"] != 1:
        raise BundleError(f"input.channels {spec['channels']} is not supported by this predictor")
    h, w = gray.shape
    if h < 2 or w < 2:
        raise ImageError(f"image {w}x{h} is too small to hold a text line")
    return gray


def preprocess(image: np.ndarray, spec: dict) -> np.ndarray:
    """uint8 image (gray, BGR or BGRA) -> float32 [C, H, W] normalised as the manifest says."""
    gray = to_gray(image, spec)
    h, w = gray.shape
    size = (target_width(w, h, spec), spec["height"])
    shrinking = h > spec["height"]
    resized = cv2.resize(gray, size, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
    x = resized.astype(np.float32) * (1.0 / 255.0)
    x = (x - spec["mean"]) / spec["std"]
    return x[None]


# A gap at least this share of the line height wide is a word space.
SPACE_GAP_PERCENT = 15


def split_columns(gray: np.ndarray, spec: dict) -> List[Tuple[int, int, bool]]:
    """Column spans [a, b) of a line, each at most the model's maximum width once
    scaled, and whether a space follows each; one span if the line fits.

    What is left of the line is cut into equal shares of at most the limit:
    each cut goes in the word gap (a blank run at least a space wide) nearest that
    share's end within the last half of the piece's allowed width; failing
    that, in the widest blank run there, or in the column with least ink.
    A column's ink is the summed distance of its pixels from the image's
    median (the background: text covers far less than half a line); a column
    is blank when its ink is nearer the least-inked column's than the mean
    column's, by 1 to 3, so rules, underlines and paper texture that run
    through the whole line do not hide the gaps. Integer arithmetic only, so
    the server cuts identically.
    """
    h, w = gray.shape
    if w <= spec["max_width"] * h // spec["height"]:
        return [(0, w, False)]
    limit = spec.get("split_width", spec["max_width"]) * h // spec["height"]
    flat = gray.reshape(-1)
    background = int(np.partition(flat, flat.size // 2)[flat.size // 2])
    ink = np.abs(gray.astype(np.int64) - background).sum(axis=0)
    least, mean_ink = int(ink.min()), int(ink.sum()) // w
    blank = (4 * (ink - least) <= mean_ink - least).tolist()
    spans, start = [], 0
    while w - start > limit:
        lo, hi = start + limit // 2, start + limit
        ideal = start + (w - start) // -(-(w - start) // limit)  # equal shares of what is left
        word, widest = None, None  # (distance to ideal, cut, gap) and (run length, cut, gap)
        x = lo
        while x < hi:
            if not blank[x]:
                x += 1
                continue
            end = x
            while end < hi and blank[end]:
                end += 1
            full_a, full_b = x, end  # the whole gap, beyond the window too
            while full_a > start and blank[full_a - 1]:
                full_a -= 1
            while full_b < w and blank[full_b]:
                full_b += 1
            cut, gap = (x + end) // 2, full_b - full_a
            if 100 * gap >= SPACE_GAP_PERCENT * h and (word is None or abs(cut - ideal) < word[0]):
                word = (abs(cut - ideal), cut, gap)
            if widest is None or end - x >= widest[0]:
                widest = (end - x, cut, gap)
            x = end
        if word or widest:
            _, cut, gap = word or widest
        else:
            cut, gap = lo + int(np.argmin(ink[lo:hi])), 0
        spans.append((start, cut, 100 * gap >= SPACE_GAP_PERCENT * h))
        start = cut
    spans.append((start, w, False))
    return spans


def preprocess_pieces(image: np.ndarray, spec: dict) -> Tuple[List[np.ndarray], List[bool]]:
    """A line as one or more model inputs (see split_columns) and the spaces between them."""
    gray = to_gray(image, spec)
    spans = split_columns(gray, spec)
    return [preprocess(gray[:, a:b], spec) for a, b, _ in spans], [space for _, _, space in spans]


def join_readings(pieces: Sequence[Reading], spaces: Sequence[bool]) -> Reading:
    """One reading from the pieces of a split line. The confidence is over all
    tokens, counted as each piece's characters plus its end token (one too many
    for a piece that stopped at its length bound); an inserted space gets the
    lower confidence of the two pieces it joins. A space before or after a
    piece that read nothing is kept for the next piece that read something."""
    if len(pieces) == 1:
        return pieces[0]
    text, chars, log_sum, tokens = "", [], 0.0, 0
    space, previous = False, 1.0
    for i, piece in enumerate(pieces):
        space = space or (i > 0 and spaces[i - 1])
        if piece.text:
            if space and text:
                text += " "
                chars.append(min(previous, piece.confidence))
            space, previous = False, piece.confidence
        text += piece.text
        chars += piece.char_confidences
        n = len(piece.char_confidences) + 1
        log_sum += n * math.log(max(piece.confidence, 1e-30))
        tokens += n
    return Reading(text, math.exp(log_sum / tokens), chars)


def pad_batch(inputs: Sequence[np.ndarray], pad_value: float, min_width: int = 0) -> (torch.Tensor, torch.Tensor):
    """Stack [C, H, W_i] arrays into [B, C, H, max(max W, min_width)], padded on the right."""
    widths = torch.tensor([x.shape[2] for x in inputs], dtype=torch.int64)
    c, h = inputs[0].shape[:2]
    batch = torch.full((len(inputs), c, h, max(int(widths.max()), min_width)), pad_value, dtype=torch.float32)
    for i, x in enumerate(inputs):
        batch[i, :, :, : x.shape[2]] = torch.from_numpy(x)
    return batch, widths


def padded_width(width: int, spec: dict) -> int:
    """The width a line is padded to before the CNN: the next multiple of the
    input spec's pad_to_multiple (1, no padding, for bundles from before it)."""
    multiple = spec.get("pad_to_multiple", 1)
    return -(-width // multiple) * multiple


def features_by_width(cnn, batch: torch.Tensor, widths: torch.Tensor, spec: dict) -> torch.Tensor:
    """CNN features of a padded batch, run once per padded width on lines padded
    to it with pad_value, so no line's features see another line's pixels or a
    wider padding than its own: the CNN's receptive field reaches into the
    padding at a line's right end, and what a line reads would otherwise depend
    on its batch-mates. Feature columns past a line's own width are zero (the
    encoder and attention mask them anyway)."""
    stride = spec["feature_stride"]
    padded = torch.tensor([padded_width(int(w), spec) for w in widths])
    steps = int(widths.max()) // stride
    features = None
    for width in sorted(set(padded.tolist())):
        rows = torch.nonzero(padded == width).flatten()
        lines = torch.full((len(rows), batch.size(1), batch.size(2), width), spec["pad_value"], dtype=batch.dtype)
        for i, r in enumerate(rows.tolist()):
            own = int(widths[r])
            lines[i, :, :, :own] = batch[r, :, :, :own]
        part = cnn(lines)
        if features is None:
            features = torch.zeros(batch.size(0), steps, part.size(2), dtype=part.dtype)
        for i, r in enumerate(rows.tolist()):
            own = min(part.size(1), int(widths[r]) // stride)
            features[r, :own] = part[i, :own]
    return features


def greedy_decode(cnn, seq, batch: torch.Tensor, widths: torch.Tensor, manifest: dict) -> List[Reading]:
    """Batched greedy decoding with a per-line stop and a length bound from the width.

    `cnn` and `seq` may be TorchScript modules from a bundle or the trainer's
    eager modules: both expose forward, encode and decode_step.
    """
    vocab, decode, stride = manifest["vocab"], manifest["decode"], manifest["input"]["feature_stride"]
    chars, first = vocab["chars"], vocab["first_char_id"]
    lengths = torch.div(widths, stride, rounding_mode="floor").clamp(min=1)
    with torch.no_grad():
        memory, keys, mask, hidden = seq.encode(features_by_width(cnn, batch, widths, manifest["input"]), lengths)
        # Each line may emit at most `lengths + extra` tokens (EOS included), capped,
        limits = (lengths + decode["extra_steps"]).clamp(max=decode["max_steps"]).tolist()
        bound = decode.get("length_bound")
        if bound:  # and, with a length head, at most a little more than the head reads
            read = seq.greedy_lengths(memory, mask).tolist()
            limits = [min(limit, math.floor(bound["per_char"] * n) + bound["extra"]) for limit, n in zip(limits, read)]
        n = batch.size(0)
        active = list(range(n))
        tokens = torch.full((n,), vocab["sos"], dtype=torch.int64)
        ids: List[List[int]] = [[] for _ in range(n)]
        probs: List[List[float]] = [[] for _ in range(n)]
        log_sum = [0.0] * n
        steps = [0] * n
        while active:
            log_probs, hidden = seq.decode_step(tokens, hidden, memory, keys, mask)
            best_lp, best = log_probs.max(1)
            keep = []
            for row, line in enumerate(active):
                token, lp = int(best[row]), float(best_lp[row])
                log_sum[line] += lp
                steps[line] += 1
                if token < first:  # EOS (or any special token) ends the line
                    continue
                ids[line].append(token)
                probs[line].append(math.exp(lp))
                if steps[line] < limits[line]:
                    keep.append(row)
            if len(keep) < len(active):
                index = torch.tensor(keep, dtype=torch.int64)
                memory, keys, mask = memory[index], keys[index], mask[index]
                hidden, best = hidden[index], best[index]
                active = [active[row] for row in keep]
            tokens = best
    return [
        Reading("".join(chars[t - first] for t in ids[i]), math.exp(log_sum[i] / steps[i]), probs[i])
        for i in range(n)
    ]


def read_sorted(cnn, seq, manifest: dict, images: Sequence[np.ndarray], batch_size: int) -> List[Reading]:
    """Read images in batches of similar width (as the server's width buckets
    group them); the pieces of a long line are read like lines of their own.
    Results come back in input order."""
    inputs, lines = [], []  # lines: (first piece's index, spaces after each piece)
    for image in images:
        pieces, gaps = preprocess_pieces(image, manifest["input"])
        lines.append((len(inputs), gaps))
        inputs += pieces
    order = sorted(range(len(inputs)), key=lambda i: inputs[i].shape[2])
    read: List[Optional[Reading]] = [None] * len(inputs)
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        batch, widths = pad_batch([inputs[i] for i in idx], manifest["input"]["pad_value"])
        for i, r in zip(idx, greedy_decode(cnn, seq, batch, widths, manifest)):
            read[i] = r
    return [join_readings(read[first : first + len(gaps)], gaps) for first, gaps in lines]


class Predictor:
    """Loads a bundle (verifying checksums) and reads batches of line images."""

    def __init__(self, bundle: str, threads: int = 1, engine: Optional[str] = None):
        self.dir = resolve_bundle(bundle)
        self.manifest = load_manifest(self.dir)
        self.engine = engine or self.manifest["quantization"]["engine"]
        if self.engine not in torch.backends.quantized.supported_engines:
            raise BundleError(f"{self.dir}: engine {self.engine!r} not in {torch.backends.quantized.supported_engines}")
        torch.backends.quantized.engine = self.engine
        torch.set_num_threads(threads)
        files = self.manifest["files"]
        self.cnn = self._load(files["cnn"]["path"])
        self.seq = self._load(files["seq"]["path"])

    def _load(self, name: str):
        path = os.path.join(self.dir, name)
        try:
            module = torch.jit.load(path, map_location="cpu")
        except RuntimeError as e:
            raise BundleError(f"{path}: not a loadable TorchScript file: {str(e).splitlines()[0]}") from e
        return module.eval()

    def prepare(self, image: np.ndarray) -> np.ndarray:
        return preprocess(image, self.manifest["input"])

    def recognize(self, images: Sequence[np.ndarray]) -> List[Reading]:
        """Read images as one batch (decoded uint8 arrays, any size; long lines in pieces)."""
        return read_sorted(self.cnn, self.seq, self.manifest, images, max(1, len(images)))

    def recognize_files(self, paths: Sequence[str], batch_size: int = 16) -> List[Reading]:
        images = []
        for path in paths:
            with open(path, "rb") as f:
                data = f.read()
            try:
                images.append(decode_image(data))
            except ImageError as e:
                raise ImageError(f"{path}: {e}") from None
        return read_sorted(self.cnn, self.seq, self.manifest, images, batch_size)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundle", required=True, help="bundle version directory or model directory")
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print text, confidence and per-character confidences")
    parser.add_argument("images", nargs="+")
    args = parser.parse_args(argv)
    try:
        predictor = Predictor(args.bundle, threads=args.threads)
        readings = predictor.recognize_files(args.images, args.batch_size)
    except (BundleError, ImageError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for path, r in zip(args.images, readings):
        if args.json:
            rec: Dict = {"file": path, "text": r.text, "confidence": r.confidence, "char_confidences": r.char_confidences}
            print(json.dumps(rec, ensure_ascii=False))
        else:
            print(r.text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
