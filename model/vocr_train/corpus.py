"""The real Vietnamese prose and the syllable list behind the synthetic lines: extraction, cleaning, cache.

Sources
-------
Real prose comes from a fixed list of files, so that the corpus is the same on
every machine where ``tools/install-deps.sh`` has run, whatever else happens to
be installed:

* libreoffice-help-vi: HTML help pages (tags stripped, entities unescaped);
* libreoffice-l10n-vi: gettext catalogues under program/resource/vi and the
  registry_vi.xcd UI strings; no other package's gettext catalogue is read
  (they share their text with the reserved manual pages);
* hunspell-vi: the syllable list vi_VN.dic, used for random word sequences.

An allowlisted file that is absent is skipped and listed under 'missing' in
corpus.json.  The sorted (path, size) list of every source present goes into
the cache key, so installing or removing a source, or a package upgrade that
changes a file, rebuilds the cache.

The packages maint-guide-vi and manpages-vi are reserved for an independent
evaluation and must never be read.  Looking files up with ``dpkg -S`` is too
slow here, so we exclude by path instead: anything whose path contains
'maint-guide', '/share/man/' or '/man/vi', and any catalogue named
'manpages*' (see ``_is_reserved``); this also applies to the fixed list above.
corpus.json lists every source file with its size ('sources'), so this can
be audited.

Held-out split
--------------
Prose lines go to 'val' when a SHA-1 of their folded form (lower case,
punctuation removed) falls in 3% of buckets, so a line and its trivial variants
always land in the same split. The syllable list is shared (all Vietnamese
syllables are needed in both splits).
"""
import hashlib
import html
import json
import os
import re
import struct
import time
import unicodedata
from glob import glob

from vocr_train.carry import is_frozen

VAL_PERMILLE = 30           # prose buckets (out of 1000) held out for validation
CACHE_VERSION = 3           # bump whenever extraction, cleaning or the source rules change
MAX_PIECE = 200             # stored prose lines are at most this long
MAX_PER_CATALOGUE = 4000    # cap so e.g. iso_639-3 language names don't dominate

LO_HELP = '/usr/share/libreoffice/help/vi'
# Everything under these globs belongs to libreoffice-l10n-vi.
MO_GLOBS = ('/usr/lib/libreoffice/program/resource/vi/LC_MESSAGES/*.mo',)
XCD_FILES = ('/usr/lib/libreoffice/share/.registry/res/registry_vi.xcd',)
# No other gettext catalogue is read: the Vietnamese catalogues of other
# packages (coreutils, man-db, ...) share their text with the manual pages
# reserved for the independent evaluation (manpages-vi).
HUNSPELL_DIC = '/usr/share/hunspell/vi_VN.dic'
RESERVED_PATTERNS = ('maint-guide', '/share/man/', '/man/vi', '/manpages')


def _is_reserved(path):
    p = os.path.realpath(path).lower()
    return any(pat in p for pat in RESERVED_PATTERNS) or os.path.basename(p).startswith('manpages')


# ---------------------------------------------------------------- cleaning
_TYPO = str.maketrans({
    '\u2018': "'", '\u2019': "'", '\u201a': "'", '\u201b': "'", '\u2032': "'", '\u00b4': "'",
    '\u201c': '"', '\u201d': '"', '\u201e': '"', '\u201f': '"', '\u2033': '"', '\u00ab': '"',
    '\u00bb': '"', '\u2039': "'", '\u203a': "'", '\u2010': '-', '\u2011': '-', '\u2012': '-',
    '\u2013': '-', '\u2014': '-', '\u2015': '-', '\u2212': '-', '\u2026': '...', '\u00a0': ' ',
    '\u2002': ' ', '\u2003': ' ', '\u2007': ' ', '\u2009': ' ', '\u202f': ' ', '\t': ' ',
    '\u200b': '', '\u200c': '', '\u200d': '', '\u2060': '', '\ufeff': '', '\u00ad': '',
    '\u2022': '-', '\u00b7': '-', '\u00d7': 'x', '\u2192': '->', '\u21d2': '=>', '\u2264': '<=',
    '\u2265': '>=', '\u00a9': '(c)', '\u00ae': '(R)', '\u2122': '(TM)', '\u00b0': ' độ'})
