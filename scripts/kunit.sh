#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run the KUnit suites with the kernel's own kunit.py on QEMU arm64, in the
# build directory $O (the Makefile's build/kunit), configured by
# scripts/config.sh with the series' drivers/iommu/.kunitconfig and the
# project's kunit/.kunitconfig on top, so every suite is built in:
#
#   kunit         kunit.py's own guest (1 GiB of RAM, all of it below 4 GiB)
#   kunit-highmem the same kernel in a guest with 6 GiB of RAM and 4 CPUs, so
#                 that most memory lies above 4 GiB, as on an M1 whose DRAM
#                 starts at 32 GiB
#
# With PAGES=16k (or 64k) kunit.py builds its own minimal kernel of that
# page size (the kunitconfigs and --kconfig_add) and one run, kunit-16k, is
# made in a 2 GiB, 2-CPU guest: the 4K granule is then below PAGE_SIZE, 16K
# equal to it, 64K above.  VARIANT=debug names the run of
# the debug kernel (configs/debug.config: KASAN, lockdep, ...) kunit-debug.
#
# SEED=<n> is the first seed of the randomized cases, SEEDS=<n> how many
# seeds each runs (dma_iommu_kunit.seed and .rounds).
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
PAGES=${PAGES:-4k}
HIGHMEM_QEMU_ARGS=${HIGHMEM_QEMU_ARGS:--m 6G -smp 4}
PAGES_QEMU_ARGS=${PAGES_QEMU_ARGS:--m 2G -smp 2}
mkdir -p "$RESULTS"

kunitconfigs="--kunitconfig=$top/kunit/.kunitconfig"
[ -f "$src/drivers/iommu/.kunitconfig" ] &&
	kunitconfigs="--kunitconfig=drivers/iommu $kunitconfigs"
# swiotlb counts the slots in use (its pool size unchanged), so that the
# cases can tell a leaked bounce slot
kargs="--kernel_args=swiotlb=,,,track_hiwater"
if [ "$PAGES" != 4k ] && [ -z "${VARIANT:-}" ]; then
	pg=$(echo "$PAGES" | tr a-z A-Z)
	kargs="$kargs --kconfig_add=CONFIG_ARM64_${pg}_PAGES=y"
fi
[ -z "${SEED:-}" ] || kargs="$kargs --kernel_args=dma_iommu_kunit.seed=$SEED"
[ -z "${SEEDS:-}" ] || kargs="$kargs --kernel_args=dma_iommu_kunit.rounds=$SEEDS"

kunit() {	# kunit <name> <run|exec> [kunit.py args...]
	name=$1 cmd=$2; shift 2
	r=0
	# No report of an earlier run may stand in for one this run lacks.
	rm -f "$RESULTS/$name.json"
	(cd "$src" && sh "$top/scripts/progress.sh" "$name" "$O" "$RESULTS/$name.log" \
		python3 tools/testing/kunit/kunit.py "$cmd" --arch=arm64 \
		--cross_compile=aarch64-linux-gnu- --build_dir="$O" \
		$kunitconfigs $kargs \
		--timeout=900 --json="$RESULTS/$name.json" "$@") || r=$?
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

if [ -n "${VARIANT:-}" ]; then
	dmesg_tap=$RESULTS/kunit-$VARIANT-dmesg.tap
	ktap_open "$dmesg_tap"
	kunit "kunit-$VARIANT" run --jobs="$(nproc)" --qemu_args="$PAGES_QEMU_ARGS" || rc=$?
	reports "kunit-$VARIANT" "KUnit, $VARIANT kernel ($PAGES_QEMU_ARGS)"
elif [ "$PAGES" = 4k ]; then
	dmesg_tap=$RESULTS/kunit-dmesg.tap
	ktap_open "$dmesg_tap"
	kunit kunit run --jobs="$(nproc)" || rc=$?
	reports kunit "KUnit, 1 GiB guest"
	# The same build: nothing to configure or compile again.
	kunit kunit-highmem exec --qemu_args="$HIGHMEM_QEMU_ARGS" || rc=$?
	reports kunit-highmem "KUnit, guest with RAM above 4 GiB ($HIGHMEM_QEMU_ARGS)"
else
	dmesg_tap=$RESULTS/kunit-$PAGES-dmesg.tap
	ktap_open "$dmesg_tap"
	kunit "kunit-$PAGES" run --jobs="$(nproc)" --qemu_args="$PAGES_QEMU_ARGS" || rc=$?
	reports "kunit-$PAGES" "KUnit, $PAGES pages ($PAGES_QEMU_ARGS)"
fi
ktap_close "$dmesg_tap"
cat "$dmesg_tap"
exit $rc
