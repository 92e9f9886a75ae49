"""Synthetic text-line images for training the Vietnamese OCR model.

    scan_fonts(charset, cache_dir) -> {'train': [...], 'val': [...], 'dropped': {...}}
    render_line(text, font_path, rng, mode, renderer='pil') -> HxWx3 uint8 RGB

mode 'clean' gives plain dark text on a light, nearly uniform background;
'degraded' adds the geometric, photometric and layout nuisances seen in
scans and phone photos; 'hard' turns them up to what a phone photo of an
ID card or a stamped form gives: text 12-20 px high upscaled, coloured
card backgrounds with guilloche patterns, stamps and pen strokes across the
text, stronger perspective and motion blur, and what phone cameras add:
glare, bent baselines, signal-dependent sensor noise, blurred chroma and
JPEG down to quality 8.  Every random choice is drawn from the `rng`
argument, so a seed reproduces an image exactly.

Pipeline: render an anti-aliased coverage mask with FreeType (PIL) or with
Pango and Cairo (render_pango.py, `renderer='pango'`), warp it
(rotation/shear/perspective, sometimes a curved baseline), crop around font
metrics + real ink, build a background of the crop's size, composite text
colour through the mask, then apply photometric degradations (illumination,
glare, blur, low resolution, noise, JPEG).  Doing geometry on the single-channel mask and generating the
background only at final size keeps the cost around 1-2 ms per line.

Speed note: call scan_fonts() before starting DataLoader workers.  It
registers unhinted copies of hinted TrueType fonts (see fonts.py), and
render_line uses them automatically; forked workers inherit the registry.
With the 'spawn' start method, call scan_fonts() once in each worker
(worker_init_fn; it is a cached JSON read).  Without it rendering is still
correct, just several times slower for fonts like Noto Serif or Vollkorn.
"""

import functools
import math

import cv2
import numpy as np
from PIL import ImageFont

from .fonts import render_path, scan_fonts

__all__ = ['scan_fonts', 'render_line']  # scan_fonts lives in fonts.py

MODES = ('clean', 'degraded', 'hard')
# Who draws the glyphs: FreeType through Pillow (no shaping, one hinting
# setting), or Pango and Cairo (render_pango.py).  The rest of the pipeline
# (warp, crop, background, degradations) is the same for both.
RENDERERS = ('pil', 'pango')


# ---------------------------------------------------------------- fonts ----

@functools.lru_cache(maxsize=256)
def _get_font(font_path, size):
    # Loading is cheap (FreeType reads tables lazily) but not free; a small
    # LRU per worker avoids re-opening the same (font, size) over and over.
    # BASIC layout: text is NFC with precomposed Vietnamese letters that are
    # all in the cmap, so no shaping is needed and it is much faster.
    return ImageFont.truetype(render_path(font_path), size,
                              layout_engine=ImageFont.Layout.BASIC)


@functools.lru_cache(maxsize=2048)
def _line_height_ratio(font_path):
    """(ascent + descent) / pixel size: converts a wanted line height to a size."""
    # Own font object: a size-100 entry would only crowd the LRU above.
    font = ImageFont.truetype(render_path(font_path), 100,
                              layout_engine=ImageFont.Layout.BASIC)
    asc, desc = font.getmetrics()
    return max(0.5, (asc + desc) / 100.0)


