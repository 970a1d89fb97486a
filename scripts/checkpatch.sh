#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# checkpatch.pl --strict on every patch of patches/ (cover letter excluded);
# one TAP case per patch in $RESULTS/checkpatch.tap, the full output in
# $RESULTS/checkpatch.log.  A patch passes with 0 errors, warnings, checks.
#
# Two checks are made another way:
# - UNKNOWN_COMMIT_ID (a Fixes: tag's commit) where the base tree has no
#   history to look it up in (Debian's source package: one commit); with a
#   real tree (KERNEL_SRC=, BASE=) checkpatch looks the commits up itself.
# - FILE_PATH_CHANGES ("does MAINTAINERS need updating?", which checkpatch
#   says of every new file unless the patch touches MAINTAINERS): each file
#   the patch adds must have a maintainer from a MAINTAINERS entry, as
#   get_maintainer.pl finds it in build/linux.
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
ignore=FILE_PATH_CHANGES
[ "$(git -C "$src" rev-list --count base 2>/dev/null || echo 1)" -gt 1 ] ||
	ignore=$ignore,UNKNOWN_COMMIT_ID
# A new file that no MAINTAINERS section but "THE REST" covers
unmaintained() {	# unmaintained <patch>: print the new files nobody maintains
	sed -n 's|^+++ b/||p' "$1" | while read -r f; do
		grep -q "^--- /dev/null" "$1" || continue
		awk -v f="$f" '/^--- /{old=$2} /^\+\+\+ /{if ($2 == "b/" f && old == "/dev/null") found=1} END{exit !found}' "$1" || continue
		[ -e "$src/$f" ] || { echo "$f (not in build/linux)"; continue; }
		# The MAINTAINERS sections that cover it, "THE REST" aside
		(cd "$src" && perl scripts/get_maintainer.pl --no-git --no-git-fallback \
			--no-rolestats --sections -f "$f" 2>/dev/null) |
			grep -v -e '^[A-Z]:	' -e '^$' -e '^THE REST$' | grep -q . ||
			echo "$f"
	done
}
for p in "$top"/patches/[0-9]*.patch; do
	[ -e "$p" ] || continue
	case $(basename "$p") in 0000-cover-letter.patch) continue;; esac
	# Debian's python3 first: its python3-ply lets checkpatch run spdxcheck.py
	out=$(PATH=/usr/bin:$PATH "$src/scripts/checkpatch.pl" --strict \
		--ignore "$ignore" --root="$src" "$p" 2>&1 || true)
	orphans=$(unmaintained "$p")
	printf '== %s\n%s\n' "$(basename "$p")" "$out" >> "$log"
	[ -z "$orphans" ] || printf 'new files without a maintainer: %s\n' "$orphans" >> "$log"
	tot=$(printf '%s\n' "$out" | grep '^total:' || echo "total: ? errors")
	case $tot in
	"total: 0 errors, 0 warnings, 0 checks"*)
		if [ -z "$orphans" ]; then
			ktap_ok "$(basename "$p"): $tot"
		else
			ktap_not_ok "$(basename "$p"): new files without a maintainer: $(echo $orphans)"
			fail=1
		fi ;;
	*) ktap_not_ok "$(basename "$p"): $tot"; fail=1 ;;
	esac
done
ktap_close "$RESULTS/checkpatch.tap"
cat "$RESULTS/checkpatch.tap"
exit $fail
