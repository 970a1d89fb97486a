#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# `make e2e`: the 4K test kernel behind virtio-iommu at each granule of
# $GRANULES, real traffic through the translated devices, checked byte for
# byte, then the same boots of the untouched base kernel as the control.
#
#   O=<kernel build dir> BASE_O=<base kernel build dir> GRANULES="4k 16k 64k" e2e.sh
#
# Each boot (the guest's side is the e2e part of scripts/guest/init):
#  - block: a 64 MiB virtio-blk disk of pseudo-random data (e2e-io gen);
#    the guest reads it with O_DIRECT at 512-byte, 4K and unaligned offsets
#    and lengths straddling 16K/64K boundaries, through buffers at odd
#    offsets, with preadv and buffered reads, writes regions of other data
#    and reads them back; after shutdown the host checks every byte of the
#    image (e2e-io verify);
#  - network: virtio-net on QEMU's user-mode network with restrict=on, whose
#    guestfwd runs `cat` on the host: the guest streams data to it and
#    checks every byte echoed back, and the NIC's counters;
#  - the test module (drivers/dma_granule_test) on the live domains of the
#    disk and the NIC: plain, torture (4 threads) and untrusted; then each
#    bad parameter, which must refuse the load and leave nothing behind; at
#    $LOADS_GRANULE, insmod/rmmod 100 times;
#  - at the granules of $KUNIT_GRANULES, the KUnit modules through modprobe;
#  - no IOMMU fault, DMA-API debug report, WARN or BUG in the guest log.
#
# The control: the base kernel (BASE_O, make build BASE_ONLY=1) with the
# module built against it must pass the module at 4K and refuse 16K and 64K
# (no DMA domain, the module refuses to load).
#
# Writes $RESULTS/e2e.json ({"cases": [...], "control": {...}}), e2e.tap,
# e2e-<kernel>-<granule>.log and the module's and KUnit's KTAP as
# kunit-e2e-*.json for summary.sh.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-$top/build/kernel}
BASE_O=${BASE_O:-$top/build/base/kernel}
RESULTS=${RESULTS:-$top/build/results}
GRANULES=${GRANULES:-4k 16k 64k}
# The suites bring their own mock IOMMUs: the virtio-iommu granule does not
# change what they test, one boot shows that modprobe finds and runs them.
KUNIT_GRANULES=${KUNIT_GRANULES:-64k}
LOADS_GRANULE=${LOADS_GRANULE:-16k}
TIMEOUT=${TIMEOUT:-400}
SEED=${SEED:-20261202}
WSEED=${WSEED:-4242}
NETBYTES=${NETBYTES:-16000000}
work=$top/build/guest-e2e
mkdir -p "$work" "$RESULTS"
rm -f "$RESULTS"/kunit-e2e-*.json "$RESULTS"/e2e*

[ -n "$GRANULES" ] || { echo "e2e: no granule to test" >&2; exit 1; }
for k in "$O" "$BASE_O"; do
	[ -f "$k/arch/arm64/boot/Image.gz" ] || {
		echo "e2e: no $k/arch/arm64/boot/Image.gz: run 'make build' and 'make build BASE_ONLY=1'" >&2
		exit 1
	}
done
sh "$top/scripts/e2e-io.sh" "$work"
io_host=$work/e2e-io-host

# The module against each kernel (module.sh builds into <O>-modules).
O=$O sh "$top/scripts/module.sh" > "$work/modules.list"
O=$BASE_O sh "$top/scripts/module.sh" > "$work/modules-base.list"
mod=$(grep '/dma_granule_test\.ko$' "$work/modules.list")
base_mod=$(grep '/dma_granule_test\.ko$' "$work/modules-base.list")

