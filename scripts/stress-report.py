#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# The report of `make stress` (scripts/stress.sh) from the guest's serial
# log: the KTAP of the suites built in (at boot) and of the dma-iommu module
# loaded strict and lazy=1, the kernel's messages in between, and the
# guest's "GUEST: stress ..." lines.
#
# Each KUnit case gets what was printed while it ran: the reliability
# suite's "stress: operations N injected N refused N leaks N mismatches N
# exposed N" line, the end-of-case leak check's "leak:" failures, and any
# WARN, BUG or DMA-API report (the cases suppress the ones they expect, so
# every one printed is unexpected).  Writes to --results:
#
#   stress.json        every case with its figures, and "summary"
#   stress.tap         one test per table row: leaks, mismatches, warnings
#                      and exposed bytes all 0 (and the case passed)
#   reliability.md     the table, the method and the command
#   kunit-stress-<run>.json   kunit.py parse of each run, for summary.sh
#
# and prints the table.  Exits 1 when a row fails.
import argparse
import json
import os
import re
import subprocess
import sys

RESULT = re.compile(r'^(\s*)(ok|not ok) (\d+) (.*?)(?:\s+#\s*(SKIP.*))?$')
SUBTEST = re.compile(r'^(\s*)# Subtest: (\S+)')
STRESS = re.compile(r'stress: operations (\d+) injected (\d+) refused (\d+) '
                    r'leaks (\d+) mismatches (\d+) exposed (\d+)')
LEAK = re.compile(r'^\s*leak: \S+: ')   # dit_leaks(): "leak: <device>: ..."
WARN = re.compile(r'(^|\] )(WARNING:|BUG:|DMA-API: |Kernel panic|kernel BUG)')
# DMA-API lines that are no report: its start-up lines, and the "Mapped
# at:" trace it adds after a report's WARN (counted already, or suppressed
# by the case that expected it)
QUIET = re.compile(r'DMA-API: (preallocated \d+ debug entries|'
                   r'debugging enabled by kernel config|Mapped at:)')
FIELDS = ('operations', 'injected', 'refused', 'leaks', 'mismatches',
          'warnings', 'exposed_bytes')


def segments(lines):
    """Split the log at the guest's markers: boot, strict, lazy."""
    segs = {'boot': [], 'strict': [], 'lazy': []}
    cur = 'boot'
    for line in lines:
        m = re.search(r'GUEST: stress insmod (strict|lazy)$', line)
        if m:
            cur = m.group(1)
            continue
        if re.search(r'GUEST: stress (rmmod|insmod) \w+ \w+$', line):
            cur = None
            continue
        if cur:
            segs[cur].append(line)
    return segs


def leaves(lines):
    """(suite, case, param, passed, figures) of each leaf case."""
    names = {}
    pending = []
    params = False
    for line in lines:
        m = SUBTEST.match(line)
        if m:
            ind = len(m.group(1))
            names[ind] = m.group(2)
            if ind >= 8:
                params = True
            continue
        m = RESULT.match(line)
        if m:
            ind, desc = len(m.group(1)), m.group(4)
            passed = m.group(2) == 'ok' and not m.group(5)
            if ind == 8 or (ind == 4 and not params):
                case = names.get(8) if ind == 8 else desc
                param = desc if ind == 8 else ''
                yield names.get(4, '?'), case, param, passed, pending
                pending = []
            if ind <= 4:
                params = False
                names.pop(8, None)
            continue
        pending.append(line)


def figures(lines):
    f = dict.fromkeys(FIELDS, 0)
    stress = False
    for line in lines:
        m = STRESS.search(line)
        if m:
            stress = True
            for k, v in zip(('operations', 'injected', 'refused', 'leaks',
                             'mismatches', 'exposed_bytes'), m.groups()):
                f[k] += int(v)
        if LEAK.match(line):
            f['leaks'] += 1
        if WARN.search(line) and not QUIET.search(line):
            f['warnings'] += 1
    return f, stress


