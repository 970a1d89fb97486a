#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run the KUnit suites with the kernel's own kunit.py on QEMU arm64, on the
# test kernel's build directory and configuration (scripts/config.sh), twice:
#
#   kunit         kunit.py's own guest (1 GiB of RAM, all of it below 4 GiB)
#   kunit-highmem the same kernel in a guest with 6 GiB of RAM and 4 CPUs, so
#                 that most memory lies above 4 GiB, as on an M1 whose DRAM
#                 starts at 32 GiB
#
# For each: the raw KTAP in $RESULTS/<name>.ktap, kunit.py's report in
# <name>.log and <name>.json.  kunit-dmesg.tap has one case per run: the
# kernel log shows no WARN, BUG or DMA-API debug report that a case did not
# ask for (cases that expect a WARN suppress it).  Exits non-zero when a case
# failed or was skipped, or a report was found.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
src=${LINUX_DIR:-$top/build/linux}
O=${O:-$top/build/kernel}
RESULTS=${RESULTS:-$top/build/results}
HIGHMEM_QEMU_ARGS=${HIGHMEM_QEMU_ARGS:--m 6G -smp 4}
mkdir -p "$RESULTS"

kunit() {	# kunit <name> <run|exec> [kunit.py args...]
	name=$1 cmd=$2; shift 2
	r=0
	# No report of an earlier run may stand in for one this run lacks.
	rm -f "$RESULTS/$name.json"
	(cd "$src" && python3 tools/testing/kunit/kunit.py "$cmd" --arch=arm64 \
		--cross_compile=aarch64-linux-gnu- --build_dir="$O" \
		--kunitconfig="$top/kunit/.kunitconfig" \
		--timeout=900 --json="$RESULTS/$name.json" "$@") \
		> "$RESULTS/$name.log" 2>&1 || r=$?
	cp "$O/test.log" "$RESULTS/$name.ktap" 2>/dev/null || true
	echo "--- $name"
	grep -E '^\[..:..:..\] (Testing complete|=+ \[|.*(FAILED|SKIPPED|CRASHED))' "$RESULTS/$name.log" |
		sed 's/^\[..:..:..\] //' | tail -n 40
	sk=$(sed -n 's/.*Testing complete\..*skipped: \([0-9]*\).*/\1/p' "$RESULTS/$name.log")
	[ "${sk:-0}" = 0 ] || { echo "$name: $sk skipped cases count as failures" >&2; r=1; }
	return $r
}

. "$top/scripts/ktap.sh"
rc=0
ktap_open "$RESULTS/kunit-dmesg.tap"
reports() {	# reports <name> <description>
	bad=$(grep -E 'WARNING:|BUG:|DMA-API:|Call trace:' "$RESULTS/$1.ktap" 2>/dev/null |
		grep -vE 'DMA-API: (preallocated [0-9]+ debug entries|debugging enabled by kernel config)$' |
		head -n 3)
	if [ -f "$RESULTS/$1.ktap" ] && [ -z "$bad" ]; then
		ktap_ok "$2: no WARN, BUG or DMA-API report in the kernel log"
	else
		ktap_not_ok "$2: ${bad:-no kernel log}"
		[ -z "$bad" ] || ktap_diag "$(echo "$bad" | sed 's/^/  /')"
		rc=1
	fi
}

kunit kunit run --jobs="$(nproc)" || rc=$?
reports kunit "KUnit, 1 GiB guest"
# The same build: nothing to configure or compile again.
kunit kunit-highmem exec --qemu_args="$HIGHMEM_QEMU_ARGS" || rc=$?
reports kunit-highmem "KUnit, guest with RAM above 4 GiB ($HIGHMEM_QEMU_ARGS)"
ktap_close "$RESULTS/kunit-dmesg.tap"
cat "$RESULTS/kunit-dmesg.tap"
exit $rc
