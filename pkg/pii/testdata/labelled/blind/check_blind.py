#!/usr/bin/env python3
"""Independent check of blind.jsonl (H10): format, offsets, overlaps, types,
and checksum re-validation in Python of every CARD / IBAN / NATIONAL_ID span."""
import json, re, sys, collections
sys.path.insert(0, '/tmp/helpers/blind')
import gen
TYPES = {"PERSON","EMAIL","PHONE","CARD","IBAN","ADDRESS","IP","NATIONAL_ID","DATE_OF_BIRTH","SECRET"}
LANGS = ["en","de","fr","es","nl","it"]
errs = []
msgs = [json.loads(l) for l in open('/tmp/helpers/blind/blind.jsonl', encoding='utf-8') if l.strip()]
ids = set()
def card_ok(v):
    d = re.sub(r'[ \-.\n]', '', v)
    return d.isdigit() and 13 <= len(d) <= 19 and gen.luhn_ok(d)
def iban_ok(v):
    c = re.sub(r'[ \n]', '', v).upper()
    return c[:2] in gen.IBAN_LEN and len(c) == gen.IBAN_LEN[c[:2]] and gen.mod97(c) == 1
def nid_ok(v, lang):
    c = re.sub(r'[ .\-]', '', v).upper()
    if lang == 'en':
        if re.fullmatch(r'\d{9}', c): return gen.ssn_ok(c)
        return bool(re.fullmatch(r'[A-Z]{2}\d{6}[A-D]', c)) and c[:2] not in gen.NINO_BAD and c[0] not in 'DFIQUV' and c[1] not in 'DFIOQUV'
    if lang == 'de':
        return len(c) == 11 and c.isdigit() and gen.steuer_rep_ok(c[:10]) and gen.steuer_check(c[:10]) == c[10]
    if lang == 'es':
        if c[0] in 'XY':
            n = int(str('XY'.index(c[0])) + c[1:8]); return gen.LET[n % 23] == c[8]
        return c[:8].isdigit() and gen.LET[int(c[:8]) % 23] == c[8]
    if lang == 'fr':
        num = c[:13].replace('2A', '19') if c[5:7] == '2A' else (c[:13].replace('2B', '18') if c[5:7] == '2B' else c[:13])
        return len(c) == 15 and 97 - int(num) % 97 == int(c[13:])
    if lang == 'nl':
        return len(c) == 9 and gen.bsn_ok(c)
    if lang == 'it':
        return len(c) == 16 and gen.cf_check(c[:15]) == c[15]
per_lang = collections.Counter(); clean = collections.Counter(); per_type = collections.Counter()
for m in msgs:
    if set(m) != {"id","lang","text","spans"}: errs.append((m.get('id'), 'keys'))
    if m['id'] in ids: errs.append((m['id'], 'dup id'))
    ids.add(m['id'])
    if not re.fullmatch(r'(en|de|fr|es|nl|it)-b\d{3}', m['id']) or not m['id'].startswith(m['lang'] + '-'):
        errs.append((m['id'], 'id format'))
    per_lang[m['lang']] += 1
    if not m['spans']: clean[m['lang']] += 1
    cps = list(m['text'])  # Python str indexes are code points
    prev_end = -1
    for s in sorted(m['spans'], key=lambda s: s['start']):
        if set(s) != {"start","end","type"}: errs.append((m['id'], 'span keys'))
        if s['type'] not in TYPES: errs.append((m['id'], 'type ' + s['type']))
        if not (0 <= s['start'] < s['end'] <= len(cps)): errs.append((m['id'], 'bounds')); continue
        if s['start'] < prev_end: errs.append((m['id'], 'overlap'))
        prev_end = s['end']
        v = ''.join(cps[s['start']:s['end']])
        if v != v.strip(): errs.append((m['id'], 'whitespace edge %r' % v))
        per_type[s['type']] += 1
        if s['type'] == 'CARD' and not card_ok(v): errs.append((m['id'], 'card %r' % v))
        if s['type'] == 'IBAN' and not iban_ok(v): errs.append((m['id'], 'iban %r' % v))
        if s['type'] == 'NATIONAL_ID' and not nid_ok(v, m['lang']): errs.append((m['id'], 'nid %r' % v))
# the same span text must be what the markup source said: re-derive from src files
import os
src_vals = collections.defaultdict(list)
for lang in LANGS:
    t = open('/tmp/helpers/blind/%s.txt' % lang, encoding='utf-8').read()
    cur = None
    for mm in re.finditer(r'^@@ (\S+)|\[\[(~?)([A-Z_]+):(.*?)\]\]', t, re.M | re.S):
        if mm.group(1): cur = mm.group(1); continue
        if mm.group(2) == '' and mm.group(3) in TYPES: src_vals[cur].append((mm.group(3), mm.group(4)))
for m in msgs:
    got = [(s['type'], m['text'][s['start']:s['end']]) for s in m['spans']]
    if got != src_vals[m['id']]: errs.append((m['id'], 'span texts differ from source markup'))
print('messages', len(msgs), 'per lang', dict(per_lang))
print('clean', sum(clean.values()), '(%.1f%%)' % (100 * sum(clean.values()) / len(msgs)), dict(clean))
print('per type', dict(per_type))
for e in errs: print('ERR', e)
print('OK' if not errs else 'FAILED %d' % len(errs))
