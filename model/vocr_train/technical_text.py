"""Technical text lines: paths, commands, identifiers, URLs, versions, units, English.

The corpus is Vietnamese prose, so the model saw few of the symbols technical
text is made of and misread them: `_` as a space, `\\` as 1 or l, dropped `%`
and the unit after a number ("25.000 đ/kg", "3 lần/ngày"), and confused the
case of c/o/s/v/w/x/z, whose capitals differ from the small letters only in
size. `gen_technical` writes such lines, alone or inside a Vietnamese phrase.

Held-out split as in generated_text: English words (the built-in list plus an
installed English word list, if any), directory names and domains go through
`holdout` by P['split'] ('train' if absent). Programs, file extensions, units,
brand names and the Vietnamese frames are closed classes and are shared, like
provinces there: holding out "km/h" would only keep it from being trained.
"""
import functools

from vocr_train.generated_text import _ascii, _num, digits, holdout
from vocr_train.vocab import Vocab

VOCAB = frozenset(Vocab().chars)
WORD_FILES = ('/usr/share/dict/words', '/usr/share/dict/american-english',
              '/usr/share/dict/british-english', '/usr/share/hunspell/en_US.dic')
MAX_WORD = 34       # a space-free token longer than the line cut (max_chars) would lose the line
MAX_LINE = 64
WORDS = tuple(dict.fromkeys((
    'file data user system view open close save load read write run stop test build make clean check update '
    'upgrade install remove delete copy move paste find search filter select value index key name type size '
    'length width height color image video audio sound music photo text line word number count total sum max '
    'min mean error warning info debug trace log level mode model layer input output source target train '
    'valid batch epoch step rate loss token vocab char string list array vector matrix tensor node root path '
    'folder drive disk cache buffer queue stack memory server client request response header body query param '
    'option config setting default custom public class object function module package library import export '
    'include return switch case true false null int float web site link email account password login logout '
    'access admin service network socket port host proxy router virtual docker container volume shell script '
    'command terminal console window screen display desktop mobile phone tablet device driver kernel process '
    'task date world project report document shop store zone zip code box zoom sync swap syntax complex '
    'convex extra exact expert express context xml json yaml csv zero wave solve serve vertical horizontal '
    'version visual voice work wrap success focus scroll session status cursor canvas vision convert cancel '
    'confirm submit verify watch water wireless wizard soft space speed split sense secure shortcut sidebar '
    'skip storage stream style support table tag theme thumbnail title toggle tool transfer upload download '
    'username widget wifi workflow workspace archive backup branch commit merge pull push release deploy docs '
    'issue bug fix patch feature draft preview help contact privacy terms policy cookie profile settings '
    'notification message chat call edit undo redo cut crop rotate resize format font bold hello').split()))
DIRS = tuple(dict.fromkeys((
    'usr local src bin etc var log home opt tmp lib include share data build dist docs tests scripts '
    'config assets static public models checkpoints output logs backup images fonts cache runs release '
    'debug vendor third_party node_modules site-packages python3.11 x86_64 aarch64 www html media '
    'downloads uploads projects workspace repo tools utils core api v1 v2 internal examples samples '
    'datasets raw processed val train exports reports templates migrations').split()))
WIN_DIRS = ('Users|Program Files|Program Files (x86)|Windows|System32|AppData|LocalLow|Roaming|Temp|'
            'Documents|Desktop|My Documents|Pictures|Music|Videos|OneDrive|Source|Setup|Games|Saved Games|'
            'Microsoft|Office|Drivers|Zalo|Steam|Adobe|Python311|ProgramData').split('|')   # + DIRS capitalized
DOMAINS = ('example.com example.org github.com gitlab.com google.com youtube.com facebook.com zalo.me '
           'shopee.vn tiki.vn lazada.vn vnexpress.net tuoitre.vn thanhnien.vn dantri.com.vn '
           'chinhphu.vn moh.gov.vn hcmus.edu.vn hust.edu.vn pypi.org python.org pytorch.org '
           'stackoverflow.com wikipedia.org npmjs.com microsoft.com apple.com amazon.com '
           'cloudflare.com huggingface.co mozilla.org w3schools.com vietcombank.com.vn viettel.vn '
           'fpt.com.vn vng.com.vn momo.vn baochinhphu.vn gov.vn company.vn').split()