_PRODUCT = {'%PRODUCTNAME': 'LibreOffice', '%PRODUCTVERSION': '7.4', '%PRODUCTEXTENSION': '',
            '$(PRODUCTNAME)': 'LibreOffice', '%APPNAME': 'LibreOffice',
            'PRODUCTNAME': 'LibreOffice'}       # a few catalogues lost the '%'
_TAG = re.compile(r'<[^<>]*>')
_MNEMONIC_PAREN = re.compile(r'\(\s*[_~&][^\W_]\s*\)')           # "Mở (_O)"
_ACCEL = re.compile(r'[_~](?=[^\W\d_])')                          # "~Mở", "_Lưu"
_PLACEHOLDER = re.compile(
    r'%\([\w.]+\)[-+#0]*\d*(?:\.\d+)?[sdifrxXeEgGc]'             # python %(name)s
    r'|%\d*\$?[-+#0]*(?:\d+|\*)?(?:\.(?:\d+|\*))?'                 # printf: flags, width,
    r'(?:hh|ll|[hlLqjzt]|I64)?[diouxXeEfFgGaAcspnmS]'               # length, conversion
    r'|%[A-Z][A-Z_0-9]+%?|%\d+|%L\d+|%%|%[A-Za-z](?![^\W\d_])'   # %TITLE, %1, Qt %L1, %B
    r'|~\d+'                                                       # LibreOffice ~1
    r'|\$\{[^{}]*\}|\$\([^()]*\)|\$[A-Z][A-Z_0-9]*\$?|\$\d+'      # ${x}, $(ARG), $ARG$, $1
    r'|\{[^{}]*\}|#\d+\b|\^\d')                                    # {0}, { $n }, #1, ^1
_SPACE_BEFORE_PUNCT = re.compile(r'\s+([,.;:!?)\]])')
_EMPTY_PAIR = re.compile(r"''|\"\"|\(\s*\)|\[\s*\]|\"\s+\"|'\s+'")
_ARTIFACT = re.compile(r"[(\[/] *[)\]/.,:;?!]|[,:;] *[),.?;:!]|[\s(][,.;:!?]|^[,.;:!?/)]|\s/$|\($")
_RULER = re.compile(r'([-=_*~#.])\1{3,}')
_GUILLEMETS = re.compile(r'«\s*|\s*»')
_FOLD = re.compile(r'[\W_]+')
_SENT_END = re.compile(r'(?<=[.!?;:])\s+')


def _clean(text):
    """Normalise one raw string (already split at newlines) to a plain line."""
    s = unicodedata.normalize('NFC', html.unescape(text))
    s = _GUILLEMETS.sub('"', s).translate(_TYPO)   # French-style « spaced » quotes -> "x"
    s = _TAG.sub('', s)       # block tags were already turned into line breaks
    for k, v in _PRODUCT.items():
        s = s.replace(k, v)
    s = _ACCEL.sub('', _MNEMONIC_PAREN.sub('', s))
    s, holes = _PLACEHOLDER.subn('', s)
    s = _EMPTY_PAIR.sub('', ' '.join(s.split()))
    s = _SPACE_BEFORE_PUNCT.sub(r'\1', ' '.join(s.split())).lstrip(' -:,;').rstrip(' -,;')
    if (holes and _ARTIFACT.search(s)) or _RULER.search(s):
        return ''           # dangling punctuation after a removed placeholder, or ----- rulers
    return s


def _is_vietnamese(line, vi_letters):
    """Much of the help is untranslated English: demand that a good share of the
    words carry Vietnamese diacritics (untoned Vietnamese syllables exist, so not all)."""
    words = line.split()
    marked = sum(1 for w in words if any(c in vi_letters for c in w))
    return marked >= 1 and marked * 10 >= 3 * len(words)


