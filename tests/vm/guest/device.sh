# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=sh
# /dev/ksyms served by ksymsd through CUSE on a real kernel: the node, the
# image, one open per process, snapshots that never change while open,
# NetBSD lookups, the address-visibility rule, dying and parallel clients,
# and the daemon dying and coming back.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. /usr/lib/ksymsd-vm/lib.sh

for p in ksymsd vm-dev vm-elfsyms; do
	command -v "$p" >/dev/null || bail "$p is not in the image (run --bin)"
done

# wait_for WORD FILE: until a background client has printed WORD (10 s).
wait_for() {
	_i=0
	while ! grep -q "$1" "$2" 2>/dev/null && [ "$_i" -lt 200 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
}

serve_or_done "ksymsd creates /dev/ksyms, a character device"
diag "$(ls -l /dev/ksyms)"

check "KIOCGSIZE (size_t and int forms) equals the bytes read" vm-dev size

# The image is the kallsyms of that moment: same symbols, owners in order.
for m in tun dummy; do modprobe "$m"; done
load_order=$(tac /proc/modules | awk '{ print $1 }' | tr '\n' ' ')
for _try in 1 2 3; do
	cat /proc/kallsyms >"$T/kallsyms.before"
	vm-dev cat "$T/dev.img" >/dev/null
	cat /proc/kallsyms >"$T/kallsyms"
	cmp -s "$T/kallsyms.before" "$T/kallsyms" && break
done
nk=$(wc -l <"$T/kallsyms")
is "$(vm-elfsyms -c "$T/dev.img")" "$nk" "the device image has one symbol per /proc/kallsyms line"
vm-elfsyms -k "$T/kallsyms" -m "$load_order" "$T/dev.img" >"$T/report" 2>&1
is "$(sed -n 's/^missing: //p' "$T/report")" 0 "no kallsyms line is missing from the image"
is "$(sed -n 's/^extra: //p' "$T/report")" 0 "the image has nothing kallsyms lacks"
is "$(sed -n 's/^section owner mismatches: //p' "$T/report")" 0 "every symbol's section names its module"
is "$(sed -n 's/^G order: //p' "$T/report")" "$(sed -n 's/^G want: //p' "$T/report")" \
	"modules' symbols come in load order"
# A valid ELF file by elfutils' standard (--debuginfo: all its sections are
# NOBITS, like a separate debug file's; see src/engine/elfimage.c), but for
# the kernel's Xen and Linux note types, which elfutils does not know.
if command -v eu-elflint >/dev/null; then
	check "eu-elflint finds nothing but the kernel's own note types in the device image" \
		elflint_image "$T/dev.img"
else
	skip "eu-elflint finds nothing but the kernel's own note types in the device image" \
		"eu-elflint not in the image"
fi
# The device serves what --dump builds from the same kallsyms: byte for byte.
ksymsd --dump "$T/dump.img" 2>/dev/null
cat /proc/kallsyms >"$T/kallsyms.after"
if cmp -s "$T/kallsyms" "$T/kallsyms.after"; then
	check "the device image equals ksymsd --dump's, byte for byte" cmp "$T/dev.img" "$T/dump.img"
else
	skip "the device image equals ksymsd --dump's" "kallsyms changed meanwhile"
fi

check "one open per process: EBUSY from it and its threads, others fine" vm-dev busy

# A snapshot never changes while open: a module loaded meanwhile shows in a
# new open only.
grep -q '^loop ' /proc/modules && rmmod loop
mkfifo "$T/go"
vm-dev hold "$T/held.img" <"$T/go" >"$T/hold.out" &
hold_pid=$!
exec 3>"$T/go"
wait_for held "$T/hold.out"
modprobe loop
vm-dev cat "$T/new.img" >/dev/null
echo go >&3
exec 3>&-
wait "$hold_pid"
check "the held open completes its read" test "$(wc -c <"$T/held.img")" -gt 0
vm-elfsyms -p "$T/held.img" >"$T/held.pairs"
vm-elfsyms -p "$T/new.img" >"$T/new.pairs"
has_loop() { grep -q ' loop_add$\| lo_release$\| loop_configure$' "$1"; }
if has_loop "$T/new.pairs"; then ok "a module loaded between two opens is in the second image"
else not_ok "a module loaded between two opens is in the second image"; fi
if has_loop "$T/held.pairs"; then not_ok "the first open's image does not change"
else ok "the first open's image does not change"; fi
check "the held image is a whole, valid image" vm-elfsyms -c "$T/held.img"

check "NetBSD lookups agree with /proc/kallsyms; ENOENT, EINVAL, ENOTTY, page edge" \
	vm-dev lookup "$T/kallsyms"

# Who may see addresses: not an unprivileged caller, even through 0666.
chmod 0666 /dev/ksyms
diag "kptr_restrict=$(cat /proc/sys/kernel/kptr_restrict) perf_event_paranoid=$(cat /proc/sys/kernel/perf_event_paranoid)"
check "an unprivileged caller gets EPERM even when the node is 0666" vm-dev asuser 65534
check "root (CAP_SYSLOG) still reads it" vm-dev size
chmod 0600 /dev/ksyms

# Dying clients leak nothing and harm nobody. The live table keeps its
# images (memfds named ksyms) as it sees fit and may be reading the kernel
# in the background, holding a few fds for a while: count the other fds,
# and a leak is a count that stays above the one before.
daemon_fds() {
	ls -l /proc/"$KSYMSD_PID"/fd | grep -v 'memfd:ksyms' | grep -c -- '->'
}
fds_before=$(daemon_fds)
check "50 clients killed mid-read" vm-dev killers 50
sleep 1
check "then a full read is still valid" vm-dev size
# The kernel sends the RELEASEs of killed and closed opens asynchronously: on
# a busy host the daemon may still be handling the last ones. Give it 10 s.
_i=0
while fds_after=$(daemon_fds) &&
	[ "$fds_after" -gt "$fds_before" ] && [ "$_i" -lt 100 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
[ "$_i" -eq 0 ] || diag "fd count settled after ${_i}00 ms"
check "the daemon's fd count is not above what it was ($fds_after, was $fds_before)" \
	[ "$fds_after" -le "$fds_before" ]

check "8 parallel readers" vm-dev parallel 8 "$T/par"
same=0
for i in 1 2 3 4 5 6 7; do cmp -s "$T/par.0" "$T/par.$i" && same=$((same + 1)); done
is "$same" 7 "the 8 parallel readers got byte-identical images"

# The daemon dies: clients get an error, the node goes; a new daemon serves.
mkfifo "$T/go2"
vm-dev orphan <"$T/go2" >"$T/orphan.out" &
orphan_pid=$!
exec 4>"$T/go2"
wait_for ready "$T/orphan.out"
kill -9 "$KSYMSD_PID"
wait "$KSYMSD_PID" 2>/dev/null
sleep 0.2
echo go >&4
exec 4>&-
wait "$orphan_pid"
orc=$?
is "$orc" 0 "a client whose daemon died gets an error ($(tail -n 1 "$T/orphan.out"))"
check "the node is gone with the daemon" test ! -e /dev/ksyms
if start_daemon; then ok "a restarted daemon creates /dev/ksyms again"
else not_ok "a restarted daemon creates /dev/ksyms again"; fi
check "and serves a valid image" vm-dev size

kill -TERM "$KSYMSD_PID"
wait "$KSYMSD_PID"
is "$?" 0 "SIGTERM: ksymsd exits 0"
check "and the node is removed" test ! -e /dev/ksyms

# Past a limit: ENOMEM for the newcomer, and everyone else keeps being served.
start_daemon --max-opens 1 || bail "ksymsd --max-opens 1 did not start"
mkfifo "$T/go3"
vm-dev hold "$T/held2.img" <"$T/go3" >"$T/hold2.out" &
hold_pid=$!
exec 5>"$T/go3"
wait_for held "$T/hold2.out"
vm-dev size >"$T/over.out" 2>&1
is "$(head -n 1 "$T/over.out")" "open: ENOMEM" "past --max-opens, an open fails with ENOMEM"
echo go >&5
exec 5>&-
wait "$hold_pid"
is "$?" 0 "the open within the limit reads its whole image meanwhile"
check "after it closes, a new open succeeds" vm-dev size
kill -TERM "$KSYMSD_PID"
wait "$KSYMSD_PID"
diag "daemon log:" "$(cat "$T/ksymsd.log")"
done_testing
