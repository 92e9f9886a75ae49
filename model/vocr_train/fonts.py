"""Font discovery for the synthetic text-line renderer.

scan_fonts() walks /usr/share/fonts, keeps only fonts that can render every
vocabulary character, and splits them by *family* into train/val lists so
that validation measures generalisation to unseen type designs.

The split is committed in model/font_split.json ({"val": [...], "train":
[...]} of family keys), so installing or removing a font package never moves
a family from one side to the other.  A listed family always goes to its
listed side.  A kept family that is not listed goes to train, unless its
stable hash puts it in val (_stable_unit(key) < VAL_FRACTION: the same
~15% of unknown families on every machine, decided by the name alone, so
no other family can change the outcome).  Add new families to the file to
fix their side for good; never move a listed one.

Besides the keep/drop decision the scan also writes *unhinted* copies of
hinted TrueType fonts into the cache dir.  FreeType runs each glyph's
hinting bytecode on every render and for fonts such as Noto, Tinos,
Vollkorn or JetBrains Mono that costs 100-200 us per glyph, about 14x the
cost of the rasterisation itself, which would blow the per-line time budget.
The returned paths are always the original system paths; render_path()
maps such a path to its fast copy (registered by scan_fonts in this process,
inherited by forked DataLoader workers).
"""

import hashlib
import io
import json
import logging
import os
import re
import unicodedata

from PIL import ImageFont
from fontTools.ttLib import TTFont

from vocr_train.carry import is_frozen

FONT_ROOT = '/usr/share/fonts'
# Bump when the keep/drop rules or the cache layout change.
SCAN_VERSION = 7

# The committed train/val split of families (see the module docstring).
SPLIT_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          'font_split.json')

# Fonts reserved for independent evaluation: never train or validate on
# them, whatever font packages happen to be installed.
RESERVED_PATTERNS = ('gentium', 'charis', 'texgyre', 'ebgaramond')

# File-name keywords of fonts that are not meant for running text.
NON_TEXT_KEYWORDS = ('emoji', 'symbol', 'math', 'icon', 'dingbat', 'awesome',
                     'integrals', 'nonunicode', 'keyboard', 'braille', 'music',
                     'ornament')

# The only Noto files meant for Latin text; all others cover other scripts.
NOTO_LATIN_PREFIXES = ('notosans-', 'notoserif-', 'notosansmono-', 'notomono-',
                       'notosansdisplay-', 'notoserifdisplay-')

# Display/calligraphic families unsuited to document text (caps-only Bebas,
# Zapf-Chancery-like Z003).  Neither passes the cmap check today; listed so
# the rule holds if a future package version adds Vietnamese.  All kept
# families were checked visually and are plain text faces.
DECORATIVE_FAMILIES = ('bebas neue', 'z003')

# Family names that are the same (or a derived) design under another name.
# They must land on the same side of the split or val would leak into train.
FAMILY_ALIASES = {
    'liberation sans': 'arimo',      # Liberation 2.x uses the Croscore outlines
    'liberation serif': 'tinos',
    'liberation mono': 'cousine',
    'rasa': 'yrsa',                  # Rasa's Latin glyphs are Yrsa
    'noto sans': 'open sans',        # Noto Sans Latin derives from Open Sans
    'noto mono': 'noto sans mono',
    'linux biolinum o': 'linux biolinum',
    'linux libertine o': 'linux libertine',
    'cmu classical serif': 'cmu serif',
    'opendyslexicalta': 'opendyslexic',
    'opendyslexicmono': 'opendyslexic',
}

# Trailing words that name a width/optical/weight variant, not a new design.
FAMILY_STYLE_WORDS = {'display', 'condensed', 'cond', 'semicondensed', 'narrow',
                      'demi', 'extra', 'light', 'medium', 'upright', 'italic',
                      'variable', 'width', 'text', 'caption'}

SERIF_HINTS = ('serif', 'slab', 'libertine', 'vollkorn', 'junicode', 'doulos',
               'concrete', 'tinos', 'yrsa', 'caladea')
MONO_HINTS = ('mono', 'typewriter', 'code', 'courier', 'cousine')

# Share of families *not listed in SPLIT_FILE* that go to val, by stable hash.
VAL_FRACTION = 0.15

# original path -> unhinted copy used for rendering
_RENDER_PATHS = {}


