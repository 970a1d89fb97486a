#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Sum every test that ran: KUnit cases and the TAP files of build/results
# (boot cases, module checks, checkpatch).  Last line: "N passed, N failed".
#
# KUnit: the leaf cases of each kunit.py report, kunit.json and every
# kunit-<name>.json (kunit-highmem.json, ...), counted by
# scripts/kunit-cases.py.  A case skipped, crashed or of any status but PASS
# counts as failed, and so does each of kunit.py's parse errors (a case
# missing from a suite's plan).  A report that is missing where its
# kunit.py log is, empty or unreadable is 1 failure.
#
# TAP: "ok" lines pass, "not ok" lines and "ok ... # SKIP" lines fail (a
# skip is never a pass).  Cases the plan announces and the file lacks fail;
# a file with no plan, more cases than planned, or a plan of 1..0 # SKIP is
# 1 failure.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
RESULTS=${RESULTS:-$top/build/results}
pass=0 fail=0

# Each kunit.py run: <name>.json, or <name>.log when the run never wrote
# its report (build failure, no guest).
names=$(for f in "$RESULTS"/kunit.json "$RESULTS"/kunit-*.json \
		"$RESULTS"/kunit.log "$RESULTS"/kunit-*.log; do
	[ -e "$f" ] || continue
	f=${f##*/}
	echo "${f%.*}"
done | sort -u)
for k in $names; do
	json=$RESULTS/$k.json
	if [ ! -s "$json" ]; then
		echo "$k: $k.json $([ -e "$json" ] && echo is empty || echo missing) (build or boot failed? see $k.log), counted as 1 failure"
		fail=$((fail + 1))
	elif ! n=$(python3 "$top/scripts/kunit-cases.py" --count "$json" 2>&1); then
		echo "$k: $n, counted as 1 failure"
		fail=$((fail + 1))
	else
		read -r p f s c e <<-EOT
		$n
		EOT
		echo "$k: $p passed, $f failed, $s skipped, $c crashed, $e errors"
		pass=$((pass + p))
		fail=$((fail + f + s + c + e))
	fi
done
for t in "$RESULTS"/*.tap; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .tap)
	ok=$(grep -c '^ok ' "$t" || true)
	s=$(grep -c '^ok .* # *[Ss][Kk][Ii][Pp]' "$t" || true)
	p=$((ok - s))
	f=$(($(grep -c '^not ok ' "$t" || true) + s))
	plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$t" | head -n 1)
	if grep -q '^1\.\.0 *# *[Ss][Kk][Ii][Pp]' "$t"; then
		echo "$name: skipped as a whole ($(sed -n 's/^1\.\.0 *# *//p' "$t" | head -n 1)): counted as 1 failure"
		f=$((f + 1))
	elif [ -z "$plan" ]; then
		echo "$name: no plan line (1..N): counted as 1 failure"
		f=$((f + 1))
	elif [ "$plan" -gt $((p + f)) ]; then
		echo "$name: planned $plan, ran $((p + f)): missing ones count as failed"
		f=$((plan - p))
	elif [ "$plan" -lt $((p + f)) ]; then
		echo "$name: planned $plan, ran $((p + f)): counted as 1 more failure"
		f=$((f + 1))
	fi
	skipped=
	[ "$s" = 0 ] || skipped=" ($s of them skipped)"
	echo "$name: $p passed, $f failed$skipped"
	pass=$((pass + p)); fail=$((fail + f))
done
echo "$pass passed, $fail failed"
