"""Text masks drawn by Pango and Cairo: the second rasterizer.

`render.py` draws every glyph with FreeType through Pillow, without
shaping and with one hinting setting. A model trained only on that learns
its quirks. This module lays the same text out with Pango (HarfBuzz
shaping, fontconfig font selection, justified word spacing, letter
spacing) and rasterizes it with Cairo under a random hinting style, so the
same fonts reach the model with other stem widths, glyph positions and
spacing. It can also draw the lines above and below, as a line cut out of
a printed page along its layout box shows parts of its neighbours.

    pango_mask(text, font_path, size, rng, neighbours) ->
        (mask, line_top, line_bottom, baseline, own)

`mask` is the anti-aliased coverage (uint8, 0 = no ink) of everything
drawn, `own` that of the line alone (None when no neighbours were drawn);
the three vertical positions are the line's layout box and baseline in
mask coordinates, as `render._render_mask` returns them.
"""
import functools
import math
import subprocess

import cairo
import gi
import numpy as np

gi.require_version("Pango", "1.0")
gi.require_version("PangoCairo", "1.0")
from gi.repository import Pango, PangoCairo  # noqa: E402  (after require_version)

HINT_STYLES = (cairo.HINT_STYLE_NONE, cairo.HINT_STYLE_SLIGHT, cairo.HINT_STYLE_MEDIUM, cairo.HINT_STYLE_FULL)

# fontconfig weight -> CSS/Pango weight (fontconfig's own FcWeightToOpenType table).
_FC_WEIGHTS = ((0, 100), (40, 200), (50, 300), (55, 350), (75, 380), (80, 400), (100, 500), (180, 600),
               (200, 700), (205, 800), (210, 900), (215, 1000))
_FC_SLANTS = {0: Pango.Style.NORMAL, 100: Pango.Style.ITALIC, 110: Pango.Style.OBLIQUE}
_STRETCHES = ((50, Pango.Stretch.ULTRA_CONDENSED), (63, Pango.Stretch.EXTRA_CONDENSED), (75, Pango.Stretch.CONDENSED),
              (87, Pango.Stretch.SEMI_CONDENSED), (100, Pango.Stretch.NORMAL), (113, Pango.Stretch.SEMI_EXPANDED),
              (125, Pango.Stretch.EXPANDED), (150, Pango.Stretch.EXTRA_EXPANDED), (200, Pango.Stretch.ULTRA_EXPANDED))


@functools.lru_cache(maxsize=1024)
def font_description(font_path: str) -> Pango.FontDescription:
    """The Pango description that makes fontconfig pick `font_path`: Pango
    selects fonts by family, weight, slant and width, not by file, so the
    file's own fontconfig pattern is asked for those."""
    out = subprocess.run(["fc-query", "--index=0", "--format=%{family[0]}\t%{weight}\t%{slant}\t%{width}", font_path],
                         check=True, capture_output=True, text=True).stdout
    family, weight, slant, width = out.split("\t")
    desc = Pango.FontDescription()
    desc.set_family(family)
    css = float(np.interp(float(weight), *zip(*_FC_WEIGHTS)))
    desc.set_weight(Pango.Weight(min((w for _, w in _FC_WEIGHTS), key=lambda w: abs(w - css))))
    desc.set_style(_FC_SLANTS.get(int(float(slant)), Pango.Style.NORMAL))
    desc.set_stretch(min(_STRETCHES, key=lambda s: abs(s[0] - float(width)))[1])
    return desc


def _layout(context: Pango.Context, text: str, desc: Pango.FontDescription, spacing: int,
            stretch: float) -> Pango.Layout:
    """One line of text; `stretch` > 1 justifies it to that share of its natural width."""
    layout = Pango.Layout.new(context)
    layout.set_font_description(desc)
    layout.set_single_paragraph_mode(True)
    if spacing:
        attrs = Pango.AttrList()
        attrs.insert(Pango.attr_letter_spacing_new(spacing))
        layout.set_attributes(attrs)
    layout.set_text(text, -1)
    if stretch > 1.0 and " " in text.strip():
        natural = layout.get_size()[0]
        layout.set_width(int(natural * stretch))
        layout.set_justify(True)
        layout.set_justify_last_line(True)
    return layout


def _draw(layouts, width: int, height: int):
    """Coverage of the (layout, x, y) list on an A8 surface of width x height,
    and of the first layout alone when there are others (else None): it is
    drawn first, so one surface gives both."""
    surface = cairo.ImageSurface(cairo.FORMAT_A8, width, height)
    ctx = cairo.Context(surface)

    def coverage():
        surface.flush()
        return np.ndarray((height, surface.get_stride()), np.uint8, surface.get_data())[:, :width].copy()

    first = None
    for i, (layout, x, y) in enumerate(layouts):
        if i == 1:
            first = coverage()
        ctx.move_to(x, y)
        PangoCairo.show_layout(ctx, layout)
    return coverage(), first


def pango_mask(text: str, font_path: str, size: int, rng: np.random.Generator, neighbours: bool):
    """See the module docstring. `size` is the font size in pixels (em)."""
    options = cairo.FontOptions()
    options.set_hint_style(HINT_STYLES[int(rng.integers(len(HINT_STYLES)))])
    options.set_hint_metrics(cairo.HINT_METRICS_ON if rng.random() < 0.5 else cairo.HINT_METRICS_OFF)
    # Bilevel text (no anti-aliasing), as old printers and screen grabs give.
    options.set_antialias(cairo.ANTIALIAS_NONE if size >= 14 and rng.random() < 0.05 else cairo.ANTIALIAS_GRAY)
    context = PangoCairo.FontMap.get_default().create_context()
    PangoCairo.context_set_font_options(context, options)
    desc = font_description(font_path).copy()
    desc.set_absolute_size(size * Pango.SCALE)
    spacing = int(size * rng.uniform(-0.02, 0.08) * Pango.SCALE) if rng.random() < 0.25 else 0
    stretch = rng.uniform(1.02, 1.3) if rng.random() < 0.35 else 1.0

    line = _layout(context, text, desc, spacing, stretch)
    ink, logical = line.get_pixel_extents()
    pad = 2
    left = pad - min(0, ink.x)
    width = max(ink.x + ink.width, logical.width, 1) - min(0, ink.x) + 2 * pad
    above = pad - min(0, ink.y)
    below = max(ink.y + ink.height, logical.height) + pad
    layouts = [(line, left, above)]
    if neighbours:
        # The lines above and below at a page's leading (0.95-1.3 line
        # heights), here the line's own words in another order.
        advance = int(math.ceil(logical.height * rng.uniform(0.95, 1.3)))
        words = text.split()
        for sign in (-1, 1):
            order = rng.permutation(len(words)) if words else []
            other = _layout(context, " ".join(words[i] for i in order), desc, spacing, stretch)
            layouts.append((other, left, above + sign * advance))
        above += advance
        below += advance
        layouts = [(lay, x, y + advance) for lay, x, y in layouts]
    height = above + below
    mask, own = _draw(layouts, width, height)
    line_top = layouts[0][2] + logical.y
    baseline = layouts[0][2] + line.get_baseline() // Pango.SCALE
    return mask, line_top, line_top + logical.height, baseline, own
