#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: what an IOMMU granule larger than PAGE_SIZE costs, measured
# side by side under QEMU.  Not part of `make test`.
#
#   O=<4K kernel> BASE_O=<base 4K kernel> O16=<16K kernel> bench.sh
#
# Five configurations, each a boot behind virtio-iommu (QEMU's virt machine,
# software emulation, $SMP vCPUs):
#   base-4k@4k     the untouched base kernel, granule 4K
#   series-4k@4k   the patched 4K kernel, granule 4K (the series' cost for
#                  everyone whose granule is PAGE_SIZE)
#   series-4k@16k  the patched 4K kernel, granule 16K (an M1's DART)
#   series-4k@64k  the patched 4K kernel, granule 64K
#   series-16k@16k the patched 16K kernel, granule 16K (what a user would
#                  pick instead)
# Every boot runs the guest side in scripts/guest/init (bench part): the
# kernel's dma_map_benchmark (CONFIG_DMA_MAP_BENCHMARK), bound through
# driver_override to a pci-testdev, runs with its userspace tool from
# tools/dma (cross-built static) for every thread count of $THREADS, map
# size of $SIZES pages and both modes (dma_map_single, dma_map_sg of
# one-page entries), $SECS seconds each, on a strict and a lazy (DMA-FQ)
# domain, $INNER rounds of that per boot; then the test module's benchmark
# mode (bench=1), trusted and untrusted.  These boots run $ROUNDS times, the
# configurations in a rotated order each time.  Then, in boots of their own
# ($BLK_ROUNDS rounds, rotated likewise, without -icount: under it the
# guest's idle time jumps ahead, so throughput means nothing), O_DIRECT
# reads of a 64 MiB virtio-blk disk, sequential 1 MiB and random 4 KiB,
# for $BLKMS ms each, $BLK_INNER times per boot.
# DMA-API debugging is off (dma_debug=off) in every boot.
#
# The guests run with QEMU's -icount $ICOUNT (default shift=2,sleep=off):
# guest time advances 4 ns per instruction executed, so what the guest
# measures is the instructions its own code runs, the same on every run
# (to within a few tenths of a percent) whatever else the host does.
# QEMU's device emulation (virtio-iommu's page tables, virtio-blk) takes no
# guest time: the figures are the guest kernel's cost, which is what the
# series changes.  ICOUNT= (empty) measures host time instead, with the
# host's noise (10 to 50 % between runs here).
#
# scripts/bench-report.py turns the samples into $RESULTS/bench.json
# (every figure with its configuration, medians, spreads, and the summary
# ratios), docs/performance.md and its plots (gnuplot, SVG).  Only ratios
# measured in the same run mean anything: TCG's absolute times do not.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-$top/build/kernel}
BASE_O=${BASE_O:-$top/build/base/kernel}
O16=${O16:-$top/build/kernel-16k}
RESULTS=${RESULTS:-$top/build/results}
DOCS=${DOCS:-$top/docs}
ROUNDS=${ROUNDS:-2}
INNER=${INNER:-2}
THREADS=${THREADS:-1,2}
SIZES=${SIZES:-1,4,16}
SECS=${SECS:-1}
BLKMS=${BLKMS:-3000}
BLK_ROUNDS=${BLK_ROUNDS:-2}
BLK_INNER=${BLK_INNER:-2}
SG_ITERS=${SG_ITERS:-200}
SMP=${SMP:-2}
ICOUNT=${ICOUNT-shift=2,sleep=off}
TIMEOUT=${TIMEOUT:-1200}
work=$top/build/bench
mkdir -p "$work" "$RESULTS"

# name:kernel build dir:granule:tree
configs="base-4k@4k:$BASE_O:4k:$top/build/base/linux
series-4k@4k:$O:4k:$top/build/linux
series-4k@16k:$O:16k:$top/build/linux
series-4k@64k:$O:64k:$top/build/linux
series-16k@16k:$O16:16k:$top/build/linux"
# ONLY="series-4k@16k ..." runs those configurations alone.
if [ -n "${ONLY:-}" ]; then
	configs=$(echo "$configs" | grep -E "^($(echo "$ONLY" | tr ' ' '|')):") ||
		{ echo "bench: ONLY=$ONLY names no configuration" >&2; exit 1; }
