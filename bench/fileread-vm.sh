# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=sh
# Guest side of bench/run-fileread: two daemons in the VM, one serving
# /dev/ksyms through CUSE and one /run/ksyms/ksyms through FUSE, then
# fileread on both in one run (ratios to a memfd of the same bytes). Under
# TCG the figures are an emulated CPU's: compare the ratios, not the ms.
# shellcheck source-path=SCRIPTDIR/../tests/vm/guest source=lib.sh
. /usr/lib/ksymsd-vm/lib.sh

ksymsd -f --transport cuse >"$T/cuse.log" 2>&1 &
cuse=$!
ksymsd -f --transport fuse >"$T/fuse.log" 2>&1 &
fuse=$!
i=0
while { [ ! -c /dev/ksyms ] || [ ! -f /run/ksyms/ksyms ]; } && [ "$i" -lt 400 ]; do
	sleep 0.05
	i=$((i + 1))
done
check "ksymsd serves /dev/ksyms (CUSE)" test -c /dev/ksyms || done_testing
check "ksymsd serves /run/ksyms/ksyms (FUSE)" test -f /run/ksyms/ksyms || done_testing
fileread -n "${BENCH_RUNS:-11}" /run/ksyms/ksyms /dev/ksyms >"$T/bench.out" 2>&1
rc=$?
diag "$(cat "$T/bench.out")"
is "$rc" 0 "fileread ran"
kill -TERM "$cuse" "$fuse"
wait "$cuse"
wait "$fuse"
done_testing
