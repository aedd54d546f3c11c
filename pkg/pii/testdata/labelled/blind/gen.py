#!/usr/bin/env python3
"""Fill {{kind|fmt}} placeholders in tpl/<lang>.txt with synthetic, checksum-valid
(or, for bad* kinds, checksum-failing) values, writing src/<lang>.txt in the
labelset markup. Deterministic (seeded). Written by H10, blind to pkg/pii.

Kinds:
  cards  visa16 visa13 visa19 mc mc2 amex disc jcb diners maestro up
         fmt g (grouped, default) d (dashes) c (compact) p (dots)
  badcard16 badmc badamex      Luhn-failing, same shapes
  iban-CC / badiban-CC         fmt g (default) c (compact) l (lower grouped) lc
  ssn (fmt d default, s, c)    badssn (9xx area, 9 digits / dashed)
  nino (fmt s default, c)
  steuer (c default, s)        badsteuer
  dni (c default, d, s, t)     baddni (wrong letter)
  nie (c default, d)
  nir (s default, c)  nircorse badnir
  bsn (c default, p)           badbsn
  cf (u default, l)            badcf
  ean13  imei  siret  ean8
"""
import random, re, sys, os

R = random.Random(1010)

def digits(n):
    return ''.join(str(R.randrange(10)) for _ in range(n))

def luhn_ok(d):
    s = 0
    for i, ch in enumerate(reversed(d)):
        n = int(ch)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        s += n
    return s % 10 == 0

def luhn_complete(body):
    for c in '0123456789':
        if luhn_ok(body + c):
            return body + c

def luhn_break(d):
    last = int(d[-1])
    return d[:-1] + str((last + R.randrange(1, 10)) % 10)

def card(prefix, length):
    return luhn_complete(prefix + digits(length - 1 - len(prefix)))

def groups(d, sizes, sep):
    out, i = [], 0
    for s in sizes:
        out.append(d[i:i + s]); i += s
    if i < len(d):
        out.append(d[i:])
    return sep.join(out)