PROGRAMS = ('make git python3 python pip npm node docker ls cd cp mv rm mkdir grep find cat tar curl '
            'wget ssh scp cmake gcc g++ ffmpeg tesseract chmod kubectl conda cargo java bash echo '
            'systemctl ping ipconfig dir copy del sudo').split()
COMMANDS = ('make install|make -j8|git status|git pull origin main|pip install -r requirements.txt|'
            'npm run build|sudo apt update|docker compose up -d|cmake --build build -j 4|'
            'git log --oneline -n 10|ls -la|cd ..|rm -rf build/|tar -xzvf|chmod +x|ssh root@localhost|'
            'python3 -m venv .venv|source .venv/bin/activate|git checkout -b|ipconfig /all').split('|')
EXTS = ('py txt json cpp h hpp c sh log csv png jpg pdf docx xlsx tar.gz zip md yaml yml conf ini '
        'html css js ts onnx pt bin exe dll so xml sql bak tmp').split()
BRANDS = ('iPhone macOS iOS GitHub PowerShell JavaScript TypeScript VS Code XML OpenCV PyTorch NumPy '
          'SQLite WordPress LinkedIn TikTok YouTube Zalo VNPay MoMo Wi-Fi USB-C OCR CSV SVG WiFi '
          'ChatGPT LaTeX PostgreSQL MySQL Windows Linux Ubuntu Excel PowerPoint OneDrive Xbox').split()
KEYS = ('Ctrl+C Ctrl+V Ctrl+Z Ctrl+S Ctrl+Shift+P Alt+F4 Alt+Tab Enter Esc Tab Shift+Del F5 '
        'Ctrl+Alt+Del Win+R Cmd+Space Space').split()
RATE_UNITS = ('đ/kg đ/tháng VNĐ/tháng đ/người đ/giờ đ/đêm đ/m2 triệu/m2 km/h m/s lần/ngày viên/lần '
              'mg/ml mg/kg g/l ml/giờ vòng/phút kWh/tháng người/km2 USD/thùng USD/tấn đ/lít đ/chiếc '
              'đ/hộp tấn/ha kg/m3 GB/s MB/s lít/100km ca/ngày giờ/tuần lượt/ngày đ/cái %/năm '
              '%/tháng').split()
UNITS = ('kg g mg km m cm mm ml l lít ha m2 GB MB KB TB MHz GHz kW W V mAh px pt dpi ms s giờ phút '
         'ngày tháng năm tuổi người đ VNĐ USD cái hộp viên tấn').split()
PAIRS = ('()', '()', '[]', '{}', '<>', '""', "''", '``')
SEPS = (' ', ' ', ' ', ', ', '; ', ' | ', ' - ', ': ')      # all dropped by the sampler's cut


@functools.lru_cache(maxsize=1)
def _installed_words():
    """Lower-case English words of the first word list installed; () if none (optional)."""
    for path in WORD_FILES:
        try:
            with open(path, encoding='utf-8', errors='ignore') as f:
                words = [ln.split('/')[0].strip() for ln in f]     # hunspell: word/FLAGS
        except OSError:
            continue
        return tuple(w for w in words if 2 <= len(w) <= 12 and w.isascii() and w.isalpha() and w.islower())
    return ()


@functools.lru_cache(maxsize=2)
def lists(split):
    """The held-out lists of one split (computed once: the word list can be large)."""
    words = tuple(dict.fromkeys(WORDS + _installed_words()))
    return {'words': holdout(words, split), 'dirs': holdout(DIRS, split),
            'windirs': holdout(WIN_DIRS, split) + [d.capitalize() for d in holdout(DIRS, split)],
            'domains': holdout(DOMAINS, split)}


def _user(rng, P):
    return _ascii(rng.choice(P['given'])).lower() + rng.choice(('', '', digits(rng, 2)))


