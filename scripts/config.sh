#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Write the test kernel's .config into $O: scripts/arm64-base.config with
# Kconfig.fragment merged on top by the kernel's merge_config.sh.  Fails when
# an option of the fragment does not survive olddefconfig.
#
# PAGES=4k|16k|64k selects the CPU page size (the fragment says 4K).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
src=${LINUX_DIR:-$top/build/linux}
O=${O:-$top/build/kernel}
PAGES=${PAGES:-4k}

mkdir -p "$O"
frags="$top/scripts/arm64-base.config $top/Kconfig.fragment"
if [ "$PAGES" != 4k ]; then
	pg=$(echo "$PAGES" | tr a-z A-Z)
	printf '# CONFIG_ARM64_4K_PAGES is not set\nCONFIG_ARM64_%s_PAGES=y\n' "$pg" > "$O/pages.config"
	frags="$frags $O/pages.config"
fi
# EXTRA_FRAGS: merged last (kunit.sh: the test options built in for kunit.py)
frags="$frags ${EXTRA_FRAGS:-}"

# Only rewrite .config when an input changed: keeps the build incremental.
stamp="$O/.config-inputs"
kunitconfigs="$top/kunit/.kunitconfig"
[ -f "$src/drivers/iommu/.kunitconfig" ] &&
	kunitconfigs="$src/drivers/iommu/.kunitconfig $kunitconfigs"
new=$( (echo "$src"; cat $frags $kunitconfigs) | cksum)
if [ -f "$O/.config" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$new" ]; then
	exit 0
fi

log="$O/merge_config.log"
# shellcheck disable=SC2086
(cd "$src" && ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
	scripts/kconfig/merge_config.sh -m -O "$O" $frags) > "$log" 2>&1
make -s -C "$src" O="$O" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- olddefconfig >> "$log" 2>&1

bad=0
[ "${ALLOW_MISSING:-0}" = 1 ] &&
	grep -rh --include='Kconfig*' '^\(menu\)\?config ' "$src" | awk '{print $2}' | sort -u > "$O/kconfig-symbols"
# What the fragments ask for, later ones overriding earlier ones.
# shellcheck disable=SC2086
requested=$(cat $frags | awk '
	/^CONFIG_[A-Z0-9_]+=/ { split($0, a, "="); if (!(a[1] in v)) o[n++] = a[1]; v[a[1]] = $0 }
	/^# CONFIG_[A-Z0-9_]+ is not set/ { if (!($2 in v)) o[n++] = $2; v[$2] = $2 "=n" }
	END { for (i = 0; i < n; i++) print v[o[i]] }')
for line in $requested; do
	opt=${line%%=*}
	val=${line#*=}
	# The negative control builds the base, which lacks the series' options.
	if [ "${ALLOW_MISSING:-0}" = 1 ] && ! grep -qx "${opt#CONFIG_}" "$O/kconfig-symbols"; then
		continue
	fi
	if [ "$val" = n ]; then
		grep -q "^$opt=" "$O/.config" && { echo "config: $opt should be off" >&2; bad=1; }
	elif ! grep -qx "$line" "$O/.config"; then
		echo "config: $line requested, .config has: $(grep "^$opt=\|^# $opt " "$O/.config" || echo nothing)" >&2
		bad=1
	fi
done
[ $bad = 0 ] || exit 1

# kunit.py reuses a .config that holds its kunitconfig, but regenerates it
# (dropping everything else) unless it recorded that kunitconfig as its last
# one.  Record it, together with the lines of its arm64 QEMU profile, so
# `kunit.py run` builds and boots this very configuration.
{
	sed -n "s/^\(CONFIG_SERIAL_AMBA_PL01[01].*\)/\1/p" "$top/scripts/arm64-base.config"
	cat $kunitconfigs | grep -E '^(CONFIG_|# CONFIG_)' | sort -u
} > "$O/last_used_kunitconfig"
echo "$new" > "$stamp"
echo "config: $O/.config ($PAGES pages)"
