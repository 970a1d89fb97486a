#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# `make test`: every test, each stage timed; the summary's last line is
# "N passed, N failed".  Stages run on even when an earlier one failed.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
RESULTS=${RESULTS:-$top/build/results}
rm -rf "$RESULTS"
mkdir -p "$RESULTS"
timing=$RESULTS/timing.txt
: > "$timing"

# Each stage is also a test case of its own (stages.tap): a stage that fails
# before it writes its results must not vanish from the summary.
. "$top/scripts/ktap.sh"
ktap_open "$RESULTS/stages.tap"
stage() {	# stage <name> <make args...>
	name=$1; shift
	echo "=== $name: make $*"
	s=$(date +%s)
	make --no-print-directory -C "$top" "$@"
	rc=$?
	echo "=== $name: $(($(date +%s) - s)) s (exit $rc)" | tee -a "$timing"
	if [ $rc = 0 ]; then
		ktap_ok "stage $name (make $*)"
	else
		ktap_not_ok "stage $name (make $*) exited $rc"
	fi
	return $rc
}

fail=0
stage base base || fail=1
stage build build || fail=1
stage kunit kunit || fail=1
stage boot boot || fail=1
# The suites on a 16K-page kernel: granules below, equal to and above
# PAGE_SIZE.  Only the series has them.
if ls "$top"/patches/0*.patch >/dev/null 2>&1; then
	stage kunit-16k kunit PAGES=16k || fail=1
	# The debug kernel with fault injection: every suite, strict and
	# lazy, failure walks, threads, kmemleak (docs/reliability.md).
	stage stress stress || fail=1
fi
if ls "$top"/patches/0*.patch >/dev/null 2>&1; then
	# Negative control: the untouched base must refuse what the series allows.
	stage base-build build BASE_ONLY=1 || fail=1
	stage base-boot boot BASE_ONLY=1 || fail=1
	# Real traffic behind each granule, the test module on live domains,
	# the KUnit modules via modprobe; the base as control.
	stage e2e e2e || fail=1
	# The Apple M1 fragment merges onto a distro config intact.
	stage m1-config m1-config || fail=1
	stage checkpatch checkpatch || fail=1
	stage b4 b4-check || fail=1
fi
ktap_close "$RESULTS/stages.tap"
echo "=== timings"
cat "$timing"
echo "=== summary"
sh "$top/scripts/summary.sh" | tee "$RESULTS/summary.txt"
tail -n 1 "$RESULTS/summary.txt" | grep -q ', 0 failed$' || fail=1
exit $fail