def _render_mask(text, font, pad):
    """Anti-aliased coverage of `text` as uint8 (0 = no ink, 255 = full).

    Returns (mask, line_top, line_bottom, baseline) in mask coordinates.
    The vertical "line box" comes from the font's ascent/descent so that
    lines with and without accents get the same scale; the canvas is sized
    from the real glyph bbox, so stacked marks (Ẫ, Ặ, Ỗ) that rise above the
    ascender and dots (ạ, ỵ) below the baseline are never clipped.
    """
    asc, desc = font.getmetrics()
    # getmask2 lays the text out once and returns the glyph bitmap sized to
    # the real ink box plus its offset from the top-left ('la') origin; this
    # is what ImageDraw.text does internally, minus a second layout pass.
    bitmap, (ox, oy) = font.getmask2(text, 'L', anchor='la')
    bw, bh = bitmap.size
    left = pad - min(0, ox)
    top = pad - min(0, oy)
    width = max(ox + bw, 1) - min(0, ox) + 2 * pad
    height = max(oy + bh, asc + desc) - min(0, oy) + 2 * pad
    mask = np.zeros((height, width), np.uint8)
    if bw and bh:
        glyphs = np.frombuffer(bytes(bitmap), np.uint8).reshape(bh, bw)
        mask[top + oy:top + oy + bh, left + ox:left + ox + bw] = glyphs
    return mask, top, top + asc + desc, top + asc


