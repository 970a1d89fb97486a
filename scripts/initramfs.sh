#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The guests' initramfs (scripts/boot.sh, scripts/stress.sh): Debian's
# busybox-static and scripts/guest/init, plus the gen_init_cpio lines read
# from stdin (the test modules), written by the kernel's own gen_init_cpio.
#
#   initramfs.sh <kernel build dir> <output .cpio.gz> < extra lines
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
src=${LINUX_DIR:-$top/build/linux}
O=$1 out=$2

bb=$("$top/scripts/busybox.sh")
[ -x "$O/usr/gen_init_cpio" ] ||
	make -s -C "$src" O="$O" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- usr/gen_init_cpio
{
	echo "dir /dev 755 0 0"
	echo "nod /dev/console 600 0 0 c 5 1"
	for d in /bin /sbin /proc /sys /tmp /lib /lib/modules /lib/modules/kunit; do
		echo "dir $d 755 0 0"
	done
	echo "file /bin/busybox $bb 755 0 0"
	echo "slink /bin/sh busybox 777 0 0"
	echo "file /init $top/scripts/guest/init 755 0 0"
	cat
} > "${out%.cpio.gz}.list"
"$O/usr/gen_init_cpio" "${out%.cpio.gz}.list" | gzip -n -1 > "$out"
