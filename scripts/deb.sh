#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# `make deb`: Debian packages of the patched tree for Apple M1/M2 machines,
# a 4K-page kernel with the series (configs/apple-m1-4k.config):
#
#   sh scripts/deb.sh                                 on a PC: cross-built
#   M1_BASE_CONFIG=/boot/config-$(uname -r) sh scripts/deb.sh   on the M1
#   DRY_RUN=1 sh scripts/deb.sh      configure and check, print the build
#
# The configuration is scripts/m1-config-check.sh's, merged into the build
# directory $DEB_O (default build/deb): the distro config $M1_BASE_CONFIG,
# or the kernel's arm64 defconfig, with configs/apple-only.config (every
# other arm64 platform off: their SoC drivers drop out, about half of
# defconfig's modules) and configs/apple-m1-4k.config on top
# (M1_FRAGMENT=configs/apple-m1-4k.config keeps every platform of the
# base); a fragment option that does not survive stops here.  Then
# `make bindeb-pkg` with
# LOCALVERSION=-iommu-granule, under scripts/progress.sh (its output in
# $DEB_O/bindeb-pkg.log), ccache first in PATH, -j$JOBS (default: every
# CPU), cross-compiled with aarch64-linux-gnu- unless the host is arm64.
# The package version is the tree's kernelversion ("-rcN" written "~rcN",
# as the kernel's mkdebian does, so that the release sorts after it) and
# -$DEB_REV (default 1).  dpkg-buildpackage writes the packages into the
# parent of $DEB_O, build/ by default; their names, sizes and the elapsed
# time are printed at the end.  LINUX_DIR is the tree (default
# build/linux).  DRY_RUN=1 still merges and checks the configuration and
# lists missing host packages, but builds nothing.
#
# Host packages bindeb-pkg uses (scripts/package/mkdebian, builddeb and
# debian/rules of the tree; checked below with dpkg -s):
#   always:  dpkg-dev (dpkg-buildpackage, dpkg-architecture), debhelper
#            (dh_* in debian/rules), kmod (depmod: without it the packages
#            carry no modules.dep), rsync, bc, bison, flex, python3,
#            libelf-dev, libssl-dev, make, gcc;
#   cross:   gcc-aarch64-linux-gnu, libc6-dev-arm64-cross (the headers
#            package rebuilds scripts/ for arm64 with the cross compiler);
#   by configuration: libssl-dev:arm64 in a cross build with module
#            signing (the headers package rebuilds sign-file for arm64;
#            Debian's config signs modules), dwarves (pahole) for
#            DEBUG_INFO_BTF (Debian's config has it: without pahole
#            olddefconfig drops it), libdw-dev for GENDWARFKSYMS, xz-utils
#            or zstd for compressed modules;
#   optional: lsb-release (the changelog's distribution, else "unstable").
# The packaging's Build-Depends list every one of these whatever the
# configuration (libssl-dev for the target architecture, libdw-dev): the
# list above, checked against the configuration, replaces dpkg's check
# (DPKG_FLAGS=-d).
# Not needed: fakeroot (the packaging declares Rules-Requires-Root: no),
# cpio (the kernel writes cpio archives with its own usr/gen_init_cpio).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
src=${LINUX_DIR:-$top/build/linux}
DEB_O=${DEB_O:-$top/build/deb}
JOBS=${JOBS:-$(nproc)}
DEB_REV=${DEB_REV:-1}
DRY_RUN=${DRY_RUN:-0}
case $(uname -m) in
aarch64 | arm64) cross= ;;
*) cross=aarch64-linux-gnu- ;;
esac

mkdir -p "$DEB_O"
DEB_O=$(cd "$DEB_O" && pwd)
out=$(dirname "$DEB_O")
start=$(date +%s)

# The configuration: the same merge and check as `make test`'s, into the
# build directory (its TAP file beside it).
O_M1=$DEB_O RESULTS=$DEB_O CROSS_COMPILE=$cross LINUX_DIR=$src \
	sh "$top/scripts/m1-config-check.sh"
config=$DEB_O/.config

# Host packages, from what the configuration needs.
need="dpkg-dev debhelper kmod rsync bc bison flex python3 libelf-dev libssl-dev make gcc"
[ -z "$cross" ] || need="$need gcc-aarch64-linux-gnu libc6-dev-arm64-cross"
has() { grep -q "^CONFIG_$1=y" "$config"; }
if [ -n "$cross" ] && has MODULE_SIG_FORMAT; then
	need="$need libssl-dev:arm64"
fi
has DEBUG_INFO_BTF && need="$need dwarves"
has GENDWARFKSYMS && need="$need libdw-dev"
has MODULE_COMPRESS_XZ && need="$need xz-utils"
has MODULE_COMPRESS_ZSTD && need="$need zstd"
missing=
for p in $need; do
	dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "${M1_BASE_CONFIG:-}" ] && ! has DEBUG_INFO_BTF &&
	grep -q '^CONFIG_DEBUG_INFO_BTF=y' "$M1_BASE_CONFIG"; then
	echo "deb: the base config has DEBUG_INFO_BTF, dropped here (no pahole? apt-get install dwarves)"
fi

kver=$(make -s --no-print-directory -C "$src" kernelversion)
pkgver=$(echo "$kver" | sed 's/-\(rc[0-9]*\)/~\1/')-$DEB_REV
set -- make -C "$src" O="$DEB_O" ARCH=arm64 ${cross:+CROSS_COMPILE=$cross} \
	-j"$JOBS" LOCALVERSION=-iommu-granule KDEB_PKGVERSION="$pkgver" \
	DPKG_FLAGS=-d bindeb-pkg
export PATH="/usr/lib/ccache:$PATH"

if [ "$DRY_RUN" = 1 ]; then
	echo "deb: dry run; the build would be:"
	echo "  PATH=/usr/lib/ccache:\$PATH sh scripts/progress.sh deb $DEB_O $DEB_O/bindeb-pkg.log \\"
	echo "    $*"
	echo "deb: packages would be written to $out/*_${pkgver}_arm64.deb"
	if [ -n "$missing" ]; then
		echo "deb: missing host packages:$missing"
	else
		echo "deb: host packages: all present"
	fi
	exit 0
fi

if [ -n "$missing" ]; then
	echo "deb: missing host packages:$missing" >&2
	echo "deb: apt-get install$missing" >&2
	exit 1
fi

echo "deb: $* (log: $DEB_O/bindeb-pkg.log)"
if ! sh "$top/scripts/progress.sh" deb "$DEB_O" "$DEB_O/bindeb-pkg.log" "$@"; then
	tail -n 30 "$DEB_O/bindeb-pkg.log" >&2
	echo "deb: bindeb-pkg failed (log: $DEB_O/bindeb-pkg.log)" >&2
	exit 1
fi

secs=$(($(date +%s) - start))
n=0
for f in "$out"/*_"$pkgver"_arm64.deb; do
	[ -e "$f" ] || continue
	n=$((n + 1))
	printf '  %8s  %s\n' "$(du -h "$f" | cut -f1)" "$f"
done
[ $n -gt 0 ] || { echo "deb: no package in $out" >&2; exit 1; }
echo "deb: $n packages in $((secs / 60)) min $((secs % 60)) s"
