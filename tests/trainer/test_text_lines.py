"""Text lines for synthetic OCR images: the corpus (vocr_train.corpus), generated strings
(vocr_train.generated_text) and the sampler (vocr_train.text_sampler)."""
import json
import os
import random
import struct
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'model'))

from vocr_train import corpus as cp  # noqa: E402
from vocr_train import generated_text as gt  # noqa: E402
from vocr_train import text_sampler as smp  # noqa: E402

VOCAB = Path(__file__).resolve().parents[2] / 'model' / 'vocab.json'
CHARSET = json.load(open(VOCAB, encoding='utf-8'))['chars']


@pytest.fixture(scope='module')
def cache(cache_dir):
    """The real corpus in the shared cache (conftest.py): built once (a few
    seconds) when missing or out of date, else reused."""
    cp.build_corpus(cache_dir, CHARSET)
    return Path(cache_dir)


def _lines(path):
    return [ln for ln in path.read_text(encoding='utf-8').split('\n') if ln]


def test_build_corpus_counts_and_reuse(cache):
    meta = json.loads((cache / 'corpus.json').read_text(encoding='utf-8'))
    counts = meta['counts']
    assert counts['prose-train'] > 10000 and counts['prose-val'] > 300 and counts['words'] > 5000
    assert counts['prose-train'] == len(_lines(cache / 'prose-train.txt'))
    assert counts['prose-val'] == len(_lines(cache / 'prose-val.txt'))
    # about 3% of prose is held out
    assert 0.01 < counts['prose-val'] / (counts['prose-val'] + counts['prose-train']) < 0.06
    before = {p.name: p.stat().st_mtime_ns for p in cache.glob('*.txt')}
    assert cp.build_corpus(str(cache), CHARSET) == counts
    # reused, not rebuilt
    assert {p.name: p.stat().st_mtime_ns for p in cache.glob('*.txt')} == before


def test_sources_are_the_fixed_list(cache):
    """Only LibreOffice help/l10n and hunspell-vi: the corpus must not depend on which
    other packages are installed, and no other gettext catalogue is read (they share
    their text with the reserved manual pages)."""
    meta = json.loads((cache / 'corpus.json').read_text(encoding='utf-8'))
    assert meta['version'] == cp.CACHE_VERSION
    sources = meta['sources']
    assert sources == sorted(sources) and all(size >= 0 for _, size in sources)
    assert not any(p.startswith('/usr/share/locale/') for p, _ in sources)
    allowed = set(cp.XCD_FILES) | {cp.HUNSPELL_DIC}
    lo_mo = os.path.dirname(cp.MO_GLOBS[0])
    for path, _ in sources:
        assert (path in allowed or path.startswith(cp.LO_HELP + '/')
                or os.path.dirname(path) == lo_mo), path
    paths = {p for p, _ in sources}
    assert cp.HUNSPELL_DIC in paths and any(p.startswith(cp.LO_HELP) for p in paths)
    # what is present now is exactly what the cache was built from
    assert cp._source_key(cp._sources()[0]) == sources


def test_cache_lines_are_clean(cache):
    chars = set(CHARSET)
    for name in ('prose-train.txt', 'prose-val.txt', 'words.txt'):
        for ln in _lines(cache / name):
            assert set(ln) <= chars and ln == ln.strip() and '  ' not in ln, (name, ln)


def test_reserved_packages_never_read(cache):
    meta = json.loads((cache / 'corpus.json').read_text(encoding='utf-8'))
    assert meta['sources']
    for path, _ in meta['sources']:
        assert 'maint-guide' not in path and '/man/vi' not in path and '/share/man/' not in path
        assert not os.path.basename(path).startswith('manpages'), path
    assert cp._is_reserved('/usr/share/doc/maint-guide-vi/html/index.vi.html')
    assert cp._is_reserved('/usr/share/man/vi/man1/ls.1.gz')
    assert cp._is_reserved('/usr/share/locale/vi/LC_MESSAGES/manpages-vi.mo')


