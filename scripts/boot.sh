#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Boot the test kernel in QEMU behind a virtio-iommu of each granule given,
# with a virtio-blk disk and a virtio-net NIC translated by it, and check
# what the guest saw.  Writes TAP to $RESULTS/boot<suffix>.tap and the
# serial logs next to it.
#
#   O=<kernel build dir> GRANULES="4k 16k" EXPECT=work|refuse boot.sh
#
# EXPECT=work: every device probes into a DMA domain and the disk reads back
# intact.  EXPECT=refuse is the negative control for the unpatched base: a
# granule above PAGE_SIZE must be refused; granule 4k must still work.
#
# MODULES: test modules (scripts/module.sh) the guest loads after its own
# checks.  A module reports TAP lines "<name>: ok N - ..." in the kernel log,
# which the guest copies as "GUEST: <name>: ...", and declares their number
# as MODULE_INFO(tap_plan, ...).  With EXPECT=work each becomes a case here,
# failed if the module never printed it, so the count is the same every run.
#
# KUNIT_MODULES: KUnit test modules of the kernel's own tree, loaded with
# insmod in the boot of granule KUNIT_GRANULE (16k) only, as a user would
# modprobe them on a distro kernel; their KTAP, taken from the serial log by
# kunit.py parse, goes to $RESULTS/kunit-modules.json (counted by
# summary.sh like kunit.py's own runs).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-$top/build/kernel}
RESULTS=${RESULTS:-$top/build/results}
GRANULES=${GRANULES:-4k 16k 64k}
EXPECT=${EXPECT:-work}
NAME=${NAME:-boot}
MODULES=${MODULES:-}
KUNIT_MODULES=${KUNIT_MODULES:-}
KUNIT_GRANULE=${KUNIT_GRANULE:-16k}
TIMEOUT=${TIMEOUT:-300}

image=$O/arch/arm64/boot/Image.gz
[ -f "$image" ] || { echo "boot: no $image: run 'make build'" >&2; exit 1; }
mkdir -p "$RESULTS"
work=${GUEST_DIR:-$top/build/guest}
mkdir -p "$work"

# Initramfs (scripts/initramfs.sh) with the test modules.
{
	for m in $MODULES; do echo "file /lib/modules/$(basename "$m") $m 644 0 0"; done
	for m in $KUNIT_MODULES; do echo "file /lib/modules/kunit/$(basename "$m") $m 644 0 0"; done
} | sh "$top/scripts/initramfs.sh" "$O" "$work/initramfs.cpio.gz"

# 64 MiB of reproducible pseudo-random data for the disk.
disk_src=$work/disk.src
if [ ! -f "$disk_src" ]; then
	openssl enc -aes-128-ctr -nosalt -pass pass:iommu-granule -pbkdf2 \
		< /dev/zero 2>/dev/null | head -c 64M > "$disk_src"
fi
want=$(md5sum < "$disk_src" | cut -d' ' -f1)

set +e
. "$top/scripts/ktap.sh"
KTAP_ECHO=1
tap=$RESULTS/$NAME.tap
ktap_open "$tap"
t() {	# t <ok:0|1> <description>
	ktap_result "$1" "$2"
}
has() { grep -q -- "$1" "$log"; }
# The TAP cases a module declares (0 if it declares none).
plan() { tr '\0' '\n' < "$1" | sed -n 's/^tap_plan=\([0-9]*\)$/\1/p' | head -n 1; }
# One case per TAP case of each module, as its lines in the kernel log say.
modcases() {	# modcases <granule>
	for m in $MODULES; do
		k=$(basename "$m" .ko)
		has "GUEST: insmod $k.ko ok"; t $? "$1: insmod $k.ko"
		i=0 p=$(plan "$m")
		while [ "$i" -lt "${p:-0}" ]; do
			i=$((i + 1))
			line=$(sed -n "s/^GUEST: $k: \(\(not \)\{0,1\}ok $i - .*\)$/\1/p" "$log" | tail -n 1)
			case $line in
			"ok $i - "*) t 0 "$1: $k: ${line#"ok $i - "}" ;;
			"not ok $i - "*) t 1 "$1: $k: ${line#"not ok $i - "}" ;;
			*) t 1 "$1: $k: case $i did not report" ;;
			esac
		done
	done
}