def render_path(font_path):
    """Path of the file to hand to FreeType for `font_path` (fast copy if any)."""
    return _RENDER_PATHS.get(font_path, font_path)


def is_reserved(path):
    low = path.lower()
    return any(p in low for p in RESERVED_PATTERNS)


def _list_font_files(root):
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            if name.lower().endswith(('.ttf', '.otf', '.ttc')):
                found.append(os.path.join(dirpath, name))
    return found


def _prefilter_reason(path):
    """Cheap name-based rejections; returns a reason or None."""
    name = os.path.basename(path).lower()
    if is_reserved(path):
        return 'reserved for independent evaluation'
    # Keywords must start a word: 'icon' is in 'SemiCondensed'.
    words = re.findall(r'[A-Z]?[a-z]+|[A-Z]+(?![a-z])', os.path.basename(path))
    if any(w.lower().startswith(k) for w in words for k in NON_TEXT_KEYWORDS):
        return 'symbol/emoji/math/icon font'
    if name.startswith('noto') and not name.startswith(NOTO_LATIN_PREFIXES):
        return 'Noto font for a non-Latin script or symbols'
    return None


def family_key(family):
    """Normalise a family name so that variants of one design share a key."""
    words = family.lower().replace('-', ' ').split()
    # Strip trailing variant words ("Inter Display", "Open Sans Condensed",
    # "Quicksand Light", "CMU Sans Serif Demi Condensed", ...).
    while len(words) > 1 and words[-1] in FAMILY_STYLE_WORDS:
        words.pop()
    key = ' '.join(words)
    return FAMILY_ALIASES.get(key, key)


def _font_category(family, tt):
    low = family.lower()
    # Whole words only: "Junicode" must not count as a "code" font.
    if (tt['post'].isFixedPitch or tt['OS/2'].panose.bProportion == 9
            or any(w in MONO_HINTS for w in low.split())):
        return 'mono'
    if 'sans' not in low and any(h in low for h in SERIF_HINTS):
        return 'serif'
    pan = tt['OS/2'].panose
    # PANOSE "Latin text" with a serif style between cove and triangle.
    if pan.bFamilyType == 2 and 2 <= pan.bSerifStyle <= 10:
        return 'serif'
    return 'sans'


def _inspect_font(path, charset):
    """Return (info, None) for a usable font or (None, reason)."""
    try:
        tt = TTFont(path, fontNumber=0, lazy=True)
        cmap = tt.getBestCmap() or {}
        names = tt['name']
        family = names.getDebugName(16) or names.getDebugName(1) or ''
        style = names.getDebugName(17) or names.getDebugName(2) or ''
        has_outlines = any(t in tt for t in ('glyf', 'CFF ', 'CFF2'))
        weight = tt['OS/2'].usWeightClass
    except Exception as exc:  # broken or exotic file
        return None, 'unreadable: %s' % type(exc).__name__
    if not has_outlines:
        return None, 'no scalable outlines'
    missing = [c for c in charset if c != ' ' and ord(c) not in cmap]
    if missing:
        return None, 'cmap lacks vocabulary chars (%d missing, e.g. %s)' % (
            len(missing), ''.join(missing[:6]))
    low_style = (style + ' ' + os.path.basename(path)).lower()
    if weight <= 100 or 'thin' in low_style or 'hairline' in low_style:
        return None, 'hairline/thin weight, illegible at small sizes'
    if family_key(family) in DECORATIVE_FAMILIES:
        return None, 'decorative display face'
    if 'fvar' in tt:
        # FreeType renders the default instance; only accept it when that is
        # an ordinary text style.
        axes = {a.axisTag: a.defaultValue for a in tt['fvar'].axes}
        if not (300 <= axes.get('wght', 400) <= 700
                and 75 <= axes.get('wdth', 100) <= 125):
            return None, 'variable font with unusual default instance'
    hinted = 'glyf' in tt and ('fpgm' in tt or 'prep' in tt)
    return {'path': path, 'family': family_key(family), 'style': style,
            'category': _font_category(family, tt), 'hinted': hinted}, None