def _pieces(line):
    """Split a paragraph at sentence ends, then into equal-ish word-aligned parts of
    at most MAX_PIECE chars (samples take shorter windows from them anyway)."""
    out = []
    for sent in _SENT_END.split(line):
        while len(sent) > MAX_PIECE:
            parts = -(-len(sent) // MAX_PIECE)
            cut = sent.rfind(' ', 0, len(sent) // parts + 1)
            if cut <= 0:        # one giant token (URL, code): unusable
                sent = ''
                break
            out.append(sent[:cut])
            sent = sent[cut + 1:]
        if sent:
            out.append(sent)
    return out


def _fold(line):
    return _FOLD.sub(' ', line.lower()).strip()


def _is_val(line):
    h = hashlib.sha1(_fold(line).encode('utf-8')).digest()
    return int.from_bytes(h[:4], 'big') % 1000 < VAL_PERMILLE


# ---------------------------------------------------------------- extraction
def _help_paragraphs(path):
    text = open(path, encoding='utf-8', errors='replace').read()
    start = text.find('id="DisplayArea"')   # skip the navigation chrome
    text = text[start:] if start >= 0 else text
    text = re.sub(r'<(script|style|noscript)\b.*?</\1>', ' ', text.replace('\n', ' '),
                  flags=re.S | re.I)
    # block-level tags end a paragraph; inline tags just vanish in _clean.  Hidden
    # spans are per-application variants of one phrase: break there too, so the
    # variants don't run together into one garbled sentence.
    text = re.sub(r'</?(?:p|h\d|div|li|td|th|tr|br|table|ul|ol|pre|dt|dd)\b[^>]*>'
                  r'|<span hidden[^>]*>', '\n', text, flags=re.I)
    return text.split('\n')


def _mo_strings(path):
    """msgstr strings of a GNU .mo file (plural forms split at NUL), header skipped."""
    data = open(path, 'rb').read()
    magic = struct.unpack('<I', data[:4])[0]
    endian = {0x950412de: '<', 0xde120495: '>'}.get(magic)
    if endian is None:
        return []
    _rev, n, orig_off, trans_off = struct.unpack(endian + '4I', data[4:20])
    out = []
    for i in range(n):
        olen, _ = struct.unpack_from(endian + '2I', data, orig_off + 8 * i)
        tlen, toff = struct.unpack_from(endian + '2I', data, trans_off + 8 * i)
        if olen == 0:       # msgid "" is the metadata header
            continue
        out.extend(data[toff:toff + tlen].decode('utf-8', errors='replace').split('\0'))
    return out


def _xcd_strings(path):
    text = open(path, encoding='utf-8', errors='replace').read()
    return re.findall(r'<value xml:lang="vi">([^<]*)</value>', text)


def _sources():
    """(kinds, missing): (kind, path) of every prose source present, in a fixed
    order, and the fixed-name sources that are absent (skipped, but recorded)."""
    found, missing = [], []
    if os.path.isdir(LO_HELP):
        help_files = glob(os.path.join(LO_HELP, '**', '*.html'), recursive=True)
        found += [('help', p) for p in sorted(help_files)]
    else:
        missing.append(LO_HELP)
    for g in MO_GLOBS:
        hits = sorted(glob(g))
        found += [('mo', p) for p in hits]
        if not hits:
            missing.append(g)
    for p in XCD_FILES:
        (found.append(('xcd', p)) if os.path.isfile(p) else missing.append(p))
    found = [(k, p) for k, p in found if not _is_reserved(p)]
    return found, missing


def _source_key(found):
    """Sorted [path, size] of every source present (prose files and the word list)."""
    paths = sorted({p for _, p in found} | ({HUNSPELL_DIC} if _hunspell_ok() else set()))
    key = []
    for p in paths:
        try:
            key.append([p, os.path.getsize(p)])
        except OSError:
            key.append([p, -1])
    return key


def _hunspell_ok():
    return os.path.isfile(HUNSPELL_DIC) and not _is_reserved(HUNSPELL_DIC)


def _cache_ok(cache_dir, charset, sources_sha1):
    try:
        with open(os.path.join(cache_dir, 'corpus.json'), encoding='utf-8') as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return None
    ok = (meta.get('version') == CACHE_VERSION and meta.get('charset_sha1') == _sha1(charset)
          and meta.get('sources_sha1') == sources_sha1)
    return meta if ok else None


def _sha1(s):
    return hashlib.sha1(s.encode('utf-8')).hexdigest()


def build_corpus(cache_dir, charset):
    """Extract prose and words into cache_dir once; later calls just read the counts.

    The cache is rebuilt when CACHE_VERSION, the charset or the sorted
    (path, size) list of sources changes."""
    if is_frozen(cache_dir):  # carried to a machine without the sources
        with open(os.path.join(cache_dir, 'corpus.json'), encoding='utf-8') as f:
            return json.load(f)['counts']
    found, missing = _sources()
    source_key = _source_key(found)
    sources_sha1 = _sha1(json.dumps(source_key, ensure_ascii=False))
    meta = _cache_ok(cache_dir, charset, sources_sha1)
    if meta:
        return meta['counts']
    t0 = time.time()
    chars = set(charset)
    vi_letters = {c for c in chars if c.isalpha() and not c.isascii()}
    readers = {'help': _help_paragraphs, 'mo': _mo_strings, 'xcd': _xcd_strings}
    splits = {'train': {}, 'val': {}}     # dicts keep first-seen order and dedupe
    unreadable = []
    for kind, path in found:
        try:
            raw = readers[kind](path)
        except (OSError, ValueError, struct.error):
            unreadable.append(path)
            continue
        kept = []
        for item in raw:
            for ln in item.split('\n'):
                ln = _clean(ln)
                if len(ln) >= 2 and set(ln) <= chars and _is_vietnamese(ln, vi_letters):
                    kept.extend(_pieces(ln))
        if kind != 'help' and len(kept) > MAX_PER_CATALOGUE:
            # deterministic subsample: keep the lines with the smallest hashes
            kept = sorted(kept, key=_sha1)[:MAX_PER_CATALOGUE]
        for ln in kept:
            splits['val' if _is_val(ln) else 'train'].setdefault(ln, None)
    words = {}
    if _hunspell_ok():
        with open(HUNSPELL_DIC, encoding='utf-8', errors='replace') as f:
            for i, ln in enumerate(f):
                w = unicodedata.normalize('NFC', ln.split('/')[0].strip())
                if i == 0 and w.isdigit():      # first line is the entry count
                    continue
                if w and ' ' not in w and set(w) <= chars:
                    words.setdefault(w, None)
    else:
        missing.append(HUNSPELL_DIC)
    os.makedirs(cache_dir, exist_ok=True)
    files = {'prose-train.txt': splits['train'], 'prose-val.txt': splits['val'],
             'words.txt': words}
    for name, lines in files.items():    # write-then-rename so parallel builders never see halves
        tmp = os.path.join(cache_dir, f'.{name}.{os.getpid()}')
        with open(tmp, 'w', encoding='utf-8') as f:
            f.write(''.join(ln + '\n' for ln in lines))
        os.replace(tmp, os.path.join(cache_dir, name))
    counts = {'prose-train': len(splits['train']), 'prose-val': len(splits['val']),
              'words': len(words)}
    meta = {'version': CACHE_VERSION, 'charset_sha1': _sha1(charset), 'counts': counts,
            'build_seconds': round(time.time() - t0, 1),
            'excluded_patterns': list(RESERVED_PATTERNS),
            'sources_sha1': sources_sha1,
            'sources': source_key,          # [path, size] of every file read, sorted
            'missing': missing,             # fixed-name sources absent on this machine
            'unreadable': unreadable}
    tmp = os.path.join(cache_dir, f'.corpus.json.{os.getpid()}')
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump(meta, f, ensure_ascii=False, indent=1)
    os.replace(tmp, os.path.join(cache_dir, 'corpus.json'))
    return counts
