#!/usr/bin/env python3
"""oracle.py - an independent reference implementation of SPEC sections 4-6.

Written from /work/shared/SPEC.md and the man pages only (not from the C
rater), in Python 3 with the standard library, exact arithmetic throughout:
int and fractions.Fraction, never float.

    oracle.py --prices TABLE [--contracts FILE]
              (--period YYYY-MM | --from TS --to TS)
              [--rejects FILE] USAGE.csv...

prints the "gpubill-invoices/1" JSON that `gpubill invoice -f json` prints
(the fields the differential test compares; descriptions are simplified).
The pricing table and contracts are assumed valid (the generator makes
valid ones; the tool validates them).

Interpretation choices where the SPEC is silent follow the man pages; each
is marked "CHOICE" below and listed in tests/oracle/README.md.
"""

import json
import os
import re
import sys
from fractions import Fraction

# How far a tiered GPU price's quantity reaches (see README.md):
#   version  one price version (gpubill-pricing(5), TIERED PRICES; default)
#   price    all of the period for the same price, across versions whose
#            price is identical (a reading of SPEC 4, "the customer's
#            quantity in the billing period")

# --------------------------------------------------------------------------
# Exact decimals, rounding and formatting


DECIMAL_RE = re.compile(r'^[0-9]+(\.[0-9]{1,18})?$')


def dec(s):
    """A plain decimal string -> Fraction (exact)."""
    if not isinstance(s, str) or not DECIMAL_RE.match(s):
        raise ValueError('not a decimal string: %r' % (s,))
    return Fraction(s)


def round_minor(x, minor, mode):
    """Round the Fraction x to `minor` decimals; returns an int in minor units."""
    y = x * 10 ** minor
    neg = y < 0
    a = -y if neg else y
    q, r = divmod(a.numerator, a.denominator)
    # r / den is the fractional part of |y|
    den = a.denominator
    if r == 0:
        n = q
    elif mode == 'down':
        n = q
    elif mode == 'up':
        n = q + 1
    elif mode == 'half_up':
        n = q + 1 if 2 * r >= den else q
    elif mode == 'half_even':
        if 2 * r > den:
            n = q + 1
        elif 2 * r < den:
            n = q
        else:
            n = q + 1 if q % 2 == 1 else q
    else:
        raise ValueError('unknown rounding mode %r' % mode)
    return -n if neg else n


def fmt_minor(n, minor):
    """Minor units (int) -> decimal string with exactly `minor` decimals."""
    sign = '-' if n < 0 else ''
    n = abs(n)
    if minor == 0:
        return sign + str(n)
    s = str(n).rjust(minor + 1, '0')
    return sign + s[:-minor] + '.' + s[-minor:]


def fmt_frac(x, places=6):
    """A Fraction rounded half-even to at most `places` decimals, trailing
    zeros dropped (how the tool prints quantities)."""
    n = round_minor(x, places, 'half_even')
    s = fmt_minor(n, places)
    if '.' in s:
        s = s.rstrip('0').rstrip('.')
    if s in ('-0', ''):
        s = '0'
    return s


def fmt_exact(x, min_places):
    """A Fraction with a terminating decimal expansion, at least min_places
    decimals (unit prices).  Falls back to 18 places if it does not end."""
    sign = '-' if x < 0 else ''
    x = abs(x)
    places = min_places
    while (x * 10 ** places).denominator != 1 and places < 18:
        places += 1
    n = round_minor(x, places, 'half_even')
    return sign + fmt_minor(n, places) if n else fmt_minor(0, min_places)


# --------------------------------------------------------------------------
# RFC 3339 timestamps -> Unix seconds (int)

TS_RE = re.compile(
    r'^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})'
    r'(\.[0-9]{1,18})?([Zz]|[+-][0-9]{2}:[0-9]{2})$')


def days_from_civil(y, m, d):
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(z):
    z += 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return y + (m <= 2), m, d


def is_leap(y):
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def days_in_month(y, m):
    return [31, 29 if is_leap(y) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]


def parse_ts(s):
    """RFC 3339 as gpubill-usage(5) describes it; None when invalid."""
    m = TS_RE.match(s)
    if not m:
        return None
    y, mo, d, hh, mi, ss = (int(m.group(i)) for i in range(1, 7))
    if not (1 <= mo <= 12) or not (1 <= d <= days_in_month(y, mo)):
        return None
    if hh > 23 or mi > 59 or ss > 60:
        return None
    tz = m.group(8)
    off = 0
    if tz not in ('Z', 'z'):
        oh, om = int(tz[1:3]), int(tz[4:6])
        if oh > 23 or om > 59:
            return None
        off = (oh * 3600 + om * 60) * (1 if tz[0] == '+' else -1)
    # A leap second (:60) is the first second of the next minute.
    return days_from_civil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss - off


