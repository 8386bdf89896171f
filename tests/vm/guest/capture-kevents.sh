# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=sh
# Not a test: captures the kernel's change announcements for
# tests/fixtures/kevents (run by tests/vm/capture-kevents, which unpacks
# what this sends over /dev/ttyS2):
#   uevent/uevent-NN.bin  every datagram of the kernel's uevent group while
#                         `modprobe dummy; rmmod dummy` runs (dummy's net
#                         device adds its own; the host picks the module's)
#   uevent/log.txt        kevents-capture's line per datagram
#   ksymbol/...           kevents-capture ksymbol: records.bin, ring-*.bin
#                         and their .txt (BPF socket filters loaded and closed)
#   meta.txt              uname -r, bpf_jit_enable, perf_event_paranoid
# Sent as guest/capture.sh sends (send_capture, lib.sh): base64 gzip tar
# between marker lines, with its md5sum and size.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. /usr/lib/ksymsd-vm/lib.sh

[ -c /dev/ttyS2 ] || bail "no /dev/ttyS2 (run --serial2 FILE)"
command -v kevents-capture >/dev/null || bail "kevents-capture is not in the image"
C=$T/cap
mkdir -p "$C/uevent" "$C/ksymbol"
rmmod dummy 2>/dev/null

kevents-capture uevent "$C/uevent" 64 8 >"$C/uevent/log.txt" 2>&1 &
cpid=$!
i=0
while ! grep -q listening "$C/uevent/log.txt" && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
check "modprobe dummy" modprobe dummy
check "rmmod dummy" rmmod dummy
wait $cpid # 64 datagrams or 8 s, whichever first: exit 1 for fewer
check "the module's add datagram was captured" grep -q ': add@/module/dummy$' "$C/uevent/log.txt"
check "the module's remove datagram was captured" grep -q ': remove@/module/dummy$' "$C/uevent/log.txt"

check "kevents-capture ksymbol" kevents-capture ksymbol "$C/ksymbol"
{
	echo "uname -r: $(uname -r)"
	echo "uname -m: $(uname -m)"
	echo "net.core.bpf_jit_enable: $(cat /proc/sys/net/core/bpf_jit_enable)"
	echo "kernel.perf_event_paranoid: $(cat /proc/sys/kernel/perf_event_paranoid)"
	echo "vCPUs: $(grep -c '^processor' /proc/cpuinfo)"
} >"$C/meta.txt"

send_capture "$C"
done_testing
