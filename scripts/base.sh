#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Prepare build/linux: a git repository whose first commit is the untouched
# base tree, tagged "base".  Sources, first match wins:
#   KERNEL_SRC=<checkout>   a local kernel tree (iommu/next, say)
#   BASE=iommu-next         shallow clone of the iommu tree's next branch
#   default                 Debian's linux-source-7.3 (7.3~rc7-1~exp1)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
out=${LINUX_DIR:-$top/build/linux}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/iommu-granule
pkg=linux-source-7.3
ver=7.3~rc7-1~exp1
iommu_git=https://git.kernel.org/pub/scm/linux/kernel/git/iommu/linux.git

if [ -d "$out/.git" ] && git -C "$out" rev-parse -q --verify base >/dev/null; then
	echo "base: $(cat "$out/.base-origin" 2>/dev/null || git -C "$out" log -1 --format=%s base)"
	exit 0
fi

rm -rf "$out"
mkdir -p "$(dirname "$out")" "$cache"

add_experimental() {
	src=/etc/apt/sources.list.d/granule-experimental.sources
	pin=/etc/apt/preferences.d/granule-experimental
	[ -e $src ] && [ -e $pin ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "base: need root once to add Debian's experimental suite" >&2
		exit 1
	fi
	cat > $src <<EOT
Types: deb
URIs: http://deb.debian.org/debian
Suites: experimental
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOT
	# Nothing is ever installed from experimental; only linux-source-7.*
	# may be selected, and it is only ever downloaded.
	cat > $pin <<EOT
Package: linux-source-7.*
Pin: release a=experimental
Pin-Priority: 1

Package: *
Pin: release a=experimental
Pin-Priority: -1
EOT
	apt-get update -qq
}

fetch_debian() {
	deb=$(ls "$cache"/${pkg}_*.deb 2>/dev/null | head -n 1 || true)
	if [ -z "$deb" ]; then
		add_experimental
		(cd "$cache" && apt-get -o APT::Sandbox::User=root download -qq "$pkg=$ver") || {
			newest=$(apt-cache search --names-only '^linux-source-7\.[0-9]+$' |
				 awk '{print $1}' | sort -V | tail -n 1)
			[ -n "$newest" ] || { echo "base: no linux-source-7.* in Debian" >&2; exit 1; }
			echo "base: !!! $pkg $ver has left the archive; using $newest instead !!!" >&2
			(cd "$cache" && apt-get -o APT::Sandbox::User=root download -qq "$newest")
		}
		deb=$(ls "$cache"/linux-source-7.*.deb | head -n 1)
	fi
	v=$(dpkg-deb -f "$deb" Version)
	p=$(dpkg-deb -f "$deb" Package)
	tmp=$(mktemp -d "$top/build/deb.XXXXXX")
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards './usr/src/*.tar.xz'
	mkdir -p "$out"
	tar -xf "$tmp"/usr/src/linux-source-*.tar.xz -C "$out" --strip-components=1
	rm -rf "$tmp"
	origin="Debian $p $v ($(basename "$deb"))"
}

if [ -n "${KERNEL_SRC:-}" ]; then
	[ -f "$KERNEL_SRC/Makefile" ] || { echo "base: $KERNEL_SRC is not a kernel tree" >&2; exit 1; }
	mkdir -p "$out"
	if [ -d "$KERNEL_SRC/.git" ]; then
		# Keep the real commit so base-commit: names it.
		rev=$(git -C "$KERNEL_SRC" rev-parse HEAD)
		rmdir "$out"
		git clone -q --shared --no-checkout "$KERNEL_SRC" "$out"
		git -C "$out" checkout -q -b series-base "$rev"
		origin="checkout $KERNEL_SRC at $rev"
	else
		(cd "$KERNEL_SRC" && tar -cf - --exclude=.git .) | tar -x -C "$out"
		origin="tree $KERNEL_SRC"
	fi
elif [ "${BASE:-}" = iommu-next ]; then
	git clone -q --depth 1 --branch next "$iommu_git" "$out"
	rev=$(git -C "$out" rev-parse HEAD)
	origin="iommu/next at $rev"
else
	fetch_debian
fi

kv=$(make -s -C "$out" kernelversion 2>/dev/null || echo unknown)
cd "$out"
if [ ! -d .git ]; then
	# Debian's tarball appends a stanza to .gitignore that ignores every
	# top-level path, so new files of the series could not be added: drop
	# it, leaving the kernel's own .gitignore.
	if grep -q '^# Debian packaging: ignore everything' .gitignore 2>/dev/null; then
		sed -i '/^# Debian packaging: ignore everything/,$d' .gitignore
		sed -i '$ { /^#$/d }' .gitignore
		sed -i '$ { /^$/d }' .gitignore
		origin="$origin, Debian's packaging stanza removed from .gitignore"
	fi
	git init -q
	git add -A -f .
	# Fixed identity and dates: the same tree gives the same base commit
	# on every machine, so patches/ names a base-commit anyone can rebuild.
	GIT_AUTHOR_NAME=base GIT_AUTHOR_EMAIL=base@localhost \
	GIT_COMMITTER_NAME=base GIT_COMMITTER_EMAIL=base@localhost \
	GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" GIT_COMMITTER_DATE="2000-01-01T00:00:00Z" \
		git -c commit.gpgsign=false commit -q -m "base: Linux $kv" -m "Origin: $origin"
fi
git tag -f base >/dev/null
# Series commits are made as the project's own git identity, or a neutral
# one where there is none (git am needs a committer).
for k in user.name user.email; do
	v=$(git -C "$top" config "$k" || true)
	if [ -n "$v" ]; then
		git config "$k" "$v"
	elif [ -z "$(git config "$k" || true)" ]; then
		case $k in
		user.name) git config "$k" "iommu-granule" ;;
		user.email) git config "$k" "iommu-granule@localhost" ;;
		esac
	fi
done
git config core.autocrlf false
git config am.keepcr false
echo "Linux $kv from $origin" > .base-origin
echo ".base-origin" >> .git/info/exclude
echo "base: Linux $kv from $origin"
