#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Sum every test that ran: KUnit cases (kunit.py's count of leaf cases) and
# the TAP files of build/results (boot cases, module checks, checkpatch).
# Last line: "N passed, N failed".  Skipped KUnit cases count as failed.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
RESULTS=${RESULTS:-$top/build/results}
pass=0 fail=0

# kunit.log and kunit-highmem.log: the same suites in two guests.
for k in kunit kunit-highmem; do
	[ -f "$RESULTS/$k.log" ] || continue
	line=$(grep 'Testing complete' "$RESULTS/$k.log" | tail -n 1 || true)
	num() { echo "$line" | sed -n "s/.*$1: \([0-9]*\).*/\1/p"; }
	p=$(num passed); f=$(num failed); s=$(num skipped); c=$(num crashed); e=$(num errors)
	if [ -z "$line" ]; then
		echo "$k: no result (build or boot failed), counted as 1 failure"
		fail=$((fail + 1))
	else
		echo "$k: ${p:-0} passed, ${f:-0} failed, ${s:-0} skipped, ${c:-0} crashed, ${e:-0} errors"
		pass=$((pass + ${p:-0}))
		fail=$((fail + ${f:-0} + ${s:-0} + ${c:-0} + ${e:-0}))
	fi
done
for t in "$RESULTS"/*.tap; do
	[ -e "$t" ] || continue
	p=$(grep -c '^ok ' "$t" || true)
	f=$(grep -c '^not ok ' "$t" || true)
	plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$t" | head -n 1)
	if [ -n "$plan" ] && [ "$plan" != $((p + f)) ]; then
		echo "$(basename "$t" .tap): planned $plan, ran $((p + f)): missing ones count as failed"
		f=$((plan - p))
	fi
	echo "$(basename "$t" .tap): $p passed, $f failed"
	pass=$((pass + p)); fail=$((fail + f))
done
echo "$pass passed, $fail failed"
