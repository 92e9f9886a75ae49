"""Draws the text of synthetic lines: real prose, word sequences and generated strings, by kind weights.

The sources are corpus.py (prose, syllables), generated_text.py (names,
addresses, ...) and technical_text.py (paths, commands, units, English); the
held-out split follows theirs.
"""
import os
from collections import Counter

from vocr_train.corpus import build_corpus
from vocr_train.generated_text import DISTRICTS, GENERATORS, GIVEN, STREETS, WARDS, digits, holdout
from vocr_train.technical_text import gen_technical

# 'rare' is for training only (data.kind_weights): the validation draws by DEFAULT_WEIGHTS.
KINDS = ('prose', 'words', 'name', 'address', 'date', 'id', 'phone', 'money', 'code', 'field', 'tech', 'rare')
DEFAULT_WEIGHTS = {'prose': 35, 'words': 9, 'name': 8, 'address': 8, 'date': 6, 'id': 5,
                   'phone': 5, 'money': 5, 'code': 4, 'field': 7, 'tech': 8}
_GENERATORS = dict(GENERATORS, tech=gen_technical)
CAPS_RATE, TITLE_RATE = 0.12, 0.05
# Names and addresses are printed in capitals on ID cards and forms far more often.
CAPS_RATE_BY_KIND = {'name': 0.35, 'address': 0.3, 'rare': 0.3}
# A 'rare' line is a run of words of which most hold one of the rarest
# RARE_SHARE of the vocabulary's letters in the training text (w, j, z, ẳ, ỵ, ỹ,
# ...): the measured recall of such letters was far below that of common ones,
# and capitals of them (Ẳ, Ỵ) almost never occur otherwise.
RARE_SHARE, RARE_WORD_RATE = 0.25, 0.6


# Symbols that prose and generated fields almost never show (the validation
# measured recall under 10 % for some: `!`, `'`, `{`, `}`, `^`), put around or
# between the words of prose and word lines at `symbols_rate`.
_WRAPS = ('""', "''", '()', '[]', '{}', '<>', '**', '__', '~~', '``', '||')
_BETWEEN = (' & ', ' # ', ' * ', ' ~ ', ' ^ ', ' | ', ' \\ ', ' = ', ' + ', ' @ ', ' $ ', '% ', '; ', ' - ',
            ' <= ', ' >= ', ' != ', ' => ', ' -> ', ' :: ', ' && ', ' || ', ' / ', '_')
_ENDS = ('!', '?', '?!', '!!', '...', ';', ':', "'", '"', ' :)', ' (!)', ' [*]', ' {...}', ' ~', ' #1', ' ^2')


def _sprinkle(rng, text):
    """`text` with one to three rare symbols around, between or after its words."""
    words = text.split(' ')
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(words))
        r = rng.random()
        if r < 0.4:
            pair = rng.choice(_WRAPS)
            words[i] = pair[0] + words[i] + pair[1]
        elif r < 0.75 and len(words) > 1:  # the space between two words becomes a separator
            j = rng.randrange(1, len(words))
            words[j - 1:j + 1] = [words[j - 1] + rng.choice(_BETWEEN) + words[j]]
        else:
            words[-1] = words[-1].rstrip('.,;:') + rng.choice(_ENDS)
    return ' '.join(words)


def _fit(text, hi):
    """Collapse spaces and cut to <= hi chars, preferably after a comma (whole address
    parts), else at a word boundary ('' if impossible), dropping a separator left at the end."""
    text = ' '.join(text.split())
    if len(text) > hi:
        cut = text.rfind(', ', 0, hi + 1)
        if cut < hi // 2:
            cut = text.rfind(' ', 0, hi + 1)
        text = text[:cut].rstrip(' ,;:|-') if cut > 0 else ''
    return text


def _read_lines(path):
    with open(path, encoding='utf-8') as f:
        return [ln for ln in f.read().split('\n') if ln]


def rare_letter_words(lines, charset):
    """The distinct words of `lines` holding a letter among the rarest
    RARE_SHARE of the vocabulary's letters (either case), counted over `lines`."""
    counts = Counter(c.lower() for line in lines for c in line)
    # Counted without case, else all rare letters would be capitals (caps come later).
    letters = sorted({c.lower() for c in charset if c.isalpha()}, key=lambda c: (counts[c], c))
    rare = frozenset(letters[:max(1, int(len(letters) * RARE_SHARE))])
    rare |= {c.upper() for c in rare}
    chars = frozenset(charset)
    words = {w for line in lines for w in line.split(' ') if rare.intersection(w) and chars.issuperset(w)}
    return sorted(words)