# initramfs <kernel O> <module> <out>: the guest, e2e-io, the module, and
# the kernel's KUnit modules installed where modprobe looks.
initramfs() {
	kver=$(cat "$1/include/config/kernel.release")
	# The modules that carry KUnit suites.
	kos=$(for k in $(find "$1/drivers/iommu" -name '*.ko' | sort); do
		if readelf -W -S "$k" | grep -q '\.kunit_test_suites'; then echo "$k"; fi
	done)
	list=${4%.cpio.gz}.kunit.list
	for k in $kos; do basename "$k" .ko; done > "$list"
	{
		echo "dir /lib/modules/e2e 755 0 0"
		echo "file /lib/modules/e2e/dma_granule_test.ko $2 644 0 0"
		echo "file /lib/modules/e2e/kunit.list $list 644 0 0"
		echo "file /bin/e2e-io $work/e2e-io 755 0 0"
		echo "dir /lib/modules/$kver 755 0 0"
		echo "dir /lib/modules/$kver/kernel 755 0 0"
		for k in $kos; do
			echo "file /lib/modules/$kver/kernel/$(basename "$k") $k 644 0 0"
		done
	} | LINUX_DIR=${3:-$top/build/linux} sh "$top/scripts/initramfs.sh" "$1" "$4"
}

# boot <kernel O> <initramfs> <granule> <log> <extra cmdline>
boot() {
	rm -f "$work/disk.img"
	"$io_host" gen "$work/disk.img" 64M "$SEED" > /dev/null ||
		{ echo "e2e: could not write the disk image" > "$4"; return; }
	s=$(date +%s)
	timeout "$TIMEOUT" qemu-system-aarch64 -M virt -cpu max,pauth-impdef=on -smp 2 -m 1G \
		-nodefaults -display none -serial stdio -no-reboot \
		-kernel "$1/arch/arm64/boot/Image.gz" -initrd "$2" \
		-append "console=ttyAMA0 rdinit=/init panic=-1 granule_test.e2e=1 granule_test.seed=$SEED granule_test.wseed=$WSEED granule_test.netbytes=$NETBYTES swiotlb=16384$5" \
		-device virtio-iommu-pci,granule="$3" \
		-drive if=none,id=d0,file="$work/disk.img",format=raw,cache=none \
		-device virtio-blk-pci,drive=d0,iommu_platform=on,disable-legacy=on \
		-netdev user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:5000-cmd:cat \
		-device virtio-net-pci,netdev=n0,iommu_platform=on,disable-legacy=on,romfile= \
		-device virtio-rng-pci,iommu_platform=on,disable-legacy=on \
		< /dev/null 2>&1 | tr -d '\r' > "$4" || true
	echo "e2e: $(basename "$4" .log): boot $(($(date +%s) - s)) s" >&2
}

initramfs "$O" "$mod" "$top/build/linux" "$work/initramfs.cpio.gz"
initramfs "$BASE_O" "$base_mod" "$top/build/base/linux" "$work/initramfs-base.cpio.gz"

# From here on every check runs, whatever the previous one said.
set +e
cases=$work/cases.txt control=$work/control.txt
: > "$cases"
: > "$control"
. "$top/scripts/ktap.sh"
ktap_open "$RESULTS/e2e.tap"

# case <granule> <workload> <0: pass> <bytes verified> [<detail>]
case_() {
	r=PASS
	[ "$3" = 0 ] || r=FAIL
	printf 'e2e: %-4s %-22s %s bytes_verified %s%s\n' "$1" "$2" "$r" "$4" "${5:+ ($5)}"
	printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$r" "$4" "${5:-}" >> "$cases"
	ktap_result "$3" "$1 $2: $r, $4 bytes verified${5:+ ($5)}"
}

# The KTAP a module load left in the log (GUEST: dgt <tag>: lines) as a
# kunit.py report: kunit-e2e-<name>.json.
ktap_json() {	# ktap_json <log> <tag> <name>
	sed -n "s/^GUEST: dgt $2: //p" "$1" > "$work/$3.ktap"
	(cd "$top/build/linux" && python3 tools/testing/kunit/kunit.py parse \
		--json="$RESULTS/kunit-e2e-$3.json" "$work/$3.ktap") > "$work/$3.parse" 2>&1
}

# One line of e2e-io's output, as "key value" words: field <line> <key>
field() { printf '%s\n' "$1" | sed -n "s/.* $2 +\{0,1\}\([0-9]*\).*/\1/p"; }

# How many of the disk and the NIC probed into a DMA domain.
domains() {
	grep -E '^GUEST: pci .* device=0x104[12] driver=virtio-pci .*type=DMA' "$1" | wc -l
}

