# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=sh
# Is every image current? Modules and BPF programs come and go, and each
# open must show the kernel as it is (whether ksymsd re-reads
# /proc/kallsyms per open or keeps a table current from the kernel's
# announcements: the live table of issue #10).
#
#   churn (KSYMSD_LIVE_CHURN_SECONDS, default 30): loops load and unload
#   dummy and loop and load and close BPF programs with no pause, and tun
#   with 2 s between (so that some images hold a module whole), while
#   3 vm-churn clients open and check every image: valid, every module
#   symbol in a section of its module, and each of the three modules there
#   whole or not at all (-x: its symbol count when loaded, from kallsyms).
#
#   quiet: one change at a time (load or unload a module, load a BPF
#   program and hold it, close it); after each, open the device and read the
#   image, then read /proc/kallsyms: the image must hold exactly the
#   (address, name, module) of that read (vm-elfsyms -k). A difference is a
#   stale image.
#
# Reports the changes, opens, stale images and, if the daemon logs them
# (the live table does; a daemon that re-reads every open does not), its
# counters: start line, re-reads and incremental updates (-d), and its
# summary at exit.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. /usr/lib/ksymsd-vm/lib.sh

for p in ksymsd vm-churn vm-elfsyms bpf-load modprobe rmmod mkfifo; do
	command -v "$p" >/dev/null || bail "$p is not in the image"
done
CHURN=${KSYMSD_LIVE_CHURN_SECONDS:-30}

serve_or_done "ksymsd serves /dev/ksyms" -d
start=$(grep 'live table:' "$T/ksymsd.log")
diag "daemon at start: ${start:-no live table line (re-reads per open)}"

# Can this kernel make dynamic symbols? bpf-load exits 77 if bpf(2) cannot.
bpf=1
jit=$(cat /proc/sys/net/core/bpf_jit_enable 2>/dev/null)
out=$(bpf-load cycle 1 2>&1)
rc=$?
if [ "$rc" -ne 0 ]; then
	[ "$rc" -eq 77 ] || not_ok "bpf-load cycle 1 (exit $rc: $out)"
	bpf=0
	diag "no BPF programs here: $out"
elif [ "$jit" != 1 ] && [ "$jit" != 2 ]; then
	bpf=0
	diag "no BPF symbols here: net.core.bpf_jit_enable is '$jit'"
fi

# Each module's symbol count when loaded, for vm-churn -x.
xargs=
for m in dummy loop tun; do
	if ! modprobe "$m"; then
		not_ok "modprobe $m"
		done_testing
	fi
	n=$(grep -c "\[$m\]\$" /proc/kallsyms)
	rmmod "$m" || bail "rmmod $m"
	check "$m has symbols in kallsyms when loaded ($n)" test "$n" -gt 0 || done_testing
	xargs="$xargs -x $m:$n"
done

# ---- churn ----------------------------------------------------------------
# churn MODULE [PAUSE]: load and unload, PAUSE seconds after each.
churn() {
	n=0
	while [ ! -e "$T/stop" ]; do
		modprobe "$1" 2>/dev/null && n=$((n + 1))
		[ -n "$2" ] && sleep "$2"
		rmmod "$1" 2>/dev/null && n=$((n + 1))
		[ -n "$2" ] && sleep "$2"
	done
	echo "$n" >"$T/ops.$1"
}
churn_bpf() {
	n=0
	while [ ! -e "$T/stop" ]; do
		bpf-load cycle 10 churn >/dev/null 2>&1 && n=$((n + 20))
	done
	echo "$n" >"$T/ops.bpf"
}
loops=3
churn dummy &
churn loop &
churn tun 2 &
if [ $bpf = 1 ]; then
	churn_bpf &
	loops=4
