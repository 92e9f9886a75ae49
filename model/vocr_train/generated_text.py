"""Generated text lines: names, addresses, dates, ID and phone numbers, money, codes, form fields.

They are produced on the fly from the small lists below. Held-out split:
given names, streets, wards and districts come from disjoint lists, every
5th entry reserved for 'val' (`holdout`), so validation names and streets
never appear in training. Family names, middle names and provinces are
closed classes and are shared.
"""
import unicodedata

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


def holdout(items, split):
    """Every 5th entry is reserved for validation."""
    return [x for i, x in enumerate(items) if (i % 5 == 4) == (split == 'val')]


def _ascii(s):
    s = unicodedata.normalize('NFD', s.replace('đ', 'd').replace('Đ', 'D'))
    return ''.join(c for c in s if c.isascii())


def _num(n):
    return f'{n:,}'.replace(',', '.')       # Vietnamese thousands separator


def digits(rng, n):
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
        s = f'{rng.randint(1, 96):03d}{rng.randint(0, 3)}{digits(rng, 8)}'
        return s if rng.random() < 0.8 else f'{s[:4]} {s[4:8]} {s[8:]}'
    if k == 2:      # old CMND
        return digits(rng, 9)
    if k == 3:      # tax code, optionally with branch suffix
        s = f'0{digits(rng, 9)}'
        return s if rng.random() < 0.7 else f'{s}-{rng.randint(1, 999):03d}'
    if k == 4:      # passport
        return rng.choice('BCN') + digits(rng, 7)
    return digits(rng, rng.randint(8, 14))         # bank account, social insurance


def _gen_phone(rng, P):
    k = rng.randrange(9)
    if k == 7:      # landline with area code
        code = rng.choice(('024', '028', '0236', '0225', '0292', '0251', '0234', '0258'))
        fmt = rng.choice(('({}) {} {}', '{} {} {}', '{}.{}.{}'))
        return fmt.format(code, digits(rng, 4), digits(rng, 4))
    if k == 8:      # hotline
        number = rng.choice((digits(rng, 4), '54 54 54', digits(rng, 6)))
        return rng.choice(('1900 ', '1800 ')) + number
    nat = rng.choice(_MOBILE)[1:] + digits(rng, 7)       # 9 digits after the trunk 0
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
        return f'{rng.randint(11, 99)}{series}-{digits(rng, 3)}.{digits(rng, 2)}'
    if k == 2:      # invoice / receipt / order numbers
        return (rng.choice(('HĐ', 'HD', 'PX', 'PN', 'DH')) + rng.choice(('', '-'))
                + digits(rng, rng.randint(5, 8)))
    if k == 3:      # e-invoice symbol, e.g. 1C23TAA
        letters = ''.join(rng.choices(_PLATE_LETTERS, k=2))
        return f'{rng.randint(1, 2)}C{rng.randint(20, 26)}T{letters}'
    if k == 4:      # invoice form number
        return f'0{rng.randint(1, 9)}GTKT{rng.randint(0, 3)}/{rng.randint(1, 999):03d}'
    if k == 5:      # document number, e.g. 1234/2021/QĐ-UBND
        kind = rng.choice(('QĐ-UBND', 'HĐLĐ', 'NĐ-CP', 'TT-BTC', 'QĐ'))
        return f'{digits(rng, rng.randint(2, 5))}/{rng.randint(2000, 2030)}/{kind}'
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
                       f'{given}{fam}{digits(rng, 2)}', f'{given}{rng.randint(1970, 2010)}'))
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
    (('Mã sinh viên: ',), lambda rng, P: f'{rng.randint(2015, 2025)}{digits(rng, 4)}'),
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


GENERATORS = {'name': _gen_name, 'address': _gen_address, 'date': _gen_date, 'id': _gen_id,
               'phone': _gen_phone, 'money': _gen_money, 'code': _gen_code, 'field': _gen_field}
