import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'model'))

import json  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from fontTools.ttLib import TTFont  # noqa: E402
from PIL import ImageFont  # noqa: E402

from vocr_train import fonts as fonts_mod  # noqa: E402
from vocr_train.render import render_line, scan_fonts  # noqa: E402

VOCAB = Path(__file__).resolve().parents[2] / 'model' / 'vocab.json'
RESERVED = ('gentium', 'charis', 'texgyre', 'ebgaramond')
SAMPLE = 'Nguyễn Thị Ẫn, ỘNG Ặc: 0912-345.678 (số nhà 27/4) ỵạ'


@pytest.fixture(scope='session')
def charset():
    return json.loads(VOCAB.read_text(encoding='utf-8'))['chars']


@pytest.fixture(scope='session')
def cache_dir(tmp_path_factory):
    # A fresh scan writes ~60 MB of unhinted font copies and takes ~20 s;
    # set VOCR_FONT_CACHE to reuse a directory between runs.
    env = os.environ.get('VOCR_FONT_CACHE')
    return env if env else str(tmp_path_factory.mktemp('font_cache'))


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


def test_split_families_rules():
    fams = {'fam%02d' % i: 'sans' for i in range(30)}
    fams['only serif'] = 'serif'
    fams['only mono'] = 'mono'
    val = fonts_mod.split_families(fams)
    assert val == fonts_mod.split_families(dict(reversed(list(fams.items()))))
    assert {'only serif', 'only mono'} <= val
    assert 3 <= len(val) <= 7
    assert len(fonts_mod.split_families({'a': 'sans', 'b': 'serif', 'c': 'sans',
                                         'd': 'sans'})) == 3


def test_scan_is_cached(charset, cache_dir, scan):
    t = time.perf_counter()
    again = scan_fonts(charset, cache_dir)
    assert time.perf_counter() - t < 2.0
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


# ------------------------------------------------------------ render ----

def test_render_deterministic_and_format(kept):
    for mode in ('clean', 'degraded'):
        for seed in range(25):
            font = kept[seed * 7 % len(kept)]
            a = render_line(SAMPLE, font, np.random.default_rng(seed), mode)
            b = render_line(SAMPLE, font, np.random.default_rng(seed), mode)
            assert a.dtype == np.uint8 and a.ndim == 3 and a.shape[2] == 3
            assert np.array_equal(a, b)
            h, w = a.shape[:2]
            if mode == 'clean':
                assert 24 <= h <= 48, h
            else:
                assert 8 <= h <= 220, h
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
        for mode in ('clean', 'degraded'):
            img = render_line(text, kept[0], rng, mode)
            assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
            assert img.shape[0] >= 4 and img.shape[1] >= 2
    with pytest.raises(ValueError):
        render_line('abc', kept[0], rng, 'fancy')