fi

for c in $configs; do
	k=$(echo "$c" | cut -d: -f2)
	[ -f "$k/arch/arm64/boot/Image.gz" ] || {
		echo "bench: no $k/arch/arm64/boot/Image.gz: run 'make build', 'make build BASE_ONLY=1' and 'make build PAGES=16k'" >&2
		exit 1
	}
	grep -q '^CONFIG_DMA_MAP_BENCHMARK=y' "$k/.config" || {
		echo "bench: $k has no CONFIG_DMA_MAP_BENCHMARK" >&2
		exit 1
	}
done
command -v gnuplot > /dev/null || { echo "bench: gnuplot missing (apt-get install gnuplot-nox)" >&2; exit 1; }
[ -e /usr/aarch64-linux-gnu/lib/libc.a ] ||
	{ echo "bench: libc6-dev-arm64-cross missing (the static dma_map_benchmark)" >&2; exit 1; }

# The kernel's own userspace tool, static for the busybox guest.
make -s -C "$top/build/linux/tools/dma" CROSS_COMPILE=aarch64-linux-gnu- CFLAGS=-static
cp "$top/build/linux/tools/dma/dma_map_benchmark" "$work/"
make -s -C "$top/build/linux/tools/dma" clean
sh "$top/scripts/e2e-io.sh" "$work"
"$work/e2e-io-host" gen "$work/disk.img" 64M 1 > /dev/null

# One initramfs per kernel build directory, with the test module built
# against that kernel (scripts/module.sh: into <kernel>-modules).
for c in $configs; do
	k=$(echo "$c" | cut -d: -f2) tree=$(echo "$c" | cut -d: -f4)
	img=$work/initramfs-$(echo "${k#"$top"/}" | tr / -).cpio.gz
	mod=$(O=$k sh "$top/scripts/module.sh" | grep '/dma_granule_test\.ko$')
	{
		echo "file /bin/dma_map_benchmark $work/dma_map_benchmark 755 0 0"
		echo "file /bin/e2e-io $work/e2e-io 755 0 0"
		echo "dir /lib/modules/bench 755 0 0"
		echo "file /lib/modules/bench/dma_granule_test.ko $mod 644 0 0"
	} | LINUX_DIR=$tree sh "$top/scripts/initramfs.sh" "$k" "$img"
done

samples=$work/samples.tsv
printf 'config\tboot\tround\ttype\tthreads\tpages\tmode\tmap_us\tmap_sd\tunmap_us\tunmap_sd\n' > "$samples"
blk=$work/blk.tsv
printf 'config\tboot\tround\tworkload\tblock\tops\tbytes\tns\n' > "$blk"
meta=$work/meta.tsv
: > "$meta"
mem=$work/mem.tsv
printf 'config\tboot\ttrust\tkind\tsize\tcount\tpages\tpages_min\tpages_max\tfloor_pages\treach_bytes\tfloor_bytes\tpage_size\tgranule\n' > "$mem"
lim=$work/limits.tsv
printf 'config\tboot\ttrust\topt_mapping_size\tmax_mapping_size\tblk_max_hw_sectors_kb\n' > "$lim"
counts=$work/counts.tsv
printf 'config\tboot\twhat\tmaps\tunmaps\tmap_bytes\n' > "$counts"
sg=$work/sg.tsv
printf 'config\tboot\ttrust\tround\tlists\tentries\tbytes\titerations\tmap_ns\tunmap_ns\n' > "$sg"

