#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run the KUnit suites with the kernel's own kunit.py on QEMU arm64, on the
# test kernel's build directory and configuration (scripts/config.sh).
# Keeps the raw KTAP in $RESULTS/kunit.ktap and kunit.py's report in
# $RESULTS/kunit.log; exits non-zero when a case failed or was skipped.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
src=${LINUX_DIR:-$top/build/linux}
O=${O:-$top/build/kernel}
RESULTS=${RESULTS:-$top/build/results}
mkdir -p "$RESULTS"

rc=0
(cd "$src" && python3 tools/testing/kunit/kunit.py run --arch=arm64 \
	--cross_compile=aarch64-linux-gnu- --build_dir="$O" \
	--kunitconfig="$top/kunit/.kunitconfig" \
	--jobs="$(nproc)" --timeout=900 \
	--json="$RESULTS/kunit.json") > "$RESULTS/kunit.log" 2>&1 || rc=$?
cp "$O/test.log" "$RESULTS/kunit.ktap" 2>/dev/null || true
grep -E '^\[..:..:..\] (Testing complete|=+ \[|.*(FAILED|SKIPPED|CRASHED))' "$RESULTS/kunit.log" | sed 's/^\[..:..:..\] //' | tail -n 40
sk=$(sed -n 's/.*Testing complete\..*skipped: \([0-9]*\).*/\1/p' "$RESULTS/kunit.log")
[ "${sk:-0}" = 0 ] || { echo "kunit: $sk skipped cases count as failures" >&2; rc=1; }
exit $rc
