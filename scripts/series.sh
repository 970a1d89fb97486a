#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Move the series between patches/ and the work tree build/linux.
#   series.sh apply    fresh branch "series" at tag "base", git am patches/
#   series.sh export   write base..HEAD to patches/ (cover letter kept)
#   series.sh check    fail when build/linux holds work patches/ lacks
#   series.sh mbox     print patches/ as one mailbox for b4 am / b4 shazam
#   series.sh b4-check b4's view of build/linux: prep --show-info, checkpatch,
#                      send -o into build/b4/ compared with patches/, and
#                      shazam of the mailbox on a clone at base
#
# The cover letter's subject and text live in patches/0000-cover-letter.patch
# and, in build/linux, in the branch description, so that export only
# refreshes its shortlog, diffstat and base-commit.  Output is stable:
# re-exporting unchanged commits rewrites nothing.
#
# b4 (Debian's 0.12 and later) manages the same branch: apply enrolls it
# the way "b4 prep" keeps a series with the branch-description cover
# strategy (tracking data in branch.series.b4-tracking), so that b4 prep
# and b4 send -o work on build/linux offline.  patches/ stays git
# format-patch output: b4 writes the time of sending, random Message-Ids
# and its own cover layout, so its output is never byte-stable.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
src=${LINUX_DIR:-$top/build/linux}
pdir=$top/patches
ver=${SERIES_VERSION:-9}
branch=series
cover=$pdir/0000-cover-letter.patch
# The series' b4 change-id: the same for every revision.
change_id=20261125-iommu-granule-7d12ff4f640c
# b4 prep --check (b4 0.14 and later) with scripts/checkpatch.sh's checkpatch,
# which checks new files' maintainers itself and cannot look up a Fixes:
# tag's commit in a base without history (see there).
cp_ignore=FILE_PATH_CHANGES
[ "$(git -C "$src" rev-list --count base 2>/dev/null || echo 1)" -gt 1 ] ||
	cp_ignore=$cp_ignore,UNKNOWN_COMMIT_ID
b4_checkpatch="./scripts/checkpatch.pl -q --terse --no-summary --mailback --showfile --strict --ignore $cp_ignore"

die() { echo "series: $*" >&2; exit 1; }

case ${1:-} in mbox) ;; *) [ -d "$src/.git" ] || die "no $src: run 'make base' first";; esac
g() { git -C "$src" "$@"; }

# Subject and blurb of a cover letter ($1, default patches/), as a
# branch description.
cover_to_description() {
	awk '
	/^Subject: / { sub(/^Subject: \[[^]]*\] */, ""); subj = $0; insubj = 1; next }
	insubj && /^ / { sub(/^ /, ""); subj = subj " " $0; next }
	insubj && /^$/ { insubj = 0; body = 1; print subj; print ""; next }
	body && /^[^ ].* \([0-9]+\):$/ { exit }
	body { print }
	' "${1:-$cover}" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
}

# What b4 prep keeps in the branch config besides the description.
b4_tracking() {	# $1: branch
	echo "branch.$1.b4-prep-cover-strategy=branch-description"
	echo "branch.$1.b4-tracking={\"series\": {\"revision\": $ver, \"change-id\": \"$change_id\", \"base-branch\": \"base\", \"prefixes\": []}}"
}

# b4's default cover letter template with the base commit written in: b4
# 0.12 names the parent of base..HEAD's first commit as a
# branch-description series' base-commit.
b4_template() {
	sed "s/@BASE@/$(g rev-parse base)/" <<'EOT'
${cover}

---
${shortlog}

${diffstat}
---
base-commit: @BASE@
change-id: ${change_id}

Best regards,
-- 
${signature}
EOT
}

# Settings that keep b4 send offline: -o and --dry-run never run the
# smtpserver command, and /bin/false makes a real send fail; a machine
# that sends no mail signs none.  b4 0.12 writes nothing without a
# recipient: the series' author (b4 prep --auto-to-cc adds the
# maintainers to the cover letter when it is time to send).
b4_offline() {
	echo "sendemail.smtpserver=/bin/false"
	echo "b4.send-no-patatt-sign=yes"
	echo "b4.send-series-to=$(g log -1 --format='%an <%ae>' HEAD)"
}

