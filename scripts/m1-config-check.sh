#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The 4K-page Apple M1/M2 configuration: merge configs/apple-only.config
# (every other arm64 platform off) and configs/apple-m1-4k.config onto a
# distro arm64 configuration and check that every option the fragments set
# survives olddefconfig.  No compile: it takes seconds.
#
#   sh scripts/m1-config-check.sh
#   M1_BASE_CONFIG=/boot/config-$(uname -r) sh scripts/m1-config-check.sh
#
# Base: $M1_BASE_CONFIG (a distro's config file) if set, else the kernel's
# arch/arm64/configs/defconfig.  The kernel's merge_config.sh -m writes the
# merge into $O_M1 (default build/m1-config), `make olddefconfig` resolves
# it there.  One TAP case per option of the fragments (same value; "is not
# set" means absent or =n) and one for the page size, in
# $RESULTS/m1-config.tap (default build/results) and on stdout.  Exits 1
# when a case fails.  LINUX_DIR is the kernel tree (default build/linux);
# M1_FRAGMENT replaces the list of fragments, merged in its order
# (M1_FRAGMENT=configs/apple-m1-4k.config keeps the base's other
# platforms); CROSS_COMPILE defaults to
# aarch64-linux-gnu- unless the host is arm64 (scripts/deb.sh passes its
# own, and its build directory as O_M1).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
src=${LINUX_DIR:-$top/build/linux}
O_M1=${O_M1:-$top/build/m1-config}
RESULTS=${RESULTS:-$top/build/results}
frags=${M1_FRAGMENT:-$top/configs/apple-only.config $top/configs/apple-m1-4k.config}
if [ -z "${CROSS_COMPILE+set}" ]; then
	case $(uname -m) in
	aarch64 | arm64) CROSS_COMPILE= ;;
	*) CROSS_COMPILE=aarch64-linux-gnu- ;;
	esac
fi

if [ -n "${M1_BASE_CONFIG:-}" ]; then
	base=$M1_BASE_CONFIG
	[ -r "$base" ] || { echo "m1-config: M1_BASE_CONFIG=$base: no such file" >&2; exit 1; }
	base=$(cd "$(dirname "$base")" && pwd)/$(basename "$base")
else
	base=$src/arch/arm64/configs/defconfig
fi
frag=
for f in $frags; do
	[ -r "$f" ] || { echo "m1-config: $f: no such file" >&2; exit 1; }
	frag="$frag $(cd "$(dirname "$f")" && pwd)/$(basename "$f")"
done

mkdir -p "$O_M1" "$RESULTS"
. "$top/scripts/ktap.sh"
tap=$RESULTS/m1-config.tap
ktap_open "$tap"
ktap_diag "base: ${base#"$top"/}"
for f in $frag; do ktap_diag "fragment: ${f#"$top"/}"; done

# Merge, then let Kconfig resolve dependencies and defaults.  A base from
# another machine may name options this tree lacks, or a compiler it has
# not: olddefconfig drops or recomputes those, as a distro build would.
log=$O_M1/m1-config.log
rm -f "$O_M1/.config"
rc=0
{
	(cd "$src" && ARCH=arm64 CROSS_COMPILE=$CROSS_COMPILE \
		scripts/kconfig/merge_config.sh -m -O "$O_M1" "$base" $frag) &&
	make -s -C "$src" O="$O_M1" ARCH=arm64 CROSS_COMPILE="$CROSS_COMPILE" olddefconfig
} > "$log" 2>&1 || rc=$?
if [ $rc != 0 ] || [ ! -s "$O_M1/.config" ]; then
	ktap_not_ok "merge_config.sh and olddefconfig ran"
	ktap_diag "$(tail -n 20 "$log")"
	ktap_close "$tap"
	tail -n 20 "$log" >&2
	echo "m1-config: merging failed (log: $log)" >&2
	exit 1
fi
ktap_ok "merge_config.sh and olddefconfig ran"
config=$O_M1/.config

# What the fragments ask for, in their order, a later line overriding an
# earlier one: CONFIG_X=<value>, or CONFIG_X=n for "is not set".
requested=$(awk '
	/^CONFIG_[A-Za-z0-9_]+=/ { i = index($0, "="); k = substr($0, 1, i - 1)
		if (!(k in v)) o[n++] = k; v[k] = $0 }
	/^# CONFIG_[A-Za-z0-9_]+ is not set/ { k = $2
		if (!(k in v)) o[n++] = k; v[k] = k "=n" }
	END { for (i = 0; i < n; i++) print v[o[i]] }' $frag)

# Why an option is missing: a symbol this tree does not define at all is
# the one thing olddefconfig cannot say.
why() {	# why <CONFIG_X>: the line .config has, or why it has none
	if grep "^$1=\|^# $1 is not set" "$config"; then
		:
	elif grep -rqs --include='Kconfig*' "^\(menu\)\{0,1\}config ${1#CONFIG_}\$" "$src"; then
		echo "no line: its dependencies are not met"
	else
		echo "no line: this tree has no such symbol"
	fi
}

# The lines hold no spaces (a string value with one would be split, and
# the fragment has none).
for line in $requested; do
	opt=${line%%=*}
	val=${line#*=}
	if [ "$val" = n ]; then
		if grep -q "^$opt=[ym]" "$config"; then
			ktap_not_ok "$opt is not set"
			ktap_diag ".config has: $(why "$opt")"
		else
			ktap_ok "$opt is not set"
		fi
	elif grep -qx "$line" "$config"; then
		ktap_ok "$line"
	else
		ktap_not_ok "$line"
		ktap_diag ".config has: $(why "$opt")"
	fi
done

# The page size, from every option that encodes it.
pages_ok=0
grep -qx 'CONFIG_ARM64_4K_PAGES=y' "$config" &&
	grep -qx 'CONFIG_PAGE_SIZE_4KB=y' "$config" &&
	grep -qx 'CONFIG_PAGE_SHIFT=12' "$config" &&
	! grep -q '^CONFIG_ARM64_\(16K\|64K\)_PAGES=y' "$config" &&
	! grep -q '^CONFIG_PAGE_SIZE_\(16\|64\)KB=y' "$config" || pages_ok=1
ktap_result $pages_ok "the merged config selects 4K pages and no other page size"
[ $pages_ok = 0 ] ||
	ktap_diag "$(grep '^CONFIG_ARM64_[0-9]*K_PAGES=\|^CONFIG_PAGE_SIZE_\|^CONFIG_PAGE_SHIFT=' "$config")"

bad=0
! ktap_failed "$tap" || bad=1
ktap_close "$tap"
sed -n 's/^# Totals: pass:\([0-9]*\) fail:\([0-9]*\).*/m1-config: \1 passed, \2 failed/p' "$tap"
grep -A 1 '^not ok' "$tap" >&2 || true
echo "m1-config: $config (TAP: $tap)"
exit $bad
