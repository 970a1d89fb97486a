#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# `make revert-check`: every functional patch of the series must be proven by
# a test.  The KUnit suites (dma-iommu, apple-dart, virtio-iommu) first run
# on the series itself, in a separate work tree.  Then each commit of
# base..HEAD but those of the KUnit tests is reverted alone on top of the
# series in that work tree, built, and the suites run again: at least one
# case that passes on the series must fail or crash on the revert.  A case
# that fails on the series too proves nothing, nor does one the revert
# skips; one the revert never ran (its kernel died first) counts.  A revert
# that does not build fails; one whose kernel crashes before any case
# reports is caught.  PATCHES="4 11" limits the run to those patch numbers.
#
# TAP in $RESULTS/revert.tap: a line per revert, naming up to 5 of the cases
# that caught it (suite.case or suite.case.param); the cases that fail on
# the series itself as diagnostics.  Logs in $RESULTS/revert/: series.log,
# series.json and series.cases (every case with its status), then for each
# revert <n>.log, <n>.json and <n>.cases (every case that caught it, with
# its status on the revert: FAIL, ERROR or NOT_RUN).
#
# A patch that later patches build on (a helper they call, lines they change,
# a flag the tests use) cannot be reverted alone.  For such a patch,
# scripts/revert/<its subject as git log's %f>.diff undoes its behaviour, and
# only that, on top of the whole series: it is applied instead of the revert.
# A patch that does several things can be undone one thing (hunk) at a time,
# each by a diff of its own: scripts/revert/<subject %f>--<label>.diff.  Each
# diff of a patch, with a label or without, is a run of its own and a TAP
# line of its own ("undoing 7 (<label>) by scripts/revert/..."), which some
# case must catch; its logs are <n>-<label>.*.  %f never holds "--": the
# label is what follows the first "--".
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
src=$top/build/linux
wt=$top/build/revert/linux
O=$top/build/revert/kernel
RESULTS=${RESULTS:-$top/build/results}
logs=$RESULTS/revert
mkdir -p "$logs"
# kunit.py runs in the work tree: --json needs an absolute path.
logs=$(cd "$logs" && pwd)
export PATH=/usr/lib/ccache:$PATH CCACHE_BASEDIR=$top/build

[ -d "$wt" ] || { mkdir -p "$top/build/revert" &&
	git -C "$src" worktree add -q --detach "$wt" HEAD; }
head=$(git -C "$src" rev-parse HEAD)

. "$top/scripts/ktap.sh"
KTAP_ECHO=1
ktap_open "$RESULTS/revert.tap"
fail=0

cases() { python3 "$top/scripts/kunit-cases.py" "$@"; }

kunit() {	# kunit <id>: build the work tree, run the suites: <id>.log, <id>.json
	LINUX_DIR=$wt O=$O \
		EXTRA_FRAGS="$wt/drivers/iommu/.kunitconfig $top/kunit/.kunitconfig" \
		sh "$top/scripts/config.sh" >> "$logs/$1.log" 2>&1
	(cd "$wt" && python3 tools/testing/kunit/kunit.py run --arch=arm64 \
		--cross_compile=aarch64-linux-gnu- --build_dir="$O" \
		--kunitconfig=drivers/iommu \
		--kunitconfig="$top/kunit/.kunitconfig" --jobs="$(nproc)" \
		--kernel_args=swiotlb=,,,track_hiwater \
		--timeout=300 --json="$logs/$1.json") >> "$logs/$1.log" 2>&1
}

ran() {	# ran <id>: <id>.json has a case's result
	[ -s "$logs/$1.json" ] && cases "$logs/$1.json" 2>/dev/null | grep -q .
}

