import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'model'))

import json  # noqa: E402
import os  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from fontTools.ttLib import TTFont  # noqa: E402
from PIL import ImageFont  # noqa: E402

from vocr_train import fonts as fonts_mod  # noqa: E402
from vocr_train.render import render_line, scan_fonts  # noqa: E402

RESERVED = ('gentium', 'charis', 'texgyre', 'ebgaramond')
SAMPLE = 'Nguyễn Thị Ẫn, ỘNG Ặc: 0912-345.678 (số nhà 27/4) ỵạ'


# charset and cache_dir come from conftest.py: the scan is shared with real
# runs (a fresh one takes ~20 s and writes ~60 MB of unhinted font copies).
@pytest.fixture(scope='session')
def scan(charset, cache_dir):
    return scan_fonts(charset, cache_dir)


@pytest.fixture(scope='session')
def kept(scan):
    return scan['train'] + scan['val']


def _family(path):
    names = TTFont(path, fontNumber=0, lazy=True)['name']
    return fonts_mod.family_key(names.getDebugName(16) or names.getDebugName(1))


# ------------------------------------------------------------- fonts ----

def test_enough_fonts(scan, kept):
    assert len(kept) >= 15
    assert scan['train'] and scan['val']
    assert len(set(scan['train']) & set(scan['val'])) == 0
    assert all(os.path.isfile(p) for p in kept)


def test_no_reserved_font_returned(scan, kept):
    for p in kept + [fonts_mod.render_path(p) for p in kept]:
        assert not any(r in p.lower() for r in RESERVED), p
    for p, reason in scan['dropped'].items():
        if any(r in p.lower() for r in RESERVED):
            assert reason == 'reserved for independent evaluation'


def test_reserved_paths_excluded_even_if_they_cover_charset(tmp_path, charset):
    # A perfectly good font copied under a reserved-looking name must be dropped.
    src = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'
    if not os.path.exists(src):
        pytest.skip('DejaVu Sans not installed')
    root = tmp_path / 'fonts'
    (root / 'gentium-plus').mkdir(parents=True)
    (root / 'ok').mkdir()
    data = Path(src).read_bytes()
    (root / 'gentium-plus' / 'Whatever.ttf').write_bytes(data)
    (root / 'ok' / 'TeXGyreLike-texgyre.ttf').write_bytes(data)
    (root / 'ok' / 'DejaVuSans.ttf').write_bytes(data)
    res = scan_fonts(charset, str(tmp_path / 'cache'), font_root=str(root))
    kept = res['train'] + res['val']
    assert kept == [str(root / 'ok' / 'DejaVuSans.ttf')]
    assert len(res['dropped']) == 2


def test_train_val_families_disjoint(scan):
    train_fams = {_family(p) for p in scan['train']}
    val_fams = {_family(p) for p in scan['val']}
    assert train_fams.isdisjoint(val_fams)
    assert len(val_fams) >= 3
    cats = {v['category'] for v in scan['families'].values() if v['split'] == 'val'}
    assert {'serif', 'sans', 'mono'} <= cats
    # roughly 15% of families
    n = len(scan['families'])
    assert len(val_fams) <= max(3, round(0.25 * n))


def test_split_file_is_committed_and_used(scan):
    raw = json.loads(Path(fonts_mod.SPLIT_FILE).read_text(encoding='utf-8'))
    assert raw['note'] and raw['val'] == sorted(raw['val'])
    assert raw['train'] == sorted(raw['train'])
    assert not set(raw['val']) & set(raw['train'])
    # the held-out families the validation figures were measured on
    assert raw['val'] == ['cmu serif', 'junicode two beta', 'linux biolinum',
                          'noto sans mono', 'opendyslexic']
    for fam, info in scan['families'].items():
        if fam in raw['val'] or fam in raw['train']:
            assert info['assigned'] == 'file'
            assert info['split'] == ('val' if fam in raw['val'] else 'train'), fam