# Mailbox headers of patch file $1 unfolded (b4 0.12 cannot read folded
# ones from an mbox file) and a Message-Id added, threaded to the cover
# letter's (b4 needs one to find the series).
mbox_message() {	# $1: patch file, $2: its number, $3: cover letter's id
	awk -v id="<$change_id-v$ver-$2@patches.invalid>" -v top="$3" '
	NR == 1 { hdr = 1; print; next }
	hdr && /^[ \t]/ { sub(/^[ \t]+/, " "); held = held $0; next }
	hdr && held != "" { print held; held = "" }
	hdr && /^$/ {
		print "Message-Id: " id
		if (top != "" && id != top) { print "In-Reply-To: " top; print "References: " top }
		hdr = 0
	}
	hdr { held = $0; next }
	{ print }' "$1"
}

# What git am takes from patch mail $1 (author, subject with its [PATCH]
# prefix, message, diff), less the Date and the diffstat, which b4 and
# git format-patch write differently.
essence() {
	d=$(mktemp -d)
	git mailinfo -k "$d/msg" "$d/patch" < "$1" | grep -v '^Date: '
	echo; cat "$d/msg"; echo
	awk '/^diff --git /{p = 1} p' "$d/patch"
	rm -rf "$d"
}

# Drop the signature b4 appends ("-- " and git's version) and trailing
# blank lines.
unsign() {
	awk '{ l[NR] = $0 } $0 == "-- " { s = NR }
	END {	n = NR
		if (s && NR - s <= 2) n = s - 1
		while (n && l[n] == "") n--
		for (i = 1; i <= n; i++) print l[i]
	}'
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
	# Enroll the branch for b4 prep, offline unless mail is set up here.
	gd=$(g rev-parse --absolute-git-dir)
	b4_template > "$gd/b4-cover.template"
	{ echo "b4.prep-cover-strategy=branch-description"
	  b4_tracking $branch
	  echo "b4.prep-cover-template=$gd/b4-cover.template"
	  echo "b4.prep-perpatch-check-cmd=$b4_checkpatch"
	  [ -n "$(g config sendemail.smtpserver || true)" ] || b4_offline
	} | while IFS= read -r kv; do g config "${kv%%=*}" "${kv#*=}"; done
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
	# b4's revision follows SERIES_VERSION, as the subject prefix does
	# (a tree applied for an earlier revision keeps its change-id).
	b4_tracking $branch | while IFS= read -r kv; do g config "${kv%%=*}" "${kv#*=}"; done
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
mbox)
	n=0
	for p in "$pdir"/[0-9]*.patch; do
		[ -e "$p" ] || die "no patch in patches/"
		top=
		[ -f "$cover" ] && top="<$change_id-v$ver-0@patches.invalid>"
		mbox_message "$p" $n "$top"
		n=$((n + 1))
	done
	;;
b4-check)
	command -v b4 >/dev/null || die "b4 is not installed (make deps)"
	head=$(g symbolic-ref -q --short HEAD) || die "HEAD of build/linux is detached"
	[ -z "$(g status --porcelain --untracked-files=no)" ] || die "uncommitted changes in build/linux"
	out=$top/build/b4
	rm -rf "$out"
	mkdir -p "$out"
	b4_template > "$out/cover.template"
	# b4 reads the settings apply writes from the environment, so that
	# a tree applied before them is checked as it is, read-only: the
	# branch's own tracking data wins, the rest keeps b4 offline.
	set -- "b4.prep-cover-template=$out/cover.template" \
		"b4.prep-perpatch-check-cmd=$b4_checkpatch"
	if [ -z "$(g config "branch.$head.b4-tracking" || true)" ]; then
		echo "series: branch $head is not enrolled for b4 prep (make apply does it); checking with the settings apply writes"
		set -- "$@" "b4.prep-cover-strategy=branch-description"
		while IFS= read -r kv; do set -- "$@" "$kv"; done <<EOT
$(b4_tracking "$head")
EOT
	fi
	while IFS= read -r kv; do set -- "$@" "$kv"; done <<EOT