def _ident(rng, L, style=None):
    parts = [rng.choice(L['words']) for _ in range(rng.choice((1, 2, 2, 3)))]
    if rng.random() < 0.3:
        parts.append(rng.choice((str(rng.randint(0, 99)), digits(rng, 3), 'v2', 'x', 'id')))
    style = style or rng.choice(('snake', 'snake', 'camel', 'pascal', 'screaming', 'dunder', 'kebab'))
    if style == 'dunder':
        return rng.choice(('__init__', '__main__', '__name__', f'__{parts[0]}__', f'__{"_".join(parts)}'))
    caps = ''.join(p.capitalize() for p in parts)
    return {'snake': ('_' if rng.random() < 0.1 else '') + '_'.join(parts),
            'camel': parts[0] + caps[len(parts[0]):],
            'pascal': caps, 'screaming': '_'.join(parts).upper(), 'kebab': '-'.join(parts)}[style]


def _filename(rng, L):
    if rng.random() < 0.1:
        return rng.choice(('.bashrc', '.gitignore', '.env', 'Makefile', 'README.md', 'Dockerfile'))
    stem = rng.choice((_ident(rng, L, 'snake'), _ident(rng, L, 'kebab'),
                       f'{rng.choice(L["words"])}_{digits(rng, rng.randint(2, 4))}'))
    return f'{stem}.{rng.choice(EXTS)}'


def _path(rng, L, P, win=None):
    """A Unix or Windows path: 0-3 directories, usually a file name."""
    win = rng.random() < 0.45 if win is None else win
    if win:
        sep, dirs = '\\', L['windirs']
        head = rng.choice(('C:\\', 'C:\\', 'D:\\', 'E:\\', '%APPDATA%\\', '%USERPROFILE%\\', '\\\\server\\',
                           f'C:\\Users\\{_user(rng, P)}\\', '.\\', '..\\'))
    else:
        sep, dirs = '/', L['dirs']
        head = rng.choice(('/', '/', '~/', './', '../', f'/home/{_user(rng, P)}/', '/usr/local/', '/var/log/'))
    parts = [rng.choice(dirs) for _ in range(rng.randint(0, 3))]
    path = head + sep.join(parts)
    if not parts or rng.random() < 0.6:
        return path + (sep if parts else '') + _filename(rng, L)
    return path + (sep if rng.random() < 0.15 else '')


def _arg(rng, L, P):
    """One command-line argument: a flag, a long option with or without a value, a file, a pipe."""
    k = rng.randrange(6)
    if k == 0:
        return '-' + rng.choice(('v', 'h', 'l', 'a', 'r', 'f', 'n', 'q', 'x', 'la', 'rf', 'xzvf', 'p', 'o', 's'))
    if k == 1:
        value = rng.choice((rng.choice(L['dirs']), str(rng.choice((64, 128, 256, 512, rng.randint(1, 99)))),
                            _path(rng, L, P, False)))
        return '--' + _ident(rng, L, rng.choice(('kebab', 'snake'))) + rng.choice(('', f'={value}', f' {value}'))
    if k == 2:
        return rng.choice((_path(rng, L, P, False), _filename(rng, L), rng.choice(L['words'])))
    if k == 3:
        return rng.choice((f'-j{rng.randint(2, 16)}', f'-p {rng.randint(1000, 9999)}:80',
                           f'-o {_filename(rng, L)}', f'-n {rng.randint(1, 100)}',
                           f'-m "{_english(rng, L, P, 4)}"'))
    return rng.choice((f'| grep {rng.choice(L["words"])}', f'> {_filename(rng, L)}', '2>&1',
                       '&& make', '| wc -l', f'>> {rng.choice(L["dirs"])}.log', '&'))


def _command(rng, L, P):
    if rng.random() < 0.3:
        return rng.choice(COMMANDS)
    return ' '.join([rng.choice(PROGRAMS)] + [_arg(rng, L, P) for _ in range(rng.randint(1, 3))])