# No IOMMU fault, DMA-API report, WARN or BUG up to the KUnit modules,
# which provoke reports on purpose and check them themselves (kunit.py parse
# judges them); from there on, no fault, BUG, oops or panic.
log_clean() {	# log_clean <log>
	! sed '/^GUEST: e2e dma-api errors /q' "$1" |
		grep -e 'fault from EP' -e 'DMA-API: ' -e 'WARNING:' -e 'BUG:' \
		-e 'Call trace:' -e 'Kernel panic' -e 'cut here' -e 'Oops' |
		grep -v -e 'DMA-API: preallocated' -e 'DMA-API: debugging enabled' |
		grep -q . &&
	! sed -n '/^GUEST: e2e dma-api errors /,$p' "$1" |
		grep -q -e 'fault from EP' -e 'BUG:' -e 'Oops' -e 'Kernel panic' &&
	grep -q '^GUEST: e2e dma-api errors 0\b' "$1"
}

module_cases() {	# module_cases <granule> <log>
	g=$1 log=$2
	for mode in plain torture untrusted; do
		sum=$(sed -n "s/^GUEST: e2e module $mode summary //p" "$log")
		ktap_json "$log" "$mode" "$g-module-$mode"
		bytes=$(field " $sum" bytes_verified)
		ok=1
		grep -q "^GUEST: e2e module $mode load ok\b" "$log" &&
			[ -n "$sum" ] && [ "$(field " $sum" failed)" = 0 ] &&
			[ "$(field " $sum" cases)" -gt 0 ] && ok=0
		if [ $mode != plain ] && [ "$(field " $sum" torture_ops)" = 0 ]; then ok=1; fi
		# The disk and the NIC at least; untrusted: the devices
		# without a driver (host bridge, rng).
		[ "$(field " $sum" devices)" -ge 2 ] || ok=1
		# Its KTAP must parse, as kunit.py would read it.
		grep -q 'Testing complete' "$work/$g-module-$mode.parse" || ok=1
		case_ "$g" "module-$mode" $ok "${bytes:-0}" \
			"$(echo "$sum" | sed 's/ bytes_verified [0-9]*//')"
	done
	# Each bad parameter: refused, nothing left, and for its own reason.
	i=0 n=0
	for want in 'no PCI or platform device named "no-such-device"' \
		'is not behind an IOMMU' 'is in an identity domain' 'named twice' \
		'names no device' 'seed=0' 'max_size=1 out of range' \
		'max_size=1073741824 out of range' 'iterations=0 out of range' \
		'threads=65 out of range' 'torture_ms=0 out of range' \
		'has a driver: untrusted=1' 'bench_parts=0 out of range'; do
		i=$((i + 1))
		grep -q "^GUEST: e2e badparam $i .*: refused, left none\b" "$log" &&
			grep -q "^GUEST: e2e badparam $i message: dma_granule_test: .*$want" "$log" &&
			n=$((n + 1))
	done
	bad=0
	[ "$n" = $i ] && grep -q '^GUEST: e2e identity-group .* type identity\b' "$log" || bad=1
	case_ "$g" module-bad-params $bad 0 "$n of $i refused cleanly, each with its reason"
	[ $bad = 0 ] || grep '^GUEST: e2e badparam\|^GUEST: e2e identity' "$log" | sed 's/^/  /'
}