def _write_unhinted_copy(path, out_dir):
    """Write a copy of a TrueType font with all hinting removed."""
    digest = hashlib.sha1(path.encode()).hexdigest()[:10]
    base = os.path.splitext(os.path.basename(path))[0]
    out = os.path.join(out_dir, '%s-%s.ttf' % (digest, base))
    if os.path.exists(out):
        return out
    # recalcBBoxes=False keeps fontTools from expanding every glyph; trim()
    # strips instructions from the compact glyph data directly.
    tt = TTFont(path, fontNumber=0, recalcBBoxes=False, recalcTimestamp=False)
    glyf = tt['glyf']
    for name in tt.getGlyphOrder():
        glyf.glyphs[name].trim(remove_hinting=True)
    for tag in ('fpgm', 'prep', 'cvt ', 'hdmx', 'LTSH', 'VDMX'):
        if tag in tt:
            del tt[tag]
    buf = io.BytesIO()
    tt.save(buf, reorderTables=False)
    tmp = out + '.tmp%d' % os.getpid()
    with open(tmp, 'wb') as f:
        f.write(buf.getvalue())
    os.replace(tmp, out)  # atomic: concurrent scans never see half a file
    return out


def _one_mark_fewer(ch):
    """The letters `ch` becomes without one of its combining marks (Ậ: Ạ, Â)."""
    parts = unicodedata.normalize('NFD', ch)
    out = set()
    for i in range(1, len(parts)):
        bare = unicodedata.normalize('NFC', parts[:i] + parts[i + 1:])
        if len(bare) == 1:
            out.add(bare)
    return out


def glyph_render_problems(font_file, charset, size=100):
    """Vocabulary chars that a font renders wrongly, as {problem: chars}.

    A cmap entry alone is not enough: PIL silently draws whatever glyph the
    cmap points at.  Problems checked:
      'empty'      -- no ink at all;
      '.notdef'    -- identical to the missing-glyph box;
      'no mark'    -- identical to the letter without one of its marks (an
                      accent not drawn: ỵ/Ị in OpenDyslexic Bold; the
                      circumflex of Ậ, Ệ, Ộ in Carlito, drawn as Ạ, Ẹ, Ọ);
      'off-line'   -- ink far outside the text line (OpenDyslexic Bold puts
                      the dot of ị six em below the baseline).
    """
    font = ImageFont.truetype(font_file, size, layout_engine=ImageFont.Layout.BASIC)

    def signature(text):
        mask = font.getmask(text)
        return mask.size, bytes(mask), mask.getbbox()

    # U+10FFFD is a private-use code point no text font maps, so FreeType
    # falls back to glyph 0 (.notdef) for it.
    notdef = signature('\U0010FFFD')[:2]
    problems = {}
    for ch in charset:
        if ch == ' ':
            continue
        sig = signature(ch)
        problem = None
        if sig[2] is None:
            problem = 'empty'
        elif sig[:2] == notdef:
            problem = '.notdef'
        else:
            if any(signature(bare)[:2] == sig[:2] for bare in _one_mark_fewer(ch)):
                problem = 'no mark'
            else:
                # Marks on capitals reach ~1.3 em above the baseline and
                # descenders ~0.35 em below; 2 em / 0.8 em means broken.
                _, top, _, bottom = font.getbbox(ch, anchor='ls')
                if top < -2.0 * size or bottom > 0.8 * size:
                    problem = 'off-line'
        if problem:
            problems[problem] = problems.get(problem, '') + ch
    return problems


def _stable_unit(text):
    """Deterministic value in [0, 1) from a string (not Python's salted hash)."""
    return int(hashlib.sha1(text.encode()).hexdigest()[:12], 16) / float(16 ** 12)


def load_split(split_file=SPLIT_FILE):
    """The committed split: {'val': set, 'train': set, 'sha1': hex of the file}."""
    with open(split_file, 'rb') as f:
        raw = f.read()
    data = json.loads(raw.decode('utf-8'))
    val, train = set(data['val']), set(data['train'])
    if val & train:
        raise ValueError('%s lists families on both sides: %s'
                         % (split_file, sorted(val & train)))
    return {'val': val, 'train': train, 'sha1': hashlib.sha1(raw).hexdigest()}


def split_families(families, split):
    """families: iterable of family keys; split: load_split()'s dict.

    Returns {key: (side, how)}: side 'train' or 'val'; how 'file' for a listed
    family (always on its listed side), 'hash' for one that is not listed
    (val when _stable_unit(key) < VAL_FRACTION, else train).  The side of
    each family depends only on the file and its own name, never on which
    other families are present.
    """
    out = {}
    for k in families:
        if k in split['val']:
            out[k] = ('val', 'file')
        elif k in split['train']:
            out[k] = ('train', 'file')
        else:
            out[k] = ('val' if _stable_unit(k) < VAL_FRACTION else 'train', 'hash')
    return out


