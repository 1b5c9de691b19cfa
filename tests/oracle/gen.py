#!/usr/bin/env python3
"""gen.py - deterministic random inputs for the differential test.

    gen.py SEED OUTDIR

writes OUTDIR/prices.json, OUTDIR/contracts.json, OUTDIR/usage-*.csv and
OUTDIR/args (the period options, one per line).  The same seed gives the
same files on every machine (random.Random(seed), no clock, no hashing of
str objects).

Inputs are valid pricing tables and contracts (the tool would refuse
others), in realistic ranges: two price versions with a change in the middle
of the period, exact and "*" regions, spot price series, sometimes tiered
prices, varying increment, minimum, rounding mode and minor units; a
contracts file with reservations (some overlapping, at different rates),
discounts, minimum spend and credits; and a few hundred usage rows mixing
on-demand, spot (some interrupted) and tokens (batch, cached), with
duplicates, conflicting duplicates, bad rows, rows outside the period and
rows across the period and version boundaries.
"""

import json
import os
import random
import sys
from fractions import Fraction

sys.dont_write_bytecode = True   # leave no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oracle import days_from_civil, fmt_ts, civil_from_days  # noqa: E402

HOUR = 3600
DAY = 86400

SKUS = {'H100-SXM': '2.99', 'H200': '3.48', 'A100-80GB': '1.79', 'L40S': '0.99', 'B200': '4.22'}
REGIONS = ['us-east', 'us-west', 'eu-west', 'ap-south']
MODELS = {'llama-3.1-8b': '0.18', 'llama-3.1-70b': '0.88', 'mixtral-8x7b': '0.60',
          'llama-3.1-405b': '3.50'}
CUSTOMERS = ['acme', 'globex', 'initech', 'hooli', 'umbrella', 'wayne', 'stark', 'Zeta Labs',
             '\u00e4rzte-ag']   # invoices are ordered bytewise: 'Zeta Labs' < 'acme' < 'arzte' with a-umlaut
CURRENCIES = [('USD', 2, 1), ('USD', 2, 1), ('EUR', 2, 1), ('JPY', 0, 150), ('KWD', 3, Fraction(3, 10)),
              ('CLF', 4, Fraction(1, 40))]


def dstr(x, places):
    """Fraction -> decimal string with `places` decimals (x rounded half up)."""
    x = Fraction(x)
    n = int(x * 10 ** places + Fraction(1, 2))
    if places == 0:
        return str(n)
    s = str(n).rjust(places + 1, '0')
    return s[:-places] + '.' + s[-places:]