for g in $GRANULES; do
	log=$RESULTS/$NAME-$g.log
	cp "$disk_src" "$work/disk.img"
	start=$(date +%s)
	kunit=
	[ -z "$KUNIT_MODULES" ] || [ "$g" != "$KUNIT_GRANULE" ] || [ "$EXPECT" != work ] ||
		kunit=" granule_test.kunit=1 swiotlb=,,,track_hiwater"
	# No NIC but the one below; its user-mode backend is restricted so
	# nothing the guest sends leaves QEMU.
	timeout "$TIMEOUT" qemu-system-aarch64 -M virt -cpu max,pauth-impdef=on -smp 2 -m 1G \
		-nodefaults -display none -serial stdio -no-reboot \
		-kernel "$image" -initrd "$work/initramfs.cpio.gz" \
		-append "console=ttyAMA0 rdinit=/init panic=-1$kunit" \
		-device virtio-iommu-pci,granule=$g \
		-drive if=none,id=d0,file="$work/disk.img",format=raw \
		-device virtio-blk-pci,drive=d0,iommu_platform=on,disable-legacy=on \
		-netdev user,id=n0,restrict=on \
		-device virtio-net-pci,netdev=n0,iommu_platform=on,disable-legacy=on,romfile= \
		< /dev/null 2>&1 | tr -d '\r' > "$log" || true
	ktap_diag "granule $g: $(($(date +%s) - start)) s, log $log"

	has "GUEST: done"; t $? "$g: guest booted, ran its checks and powered off"
	! grep -q -e 'Call trace:' -e 'Kernel panic' -e 'BUG:' -e 'cut here' "$log"
	t $? "$g: no WARN, BUG or panic in the kernel log"

	blk=$(grep "GUEST: pci .*driver=virtio-pci" "$log" | grep -c "type=DMA" || true)
	refused=1
	has "larger than system page size" && refused=0

	if [ "$EXPECT" = refuse ] && [ "$g" != 4k ]; then
		t $refused "$g: base kernel refuses the granule (virtio-iommu: larger than system page size)"
		[ "$blk" = 0 ]; t $? "$g: no device got a DMA domain"
		! has "GUEST: disk bs=4k md5=$want"
		t $? "$g: the disk does not read back through the refused IOMMU"
		continue
	fi
	[ $refused = 1 ]; t $? "$g: the IOMMU accepts the granule"
	[ "$blk" = 2 ]; t $? "$g: virtio-blk and virtio-net are in DMA domains ($blk of 2)"
	for bs in 4k 64k 1M; do
		has "GUEST: disk bs=$bs md5=$want"
		t $? "$g: whole disk reads back intact in $bs requests"
	done
	has "GUEST: disk write-readback ok"; t $? "$g: a write through the IOMMU reads back"
	has "GUEST: net eth0"; t $? "$g: virtio-net probed"
	modcases "$g"
	[ -n "$kunit" ] || continue
	for m in $KUNIT_MODULES; do
		k=$(basename "$m" .ko)
		has "GUEST: kunit insmod $k.ko ok"; t $? "$g: insmod $k.ko (KUnit suites as a module)"
	done
	# What the modules printed, from the first load on (the boot itself
	# prints an empty KTAP plan for the suites built in: none)
	rm -f "$RESULTS/kunit-modules.json"
	sed -n '/^GUEST: kunit insmod [^ ]*\.ko$/,$p' "$log" > "$RESULTS/kunit-modules.ktap"
	(cd "$top/build/linux" && python3 tools/testing/kunit/kunit.py parse \
		--json="$RESULTS/kunit-modules.json" "$RESULTS/kunit-modules.ktap") \
		> "$RESULTS/kunit-modules.log" 2>&1
	grep -E '^\[..:..:..\] (Testing complete|.*(FAILED|SKIPPED|CRASHED))' \
		"$RESULTS/kunit-modules.log" | sed 's/^\[..:..:..\] /  kunit-modules: /' | tail -n 10
done

ktap_close "$tap"
! ktap_failed "$tap"