def _code(rng, L, P):
    a, b, n = _ident(rng, L, 'snake'), _ident(rng, L), rng.randint(0, 512)
    w = rng.choice(L['words'])
    return rng.choice((
        f'{a} = {n}', f'{a}({b})', f'self.{a} = {b}', f'{a}[{rng.randint(0, 9)}] = {b}',
        f'if ({a} > {n}) {{', f'return {a} * {n} + 1;', f'{a} != {b} && {a} < {n}',
        f'def {a}(self, {b}):', f'for i in range({n}):', f'#include <{w}.h>', f'std::vector<int> {a};',
        f'{a}->{b}', f'{a} += {b} % {n}', f'{a} ^= 0x{n:02X}', f'echo ${a.upper()}', f'# {b}',
        f'<{w}>{b}</{w}>', f'{a}: {b} | None', f'`{a}`', f'{a} || {b}', f'@{w}', f'*{a} = &{b};',
        f'// TODO: {_english(rng, L, P, 3)}', f'{b}.{a}()', f'x = {a}[-1]', f'{a} = {{}}', f'{a} ~ {b}'))


def _url(rng, L, P):
    host = rng.choice(L['domains'] + ['localhost'])
    if rng.random() < 0.2:
        host = rng.choice(('api', 'docs', 'www', 'm', 'mail', rng.choice(L['words']))) + '.' + host
    url = rng.choice(('https://', 'https://', 'http://', '', 'ftp://')) + host
    if host == 'localhost' or rng.random() < 0.05:
        url += f':{rng.choice((8080, 3000, 8000, 5432, rng.randint(1024, 9999)))}'
    for _ in range(rng.randint(0, 3)):
        url += '/' + rng.choice((rng.choice(L['words']), _ident(rng, L, 'kebab'), str(rng.randint(1, 9999)),
                                 _filename(rng, L)))
    if rng.random() < 0.35:
        keys = [rng.choice(L['words']) for _ in range(rng.randint(1, 3))]
        vals = (lambda: rng.choice((str(rng.randint(0, 99)), rng.choice(L['words']), 'true', 'x')))
        url += ('/' if rng.random() < 0.5 else '') + '?' + '&'.join(f'{k}={vals()}' for k in keys)
    if rng.random() < 0.15:
        url += '#' + rng.choice((rng.choice(L['words']), _ident(rng, L, 'kebab')))
    return url


def _email(rng, L, P):
    user = rng.choice((_user(rng, P), rng.choice(L['words']), _ident(rng, L, 'snake'),
                       f'{_user(rng, P)}.{rng.choice(L["words"])}', 'no-reply', 'support', 'admin'))
    return f'{user}@{rng.choice(L["domains"] + ["gmail.com", "outlook.com", "yahoo.com.vn"])}'


def _version(rng, L, P):
    v = '.'.join(str(rng.randint(0, 9 if i == 0 else 20)) for i in range(rng.choice((2, 3, 3, 4))))
    n = rng.randint(1, 9)
    v += rng.choice(('', '', '', f'-rc{n}', f'-beta.{n}', f'b{n}', '-alpha', f'+cu12{n}', f'.post{n}', '-dev'))
    name = rng.choice(rng.choice((BRANDS, PROGRAMS, L['words'])))
    return rng.choice((f'v{v}', v, f'version {v}', f'Phiên bản {v}', f'{name} {v}', f'{name}=={v}',
                       f'{name}>={v}', f'{name}@{v}', f'build {v}', f'{name} v{v}'))


def _brackets(rng, L, P):
    o, c = rng.choice(PAIRS)
    inner = rng.choice((rng.choice(L['words']), _ident(rng, L), str(rng.randint(1, 99)), 'tùy chọn',
                        f'{rng.randint(1, 9)}/{rng.randint(10, 99)}', 'xem Hình 3', 'bắt buộc', 'x'))
    return rng.choice((f'{o}{inner}{c}', f'{rng.choice(L["words"])} {o}{inner}{c}', f'[{rng.randint(1, 40)}]',
                       f'({inner}, {_ident(rng, L)})', f'<{_ident(rng, L, "kebab")}>', f'{{{inner}}}',
                       f'[{inner}] {rng.choice(L["words"])}', f'f({inner}) = {{{rng.randint(0, 9)}}}'))