class Gen(object):
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.seed = seed

    # ------------------------------------------------------------ helpers

    def chance(self, p):
        return self.r.random() < p

    def price(self, base, spread=0.25, places=None):
        """A decimal price string near base (per unit of currency)."""
        r = self.r
        f = Fraction(base) * self.scale * Fraction(r.randint(int((1 - spread) * 1000), int((1 + spread) * 1000)), 1000)
        if places is None:
            places = r.choice([2, 2, 2, 3, 4])
        if f <= 0:
            f = Fraction(1, 100)
        s = dstr(f, places)
        if places >= 3 and self.chance(0.3):
            s = s[:-1] + '5'      # half a minor unit: rounding ties
        if Fraction(s) == 0:
            s = dstr(Fraction(1, 10 ** places), places)
        return s

    def tiered(self, base, unit_hours=True):
        r = self.r
        mode = r.choice(['graduated', 'volume'])
        n = r.choice([2, 2, 3])
        if unit_hours:
            bounds = sorted(r.sample([2, 5, 10, 20, 40, 80, 150, 300], n - 1))
            bounds = [str(b) if not self.chance(0.2) else '%d.5' % b for b in bounds]
        else:
            bounds = sorted(r.sample([1000000, 2000000, 5000000, 10000000, 25000000, 60000000], n - 1))
            bounds = [str(b) for b in bounds]
        tiers = []
        p = Fraction(base)
        for i in range(n):
            tiers.append({'up_to': bounds[i] if i < n - 1 else None, 'price': self.price(p, 0.05)})
            p = p * Fraction(r.randint(70, 95), 100)
        return {'mode': mode, 'tiers': tiers}

    def ts(self, t, exotic=True):
        """A timestamp string for the instant t, sometimes in other forms."""
        r = self.r
        if not exotic or r.random() < 0.8:
            return fmt_ts(t)
        k = r.randint(0, 4)
        if k == 0:   # numeric offset
            off = r.choice([2 * HOUR, -5 * HOUR, 5 * HOUR + 1800, -(3 * HOUR + 1800)])
            lt = t + off
            days, sec = divmod(lt, DAY)
            y, m, d = civil_from_days(days)
            sign = '+' if off >= 0 else '-'
            a = abs(off)
            return '%04d-%02d-%02dT%02d:%02d:%02d%s%02d:%02d' % (
                y, m, d, sec // 3600, sec // 60 % 60, sec % 60, sign, a // 3600, a // 60 % 60)
        if k == 1:   # fractional seconds, truncated
            return fmt_ts(t)[:-1] + '.' + r.choice(['5', '999', '000001', '750']) + 'Z'
        if k == 2:
            return fmt_ts(t).replace('T', 't').replace('Z', 'z')
        if k == 3:
            return fmt_ts(t).replace('T', ' ')
        # a leap second: 23:59:60 is the next day's 00:00:00
        if t % DAY == 0:
            days = t // DAY - 1
            y, m, d = civil_from_days(days)
            return '%04d-%02d-%02dT23:59:60Z' % (y, m, d)
        return fmt_ts(t)

    # ------------------------------------------------------------ table

    def make_table(self):
        r = self.r
        cur, minor, scale = r.choice(CURRENCIES)
        self.scale = Fraction(scale)
        self.minor = minor
        y, m = 2026, r.randint(2, 11)
        self.pfrom = days_from_civil(y, m, 1) * DAY
        self.pto = days_from_civil(y, m + 1, 1) * DAY
        self.period_args = ['--period', '%04d-%02d' % (y, m)]
        if self.chance(0.2):
            # --from/--to on whole hours: a week or two from some day
            self.pfrom += r.randint(0, 20 * 24) * HOUR
            self.pto = self.pfrom + r.randint(3 * 24, 20 * 24) * HOUR
            self.period_args = ['--from', self.ts(self.pfrom), '--to', self.ts(self.pto)]
        if self.chance(0.15):
            v1 = self.pfrom + r.randint(1, 72) * HOUR     # the first version starts inside the period
        else:
            v1 = self.pfrom - r.randint(1, 120) * DAY - r.randint(0, 23) * HOUR
        lo = max(12, (v1 - self.pfrom) // HOUR + 12)
        v2 = self.pfrom + r.randint(lo, max(lo, (self.pto - self.pfrom) // HOUR - 12)) * HOUR
        self.vstarts = [v1, v2]
        self.skus = r.sample(sorted(SKUS), r.randint(2, 4))
        self.regions = REGIONS[:r.randint(2, 4)]
        self.models = r.sample(sorted(MODELS), r.randint(1, 3))
        versions = []
        prev = None
        for vi, vs in enumerate(self.vstarts):
            versions.append(self.make_version(vi, vs, prev))
            prev = versions[-1]
        if self.chance(0.5):
            versions.reverse()   # out of order still works
        table = {
            'format': 'gpubill-pricing/1',
            'name': 'oracle seed %d' % self.seed,
            'currency': cur,
            'minor_units': minor,
            'rounding': r.choice(['half_even', 'half_up', 'down', 'up']),
            'versions': versions,
        }
        if minor == 2 and self.chance(0.3):
            del table['minor_units']
        if table['rounding'] == 'half_even' and self.chance(0.5):
            del table['rounding']
        self.table = table
        return table

    def make_rate(self, sku, region, full=True):
        r = self.r
        base = Fraction(SKUS[sku])
        rate = {'sku': sku, 'region': region}
        if full or self.chance(0.85):
            rate['on_demand'] = self.tiered(base) if self.chance(0.2) else self.price(base)
        if full or self.chance(0.9):
            rate['spot'] = self.tiered(base * Fraction(3, 10)) if self.chance(0.07) else self.price(base * Fraction(3, 10))
        if full or self.chance(0.7):
            rate['reserved'] = {'1y': self.price(base * Fraction(65, 100), 0.1, 4),
                                '3y': self.price(base * Fraction(50, 100), 0.1, 4)}
        if len(rate) == 2:
            rate['on_demand'] = self.price(base)
        return rate

    def make_version(self, vi, vs, prev):
        r = self.r
        v = {'effective_from': fmt_ts(vs) if self.chance(0.8) else self.ts_offset_hour(vs)}
        prev_rates = {}
        if prev is not None and 'gpu' in prev:
            prev_rates = {(x['sku'], x['region']): x for x in prev['gpu']['rates']}
        gpu = {}
        if self.chance(0.8):
            gpu['increment_seconds'] = r.choice([1, 1, 1, 10, 60, 60, 300, 3600])
        if self.chance(0.85):
            gpu['minimum_seconds'] = r.choice([0, 60, 60, 90, 120, 300, 600, 3600])
        if self.chance(0.85):
            gpu['spot_interruption_free_seconds'] = r.choice([0, 300, 600, 1800, 3600, 3600])
        rates = []
        skus = list(self.skus)
        if vi == 1 and len(skus) > 2 and self.chance(0.2):
            skus.pop()      # a sku dropped by the new version: no rate after the change
        for sku in skus:
            if (sku, '*') in prev_rates and self.chance(0.3):
                rates.append(json.loads(json.dumps(prev_rates[(sku, '*')])))   # unchanged price
            else:
                rates.append(self.make_rate(sku, '*'))
            for reg in self.regions:
                if self.chance(0.25):
                    rates.append(self.make_rate(sku, reg, full=False))
        r.shuffle(rates)
        gpu['rates'] = rates
        series = []
        seen = set()
        for sku in skus:
            if not self.chance(0.5):
                continue
            for _ in range(r.randint(1, 4)):
                reg = r.choice(['*', '*'] + self.regions)
                lo = max(vs, self.pfrom - 5 * DAY)
                if vi > 0 and self.chance(0.1):
                    lo = vs - 2 * DAY     # before its version: applies from the version's start
                f = r.randint(lo, self.pto)
                if self.chance(0.5):
                    f -= f % HOUR
                if (sku, reg, f) in seen:
                    continue
                seen.add((sku, reg, f))
                series.append({'sku': sku, 'region': reg, 'from': fmt_ts(f),
                               'price': self.price(Fraction(SKUS[sku]) * Fraction(3, 10), 0.3)})
        if series:
            gpu['spot_prices'] = series
        v['gpu'] = gpu
        if vi == 0 or self.chance(0.85):
            tok = {}
            if self.chance(0.85):
                tok['batch_discount'] = r.choice(['0', '0.50', '0.5', '0.40', '0.25', '0.333'])
            trs = []
            for model in self.models:
                base = Fraction(MODELS[model])
                for reg in ['*'] + ([r.choice(self.regions)] if self.chance(0.3) else []):
                    tr = {'model': model}
                    if reg != '*' or self.chance(0.5):
                        tr['region'] = reg
                    tr['input'] = self.tiered(base, False) if self.chance(0.2) else self.price(base)
                    tr['cached_input'] = self.price(base / 2)
                    tr['output'] = self.tiered(base * 2, False) if self.chance(0.1) else self.price(base * 2)
                    trs.append(tr)
            tok['rates'] = trs
            v['tokens'] = tok
            if vi > 0 and self.chance(0.05):
                del v['gpu']          # a tokens-only version: GPU usage in it has no rate
        return v

    def ts_offset_hour(self, t):
        days, sec = divmod(t + 2 * HOUR, DAY)
        y, m, d = civil_from_days(days)
        return '%04d-%02d-%02dT%02d:%02d:%02d+02:00' % (y, m, d, sec // 3600, sec // 60 % 60, sec % 60)

    # ------------------------------------------------------------ contracts

    def version_rate(self, vi, sku, region):
        # versions in time order
        vs = sorted(self.table['versions'], key=lambda x: self.vtime(x))
        if 'gpu' not in vs[vi]:
            return None
        rates = {(x['sku'], x['region']): x for x in vs[vi]['gpu']['rates']}
        return rates.get((sku, region)) or rates.get((sku, '*'))

    def vtime(self, v):
        from oracle import parse_ts
        return parse_ts(v['effective_from'])

    def table_has_reserved(self, sku, region, term, start, end):
        """Every version in effect during [start, end) has a plain reserved
        price for term, and start is not before the first version."""
        if start < self.vstarts[0]:
            return False
        for vi, vs in enumerate(self.vstarts):
            ve = self.vstarts[vi + 1] if vi + 1 < len(self.vstarts) else None
            if ve is not None and ve <= start:
                continue
            if vs >= end:
                continue
            rate = self.version_rate(vi, sku, region)
            if rate is None or term not in rate.get('reserved', {}):
                return False
        return True

    def make_contracts(self):
        r = self.r
        custs = []
        self.res_targets = []    # (customer, sku, region)
        n = r.randint(2, 5)
        for name in r.sample(CUSTOMERS, n):
            c = {'customer': name}
            if self.chance(0.5):
                c['name'] = name.title() + ' Corp'
            res = []
            for k in range(r.choice([0, 1, 1, 2, 3])):
                sku = r.choice(self.skus)
                reg = r.choice(self.regions)
                if res and self.chance(0.4):
                    sku, reg = res[-1]['sku'], res[-1]['region']   # overlapping, another rate
                kind = r.randint(0, 3)
                if kind == 0:     # the whole period and more
                    st = self.pfrom - r.randint(1, 200) * DAY
                    en = self.pto + r.randint(1, 300) * DAY
                elif kind == 1:   # starts inside the period
                    st = self.pfrom + r.randint(0, (self.pto - self.pfrom) // HOUR - 1) * HOUR
                    en = st + r.randint(1, 24 * 40) * HOUR
                elif kind == 2:   # ends inside the period
                    en = self.pfrom + r.randint(1, (self.pto - self.pfrom) // HOUR) * HOUR
                    st = en - r.randint(1, 24 * 40) * HOUR
                else:             # a few hours or days inside
                    st = self.pfrom + r.randint(0, (self.pto - self.pfrom) // HOUR - 2) * HOUR
                    en = min(self.pto, st + r.randint(1, 24 * 5) * HOUR)
                term = r.choice(['1y', '3y'])
                rv = {'id': '%s-%s-%d' % (name, sku.lower(), k), 'sku': sku, 'region': reg,
                      'gpus': r.choice([1, 2, 4, 4, 8, 8, 16]), 'term': term,
                      'start': fmt_ts(st), 'end': fmt_ts(en)}
                if self.chance(0.3) or not self.table_has_reserved(sku, reg, term, st, en):
                    rv['rate'] = self.price(Fraction(SKUS[sku]) * Fraction(6, 10), 0.15, r.choice([2, 3, 4]))
                    if self.chance(0.2):
                        rv['term'] = 'custom'
                res.append(rv)
                self.res_targets.append((name, sku, reg))
            if res:
                c['reservations'] = res
            if self.chance(0.5):
                d = {}
                for k in ('gpu_on_demand', 'gpu_spot', 'tokens'):
                    if self.chance(0.5):
                        d[k] = r.choice(['0.10', '0.05', '0.125', '0.2', '0.15', '0.333'])
                if d:
                    c['discounts'] = d
            if self.chance(0.35):
                c['minimum_spend'] = dstr(self.scale * r.choice([50, 200, 1000, 5000, 25000]), self.minor)
            if self.chance(0.4):
                c['credits'] = [{'id': 'credit-%d' % i,
                                 'amount': dstr(self.scale * r.choice([10, 25, 100, 500, 2000]) +
                                                Fraction(r.randint(0, 99), 100), self.minor)}
                                for i in range(r.randint(1, 2))]
            custs.append(c)
        r.shuffle(custs)
        self.contract_customers = [c['customer'] for c in custs]
        return {'format': 'gpubill-contracts/1', 'customers': custs}

    # ------------------------------------------------------------ usage

    def start_time(self):
        r = self.r
        k = r.random()
        marks = [self.pfrom, self.pto] + self.vstarts
        if k < 0.15:     # just before a boundary (period or version)
            return r.choice(marks) - r.randint(1, 3 * HOUR)
        if k < 0.2:
            return r.choice(marks) - r.randint(0, 90)
        if k < 0.27:     # outside the period
            return r.choice([self.pfrom - r.randint(4 * HOUR, 5 * DAY), self.pto + r.randint(0, 3 * DAY)])
        t = r.randint(self.pfrom, self.pto - 1)
        if self.chance(0.3):
            t -= t % 60
        return t

    def duration(self, spot=False):
        r = self.r
        k = r.random()
        if k < 0.2:      # whole half hours: tier bounds and rounding ties
            return r.randint(1, 24) * 1800
        if k < 0.3:
            return r.randint(1, 59)
        if k < 0.4:
            return r.randint(60, HOUR)
        if k < 0.9:
            return r.randint(HOUR, 12 * HOUR)
        return r.randint(12 * HOUR, 72 * HOUR)

    def customer(self):
        r = self.r
        if self.chance(0.6) and self.contract_customers:
            return r.choice(self.contract_customers)
        return r.choice(CUSTOMERS)

    def gpu_row(self, rid, spot):
        r = self.r
        cust = self.customer()
        sku = r.choice(self.skus) if self.chance(0.95) else 'TPU-v5'
        reg = r.choice(self.regions)
        targets = [t for t in self.res_targets if t[0] == cust]
        if targets and not spot and self.chance(0.6):
            _, sku, reg = r.choice(targets)
        s = self.start_time()
        if spot and self.chance(0.35):
            d = r.choice([r.randint(1, 600), r.randint(60, 4000), r.randint(3000, 4000)])
            interrupted = r.choice(['true', '1'])
        else:
            d = self.duration()
            interrupted = r.choice(['', '', 'false', '0']) if not self.chance(0.05) else 'true'
        gpus = r.choice([1, 1, 2, 4, 8, 8, 16])
        if self.chance(0.03):
            gpus = r.choice([64, 256, 1024, 100000])
        market = 'spot' if spot else r.choice(['on_demand', 'on_demand', ''])
        row = {'_e': s + d, 'id': rid, 'customer': cust, 'type': 'gpu', 'start': self.ts(s), 'end': self.ts(s + d),
               'sku': sku, 'region': reg, 'gpus': str(gpus) if not self.chance(0.03) else '0' + str(gpus),
               'market': market, 'interrupted': interrupted}
        return row

    def token_row(self, rid):
        r = self.r
        model = r.choice(self.models) if self.chance(0.95) else 'gpt-unknown'
        s = self.start_time()
        row = {'id': rid, 'customer': self.customer(), 'type': 'tokens', 'start': self.ts(s),
               'model': model, 'region': r.choice(self.regions) if self.chance(0.4) else '',
               'input_tokens': str(r.randint(0, 4000000) if self.chance(0.8) else r.randint(1, 8) * 500000)
               if self.chance(0.9) else '',
               'cached_tokens': str(r.randint(0, 2000000)) if self.chance(0.6) else '',
               'output_tokens': str(r.randint(0, 1500000)) if self.chance(0.9) else '',
               'batch': r.choice(['', 'false', 'true', 'true', '1', '0'])}
        if self.chance(0.05):
            row['input_tokens'] = str(r.randint(10 ** 8, 10 ** 9))
        return row

    def bad_row(self, rid):
        """A row with exactly one problem: (row, reason)."""
        r = self.r
        row = self.gpu_row(rid, False) if self.chance(0.7) else self.token_row(rid)
        row['_orig'] = dict(row)
        gpu = row['type'] == 'gpu'
        k = r.randint(0, 12)
        if k == 0:
            row['start'] = r.choice(['2026-10-09T24:00:00Z', '2026-02-30T10:00:00Z', 'yesterday',
                                     '2026-10-01 10:00:00', '2026-10-01T10:00Z'])
            return row, 'bad_timestamp'
        if k == 1:
            row['customer'] = ''
            return row, 'missing_field'
        if k == 2 and gpu:
            row[r.choice(['sku', 'region', 'end', 'gpus'])] = ''
            return row, 'missing_field'
        if k == 2:
            row['model'] = ''
            return row, 'missing_field'
        if k == 3 and gpu:
            row['gpus'] = r.choice(['0', '1.5', '-2', '100001', '8 GPUs', '1e3'])
            return row, 'bad_number'
        if k == 3:
            row['output_tokens'] = r.choice(['12.5', '-1', '1000000000000000001', 'many'])
            return row, 'bad_number'
        if k == 4 and gpu:
            row['end'] = row['start'] if self.chance(0.5) else '2020-01-01T00:00:00Z'
            return row, 'end_not_after_start'
        if k == 5:
            row['type'] = r.choice(['cpu', 'GPU', 'token'])
            return row, 'unknown_type'
        if k == 6 and gpu:
            if self.chance(0.5):
                row['market'] = r.choice(['preemptible', 'Spot', 'reserved'])
            else:
                row['interrupted'] = r.choice(['yes', 'TRUE', 'no'])
            return row, 'bad_value'
        if k == 6:
            row['batch'] = r.choice(['yes', 'True', '2'])
            return row, 'bad_value'
        if k == 7:
            row['id'] = rid + '-' + 'x' * 130
            return row, 'field_too_long'
        if k == 8:
            row['customer'] = row['customer'] + '\x01'
            return row, 'bad_text'
        if k == 9:
            row['_drop'] = True
            return row, 'field_count'
        if k == 10:
            row['end' if gpu else 'start'] = '2026-10-01T25:00:00Z'
            return row, 'bad_timestamp'
        if k == 11:
            row['type'] = ''
            return row, 'missing_field'
        row['customer'] = 'c' * 129
        return row, 'field_too_long'

    def make_usage(self):
        r = self.r
        rows = []
        n = r.randint(150, 400)
        good = []
        bad = []
        for i in range(n):
            rid = 'u-%05d' % i
            k = r.random()
            if k < 0.45:
                row = self.gpu_row(rid, False)
            elif k < 0.65:
                row = self.gpu_row(rid, True)
            elif k < 0.86:
                row = self.token_row(rid)
            elif k < 0.92:
                row, _ = self.bad_row(rid)
                row['_bad'] = True
            elif k < 0.93 and bad:
                row = dict(r.choice(bad)['_orig'])  # a bad row resent, fixed: its id was not claimed
            elif k < 0.97 and good:
                row = dict(r.choice(good + bad[:1]))  # a meter's retry (of a bad row: rejected again)
                row.pop('note', None)
                if self.chance(0.5):
                    row['note'] = 'retry'
            elif good:
                row = dict(r.choice(good))          # same id, different content
                if self.chance(0.3):
                    # another customer's record that happens to share the
                    # id: a record is its (customer, id) pair
                    row['customer'] = self.customer()
                elif row['type'] == 'gpu':
                    f = r.choice(['gpus', 'end', 'region'])
                    if f == 'gpus' and row['gpus'].isdigit():
                        row['gpus'] = str(int(row['gpus']) % 100000 + 1)
                    elif f == 'end' and '_e' in row:
                        row['end'] = fmt_ts(row['_e'] + r.choice([1, 60, 3600]))
                    else:
                        row['region'] = row['region'] + '-2'
                else:
                    ot = row['output_tokens']
                    row['output_tokens'] = str(int(ot) + 7) if ot.isdigit() else '7'
            else:
                row = self.token_row(rid)
            if self.chance(0.1):
                row['note'] = r.choice(['nightly, training', 'say "hi"', 'two\nlines', 'plain'])
            rows.append(row)
            if not row.get('_bad'):
                good.append(row)
            else:
                bad.append(row)
        return rows

    def write_csv(self, path, rows):
        r = self.r
        cols = ['id', 'customer', 'type', 'start', 'end', 'sku', 'region', 'gpus', 'market',
                'interrupted', 'model', 'input_tokens', 'cached_tokens', 'output_tokens', 'batch', 'note']
        if self.chance(0.3):
            r.shuffle(cols)
        out = [','.join(cols)]
        for row in rows:
            vals = [row.get(c, '') for c in cols]
            if row.get('_drop'):
                vals = vals[:-1]
            cells = [q(v) for v in vals]
            if self.chance(0.03):
                # spaces and tabs around a field (quoted or not) are dropped
                cells = [' %s\t' % c if c else c for c in cells]
            out.append(','.join(cells))
            if self.chance(0.02):
                out.append('')   # a blank line
        eol = r.choice(['\n', '\n', '\n', '\r\n', '\r'])
        bom = b'\xef\xbb\xbf' if self.chance(0.1) else b''
        with open(path, 'wb') as f:
            f.write(bom + (eol.join(out) + eol).encode('utf-8'))

    def generate(self, outdir):
        table = self.make_table()
        contracts = self.make_contracts()
        rows = self.make_usage()
        os.makedirs(outdir, exist_ok=True)
        with open(os.path.join(outdir, 'prices.json'), 'w') as f:
            json.dump(table, f, indent=1)
        with open(os.path.join(outdir, 'contracts.json'), 'w') as f:
            json.dump(contracts, f, indent=1)
        files = []
        if self.chance(0.3):
            cut = self.r.randint(1, len(rows) - 1)
            parts = [rows[:cut], rows[cut:]]
        else:
            parts = [rows]
        for i, part in enumerate(parts):
            p = os.path.join(outdir, 'usage-%d.csv' % (i + 1))
            self.write_csv(p, part)
            files.append(p)
        with open(os.path.join(outdir, 'args'), 'w') as f:
            f.write(''.join(a + '\n' for a in self.period_args))
        return {'prices': os.path.join(outdir, 'prices.json'),
                'contracts': os.path.join(outdir, 'contracts.json'),
                'period': self.period_args, 'usage': files}


def q(v):
    if v == '' or not any(c in v for c in ',"\r\n') and v == v.strip(' \t'):
        return v
    return '"' + v.replace('"', '""') + '"'


def generate(seed, outdir):
    return Gen(seed).generate(outdir)


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.stderr.write('usage: gen.py SEED OUTDIR\n')
        sys.exit(2)
    print(json.dumps(generate(int(sys.argv[1]), sys.argv[2])))