for g in $GRANULES; do
	log=$RESULTS/e2e-series-$g.log
	extra=
	case " $KUNIT_GRANULES " in *" $g "*) extra=" granule_test.kunit=1 swiotlb=,,,track_hiwater" ;; esac
	[ "$g" != "$LOADS_GRANULE" ] || extra="$extra granule_test.loads=1"
	boot "$O" "$work/initramfs.cpio.gz" "$g" "$log" "$extra"

	booted=1
	grep -q '^GUEST: e2e done\b' "$log" && booted=0
	case_ "$g" boot $booted 0 "guest ran every step and powered off"
	dom=$(domains "$log")
	[ "$dom" = 2 ]; case_ "$g" dma-domains $? 0 "$dom of 2 devices (disk, NIC) in DMA domains"

	total=0
	for w in odirect-read odirect-readv buffered-read odirect-write; do
		l=$(grep "^GUEST: e2e-io: blk $w " "$log" | tail -n 1)
		b=$(field "$l" bytes) m=$(field "$l" mismatches)
		ok=1
		[ -n "$l" ] && [ "${m:-1}" = 0 ] && [ "${b:-0}" -gt 0 ] && ok=0
		case_ "$g" "blk-$w" $ok "${b:-0}" "$(field "$l" cases) cases, ${m:-?} mismatches"
	done
	v=$("$io_host" verify "$work/disk.img" "$SEED" "$WSEED" 2>&1) && ok=0 || ok=1
	grep -q '^GUEST: e2e blk exit 0\b' "$log" || ok=1
	case_ "$g" blk-host-verify $ok "$(field "$v" bytes)" "written $(field "$v" written), $(field "$v" mismatches) mismatches"

	l=$(grep '^GUEST: e2e-io: net ' "$log" | tail -n 1)
	sent=$(field "$l" sent) recv=$(field "$l" received) m=$(field "$l" mismatches)
	tx=$(field "$l" tx) rx=$(field "$l" rx)
	ok=1
	[ "$sent" = "$NETBYTES" ] && [ "$recv" = "$NETBYTES" ] && [ "$m" = 0 ] &&
		[ "${tx:-0}" -ge "$sent" ] && [ "${rx:-0}" -ge "$recv" ] &&
		grep -q '^GUEST: e2e net exit 0\b' "$log" && ok=0
	case_ "$g" net-echo $ok "${recv:-0}" "sent ${sent:-0}, eth0 tx +${tx:-?} rx +${rx:-?}, ${m:-?} mismatches"

	module_cases "$g" "$log"

	if [ "$g" = "$LOADS_GRANULE" ]; then
		# 100 loads lose no memory: from the 10th to the 100th load,
		# unreclaimable slab and vmalloc within 256 KiB, per-CPU
		# within 64 KiB (a page a load would be 360 KiB).  MemAvailable
		# moves by several MiB either way between loads (per-CPU page
		# lists, page tables): within 32 MiB it only catches a leak of
		# every allocation; a page a check keeps is the module's own
		# page_leak and allocation checks' to find.
		at10=$(sed -n 's/^GUEST: e2e loads .* at10 //p' "$log")
		at100=$(sed -n 's/^GUEST: e2e loads .* at100 //p' "$log")
		loads=$(sed -n 's/^GUEST: e2e loads \([0-9]*\) bad \([0-9]*\) at100 .*/\1 \2/p' "$log")
		v() { printf '%s\n' "$1" | sed -n "s/.*$2: \([0-9]*\).*/\1/p"; }
		ok=1 detail="no result"
		if [ -n "$at10" ] && [ -n "$at100" ]; then
			da=$(($(v "$at100" MemAvailable) - $(v "$at10" MemAvailable)))
			ds=$(($(v "$at100" SUnreclaim) - $(v "$at10" SUnreclaim)))
			dv=$(($(v "$at100" VmallocUsed) - $(v "$at10" VmallocUsed)))
			dp=$(($(v "$at100" Percpu) - $(v "$at10" Percpu)))
			[ "$loads" = "100 0" ] && [ $ds -lt 256 ] && [ $dv -lt 256 ] &&
				[ $dp -lt 64 ] && [ $da -gt -32768 ] && ok=0
			# Signed changes, e.g. "+12 kB", "-3128 kB".
			sg() { case $1 in -*) echo "$1" ;; *) echo "+$1" ;; esac; }
			detail="loads/failed $loads; 10th->100th: MemAvailable $(sg $da) kB, SUnreclaim $(sg $ds) kB, VmallocUsed $(sg $dv) kB, Percpu $(sg $dp) kB"
		fi
		case_ "$g" module-100-loads $ok 0 "$detail"
	fi

	case " $KUNIT_GRANULES " in *" $g "*)
		# Each suite's KTAP, copied by the guest from debugfs, as a
		# kunit.py report of its own.
		p=0 f=0
		for st in $(sed -n 's/^GUEST: e2e kunit suite [^ ]* \([^ ]*\).*/\1/p' "$log"); do
			sed -n "s/^GUEST: kunit $st: //p" "$log" > "$work/$g-$st.ktap"
			(cd "$top/build/linux" && python3 tools/testing/kunit/kunit.py parse \
				--json="$RESULTS/kunit-e2e-$g-$st.json" "$work/$g-$st.ktap") \
				> "$work/$g-$st.parse" 2>&1
			n=$(python3 "$top/scripts/kunit-cases.py" --count "$RESULTS/kunit-e2e-$g-$st.json" 2>/dev/null || echo "0 1 0 0 0")
			set -- $n
			p=$((p + $1)) f=$((f + $2 + $3 + $4 + $5))
		done
		mods=$(grep -c '^GUEST: e2e kunit modprobe [^ ]* ok\b' "$log")
		want=$(wc -l < "$work/initramfs.kunit.list")
		suites=$(grep -c '^GUEST: e2e kunit suite ' "$log")
		ok=1
		[ "$mods" = "$want" ] && [ "$p" -gt 0 ] && [ "$f" = 0 ] && ok=0
		case_ "$g" kunit-modprobe $ok 0 "$mods of $want modules, $suites suites, cases: $p passed, $f not passed"
	esac

	log_clean "$log"; case_ "$g" clean-log $? 0 "no IOMMU fault, DMA-API report, WARN or BUG"
