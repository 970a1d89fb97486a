#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# make stress: every KUnit suite of the series on the debug kernel
# (configs/debug.config: KASAN, kmemleak, lockdep, ...) with fault injection
# (configs/stress.config), in a 4-CPU QEMU guest:
#
#   - the driver suites, built in, at boot;
#   - the dma-iommu suites, the module loaded twice: strict domains, then
#     lazy=1 (every domain a flush queue).  The reliability suite fails
#     each operation's page table updates and allocations one by one;
#   - a kmemleak scan once the module is gone.
#
# The guest (scripts/guest/init) sets failslab and fail_page_alloc so that
# fail_nth reaches every allocation, and prints every DMA-API report.
# scripts/stress-report.py turns the serial log into the table, stress.json,
# stress.tap, reliability.md and one kunit.py report per run
# (kunit-stress-<run>.json), all in $RESULTS.
#
#   STRESS_O=<build dir> (build/kernel-stress)  TORTURE_MS=<ms per granule> (2000)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
src=${LINUX_DIR:-$top/build/linux}
# Not $O: the Makefile exports the test kernel's build directory as O.
O=${STRESS_O:-$top/build/kernel-stress}
RESULTS=${RESULTS:-$top/build/results}
TORTURE_MS=${TORTURE_MS:-2000}
# Seeds per randomized case: the KUnit runs do 200 on three kernels; here
# the sanitizers and the fault injection are the point, and map_sg_random
# alone took 4 of the 7 minutes of a run at 50 seeds under KASAN.  10 keeps
# a fresh machine's `make test` under an hour.
ROUNDS=${ROUNDS:-10}
TIMEOUT=${TIMEOUT:-2400}
SMP=${SMP:-4}
mkdir -p "$RESULTS"

s=$(date +%s)
O=$O EXTRA_FRAGS="$top/configs/debug.config $top/configs/stress.config" \
	sh "$top/scripts/config.sh"
sh "$top/scripts/progress.sh" "stress kernel" "$O" - \
	make -s -C "$src" O="$O" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
	-j"$(nproc)" Image.gz modules
echo "stress: kernel built in $(($(date +%s) - s)) s"
ko=$O/drivers/iommu/tests/dma_iommu_kunit.ko
[ -f "$ko" ] || { echo "stress: no $ko" >&2; exit 1; }

work=$top/build/guest-stress
mkdir -p "$work"
echo "file /lib/modules/kunit/dma_iommu_kunit.ko $ko 644 0 0" |
	sh "$top/scripts/initramfs.sh" "$O" "$work/initramfs.cpio.gz"

log=$RESULTS/stress.log
s=$(date +%s)
echo "stress: booting ($SMP CPUs); the suites run twice, a line a minute meanwhile"
# No device but the console: the suites bring their own (mock) IOMMU.
# swiotlb counts its slots in use (leaks of bounce slots show).
sh "$top/scripts/progress.sh" "stress guest" "$work" "$log" \
	timeout "$TIMEOUT" qemu-system-aarch64 -M virt -cpu max,pauth-impdef=on \
	-smp "$SMP" -m 3G -nodefaults -display none -serial stdio -no-reboot \
	-kernel "$O/arch/arm64/boot/Image.gz" -initrd "$work/initramfs.cpio.gz" \
	-append "console=ttyAMA0 rdinit=/init panic=-1 granule_test.stress=1 swiotlb=,,,track_hiwater dma_iommu_kunit.torture_ms=$TORTURE_MS dma_iommu_kunit.rounds=$ROUNDS" \
	< /dev/null || true
tr -d '\r' < "$log" > "$log.tmp" && mv "$log.tmp" "$log"
echo "stress: guest ran $(($(date +%s) - s)) s, log $log"

python3 "$top/scripts/stress-report.py" --src "$src" --results "$RESULTS" \
	--command "make stress" "$log"
