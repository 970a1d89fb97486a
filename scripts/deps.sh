#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Install the host tools the project needs, from Debian's packages only.
# Idempotent and non-interactive: does nothing when everything is present.
set -eu

# command:package pairs; qemu is checked for its version below.
tools="aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu ccache:ccache flex:flex
bison:bison bc:bc cpio:cpio python3:python3 sparse:sparse b4:b4
dtc:device-tree-compiler xz:xz-utils git:git make:make gcc:gcc
perl:perl rsync:rsync openssl:openssl dpkg-buildpackage:dpkg-dev
dh_builddeb:debhelper"
headers="/usr/include/openssl/ssl.h:libssl-dev /usr/include/libelf.h:libelf-dev
/usr/lib/python3/dist-packages/ply/__init__.py:python3-ply
/usr/lib/python3/dist-packages/git/__init__.py:python3-git /sbin/depmod:kmod"

# DEPS_EXTRA: more pairs, for targets outside `make test` (make bench:
# gnuplot, the static C library for arm64), a command or an absolute path
# each.
for t in ${DEPS_EXTRA:-}; do
	case $t in
	/*) headers="$headers $t" ;;
	*) tools="$tools $t" ;;
	esac
done

missing=
for t in $tools; do
	command -v "${t%%:*}" >/dev/null 2>&1 || missing="$missing ${t#*:}"
done
for h in $headers; do
	[ -e "${h%%:*}" ] || missing="$missing ${h#*:}"
done

qemu_ok() {
	command -v qemu-system-aarch64 >/dev/null 2>&1 || return 1
	v=$(qemu-system-aarch64 --version | sed -n 's/.*version \([0-9]*\)\..*/\1/p')
	[ "${v:-0}" -ge 9 ]
}

need_qemu=0
qemu_ok || need_qemu=1

[ -z "$missing" ] && [ $need_qemu = 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing:$missing$( [ $need_qemu = 1 ] && echo ' qemu-system-arm>=9')" >&2
	echo "deps: run 'make deps' as root to install them from Debian" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
. /etc/os-release
codename=${VERSION_CODENAME:-bookworm}

if [ $need_qemu = 1 ] && [ "$codename" = bookworm ]; then
	# QEMU >= 9 (virtio-iommu granule=) only exists in bookworm-backports.
	src=/etc/apt/sources.list.d/granule-backports.sources
	if [ ! -e $src ]; then
		cat > $src <<EOT
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOT
	fi
fi

apt-get update -qq
# shellcheck disable=SC2086
[ -n "$missing" ] && apt-get install -y -qq --no-install-recommends $missing
if [ $need_qemu = 1 ]; then
	if [ "$codename" = bookworm ]; then
		apt-get install -y -qq --no-install-recommends \
			-t bookworm-backports qemu-system-arm
	else
		apt-get install -y -qq --no-install-recommends qemu-system-arm
	fi
fi
qemu_ok || { echo "deps: qemu-system-aarch64 >= 9.0 not available" >&2; exit 1; }