def _write_mo(path, pairs):
    """Minimal little-endian GNU .mo writer (header entry + pairs)."""
    pairs = [(b'', b'Content-Type: text/plain; charset=UTF-8\n')] + \
            [(a.encode(), b.encode()) for a, b in pairs]
    n = len(pairs)
    orig_tab, trans_tab = 28, 28 + 8 * n
    data_off = 28 + 16 * n
    blob, otab, ttab = b'', b'', b''
    for msgid, _ in pairs:
        otab += struct.pack('<2I', len(msgid), data_off + len(blob))
        blob += msgid + b'\0'
    for _, msgstr in pairs:
        ttab += struct.pack('<2I', len(msgstr), data_off + len(blob))
        blob += msgstr + b'\0'
    head = struct.pack('<7I', 0x950412de, 0, n, orig_tab, trans_tab, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(head + otab + ttab + blob)


@pytest.fixture
def fake_sources(tmp_path, monkeypatch):
    """Point every source at small fake files under tmp_path (the real word list stays)."""
    locale = tmp_path / 'share/locale/vi/LC_MESSAGES'
    lo_mo = tmp_path / 'lo/resource/vi/LC_MESSAGES'
    monkeypatch.setattr(cp, 'LO_HELP', str(tmp_path / 'nohelp'))
    monkeypatch.setattr(cp, 'MO_GLOBS', (str(lo_mo / '*.mo'),))
    monkeypatch.setattr(cp, 'XCD_FILES', ())
    return tmp_path, locale, lo_mo


def _corpus_text(cache):
    return (cache / 'prose-train.txt').read_text(encoding='utf-8') + \
        (cache / 'prose-val.txt').read_text(encoding='utf-8')


def test_reserved_paths_are_skipped_by_build(fake_sources, monkeypatch):
    tmp_path, locale, lo_mo = fake_sources
    ok = lo_mo / 'demo.mo'
    bad = tmp_path / 'share/doc/maint-guide-vi/LC_MESSAGES/demo.mo'
    _write_mo(ok, [('Open file', '~Mở tệp %s…'), ('Save', 'Lưu tài liệu hiện thời')])
    _write_mo(bad, [('Secret', 'Câu này thuộc về gói dành riêng để đánh giá')])
    _write_mo(locale / 'manpages-vi.mo', [('Secret', 'Trang hướng dẫn dành riêng cho đánh giá')])
    monkeypatch.setattr(cp, 'MO_GLOBS', (str(lo_mo / '*.mo'), str(bad)))
    counts = cp.build_corpus(str(tmp_path / 'cache'), CHARSET)
    text = _corpus_text(tmp_path / 'cache')
    assert 'Mở tệp...' in text and 'Lưu tài liệu hiện thời' in text
    assert 'dành riêng' not in text
    meta = json.loads((tmp_path / 'cache/corpus.json').read_text(encoding='utf-8'))
    paths = [p for p, _ in meta['sources']]
    assert str(ok) in paths and str(bad) not in paths
    assert str(locale / 'manpages-vi.mo') not in paths
    assert counts['prose-train'] + counts['prose-val'] == 2


def test_no_gettext_catalogue_but_libreoffices_is_read(fake_sources):
    """Other packages' catalogues in the locale dir are ignored (they share their text with
    the reserved manual pages); a LibreOffice catalogue that appears or changes size rebuilds."""
    tmp_path, locale, lo_mo = fake_sources
    cache = tmp_path / 'cache'
    _write_mo(lo_mo / 'sw.mo', [('Page', 'Trang tài liệu')])
    _write_mo(locale / 'coreutils.mo', [('Save', 'Lưu tài liệu hiện thời')])
    _write_mo(locale / 'man-db.mo', [('Tab', 'Thẻ mới của trình duyệt')])
    counts = cp.build_corpus(str(cache), CHARSET)
    assert counts['prose-train'] + counts['prose-val'] == 1
    text = _corpus_text(cache)
    assert 'Trang tài liệu' in text
    assert 'Lưu tài liệu hiện thời' not in text and 'trình duyệt' not in text
    meta = json.loads((cache / 'corpus.json').read_text(encoding='utf-8'))
    assert meta['missing'] == [str(tmp_path / 'nohelp')]
    assert [p for p, _ in meta['sources']] == sorted([str(lo_mo / 'sw.mo'), cp.HUNSPELL_DIC])

    # a LibreOffice catalogue appears: rebuilt with it
    _write_mo(lo_mo / 'sc.mo', [('Quit', 'Thoát khỏi chương trình')])
    counts = cp.build_corpus(str(cache), CHARSET)
    assert counts['prose-train'] + counts['prose-val'] == 2
    assert 'Thoát khỏi chương trình' in _corpus_text(cache)
    # a source changes size (package upgrade): rebuilt
    _write_mo(lo_mo / 'sw.mo', [('Page', 'Trang tài liệu'), ('Open', 'Mở tệp đã có')])
    counts = cp.build_corpus(str(cache), CHARSET)
    assert counts['prose-train'] + counts['prose-val'] == 3
    meta = json.loads((cache / 'corpus.json').read_text(encoding='utf-8'))
    assert [str(lo_mo / 'sw.mo'), (lo_mo / 'sw.mo').stat().st_size] in meta['sources']
    # another package's catalogue appears: nothing changes
    before = (cache / 'corpus.json').stat().st_mtime_ns
    _write_mo(locale / 'thunderbird.mo', [('Mail', 'Thư điện tử mới')])
    assert cp.build_corpus(str(cache), CHARSET) == counts
    assert (cache / 'corpus.json').stat().st_mtime_ns == before


@pytest.mark.parametrize('raw, want', [
    ('\u201c~Mở tệp %s\u2026\u201d', '"Mở tệp..."'),
    ('Tập tin (_F)', 'Tập tin'),
    ('<b>Lưu</b>&nbsp;tài   liệu \u2013 nhanh', 'Lưu tài liệu - nhanh'),
    ('Nhãn « cập nhật »', 'Nhãn "cập nhật"'),
    ('Đã xoá {0} tệp trong $(ARG1)', 'Đã xoá tệp trong'),
    ('Tie\u0302\u0301ng Vie\u0323\u0302t', 'Tiếng Việt'),          # decomposed -> NFC
])
def test_clean(raw, want):
    assert cp._clean(raw) == want


def test_read_number():
    assert gt._read_number(1250000) == 'một triệu hai trăm năm mươi nghìn'
    assert gt._read_number(21) == 'hai mươi mốt'
    assert gt._read_number(105) == 'một trăm linh năm'
    assert gt._read_number(15) == 'mười lăm'
    assert gt._read_number(2000300) == 'hai triệu ba trăm'


@pytest.mark.parametrize('split', ['train', 'val'])
@pytest.mark.parametrize('lo, hi', [(1, 48), (5, 20), (30, 64), (1, 3)])
def test_samples_valid(cache, split, lo, hi):
    chars = set(CHARSET)
    sampler = smp.TextSampler(split, CHARSET, str(cache), min_chars=lo, max_chars=hi)
    rng = random.Random(123)
    kinds = set()
    for _ in range(3000):
        text, kind = sampler.sample(rng)
        kinds.add(kind)
        assert kind in smp.KINDS
        assert lo <= len(text) <= hi, (text, kind)
        assert set(text) <= chars, (text, kind)
        assert text == text.strip() and '  ' not in text, (text, kind)
    if lo <= 5 and hi >= 20:
        assert kinds >= {'prose', 'words', 'name', 'date', 'phone'}


def test_all_caps_share(cache):
    sampler = smp.TextSampler('train', CHARSET, str(cache))
    rng = random.Random(5)
    texts = [sampler.sample(rng)[0] for _ in range(5000)]
    caps = sum(t.isupper() for t in texts) / len(texts)
    assert 0.08 < caps < 0.30


def test_deterministic(cache):
    a = smp.TextSampler('train', CHARSET, str(cache))
    b = smp.TextSampler('train', CHARSET, str(cache))
    ra, rb = random.Random(7), random.Random(7)
    seq_a = [a.sample(ra) for _ in range(2000)]
    assert seq_a == [b.sample(rb) for _ in range(2000)]
    rc = random.Random(8)
    assert seq_a != [a.sample(rc) for _ in range(2000)]


def test_sampling_is_not_pathologically_slow(cache):
    # A sanity bound only (speed belongs in benchmarks): a sample takes ~10 us,
    # the bound is 1 ms so that a loaded 2-core CI machine never fails it.
    sampler = smp.TextSampler('train', CHARSET, str(cache))
    rng = random.Random(0)
    t0 = time.perf_counter()
    for _ in range(2000):
        sampler.sample(rng)
    assert (time.perf_counter() - t0) / 2000 < 1e-3


def test_prose_splits_disjoint(cache):
    train = set(_lines(cache / 'prose-train.txt'))
    val = set(_lines(cache / 'prose-val.txt'))
    assert train and val and not (train & val)
    # also after folding case and punctuation, so trivial variants can't leak
    assert not ({cp._fold(x) for x in train} & {cp._fold(x) for x in val})


def _given_names(cache, split, n=3000):
    sampler = smp.TextSampler(split, CHARSET, str(cache), weights={'name': 1})
    rng = random.Random(11)
    return {sampler.sample(rng)[0].split()[-1].casefold() for _ in range(n)}


def test_val_names_held_out(cache):
    train, val = _given_names(cache, 'train'), _given_names(cache, 'val')
    assert len(val) > 10 and len(train) > 40
    assert not (train & val)
    for items in (gt.GIVEN, gt.STREETS, gt.WARDS, gt.DISTRICTS):
        tr, va = gt.holdout(items, 'train'), gt.holdout(items, 'val')
        assert va and not (set(tr) & set(va)) and sorted(tr + va) == sorted(items)


def test_bad_arguments(cache):
    with pytest.raises(ValueError):
        smp.TextSampler('test', CHARSET, str(cache))
    with pytest.raises(ValueError):
        smp.TextSampler('train', CHARSET, str(cache), weights={'poetry': 1})
    with pytest.raises(ValueError):
        smp.TextSampler('train', CHARSET, str(cache), min_chars=10, max_chars=5)


def test_symbols_rate_puts_rare_symbols_into_prose_and_leaves_other_draws_alone(cache):
    rare = set("!#&'*;<>?[]\\^_`{|}~=+@$%")
    plain = smp.TextSampler('train', CHARSET, str(cache), max_chars=72, weights={'prose': 1})
    sprinkled = smp.TextSampler('train', CHARSET, str(cache), max_chars=72, weights={'prose': 1},
                                symbols_rate=1.0)
    lines = [sprinkled.sample(random.Random(i))[0] for i in range(300)]
    assert all(1 <= len(t) <= 72 and set(t) <= set(CHARSET) for t in lines)
    assert sum(bool(rare & set(t)) for t in lines) > 0.8 * len(lines)
    assert len(rare & set(''.join(lines))) == len(rare)  # every one of them shows up
    # Rate 0 draws exactly what a sampler without the option draws (validation unchanged).
    zero = smp.TextSampler('train', CHARSET, str(cache), max_chars=72, weights={'prose': 1}, symbols_rate=0.0)
    assert [zero.sample(random.Random(i)) for i in range(50)] == [plain.sample(random.Random(i)) for i in range(50)]


def test_rare_kind_lines_hold_rare_letters_far_more_often_than_prose(cache):
    def share_with(letters, lines):
        return sum(bool(letters & set(t)) for t in lines) / len(lines)

    rare = smp.TextSampler('train', CHARSET, str(cache), max_chars=72, weights={'rare': 1})
    prose = smp.TextSampler('train', CHARSET, str(cache), max_chars=72, weights={'prose': 1})
    drawn = [rare.sample(random.Random(i)) for i in range(300)]
    assert {kind for _, kind in drawn} == {'rare'}
    assert all(1 <= len(t) <= 72 and set(t) <= set(CHARSET) for t, _ in drawn)
    letters = set('wjzfWJZF') | set('ẳỵỷỹỡẻẲỴỶỸỠẺ')
    lines = [t for t, _ in drawn]
    assert share_with(letters, lines) > 3 * share_with(letters, [prose.sample(random.Random(i))[0] for i in range(300)])
    # The validation's default weights never draw it.
    assert 'rare' not in smp.DEFAULT_WEIGHTS