fi
# shellcheck disable=SC2086 # xargs is words
vm-churn $xargs "$CHURN" 3 >"$T/churn.out" 2>&1
churn_rc=$?
touch "$T/stop"
i=0
while [ "$(ls "$T"/ops.* 2>/dev/null | wc -l)" -lt $loops ] && [ $i -lt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
mod_ops=0
for m in dummy loop tun; do
	mod_ops=$((mod_ops + $(cat "$T/ops.$m" 2>/dev/null || echo 0)))
	rmmod "$m" 2>/dev/null
done
bpf_ops=$(cat "$T/ops.bpf" 2>/dev/null || echo 0)
diag "$(cat "$T/churn.out")" "churn: $CHURN s, module operations $mod_ops, BPF loads+unloads $bpf_ops"
line=$(grep '^opens ' "$T/churn.out")
# shellcheck disable=SC2086 # the line is words
set -- $line
c_opens=$2 c_images=$4 c_errors=$8 c_invalid=${10} c_modabs=${12} c_partial=${16} c_present=${18}
check "ksymsd is still running after the churn" kill -0 "$KSYMSD_PID"
is "$c_invalid" 0 "churn: every image is valid ($c_images images, $c_opens opens)"
is "$c_partial" 0 "churn: every image holds dummy, loop and tun whole or not at all"
is "$c_modabs" 0 "churn: every module symbol lies in a section of its module"
is "$c_errors" 0 "churn: no open failed"
check "churn: modules loaded and unloaded meanwhile ($mod_ops operations)" test "$mod_ops" -gt 20
[ $bpf = 1 ] && check "churn: BPF programs loaded and closed meanwhile ($bpf_ops)" test "$bpf_ops" -gt 20
check "churn: clients took snapshots meanwhile ($c_images images, $c_present with a module whole)" \
	test "${c_images:-0}" -gt 5
[ "$churn_rc" -eq 0 ] || diag "vm-churn exit status $churn_rc"

# ---- quiet ----------------------------------------------------------------
# hold SLOT FD NAME: a BPF program held open by bpf-load until FD (the
# write end of its FIFO) closes; its kallsyms name goes to $T/sym.SLOT.
# The other slots' FIFO ends are closed in the child, or they would hold
# those programs too.
hold() {
	mkfifo "$T/fifo.$1"
	bpf-load hold "$3" <"$T/fifo.$1" >"$T/sym.$1" 2>&1 5>&- 6>&- &
	eval "hpid_$1=\$!"
	eval "exec $2>\"\$T/fifo.$1\""
	i=0
	while [ ! -s "$T/sym.$1" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}
release() {
	eval "exec $2>&-"
	eval "wait \$hpid_$1"
	rm -f "$T/fifo.$1"
}

steps=0 stale=0 opens=0 changes=0
# step DESC PRESENT|ABSENT PATTERN: after a change, the image against the
# kallsyms read right after it; PATTERN (a grep -E) must be in that read
# (or not), so the change really happened.
step() {
	steps=$((steps + 1))
	opens=$((opens + 1))
	if ! cat /dev/ksyms >"$T/q.img" 2>"$T/q.err"; then
		not_ok "quiet $steps ($1): read the device"
		diag "$(cat "$T/q.err")"
		return
	fi
	cat /proc/kallsyms >"$T/q.ks"
	if grep -qE "$3" "$T/q.ks"; then seen=PRESENT; else seen=ABSENT; fi
	[ "$seen" = "$2" ] || diag "quiet $steps ($1): kallsyms has '$3' ${seen}, not $2"
	vm-elfsyms -k "$T/q.ks" "$T/q.img" >"$T/q.rep" 2>&1
	miss=$(sed -n 's/^missing: //p' "$T/q.rep")
	extra=$(sed -n 's/^extra: //p' "$T/q.rep")
	own=$(sed -n 's/^owner mismatches: //p' "$T/q.rep")
	if [ "$miss" = 0 ] && [ "$extra" = 0 ] && [ "$own" = 0 ] && [ "$seen" = "$2" ]; then
		ok "quiet $steps ($1): the image is the kallsyms read after it ($(wc -l <"$T/q.ks") lines)"
	else
		[ "$seen" = "$2" ] && stale=$((stale + 1))
		not_ok "quiet $steps ($1): the image is the kallsyms read after it"
		diag "$(grep -E '^(missing|extra|owner)' "$T/q.rep")"
	fi
}
change() {
	changes=$((changes + 1))
	"$@" || diag "change failed: $*"
}
# held SLOT FD NAME: the change of loading a BPF program and holding it
# (hold), and its step. released SLOT FD: that of closing it, and its step.
held() {
	changes=$((changes + 1))
	hold "$@"
	_sym=$(cat "$T/sym.$1")
	step "BPF program $_sym loaded and held" PRESENT " ${_sym}	\\[bpf\\]\$"
}
released() {
	changes=$((changes + 1))
	_sym=$(cat "$T/sym.$1")
	release "$1" "$2"
	step "BPF program $_sym closed" ABSENT " ${_sym}	\\[bpf\\]\$"
}

read -r q0 _ </proc/uptime
step "unchanged" ABSENT '\[dummy\]$'
change modprobe dummy
step "modprobe dummy" PRESENT '\[dummy\]$'
[ $bpf = 1 ] && held a 5 live_a
change modprobe loop
step "modprobe loop" PRESENT '\[loop\]$'
change rmmod dummy
step "rmmod dummy" ABSENT '\[dummy\]$'
if [ $bpf = 1 ]; then
	held b 6 live_b
	released a 5
fi
change modprobe tun
step "modprobe tun" PRESENT '\[tun\]$'
change rmmod loop
step "rmmod loop" ABSENT '\[loop\]$'
[ $bpf = 1 ] && released b 6
change modprobe dummy
step "modprobe dummy again" PRESENT '\[dummy\]$'
change rmmod tun
step "rmmod tun" ABSENT '\[tun\]$'
change rmmod dummy
step "rmmod dummy again" ABSENT '\[dummy\]$'
is "$stale" 0 "quiet: no stale image ($changes changes, $opens opens)"
read -r q1 _ </proc/uptime
diag "quiet: $changes changes, $opens opens, $stale stale images, $(awk -v a="$q0" -v b="$q1" -v n="$opens" 'BEGIN { printf "%.1f s, %.1f s a step", b - a, (b - a) / n }')"

# ---- the daemon's own account --------------------------------------------
kill -TERM "$KSYMSD_PID"
wait "$KSYMSD_PID"
is "$?" 0 "SIGTERM: ksymsd exits 0"
rereads=$(grep -c 'table: re-read' "$T/ksymsd.log")
applied=$(grep -c 'table: applied' "$T/ksymsd.log")
reasons=$(sed -n 's/.*table: re-read (\(.*\)).*/\1/p' "$T/ksymsd.log" | sort | uniq -c | sort -rn | head -n 8)
summary=$(grep 'live table:' "$T/ksymsd.log" | grep -v 'watching\|not available')
if [ -n "$start$summary" ] || [ "$rereads$applied" != 00 ]; then
	diag "daemon: ${summary:-no summary line at exit}" \
		"daemon debug: $rereads 'table: re-read' lines, $applied 'table: applied' lines"
	[ -n "$reasons" ] && diag "re-read reasons (count reason):" "$reasons"
	events=$(sed -n 's/.*table: \(module added\|module removed\|dynamic symbol added\|dynamic symbol removed\|events lost\).*/\1/p' "$T/ksymsd.log" | sort | uniq -c | sort -rn)
	[ -n "$events" ] && diag "announcements taken in (count kind):" "$events"
	cannot=$(sed -n 's/.*table: cannot \(apply\|replay\)[^:]*: \(.*\)/\1: \2/p' "$T/ksymsd.log" | sed 's/0x[0-9a-f]*/ADDR/g; s/bpf_prog_[0-9a-f]*_/bpf_prog_TAG_/g' | sort | uniq -c | sort -rn | head -n 8)
	[ -n "$cannot" ] && diag "records not applied (count why):" "$cannot"
else
	diag "daemon: no live table lines (it re-reads /proc/kallsyms per open)"
fi
# The quiet phase loads and closes BPF programs one at a time: the table
# must follow them from the kernel's records, not only by reading.
if [ -n "$summary" ]; then
	incr=$(echo "$summary" | sed -n 's/.* \([0-9][0-9]*\) incremental updates.*/\1/p')
	check "the live table followed BPF loads from their records (${incr:-0} updates without a read)" \
		[ "${incr:-0}" -gt 0 ]
fi
grep -i 'segfault\|assert' "$T/ksymsd.log" && not_ok "the daemon's log is clean"
done_testing