def _value(rng, L, P):
    return rng.choice((str(rng.randint(0, 9999)), f'"{rng.choice(L["words"])}"', 'true', 'false', 'null',
                       f'{rng.random():.3f}', f'"{_path(rng, L, P, False)}"',
                       f'[{rng.randint(0, 9)}, {rng.randint(0, 99)}]'))


def _keyvalue(rng, L, P):
    k, k2 = _ident(rng, L, 'snake'), _ident(rng, L, rng.choice(('snake', 'camel')))
    v, v2 = _value(rng, L, P), _value(rng, L, P)
    return rng.choice((f'{k}={v}', f'{k.upper()}={v.strip(chr(34))}', f'"{k}": {v}',
                       f'{{"{k}": {v}, "{k2}": {v2}}}', f'{k}: {v}', f'--{k}={v}', f'{k} = {v}',
                       f'{k}={v}&{k2}={v2}', f'export {k.upper()}={v}', f'[{rng.choice(L["words"])}]',
                       f'{{{k}: {v}}}'))


def _number(rng):
    k = rng.randrange(5)
    if k <= 1:
        return str(rng.randint(1, 999))
    if k == 2:
        return _num(rng.randint(1, 9999) * 10 ** rng.choice((3, 3, 4, 5)))       # 25.000
    return f'{rng.randint(0, 99)}{",."[k - 3]}{rng.randint(1, 99)}'              # 0,5 6,8 3.5


def _pct(rng):
    n = rng.choice((str(rng.randint(0, 100)), f'{rng.randint(0, 30)},{rng.randint(1, 9)}'))
    return n + rng.choice(('%', '%', '%', ' %'))


def _amount(rng, L, P):
    """Numbers with units, above all rates ("25.000 đ/kg"), whose suffix the model dropped."""
    n, m, pct, rate, unit = _number(rng), rng.randint(1, 12), _pct(rng), rng.choice(RATE_UNITS), rng.choice(UNITS)
    return rng.choice((
        f'{n} {rate}', f'{n} {rate}', f'{n} {unit}', f'{n}{unit}', pct, f'{rng.choice("+-")}{pct}',
        f'lãi suất {_pct(rng).replace(" ", "")}/năm', f'giảm {pct}', f'tăng {pct} so với cùng kỳ',
        f'Giá: {_num(rng.randint(5, 500) * 1000)} đ/kg', f'Liều dùng: {rng.randint(1, 3)} viên/lần, {m} lần/ngày',
        f'Tốc độ tối đa {rng.randint(30, 200)} km/h', f'Lương: {_num(rng.randint(3, 90) * 10 ** 6)} VNĐ/tháng',
        f'VAT {pct}', f'Độ ẩm: {pct}', f'CPU {pct} | RAM {rng.randint(1, 64)} GB', f'{n} x {m} {unit}',
        f'{m}-{rng.randint(13, 99)} {unit}', f'~{n} {unit}', f'>= {n} {rate}', f'{n} {unit} ({pct})'))


def _english(rng, L, P, most=7):
    text = ' '.join(rng.choice(L['words']) for _ in range(rng.randint(1, most)))
    text = rng.choices((text.capitalize(), text.title(), text.upper(), text), (35, 20, 7, 38))[0]
    return text + rng.choice(('', '', '', '.', '!', '?', ':', '...'))


def _mixed(rng, L, P):
    """Case that changes inside words, mostly in words with c/o/s/v/w/x/z, whose capitals
    look like the small letters."""
    words = [rng.choice(L['words']) for _ in range(4)]
    w = next((x for x in words if set(x) & set('cosvwxz')), words[0])
    return rng.choice((''.join(ch.upper() if rng.random() < 0.5 else ch for ch in w),
                       ''.join(ch.upper() if i % 2 else ch for i, ch in enumerate(w)), rng.choice(BRANDS),
                       _ident(rng, L, rng.choice(('camel', 'pascal'))), w[0] + w[1:].upper(),
                       ' '.join(x.capitalize() for x in words[:rng.randint(2, 4)])))


