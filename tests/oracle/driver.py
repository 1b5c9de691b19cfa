#!/usr/bin/env python3
"""driver.py - the differential test: gen.py inputs, gpubill vs oracle.py.

    driver.py GPUBILL [SEED...]

Seeds 1..N (N from ORACLE_SEEDS, default 200) unless seeds are given.
For each seed: generate the inputs, run `gpubill invoice -f json --rejects`
and the oracle, and compare the invoice totals per customer, every line
(kind, sku/model, region, tier, unit price, quantity, amount, reservation
utilisation, credit left), the order of the lines, the summary counts and
the rejected rows (line and reason).  A failing seed's inputs and both
outputs are kept in ORACLE_KEEP (default ./oracle-failures), and a readable
diff is printed.  Ends with "N passed, M failed"; exit status 1 on failure.
"""

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from fractions import Fraction

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True   # leave no __pycache__ in the source tree
sys.path.insert(0, HERE)
import gen      # noqa: E402
import oracle   # noqa: E402


def frac(s):
    return Fraction(s) if s not in (None, '') else None


def norm_lines(doc):
    """{customer: (total, [(key, fields)])} from an invoices JSON document."""
    out = {}
    for inv in doc['invoices']:
        lines = []
        ndisc = 0
        for ln in inv['lines']:
            k = ln['kind']
            if k == 'gpu_reserved':
                ident = ln.get('reservation')
            elif k == 'credit':
                ident = ln.get('credit')
            elif k == 'discount':
                ident = '#%d' % ndisc
                ndisc += 1
            else:
                ident = ln.get('sku') or ln.get('model') or ''
            key = (k, ident, ln.get('region', ''), ln.get('tier', 0), str(frac(ln['unit_price'])))
            base = ln.get('gpu_seconds', ln.get('tokens'))
            fields = {'amount': ln['amount'],
                      'quantity': str(frac(ln['quantity']))}
            if base is not None:
                fields['base'] = str(frac(base))
            if 'utilisation' in ln:
                fields['utilisation'] = str(frac(ln['utilisation']))
            if 'credit_remaining' in ln:
                fields['credit_remaining'] = ln['credit_remaining']
            lines.append((key, fields))
        out[inv['customer']] = (inv['total'], lines)
    return out


def fmt_key(key):
    k, ident, region, tier, price = key
    s = '%s %s' % (k, ident)
    if region:
        s += ' ' + region
    if tier:
        s += ' tier%d' % tier
    return s + ' @' + price


def compare(tool, orc, tool_rejects, orc_rejects):
    """A list of human-readable differences (empty when they agree)."""
    diffs = []
    ts, osum = tool['summary'], orc['summary']
    for k in ('records', 'billed', 'rejected', 'duplicates', 'outside_period', 'skipped', 'invoices', 'total'):
        if ts.get(k) != osum.get(k):
            diffs.append('summary %s: tool %s, oracle %s' % (k, ts.get(k), osum.get(k)))
    tl, ol = norm_lines(tool), norm_lines(orc)
    for cust in sorted(set(tl) | set(ol)):
        if cust not in tl:
            diffs.append('%s: invoice only in the oracle (total %s)' % (cust, ol[cust][0]))
            continue
        if cust not in ol:
            diffs.append('%s: invoice only in the tool (total %s)' % (cust, tl[cust][0]))
            continue
        (ttot, tlines), (otot, olines) = tl[cust], ol[cust]
        if ttot != otot:
            diffs.append('%s: total: tool %s, oracle %s' % (cust, ttot, otot))
        td, od = dict(tlines), dict(olines)
        if len(td) != len(tlines):
            diffs.append('%s: the tool has two lines with the same key' % cust)
        for key in [k for k, _ in tlines] + [k for k, _ in olines if k not in td]:
            if key not in od:
                diffs.append('%s: line only in the tool: %s %s' % (cust, fmt_key(key), td[key]))
            elif key not in td:
                diffs.append('%s: line only in the oracle: %s %s' % (cust, fmt_key(key), od[key]))
            else:
                for f in sorted(set(td[key]) | set(od[key])):
                    if td[key].get(f) != od[key].get(f):
                        diffs.append('%s: %s: %s: tool %s, oracle %s' % (
                            cust, fmt_key(key), f, td[key].get(f), od[key].get(f)))
        if not diffs and [k for k, _ in tlines] != [k for k, _ in olines]:
            diffs.append('%s: same lines, different order:\n    tool:   %s\n    oracle: %s' % (
                cust, ' | '.join(fmt_key(k) for k, _ in tlines), ' | '.join(fmt_key(k) for k, _ in olines)))
    tr = [(os.path.basename(f), int(line), reason) for f, line, reason in tool_rejects]
    orr = [(os.path.basename(f), line, reason) for f, line, _, reason in orc_rejects]
    if tr != orr:
        ts_, os_ = set(tr), set(orr)
        for x in sorted(ts_ - os_):
            diffs.append('reject only in the tool: %s:%d %s' % x)
        for x in sorted(os_ - ts_):
            diffs.append('reject only in the oracle: %s:%d %s' % x)
    return diffs


