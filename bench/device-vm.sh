# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=sh
# Guest side of bench/run-device: ksymsd in the VM, then bench-device.
# Figures under TCG are emulated-CPU figures: compare the ratio, not the ms.
. /usr/lib/ksymsd-vm/lib.sh

ksymsd -f >"$T/ksymsd.log" 2>&1 &
pid=$!
i=0
while [ ! -c /dev/ksyms ] && [ "$i" -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
check "ksymsd serves /dev/ksyms" test -c /dev/ksyms || done_testing
bench-device -n "${BENCH_RUNS:-11}" -s 20 -b 10 >"$T/bench.out" 2>&1
rc=$?
diag "$(cat "$T/bench.out")"
is "$rc" 0 "bench-device ran"
kill -TERM "$pid"
wait "$pid"
# The live table's account of the opens, where the daemon keeps one.
live=$(grep 'live table:' "$T/ksymsd.log")
[ -n "$live" ] && diag "ksymsd: $live"
done_testing
