#!/usr/bin/env python3
"""explain_check.py - property test of `gpubill explain` on generated inputs.

    explain_check.py GPUBILL [SEED...]

For seeds 1..N (N from EXPLAIN_SEEDS, default 60) gen.py writes a pricing
table, contracts and usage (tiers, reservations, spot series, batch tokens,
bad rows, duplicates).  Every id of the usage is explained in one run, and:

  - each usage line of each invoice (on-demand, spot, tokens) is exactly the
    sum of the shares that explain gives it: amounts and base quantities,
    as exact fractions;
  - every row is explained once per occurrence, with the state the invoice
    summary counts (billed, duplicate, outside period; rejected rows may
    lack an id to ask for);
  - a billed record's charge is the sum of its shares.

Ends with "N passed, M failed"; exit status 1 on failure.
"""

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from fractions import Fraction

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import gen  # noqa: E402

USAGE_KINDS = {'gpu_on_demand', 'gpu_spot', 'gpu_spot_interrupted',
               'tokens_input', 'tokens_cached_input', 'tokens_output'}


def ids_of(paths):
    ids = []
    for p in paths:
        with open(p, newline='', encoding='utf-8-sig', errors='replace') as f:
            rows = list(csv.reader(f, skipinitialspace=True))
        if not rows or 'id' not in rows[0]:
            continue
        col = rows[0].index('id')
        for r in rows[1:]:
            # the reader trims unquoted fields, as libcsv does
            v = r[col].strip(' \t') if len(r) > col else ''
            if v and v not in ids:
                ids.append(v)
    return ids


def check_seed(binary, seed, work):
    d = os.path.join(work, 'seed-%d' % seed)
    g = gen.generate(seed, d)
    base = [binary, None, '-q', '-p', g['prices'], '--contracts', g['contracts'],
            '-f', 'json'] + g['period']
    inv_cmd = list(base)
    inv_cmd[1] = 'invoice'
    p = subprocess.run(inv_cmd + g['usage'], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode not in (0, 1):
        return ['invoice exited %d: %s' % (p.returncode, p.stderr.decode())]
    invoices = json.loads(p.stdout.decode())
    ids = ids_of(g['usage'])
    if not ids:
        return []
    ex_cmd = list(base)
    ex_cmd[1] = 'explain'
    for i in ids:
        ex_cmd += ['--id', i]
    p = subprocess.run(ex_cmd + g['usage'], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode not in (0, 1):
        return ['explain exited %d: %s' % (p.returncode, p.stderr.decode())]
    ex = json.loads(p.stdout.decode())
    problems = []
    lines = {}
    for inv in invoices['invoices']:
        for n, ln in enumerate(inv['lines'], 1):
            lines[(inv['customer'], n)] = ln
    amount = defaultdict(Fraction)
    basis = defaultdict(Fraction)
    states = Counter()
    for rec in ex['records']:
        states[rec['state']] += 1
        charge = Fraction(0)
        for pc in rec.get('pieces', []):
            for sh in pc['lines']:
                key = (sh['customer'], sh['line'])
                if key not in lines:
                    problems.append('%s: share of a line that does not exist: %s' % (rec['id'], key))
                    continue
                amount[key] += Fraction(sh['share_fraction'])
                basis[key] += Fraction(sh['base_quantity_fraction'])
                charge += Fraction(sh['share_fraction'])
        if rec['state'] == 'billed' and Fraction(rec['charge_exact_fraction']) != charge:
            problems.append('%s: charge %s is not the sum of its shares %s'
                            % (rec['id'], rec['charge_exact_fraction'], charge))
    for key, ln in lines.items():
        if ln['kind'] not in USAGE_KINDS:
            continue
        want_amount = Fraction(ln['amount'])
        want_base = Fraction(ln.get('gpu_seconds', ln.get('tokens', '0')))
        if amount[key] != want_amount or basis[key] != want_base:
            problems.append('line %s %s: amount %s, shares add to %s; base %s, shares add to %s'
                            % (key, ln.get('description', ''), want_amount, amount[key],
                               want_base, basis[key]))
    c = invoices['summary'] if 'summary' in invoices else invoices.get('counts', {})
    for state, name in (('billed', 'billed'), ('rejected', 'rejected'),
                        ('duplicate', 'duplicates'), ('outside period', 'outside_period')):
        # a rejected row may have no id to ask for; every other row has one
        if name in c and (int(c[name]) != states[state] if state != 'rejected'
                          else int(c[name]) < states[state]):
            problems.append('%s: explain shows %d rows, the invoice summary %s'
                            % (state, states[state], c[name]))
    if not problems:
        shutil.rmtree(d)
    return problems


def main(argv):
    if not argv:
        sys.stderr.write('usage: explain_check.py GPUBILL [SEED...]\n')
        return 2
    binary = os.path.abspath(argv[0])
    seeds = [int(x) for x in argv[1:]] or \
        list(range(1, int(os.environ.get('EXPLAIN_SEEDS', '60')) + 1))
    work = tempfile.mkdtemp(prefix='gpubill-explain.')
    passed = failed = 0
    try:
        for seed in seeds:
            problems = check_seed(binary, seed, work)
            if problems:
                failed += 1
                print('seed %d: FAIL' % seed)
                for pr in problems[:20]:
                    print('  ' + pr)
            else:
                passed += 1
    finally:
        if not failed:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print('inputs kept in %s' % work)
    print('%d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
