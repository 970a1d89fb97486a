#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# The leaf cases of a kunit.py --json report (kunit_json.py): the
# test_cases of every group at any depth.  A parameterized case is a
# sub_group whose test_cases are its parameters.  A case's full name is
# suite.case, or suite.case.param; its status is kunit_json's: PASS, FAIL,
# SKIP or ERROR (crashed, or missing: kunit.py found fewer cases than the
# suite's plan).
#
#   kunit-cases.py FILE.json          "full.name STATUS" per case
#   kunit-cases.py --count FILE.json  "passed failed skipped crashed errors":
#                                     PASS, FAIL, SKIP(PED), ERROR and any
#                                     other status, plus kunit.py's parse
#                                     errors (its "errors:" count)
#   kunit-cases.py --regressions SERIES.json REVERT.json
#                                     "full.name STATUS" of every case that
#                                     passes in SERIES but not in REVERT:
#                                     FAIL, ERROR, or NOT_RUN when REVERT does
#                                     not have it (the kernel died first);
#                                     the FAIL and ERROR ones first.  A case
#                                     REVERT skips does not count.
#
# Exits 1 with a message when a file is missing, empty or not such a report.
import json
import signal
import sys


def load(path):
	try:
		with open(path, encoding='utf-8') as f:
			report = json.load(f)
	except (OSError, ValueError) as e:
		sys.exit(f'kunit-cases: {path}: {e}')
	if not isinstance(report, dict):
		sys.exit(f'kunit-cases: {path}: not a kunit.py JSON report')
	return report


def cases(group, prefix=''):
	"""(full name, status) of each leaf case under group, in test order."""
	for case in group.get('test_cases') or []:
		yield prefix + (case.get('name') or '?'), case.get('status') or '?'
	for sub in group.get('sub_groups') or []:
		yield from cases(sub, prefix + (sub.get('name') or '?') + '.')


def statuses(report):
	"""full name -> status; a name seen twice passes only if both pass."""
	seen = {}
	for name, status in cases(report):
		if seen.get(name, 'PASS') == 'PASS':
			seen[name] = status
	return seen


def count(report):
	n = {'PASS': 0, 'FAIL': 0, 'SKIP': 0, 'ERROR': 0, 'other': 0}
	for _, status in cases(report):
		status = 'SKIP' if status == 'SKIPPED' else status
		n[status if status in n else 'other'] += 1
	errors = (report.get('misc') or {}).get('errors') or 0
	return n['PASS'], n['FAIL'], n['SKIP'], n['ERROR'], n['other'] + errors


def regressions(series, revert):
	after = statuses(revert)
	found = [(name, after.get(name, 'NOT_RUN'))
		 for name, status in statuses(series).items() if status == 'PASS']
	found = [c for c in found if c[1] not in ('PASS', 'SKIP', 'SKIPPED')]
	return ([c for c in found if c[1] != 'NOT_RUN'] +
		[c for c in found if c[1] == 'NOT_RUN'])


def main(argv):
	if len(argv) == 2 and not argv[1].startswith('-'):
		for name, status in cases(load(argv[1])):
			print(name, status)
	elif len(argv) == 3 and argv[1] == '--count':
		print(*count(load(argv[2])))
	elif len(argv) == 4 and argv[1] == '--regressions':
		for name, status in regressions(load(argv[2]), load(argv[3])):
			print(name, status)
	else:
		sys.exit('usage: kunit-cases.py [--count] FILE.json | '
			 '--regressions SERIES.json REVERT.json')


if __name__ == '__main__':
	signal.signal(signal.SIGPIPE, signal.SIG_DFL)
	main(sys.argv)
