# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=sh
# The daemon under module churn at full speed: on every vCPU a loop loads
# and unloads a module with no pause, while clients open, read, check and
# look up in a loop (vm-churn) for a minute. The daemon must survive, every
# image must be valid (a module in flux is left out whole), and no open may
# fail, not even with ENXIO (which ksymsd no longer returns for a module set
# in flux). Reports the operations and snapshots it made.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. /usr/lib/ksymsd-vm/lib.sh

for p in ksymsd vm-churn modprobe rmmod; do
	command -v "$p" >/dev/null || bail "$p is not in the image"
done
SECONDS_CHURN=${KSYMSD_CHURN_SECONDS:-60}
CLIENTS=4
ncpu=$(grep -c '^processor' /proc/cpuinfo)
diag "$ncpu vCPU(s), $SECONDS_CHURN s, $CLIENTS clients"

serve_or_done "ksymsd serves /dev/ksyms"

# churn MODULE: load and unload MODULE until $T/stop exists; count in $T/ops.MODULE.
churn() {
	n=0
	while [ ! -e "$T/stop" ]; do
		modprobe "$1" 2>/dev/null && n=$((n + 1))
		rmmod "$1" 2>/dev/null && n=$((n + 1))
	done
	echo "$n" >"$T/ops.$1"
}

# Three loops: one per vCPU and more (the VM has at most two).
for m in dummy loop tun; do
	if ! modprobe "$m" || ! rmmod "$m"; then
		not_ok "modprobe and rmmod $m"
		done_testing
	fi
done
for m in dummy loop tun; do
	churn "$m" &
done
vm-churn "$SECONDS_CHURN" "$CLIENTS" >"$T/churn.out" 2>&1
churn_rc=$?
touch "$T/stop"
wait_churn=0
while [ "$(ls "$T"/ops.* 2>/dev/null | wc -l)" -lt 3 ] && [ $wait_churn -lt 600 ]; do
	sleep 0.1
	wait_churn=$((wait_churn + 1))
done
ops=0
for f in "$T"/ops.*; do
	ops=$((ops + $(cat "$f")))
done
diag "$(cat "$T/churn.out")" "module operations: $ops"

check "ksymsd is still running after the churn" kill -0 "$KSYMSD_PID"
line=$(grep '^opens ' "$T/churn.out")
set -- $line
opens=$2 images=$4 enxio=$6 errors=$8 invalid=${10} modabs=${12}
is "$invalid" 0 "every image read during the churn is valid"
# A module reloaded at its old address between the reads has kallsyms
# lines and sections from different loads: it must be left out, not shown
# with symbols in no section of it.
is "$modabs" 0 "every module symbol lies in a section of its module"
is "$errors" 0 "no open failed but with ENXIO"
check "modules were loaded and unloaded meanwhile ($ops operations)" test "$ops" -gt 20
check "clients took snapshots meanwhile ($images images)" test "${images:-0}" -gt 5
is "$enxio" 0 "no open failed with ENXIO ($opens opens)"
[ "$churn_rc" -eq 0 ] || diag "vm-churn exit status $churn_rc"

# Quiet again: one client, one image, all valid.
vm-churn 2 1 >"$T/quiet.out" 2>&1
check "after the churn, images are valid and complete" grep -q ' invalid 0 ' "$T/quiet.out" || diag "$(cat "$T/quiet.out")"
diag "ksymsd $(grep -E '^VmRSS' /proc/"$KSYMSD_PID"/status), fds $(ls /proc/"$KSYMSD_PID"/fd | wc -l)"
kill -TERM "$KSYMSD_PID"
wait "$KSYMSD_PID"
is "$?" 0 "SIGTERM: ksymsd exits 0"
grep -i 'segfault\|assert' "$T/ksymsd.log" && not_ok "the daemon's log is clean"
done_testing