def listing(doc):
    """A normalised text listing of an invoices document, for diff -u."""
    out = []
    for cust, (total, lines) in sorted(norm_lines(doc).items()):
        out.append('%s total %s' % (cust, total))
        for key, f in lines:
            out.append('  %s: %s' % (fmt_key(key), ' '.join('%s=%s' % kv for kv in sorted(f.items()))))
    s = doc['summary']
    out.append('summary ' + ' '.join('%s=%s' % (k, s.get(k)) for k in
                                     ('records', 'billed', 'rejected', 'duplicates', 'outside_period',
                                      'invoices', 'total')))
    return out


def run_seed(binary, seed, workdir):
    d = os.path.join(workdir, 'seed-%d' % seed)
    if os.path.exists(d):
        shutil.rmtree(d)
    g = gen.generate(seed, d)
    rej = os.path.join(d, 'tool-rejects.csv')
    cmd = [binary, 'invoice', '-q', '-p', g['prices'], '--contracts', g['contracts'],
           '-f', 'json', '--rejects', rej] + g['period'] + g['usage']
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    problems = []
    tool = None
    if p.returncode not in (0, 1):
        problems.append('gpubill exited with status %d: %s' % (p.returncode, p.stderr.decode('utf-8', 'replace').strip()))
    else:
        tool = json.loads(p.stdout.decode('utf-8'))
    pfrom, pto = oracle.period_args(g['period'])
    orc, orc_rejects = oracle.run(g['prices'], g['contracts'], pfrom, pto, g['usage'])
    with open(os.path.join(d, 'oracle.json'), 'w') as f:
        json.dump(orc, f, indent=2)
    if tool is not None:
        with open(os.path.join(d, 'tool.json'), 'wb') as f:
            f.write(p.stdout)
        tool_rejects = []
        if os.path.exists(rej):
            with open(rej, newline='', encoding='utf-8') as f:
                for row in list(csv.reader(f))[1:]:
                    tool_rejects.append((row[4], row[0], row[2]))
        want_rc = 1 if orc_rejects else 0
        if p.returncode != want_rc:
            problems.append('gpubill exited with status %d, want %d' % (p.returncode, want_rc))
        problems += compare(tool, orc, tool_rejects, orc_rejects)
    return d, cmd, tool, orc, problems


def main(argv):
    if not argv:
        sys.stderr.write('usage: driver.py GPUBILL [SEED...]\n')
        return 2
    binary = os.path.abspath(argv[0])
    if argv[1:]:
        seeds = [int(x) for x in argv[1:]]
    else:
        seeds = list(range(1, int(os.environ.get('ORACLE_SEEDS', '200')) + 1))
    keep = os.path.abspath(os.environ.get('ORACLE_KEEP', 'oracle-failures'))
    if os.path.isdir(keep):   # failures of an earlier run
        for x in os.listdir(keep):
            if x.startswith('seed-'):
                shutil.rmtree(os.path.join(keep, x), ignore_errors=True)
    work = tempfile.mkdtemp(prefix='gpubill-oracle.')
    passed = failed = 0
    try:
        for seed in seeds:
            d, cmd, tool, orc, problems = run_seed(binary, seed, work)
            if not problems:
                passed += 1
                shutil.rmtree(d)
                continue
            failed += 1
            dest = os.path.join(keep, 'seed-%d' % seed)
            if os.path.exists(dest):
                shutil.rmtree(dest)
            os.makedirs(keep, exist_ok=True)
            shutil.move(d, dest)
            print('FAIL seed %d (inputs and outputs kept in %s)' % (seed, dest))
            print('  command: %s' % ' '.join(cmd).replace(d, dest))
            for x in problems[:40]:
                print('  ' + x)
            if len(problems) > 40:
                print('  ... and %d more differences' % (len(problems) - 40))
            if tool is not None:
                import difflib
                diff = list(difflib.unified_diff(listing(tool), listing(orc), 'gpubill', 'oracle', lineterm='', n=1))
                if diff:
                    print('  normalised diff:')
                    for x in diff[:80]:
                        print('    ' + x)
            sys.stdout.flush()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print('%d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