def _ink_bbox(mask, thresh=20):
    """(x0, y0, x1, y1), exclusive ends, of pixels with visible ink; None if blank."""
    ink = mask > thresh
    rows = np.flatnonzero(ink.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(ink.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def _crop(arr, x0, y0, x1, y1):
    """arr[y0:y1, x0:x1] where out-of-range parts are zero-filled."""
    h, w = arr.shape[:2]
    out = np.zeros((y1 - y0, x1 - x0) + arr.shape[2:], arr.dtype)
    sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = arr[sy0:sy1, sx0:sx1]
    return out


# ------------------------------------------------------------- geometry ----

def _warp(mask, box, rng, size, hard=False):
    """Small rotation / shear / perspective of the text mask.

    `box` holds the line box corners (4x2) and is transformed along so the
    crop can still follow the font metrics.  The output canvas grows to
    contain the whole warped mask, so nothing is cut off here.
    """
    h, w = mask.shape[:2]
    cx, cy = w / 2.0, h / 2.0
    m = np.eye(3)
    if rng.random() < (0.6 if hard else 0.35):
        # Up to 3 degrees, but on long lines cap the angle so the line drifts
        # by at most ~one text height end to end; otherwise the axis-aligned
        # crop becomes mostly background.
        max_a = min(math.radians(3.0), math.atan(size / max(w, 1.0)))
        a = rng.uniform(-max_a, max_a)
        rot = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
        m = rot @ m
    if rng.random() < 0.3:
        sh = rng.uniform(-0.3, 0.3)  # x shift proportional to height: slant
        m = np.array([[1, sh, 0], [0, 1, 0], [0, 0, 1]]) @ m
    perspective = rng.random() < (0.6 if hard else 0.15)
    if np.allclose(m, np.eye(3)) and not perspective:
        return mask, box
    centre = np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1]])
    m = np.linalg.inv(centre) @ m @ centre
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
    if perspective:
        # Jitter the corners by a few percent of the line height: a page
        # photographed slightly off-axis.
        src = corners.astype(np.float32)
        jitter = 0.3 if hard else 0.12
        dst = src + rng.uniform(-jitter, jitter, (4, 2)).astype(np.float32) * size
        m = cv2.getPerspectiveTransform(src, dst).astype(np.float64) @ m

    def apply(pts):
        p = np.hstack([pts, np.ones((len(pts), 1))]) @ m.T
        return p[:, :2] / p[:, 2:3]

    out_c = apply(corners)
    ox, oy = np.floor(out_c.min(axis=0))
    m = np.array([[1, 0, -ox], [0, 1, -oy], [0, 0, 1]]) @ m
    ow, oh = np.ceil(out_c.max(axis=0) - [ox, oy]).astype(int) + 1
    warped = cv2.warpPerspective(mask, m, (int(ow), int(oh)), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return warped, apply(box)


def _bend(mask, box, rng, size, hard=False):
    """A curved baseline: a page that does not lie flat, a card bent in the
    hand.  Each column moves vertically by a sine of up to a sixth of the text
    size (a third in hard mode) over one to three line lengths."""
    h, w = mask.shape[:2]
    amp = rng.uniform(0.05, 0.33 if hard else 0.17) * size
    period = rng.uniform(1.0, 3.0) * w
    phase = rng.uniform(0, 2 * math.pi)
    pad = int(math.ceil(amp)) + 1

    def shift(x):
        return amp * np.sin(2 * math.pi * np.asarray(x, np.float64) / period + phase)

    map_x = np.tile(np.arange(w, dtype=np.float32), (h + 2 * pad, 1))
    map_y = (np.arange(h + 2 * pad, dtype=np.float32)[:, None] - pad
             - shift(np.arange(w)).astype(np.float32)[None, :])
    bent = cv2.remap(mask, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    box = box.copy()
    box[:, 1] += pad + shift(box[:, 0])
    return bent, box


# ------------------------------------------------------------- colours -----

def _luma(c):
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]


def _pick_colours(rng, mode, allow_low_contrast=True):
    """(text_rgb, background_rgb) as float arrays."""
    if mode == 'clean':
        ink = rng.uniform(0, 45)
        bg = rng.uniform(232, 255)
        tint = rng.uniform(-4, 4, 3)
        return np.full(3, ink) + tint, np.clip(np.full(3, bg) + tint, 0, 255)
    r = rng.random()
    if r < 0.68:    # dark ink on light paper (slightly tinted)
        text = np.full(3, rng.uniform(0, 90)) + rng.uniform(-12, 12, 3)
        bg = np.full(3, rng.uniform(175, 255)) + rng.uniform(-18, 8, 3)
    elif r < 0.80:  # light on dark (signs, inverted table headers)
        text = np.full(3, rng.uniform(185, 255)) + rng.uniform(-10, 10, 3)
        bg = np.full(3, rng.uniform(0, 80)) + rng.uniform(-15, 15, 3)
    elif r < 0.93:  # coloured ink (blue/red pens, coloured print) on light paper
        text = rng.uniform(0, 170, 3)
        text[rng.integers(3)] = rng.uniform(0, 60)
        bg = np.full(3, rng.uniform(195, 255)) + rng.uniform(-15, 5, 3)
    else:           # coloured background with dark or white text
        bg = rng.uniform(60, 255, 3)
        text = np.full(3, 250.0 if _luma(bg) < 140 else rng.uniform(0, 50))
    text, bg = np.clip(text, 0, 255), np.clip(bg, 0, 255)
    # Enforce a minimum luminance contrast so the label stays readable, and
    # sometimes deliberately pull it down towards that minimum (faded print).
    diff = _luma(text) - _luma(bg)
    want = abs(diff)
    if rng.random() < 0.12 and allow_low_contrast:
        want = rng.uniform(40, 75)
    want = max(want, 45.0)
    sign = 1.0 if diff >= 0 else -1.0
    text = np.clip(bg + (text - bg) * (want / max(abs(diff), 1e-3)), 0, 255)
    if abs(_luma(text) - _luma(bg)) < 40:  # clipping ate the contrast
        text = np.full(3, 255.0 if sign > 0 else 0.0)
    return text, bg


# ----------------------------------------------------------- background ----

def _smooth_field(rng, h, w, cells):
    """Smooth random field in [0, 1]: bilinear upscaling of a coarse grid."""
    gh, gw = max(2, h // cells + 2), max(2, w // cells + 2)
    coarse = rng.random((gh, gw)).astype(np.float32)
    return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)


def _background(rng, h, w, bg, text, baseline_y):
    """Paper/form background (float32 HxWx3) plus everything drawn on it."""
    img = np.empty((h, w, 3), np.float32)
    img[:] = bg
    light = 1.0 if _luma(bg) > _luma(text) else -1.0
    if rng.random() < 0.3:  # blotchy paper texture
        amp = rng.uniform(4, 22)
        img += ((_smooth_field(rng, h, w, int(rng.integers(3, 12))) - 0.5) * amp)[..., None]
    if rng.random() < 0.25:  # linear gradient (lighting / paper tone change)
        amp = rng.uniform(8, 40)
        ang = rng.uniform(0, 2 * math.pi)
        xs = np.arange(w, dtype=np.float32) * (math.cos(ang) * amp / max(w, h))
        ys = np.arange(h, dtype=np.float32) * (math.sin(ang) * amp / max(w, h))
        ramp = ys[:, None] + xs[None, :]
        img += (ramp - ramp.mean())[..., None]
    if rng.random() < 0.1:  # fine fibre/grain noise fixed to the paper
        img += rng.normal(0, rng.uniform(2, 6), (h, w, 1)).astype(np.float32)
    if rng.random() < 0.18:  # form lines: rules, cell borders, grids
        # Lines are darker than the paper (lighter on dark backgrounds),
        # often bluish/greyish like printed forms.
        delta = -light * rng.uniform(40, 130)
        col = np.clip(np.asarray(bg) + delta + rng.uniform(-30, 30, 3), 0, 255)
        col = tuple(float(c) for c in col)
        thick = int(rng.integers(1, 3))
        kind = rng.random()
        if kind < 0.45:    # rule under the text (filled-in form field)
            y = int(np.clip(baseline_y + rng.integers(1, max(2, h // 6)), 0, h - 1))
            cv2.line(img, (0, y), (w - 1, y), col, thick)
        elif kind < 0.75:  # table cell: vertical borders and/or top/bottom
            for x in (int(rng.integers(0, 3)), w - 1 - int(rng.integers(0, 3))):
                if rng.random() < 0.7:
                    cv2.line(img, (x, 0), (x, h - 1), col, thick)
            for y in (int(rng.integers(0, 3)), h - 1 - int(rng.integers(0, 3))):
                if rng.random() < 0.5:
                    cv2.line(img, (0, y), (w - 1, y), col, thick)
        else:              # faint squared/ruled paper grid
            step = int(rng.integers(max(6, h // 3), max(7, h) + 1))
            off = int(rng.integers(0, step))
            for y in range(off, h, step):
                cv2.line(img, (0, y), (w - 1, y), col, 1)
            if rng.random() < 0.6:
                for x in range(off, w, step):
                    cv2.line(img, (x, 0), (x, h - 1), col, 1)
            img = 0.5 * img + 0.5 * np.asarray(bg, np.float32)  # keep it faint
    return img


def _stamp(rng, img):
    """Faint red/blue/violet stamp-like ring or blob overlapping the text."""
    h, w = img.shape[:2]
    layer = np.zeros((h, w), np.float32)
    r = int(rng.uniform(0.6, 2.0) * h)
    c = (int(rng.integers(0, w)), int(rng.integers(-h // 2, h + h // 2)))
    if rng.random() < 0.5:
        cv2.circle(layer, c, r, 1.0, int(rng.integers(2, max(3, h // 6))))
    else:
        cv2.ellipse(layer, c, (r, int(r * rng.uniform(0.4, 1.0))), rng.uniform(0, 180),
                    0, 360, 1.0, -1)
    layer = cv2.GaussianBlur(layer, (0, 0), rng.uniform(0.8, 2.5))
    colour = np.array([[200, 30, 40], [40, 60, 190], [120, 50, 160]], np.float32)[rng.integers(3)]
    alpha = layer[..., None] * rng.uniform(0.12, 0.35)
    return img * (1 - alpha) + colour * alpha


def _card_background(rng, h, w):
    """Pastel ID-card / banknote style background: a tint, a gradient and a
    guilloche (interleaved fine sine curves) in a slightly darker tone."""
    base = rng.uniform(170, 245, 3)
    img = np.empty((h, w, 3), np.float32)
    img[:] = base
    ramp = np.linspace(-1, 1, w, dtype=np.float32)[None, :, None] * rng.uniform(-25, 25, 3).astype(np.float32)
    img += ramp
    tone = tuple(float(c) for c in np.clip(base - rng.uniform(20, 55, 3), 0, 255))
    xs = np.arange(0, w + 8, 2, dtype=np.float64)
    period = rng.uniform(0.6, 2.5) * max(h, 8)
    for k in range(int(rng.integers(3, 9))):
        amp = rng.uniform(0.15, 0.6) * h
        phase = rng.uniform(0, 2 * math.pi)
        ys = h / 2 + amp * np.sin(2 * math.pi * xs / period + phase + k * 0.7)
        pts = np.stack([xs, ys], 1).round().astype(np.int32)
        cv2.polylines(img, [pts], False, tone, 1, cv2.LINE_AA)
    return img


def _pen_stroke(rng, img):
    """A line or signature-like curve in pen colour crossing the text."""
    h, w = img.shape[:2]
    colour = np.array([[30, 40, 150], [20, 20, 20], [160, 30, 30]], np.float32)[rng.integers(3)]
    layer = np.zeros((h, w), np.float32)
    xs = np.linspace(rng.uniform(-0.1, 0.4) * w, rng.uniform(0.6, 1.1) * w, 24)
    if rng.random() < 0.5:  # straight stroke at a small angle
        ys = np.linspace(rng.uniform(0.2, 0.8) * h, rng.uniform(0.2, 0.8) * h, 24)
    else:                   # loopy signature
        ys = h / 2 + rng.uniform(0.2, 0.5) * h * np.sin(np.linspace(0, rng.uniform(2, 8) * math.pi, 24))
    pts = np.stack([xs, ys], 1).round().astype(np.int32)
    cv2.polylines(layer, [pts], False, 1.0, int(rng.integers(1, max(2, h // 12) + 1)), cv2.LINE_AA)
    alpha = layer[..., None] * rng.uniform(0.5, 0.9)
    return img * (1 - alpha) + colour * alpha


# -------------------------------------------------------- degradations -----

def _motion_kernel(rng, max_len):
    n = int(rng.integers(3, max_len + 1))
    k = np.zeros((n, n), np.float32)
    k[n // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D((n / 2 - 0.5, n / 2 - 0.5), rng.uniform(0, 180), 1.0)
    k = cv2.warpAffine(k, rot, (n, n))
    return k / max(k.sum(), 1e-6)


def _glare(rng, img):
    """A soft specular highlight (a lamp or the sky on glossy paper or a
    laminated card): an elliptical patch pulled towards white."""
    h, w = img.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = rng.uniform(0, w), rng.uniform(-0.3 * h, 1.3 * h)
    rx, ry = rng.uniform(0.5, 3.0) * h, rng.uniform(0.4, 1.5) * h
    patch = np.exp(-(((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2))
    strength = np.float32(rng.uniform(0.3, 0.8))
    return img + (255.0 - img) * (patch * strength)[..., None]


def _sensor_noise(rng, img):
    """Phone sensor noise: shot noise that grows with the signal plus read
    noise, drawn at a lower resolution and smeared as demosaicing does."""
    h, w = img.shape[:2]
    gain, read = rng.uniform(0.1, 0.6), rng.uniform(1.0, 5.0)
    sigma = np.sqrt(np.maximum(img, 0) * gain + read ** 2)
    noise = rng.standard_normal((h, w, 3), dtype=np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), rng.uniform(0.5, 1.0)) * 1.8
    return img + noise * sigma


def _chroma_blur(rng, img):
    """Colour resolution below luminance resolution (4:2:0 video, camera
    pipelines): the chroma planes are shrunk and blown up again."""
    ycc = cv2.cvtColor(np.clip(img, 0, 255).astype(np.uint8), cv2.COLOR_RGB2YCrCb)
    h, w = ycc.shape[:2]
    f = rng.uniform(2.0, 4.0)
    small = cv2.resize(ycc[..., 1:], (max(1, int(w / f)), max(1, int(h / f))), interpolation=cv2.INTER_AREA)
    ycc[..., 1:] = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB).astype(np.float32)


def _photometric(rng, img, line_h, hard=False):
    """Illumination, blur, low resolution, noise and JPEG on float32 RGB.

    line_h is the text line height in pixels.  Blur strength scales with it
    and the low-resolution step never squeezes the line below ~14 px: past
    that, stacked accents (Ẫ, ễ) merge into one blob and the label would be
    noise rather than a hard example.
    """
    h, w = img.shape[:2]
    if rng.random() < (0.35 if hard else 0.2):  # uneven illumination: shadow / vignetting
        field = _smooth_field(rng, h, w, int(rng.integers(max(4, h // 2), max(5, 2 * h))))
        img = img * (1.0 - rng.uniform(0.15, 0.45) * field)[..., None]
    if rng.random() < (0.2 if hard else 0.04):
        img = _glare(rng, img)
    if rng.random() < (0.4 if hard else 0.1):
        img = _chroma_blur(rng, img)
    r = rng.random()
    if r < 0.2:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.4, min(1.2, max(0.5, 0.05 * line_h))))
    elif r < 0.27:
        k = int(rng.integers(2, 4 if line_h >= 24 else 3))
        img = cv2.blur(img, (k, k))
    elif r < (0.55 if hard else 0.35):
        longest = max(3, line_h // 4) if hard else min(7, max(3, line_h // 5))
        img = cv2.filter2D(img, -1, _motion_kernel(rng, int(longest)))
    f_min = max(0.35, 14.0 / line_h)
    if rng.random() < 0.2 and f_min < 0.75:  # low resolution: down, then back up
        f = rng.uniform(f_min, 0.75)
        small = cv2.resize(img, (max(4, int(w * f)), max(6, int(h * f))),
                           interpolation=cv2.INTER_AREA)
        interp = (cv2.INTER_LINEAR, cv2.INTER_CUBIC, cv2.INTER_NEAREST)[int(rng.integers(3))]
        img = cv2.resize(small, (w, h), interpolation=interp)
    if hard and rng.random() < 0.35:
        img = _sensor_noise(rng, img)
    elif rng.random() < 0.3:
        sigma = rng.uniform(2, 12)
        if rng.random() < 0.7:  # luminance noise (same on all channels)
            img = img + rng.standard_normal((h, w, 1), dtype=np.float32) * sigma
        else:
            img = img + rng.standard_normal((h, w, 3), dtype=np.float32) * sigma
    if rng.random() < 0.06:  # salt and pepper (dust, dead pixels)
        amount = rng.uniform(0.002, 0.015)
        u = rng.random((h, w), dtype=np.float32)
        img = img.copy()
        img[u < amount / 2] = rng.uniform(0, 40)
        img[u > 1 - amount / 2] = rng.uniform(215, 255)
    out = np.clip(img, 0, 255, out=img).astype(np.uint8)
    if rng.random() < (0.6 if hard else 0.35):  # JPEG last, as in real capture pipelines
        q = int(rng.integers(8 if hard else 15, 91))
        ok, buf = cv2.imencode('.jpg', out[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, q])
        if ok:
            out = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1]
    return np.ascontiguousarray(out)


# ---------------------------------------------------------------- main -----

def _draw_mask(text, font_path, size, rng, renderer, clean):
    """(mask, line_top, line_bottom, baseline, own) from the chosen renderer;
    `own` is the line's own coverage when neighbouring lines were drawn too."""
    if renderer == 'pango':
        # Imported here: Pango is only needed when it draws.
        from .render_pango import pango_mask
        return pango_mask(text, font_path, size, rng, neighbours=rng.random() < (0.3 if clean else 0.15))
    return _render_mask(text, _get_font(font_path, size), pad=2) + (None,)


def render_line(text, font_path, rng, mode, renderer='pil'):
    """Render one text line as an HxWx3 uint8 RGB array.

    mode 'clean': dark text on light, nearly uniform paper, reasonable
    margins, image height about 24-48 px (13-24 px for one line in five: small
    print scanned at low resolution), no geometric or noise degradation.
    mode 'degraded': text line height 12-64 px with random degradations.
    mode 'hard': as 'degraded' but stronger; most lines are rendered 12-20 px
    high and upscaled 1.5-3x at the end, as a small crop of a photo is.
    """
    if mode not in MODES:
        raise ValueError('mode must be one of %s, got %r' % (MODES, mode))
    if renderer not in RENDERERS:
        raise ValueError('renderer must be one of %s, got %r' % (RENDERERS, renderer))
    clean, hard = mode == 'clean', mode == 'hard'
    upscale = rng.uniform(1.5, 3.0) if hard and rng.random() < 0.6 else 1.0

    # --- size.  "Line box" = ascent + descent of the font at that size.
    if clean:
        # One line in five is small print: a page scanned at 96-150 dpi.
        out_h = int(rng.integers(13, 24)) if rng.random() < 0.2 else int(rng.integers(24, 49))
        m_top, m_bot = rng.uniform(0.06, 0.2, 2)
        line_h = out_h / (1.0 + m_top + m_bot)
    elif upscale > 1.0:
        line_h = rng.uniform(12, 20)
    else:
        # Log-uniform: small text is common in documents and hardest to read.
        line_h = math.exp(rng.uniform(math.log(12), math.log(64)))
    size = max(6, int(round(line_h / _line_height_ratio(font_path))))

    # The mask is only as large as the ink (+2 px); _warp grows its canvas
    # as needed and _crop zero-fills margins, so no generous padding here.
    mask, line_top, line_bot, baseline, own = _draw_mask(text, font_path, size, rng, renderer, clean)
    if own is not None:  # warped together; the crop follows the line's own ink
        mask = np.dstack([mask, own])

    def own_ink(m, thresh=20):
        return _ink_bbox(m if m.ndim == 2 else m[..., 1], thresh)

    # Clean mode keeps even the faintest anti-aliasing inside the crop.
    ink = own_ink(mask, 0 if clean else 20)
    lh = line_bot - line_top  # unwarped line height: the unit for margins
    x_lo, x_hi = (ink[0], ink[2]) if ink else (0, max(size, mask.shape[1]))

    if not clean:
        # Underline or a line crossing the text, drawn with the glyphs so it
        # shares their colour and geometric warp.
        r = rng.random()
        if r < 0.09:
            if r < 0.06:  # underline just below the baseline
                y = baseline + max(1, size // 10)
            else:         # strike-through around x-height
                y = int(line_top + (baseline - line_top) * rng.uniform(0.45, 0.75))
            t = max(1, int(round(size * rng.uniform(0.04, 0.08))))
            cv2.line(mask, (x_lo, y), (x_hi - 1, y), (255, 255), t)
        # Line box corners, then the two baseline ends, tracked through the warp.
        box = np.array([[x_lo, line_top], [x_hi, line_top], [x_hi, line_bot], [x_lo, line_bot],
                        [x_lo, baseline], [x_hi, baseline]], np.float64)
        mask, box = _warp(mask, box, rng, size, hard)
        if rng.random() < (0.25 if hard else 0.06):
            mask, box = _bend(mask, box, rng, size, hard)
        ink = own_ink(mask)
        line_top, line_bot = box[:4, 1].min(), box[:4, 1].max()
        baseline = int(round(box[4:, 1].mean()))

    # --- crop box: font line box unioned with real ink, plus margins.
    if ink is None:  # blank text: keep the line box only
        ink = (0, int(line_top), max(int(lh), mask.shape[1]), int(math.ceil(line_bot)))
    if clean:
        # Distribute the rows left over from the target height as top/bottom
        # margins, at least one pixel each so ink never touches the border.
        top = min(ink[1], int(math.floor(line_top)))
        bot = max(ink[3], int(math.ceil(line_bot)))
        extra = max(out_h - (bot - top), 2)
        y0 = top - min(extra - 1, max(1, int(round(extra * m_top / (m_top + m_bot)))))
        y1 = y0 + (bot - top) + extra
        mx = rng.uniform(0.15, 0.6, 2) * lh
        x0, x1 = ink[0] - int(mx[0]), ink[2] + int(mx[1])
    elif rng.random() < 0.12 and line_h >= 20:
        # Tight crop straight from a detector box: 0-1 px around the ink,
        # occasionally one pixel into it.  Not for small text, where an
        # accent-free word would shrink to a handful of pixel rows.
        d = rng.choice([-1, 0, 0, 1, 1], size=4)
        x0, y0, x1, y1 = ink[0] - d[0], ink[1] - d[1], ink[2] + d[2], ink[3] + d[3]
    else:
        # Mostly modest margins, sometimes loose (up to ~0.5 line height).
        my = lh * 0.5 * rng.random(2) ** 2
        mx = lh * 0.7 * rng.random(2) ** 2
        y0 = min(ink[1], int(math.floor(line_top))) - int(my[0])
        y1 = max(ink[3], int(math.ceil(line_bot))) + int(my[1])
        x0, x1 = ink[0] - int(mx[0]), ink[2] + int(mx[1])
    x0, y0, x1, y1 = int(x0), int(y0), int(x1), int(y1)
    if x1 - x0 < 2:
        x1 = x0 + 2
    if y1 - y0 < 4:
        y1 = y0 + 4
    if mask.ndim == 3:
        mask = mask[..., 0]
    alpha = _crop(mask, x0, y0, x1, y1).astype(np.float32)
    alpha *= np.float32(1 / 255.0)
    h, w = alpha.shape

    # --- compose.
    # Faded print on tiny text is beyond what a reader could decipher.
    text_rgb, bg_rgb = _pick_colours(rng, mode, allow_low_contrast=line_h >= 18)
    if clean:
        img = np.empty((h, w, 3), np.float32)
        img[:] = bg_rgb
        if rng.random() < 0.3:  # barely visible paper tone variation
            img += ((_smooth_field(rng, h, w, 16) - 0.5) * rng.uniform(2, 6))[..., None]
    elif hard and rng.random() < 0.5:
        img = _card_background(rng, h, w)
        text_rgb = np.clip(text_rgb * 0.4, 0, 255) if _luma(text_rgb) > 100 else text_rgb  # dark print on a card
    else:
        img = _background(rng, h, w, bg_rgb, text_rgb, baseline - y0)
        alpha = alpha * rng.uniform(0.8, 1.0) if rng.random() < 0.2 else alpha  # faded ink
    # img += (text - img) * alpha, in place to spare full-size temporaries.
    blend = text_rgb.astype(np.float32) - img
    blend *= alpha[..., None]
    img += blend
    if clean:
        out = np.clip(img, 0, 255, out=img).astype(np.uint8)
        if h > 48:  # tall accents pushed past the nominal size: keep 48 at most
            out = cv2.resize(out, (max(1, int(round(w * 48.0 / h))), 48),
                             interpolation=cv2.INTER_AREA)
        return np.ascontiguousarray(out)
    if rng.random() < (0.3 if hard else 0.04):
        img = _stamp(rng, img)
    if hard and rng.random() < 0.3:
        img = _pen_stroke(rng, img)
    out = _photometric(rng, img, lh, hard)
    if upscale > 1.0:
        interp = (cv2.INTER_LINEAR, cv2.INTER_CUBIC)[int(rng.integers(2))]
        out = cv2.resize(out, (int(round(w * upscale)), int(round(h * upscale))), interpolation=interp)
    return out
