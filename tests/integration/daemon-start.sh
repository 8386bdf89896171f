#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# ksymsd takes its first snapshot before it creates the device or says it is
# ready: where the symbols cannot be read it exits 1 with one line saying
# why, at once, without needing CUSE. Where they can but /dev/cuse cannot be
# opened, one line says so and how to fix it (not libfuse's line and ours).
# TAP. The start-up's informational lines (the transport chosen, the live
# table's sources, the capabilities dropped) come before it and
# are not counted.
# Usage: daemon-start.sh KSYMSD FIXTURES
ksymsd=$1 fixtures=$2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
said() { grep -v -e '^ksymsd: live table: ' -e '^ksymsd: dropped ' -e '^ksymsd: transport: ' "$out"; }
echo "1..6"

timeout 20 "$ksymsd" -f --name ksyms-start-test --root "$fixtures/debian-6.1/state-c-unprivileged" \
	>"$out" 2>&1
rc=$?
[ "$rc" -eq 1 ] && echo "ok 1 - unreadable addresses: exit 1" || echo "not ok 1 - unreadable addresses: exit $rc"
if [ "$(said | wc -l)" -eq 1 ] && said | grep -q 'cannot take a snapshot: .*shows every address as 0'; then
	echo "ok 2 - one line saying why"
else
	echo "not ok 2 - one line saying why"; sed 's/^/# /' "$out"
fi

timeout 20 "$ksymsd" -f --name ksyms-start-test --root "$fixtures/mini/proc" >"$out" 2>&1
rc=$?
[ "$rc" -eq 1 ] && echo "ok 3 - a tree without kallsyms: exit 1" || echo "not ok 3 - a tree without kallsyms: exit $rc"
if [ "$(said | wc -l)" -eq 1 ] && said | grep -q 'proc/kallsyms: No such file'; then
	echo "ok 4 - one line naming the file"
else
	echo "not ok 4 - one line naming the file"; sed 's/^/# /' "$out"
fi

# Readable symbols; then /dev/cuse decides. Where this user can open it the
# daemon would really serve: nothing to check here (the VM suite does).
if [ -r /dev/cuse ] && [ -w /dev/cuse ]; then
	echo "ok 5 # SKIP /dev/cuse is usable here: the daemon would serve"
	echo "ok 6 # SKIP /dev/cuse is usable here: the daemon would serve"
	exit 0
fi
# --transport=cuse: auto would serve the FUSE file instead.
timeout 20 "$ksymsd" -f --transport=cuse --name ksyms-start-test --root "$fixtures/debian-6.1/state-a" \
	>"$out" 2>&1
rc=$?
[ "$rc" -eq 1 ] && echo "ok 5 - no usable /dev/cuse: exit 1" || echo "not ok 5 - no usable /dev/cuse: exit $rc"
if [ -e /dev/cuse ]; then fix='ksymsd must run as root'; else fix='load the cuse module: modprobe cuse'; fi
if [ "$(said | wc -l)" -eq 1 ] && said | grep -q "^ksymsd: cannot open /dev/cuse: .*($fix)$"; then
	echo "ok 6 - one line naming /dev/cuse and the fix ($fix)"
else
	echo "not ok 6 - one line naming /dev/cuse and the fix ($fix)"; sed 's/^/# /' "$out"
fi
