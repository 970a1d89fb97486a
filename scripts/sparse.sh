#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Print the path of a sparse the kernel accepts (scripts/checker-valid.sh:
# it needs __typeof_unqual__, which bookworm's sparse 0.6.4 lacks).  Uses
# the system's sparse when it passes; otherwise builds Debian's current
# sparse source package (apt verifies it against the signed Sources index)
# once, into the cache, so later runs work offline.  No apt state of the
# system is touched: the source index lives in a private directory.
# Usage: sparse.sh <kernel source tree>
set -eu

linux=$1
valid() { [ "$(sh "$linux/scripts/checker-valid.sh" "$1" 2>/dev/null)" = 1 ]; }

if valid sparse; then
	command -v sparse
	exit 0
fi

cache=${XDG_CACHE_HOME:-$HOME/.cache}/iommu-granule/sparse
bin=$cache/bin/sparse
if [ -x "$bin" ] && valid "$bin"; then
	echo "$bin"
	exit 0
fi

suite=${SPARSE_SUITE:-sid}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/src"
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main" \
	> "$tmp/sources.list"
apt() {
	apt-get -q -o Dir::Etc::SourceList="$tmp/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$tmp/lists" \
		-o Dir::Cache="$tmp/cache" -o APT::Sandbox::User="$(id -un)" "$@"
}
apt update >&2
(cd "$tmp/src" && apt source --download-only sparse >&2)
orig=$(ls "$tmp"/src/sparse_*.orig.tar.*)
tar -xf "$orig" -C "$tmp/src"
dir=$(find "$tmp/src" -mindepth 1 -maxdepth 1 -type d -name 'sparse-*')
make -C "$dir" -j"$(nproc)" HAVE_LLVM=no HAVE_GTK=no HAVE_SQLITE=no \
	HAVE_LIBXML=no sparse >&2
mkdir -p "$cache/bin"
cp "$dir/sparse" "$bin"
basename "$orig" > "$cache/VERSION"
valid "$bin" || { echo "sparse.sh: $(basename "$orig") fails checker-valid.sh" >&2; exit 1; }
echo "$bin"
