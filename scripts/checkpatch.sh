#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# checkpatch.pl --strict on every patch of patches/ (cover letter excluded);
# one TAP case per patch in $RESULTS/checkpatch.tap, the full output in
# $RESULTS/checkpatch.log.  A patch passes with 0 errors, warnings, checks.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
src=${LINUX_DIR:-$top/build/linux}
RESULTS=${RESULTS:-$top/build/results}
mkdir -p "$RESULTS"
log=$RESULTS/checkpatch.log
: > "$log"
. "$top/scripts/ktap.sh"
ktap_open "$RESULTS/checkpatch.tap"
fail=0
for p in "$top"/patches/[0-9]*.patch; do
	[ -e "$p" ] || continue
	case $(basename "$p") in 0000-cover-letter.patch) continue;; esac
	# Debian's python3 first: its python3-ply lets checkpatch run spdxcheck.py
	out=$(PATH=/usr/bin:$PATH "$src/scripts/checkpatch.pl" --strict --root="$src" "$p" 2>&1 || true)
	printf '== %s\n%s\n' "$(basename "$p")" "$out" >> "$log"
	tot=$(printf '%s\n' "$out" | grep '^total:' || echo "total: ? errors")
	case $tot in
	"total: 0 errors, 0 warnings, 0 checks"*) ktap_ok "$(basename "$p"): $tot" ;;
	*) ktap_not_ok "$(basename "$p"): $tot"; fail=1 ;;
	esac
done
ktap_close "$RESULTS/checkpatch.tap"
cat "$RESULTS/checkpatch.tap"
exit $fail