done

# The control: the base kernel, the same boots.
for g in $GRANULES; do
	log=$RESULTS/e2e-base-$g.log
	boot "$BASE_O" "$work/initramfs-base.cpio.gz" "$g" "$log" ""
	dom=$(domains "$log")
	refused=false
	grep -q 'larger than system page size' "$log" && refused=true
	load=$(sed -n 's/^GUEST: e2e module plain load //p' "$log")
	msg=$(grep -o 'dma_granule_test: no PCI or platform device is in a DMA-API domain' "$log" | head -n 1)
	ok=1
	if [ "$g" = 4k ]; then
		sum=$(sed -n "s/^GUEST: e2e module plain summary //p" "$log")
		"$io_host" verify "$work/disk.img" "$SEED" "$WSEED" > /dev/null 2>&1 &&
			[ "$refused" = false ] && [ "$dom" = 2 ] && [ "$load" = ok ] &&
			[ "$(field " $sum" failed)" = 0 ] && log_clean "$log" && ok=0
		expect="works: 2 DMA domains, disk verified, module passes"
	else
		[ "$refused" = true ] && [ "$dom" = 0 ] && [ "$load" = refused ] &&
			[ -n "$msg" ] && ok=0
		expect="refuses: granule refused, no DMA domain, module load refused"
	fi
	r=PASS
	[ $ok = 0 ] || r=FAIL
	printf '%s\t%s\t%s\t%s\t%s\n' "$g" "$refused" "$dom" "${load:-none}" "$r" >> "$control"
	echo "e2e: control base $g: $r ($expect; granule refused $refused, DMA domains $dom, module ${load:-not tried})"
	ktap_result $ok "control: base kernel at $g $expect"
done
ktap_close "$RESULTS/e2e.tap"

kver=$(sed -n 's/^GUEST: kernel \([^ ]*\) .*/\1/p' "$RESULTS/e2e-series-${GRANULES%% *}.log" 2>/dev/null | head -n 1)
python3 - "$cases" "$control" "$RESULTS/e2e.json" "$GRANULES" "$KUNIT_GRANULES" \
	"$LOADS_GRANULE" "$SEED" "$NETBYTES" "$kver" <<'EOF'
import json, sys
cases = []
for line in open(sys.argv[1]):
    g, w, r, b, d = line.rstrip('\n').split('\t')
    cases.append({"granule": g, "workload": w, "result": r,
                  "bytes_verified": int(b or 0), "detail": d})
control = {"kernel": "base (untouched)", "expect": "4k works; 16k and 64k refused",
           "granules": {}}
for line in open(sys.argv[2]):
    g, refused, dom, load, r = line.rstrip('\n').split('\t')
    control["granules"][g] = {"granule_refused": refused == "true",
                              "dma_domains": int(dom), "module_load": load,
                              "result": r}
control["result"] = "PASS" if all(v["result"] == "PASS" for v in control["granules"].values()) else "FAIL"
run = dict(zip(["granules", "kunit_granules", "loads_granule", "seed",
                "net_bytes", "kernel"], sys.argv[4:]))
json.dump({"run": run, "cases": cases, "control": control,
           "summary": {"cases": len(cases),
                       "passed": sum(c["result"] == "PASS" for c in cases),
                       "bytes_verified": sum(c["bytes_verified"] for c in cases)}},
          open(sys.argv[3], "w"), indent=1)
EOF
echo "e2e: $RESULTS/e2e.json"
! ktap_failed "$RESULTS/e2e.tap"
