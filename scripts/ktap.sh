# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# Sourced, not run: write the project's TAP files, after the kernel's
# tools/testing/selftests/kselftest/ktap_helpers.sh.  A file is built in
# <file>.body and written whole by ktap_close, so that its plan counts every
# case:
#
#	TAP version 13
#	1..N
#	ok 1 - <description>
#	not ok 2 - <description>
#	ok 3 - <description> # SKIP <reason>
#	# <diagnostic>
#	# Totals: pass:P fail:F xfail:0 xpass:0 skip:S error:0
#
#   ktap_open <file>         start <file> (empty) and write to it
#   ktap_use <file>          write to <file> again, started and not closed:
#                            several files can be built at once
#   ktap_ok <desc>           a passed case
#   ktap_not_ok <desc>       a failed case
#   ktap_skip <desc> [why]   a skipped case, which summary.sh counts as failed
#   ktap_result <rc> <desc>  ok when <rc> is 0, not ok otherwise
#   ktap_diag <text>         "# <text>", each line of <text>
#   ktap_close [<file>]      write <file> (default: the current one)
#   ktap_failed [<file>]     true when <file> has a case not ok or skipped
#
# A description is one line (the first of what is given); a '#' in it is
# written "\#", as TAP wants, since " # " starts a directive.  Every count
# is read from the body, so the functions work in subshells too.  With
# KTAP_ECHO set, each line written is also printed on stdout.

KTAP_FILE=

ktap_open() {	# ktap_open <file>
	KTAP_FILE=$1
	: > "$KTAP_FILE.body"
}

ktap_use() {	# ktap_use <file>
	KTAP_FILE=$1
	[ -f "$KTAP_FILE.body" ] || { echo "ktap: $1 is not open" >&2; return 1; }
}

__ktap_line() {	# __ktap_line <line>
	printf '%s\n' "$1" >> "$KTAP_FILE.body"
	[ -z "${KTAP_ECHO:-}" ] || printf '%s\n' "$1"
}

__ktap_test() {	# __ktap_test <ok|not ok> <desc> [<directive>]
	[ -n "$KTAP_FILE" ] || { echo "ktap: no file open" >&2; return 1; }
	__ktap_n=$(__ktap_count '^\(not \)\{0,1\}ok ' "$KTAP_FILE.body")
	__ktap_d=$(printf '%s\n' "$2" | head -n 1 | sed 's/#/\\#/g')
	__ktap_line "$1 $((__ktap_n + 1)) - $__ktap_d${3:+ # $3}"
}

ktap_ok() { __ktap_test ok "$1"; }
ktap_not_ok() { __ktap_test "not ok" "$1"; }
ktap_skip() { __ktap_test ok "$1" "SKIP${2:+ $2}"; }

ktap_result() {	# ktap_result <rc> <desc>
	if [ "$1" = 0 ]; then
		ktap_ok "$2"
	else
		ktap_not_ok "$2"
	fi
}

ktap_diag() {	# ktap_diag <text>
	[ -n "$KTAP_FILE" ] || { echo "ktap: no file open" >&2; return 1; }
	printf '%s\n' "$1" | while IFS= read -r __ktap_l; do
		__ktap_line "# $__ktap_l"
	done
}

__ktap_count() {	# __ktap_count <pattern> <file>: lines matching
	grep -c -e "$1" "$2" || true
}

ktap_close() {	# ktap_close [<file>]
	__ktap_f=${1:-$KTAP_FILE}
	[ -f "$__ktap_f.body" ] || { echo "ktap: $__ktap_f is not open" >&2; return 1; }
	__ktap_skip=$(__ktap_count '^ok .* # SKIP' "$__ktap_f.body")
	__ktap_pass=$(($(__ktap_count '^ok ' "$__ktap_f.body") - __ktap_skip))
	__ktap_fail=$(__ktap_count '^not ok ' "$__ktap_f.body")
	{
		echo "TAP version 13"
		echo "1..$((__ktap_pass + __ktap_fail + __ktap_skip))"
		cat "$__ktap_f.body"
		echo "# Totals: pass:$__ktap_pass fail:$__ktap_fail xfail:0 xpass:0 skip:$__ktap_skip error:0"
	} > "$__ktap_f"
	rm -f "$__ktap_f.body"
	[ "$__ktap_f" != "$KTAP_FILE" ] || KTAP_FILE=
}

ktap_failed() {	# ktap_failed [<file>]: of a file open or closed
	__ktap_f=${1:-$KTAP_FILE}
	[ ! -f "$__ktap_f.body" ] || __ktap_f=$__ktap_f.body
	grep -q -e '^not ok ' -e '^ok .* # SKIP' "$__ktap_f"
}