def kunit_parse(src, results, run, lines):
    ktap = os.path.join(results, f'stress-{run}.ktap')
    with open(ktap, 'w', encoding='utf-8') as f:
        f.write('\n'.join(lines) + '\n')
    js = os.path.join(results, f'kunit-stress-{run}.json')
    if os.path.exists(js):
        os.remove(js)
    with open(os.path.join(results, f'kunit-stress-{run}.log'), 'w',
              encoding='utf-8') as log:
        subprocess.run([sys.executable, 'tools/testing/kunit/kunit.py',
                        'parse', f'--json={js}', ktap], cwd=src,
                       stdout=log, stderr=subprocess.STDOUT, check=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--src', required=True)
    ap.add_argument('--results', required=True)
    ap.add_argument('--command', default='make stress')
    ap.add_argument('log')
    a = ap.parse_args()
    with open(a.log, encoding='utf-8', errors='replace') as f:
        lines = f.read().splitlines()
    guest = [l.split('GUEST: ', 1)[1] for l in lines if 'GUEST: ' in l]

    cases, rows = [], []
    for run, seg in segments(lines).items():
        if seg:
            kunit_parse(a.src, a.results, run, seg)
        other = dict.fromkeys(FIELDS, 0)
        n_other = failed_other = 0
        for suite, case, param, passed, pend in leaves(seg):
            f, stress = figures(pend)
            name = f'{suite}.{case}' + (f' {param}' if param else '')
            cases.append(dict(run=run, case=name, passed=passed, **f))
            if stress:
                rows.append(dict(run=run, case=name, passed=passed, **f))
            else:
                n_other += 1
                failed_other += not passed
                for k in ('leaks', 'warnings'):
                    other[k] += f[k]
        if n_other:
            other['operations'] = n_other
            other['mismatches'] = failed_other
            rows.append(dict(run=run, case=f'every other case ({n_other})',
                             passed=not failed_other, **other))

    def gval(key):
        for g in guest:
            m = re.match(rf'stress {key} (\d+)$', g)
            if m:
                return int(m.group(1))
        return None

    kmemleak = gval('kmemleak')
    rows.append(dict(run='after', case='kmemleak: unreferenced objects',
                     passed=kmemleak is not None, **dict.fromkeys(FIELDS, 0),
                     ))
    rows[-1]['leaks'] = kmemleak if kmemleak is not None else 1
    checks = [('guest ran both module loads and powered off',
               'done' in guest),
              ('insmod dma_iommu_kunit.ko (strict)',
               'stress insmod strict ok' in guest),
              ('insmod dma_iommu_kunit.ko lazy=1',
               'stress insmod lazy ok' in guest),
              ('rmmod after both runs',
               'stress rmmod strict ok' in guest and
               'stress rmmod lazy ok' in guest),
              ('the strict and the lazy run reported cases',
               any(c['run'] == 'strict' for c in cases) and
               any(c['run'] == 'lazy' for c in cases))]

    def bad(r):
        return (not r['passed'] or r['leaks'] or r['mismatches'] or
                r['warnings'] or r['exposed_bytes'])

    hdr = ('run', 'case', 'operations', 'injected', 'refused', 'leaks',
           'mismatches', 'warnings', 'exposed')
    table = [hdr] + [(r['run'], r['case'] + ('' if r['passed'] else ' FAILED'),
                      *(str(r[k]) for k in FIELDS)) for r in rows]
    w = [max(len(t[i]) for t in table) for i in range(len(hdr))]
    text = '\n'.join('  '.join(c.ljust(w[i]) if i < 2 else c.rjust(w[i])
                               for i, c in enumerate(t)) for t in table)
    print(text)

    summary = {'cases': len(cases), 'rows': len(rows)}
    for k in FIELDS:
        summary[k if k != 'operations' else 'operations'] = sum(
            r[k] for r in rows if r['run'] != 'after')
    summary['leaks'] += rows[-1]['leaks']
    summary['failed_cases'] = sum(not c['passed'] for c in cases)
    summary['kmemleak_unreferenced'] = kmemleak
    summary['dma_api_error_count'] = {'before': gval('dma-api errors before'),
                                      'after': gval('dma-api errors after')}
    summary['injected_failures'] = summary.pop('injected')
    with open(os.path.join(a.results, 'stress.json'), 'w',
              encoding='utf-8') as f:
        json.dump({'command': a.command, 'rows': rows, 'cases': cases,
                   'checks': [{'name': n, 'ok': ok} for n, ok in checks],
                   'summary': summary}, f, indent=1)

    ok = True
    with open(os.path.join(a.results, 'stress.tap'), 'w',
              encoding='utf-8') as f:
        f.write('TAP version 13\n')
        f.write(f'1..{len(rows) + len(checks)}\n')
        i = 0
        for name, good in checks:
            i += 1
            ok &= good
            f.write(f'{"ok" if good else "not ok"} {i} stress: {name}\n')
        for r in rows:
            i += 1
            good = not bad(r)
            ok &= good
            f.write(f'{"ok" if good else "not ok"} {i} stress {r["run"]}: '
                    f'{r["case"]}: leaks {r["leaks"]} mismatches '
                    f'{r["mismatches"]} warnings {r["warnings"]} exposed '
                    f'{r["exposed_bytes"]}\n')

    md = f"""# Reliability: failure injection, lazy flushing, concurrency

Produced by `{a.command}` (scripts/stress.sh, scripts/stress-report.py).

Method: the debug kernel (configs/debug.config: KASAN, kmemleak,
PROVE_LOCKING, DEBUG_ATOMIC_SLEEP, DEBUG_LIST, DEBUG_VM, DMA_API_DEBUG)
with fault injection (configs/stress.config) boots in a 4-CPU QEMU guest.
The driver suites run built in; the dma-iommu suites are loaded as a module
twice, with strict domains and with lazy=1 (every domain a flush queue).
Every case of every suite ends with a check that the device's domain holds
no more mapped bytes, IOMMU pages, IOVA space or bounce slots than before,
and that no IOMMU page was mapped again before its invalidation ("leaks").
The `dma_iommu_reliability` cases walk a failure through every page table
update (the mock's map_pages()) and every slab and page allocation
(fail_nth, with failslab and fail_page_alloc set to fail any gfp and
order) of each DMA API operation ("injected"); run threads, two per CPU,
on four devices sharing a domain; and feed bad input.  "refused" counts
mappings that found no bounce slot free and were tried again, as a driver
would.  "mismatches" counts mappings whose page table or bytes differ from
the buffers (and, for the other cases, failed cases); "exposed" counts bytes
an untrusted device could reach beyond what it was given; "warnings" counts
WARN, BUG and DMA-API reports no case asked for.  After both runs, the
module is removed and kmemleak scans twice.

```
{text}
```

Summary: {json.dumps(summary)}
"""
    with open(os.path.join(a.results, 'reliability.md'), 'w',
              encoding='utf-8') as f:
        f.write(md)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