FRAMES = (      # a Vietnamese phrase around technical tokens: (template, token kinds)
    ('Chạy lệnh `{}` trong thư mục {}', 'command', 'unix'), ('Chạy lệnh {}', 'command'), ('Mở tệp {}', 'path'),
    ('Lưu tại {}', 'path'), ('Đường dẫn: {}', 'path'), ('Thư mục cài đặt: {}', 'win'), ('Liên hệ: {}', 'email'),
    ('Truy cập {} để biết thêm', 'url'), ('Xem chi tiết tại {}', 'url'), ('Gửi email tới {}', 'email'),
    ('Cập nhật lên phiên bản {}', 'version'), ('Yêu cầu {} trở lên', 'version'), ('Tải về từ {}', 'url'),
    ('Biến {} chưa được khai báo', 'ident'), ('Lỗi: không tìm thấy {}', 'path'),
    ('Hàm {} trả về {}', 'ident', 'ident'),
    ('Đặt {} trong tệp cấu hình', 'keyvalue'), ('Thêm tùy chọn {}', 'arg'), ('Nhấn {} để tiếp tục', 'key'),
    ('Cài đặt bằng `{}`', 'command'), ('Tên đăng nhập: {}', 'ident'), ('Từ khóa: {}', 'english'),
    ('Bước {}: chạy {}', 'int', 'command'), ('Tệp {} nặng {}', 'file', 'size'), ('Mức phí {}', 'amount'),
    ('Thuật ngữ tiếng Anh: {}', 'english'), ('Phần mềm {} bản {}', 'mixed', 'version'))
SUBKINDS = {
    'unix': lambda rng, L, P: _path(rng, L, P, False), 'win': lambda rng, L, P: _path(rng, L, P, True),
    'path': _path, 'command': _command, 'code': _code, 'url': _url, 'email': _email,
    'version': _version, 'brackets': _brackets, 'keyvalue': _keyvalue, 'amount': _amount, 'english': _english,
    'mixed': _mixed, 'arg': _arg, 'ident': lambda rng, L, P: _ident(rng, L),
    'key': lambda rng, L, P: rng.choice(KEYS), 'int': lambda rng, L, P: str(rng.randint(1, 9)),
    'file': lambda rng, L, P: _filename(rng, L),
    'size': lambda rng, L, P: f'{_number(rng)} {rng.choice(("KB", "MB", "MB", "GB"))}'}
LINE_WEIGHTS = {'unix': 8, 'win': 7, 'command': 9, 'ident': 5, 'code': 6, 'url': 7, 'email': 4, 'version': 4,
                'brackets': 5, 'keyvalue': 6, 'amount': 12, 'english': 8, 'mixed': 6, 'frame': 13}
LINE_KINDS = tuple(LINE_WEIGHTS)


def _token(rng, L, P, kind):
    """One piece; space-free chunks longer than MAX_WORD are redrawn (the sampler cuts
    long lines only at spaces, so it would drop the line)."""
    if kind == 'frame':
        frame = rng.choice(FRAMES)
        return frame[0].format(*(_token(rng, L, P, k) for k in frame[1:]))
    for _ in range(4):
        text = SUBKINDS[kind](rng, L, P)
        if max(map(len, text.split(' '))) <= MAX_WORD:
            break
    return text


def gen_technical(rng, P):
    """One line of technical text: pieces of one kind (sometimes another) run together
    up to a target length, mostly 20-64 characters."""
    L = lists(P.get('split', 'train'))
    kind = rng.choices(LINE_KINDS, weights=tuple(LINE_WEIGHTS.values()))[0]
    target = rng.randint(20, MAX_LINE) if rng.random() < 0.75 else rng.randint(3, 20)
    for _ in range(3):
        line = _token(rng, L, P, kind)
        if len(line) <= MAX_LINE:
            break
    for _ in range(6):
        if len(line) >= target:
            break
        piece, sep = _token(rng, L, P, kind if rng.random() < 0.6 else rng.choice(LINE_KINDS)), rng.choice(SEPS)
        sep = ' ' if line[-1] in '.!?:' else sep
        if len(line) + len(sep) + len(piece) <= MAX_LINE:
            line += sep + piece
    if not VOCAB.issuperset(line):     # only an installed word list could bring in other characters
        line = ''.join(ch for ch in line if ch in VOCAB)
    return ' '.join(line.split())