judge() {	# judge <id> <what>: the TAP line of a revert run
	j_log=$logs/$1.log
	j_crash=$(grep -m1 -o -e 'Kernel panic.*' -e 'BUG:.*' -e 'timed out.*' "$j_log" | head -n 1)
	if ran "$1"; then
		cases --regressions "$logs/series.json" "$logs/$1.json" > "$logs/$1.cases"
		j_n=$(grep -c . "$logs/$1.cases")
		if [ "$j_n" -gt 0 ]; then
			j_nr=$(grep -c ' NOT_RUN$' "$logs/$1.cases")
			if [ "$j_nr" = 0 ]; then
				j_nr=
			else
				j_nr=" ($j_nr of them did not run${j_crash:+: $j_crash})"
			fi
			j_names=$(head -n 5 "$logs/$1.cases" | sed 's/ [^ ]*$//' |
				awk '{ printf "%s%s", (NR > 1 ? ", " : ""), $0 }')
			[ "$j_n" -le 5 ] || j_names="$j_names, ... (all in ${logs#"$top"/}/$1.cases)"
			if [ "$j_n" = 1 ]; then
				j_n="1 case fails that passes"
			else
				j_n="$j_n cases fail that pass"
			fi
			ktap_ok "$2: $j_n on the series$j_nr: $j_names"
		else
			j_f=$(cases "$logs/$1.json" | grep -vc ' PASS$')
			if [ "$j_f" = 0 ]; then
				j_f=
			else
				j_f=" (cases failing: $j_f, all failing on the series too)"
			fi
			ktap_not_ok "$2 fails no case that passes on the series$j_f${j_crash:+; $j_crash}"
			fail=1
		fi
	elif grep -q 'error:' "$j_log"; then
		# A revert that does not build shows nothing about the patch:
		# the series must stay revertable one patch at a time.
		ktap_not_ok "$2 does not build: $(grep -m1 -o 'error:.*' "$j_log")"
		fail=1
	elif [ -n "$j_crash" ]; then
		# The tests crashed the kernel: they caught it.
		ktap_ok "$2: the test kernel crashed: $j_crash"
	else
		ktap_not_ok "$2 gave no test result (log: ${j_log#"$top"/})"
		fail=1
	fi
}

# The series itself: what its reverts are measured against.
rm -f "$logs/series.json" "$logs/series.cases"
git -C "$wt" checkout -q --detach -f "$head"
: > "$logs/series.log"
kunit series
if ! ran series; then
	ktap_not_ok "the series itself gave no KUnit result (log: ${logs#"$top"/}/series.log), so no revert can be judged"
	ktap_close "$RESULTS/revert.tap"
	exit 1
fi
cases "$logs/series.json" > "$logs/series.cases"
bad=$(grep -v ' PASS$' "$logs/series.cases")
if [ -n "$bad" ]; then
	ktap_diag "KUnit cases that do not pass on the series itself, so prove no revert: $(echo "$bad" | wc -l) (${logs#"$top"/}/series.cases)"
	ktap_diag "$(echo "$bad" | head -n 10 | sed 's/^/  /')"
	[ "$(echo "$bad" | wc -l)" -le 10 ] || ktap_diag "  ..."
fi

i=0
for c in $(git -C "$src" rev-list --reverse base..HEAD); do
	i=$((i + 1))
	subj=$(git -C "$src" log -1 --format=%s "$c")
	case $subj in *KUnit*) continue ;; esac
	if [ -n "${PATCHES:-}" ]; then
		case " $PATCHES " in *" $i "*) ;; *) continue ;; esac
	fi
	# Its undo diffs, if it has any.
	fname=$(git -C "$src" log -1 --format=%f "$c")
	set --
	for u in "$top/scripts/revert/$fname.diff" "$top/scripts/revert/$fname--"*.diff; do
		[ -f "$u" ] && set -- "$@" "$u"
	done
	if [ $# = 0 ]; then
		rm -f "$logs/$i.json" "$logs/$i.cases"
		git -C "$wt" checkout -q --detach -f "$head"
		if ! git -C "$wt" -c user.name=revert -c user.email=revert@localhost \
			revert --no-edit "$c" > "$logs/$i.log" 2>&1; then
			git -C "$wt" revert --abort > /dev/null 2>&1
			ktap_not_ok "revert of $i ($subj) does not apply"
			fail=1
			continue
		fi
		kunit "$i"
		judge "$i" "reverting $i ($subj)"
	fi
	for u; do
		label=${u##*/"$fname"}; label=${label#--}; label=${label%.diff}
		id=$i${label:+-$label}
		what="undoing $i${label:+ ($label)} by scripts/revert/${u##*/} ($subj)"
		rm -f "$logs/$id.json" "$logs/$id.cases"
		git -C "$wt" checkout -q --detach -f "$head"
		if ! git -C "$wt" apply "$u" > "$logs/$id.log" 2>&1; then
			ktap_not_ok "$what: the diff does not apply"
			fail=1
			continue
		fi
		kunit "$id"
		judge "$id" "$what"
	done
done
git -C "$wt" checkout -q --detach -f "$head"
ktap_close "$RESULTS/revert.tap"
exit $fail
