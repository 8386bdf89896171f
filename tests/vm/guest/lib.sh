# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=sh
#
# Guest test library (busybox sh). A guest test script does
#
#	. /usr/lib/ksymsd-vm/lib.sh
#	ok "fuse is available"            # or: not_ok "...", skip "..." "why"
#	check "cuse is loaded" test -d /sys/module/cuse
#	is "$got" "$want" "symbol count"
#	done_testing
#
# and prints TAP to stdout: numbered "ok N - desc" / "not ok N - desc"
# lines, "# ..." diagnostics, and the plan "1..N" at the end (done_testing).
# The host harness (tests/vm/run) renumbers the lines of all scripts into one
# TAP stream, prefixes each description with the script's name, and turns
# anything else the script prints (stderr too) into diagnostics.
#
# Environment set by /init: T (an empty scratch dir, also the cwd),
# KVER (uname -r), KSYMSD_VM=1.

_tap_n=0
_tap_failed=0

# diag MSG...: diagnostics, one line per argument (and per line in each),
# each prefixed with "# ".
diag() {
	printf '%s\n' "$@" | sed 's/^/# /'
}

ok() {
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n - $*"
}

not_ok() {
	_tap_n=$((_tap_n + 1))
	_tap_failed=$((_tap_failed + 1))
	echo "not ok $_tap_n - $*"
}

# skip DESC REASON: a test that could not run here (counts as passed).
skip() {
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n - $1 # SKIP ${2:-}"
}

# eu-elflint --debuginfo on an image: exit 0, or no complaint but about the
# kernel's own Xen and Linux note types, which it does not know (the image
# carries /sys/kernel/notes as they are; tests/integration/check_image.py
# allows the same lines). Prints what is left.
elflint_image() {
	_lint=$(eu-elflint --gnu-ld --debuginfo "$1" 2>&1) && return 0
	_left=$(echo "$_lint" | grep -Ev "unknown object file note type [0-9]+ with owner name '(Xen|Linux)'" |
		grep -Ev '^(No errors| *$)')
	[ -z "$_left" ] && return 0
	echo "$_left"
	return 1
}

# check DESC CMD [ARGS...]: run CMD; ok if it exits 0. On failure its output
# and exit status become diagnostics. Returns CMD's status.
check() {
	_desc=$1
	shift
	_out=$("$@" 2>&1)
	_rc=$?
	if [ "$_rc" -eq 0 ]; then
		ok "$_desc"
	else
		not_ok "$_desc"
		diag "command: $*" "exit status: $_rc"
		[ -n "$_out" ] && diag "$_out"
	fi
	return "$_rc"
}

# is GOT WANT DESC: string equality, both values shown on failure.
is() {
	if [ "$1" = "$2" ]; then
		ok "$3"
	else
		not_ok "$3"
		diag "     got: '$1'" "expected: '$2'"
		return 1
	fi
}

# skip_all REASON: the whole script cannot run here; must come before any
# other test line.
skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

# bail REASON: stop the script now (later checks would be meaningless).
bail() {
	echo "Bail out! $*"
	exit 1
}

# start_daemon [ARGS...]: ksymsd -f ARGS, a background job of this shell
# (its pid in KSYMSD_PID, its output appended to $T/ksymsd.log); wait for
# /dev/ksyms, 30 s at most or until the daemon ends. Status 0 if the node is
# there.
start_daemon() {
	ksymsd -f "$@" >>"$T/ksymsd.log" 2>&1 &
	KSYMSD_PID=$!
	_i=0
	while [ ! -c /dev/ksyms ] && [ "$_i" -lt 600 ] && kill -0 "$KSYMSD_PID" 2>/dev/null; do
		sleep 0.05
		_i=$((_i + 1))
	done
	[ -c /dev/ksyms ]
}

# serve_or_done DESC [ARGS...]: start_daemon ARGS; ok DESC if /dev/ksyms
# came. If not: not_ok DESC, the daemon's log as diagnostics, the daemon
# ended, and so the script (done_testing).
serve_or_done() {
	_desc=$1
	shift
	if start_daemon "$@"; then
		ok "$_desc"
		return 0
	fi
	not_ok "$_desc"
	diag "$(cat "$T/ksymsd.log")"
	kill "$KSYMSD_PID" 2>/dev/null
	done_testing
}

# send_capture DIR: send the tree DIR to the host over /dev/ttyS2 (run
# --serial2 FILE) as a gzip tar, base64, between the lines
# "KSYMSD-CAPTURE-BEGIN MD5 SIZE" and "KSYMSD-CAPTURE-END" (what
# tests/vm/capture-fixture and capture-kevents unpack); then ok.
send_capture() {
	(cd "$1" && tar -czf "$T/cap.tgz" .)
	_sum=$(md5sum <"$T/cap.tgz" | cut -d' ' -f1)
	_size=$(wc -c <"$T/cap.tgz")
	stty -F /dev/ttyS2 raw -echo 2>/dev/null
	{
		echo "KSYMSD-CAPTURE-BEGIN $_sum $_size"
		base64 "$T/cap.tgz"
		echo "KSYMSD-CAPTURE-END"
	} >/dev/ttyS2
	ok "sent the capture ($_size bytes, md5 $_sum)"
}

# done_testing: print the plan; exit status says whether anything failed.
done_testing() {
	echo "1..$_tap_n"
	[ "$_tap_failed" -eq 0 ] && exit 0
	exit 1
}