def fmt_card(d, f):
    n = len(d)
    if n == 15:
        sizes = [4, 6, 5]
    elif n == 14:
        sizes = [4, 6, 4]
    else:
        sizes = [4] * (n // 4)
    if f == 'n':  # grouped, broken over a line break before the last group
        g = groups(d, sizes, ' ').split(' ')
        return ' '.join(g[:-1]) + '\n' + g[-1]
    sep = {'g': ' ', 'd': '-', 'p': '.', 'c': ''}[f]
    return groups(d, sizes, sep) if sep else d

CARDS = {
    'visa16': lambda: card('4', 16),
    'visa13': lambda: card('4', 13),
    'visa19': lambda: card('4', 19),
    'mc': lambda: card(str(R.randint(51, 55)), 16),
    'mc2': lambda: card(str(R.randint(2221, 2720)), 16),
    'amex': lambda: card(R.choice(['34', '37']), 15),
    'disc': lambda: card('6011', 16),
    'jcb': lambda: card(str(R.randint(3528, 3589)), 16),
    'diners': lambda: card(R.choice(['300', '301', '305', '36', '38']), 14),
    'maestro': lambda: card(R.choice(['6759', '5018', '6304']), 16),
    'up': lambda: card('62' + str(R.randint(2126, 2925))[:2], R.choice([16, 19])),
}

IBAN_LEN = {'DE': 22, 'AT': 20, 'CH': 21, 'FR': 27, 'BE': 16, 'ES': 24, 'NL': 18, 'IT': 27,
            'GB': 22, 'IE': 22, 'LU': 20, 'PT': 25, 'PL': 28, 'MC': 27}

def bban(cc):
    if cc == 'NL':
        return R.choice(['ABNA', 'INGB', 'RABO', 'TRIO', 'SNSB']) + digits(10)
    if cc == 'GB':
        return R.choice(['BARC', 'LOYD', 'HBUK', 'NWBK', 'MIDL']) + digits(14)
    if cc == 'IE':
        return R.choice(['AIBK', 'BOFI']) + digits(14)
    if cc == 'IT':
        return R.choice('ABCDEFGHLMNX') + digits(22)
    if cc == 'MC':
        return digits(23)
    if cc == 'FR':
        return digits(23)
    return digits(IBAN_LEN[cc] - 4)

def mod97(s):
    r = s[4:] + s[:4]
    num = ''.join(str(ord(c) - 55) if c.isalpha() else c for c in r)
    return int(num) % 97

def iban(cc):
    b = bban(cc)
    m = mod97(cc + '00' + b)
    return '%s%02d%s' % (cc, 98 - m, b)

def bad_iban(cc):
    v = iban(cc)
    ck = int(v[2:4])
    while True:
        nk = R.randint(2, 98)
        if nk != ck:
            break
    v = v[:2] + '%02d' % nk + v[4:]
    assert mod97(v) != 1
    return v

def fmt_iban(v, f):
    g = ' '.join(v[i:i + 4] for i in range(0, len(v), 4))
    return {'g': g, 'c': v, 'l': g.lower(), 'lc': v.lower()}[f]

def ssn_ok(d):
    a, g, s = d[:3], d[3:5], d[5:]
    return a not in ('000', '666') and a[0] != '9' and g != '00' and s != '0000'

def ssn():
    while True:
        d = digits(9)
        if ssn_ok(d):
            return d

def fmt_ssn(d, f):
    return {'d': '%s-%s-%s', 's': '%s %s %s', 'c': '%s%s%s'}[f] % (d[:3], d[3:5], d[5:])

NINO_BAD = set('BG GB NK KN TN NT ZZ CR FY MW NC OO PP PY PZ'.split())

def nino():
    while True:
        p = R.choice('ABCEGHJKLMNOPRSTWXYZ') + R.choice('ABCEGHJKLMNPRSTWXYZ')
        if p not in NINO_BAD:
            return p + digits(6) + R.choice('ABCD')

def steuer_check(d10):
    product = 10
    for ch in d10:
        s = (int(ch) + product) % 10
        if s == 0:
            s = 10
        product = (s * 2) % 11
    c = 11 - product
    return str(0 if c == 10 else c)

def steuer_rep_ok(d10):
    cnt = [d10.count(str(i)) for i in range(10)]
    if max(cnt) > 3 or sum(1 for c in cnt if c in (2, 3)) != 1:
        return False
    return not any(d10[i] == d10[i + 1] == d10[i + 2] for i in range(8))

def steuer():
    while True:
        d = str(R.randint(1, 9)) + digits(9)
        if steuer_rep_ok(d):
            return d + steuer_check(d)

def bad_steuer():
    while True:
        d = str(R.randint(1, 9)) + digits(9)
        if steuer_rep_ok(d):
            c = steuer_check(d)
            return d + str((int(c) + R.randint(1, 9)) % 10)

LET = 'TRWAGMYFPDXBNJZSQVHLCKE'

def dni():
    n = R.randint(10000000, 99999999)
    return '%08d' % n, LET[n % 23]

def fmt_dni(n, l, f):
    return {'c': n + l, 'd': n + '-' + l, 's': n + ' ' + l,
            't': '%s.%s.%s-%s' % (n[:2], n[2:5], n[5:], l)}[f]

def nie():
    lead = R.randint(0, 1)
    n = R.randint(0, 9999999)
    return '%s%07d' % ('XY'[lead], n), LET[(lead * 10000000 + n) % 23]

def nir(dept=None):
    dept = dept or R.choice(['75', '69', '13', '33', '59', '44', '67', '31', '06', '35', '92', '93'])
    c = '%d%02d%02d%s%03d%03d' % (R.randint(1, 2), R.randint(50, 99), R.randint(1, 12), dept,
                                 R.randint(1, 400), R.randint(1, 999))
    num = c
    if dept == '2A':
        num = c[:5] + '19' + c[7:]
    if dept == '2B':
        num = c[:5] + '18' + c[7:]
    key = 97 - int(num) % 97
    return c + '%02d' % key

def fmt_nir(v, f):
    if f == 'c':
        return v
    return ' '.join([v[0], v[1:3], v[3:5], v[5:7], v[7:10], v[10:13], v[13:]])

def bad_nir():
    v = nir()
    k = int(v[13:])
    nk = (k + R.randint(1, 50)) % 97 + 1
    if nk == k:
        nk = k % 96 + 1
    return v[:13] + '%02d' % nk

def bsn_ok(d):
    s = sum(int(d[i]) * (9 - i) for i in range(8)) - int(d[8])
    return s % 11 == 0

def bsn():
    while True:
        d = str(R.randint(1, 6)) + digits(8)
        if bsn_ok(d):
            return d

def bad_bsn():
    while True:
        d = str(R.randint(1, 6)) + digits(8)
        if not bsn_ok(d):
            return d

ODD = dict(zip('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ',
               [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20,
                11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23]))

def cf_check(c15):
    s = 0
    for i, ch in enumerate(c15):
        if i % 2 == 0:
            s += ODD[ch]
        else:
            s += int(ch) if ch.isdigit() else ord(ch) - 65
    return chr(65 + s % 26)

def cf():
    cons = 'BCDFGLMNPRSTVZ'
    c = (''.join(R.choice(cons) for _ in range(3)) + ''.join(R.choice(cons) for _ in range(3)) +
         '%02d' % R.randint(50, 99) + R.choice('ABCDEHLMPRST') +
         '%02d' % (R.randint(1, 28) + 40 * R.randint(0, 1)) + R.choice('ABCDEFGHLM') +
         '%03d' % R.randint(1, 999))
    return c + cf_check(c)

def bad_cf():
    v = cf()
    return v[:15] + chr(65 + (ord(v[15]) - 65 + R.randint(1, 25)) % 26)

def gtin_complete(body):
    s = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(body)))
    return body + str((10 - s % 10) % 10)

