# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=sh
# The FUSE transport on a real kernel without CUSE: cuse is unloaded first,
# so --transport=auto must choose FUSE. The file and its /dev/ksyms link,
# read by ksyms-file and unmodified readelf and eu-readelf against
# ksymsd --dump; one open per process, EPERM, a snapshot per open across a
# module load, and the mount's end on SIGTERM and SIGKILL.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. /usr/lib/ksymsd-vm/lib.sh

for p in ksymsd ksyms-file vm-elfsyms; do
	command -v "$p" >/dev/null || bail "$p is not in the image (run --bin)"
done
file=/run/ksyms/ksyms

grep -q '^cuse ' /proc/modules && rmmod cuse
[ -e /dev/cuse ] && skip_all "cuse cannot be unloaded here (built in?)"
[ -c /dev/fuse ] || modprobe fuse
[ -c /dev/fuse ] || skip_all "no /dev/fuse"
ok "CUSE is absent ($KVER), /dev/fuse is there"

# start_fuse ARGS: ksymsd -f ARGS in the background until $file is there.
start_fuse() {
	ksymsd -f "$@" >>"$T/ksymsd.log" 2>&1 &
	KSYMSD_PID=$!
	_i=0
	while [ ! -f "$file" ] && [ "$_i" -lt 600 ] && kill -0 "$KSYMSD_PID" 2>/dev/null; do
		sleep 0.05
		_i=$((_i + 1))
	done
	[ -f "$file" ]
}
mounted() { awk '$5 == "/run/ksyms" && / - fuse\.ksyms /' /proc/self/mountinfo | grep -q .; }

if start_fuse --link /dev/ksyms; then
	ok "ksymsd (transport auto) serves $file"
else
	not_ok "ksymsd (transport auto) serves $file"
	diag "$(cat "$T/ksymsd.log")"
	done_testing
fi
check "it says it chose FUSE" grep -q 'transport: /dev/cuse: .*serving a file over FUSE' "$T/ksymsd.log"
check "/dev/ksyms is a symlink to the file" test "$(readlink /dev/ksyms)" = "$file"

# The file is what --dump builds from the same kallsyms, however it is read
# (retried while the kernel changes underneath, as device.sh does).
for _try in 1 2 3; do
	cat /proc/kallsyms >"$T/k.before"
	ksymsd --dump "$T/dump.img" 2>/dev/null
	cat "$file" >"$T/file.img"
	cat /proc/kallsyms >"$T/k.after"
	cmp -s "$T/k.before" "$T/k.after" && break
done
check "the file equals ksymsd --dump's image" cmp "$T/file.img" "$T/dump.img"
check "fstat, KIOCGSIZE, read, pread, lseek, mmap agree; lookups EOPNOTSUPP" \
	ksyms-file check "$file" "$T/dump.img"
for tool in "readelf -sW" "eu-readelf -s"; do
	# shellcheck disable=SC2086
	set -- $tool
	if ! command -v "$1" >/dev/null; then
		skip "$tool /dev/ksyms" "$1 not in the image"
		continue
	fi
	"$@" "$T/dump.img" | sed "s|$T/dump.img|F|" >"$T/want"
	"$@" /dev/ksyms | sed "s|/dev/ksyms|F|" >"$T/got"
	if [ "$(wc -l <"$T/want")" -gt 1000 ] && cmp -s "$T/want" "$T/got"; then
		ok "$tool /dev/ksyms lists the image's $(wc -l <"$T/want") lines"
	else
		not_ok "$tool /dev/ksyms lists the image's symbols"
		diag "$(diff "$T/want" "$T/got" | head -n 10)"
	fi
done

check "one open per process (EBUSY); close then open at once" ksyms-file busy "$file"
diag "kptr_restrict=$(cat /proc/sys/kernel/kptr_restrict) perf_event_paranoid=$(cat /proc/sys/kernel/perf_event_paranoid)"
check "an unprivileged opener gets EPERM (the file is 0444)" ksyms-file asuser 65534 "$file"

# A snapshot per open: a module loaded while one is held is only in a new one.
grep -q '^loop ' /proc/modules && rmmod loop
mkfifo "$T/go"
ksyms-file hold "$file" "$T/held.img" <"$T/go" >"$T/hold.out" 2>&1 &
hold_pid=$!
exec 3>"$T/go"
_i=0
while ! grep -q held "$T/hold.out" && [ "$_i" -lt 200 ]; do sleep 0.05; _i=$((_i + 1)); done
modprobe loop
cat "$file" >"$T/new.img"
echo go >&3
exec 3>&-
if wait "$hold_pid"; then ok "the held open's bytes, size and mapping did not change"
else not_ok "the held open's bytes, size and mapping did not change"; diag "$(cat "$T/hold.out")"; fi
vm-elfsyms -p "$T/held.img" >"$T/held.pairs"
vm-elfsyms -p "$T/new.img" >"$T/new.pairs"
has_loop() { grep -q ' loop_add$\| lo_release$\| loop_configure$' "$1"; }
if has_loop "$T/new.pairs"; then ok "a module loaded meanwhile is in a new open"
else not_ok "a module loaded meanwhile is in a new open"; fi
if has_loop "$T/held.pairs"; then not_ok "and not in the held one"
else ok "and not in the held one"; fi

kill -TERM "$KSYMSD_PID"
wait "$KSYMSD_PID"
is "$?" 0 "SIGTERM: ksymsd exits 0"
if mounted; then not_ok "the mount is gone"; else ok "the mount is gone"; fi
check "and /dev/ksyms with it" test ! -L /dev/ksyms

start_fuse --transport fuse || bail "ksymsd --transport=fuse did not start"
ok "ksymsd --transport=fuse serves $file"
kill -9 "$KSYMSD_PID"
wait "$KSYMSD_PID" 2>/dev/null
_i=0
while mounted && [ "$_i" -lt 100 ]; do sleep 0.05; _i=$((_i + 1)); done
if mounted; then not_ok "SIGKILL: the unmounter detaches the mount"
else ok "SIGKILL: the unmounter detaches the mount"; fi
diag "daemon log:" "$(cat "$T/ksymsd.log")"
done_testing
