#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Move the series between patches/ and the work tree build/linux.
#   series.sh apply    fresh branch "series" at tag "base", git am patches/
#   series.sh export   write base..HEAD to patches/ (cover letter kept)
#   series.sh check    fail when build/linux holds work patches/ lacks
#
# The cover letter's subject and text live in patches/0000-cover-letter.patch
# and, in build/linux, in the branch description, so that export only
# refreshes its shortlog, diffstat and base-commit.  Output is stable:
# re-exporting unchanged commits rewrites nothing.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
src=${LINUX_DIR:-$top/build/linux}
pdir=$top/patches
ver=${SERIES_VERSION:-5}
branch=series
cover=$pdir/0000-cover-letter.patch

die() { echo "series: $*" >&2; exit 1; }

[ -d "$src/.git" ] || die "no $src: run 'make base' first"
g() { git -C "$src" "$@"; }

# Subject and blurb of the cover letter, as a branch description.
cover_to_description() {
	awk '
	/^Subject: / { sub(/^Subject: \[[^]]*\] */, ""); subj = $0; insubj = 1; next }
	insubj && /^ / { sub(/^ /, ""); subj = subj " " $0; next }
	insubj && /^$/ { insubj = 0; body = 1; print subj; print ""; next }
	body && /^[^ ].* \([0-9]+\):$/ { exit }
	body { print }
	' "$cover" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
}

format() {	# $1: output directory
	n=$(g rev-list --count base..HEAD)
	[ "$n" -gt 0 ] || return 0
	cl=
	[ "$n" -gt 1 ] && cl="--cover-letter --cover-from-description=subject"
	# The cover letter is from the series' author, not the local user.
	# shellcheck disable=SC2086
	g -c user.name="$(g log -1 --format=%an HEAD)" \
	  -c user.email="$(g log -1 --format=%ae HEAD)" \
		format-patch -q --zero-commit --no-signature --base=base $cl \
		--subject-prefix="PATCH v$ver" -o "$1" base..HEAD
	# The cover letter's Date is the time of export: use the newest
	# patch's author date so unchanged commits give unchanged output.
	if [ -f "$1/0000-cover-letter.patch" ]; then
		d=$(g log -1 --format='%aD' HEAD)
		sed -i "0,/^Date: /s/^Date: .*/Date: $d/" "$1/0000-cover-letter.patch"
	fi
}

case ${1:-} in
apply)
	if [ "${FORCE:-0}" != 1 ] && g rev-parse -q --verify $branch >/dev/null &&
	   ! "$0" check >/dev/null 2>&1; then
		die "build/linux holds work that is not in patches/ (make series-check); export it, or FORCE=1 to drop it"
	fi
	g am --abort >/dev/null 2>&1 || true
	g checkout -q -f -B $branch base
	g clean -q -fd -e .base-origin
	for p in "$pdir"/*.patch; do
		[ -e "$p" ] || continue
		case $(basename "$p") in 0000-cover-letter.patch) continue;; esac
		g am -q --committer-date-is-author-date "$p" ||
			{ g am --abort >/dev/null 2>&1; die "$(basename "$p") does not apply"; }
	done
	if [ -f "$cover" ]; then
		cover_to_description > "$src/.git/cover-description"
		g config branch.$branch.description "$(cat "$src/.git/cover-description")"
	fi
	echo "series: $(g rev-list --count base..HEAD) patches applied on $(cat "$src/.base-origin" 2>/dev/null || echo base)"
	;;
export)
	n=$(g rev-list --count base..HEAD)
	# An edit of patches/0000-cover-letter.patch is kept: unless the
	# branch description was edited since apply, it is refreshed from
	# the cover letter before the series is written out again.
	if [ -f "$cover" ] && [ -f "$src/.git/cover-description" ]; then
		desc=$(g config branch.$branch.description || true)
		if [ "$desc" = "$(cat "$src/.git/cover-description")" ]; then
			cover_to_description > "$src/.git/cover-description"
			g config branch.$branch.description "$(cat "$src/.git/cover-description")"
		elif [ "$(cover_to_description)" != "$(cat "$src/.git/cover-description")" ]; then
			die "the cover letter and the branch description were both edited; keep one"
		fi
	fi
	if [ "$n" -gt 1 ] && [ -z "$(g config branch.$branch.description || true)" ]; then
		die "no cover letter text: git -C build/linux branch --edit-description $branch"
	fi
	tmp=$(mktemp -d)
	format "$tmp"
	mkdir -p "$pdir"
	# Replace only what changed so that file times tell what moved.
	for f in "$pdir"/*.patch; do
		[ -e "$f" ] || continue
		[ -e "$tmp/$(basename "$f")" ] || rm -f "$f"
	done
	for f in "$tmp"/*.patch; do
		[ -e "$f" ] || continue
		cmp -s "$f" "$pdir/$(basename "$f")" || cp "$f" "$pdir/"
	done
	rm -rf "$tmp"
	echo "series: $n patches in patches/"
	;;
check)
	dirty=$(g status --porcelain --untracked-files=no)
	[ -z "$dirty" ] || { echo "series: uncommitted changes in build/linux:"; echo "$dirty"; exit 1; }
	untracked=$(g status --porcelain | grep '^??' || true)
	[ -z "$untracked" ] || { echo "series: untracked files in build/linux:"; echo "$untracked"; exit 1; }
	tmp=$(mktemp -d)
	format "$tmp"
	out=$(diff -r -q "$tmp" "$pdir" 2>&1 | grep -v 'Only in .*: [^0-9]' || true)
	if [ -n "$out" ]; then
		np=$(ls "$pdir"/[0-9]*.patch 2>/dev/null | grep -vc 0000-cover-letter || true)
		echo "series: patches/ differs from base..HEAD of build/linux ($(g rev-list --count base..HEAD) commits, $np patches in patches/):"
		diff -r -q "$tmp" "$pdir" 2>&1 | sed "s|$tmp|build/linux|; s|$top/||" | grep -v 'Only in patches: [^0-9]' || true
		rm -rf "$tmp"
		exit 1
	fi
	rm -rf "$tmp"
	echo "series: patches/ matches build/linux"
	;;
*)
	die "usage: $0 apply|export|check"
	;;
esac
