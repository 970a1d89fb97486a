#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Build scripts/guest/e2e-io.c twice: <outdir>/e2e-io, static arm64 against
# the kernel tree's nolibc for the guest, and <outdir>/e2e-io-host against
# the host's C library.  Each is rebuilt only when the source is newer.
#
#   e2e-io.sh <outdir>
#
# nolibc needs the arm64 UAPI headers, and the cross compiler comes without
# them: they are prepared once in <outdir>/e2e-io-uapi from the tree the
# way "make headers_install" would, without running make.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
src=${LINUX_DIR:-$top/build/linux}
out=$1
c=$top/scripts/guest/e2e-io.c
warn="-Wall -Wextra"

mkdir -p "$out"

# True when target $1 is missing or older than any of the files after it.
stale() {
	t=$1
	shift
	[ ! -e "$t" ] || [ -n "$(find "$@" -newer "$t" 2>/dev/null | head -n 1)" ]
}

uapi=$out/e2e-io-uapi
arch_uapi=$src/arch/arm64/include/uapi/asm
tbl=$src/arch/arm64/tools/syscall_64.tbl
if stale "$uapi/.stamp" "$src/include/uapi" "$arch_uapi" "$tbl"; then
	rm -rf "$uapi"
	mkdir -p "$uapi/asm"
	cp -R "$src/include/uapi/." "$uapi/"
	cp "$arch_uapi"/*.h "$uapi/asm/"
	# The asm/ headers Kbuild generates: wrappers of the asm-generic
	# ones the architecture does not provide, and the syscall numbers.
	for h in $(sed -n -e 's/^mandatory-y += //p' -e 's/^generic-y += //p' \
			"$src/include/uapi/asm-generic/Kbuild" "$arch_uapi/Kbuild"); do
		[ -e "$uapi/asm/$h" ] || echo "#include <asm-generic/$h>" > "$uapi/asm/$h"
	done
	abis=common,64
	for a in $(sed -n 's/^syscall_abis_64 += //p' "$src/arch/arm64/kernel/Makefile.syscalls"); do
		abis=$abis,$a
	done
	sh "$src/scripts/syscallhdr.sh" --emit-nr --abis "$abis" "$tbl" "$uapi/asm/unistd_64.h"
	# scripts/headers_install.sh's edits; its unifdef -U__KERNEL__ is
	# left to the preprocessor, and -D__EXPORTED_HEADERS__ below.
	find "$uapi" -name '*.h' -exec sed -i -E -e '
		s/([[:space:](])(__user|__force|__iomem)[[:space:]]/\1/g
		s/__attribute_const__([[:space:]]|$)/\1/g
		s@^#include <linux/compiler.h>@@
		s/(^|[^a-zA-Z0-9])__packed([^a-zA-Z0-9_]|$)/\1__attribute__((packed))\2/g
		s/(^|[[:space:](])(inline|asm|volatile)([[:space:](]|$)/\1__\2__\3/g
		s@#(ifndef|define|endif[[:space:]]*/[*])[[:space:]]*_UAPI@#\1 @
		s/__ASSEMBLY__/__ASSEMBLER__/g
	' {} +
	touch "$uapi/.stamp"
fi

nolibc=$src/tools/include/nolibc
if stale "$out/e2e-io" "$c" "$uapi/.stamp"; then
	# shellcheck disable=SC2086
	aarch64-linux-gnu-gcc -Os -static -nostdlib -nostdinc $warn \
		-fno-asynchronous-unwind-tables -fno-ident -fno-stack-protector \
		-D__EXPORTED_HEADERS__ -include "$nolibc/nolibc.h" -I"$nolibc" \
		-isystem "$uapi" -o "$out/e2e-io.tmp" "$c" -lgcc
	mv "$out/e2e-io.tmp" "$out/e2e-io"
fi

if stale "$out/e2e-io-host" "$c"; then
	# shellcheck disable=SC2086
	gcc -O2 $warn -o "$out/e2e-io-host.tmp" "$c"
	mv "$out/e2e-io-host.tmp" "$out/e2e-io-host"
fi