def test_split_families_rules():
    split = fonts_mod.load_split()
    listed = sorted(split['val'] | split['train'])
    base = fonts_mod.split_families(listed, split)
    assert {k for k, (side, _) in base.items() if side == 'val'} == split['val']
    assert all(how == 'file' for _, how in base.values())
    # Installing more families never moves a listed one ...
    extra = ['new family %03d' % i for i in range(200)]
    more = fonts_mod.split_families(listed + extra, split)
    assert {k: more[k] for k in listed} == base
    # ... and an unlisted one is decided by its own name alone: the stable
    # hash sends ~VAL_FRACTION of them to val, whatever else is present.
    val_extra = {k for k in extra if more[k] == ('val', 'hash')}
    assert val_extra == {k for k in extra if fonts_mod._stable_unit(k) < fonts_mod.VAL_FRACTION}
    assert all(more[k] == ('train', 'hash') for k in extra if k not in val_extra)
    assert 10 <= len(val_extra) <= 50
    alone = fonts_mod.split_families(extra[:7], split)
    assert alone == {k: more[k] for k in extra[:7]}


def _write_split(path, val, train):
    path.write_text(json.dumps({'note': 'test', 'val': val, 'train': train}), encoding='utf-8')
    return str(path)


def test_split_file_drives_the_scan(tmp_path, charset):
    """Listed families keep their side when another family is installed; an edit
    of the split file invalidates the cached scan."""
    src = Path('/usr/share/fonts/truetype/dejavu')
    if not (src / 'DejaVuSans.ttf').exists() or not (src / 'DejaVuSerif.ttf').exists():
        pytest.skip('DejaVu fonts not installed')
    root = tmp_path / 'fonts'
    root.mkdir()
    (root / 'DejaVuSans.ttf').write_bytes((src / 'DejaVuSans.ttf').read_bytes())
    cache = str(tmp_path / 'cache')
    split_file = _write_split(tmp_path / 'split.json', ['dejavu sans'], [])
    res = scan_fonts(charset, cache, font_root=str(root), split_file=split_file)
    assert res['val'] == [str(root / 'DejaVuSans.ttf')] and res['train'] == []
    # install another family: unlisted, decided by its own hash (train), and
    # the listed one stays where it was
    (root / 'DejaVuSerif.ttf').write_bytes((src / 'DejaVuSerif.ttf').read_bytes())
    assert fonts_mod._stable_unit('dejavu serif') >= fonts_mod.VAL_FRACTION
    res = scan_fonts(charset, cache, font_root=str(root), split_file=split_file)
    assert res['val'] == [str(root / 'DejaVuSans.ttf')]
    assert res['train'] == [str(root / 'DejaVuSerif.ttf')]
    assert res['families']['dejavu serif']['assigned'] == 'hash'
    assert res['families']['dejavu sans']['assigned'] == 'file'
    # the split file is part of the cache key
    _write_split(tmp_path / 'split.json', ['dejavu serif'], ['dejavu sans'])
    res = scan_fonts(charset, cache, font_root=str(root), split_file=split_file)
    assert res['val'] == [str(root / 'DejaVuSerif.ttf')]
    assert res['train'] == [str(root / 'DejaVuSans.ttf')]
    # a family listed on both sides is an error
    _write_split(tmp_path / 'split.json', ['x'], ['x'])
    with pytest.raises(ValueError):
        scan_fonts(charset, cache, font_root=str(root), split_file=split_file)


def test_scan_is_cached(charset, cache_dir, scan, monkeypatch):
    # A second call reads the cache: it must not inspect a single font.
    def no_inspection(*args):
        raise AssertionError('font inspected although the scan is cached')
    monkeypatch.setattr(fonts_mod, '_inspect_font', no_inspection)
    monkeypatch.setattr(fonts_mod, 'glyph_render_problems', no_inspection)
    again = scan_fonts(charset, cache_dir)
    assert again == scan


def _signature(font, text):
    mask = font.getmask(text)
    return mask.size, bytes(mask)


def test_every_vocab_char_renders_in_every_kept_font(kept, charset):
    chars = [c for c in charset if c != ' ']
    for path in kept:
        cmap = TTFont(path, fontNumber=0, lazy=True).getBestCmap()
        missing = [c for c in chars if ord(c) not in cmap]
        assert not missing, (path, missing)
        # Check both the system file and the unhinted copy used for rendering.
        for file in {path, fonts_mod.render_path(path)}:
            font = ImageFont.truetype(file, 32, layout_engine=ImageFont.Layout.BASIC)
            notdef = _signature(font, '\U0010FFFD')
            for c in chars:
                mask = font.getmask(c)
                assert mask.getbbox() is not None, (file, c, 'empty')
                assert (mask.size, bytes(mask)) != notdef, (file, c, '.notdef')
                # every mark is drawn: Ậ is neither Ạ nor Â
                for bare in fonts_mod._one_mark_fewer(c):
                    assert (mask.size, bytes(mask)) != _signature(font, bare), (file, c, bare)


