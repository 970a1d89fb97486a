#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The test module as a dkms(8) source tree, build/dkms/dma_granule_test-<v>:
# drivers/dma_granule_test with include/ copied in (its Kbuild looks there
# first) and dkms.conf's version filled in (the series' version).  Then, as
# root on the machine that runs the kernel:
#
#   cp -r build/dkms/dma_granule_test-<v> /usr/src/
#   dkms install dma_granule_test/<v>
#
# KDIR=<kernel build dir> also builds the tree there, as dkms would.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
v=$(sed -n 's/^ver=\${SERIES_VERSION:-\([0-9]*\)}.*/\1/p' "$top/scripts/series.sh")
v=${v:-0}
out=$top/build/dkms/dma_granule_test-$v
rm -rf "$out"
mkdir -p "$out/include"
cp "$top"/drivers/dma_granule_test/*.c "$top"/drivers/dma_granule_test/Kbuild \
	"$top"/drivers/dma_granule_test/Makefile "$out/"
cp "$top/include/dma_granule_test.h" "$out/include/"
sed "s/@VERSION@/$v/" "$top/drivers/dma_granule_test/dkms.conf" > "$out/dkms.conf"
echo "dkms: $out"
if [ -n "${KDIR:-}" ]; then
	make -s -C "$out" KDIR="$KDIR" ${ARCH:+ARCH=$ARCH} \
		${CROSS_COMPILE:+CROSS_COMPILE=$CROSS_COMPILE} modules
	ls "$out"/*.ko
fi
