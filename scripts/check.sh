#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: checkpatch --strict on every patch, then every prefix of the
# series (bisectability) built with W=1 for arm64 4K, arm64 16K and x86_64
# (the directories the series touches, after `make prepare`), comparing the
# warnings with those of the base, and sparse on the touched files of the
# whole series.  TAP in $RESULTS/check.tap, logs in $RESULTS/check/.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
src=$top/build/linux
wt=$top/build/check/linux
RESULTS=${RESULTS:-$top/build/results}
logs=$RESULTS/check
mkdir -p "$logs"
dirs="drivers/iommu/ kernel/dma/ mm/dmapool.o"
configs=${CHECK_CONFIGS:-arm64-4k arm64-16k x86_64}
export PATH=/usr/lib/ccache:$PATH CCACHE_BASEDIR=$top/build

commits=$(git -C "$src" rev-list --reverse base..HEAD)
[ -n "$commits" ] || { echo "check: no commits on base"; exit 0; }
[ -d "$wt" ] || { mkdir -p "$top/build/check" && git -C "$src" worktree add -q --detach "$wt" base; }

. "$top/scripts/ktap.sh"
KTAP_ECHO=1
ktap_open "$RESULTS/check.tap"
fail=0
# Not in a pipeline: fail must be set in this shell, not a subshell.
t() {	# t <ok:0|1> <description>
	ktap_result "$1" "$2"
	[ "$1" = 0 ] || fail=1
}

kmake() {	# kmake <config> <args...>
	cfg=$1; shift
	case $cfg in
	x86_64) a="ARCH=x86_64 CROSS_COMPILE=" ;;
	*) a="ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-" ;;
	esac
	# shellcheck disable=SC2086
	make -s -C "$wt" O="$top/build/check/$cfg" $a -j"$(nproc)" "$@"
}

configure() {	# configure <config>
	o=$top/build/check/$1
	mkdir -p "$o"
	case $1 in
	# 4K: the test kernel's options (the dma-iommu suites a module) and
	# the driver suites built in; 16K: every suite built in, as kunit.py
	# builds them.
	arm64-4k) ALLOW_MISSING=1 O=$o LINUX_DIR=$wt PAGES=4k \
		EXTRA_FRAGS="$top/scripts/check-kunit.config" \
		sh "$top/scripts/config.sh" >/dev/null ;;
	arm64-16k) ALLOW_MISSING=1 O=$o LINUX_DIR=$wt PAGES=16k \
		EXTRA_FRAGS="$top/kunit/.kunitconfig $(ls "$wt/drivers/iommu/.kunitconfig" 2>/dev/null)" \
		sh "$top/scripts/config.sh" >/dev/null ;;
	x86_64)
		[ -f "$o/.config" ] || {
			kmake x86_64 x86_64_defconfig >/dev/null
			(cd "$wt" && ARCH=x86_64 scripts/kconfig/merge_config.sh -m -O "$o" \
				"$o/.config" "$top/scripts/x86_64-check.config") >/dev/null
			kmake x86_64 olddefconfig >/dev/null
		} ;;
	esac
	kmake "$1" prepare >/dev/null 2>&1
}

warnings() {	# warnings <config> <label>: W=1 build of $dirs, warnings only
	out=$logs/$2-$1.log
	kmake "$1" W=1 $dirs > "$out" 2>&1
	rc=$?
	grep -E 'warning:|error:' "$out" | sed -E 's/:[0-9]+:[0-9]+:/:/' | sort -u > "$out.w"
	return $rc
}

git -C "$wt" checkout -q --detach base
for c in $configs; do
	configure "$c"
	warnings "$c" base
done