def fmt_ts(t):
    days, sec = divmod(t, 86400)
    y, m, d = civil_from_days(days)
    return '%04d-%02d-%02dT%02d:%02d:%02dZ' % (y, m, d, sec // 3600, sec // 60 % 60, sec % 60)


def period_month(s):
    m = re.match(r'^([0-9]{4})-([0-9]{2})$', s)
    if not m:
        raise ValueError('bad --period %r' % s)
    y, mo = int(m.group(1)), int(m.group(2))
    start = days_from_civil(y, mo, 1) * 86400
    y2, mo2 = (y + 1, 1) if mo == 12 else (y, mo + 1)
    return start, days_from_civil(y2, mo2, 1) * 86400


def period_args(args):
    """['--period', 'YYYY-MM'] or ['--from', TS, '--to', TS] -> (from, to)."""
    if args[0] == '--period':
        return period_month(args[1])
    return parse_ts(args[1]), parse_ts(args[3])


# --------------------------------------------------------------------------
# Prices: a price is ('flat', Fraction) or (mode, ((up_to|None, price), ...))


def parse_price(v):
    if isinstance(v, str):
        return ('flat', dec(v))
    if isinstance(v, dict):
        tiers = tuple((None if t['up_to'] is None else dec(t['up_to']), dec(t['price']))
                      for t in v['tiers'])
        return (v['mode'], tiers)
    raise ValueError('bad price %r' % (v,))


def scale_price(spec, factor):
    """The price times a factor (batch discount)."""
    if spec[0] == 'flat':
        return ('flat', spec[1] * factor)
    return (spec[0], tuple((u, p * factor) for u, p in spec[1]))


def price_slices_at(spec, qty, off, total):
    """Tiers over the customer's quantity in the period (gpubill.1, RATING
    RULES, tiers): this bucket holds [off, off + qty) of its group's usage
    in time order, and the group's period total picks the volume tier.
    Returns [(tier, unit_price, slice_qty)] with slice_qty > 0."""
    if qty <= 0:
        return []
    kind, body = spec
    if kind == 'flat':
        return [(0, body, qty)]
    if kind == 'graduated':
        out = []
        lower = Fraction(0)
        for i, (up, p) in enumerate(body):
            lo = max(lower, off)
            hi = off + qty if up is None else min(up, off + qty)
            if hi > lo:
                out.append((i + 1, p, hi - lo))
            if up is None:
                break
            lower = up
        return out
    if kind == 'volume':
        # CHOICE (gpubill.1): the first tier whose up_to is at least the
        # period total (up_to is inclusive) prices all of it.
        for i, (up, p) in enumerate(body):
            if up is None or total <= up:
                return [(i + 1, p, qty)]
    raise ValueError('bad tier mode %r' % kind)


def tier_positions(buckets, group_of, order_of):
    """For tiered buckets: {bucket key: (offset, group total)}; a group's
    tiered usage is taken in price-version order."""
    groups = {}
    for k in buckets:
        groups.setdefault(group_of(k), []).append(k)
    pos = {}
    for g, keys in groups.items():
        keys.sort(key=order_of)
        run = 0
        for k in keys:
            pos[k] = run
            run += buckets[k]
        for k in keys:
            pos[k] = (pos[k], run)
    return pos


class Version(object):
    def __init__(self, v):
        self.start = parse_ts(v['effective_from'])
        g = v.get('gpu')
        self.has_gpu = g is not None
        self.gpu_rates = {}
        self.spot_series = {}   # (sku, region) -> sorted [(from, price spec)]
        if g is not None:
            self.increment = g.get('increment_seconds', 1)
            self.minimum = g.get('minimum_seconds', 0)
            self.free = g.get('spot_interruption_free_seconds', 0)
            for r in g.get('rates', []):
                rate = {}
                for k in ('on_demand', 'spot'):
                    if k in r:
                        rate[k] = parse_price(r[k])
                rate['reserved'] = {t: parse_price(p) for t, p in r.get('reserved', {}).items()}
                self.gpu_rates[(r['sku'], r['region'])] = rate
            for e in g.get('spot_prices', []):
                self.spot_series.setdefault((e['sku'], e['region']), []).append(
                    (parse_ts(e['from']), parse_price(e['price'])))
            for lst in self.spot_series.values():
                lst.sort(key=lambda x: x[0])
        t = v.get('tokens')
        self.has_tokens = t is not None
        self.token_rates = {}
        if t is not None:
            self.batch_discount = dec(t.get('batch_discount', '0'))
            for r in t.get('rates', []):
                self.token_rates[(r['model'], r.get('region', '*'))] = {
                    k: parse_price(r[k]) for k in ('input', 'cached_input', 'output') if k in r}

    def gpu_rate(self, sku, region):
        r = self.gpu_rates.get((sku, region))
        if r is None:
            r = self.gpu_rates.get((sku, '*'))
        return r

    def token_rate(self, model, region):
        r = None
        if region:
            r = self.token_rates.get((model, region))
        if r is None:
            r = self.token_rates.get((model, '*'))
        return r

    def spot_entry(self, sku, region, t):
        """The latest series entry with from <= t: the exact region's series
        first, else the "*" series (CHOICE, see README); None when neither
        has an entry at or before t."""
        for reg in (region, '*'):
            best = None
            for f, p in self.spot_series.get((sku, reg), ()):
                if f <= t:
                    best = p
                else:
                    break
            if best is not None:
                return best
        return None

    def spot_changes(self, sku, region):
        out = set()
        for reg in (region, '*'):
            for f, _ in self.spot_series.get((sku, reg), ()):
                out.add(f)
        return out


class Table(object):
    def __init__(self, doc):
        self.name = doc['name']
        self.currency = doc['currency']
        self.minor = doc.get('minor_units', 2)
        self.rounding = doc.get('rounding', 'half_even')
        self.versions = sorted((Version(v) for v in doc['versions']), key=lambda v: v.start)
        self.starts = [v.start for v in self.versions]

    def version_at(self, t):
        found = None
        for v in self.versions:
            if v.start <= t:
                found = v
            else:
                break
        return found

    def cut(self, a, b):
        """[a, b) cut at version starts -> [(a', b', version|None)]."""
        out = []
        points = sorted(set([a, b] + [s for s in self.starts if a < s < b]))
        for x, y in zip(points, points[1:]):
            out.append((x, y, self.version_at(x)))
        return out


# --------------------------------------------------------------------------
# Contracts


class Reservation(object):
    def __init__(self, r, customer):
        self.id = r['id']
        self.customer = customer
        self.sku = r['sku']
        self.region = r['region']
        self.gpus = r['gpus']
        self.term = r['term']
        self.start = parse_ts(r['start'])
        self.end = parse_ts(r['end'])
        self.rate = dec(r['rate']) if 'rate' in r else None

    def rate_at(self, table, h):
        if self.rate is not None:
            return self.rate
        v = table.version_at(h)
        rate = v.gpu_rate(self.sku, self.region)
        spec = rate['reserved'][self.term]
        assert spec[0] == 'flat'
        return spec[1]


class Contract(object):
    def __init__(self, c):
        self.customer = c['customer']
        self.reservations = [Reservation(r, self.customer) for r in c.get('reservations', [])]
        self.discounts = {k: dec(v) for k, v in c.get('discounts', {}).items()}
        self.minimum = dec(c['minimum_spend']) if 'minimum_spend' in c else None
        self.credits = [(x['id'], dec(x['amount'])) for x in c.get('credits', [])]


# --------------------------------------------------------------------------
# CSV (RFC 4180 as gpubill-usage(5) describes it)


def csv_rows(data):
    """bytes -> [(line_number, [field bytes])], blank lines skipped."""
    if data.startswith(b'\xef\xbb\xbf'):
        data = data[3:]
    rows = []
    i, n, line = 0, len(data), 1
    while i < n:
        start_line = line
        fields = []
        quoted = False
        # One row.
        while True:
            # Leading spaces/tabs of an unquoted field are dropped.
            j = i
            while j < n and data[j] in b' \t':
                j += 1
            if j < n and data[j:j + 1] == b'"':
                quoted = True
                j += 1
                buf = bytearray()
                while True:
                    if j >= n:
                        raise ValueError('quoted field open at end of file')
                    c = data[j:j + 1]
                    if c == b'"':
                        if data[j + 1:j + 2] == b'"':
                            buf += b'"'
                            j += 2
                            continue
                        j += 1
                        break
                    if c == b'\r':
                        line += 1
                        if data[j + 1:j + 2] == b'\n':
                            buf += b'\r\n'
                            j += 2
                            continue
                    elif c == b'\n':
                        line += 1
                    buf += c
                    j += 1
                while j < n and data[j] in b' \t':
                    j += 1
                field = bytes(buf)
            else:
                k = j
                while k < n and data[k] not in b',\r\n':
                    k += 1
                field = data[j:k].rstrip(b' \t')
                j = k
            fields.append(field)
            if j < n and data[j:j + 1] == b',':
                i = j + 1
                continue
            # end of row
            if j < n and data[j:j + 1] == b'\r':
                j += 1
                if j < n and data[j:j + 1] == b'\n':
                    j += 1
                line += 1
            elif j < n and data[j:j + 1] == b'\n':
                j += 1
                line += 1
            i = j
            break
        if len(fields) == 1 and fields[0] == b'' and not quoted:
            continue  # a blank line (or one of spaces and tabs) is not a row
        rows.append((start_line, fields))
    return rows


KNOWN = ['id', 'customer', 'type', 'start', 'end', 'sku', 'region', 'gpus', 'market',
         'interrupted', 'model', 'input_tokens', 'cached_tokens', 'output_tokens', 'batch']


class Reject(Exception):
    def __init__(self, reason):
        Exception.__init__(self, reason)
        self.reason = reason


def check_text(v, required):
    if v == b'':
        if required:
            raise Reject('missing_field')
        return ''
    if len(v) > 128:
        raise Reject('field_too_long')
    try:
        s = v.decode('utf-8')
    except UnicodeDecodeError:
        raise Reject('bad_text')
    for ch in s:
        o = ord(ch)
        if o < 0x20 or o == 0x7f or 0x80 <= o <= 0x9f or 0xd800 <= o <= 0xdfff:
            raise Reject('bad_text')
    return s


def check_ts(v):
    if v == b'':
        raise Reject('missing_field')
    try:
        s = v.decode('ascii')
    except UnicodeDecodeError:
        raise Reject('bad_timestamp')
    t = parse_ts(s)
    if t is None:
        raise Reject('bad_timestamp')
    return t


def check_uint(v, lo, hi, empty_default):
    if v == b'':
        if empty_default is None:
            raise Reject('missing_field')
        return empty_default
    if not re.match(rb'^[0-9]+$', v):
        raise Reject('bad_number')
    x = int(v)
    if x < lo or x > hi:
        raise Reject('bad_number')
    return x


def check_bool(v):
    if v in (b'true', b'1'):
        return True
    if v in (b'false', b'0', b''):
        return False
    raise Reject('bad_value')


def parse_record(header, fields):
    """Validate a row in column order; returns (record dict, content key)."""
    if len(fields) != len(header):
        raise Reject('field_count')
    col = {}
    for name, val in zip(header, fields):
        if name in KNOWN:
            col[name] = val

    def get(name):
        if name not in col:
            raise Reject('missing_field')
        return col[name]

    rec = {}
    rec['id'] = check_text(get('id'), True)
    rec['customer'] = check_text(get('customer'), True)
    t = get('type')
    if t == b'':
        raise Reject('missing_field')
    if t not in (b'gpu', b'tokens'):
        raise Reject('unknown_type')
    rec['type'] = t.decode()
    rec['start'] = check_ts(get('start'))
    if rec['type'] == 'gpu':
        rec['end'] = check_ts(get('end'))
        if rec['end'] <= rec['start']:
            raise Reject('end_not_after_start')
        rec['sku'] = check_text(get('sku'), True)
        rec['region'] = check_text(get('region'), True)
        rec['gpus'] = check_uint(get('gpus'), 1, 100000, None)
        m = col.get('market', b'')
        if m in (b'', b'on_demand'):
            rec['market'] = 'on_demand'
        elif m == b'spot':
            rec['market'] = 'spot'
        else:
            raise Reject('bad_value')
        rec['interrupted'] = check_bool(col.get('interrupted', b''))
    else:
        rec['region'] = check_text(col.get('region', b''), False)
        rec['model'] = check_text(get('model'), True)
        for k in ('input_tokens', 'cached_tokens', 'output_tokens'):
            rec[k] = check_uint(col.get(k, b''), 0, 10 ** 18, 0)
        rec['batch'] = check_bool(col.get('batch', b''))
    # CHOICE (gpubill.1): the duplicate check compares the values of all
    # known columns as written; unknown columns are not compared.
    content = tuple((k, col.get(k)) for k in KNOWN)
    return rec, content


# --------------------------------------------------------------------------
# The rater

HOUR = 3600

KIND_ORDER = ['gpu_reserved', 'gpu_on_demand', 'gpu_spot', 'gpu_spot_interrupted',
              'tokens_input', 'tokens_cached_input', 'tokens_output',
              'discount', 'minimum_spend', 'credit']


def overlap(a, b, c, d):
    x, y = max(a, c), min(b, d)
    return (x, y) if x < y else None


class Rater(object):
    def __init__(self, table, contracts, pfrom, pto):
        self.t = table
        self.pfrom, self.pto = pfrom, pto
        self.contracts = {c.customer: c for c in contracts}
        self.res_by_key = {}   # (customer, sku, region) -> [Reservation]
        for c in contracts:
            for r in c.reservations:
                self.res_by_key.setdefault((c.customer, r.sku, r.region), []).append(r)
        self.seen = {}         # (customer, id) -> content
        self.counts = dict(records=0, billed=0, rejected=0, duplicates=0, outside_period=0, skipped=0)
        self.rejects = []      # (file, line, id, reason)
        self.billed_customers = set()
        # Buckets hold exact integer GPU-seconds / tokens.
        self.od = {}           # (cust, sku, region, spec, version) -> gpu-seconds
        self.od_hours = {}     # (cust, sku, region) -> {hour: [gpu-seconds, spec, version]}
        self.spot = {}         # (cust, sku, region, spec, version) -> gpu-seconds
        self.interrupted = {}  # (cust, sku, region) -> gpu-seconds
        self.tokens = {}       # (cust, model, region, version start, batch, component) -> tokens

    # -- input

    def read_file(self, name, data):
        rows = csv_rows(data)
        if not rows:
            raise ValueError('%s: empty file' % name)
        header = [f.decode('utf-8', 'replace') for f in rows[0][1]]
        for line, fields in rows[1:]:
            self.counts['records'] += 1
            rid = fields[header.index('id')] if 'id' in header and len(fields) == len(header) else b''
            try:
                rec, content = parse_record(header, fields)
            except Reject as e:
                self.reject(name, line, rid, e.reason)
                continue
            # CHOICE (gpubill.1): a record is its (customer, id) pair.
            key = (rec['customer'], rec['id'])
            prev = self.seen.get(key)
            if prev is not None:
                if prev == content:
                    self.counts['duplicates'] += 1
                else:
                    self.reject(name, line, rid, 'duplicate_conflict')
                continue
            self.seen[key] = content
            try:
                state = self.rate(rec)
            except Reject as e:
                self.reject(name, line, rid, e.reason)
                continue
            if state == 'billed':
                self.counts['billed'] += 1
                self.billed_customers.add(rec['customer'])
            else:
                self.counts['outside_period'] += 1

    def reject(self, name, line, rid, reason):
        self.counts['rejected'] += 1
        self.rejects.append((name, line, rid.decode('utf-8', 'replace'), reason))

    # -- rating one record; returns 'billed' or 'outside', or raises Reject

    def rate(self, r):
        if r['type'] == 'tokens':
            return self.rate_tokens(r)
        return self.rate_gpu(r)

    def rate_gpu(self, r):
        s, e = r['start'], r['end']
        P = (self.pfrom, self.pto)
        v0 = self.t.version_at(s)
        if v0 is None or not v0.has_gpu:
            # CHOICE (gpubill.1 rating rule 1): no version at start is
            # no_rate unless [start, end) lies wholly outside the period.
            if overlap(s, e, *P) is None:
                return 'outside'
            raise Reject('no_rate')
        d = e - s
        spot = r['market'] == 'spot'
        if spot and r['interrupted'] and d < v0.free:
            ov = overlap(s, e, *P)
            if ov is None:
                return 'outside'
            # CHOICE (gpubill.1, Spot GPU usage 1): the zero line still
            # needs a spot price over the time it shows, [s, e) in P.
            self.gpu_pieces(r, ov, True)
            k = (r['customer'], r['sku'], r['region'])
            self.interrupted[k] = self.interrupted.get(k, 0) + r['gpus'] * (ov[1] - ov[0])
            return 'billed'
        inc = v0.increment
        b = max(v0.minimum, -(-d // inc) * inc)
        ov = overlap(s, s + b, *P)
        if ov is None:
            return 'outside'
        pieces = self.gpu_pieces(r, ov, spot)
        cust, sku, region, g = r['customer'], r['sku'], r['region'], r['gpus']
        # A bucket is (customer, sku, region, price, price version): CHOICE
        # (gpubill-pricing(5), TIERED PRICES): a tiered price applies to the
        # quantity of one price version; flat prices merge into one line
        # across versions anyway, by the line key.
        if spot:
            for a, bb, spec, vs in pieces:
                k = (cust, sku, region, spec, vs)
                self.spot[k] = self.spot.get(k, 0) + g * (bb - a)
        elif (cust, sku, region) in self.res_by_key:
            hours = self.od_hours.setdefault((cust, sku, region), {})
            for a, bb, spec, vs in pieces:
                x = a
                while x < bb:
                    h = x - x % HOUR
                    y = min(bb, h + HOUR)
                    slot = hours.setdefault(h, [0, spec, vs])
                    assert slot[1:] == [spec, vs]   # versions change on whole hours
                    slot[0] += g * (y - x)
                    x = y
        else:
            for a, bb, spec, vs in pieces:
                k = (cust, sku, region, spec, vs)
                self.od[k] = self.od.get(k, 0) + g * (bb - a)
        return 'billed'

    def gpu_pieces(self, r, ov, spot):
        """[a, b) cut at version starts and, for spot, at spot price changes:
        [(a, b, price, version start)]; Reject('no_rate') when a piece has
        no price."""
        pieces = []
        for a, bb, v in self.t.cut(ov[0], ov[1]):
            if v is None or not v.has_gpu:
                raise Reject('no_rate')
            rate = v.gpu_rate(r['sku'], r['region'])
            if not spot:
                if rate is None or 'on_demand' not in rate:
                    raise Reject('no_rate')
                pieces.append((a, bb, rate['on_demand'], v.start))
            else:
                pts = sorted(set([a, bb] + [c for c in v.spot_changes(r['sku'], r['region']) if a < c < bb]))
                for x, y in zip(pts, pts[1:]):
                    spec = v.spot_entry(r['sku'], r['region'], x)
                    if spec is None:
                        if rate is None or 'spot' not in rate:
                            raise Reject('no_rate')
                        spec = rate['spot']
                    pieces.append((x, y, spec, v.start))
        return pieces

    def rate_tokens(self, r):
        s = r['start']
        if not (self.pfrom <= s < self.pto):
            return 'outside'
        v = self.t.version_at(s)
        if v is None or not v.has_tokens:
            raise Reject('no_rate')
        rate = v.token_rate(r['model'], r['region'])
        if rate is None:
            raise Reject('no_rate')
        comps = (('input', 'input_tokens'), ('cached_input', 'cached_tokens'), ('output', 'output_tokens'))
        for comp, col in comps:
            if r[col] > 0 and comp not in rate:
                raise Reject('no_rate')
        for comp, col in comps:
            if r[col] > 0:
                k = (r['customer'], r['model'], r['region'], v.start, r['batch'], comp)
                self.tokens[k] = self.tokens.get(k, 0) + r[col]
        return 'billed'

    # -- finishing: reservations, pricing, lines, invoices

    def finish(self):
        t = self.t
        lines = {}   # customer -> {key: line dict}

        def add(cust, key, kind, unit_price, qty_base, amount, **extra):
            d = lines.setdefault(cust, {})
            ln = d.get(key)
            if ln is None:
                ln = dict(kind=kind, unit_price=unit_price, base=Fraction(0), amount=Fraction(0),
                          covered=Fraction(0))
                ln.update(extra)
                d[key] = ln
            ln['base'] += qty_base
            ln['amount'] += amount
            return ln

        # Reservations, hour by hour.
        customers = set(self.billed_customers)
        for cust, c in self.contracts.items():
            if c.minimum is not None:
                customers.add(cust)
            for res in c.reservations:
                ov = overlap(res.start, res.end, self.pfrom, self.pto)
                if ov is None:
                    continue
                h = ov[0] - ov[0] % HOUR
                while h < ov[1]:
                    a, b = max(h, ov[0]), min(h + HOUR, ov[1])
                    rate = res.rate_at(t, h)
                    secs = res.gpus * (b - a)
                    add(cust, ('gpu_reserved', res.id, rate), 'gpu_reserved', rate, secs,
                        Fraction(secs) * rate / HOUR, sku=res.sku, region=res.region,
                        reservation=res.id, res_gpus=res.gpus)
                    customers.add(cust)
                    h += HOUR
        # Coverage of on-demand hours.
        for (cust, sku, region), hours in self.od_hours.items():
            resv = self.res_by_key[(cust, sku, region)]
            for h, (used, spec, vs) in hours.items():
                active = [r for r in resv if r.start <= h < r.end]
                active.sort(key=lambda r: (r.rate_at(t, h), r.id.encode('utf-8')))
                left = used
                for r in active:
                    take = min(left, r.gpus * HOUR)
                    if take:
                        rate = r.rate_at(t, h)
                        lines[cust][('gpu_reserved', r.id, rate)]['covered'] += take
                    left -= take
                if left:
                    k = (cust, sku, region, spec, vs)
                    self.od[k] = self.od.get(k, 0) + left
        # GPU buckets -> lines.  Tiers see the customer's tiered usage of
        # the kind, sku and region in the period, in version order.
        for kind, buckets in (('gpu_on_demand', self.od), ('gpu_spot', self.spot)):
            tiered = dict((k, n) for k, n in buckets.items() if k[3][0] != 'flat')
            pos = tier_positions(tiered, lambda k: k[:3], lambda k: k[4] if k[4] is not None else 0)
            for key, secs in buckets.items():
                (cust, sku, region, spec, _) = key
                hours = Fraction(secs, HOUR)
                off, total = pos.get(key, (0, secs))
                for tier, price, q in price_slices_at(spec, hours, Fraction(off, HOUR),
                                                      Fraction(total, HOUR)):
                    add(cust, (kind, sku, region, price, tier), kind, price, q * HOUR, q * price,
                        sku=sku, region=region, tier=tier)
        for (cust, sku, region), secs in self.interrupted.items():
            add(cust, ('gpu_spot_interrupted', sku, region, Fraction(0), 0), 'gpu_spot_interrupted',
                Fraction(0), secs, Fraction(0), sku=sku, region=region, tier=0)
        # Tokens: buckets (customer, model, region, version, batch) per SPEC;
        # tiers see the (customer, model, batch, component) usage of the
        # period.
        def token_spec(k):
            v = t.version_at(k[3])
            return v.token_rate(k[1], k[2])[k[5]]
        tiered = dict((k, n) for k, n in self.tokens.items() if token_spec(k)[0] != 'flat')
        # Token lines have no region, so tiers see the model's usage across
        # regions (in version order, then region order within a version).
        tpos = tier_positions(tiered, lambda k: (k[0], k[1], k[4], k[5]),
                              lambda k: (k[3], k[2].encode('utf-8')))
        for key, n in self.tokens.items():
            (cust, model, region, vstart, batch, comp) = key
            v = t.version_at(vstart)
            rate = v.token_rate(model, region)
            spec = rate[comp]
            off, total = tpos.get(key, (0, n))
            factor = (1 - v.batch_discount) if batch else Fraction(1)
            kind = 'tokens_' + comp
            for tier, price, q in price_slices_at(spec, Fraction(n), Fraction(off),
                                                  Fraction(total)):
                up = price * factor
                add(cust, (kind, model, up, tier), kind, up, q, q * up / 10 ** 6,
                    model=model, tier=tier)
        # Invoices.
        invoices = []
        for cust in sorted(customers, key=lambda s: s.encode('utf-8')):
            d = lines.get(cust, {})
            out = []
            for ln in d.values():
                ln['amount_minor'] = round_minor(ln['amount'], t.minor, t.rounding)
                out.append(ln)

            def sort_key(ln):
                return (KIND_ORDER.index(ln['kind']), ln.get('sku', ln.get('model', '')).encode(),
                        ln.get('region', '').encode(), ln['unit_price'], ln.get('tier', 0),
                        ln.get('reservation', '').encode())
            out.sort(key=sort_key)
            total = sum(ln['amount_minor'] for ln in out)
            c = self.contracts.get(cust)
            if c is not None:
                scale = Fraction(1, 10 ** t.minor)
                for dk, kinds in (('gpu_on_demand', ('gpu_on_demand',)), ('gpu_spot', ('gpu_spot',)),
                                  ('tokens', ('tokens_input', 'tokens_cached_input', 'tokens_output'))):
                    if dk in c.discounts:
                        base = sum(ln['amount_minor'] for ln in out if ln['kind'] in kinds)
                        amt = round_minor(-c.discounts[dk] * base * scale, t.minor, t.rounding)
                        out.append(dict(kind='discount', discount=dk, unit_price=Fraction(amt) * scale,
                                        base=Fraction(1), amount_minor=amt))
                        total += amt
                if c.minimum is not None:
                    # CHOICE (gpubill(1)): the minimum is rounded to minor
                    # units first; SPEC: minimum - total so far, when positive.
                    short = Fraction(round_minor(c.minimum, t.minor, t.rounding)) * scale - Fraction(total) * scale
                    if short > 0:
                        amt = round_minor(short, t.minor, t.rounding)
                        out.append(dict(kind='minimum_spend', unit_price=Fraction(amt) * scale,
                                        base=Fraction(1), amount_minor=amt))
                        total += amt
                for cid, camt in c.credits:
                    use = min(camt, Fraction(total) * scale)
                    if use < 0:
                        use = Fraction(0)
                    amt = round_minor(-use, t.minor, t.rounding)
                    out.append(dict(kind='credit', credit=cid, unit_price=Fraction(amt) * scale,
                                    base=Fraction(1), amount_minor=amt,
                                    remaining=round_minor(camt + Fraction(amt) * scale, t.minor, t.rounding)))
                    total += amt
            invoices.append((cust, total, out))
        return invoices

    # -- output

    def to_json(self, invoices):
        t = self.t
        doc = {
            'format': 'gpubill-invoices/1', 'prices': t.name, 'currency': t.currency,
            'minor_units': t.minor,
            'period': {'from': fmt_ts(self.pfrom), 'to': fmt_ts(self.pto)},
            'invoices': [],
        }
        grand = 0
        for cust, total, out in invoices:
            inv = {'customer': cust, 'total': fmt_minor(total, t.minor), 'lines': []}
            grand += total
            for i, ln in enumerate(out):
                j = {'line': i + 1, 'kind': ln['kind'], 'description': describe(ln)}
                if 'sku' in ln:
                    j['sku'] = ln['sku']
                if 'model' in ln:
                    j['model'] = ln['model']
                if 'region' in ln:
                    j['region'] = ln['region']
                if 'reservation' in ln:
                    j['reservation'] = ln['reservation']
                if 'credit' in ln:
                    j['credit'] = ln['credit']
                if ln.get('tier'):
                    j['tier'] = ln['tier']
                k = ln['kind']
                if k.startswith('gpu'):
                    j['quantity'] = fmt_frac(ln['base'] / HOUR)
                    j['unit'] = 'GPU-hour'
                    j['gpu_seconds'] = fmt_frac(ln['base'])
                elif k.startswith('tokens'):
                    j['quantity'] = fmt_frac(ln['base'] / 10 ** 6)
                    j['unit'] = '1M tokens'
                    j['tokens'] = fmt_frac(ln['base'])
                else:
                    j['quantity'] = '1'
                    j['unit'] = ''
                j['unit_price'] = fmt_exact(ln['unit_price'], t.minor)
                j['amount'] = fmt_minor(ln['amount_minor'], t.minor)
                if k == 'gpu_reserved':
                    j['utilisation'] = fmt_frac(ln['covered'] / ln['base'])
                if k == 'credit':
                    j['credit_remaining'] = fmt_minor(ln['remaining'], t.minor)
                inv['lines'].append(j)
            doc['invoices'].append(inv)
        summ = dict(self.counts)
        summ['invoices'] = len(invoices)
        summ['total'] = fmt_minor(grand, t.minor)
        doc['summary'] = {k: summ[k] for k in ('records', 'billed', 'rejected', 'duplicates',
                                               'outside_period', 'skipped', 'invoices', 'total')}
        return doc


def describe(ln):
    k = ln['kind']
    if k == 'gpu_reserved':
        return 'Reservation %s' % ln['reservation']
    if k.startswith('gpu'):
        return '%s %s, %s%s' % (ln['sku'], k[4:], ln['region'],
                                ', tier %d' % ln['tier'] if ln.get('tier') else '')
    if k.startswith('tokens'):
        return '%s %s%s' % (ln['model'], k[7:], ', tier %d' % ln['tier'] if ln.get('tier') else '')
    if k == 'discount':
        return 'Discount on %s' % ln['discount']
    if k == 'credit':
        return 'Credit %s' % ln['credit']
    return 'Minimum spend shortfall'


# --------------------------------------------------------------------------


def run(prices, contracts, pfrom, pto, usage_files):
    """Load, rate and return (json doc, rejects)."""
    with open(prices, 'rb') as f:
        table = Table(json.loads(f.read().decode('utf-8')))
    cons = []
    if contracts:
        with open(contracts, 'rb') as f:
            cons = [Contract(c) for c in json.loads(f.read().decode('utf-8'))['customers']]
    rater = Rater(table, cons, pfrom, pto)
    for name in usage_files:
        with open(name, 'rb') as f:
            rater.read_file(name, f.read())
    invoices = rater.finish()
    return rater.to_json(invoices), rater.rejects


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--prices', '-p', required=True)
    ap.add_argument('--contracts')
    ap.add_argument('--period')
    ap.add_argument('--from', dest='pfrom')
    ap.add_argument('--to', dest='pto')
    ap.add_argument('--rejects')
    ap.add_argument('usage', nargs='+')
    a = ap.parse_args(argv)
    if a.period:
        pfrom, pto = period_month(a.period)
    else:
        pfrom, pto = parse_ts(a.pfrom), parse_ts(a.pto)
    doc, rejects = run(a.prices, a.contracts, pfrom, pto, a.usage)
    sys.stdout.write(json.dumps(doc, indent=2) + '\n')
    if a.rejects:
        with open(a.rejects, 'w') as f:
            f.write('line,id,reason,file\n')
            for name, line, rid, reason in rejects:
                f.write('%d,%s,%s,%s\n' % (line, rid, reason, name))
    return 1 if rejects else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