def _cache_key(charset, files, split_sha1):
    h = hashlib.sha1()
    h.update(('v%d\0%s\0%s\0' % (SCAN_VERSION, charset, split_sha1)).encode())
    for p in files:
        try:
            st = os.stat(p)
            h.update(('%s\0%d\0%d\0' % (p, st.st_size, st.st_mtime_ns)).encode())
        except OSError:
            h.update(p.encode())
    return h.hexdigest()


def scan_fonts(charset, cache_dir, font_root=FONT_ROOT, split_file=SPLIT_FILE):
    """Find fonts covering `charset` and split them by family.

    Returns {'train': [paths], 'val': [paths], 'dropped': {path: reason},
    'families': {family: {'split', 'category', 'paths', 'assigned'}}};
    'assigned' is 'file' when split_file lists the family, 'hash' otherwise
    (see split_families).  The result is cached as JSON in cache_dir
    (invalidated by any change in charset, scan rules, split file or
    installed font files).
    """
    os.makedirs(cache_dir, exist_ok=True)
    if is_frozen(cache_dir):  # carried to a machine without these fonts installed
        with open(os.path.join(cache_dir, 'font_scan.json'), encoding='utf-8') as f:
            cached = json.load(f)
        _RENDER_PATHS.update(cached['render_paths'])
        return cached['result']
    split = load_split(split_file)
    files = _list_font_files(font_root)
    key = _cache_key(charset, files, split['sha1'])
    cache_file = os.path.join(cache_dir, 'font_scan.json')
    try:
        with open(cache_file, encoding='utf-8') as f:
            cached = json.load(f)
        if (cached.get('key') == key
                and all(os.path.exists(p) for p in cached['render_paths'].values())):
            _RENDER_PATHS.update(cached['render_paths'])
            return cached['result']
    except (OSError, ValueError, KeyError):
        pass

    # fontTools warns about odd timestamps etc. in some packaged fonts;
    # irrelevant here and noisy in worker logs.
    logging.getLogger('fontTools').setLevel(logging.ERROR)
    unhinted_dir = os.path.join(cache_dir, 'unhinted')
    os.makedirs(unhinted_dir, exist_ok=True)
    dropped, kept, render_paths = {}, [], {}
    for path in files:
        reason = _prefilter_reason(path)
        info = None
        if reason is None:
            info, reason = _inspect_font(path, charset)
        if info is not None:
            fast = path
            if info['hinted']:
                try:
                    fast = _write_unhinted_copy(path, unhinted_dir)
                except Exception:  # keep the (slower) original
                    fast = path
            bad = glyph_render_problems(fast, charset)
            if bad and fast != path:
                # Should not happen, but never trade correctness for speed.
                fast = path
                bad = glyph_render_problems(fast, charset)
            if bad:
                reason = 'vocabulary glyphs render wrongly (%s)' % '; '.join(
                    '%s: %s' % (k, v[:8]) for k, v in sorted(bad.items()))
            else:
                kept.append(info)
                if fast != path:
                    render_paths[path] = fast
        if reason is not None:
            dropped[path] = reason

    # A family's category is the majority over its member fonts.
    fam_members = {}
    for info in kept:
        fam_members.setdefault(info['family'], []).append(info)
    fam_category = {}
    for fam, members in fam_members.items():
        cats = [m['category'] for m in members]
        fam_category[fam] = max(sorted(set(cats)), key=cats.count)
    sides = split_families(fam_members, split)

    result = {'train': [], 'val': [], 'dropped': dropped, 'families': {}}
    for fam in sorted(fam_members):
        side, how = sides[fam]
        paths = sorted(m['path'] for m in fam_members[fam])
        result[side].extend(paths)
        result['families'][fam] = {'split': side, 'category': fam_category[fam],
                                   'paths': paths, 'assigned': how}
    result['train'].sort()
    result['val'].sort()

    tmp = cache_file + '.tmp%d' % os.getpid()
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump({'key': key, 'result': result, 'render_paths': render_paths},
                  f, ensure_ascii=False, indent=1)
    os.replace(tmp, cache_file)
    _RENDER_PATHS.update(render_paths)
    return result