i=0
for commit in $commits; do
	i=$((i + 1))
	subj=$(git -C "$src" log -1 --format=%s "$commit")
	git -C "$wt" checkout -q --detach "$commit"
	# A new Kconfig option (the KUnit test) must make it into .config.
	if git -C "$wt" diff --name-only "$commit~" "$commit" | grep -q Kconfig; then
		for c in $configs; do
			rm -f "$top/build/check/$c/.config-inputs"
			[ "$c" = x86_64 ] && rm -f "$top/build/check/$c/.config"
			configure "$c"
		done
	fi
	for c in $configs; do
		kmake "$c" olddefconfig > /dev/null 2>&1
		warnings "$c" "p$i"
		rc=$?
		new=$(comm -13 "$logs/base-$c.log.w" "$logs/p$i-$c.log.w")
		[ -z "$new" ] && [ $rc = 0 ]
		t $? "$c W=1 builds $dirs with no new warning after $i: $subj"
		[ -z "$new" ] || ktap_diag "$(printf '%s\n' "$new" | sed 's/^/  /')"
	done
done

# sparse on the files the series touches, compared with the base.  The
# kernel only runs a sparse that passes its scripts/checker-valid.sh;
# scripts/sparse.sh finds or builds one.
if ! checker=$(sh "$top/scripts/sparse.sh" "$wt" 2>"$logs/sparse-setup.log"); then
	t 1 "sparse on the touched files: no sparse passing scripts/checker-valid.sh (see $logs/sparse-setup.log), so sparse did not run"
else
	# A test file #included by its driver (foo.c: #include
	# "tests/foo_kunit.c") is checked as part of the driver's object,
	# not on its own.
	files=
	for f in $(git -C "$src" diff --name-only base HEAD -- '*.c' | grep -v -e '^tools/'); do
		d=$src/$(dirname "$f") b=$(basename "$f")
		grep -qsF -e "#include \"$b\"" "$d"/*.c && continue
		grep -qsF -e "#include \"$(basename "$d")/$b\"" "$d"/../*.c && continue
		files="$files ${f%.c}.o"
	done
	# Each object with the configuration that compiles it: arm64, or
	# x86_64 for x86-only drivers.  An object neither compiles (PowerPC's
	# PAMU) is named in the result.
	ok=0 unbuilt=
	: > "$logs/sparse-base.w"
	: > "$logs/sparse-HEAD.w"
	for o in $files; do
		for c in arm64-4k x86_64; do
			[ -f "$top/build/check/$c/$o" ] ||
				kmake "$c" "$o" >> "$logs/sparse-compile.log" 2>&1 ||
				continue
			continue 2
		done
		unbuilt="$unbuilt $o"
	done
	for rev in base HEAD; do
		git -C "$wt" checkout -q --detach "$([ $rev = HEAD ] && git -C "$src" rev-parse HEAD || echo base)"
		for c in arm64-4k x86_64; do
			kmake "$c" olddefconfig > /dev/null 2>&1
			# Only the objects this revision has (the base lacks
			# new files) and this configuration builds.
			objs=
			for o in $files; do
				[ -f "$wt/${o%.o}.c" ] && [ -f "$top/build/check/$c/$o" ] &&
					objs="$objs $o"
			done
			[ -n "$objs" ] || continue
			# shellcheck disable=SC2086
			kmake "$c" C=2 CHECK="$checker" $objs > "$logs/sparse-$rev-$c.log" 2>&1 || ok=1
			grep -E 'warning:|error:' "$logs/sparse-$rev-$c.log" | sed -E 's/:[0-9]+:[0-9]+:/:/' >> "$logs/sparse-$rev.w"
		done
		sort -u -o "$logs/sparse-$rev.w" "$logs/sparse-$rev.w"
	done
	new=$(comm -13 "$logs/sparse-base.w" "$logs/sparse-HEAD.w")
	[ -z "$new" ] && [ $ok = 0 ]
	t $? "sparse (C=2) on$files: no new warning${unbuilt:+ (not built by arm64 or x86_64, so not checked:$unbuilt)}"
	[ -z "$new" ] || ktap_diag "$(printf '%s\n' "$new" | sed 's/^/  /')"
fi

ktap_close "$RESULTS/check.tap"
exit $fail