def test_one_mark_fewer_drops_each_mark_in_turn():
    assert fonts_mod._one_mark_fewer('Ậ') == {'Ạ', 'Â'}
    assert fonts_mod._one_mark_fewer('ử') == {'ư', 'ủ'}
    assert fonts_mod._one_mark_fewer('a') == set()
    assert fonts_mod._one_mark_fewer('đ') == set()  # a stroke is part of the letter, not a mark


# ------------------------------------------------------------ render ----

def test_render_deterministic_and_format(kept):
    for mode in ('clean', 'degraded', 'hard'):
        for seed in range(25):
            font = kept[seed * 7 % len(kept)]
            a = render_line(SAMPLE, font, np.random.default_rng(seed), mode)
            b = render_line(SAMPLE, font, np.random.default_rng(seed), mode)
            assert a.dtype == np.uint8 and a.ndim == 3 and a.shape[2] == 3
            assert np.array_equal(a, b)
            h, w = a.shape[:2]
            if mode == 'clean':
                assert 13 <= h <= 48, h  # one clean line in five is small print
            else:
                assert 8 <= h <= 260, h
            assert w > h  # a 45-char line is wide
            assert a.std() > 5  # something was drawn
        c = render_line(SAMPLE, kept[0], np.random.default_rng(1000), mode)
        d = render_line(SAMPLE, kept[0], np.random.default_rng(1001), mode)
        assert c.shape != d.shape or not np.array_equal(c, d)


def test_degraded_heights_plausible(kept):
    rng = np.random.default_rng(7)
    heights = [render_line('Quyết định số 15', kept[int(rng.integers(len(kept)))], rng,
                           'degraded').shape[0] for _ in range(200)]
    assert min(heights) >= 8
    assert 15 <= np.median(heights) <= 90
    assert max(heights) <= 220


def test_hard_lines_are_mostly_small_sources_upscaled(kept):
    # 60% are rendered 12-20 px high and upscaled 1.5-3x, so they come out
    # taller than their sharpness suggests; the rest are sized like 'degraded'.
    rng = np.random.default_rng(11)
    heights = [render_line('Họ và tên: NGUYỄN VĂN AN', kept[int(rng.integers(len(kept)))], rng,
                           'hard').shape[0] for _ in range(100)]
    assert min(heights) >= 8 and max(heights) <= 260
    assert 18 <= np.median(heights) <= 90


def test_diacritics_not_clipped_clean(kept):
    # Stacked marks rise far above cap height and dots hang below the
    # baseline; in clean mode no ink may touch the image border.
    text = 'Ẫ Ặ Ỗ Ỹ ỵ ạ ậ g'
    for i, font in enumerate(kept):
        img = render_line(text, font, np.random.default_rng(i), 'clean').astype(np.int16)
        gray = img.mean(axis=2)
        bg = np.median(gray)
        ink = gray < bg - 40
        assert ink.any(), font
        border = np.concatenate([ink[0], ink[-1], ink[:, 0], ink[:, -1]])
        assert not border.any(), font
        # the ink spans most of the height: marks and dots are both present
        rows = np.flatnonzero(ink.any(axis=1))
        assert rows[-1] - rows[0] >= 0.5 * img.shape[0], font


def test_clean_mode_is_plain(kept):
    for seed in range(20):
        img = render_line(SAMPLE, kept[seed % len(kept)], np.random.default_rng(seed), 'clean')
        gray = img.mean(axis=2)
        # light, nearly uniform background (the border is background only)
        border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
        assert border.min() > 215 and border.max() - border.min() < 12
        assert gray.min() < 90  # dark text


def test_edge_cases(kept):
    rng = np.random.default_rng(0)
    for text in ('', ' ', '   ', '.', 'Ẫ'):
        for mode in ('clean', 'degraded', 'hard'):
            img = render_line(text, kept[0], rng, mode)
            assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
            assert img.shape[0] >= 4 and img.shape[1] >= 2
    with pytest.raises(ValueError):
        render_line('abc', kept[0], rng, 'fancy')