def gen(kind, f):
    if kind in CARDS:
        return fmt_card(CARDS[kind](), f or 'g')
    if kind in ('badcard16', 'badmc', 'badamex'):
        base = {'badcard16': 'visa16', 'badmc': 'mc', 'badamex': 'amex'}[kind]
        return fmt_card(luhn_break(CARDS[base]()), f or 'g')
    if kind.startswith('iban-'):
        return fmt_iban(iban(kind[5:]), f or 'g')
    if kind.startswith('badiban-'):
        return fmt_iban(bad_iban(kind[8:]), f or 'g')
    if kind == 'ssn':
        return fmt_ssn(ssn(), f or 'd')
    if kind == 'badssn':
        d = '9' + digits(8)
        return fmt_ssn(d, f or 'c')
    if kind == 'nino':
        v = nino()
        return v if f == 'c' else '%s %s %s %s %s' % (v[:2], v[2:4], v[4:6], v[6:8], v[8])
    if kind == 'steuer':
        v = steuer()
        return v if (f or 'c') == 'c' else '%s %s %s %s' % (v[:2], v[2:5], v[5:8], v[8:])
    if kind == 'badsteuer':
        return bad_steuer()
    if kind == 'dni':
        n, l = dni()
        return fmt_dni(n, l, f or 'c')
    if kind == 'baddni':
        n, l = dni()
        l = LET[(LET.index(l) + R.randint(1, 22)) % 23]
        return fmt_dni(n, l, f or 'c')
    if kind == 'nie':
        n, l = nie()
        return n + ('-' if f == 'd' else '') + l
    if kind == 'nir':
        return fmt_nir(nir(), f or 's')
    if kind == 'nircorse':
        return fmt_nir(nir(R.choice(['2A', '2B'])), f or 's')
    if kind == 'badnir':
        return fmt_nir(bad_nir(), f or 'c')
    if kind == 'bsn':
        v = bsn()
        return v if (f or 'c') == 'c' else '%s.%s.%s' % (v[:4], v[4:6], v[6:])
    if kind == 'badbsn':
        return bad_bsn()
    if kind == 'cf':
        v = cf()
        return v.lower() if f == 'l' else v
    if kind == 'badcf':
        return bad_cf()
    if kind == 'ean13':
        return gtin_complete(R.choice(['400', '300', '380', '840', '870', '871', '800', '841']) + digits(9))
    if kind == 'ean8':
        return gtin_complete(digits(7))
    if kind == 'imei':
        return luhn_complete('35' + digits(12))
    if kind == 'siret':
        return luhn_complete(digits(13))
    raise SystemExit('unknown kind ' + kind)

PH = re.compile(r'\{\{([a-zA-Z0-9\-]+)(?:\|([a-z]+))?\}\}')

def main():
    base = os.path.dirname(os.path.abspath(__file__))
    pass
    for lang in ['en', 'de', 'fr', 'es', 'nl', 'it']:
        p = os.path.join(base, 'tpl', lang + '.txt')
        if not os.path.exists(p):
            print('missing', p); continue
        t = open(p, encoding='utf-8').read()
        out = PH.sub(lambda m: gen(m.group(1), m.group(2)), t)
        open(os.path.join(base, lang + '.txt'), 'w', encoding='utf-8').write(out)

if __name__ == '__main__':
    main()
