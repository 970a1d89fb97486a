#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Fetch Debian's busybox-static for arm64 without touching the host's dpkg:
# a private apt configuration downloads the .deb, dpkg-deb extracts it.
# Prints the path of the busybox binary.
set -eu

cache=${XDG_CACHE_HOME:-$HOME/.cache}/iommu-granule
bb=$cache/busybox-arm64/bin/busybox
[ -x "$bb" ] && { echo "$bb"; exit 0; }

apt=$cache/apt-arm64
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/etc/parts"
: > "$apt/status"
. /etc/os-release
cat > "$apt/etc/sources.list" <<EOT
deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian ${VERSION_CODENAME:-bookworm} main
EOT
opts="-o Dir::Etc::SourceList=$apt/etc/sources.list -o Dir::Etc::SourceParts=$apt/etc/parts
-o Dir::State::Lists=$apt/lists -o Dir::State::Status=$apt/status
-o Dir::Cache=$apt/cache -o Dir::Etc::Preferences=/dev/null
-o Dir::Etc::PreferencesParts=$apt/etc/parts -o APT::Sandbox::User=root
-o APT::Architecture=arm64 -o APT::Architectures::=arm64 -o Debug::NoLocking=1"
# shellcheck disable=SC2086
apt-get $opts -qq update >&2
# shellcheck disable=SC2086
(cd "$cache" && apt-get $opts -qq download busybox-static:arm64) >&2
rm -rf "$cache/busybox-arm64.tmp"
dpkg-deb -x "$cache"/busybox-static_*_arm64.deb "$cache/busybox-arm64.tmp"
rm -rf "$cache/busybox-arm64"
mv "$cache/busybox-arm64.tmp" "$cache/busybox-arm64"
[ -x "$bb" ] || { echo "busybox: no bin/busybox in the package" >&2; exit 1; }
echo "$bb"