n=$(echo "$configs" | wc -l)
total=$((n * (ROUNDS + BLK_ROUNDS)))
i=0
start=$(date +%s)
# pass <map|blk> <boots>: every configuration booted <boots> times, the
# order rotated by one configuration per round.  map: dma_map_benchmark and
# the test module under -icount; blk: the disk reads alone, in host time.
pass() {
	for b in $(seq 1 "$2"); do
		order=$(echo "$configs" | awk -v r="$b" -v n="$n" '{ l[NR] = $0 }
			END { for (i = 0; i < n; i++) print l[(i + r - 1) % n + 1] }')
		for c in $order; do
			boot_one "$1" "$b" "$c"
		done
	done
}

boot_one() {	# boot_one <pass> <boot round> <configuration>
	name=$(echo "$3" | cut -d: -f1) k=$(echo "$3" | cut -d: -f2)
	g=$(echo "$3" | cut -d: -f3) b=$2
	i=$((i + 1))
	log=$work/$name-$1-$b.log
	if [ "$1" = map ]; then
		ic=$ICOUNT args="granule_test.bench_rounds=$INNER granule_test.bench_threads=$THREADS granule_test.bench_sizes=$SIZES granule_test.bench_secs=$SECS granule_test.bench_sg_iters=$SG_ITERS"
	else
		ic= args="granule_test.bench_mode=blk granule_test.bench_rounds=$BLK_INNER granule_test.bench_blkms=$BLKMS"
	fi
	# The map pass counts virtio-iommu's MAP and UNMAP requests per run
	# in QEMU's trace (scripts/bench-count.awk; the disk is the endpoint
	# of 00:02.0).  Tracing is QEMU's work, outside the guest's icount.
	# The FIFO is held open here (read-write, which does not block) until
	# QEMU is gone, so that neither side waits for the other to open it.
	cnt=$work/$name-$1-$b.count
	rm -f "$cnt" "$work/trace.fifo"
	trace=
	if [ "$1" = map ]; then
		mkfifo "$work/trace.fifo"
		exec 3<> "$work/trace.fifo"
		awk -v disk=16 -f "$top/scripts/bench-count.awk" < "$work/trace.fifo" > "$cnt" 3>&- &
		cpid=$!
		trace="-trace enable=virtio_iommu_attach -trace enable=virtio_iommu_map -trace enable=virtio_iommu_unmap -D $work/trace.fifo"
	fi
	s=$(date +%s)
	timeout "$TIMEOUT" qemu-system-aarch64 -M virt -cpu max,pauth-impdef=on \
		-smp "$SMP" -m 2G -nodefaults -display none -serial stdio -no-reboot \
		${ic:+-icount "$ic"} $trace \
		-kernel "$k/arch/arm64/boot/Image.gz" \
		-initrd "$work/initramfs-$(echo "${k#"$top"/}" | tr / -).cpio.gz" \
		-append "console=ttyAMA0 rdinit=/init panic=-1 quiet dma_debug=off granule_test.bench=1 $args" \
		-device virtio-iommu-pci,granule="$g" \
		-drive if=none,id=d0,file="$work/disk.img",format=raw,cache=none,readonly=on \
		-device virtio-blk-pci,drive=d0,iommu_platform=on,disable-legacy=on,addr=2 \
		-device pci-testdev,addr=3 \
		< /dev/null 3>&- 2>&1 | tr -d '\r' > "$log" 3>&- || true
	if [ -n "$trace" ]; then
		exec 3>&-
		wait "$cpid"
	fi
	el=$(($(date +%s) - s))
	ok=yes
	grep -q '^GUEST: bench done\b' "$log" || ok=no
	if [ "$1" = map ]; then
		[ "$(grep -c '^GUEST: bench module [a-z]* part [12] load ok\b' "$log")" = 4 ] || ok=no
		nl=$(grep -c '^GUEST: bench round .* us [0-9]' "$log" || true)
	else
		nl=$(grep -c '^GUEST: bench round .* rate blk .* ns [0-9]' "$log" || true)
	fi
	# One count per mark, and one before the first: a mark that made no
	# disk request, or a run without a request of the device's, would
	# pair the counts with the wrong runs.
	if [ "$1" = map ] && [ "$(grep -c '^run ' "$cnt")" != \
		"$(($(grep -c '^GUEST: bench mark ' "$log") + 1))" ]; then
		echo "bench: $cnt: $(grep -c '^run ' "$cnt") counts for $(grep -c '^GUEST: bench mark ' "$log") marks" >&2
		ok=no
	fi
	# A warning or fault makes the boot's figures worthless.
	if grep -q -e 'fault from EP' -e 'WARNING:' -e 'BUG:' -e 'Oops' \
		-e 'Kernel panic' -e '^GUEST: bench error' -e 'refused\b' \
		-e 'bind failed' -e '^GUEST: dgt-bench [a-z]*: *not ok' \
		-e 'e2e-io: rate: ' "$log"; then
		ok=no
	fi
	echo "bench: [$i/$total, $(( ($(date +%s) - start) / 60 )) min] $1 $name boot $b: $el s, $nl samples, complete $ok"
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$1" "$b" "$el" "$ok" \
		"$(sed -n 's/^GUEST: kernel //p' "$log" | head -n 1)" >> "$meta"
	[ $ok = yes ] || { echo "bench: $log:" >&2; tail -n 20 "$log" >&2; return; }
	if [ "$1" = blk ]; then
		sed -n 's/^GUEST: bench round \([0-9]*\) e2e-io: rate blk \([a-z]*\) block \([0-9]*\) ops \([0-9]*\) bytes \([0-9]*\) ns \([0-9][0-9]*\)\b.*/\1\t\2\t\3\t\4\t\5\t\6/p' "$log" |
			sed "s/^/$name\t$b\t/" >> "$blk"
		return
	fi
	# "GUEST: bench mark <n> <what>" began the count file's "run <n>".
	[ -s "$cnt" ] && awk -v p="$name\t$b" 'FNR == NR { m[$2] = $4; um[$2] = $6; by[$2] = $8; next }
		/^GUEST: bench mark [0-9]+ / && ($4 in m) {
			w = $5
			for (i = 6; i <= NF; i++)
				w = w " " $i
			printf "%s\t%s\t%s\t%s\t%s\n", p, w, m[$4], um[$4], by[$4]
		}' "$cnt" "$log" >> "$counts"
	sed -n 's/^GUEST: bench round \([0-9]*\) type \([^ ]*\) threads \([0-9]*\) pages \([0-9]*\) mode \([0-9]\) us \([0-9][0-9.]*\) \([0-9][0-9.]*\) \([0-9][0-9.]*\) \([0-9][0-9.]*\)\b.*/\1\t\2\t\3\t\4\t\5\t\6\t\7\t\8\t\9/p' "$log" |
		sed "s/^/$name\t$b\t/" >> "$samples"
	# The module's figures: "name value" pairs after "# bench mem"
	# or "# bench map_sg", values in the header's column order.
	hw=$(sed -n 's/^GUEST: bench blk max_hw_sectors_kb \([0-9][0-9]*\)\b.*/\1/p' "$log")
	for t in trusted untrusted; do
		sed -n "s/^GUEST: dgt-bench $t:  *# bench dma opt_mapping_size \([0-9][0-9]*\) max_mapping_size \([0-9][0-9]*\)\b.*/\1\t\2/p" "$log" |
			head -n 1 | sed "s/^/$name\t$b\t$t\t/; s/\$/\t$hw/" >> "$lim"
		grep "^GUEST: dgt-bench $t:  *# bench mem kind [a-z]* size [0-9]* count" "$log" |
			sed 's/.*# bench mem //' |
			awk -v p="$name\t$b\t$t" '{ l = p; for (i = 2; i <= NF; i += 2) l = l "\t" $i; print l }' >> "$mem"
		grep "^GUEST: dgt-bench $t:  *# bench map_sg round" "$log" |
			sed 's/.*# bench map_sg //' |
			awk -v p="$name\t$b\t$t" '{ l = p; for (i = 2; i <= NF; i += 2) l = l "\t" $i; print l }' >> "$sg"
	done
}

pass map "$ROUNDS"
pass blk "$BLK_ROUNDS"

python3 "$top/scripts/bench-report.py" --samples "$samples" --blk "$blk" --meta "$meta" \
	--mem "$mem" --sg "$sg" --limits "$lim" --counts "$counts" \
	--json "$RESULTS/bench.json" --docs "$DOCS" --work "$work" \
	--run "rounds=$ROUNDS inner=$INNER threads=$THREADS sizes=$SIZES secs=$SECS blkms=$BLKMS blk_rounds=$BLK_ROUNDS blk_inner=$BLK_INNER smp=$SMP sg_iters=$SG_ITERS icount=$ICOUNT"
echo "bench: $(($(date +%s) - start)) s; $RESULTS/bench.json, $DOCS/performance.md"
