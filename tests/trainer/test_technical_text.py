"""Technical text lines (vocr_train.technical_text) and their kind 'tech' in the sampler."""
import json
import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'model'))

from vocr_train import corpus as cp  # noqa: E402
from vocr_train import generated_text as gt  # noqa: E402
from vocr_train import technical_text as tt  # noqa: E402
from vocr_train import text_sampler as smp  # noqa: E402

VOCAB = Path(__file__).resolve().parents[2] / 'model' / 'vocab.json'
CHARSET = json.load(open(VOCAB, encoding='utf-8'))['chars']
# the symbols the model misread or dropped, and those technical text is made of
SYMBOLS = '_\\%/~()[]{}<>=&#@:-.'


def _pool(split):
    return {'given': gt.holdout(gt.GIVEN, split), 'street': gt.holdout(gt.STREETS, split),
            'ward': gt.holdout(gt.WARDS, split), 'district': gt.holdout(gt.DISTRICTS, split), 'split': split}


def _lines(split='train', n=3000, seed=3):
    rng, pool = random.Random(seed), _pool(split)
    return [tt.gen_technical(rng, pool) for _ in range(n)]


@pytest.fixture(scope='module')
def lines():
    return _lines()


def test_symbols_all_appear(lines):
    wanted = {c for c in SYMBOLS if c in CHARSET}
    assert len(wanted) == len(SYMBOLS)      # the vocabulary holds every one of them today
    seen = set(''.join(lines))
    assert wanted <= seen, sorted(wanted - seen)
    # and often enough to be learnt, not once in a while
    for c in '_\\%':
        assert sum(c in ln for ln in lines) > 0.04 * len(lines), c


def test_every_char_in_vocabulary(lines):
    chars = set(CHARSET)
    for split in ('train', 'val'):
        for ln in (lines if split == 'train' else _lines('val', 1000)):
            assert set(ln) <= chars, ln
            assert ln and ln == ln.strip() and '  ' not in ln, ln


def test_lengths(lines):
    n = len(lines)
    assert max(map(len, lines)) <= tt.MAX_LINE
    assert sum(40 <= len(ln) <= 64 for ln in lines) > 0.3 * n
    assert sum(20 <= len(ln) < 40 for ln in lines) > 0.15 * n
    assert 0.02 * n < sum(len(ln) < 20 for ln in lines) < 0.3 * n


def test_units_cases_and_vietnamese(lines):
    text = '\n'.join(lines)
    for unit in ('đ/kg', 'km/h', 'lần/ngày', '%/năm', 'VNĐ/tháng'):
        assert unit in text, unit
    # capitals of the letters the model confused with their small forms
    assert set('COSVWXZ') <= set(text)
    assert sum(any(c.isupper() for c in ln) and any(c.islower() for c in ln) for ln in lines) > 0.2 * len(lines)
    vi = set(c for c in CHARSET if c.isalpha() and not c.isascii())
    assert sum(bool(set(ln) & vi) for ln in lines) > 0.1 * len(lines)
    assert any(ln.startswith('Chạy lệnh') for ln in lines)
    assert any('C:\\' in ln for ln in lines) and any('://' in ln for ln in lines)


def test_held_out_lists_disjoint():
    train, val = tt.lists('train'), tt.lists('val')
    for key in ('words', 'dirs', 'windirs', 'domains'):
        assert val[key] and train[key], key
        assert not {x.casefold() for x in train[key]} & {x.casefold() for x in val[key]}, key
    assert not {x.casefold() for x in train['dirs']} & {x.casefold() for x in val['windirs']}
    assert not {x.casefold() for x in val['dirs']} & {x.casefold() for x in train['windirs']}
    assert len(train['words']) + len(val['words']) >= 250
    assert tt.lists('train') is train       # computed once


def test_val_lines_use_val_words():
    """No train-only English word in val lines (words as they appear in phrases)."""
    train_only = set(tt.lists('train')['words']) - set(tt.lists('val')['words'])
    rng, pool = random.Random(4), _pool('val')
    words = set()
    for _ in range(1500):
        words.update(w for w in tt._english(rng, tt.lists('val'), pool).lower().strip('.!?:').split())
    assert words and not words & train_only


def test_split_defaults_to_train():
    pool = _pool('train')
    del pool['split']
    a = [tt.gen_technical(random.Random(9), pool) for _ in range(3)]
    assert a == [tt.gen_technical(random.Random(9), _pool('train')) for _ in range(3)]


def test_deterministic():
    assert _lines(n=500, seed=7) == _lines(n=500, seed=7)
    assert _lines(n=500, seed=7) != _lines(n=500, seed=8)


def test_sampler_registers_tech(cache_dir):
    cp.build_corpus(cache_dir, CHARSET)
    assert 'tech' in smp.KINDS and smp.DEFAULT_WEIGHTS['tech'] > 0
    assert 95 <= sum(smp.DEFAULT_WEIGHTS.values()) <= 105
    # 36: the configs' max_chars, so most lines are cut
    sampler = smp.TextSampler('val', CHARSET, cache_dir, max_chars=36, weights={'tech': 1}, caps_rate=1.0)
    assert sampler._pool['split'] == 'val'
    rng = random.Random(2)
    got = [sampler.sample(rng) for _ in range(500)]
    assert {k for _, k in got} == {'tech'}
    texts = [t for t, _ in got]
    # never upper-cased, even at caps_rate 1: lower-case paths, URLs and e-mails survive
    assert sum(any(c.islower() for c in t) for t in texts) > 0.8 * len(texts)
    assert any('@' in t and t != t.upper() for t in texts)
    # the cut drops a separator it leaves at the end
    assert not any(t.endswith((' -', ' |', ',')) for t in texts)


def test_installed_word_list_is_optional(tmp_path, monkeypatch):
    dic = tmp_path / 'en_US.dic'
    dic.write_text("5\nhello/MS\nParis/M\nzebra\ncan't\nnaïve\n", encoding='utf-8')
    monkeypatch.setattr(tt, 'WORD_FILES', (str(tmp_path / 'missing'), str(dic)))
    tt._installed_words.cache_clear()
    tt.lists.cache_clear()
    try:
        assert tt._installed_words() == ('hello', 'zebra')     # lower-case ASCII words only
        both = tt.lists('train')['words'] + tt.lists('val')['words']
        assert 'zebra' in both and len(both) == len(set(both))
    finally:    # later tests see the real word lists again
        tt._installed_words.cache_clear()
        tt.lists.cache_clear()
