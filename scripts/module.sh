#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Build the test modules of drivers/ (each directory with a Kbuild file) out
# of tree against the kernel build directory $O, their objects in
# $O-modules/<name>.  Prints the path of every module built, one a line, for
# boot.sh's MODULES; the build's own output goes to stderr.  Built with W=1:
# a warning fails it.
#
#   O=<kernel build dir> module.sh
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-$top/build/kernel}
[ -f "$O/Module.symvers" ] ||
	{ echo "module: no $O/Module.symvers: run 'make build'" >&2; exit 1; }
export PATH="/usr/lib/ccache:$PATH"

for d in "$top"/drivers/*/; do
	[ -f "$d/Kbuild" ] || continue
	name=$(basename "$d")
	out=$O-modules/$name
	mkdir -p "$out"
	# W=1, and any warning fails the build.
	make -s -C "$O" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- W=1 \
		M="${d%/}" MO="$out" modules > "$out/build.log" 2>&1 ||
		{ cat "$out/build.log" >&2; exit 1; }
	if grep -q 'warning:' "$out/build.log"; then
		cat "$out/build.log" >&2
		echo "module: $name: warnings with W=1" >&2
		exit 1
	fi
	ls "$out"/*.ko
done
