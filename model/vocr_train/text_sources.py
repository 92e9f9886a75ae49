"""Text lines for synthetic Vietnamese OCR images.

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

Generated strings (names, addresses, dates, ID/phone numbers, money, codes and
"label: value" form fields) are produced on the fly from small lists below.

Held-out split
--------------
Prose lines go to 'val' when a SHA-1 of their folded form (lower case,
punctuation removed) falls in 3% of buckets, so a line and its trivial variants
always land in the same split.  Generated strings draw given names, streets,
wards and districts from disjoint lists: every 5th entry is reserved for 'val',
so validation names and streets never appear in training.  Family names, middle
names and provinces are closed classes and are shared.  The syllable list is
shared too (all Vietnamese syllables are needed in both splits).
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

KINDS = ('prose', 'words', 'name', 'address', 'date', 'id', 'phone', 'money', 'code', 'field')
DEFAULT_WEIGHTS = {'prose': 42, 'words': 10, 'name': 8, 'address': 8, 'date': 6, 'id': 5,
                   'phone': 5, 'money': 5, 'code': 4, 'field': 7}
CAPS_RATE, TITLE_RATE = 0.12, 0.05
# Names and addresses are printed in capitals on ID cards and forms far more often.
CAPS_RATE_BY_KIND = {'name': 0.35, 'address': 0.3}
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


# ---------------------------------------------------------------- generated strings
FAMILY = ('Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Đinh Trương '
          'Lâm Mai Trịnh Đoàn Lương Tô Hà Cao Chu Tạ Quách Kiều Thái La Vương Triệu Châu Lưu '
          'Nghiêm Mạc Khúc Âu Diệp Giang Hứa Lục Phùng Tăng Thân Từ Ông Văn Lã Doãn').split()
MIDDLE = ('Văn Hữu Đức Công Quang Minh Thành Xuân Đình Quốc Gia Trọng Bá Duy Tiến Mạnh Thế Thị '
          'Ngọc Thu Thanh Kim Phương Hồng Mỹ Bích Diệu Khánh Bảo Hoài Thùy Như Cẩm Tuệ').split()
GIVEN = ('An Anh Bảo Bình Cường Chi Châu Công Dũng Duy Dung Đạt Điệp Đông Giang Hà Hải Hạnh '
         'Hiền Hiếu Hòa Hoa Hùng Hưng Hương Huy Huyền Khang Khánh Khoa Khôi Kiên Lan Linh Loan '
         'Long Lộc Luân Ly Mai Minh My Nam Nga Ngân Nghĩa Ngọc Nhung Nhi Oanh Phát Phong Phúc '
         'Phương Quân Quang Quý Quyên Quỳnh Sơn Sang Tài Tâm Tân Thắng Thảo Thành Thủy Thư Tiến '
         'Trang Trí Trinh Trung Tú Tuấn Tùng Tuyết Uyên Vân Việt Vinh Vy Xuân Yến Ánh Ấn Bích '
         'Cúc Diễm Duyên Đào Gấm Hằng Hậu Hiệp Hoàn Hồng Khải Lâm Lệ Lực Mẫn Mỹ Nhân Nhàn Ninh '
         'Phượng Quế Sáng Sương Thái Thạch Thiện Thịnh Thoa Thông Toàn Trâm Tuệ Tường Vũ Vượng '
         'Ý').split()
STREETS = ('Lê Lợi|Nguyễn Huệ|Trần Hưng Đạo|Hai Bà Trưng|Lý Thường Kiệt|Điện Biên Phủ|Cách Mạng '
           'Tháng Tám|Nguyễn Trãi|Phan Chu Trinh|Phan Bội Châu|Võ Thị Sáu|Nguyễn Thị Minh '
           'Khai|Lê Duẩn|Tôn Đức Thắng|Hoàng Diệu|Quang Trung|Lê Thánh Tông|Nguyễn Du|Bà '
           'Triệu|Hàng Bài|Hàng Bạc|Hàng Gai|Kim Mã|Giảng Võ|Láng Hạ|Xuân Thủy|Cầu Giấy|Nguyễn '
           'Văn Cừ|Pasteur|Trường Chinh|Lạc Long Quân|Âu Cơ|Hùng Vương|An Dương Vương|Ngô '
           'Quyền|Đinh Tiên Hoàng|Lý Thái Tổ|Trần Phú|Nguyễn Chí Thanh|Võ Văn Kiệt|Phạm Văn '
           'Đồng|Huỳnh Thúc Kháng|Nam Kỳ Khởi Nghĩa|Ba Tháng Hai|Lê Văn Sỹ|Nguyễn Đình '
           'Chiểu|Bạch Đằng|Chu Văn An|Yersin|Hoàng Văn Thụ|Tô Hiến Thành|Kha Vạn Cân|Lê Hồng '
           'Phong|Nguyễn Văn Linh|Thái Hà|Tây Sơn|Giải Phóng|Minh Khai|Nguyễn Lương Bằng|Trần '
           'Quốc Toản|Lý Tự Trọng|Mạc Đĩnh Chi|Hàng Đào|Đội Cấn|Hoàng Quốc Việt|Phạm Ngũ '
           'Lão|Bùi Thị Xuân|Nguyễn Văn Trỗi|Cộng Hòa|Lũy Bán Bích|Trần Duy Hưng|Nguyễn Tri '
           'Phương|Ông Ích Khiêm|Núi Thành|Mậu Thân|Ba Cu').split('|')
WARDS = ('Bến Nghé|Bến Thành|Đa Kao|Tân Định|Cầu Ông Lãnh|Nguyễn Cư Trinh|Cô Giang|Hàng '
         'Trống|Cửa Nam|Tràng Tiền|Dịch Vọng|Yên Hòa|Quan Hoa|Nghĩa Đô|Láng Thượng|Kim Liên|Văn '
         'Miếu|Trung Hòa|Thạch Bàn|Bồ Đề|Phúc Xá|Trúc Bạch|Thạch Thang|Phước Ninh|An Hải '
         'Bắc|Xuân Khánh|An Hòa|Vĩnh Ninh|Phú Hội|Lộc Thọ|Tân Lập|Hòa Khánh|Mỹ An|Thảo Điền|An '
         'Phú|Linh Trung|Tân Thông Hội|Phước Kiển|Bát Tràng|Kim Lan|Đông Dư|Tiên Dương|Vân '
         'Canh|Hòa Phong|Yên Viên').split('|')
DISTRICTS = ('Ba Đình|Hoàn Kiếm|Đống Đa|Hai Bà Trưng|Cầu Giấy|Tây Hồ|Thanh Xuân|Hoàng Mai|Long '
             'Biên|Hà Đông|Nam Từ Liêm|Bắc Từ Liêm|Bình Thạnh|Gò Vấp|Phú Nhuận|Tân Bình|Tân '
             'Phú|Bình Tân|Hải Châu|Thanh Khê|Sơn Trà|Ngũ Hành Sơn|Ninh Kiều|Cái Răng|Lê '
             'Chân|Hồng Bàng|Gia Lâm|Đông Anh|Sóc Sơn|Thanh Trì|Củ Chi|Hóc Môn|Bình Chánh|Nhà '
             'Bè|Cần Giờ|Hòa Vang|Thủy Nguyên|Yên Dũng|Lục Ngạn|Mộc Châu|Đức Trọng|Krông Pắc|Ea '
             'Kar|Quỳnh Lưu|Hậu Lộc|Tiên Du').split('|')
PROVINCES = ('An Giang|Bà Rịa - Vũng Tàu|Bạc Liêu|Bắc Giang|Bắc Kạn|Bắc Ninh|Bến Tre|Bình '
             'Dương|Bình Định|Bình Phước|Bình Thuận|Cà Mau|Cao Bằng|Đắk Lắk|Đắk Nông|Điện '
             'Biên|Đồng Nai|Đồng Tháp|Gia Lai|Hà Giang|Hà Nam|Hà Tĩnh|Hải Dương|Hậu Giang|Hòa '
             'Bình|Hưng Yên|Khánh Hòa|Kiên Giang|Kon Tum|Lai Châu|Lạng Sơn|Lào Cai|Lâm '
             'Đồng|Long An|Nam Định|Nghệ An|Ninh Bình|Ninh Thuận|Phú Thọ|Phú Yên|Quảng '
             'Bình|Quảng Nam|Quảng Ngãi|Quảng Ninh|Quảng Trị|Sóc Trăng|Sơn La|Tây Ninh|Thái '
             'Bình|Thái Nguyên|Thanh Hóa|Thừa Thiên Huế|Tiền Giang|Trà Vinh|Tuyên Quang|Vĩnh '
             'Long|Vĩnh Phúc|Yên Bái').split('|')
CITIES = ['Hà Nội', 'Hồ Chí Minh', 'Hải Phòng', 'Đà Nẵng', 'Cần Thơ']
_DIGITS = 'không một hai ba bốn năm sáu bảy tám chín'.split()
_MOBILE = ('032 033 034 035 036 037 038 039 056 058 059 070 076 077 078 079 081 082 083 084 085 '
           '086 088 089 090 091 093 094 096 097 098 099').split()
_DOMAINS = ('gmail.com', 'yahoo.com', 'yahoo.com.vn', 'outlook.com', 'hotmail.com', 'fpt.vn',
            'vnpt.vn', 'viettel.com.vn', 'edu.vn', 'gov.vn')


def _holdout(items, split):
    """Every 5th entry is reserved for validation."""
    return [x for i, x in enumerate(items) if (i % 5 == 4) == (split == 'val')]


def _ascii(s):
    s = unicodedata.normalize('NFD', s.replace('đ', 'd').replace('Đ', 'D'))
    return ''.join(c for c in s if c.isascii())


def _num(n):
    return f'{n:,}'.replace(',', '.')       # Vietnamese thousands separator


def _digits(rng, n):
    return ''.join(str(rng.randrange(10)) for _ in range(n))


def _read3(n, inner):
    """Vietnamese reading of 0..999 ('inner' = not the leading group: say 'không trăm')."""
    h, t, u = n // 100, n // 10 % 10, n % 10
    out = [_DIGITS[h], 'trăm'] if (h or inner) else []
    if t == 0 and u and out:
        out.append('linh')
    elif t == 1:
        out.append('mười')
    elif t > 1:
        out += [_DIGITS[t], 'mươi']
    if u:
        out.append('mốt' if (u == 1 and t > 1) else 'lăm' if (u == 5 and t) else _DIGITS[u])
    return out


def _read_number(n):
    groups = []
    while n:
        groups.append(n % 1000)
        n //= 1000
    words = []
    for i in range(len(groups) - 1, -1, -1):
        if groups[i]:
            words += _read3(groups[i], i < len(groups) - 1) + [('', 'nghìn', 'triệu', 'tỷ')[i]]
    return ' '.join(w for w in words if w) or 'không'


def _gen_name(rng, P):
    mids = rng.choices(MIDDLE, k=rng.choice((0, 1, 1, 1, 2)))
    name = ' '.join([rng.choice(FAMILY)] + mids + [rng.choice(P['given'])])
    if rng.random() < 0.15:
        title = rng.choice(('Ông', 'Bà', 'Anh', 'Chị', 'Cô', 'Thầy', 'Bác sĩ', 'ThS.', 'TS.'))
        name = f'{title} {name}'
    return name


def _gen_address(rng, P):
    num = str(rng.randint(1, 999)) + rng.choice(('', '', '', f'/{rng.randint(1, 60)}', 'A', 'B'))
    street = rng.choice(P['street'])
    head = rng.choice((f'Số {num} đường {street}', f'{num} {street}', f'Số {num} phố {street}',
                       f'{num} đường {street}',
                       f'Số {num}, ngõ {rng.randint(1, 300)}, phố {street}',
                       f'Thôn {rng.randint(1, 12)}',
                       f'Tổ {rng.randint(1, 40)}, khu phố {rng.randint(1, 9)}'))
    short = rng.random() < 0.4          # abbreviated "P. 4, Q. 3" style
    if rng.random() < 0.7:
        ward = (('P. ' if short else rng.choice(('Phường ', 'Xã ', 'Thị trấn ')))
                + rng.choice(P['ward']))
    else:                               # numbered wards/districts exist only as Phường/Quận
        ward = ('P. ' if short else 'Phường ') + str(rng.randint(1, 20))
    if rng.random() < 0.7:
        district = (('Q. ' if short else rng.choice(('Quận ', 'Huyện ', 'Thị xã ')))
                    + rng.choice(P['district']))
    else:
        district = ('Q. ' if short else 'Quận ') + str(rng.randint(1, 12))
    if rng.random() < 0.5:
        prov = 'Tỉnh ' + rng.choice(PROVINCES)
    else:
        prov = rng.choice(('Thành phố ', 'TP. ', 'TP ')) + rng.choice(CITIES)
    parts = [head, ward, district, prov]
    start = rng.choice((0, 0, 0, 1, 2))       # partial addresses are common on forms
    return ', '.join(parts[start:rng.randint(max(start + 1, 2), 4)])


def _dmy(rng, sep='/'):
    return f'{rng.randint(1, 28):02d}{sep}{rng.randint(1, 12):02d}{sep}{rng.randint(1940, 2035)}'


def _gen_date(rng, P):
    y, m = rng.randint(1930, 2035), rng.randint(1, 12)
    days = (31, 29 if y % 4 == 0 else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[m - 1]
    d = rng.randint(1, days)
    place = rng.choice(CITIES + ['Huế', 'Nha Trang'])
    weekday = rng.choice(('Thứ Hai', 'Thứ Ba', 'Thứ Tư', 'Thứ Năm', 'Thứ Sáu', 'Thứ Bảy',
                          'Chủ nhật'))
    sep = rng.choice('/-.')
    return rng.choice((
        f'ngày {d} tháng {m} năm {y}', f'Ngày {d:02d} tháng {m:02d} năm {y}',
        f'{y}-{m:02d}-{d:02d}',
        f'{place}, ngày {d} tháng {m} năm {y}', f'tháng {m}/{y}', f'{m:02d}/{y}',
        f'{weekday}, {d:02d}/{m:02d}/{y}', f'{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d} '
        f'{d:02d}/{m:02d}/{y}', f'{d:02d}{sep}{m:02d}{sep}{y}', f'{d:02d}{sep}{m:02d}{sep}{y}',
        f'{d}{sep}{m}{sep}{y}'))


def _gen_id(rng, P):
    k = rng.randrange(6)
    if k <= 1:      # CCCD: province code, century/sex digit, birth year, serial
        s = f'{rng.randint(1, 96):03d}{rng.randint(0, 3)}{_digits(rng, 8)}'
        return s if rng.random() < 0.8 else f'{s[:4]} {s[4:8]} {s[8:]}'
    if k == 2:      # old CMND
        return _digits(rng, 9)
    if k == 3:      # tax code, optionally with branch suffix
        s = f'0{_digits(rng, 9)}'
        return s if rng.random() < 0.7 else f'{s}-{rng.randint(1, 999):03d}'
    if k == 4:      # passport
        return rng.choice('BCN') + _digits(rng, 7)
    return _digits(rng, rng.randint(8, 14))         # bank account, social insurance


def _gen_phone(rng, P):
    k = rng.randrange(9)
    if k == 7:      # landline with area code
        code = rng.choice(('024', '028', '0236', '0225', '0292', '0251', '0234', '0258'))
        fmt = rng.choice(('({}) {} {}', '{} {} {}', '{}.{}.{}'))
        return fmt.format(code, _digits(rng, 4), _digits(rng, 4))
    if k == 8:      # hotline
        number = rng.choice((_digits(rng, 4), '54 54 54', _digits(rng, 6)))
        return rng.choice(('1900 ', '1800 ')) + number
    nat = rng.choice(_MOBILE)[1:] + _digits(rng, 7)       # 9 digits after the trunk 0
    if k <= 2:
        sep = ' .-'[k]
        return f'0{nat[:3]}{sep}{nat[3:6]}{sep}{nat[6:]}'
    if k == 3:
        return '0' + nat
    if k == 4:
        return '+84' + nat
    return rng.choice(('+84 ', '(+84) ', '84 ')) + f'{nat[:3]} {nat[3:6]} {nat[6:]}'


def _gen_money(rng, P):
    n = rng.randint(1, 9999) * 10 ** rng.choice((2, 3, 3, 3, 4, 5))
    k = rng.randrange(9)
    if k <= 3:
        return _num(n) + (' đ', 'đ', ' VNĐ', ' VND')[k]
    if k == 4:
        return f'{_num(n)} đồng'
    if k == 5:
        x = f'{rng.randint(1, 999) / rng.choice((1, 10)):g}'.replace('.', ',')
        return x + rng.choice((' triệu đồng', ' tỷ đồng', ' triệu', ' nghìn đồng'))
    if k == 6:
        return f'{_num(n)},00' + rng.choice(('', ' VND'))
    if k == 7:
        words = _read_number(n)
        return 'Bằng chữ: ' + words[0].upper() + words[1:] + ' đồng'
    usd = f'{rng.randint(1, 99999):,}.{rng.randint(0, 99):02d}'
    return rng.choice(('$' + usd, usd + ' USD', 'USD ' + usd))


_PLATE_LETTERS = 'ABCDEFGHKLMNPSTUVXYZ'


def _gen_code(rng, P, k=None):
    k = rng.randrange(9) if k is None else k
    if k <= 1:      # car plate 29A-123.45, motorbike plate 59X1-234.56
        series = rng.choice(_PLATE_LETTERS) + ('' if k == 0 else str(rng.randint(1, 9)))
        return f'{rng.randint(11, 99)}{series}-{_digits(rng, 3)}.{_digits(rng, 2)}'
    if k == 2:      # invoice / receipt / order numbers
        return (rng.choice(('HĐ', 'HD', 'PX', 'PN', 'DH')) + rng.choice(('', '-'))
                + _digits(rng, rng.randint(5, 8)))
    if k == 3:      # e-invoice symbol, e.g. 1C23TAA
        letters = ''.join(rng.choices(_PLATE_LETTERS, k=2))
        return f'{rng.randint(1, 2)}C{rng.randint(20, 26)}T{letters}'
    if k == 4:      # invoice form number
        return f'0{rng.randint(1, 9)}GTKT{rng.randint(0, 3)}/{rng.randint(1, 999):03d}'
    if k == 5:      # document number, e.g. 1234/2021/QĐ-UBND
        kind = rng.choice(('QĐ-UBND', 'HĐLĐ', 'NĐ-CP', 'TT-BTC', 'QĐ'))
        return f'{_digits(rng, rng.randint(2, 5))}/{rng.randint(2000, 2030)}/{kind}'
    if k <= 7:
        return _gen_email(rng, P)
    site = (_ascii(rng.choice(FAMILY) + rng.choice(P['given'])).lower()
            + rng.choice(('', 'shop', 'group', 'store')))
    return (rng.choice(('https://', 'http://', 'www.', 'https://www.')) + site
            + rng.choice(('.vn', '.com', '.com.vn'))
            + rng.choice(('', '/', '/lien-he', f'/san-pham/{rng.randint(1, 9999)}')))


def _gen_email(rng, P):
    """ASCII e-mail built from a (split-specific) name, e.g. an.nguyen92@gmail.com."""
    fam, given = _ascii(rng.choice(FAMILY)).lower(), _ascii(rng.choice(P['given'])).lower()
    user = rng.choice((f'{fam}.{given}', f'{given}.{fam}', f'{fam}{given}',
                       f'{given}{fam}{_digits(rng, 2)}', f'{given}{rng.randint(1970, 2010)}'))
    return f'{user}@{rng.choice(_DOMAINS)}'


# "label: value" lines as printed on ID cards, invoices and forms
_FIELDS = (
    (('Họ và tên: ', 'Họ tên: '), lambda rng, P: _gen_name(rng, P).upper()),
    (('Người nhận: ', 'Người mua hàng: ', 'Giám đốc: ', 'Kính gửi: '), _gen_name),
    (('Ngày sinh: ', 'Ngày cấp: ', 'Có giá trị đến: ', 'Ngày: '), lambda rng, P: _dmy(rng)),
    (('Số: ', 'Số CCCD: ', 'Số CMND: ', 'Mã số thuế: ', 'Số tài khoản: '), _gen_id),
    (('Quê quán: ', 'Nơi thường trú: ', 'Địa chỉ: ', 'Nơi cư trú: '), _gen_address),
    (('Điện thoại: ', 'ĐT: ', 'SĐT: ', 'Hotline: ', 'Tel: ', 'Di động: '), _gen_phone),
    (('Tổng cộng: ', 'Thành tiền: ', 'Số tiền: ', 'Thuế GTGT (10%): ', 'Cộng tiền hàng: '),
     _gen_money),
    (('Biển số: ', 'Biển kiểm soát: '), lambda rng, P: _gen_code(rng, P, rng.randint(0, 1))),
    (('Số hóa đơn: ', 'Mã đơn hàng: '), lambda rng, P: _gen_code(rng, P, 2)),
    (('Ký hiệu: ',), lambda rng, P: _gen_code(rng, P, 3)),
    (('Mẫu số: ',), lambda rng, P: _gen_code(rng, P, 4)),
    (('Email: ', 'E-mail: '), _gen_email),
    (('Nơi sinh: ', 'Quê quán: '), lambda rng, P: rng.choice(PROVINCES + CITIES)),
    (('Số lượng: ', 'SL: ', 'STT: '), lambda rng, P: str(rng.randint(1, 500))),
    (('Mã sinh viên: ',), lambda rng, P: f'{rng.randint(2015, 2025)}{_digits(rng, 4)}'),
    (('Giới tính: ',), lambda rng, P: rng.choice(('Nam', 'Nữ'))),
    (('Dân tộc: ',), lambda rng, P: rng.choice(('Kinh', 'Tày', 'Thái', 'Mường', 'Khmer', 'Hoa'))),
    (('',), lambda rng, P: rng.choice((
        'Quốc tịch: Việt Nam', 'Nơi cấp: Cục Cảnh sát QLHC về TTXH', 'CĂN CƯỚC CÔNG DÂN',
        'CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM', 'Độc lập - Tự do - Hạnh phúc', 'PHIẾU THU',
        'HÓA ĐƠN GIÁ TRỊ GIA TĂNG', 'Liên 2: Giao cho người mua', 'Đơn vị tính: đồng'))),
)


def _gen_field(rng, P):
    labels, value = rng.choice(_FIELDS)
    return rng.choice(labels) + value(rng, P)


_GENERATORS = {'name': _gen_name, 'address': _gen_address, 'date': _gen_date, 'id': _gen_id,
               'phone': _gen_phone, 'money': _gen_money, 'code': _gen_code, 'field': _gen_field}


def _fit(text, hi):
    """Collapse spaces and cut to <= hi chars, preferably after a comma (whole address
    parts), else at a word boundary ('' if impossible)."""
    text = ' '.join(text.split())
    if len(text) > hi:
        cut = text.rfind(', ', 0, hi + 1)
        if cut < hi // 2:
            cut = text.rfind(' ', 0, hi + 1)
        text = text[:cut].rstrip(' ,;:') if cut > 0 else ''
    return text


def _read_lines(path):
    with open(path, encoding='utf-8') as f:
        return [ln for ln in f.read().split('\n') if ln]


class TextSampler:
    """Draws (text, kind) pairs for one split; see the module docstring."""

    def __init__(self, split, charset, cache_dir, min_chars=1, max_chars=48, weights=None, caps_rate=None,
                 caps_by_kind=None):
        if split not in ('train', 'val'):
            raise ValueError(f'split must be train or val, not {split!r}')
        if not 1 <= min_chars <= max_chars:
            raise ValueError('need 1 <= min_chars <= max_chars')
        build_corpus(cache_dir, charset)
        self.split, self.min_chars, self.max_chars = split, min_chars, max_chars
        # caps_rate for every kind, else caps_by_kind (default CAPS_RATE_BY_KIND), else CAPS_RATE.
        self.caps_rate = caps_rate
        self.caps_by_kind = CAPS_RATE_BY_KIND if caps_by_kind is None else caps_by_kind
        self._chars = frozenset(charset)
        self._prose = _read_lines(os.path.join(cache_dir, f'prose-{split}.txt'))
        self._words = _read_lines(os.path.join(cache_dir, 'words.txt'))
        self._pool = {'given': _holdout(GIVEN, split), 'street': _holdout(STREETS, split),
                      'ward': _holdout(WARDS, split), 'district': _holdout(DISTRICTS, split)}
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
            else:
                gen = _GENERATORS[kind]
                text = gen(rng, self._pool)
                for _ in range(3):      # a long min_chars: list several, as forms do
                    if len(text) >= self.min_chars:
                        break
                    text += rng.choice((', ', ' - ', '; ', ' ')) + gen(rng, self._pool)
            text = _fit(text, self.max_chars)
            if len(text) >= self.min_chars and self._chars.issuperset(text):
                return self._case(rng, text, kind), kind
        # only reachable with a large min_chars: a digit string always fits
        return _digits(rng, rng.randint(self.min_chars, self.max_chars)), 'id'
