#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run a long, quiet command (a kernel build, kunit.py) and print a line a
# minute meanwhile, so that it does not look hung:
#
#   progress.sh <what> <build dir> <log|-> <command> [args...]
#
#   <what>: 3 min, 8123 objects in <build dir>
#
# With a log file, the command's own output goes there.  Exits with the
# command's status.
set -u

what=$1 dir=$2 log=$3
shift 3
if [ "$log" = - ]; then
	"$@" &
else
	"$@" > "$log" 2>&1 &
fi
pid=$!
start=$(date +%s)
while kill -0 "$pid" 2>/dev/null; do
	i=0
	while [ $i -lt 60 ] && kill -0 "$pid" 2>/dev/null; do
		sleep 1
		i=$((i + 1))
	done
	kill -0 "$pid" 2>/dev/null || break
	n=$(find "$dir" -name '*.o' 2>/dev/null | wc -l)
	m="$what: $((($(date +%s) - start) / 60)) min"
	# A build counts its objects; a guest shows the last line of its log.
	if [ "$n" -gt 0 ]; then
		echo "$m, $n objects in ${dir##*/}"
	elif [ "$log" != - ] && [ -s "$log" ]; then
		echo "$m: $(tail -n 1 "$log" | tr -d '\r' | cut -c1-100)"
	else
		echo "$m"
	fi
done
wait "$pid"