$(b4_offline)
EOT
	i=0
	for kv; do
		export "GIT_CONFIG_KEY_$i=${kv%%=*}" "GIT_CONFIG_VALUE_$i=${kv#*=}"
		i=$((i + 1))
	done
	export GIT_CONFIG_COUNT=$i XDG_DATA_HOME="$out/data" XDG_CACHE_HOME="$out/cache"
	# Debian's python3 first: its python3-ply lets checkpatch run spdxcheck.py
	b4() { (cd "$src" && PATH=/usr/bin:$PATH command b4 --offline-mode "$@" 2>&1); }
	fail=0
	b4 prep --show-info > "$out/show-info" || { cat "$out/show-info"; die "b4 prep --show-info failed"; }
	sed -n -e 's/^revision: /  b4 prep --show-info: revision /p' \
		-e 's/^cover-subject: /  b4 prep --show-info: cover subject /p' "$out/show-info"
	# b4 prep --check where b4 has it; in any case the same checkpatch on
	# b4's mails below.
	if command b4 prep --help 2>&1 | grep -q -e '--check[^-]'; then
		b4 prep --check > "$out/check.log" || true
		grep -q 'Warning: 0, Error: 0' "$out/check.log" || { cat "$out/check.log"; fail=1; }
		echo "  b4 prep --check: $(tail -n 1 "$out/check.log")"
	fi
	b4 send -o "$out/send" > "$out/send.log" || { cat "$out/send.log"; die "b4 send -o failed"; }
	nb=0; for m in "$out"/send/*.eml; do [ -e "$m" ] && nb=$((nb + 1)); done
	np=0; for p in "$pdir"/[0-9]*.patch; do [ -e "$p" ] && np=$((np + 1)); done
	echo "  b4 send -o build/b4/send: $nb messages, patches/ has $np"
	[ "$nb" = "$np" ] || fail=1
	for m in "$out"/send/*.eml; do
		[ -e "$m" ] || continue
		n=$(basename "$m"); n=${n%%-*}
		for p in "$pdir/$n"-*.patch; do break; done
		[ -e "$p" ] || { echo "  $n: not in patches/"; fail=1; continue; }
		r=
		if [ "$n" = 0000 ]; then
			# The cover letter: its subject and text, and its base.
			git mailinfo -k "$out/msg" "$out/patch" < "$m" > "$out/info"
			{ sed -n 's/^Subject: \[[^]]*\] *//p' "$out/info"; echo; cat "$out/msg"; } | unsign > "$out/b"
			cover_to_description "$p" > "$out/a"
			[ "$(sed -n 's/^base-commit: //p' "$out/patch")" = "$(sed -n 's/^base-commit: //p' "$p")" ] ||
				r=" base-commit differs"
			rm -f "$out/msg" "$out/patch" "$out/info"
		else
			essence "$p" > "$out/a"
			essence "$m" | unsign > "$out/b"
			# checkpatch as scripts/checkpatch.sh runs it, on b4's mail
			c=$(PATH=/usr/bin:$PATH "$src/scripts/checkpatch.pl" --strict --ignore "$cp_ignore" --root="$src" "$m" 2>&1 | grep '^total:' || true)
			case $c in "total: 0 errors, 0 warnings, 0 checks"*) ;; *) r=" checkpatch: ${c:-failed}";; esac
		fi
		cmp -s "$out/a" "$out/b" || r="${r:+$r;} text differs (- patches/, + b4):"
		echo "  $(basename "$p"):${r:- ok}"
		[ -z "$r" ] || { fail=1; diff -u "$out/a" "$out/b" | tail -n +3 | head -n 20 | sed 's/^/    /'; }
	done
	rm -f "$out/a" "$out/b"
	# The by-hand path: b4 shazam of "series.sh mbox" on a clone at base.
	sh "$0" mbox > "$out/series.mbox"
	git clone -q --shared --no-checkout "$src" "$out/clone"
	f='%an %ae %ad%n%B'
	if (cd "$out/clone" && command b4 --offline-mode shazam -H -m "$out/series.mbox") > "$out/shazam.log" 2>&1 &&
	   [ "$(git -C "$out/clone" rev-parse "FETCH_HEAD^{tree}")" = "$(g rev-parse "HEAD^{tree}")" ] &&
	   [ "$(git -C "$out/clone" log --format="$f" base..FETCH_HEAD)" = "$(g log --format="$f" base..HEAD)" ]; then
		echo "  b4 shazam -H -m series.mbox on a clone: same tree, authors and messages as build/linux"
	else
		tail -n 20 "$out/shazam.log"
		echo "  b4 shazam of patches/ does not give build/linux's commits"
		fail=1
	fi
	rm -rf "$out/clone"
	[ $fail = 0 ] || die "b4's series differs from patches/ (b4's mails in build/b4/send)"
	echo "series: b4 agrees with patches/"
	;;
*)
	die "usage: $0 apply|export|check|mbox|b4-check"
	;;
esac