class TextSampler:
    """Draws (text, kind) pairs for one split; see the module docstring."""

    def __init__(self, split, charset, cache_dir, min_chars=1, max_chars=48, weights=None, caps_rate=None,
                 caps_by_kind=None, symbols_rate=0.0):
        if split not in ('train', 'val'):
            raise ValueError(f'split must be train or val, not {split!r}')
        if not 1 <= min_chars <= max_chars:
            raise ValueError('need 1 <= min_chars <= max_chars')
        build_corpus(cache_dir, charset)
        self.split, self.min_chars, self.max_chars = split, min_chars, max_chars
        self.symbols_rate = symbols_rate
        # caps_rate for every kind, else caps_by_kind (default CAPS_RATE_BY_KIND), else CAPS_RATE.
        self.caps_rate = caps_rate
        self.caps_by_kind = CAPS_RATE_BY_KIND if caps_by_kind is None else caps_by_kind
        self._chars = frozenset(charset)
        self._prose = _read_lines(os.path.join(cache_dir, f'prose-{split}.txt'))
        self._words = _read_lines(os.path.join(cache_dir, 'words.txt'))
        self._pool = {'given': holdout(GIVEN, split), 'street': holdout(STREETS, split),
                      'ward': holdout(WARDS, split), 'district': holdout(DISTRICTS, split),
                      'split': split}
        weights = dict(DEFAULT_WEIGHTS if weights is None else weights)
        unknown = set(weights) - set(KINDS)
        if unknown:
            raise ValueError(f'unknown kinds {sorted(unknown)}')
        self._kinds = [k for k in KINDS if weights.get(k, 0) > 0]
        if not self._kinds:
            raise ValueError('all weights are zero')
        for k, lines in (('prose', self._prose), ('words', self._words)):
            if k in self._kinds and not lines:
                raise ValueError(f'no {k} text in {cache_dir}')
        self._rare_words = rare_letter_words(self._prose + self._words, charset) if 'rare' in self._kinds else []
        cum = 0.0
        self._cum = []
        for k in self._kinds:
            cum += weights[k]
            self._cum.append(cum)

    def _prose_line(self, rng, target):
        line = rng.choice(self._prose)
        # Many lines are short UI labels: sometimes run a few together so that long
        # targets also get long images.
        for _ in range(6):
            if len(line) >= target or (len(line) >= self.min_chars and rng.random() < 0.5):
                break
            line += ' ' + rng.choice(self._prose)
        return self._window(rng, line.split(' '), target)

    def _word_line(self, rng, target):
        words = [rng.choice(self._words)]
        while len(words) < 12 and sum(map(len, words)) + len(words) <= target:
            words.append(rng.choice(self._words))
        return self._window(rng, words, target)

    def _rare_line(self, rng, target):
        words = []
        while len(words) < 12 and sum(map(len, words)) + len(words) <= target:
            pool = self._rare_words if rng.random() < RARE_WORD_RATE else self._words
            words.append(rng.choice(pool))
        return self._window(rng, words, target)

    @staticmethod
    def _window(rng, words, target):
        """A run of whole words of about `target` chars starting at a random word."""
        i = j = rng.randrange(len(words))
        size = len(words[i])
        while j + 1 < len(words) and size + 1 + len(words[j + 1]) <= target:
            j += 1
            size += 1 + len(words[j])
        while i > 0 and size + 1 + len(words[i - 1]) <= target:     # hit the end: grow left
            i -= 1
            size += 1 + len(words[i])
        return ' '.join(words[i:j + 1])

    def _case(self, rng, text, kind):
        if kind == 'tech':      # cased by construction: capitals would break paths, URLs, identifiers
            return text
        caps = self.caps_rate if self.caps_rate is not None else self.caps_by_kind.get(kind, CAPS_RATE)
        r = rng.random()
        if r < caps and '@' not in text and '://' not in text and 'www.' not in text:
            styled = text.upper()
        elif r < caps + TITLE_RATE and kind in ('prose', 'words'):
            styled = text.title()
        else:
            return text
        # keep the plain text if casing would leave the charset or change the length
        ok = len(styled) == len(text) and self._chars.issuperset(styled)
        return styled if ok else text

    def sample(self, rng):
        """(text, kind): 1 line, every char in the charset, length in [min_chars, max_chars]."""
        for _ in range(30):
            kind = rng.choices(self._kinds, cum_weights=self._cum)[0]
            target = rng.randint(self.min_chars, self.max_chars)
            if kind == 'prose':
                text = self._prose_line(rng, target)
            elif kind == 'words':
                text = self._word_line(rng, target)
            elif kind == 'rare':
                text = self._rare_line(rng, target)
            else:
                gen = _GENERATORS[kind]
                text = gen(rng, self._pool)
                for _ in range(3):      # a long min_chars: list several, as forms do
                    if len(text) >= self.min_chars:
                        break
                    text += rng.choice((', ', ' - ', '; ', ' ')) + gen(rng, self._pool)
            if kind in ('prose', 'words') and self.symbols_rate and rng.random() < self.symbols_rate:
                text = _sprinkle(rng, text)
            text = _fit(text, self.max_chars)
            if len(text) >= self.min_chars and self._chars.issuperset(text):
                return self._case(rng, text, kind), kind
        # only reachable with a large min_chars: a digit string always fits
        return digits(rng, rng.randint(self.min_chars, self.max_chars)), 'id'
