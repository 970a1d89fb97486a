#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# `make revert-check`: every functional patch of the series must be proven by
# a test.  For each commit of base..HEAD but those of the KUnit tests, revert
# it alone on top of the series in a separate work tree, build, and run the
# KUnit suites (dma-iommu, apple-dart, virtio-iommu): at least one case must
# fail.  TAP in $RESULTS/revert.tap, logs in $RESULTS/revert/.
# PATCHES="4 11" limits the run to those patch numbers.
#
# A patch that later patches build on (a helper they call, lines they change,
# a flag the tests use) cannot be reverted alone.  For such a patch,
# scripts/revert/<its subject as git log's %f>.diff undoes its behaviour, and
# only that, on top of the whole series: it is applied instead of the revert.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
src=$top/build/linux
wt=$top/build/revert/linux
O=$top/build/revert/kernel
RESULTS=${RESULTS:-$top/build/results}
logs=$RESULTS/revert
mkdir -p "$logs"
export PATH=/usr/lib/ccache:$PATH CCACHE_BASEDIR=$top/build

[ -d "$wt" ] || { mkdir -p "$top/build/revert" &&
	git -C "$src" worktree add -q --detach "$wt" HEAD; }
head=$(git -C "$src" rev-parse HEAD)

n=0 fail=0 body=
i=0
for c in $(git -C "$src" rev-list --reverse base..HEAD); do
	i=$((i + 1))
	subj=$(git -C "$src" log -1 --format=%s "$c")
	case $subj in *KUnit*) continue ;; esac
	if [ -n "${PATCHES:-}" ]; then
		case " $PATCHES " in *" $i "*) ;; *) continue ;; esac
	fi
	log=$logs/$i.log
	git -C "$wt" checkout -q --detach -f "$head"
	undo=$top/scripts/revert/$(git -C "$src" log -1 --format=%f "$c").diff
	if [ -f "$undo" ]; then
		what="undoing $i by scripts/revert/${undo##*/}"
		if ! git -C "$wt" apply "$undo" > "$log" 2>&1; then
			n=$((n + 1)); fail=1
			body="${body}not ok $n - $what ($subj): the diff does not apply
"
			continue
		fi
	else
		what="reverting $i"
		if ! git -C "$wt" -c user.name=revert -c user.email=revert@localhost \
			revert --no-edit "$c" > "$log" 2>&1; then
			git -C "$wt" revert --abort > /dev/null 2>&1
			n=$((n + 1)); fail=1
			body="${body}not ok $n - revert of $i ($subj) does not apply
"
			continue
		fi
	fi
	LINUX_DIR=$wt O=$O sh "$top/scripts/config.sh" >> "$log" 2>&1
	(cd "$wt" && python3 tools/testing/kunit/kunit.py run --arch=arm64 \
		--cross_compile=aarch64-linux-gnu- --build_dir="$O" \
		--kunitconfig="$top/kunit/.kunitconfig" --jobs="$(nproc)" \
		--timeout=300) >> "$log" 2>&1
	line=$(grep 'Testing complete' "$log" | tail -n 1)
	crash=$(grep -m1 -o -e 'Kernel panic.*' -e 'BUG:.*' -e 'timed out.*' "$log" | head -n 1)
	n=$((n + 1))
	if [ -n "$line" ]; then
		failed=$(echo "$line" | sed -n 's/.*failed: \([0-9]*\).*/\1/p')
		c2=$(echo "$line" | sed -n 's/.*crashed: \([0-9]*\).*/\1/p')
		failed=$(( ${failed:-0} + ${c2:-0} ))
		if [ "$failed" -gt 0 ]; then
			body="${body}ok $n - $what ($subj): $failed KUnit cases fail
"
		else
			body="${body}not ok $n - $what ($subj) fails no test
"; fail=1
		fi
	elif grep -q 'error:' "$log"; then
		# A revert that does not build shows nothing about the patch:
		# the series must stay revertable one patch at a time.
		body="${body}not ok $n - $what ($subj) does not build: $(grep -m1 -o 'error:.*' "$log")
"; fail=1
	elif [ -n "$crash" ]; then
		# The tests crashed the kernel: they caught it.
		body="${body}ok $n - $what ($subj): the test kernel crashed: $crash
"
	else
		body="${body}not ok $n - $what ($subj) gave no test result (log: ${log#"$top"/})
"; fail=1
	fi
	printf '%s' "$body" | tail -n 1
done
git -C "$wt" checkout -q --detach -f "$head"
{ echo "TAP version 13"; echo "1..$n"; printf '%s' "$body"; } > "$RESULTS/revert.tap"
exit $fail
