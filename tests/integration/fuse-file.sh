#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The FUSE transport end to end on this machine (ksymsd --transport=fuse):
# served from a copy of a fixture tree that the test changes, so that an
# open before and after the change must differ and neither may change while
# open; EBUSY, EPERM, KIOCGSIZE, pread/lseek/mmap/fstat; unmodified GNU
# readelf, eu-readelf, llvm-readelf (and perf report, if usable) listing
# what they list for the same image written by --dump; the symlink; a clean
# unmount on SIGTERM, on SIGKILL (the unmounter), and a stale mount replaced.
# TAP. Needs root and /dev/fuse (exit 77 otherwise).
# Usage: fuse-file.sh KSYMSD KSYMS-FILE FIXTURES
ksymsd=$1 client=$2 fixtures=$3

[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP not root (mounting needs it)"; exit 77; }
[ -c /dev/fuse ] || { echo "1..0 # SKIP no /dev/fuse"; exit 77; }

T=$(mktemp -d /tmp/ksymsd-fuse.XXXXXX) || exit 1
# Reachable by the unprivileged opener of the EPERM check.
chmod 0755 "$T"
mnt=$T/mnt
file=$mnt/ksyms
pid=
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	for _p in $(pgrep -P "${pid:-0}" 2>/dev/null); do kill -9 "$_p"; done
	umount -l "$mnt" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }
check() {
	_d=$1
	shift
	if _out=$("$@" 2>&1); then ok "$_d"; else not_ok "$_d"; diag "$_out"; fi
}

# The tree the daemon reads; state-a now, state-b later (a module loaded
# and one unloaded between the two captures).
mkdir "$T/root"
cp -a "$fixtures/debian-6.1/state-a/." "$T/root/"
"$ksymsd" --root "$fixtures/debian-6.1/state-a" --dump "$T/a.img" || exit 1
"$ksymsd" --root "$fixtures/debian-6.1/state-b" --dump "$T/b.img" || exit 1
cmp -s "$T/a.img" "$T/b.img" && { echo "Bail out! the two fixture images are equal"; exit 1; }

# start [ARGS]: the daemon in the foreground, until the file is there (30 s).
start() {
	"$ksymsd" -f --transport fuse --root "$T/root" --mountpoint "$mnt" "$@" \
		>>"$T/log" 2>&1 &
	pid=$!
	_i=0
	while [ ! -f "$file" ] && [ "$_i" -lt 300 ] && kill -0 "$pid" 2>/dev/null; do
		sleep 0.1
		_i=$((_i + 1))
	done
	[ -f "$file" ]
}
# The mount's line in mountinfo: mount point 5th, type after " - ".
mountline() { awk -v m="$mnt" '$5 == m && / - fuse\.ksyms /' /proc/self/mountinfo; }
mounted() { [ -n "$(mountline)" ]; }

if ! start --link "$T/link"; then
	if grep -q 'cannot mount' "$T/log"; then
		echo "1..0 # SKIP cannot mount FUSE here: $(tail -n 1 "$T/log")"
		exit 77
	fi
	echo "Bail out! ksymsd did not serve $file"
	diag "$(cat "$T/log")"
	exit 1
fi
ok "ksymsd --transport=fuse serves $file"
case "$(mountline)" in
*" $mnt ro,"*) ok "it is a read-only fuse.ksyms mount" ;;
*) not_ok "it is a read-only fuse.ksyms mount"; diag "$(grep " $mnt " /proc/self/mountinfo)" ;;
esac
check "the file is the image, however it is read" "$client" check "$file" "$T/a.img"
check "--link: a symlink to the file" test "$(readlink "$T/link")" = "$file"

# Unmodified ELF tools list what they list for the same image as a file.
for tool in "readelf -sW" "eu-readelf -s" "llvm-readelf -s"; do
	# shellcheck disable=SC2086 # the tool and its options, split
	set -- $tool
	if ! command -v "$1" >/dev/null; then
		ok "$tool on the file # SKIP $1 is not installed"
		continue
	fi
	"$@" "$T/a.img" | sed "s|$T/a.img|IMAGE|" >"$T/want" 2>&1
	"$@" "$T/link" | sed "s|$T/link|IMAGE|" >"$T/got" 2>&1
	if [ "$(wc -l <"$T/want")" -gt 100000 ] && cmp -s "$T/want" "$T/got"; then
		ok "$tool lists the image's $(wc -l <"$T/want") lines"
	else
		not_ok "$tool lists the image's symbols"
		diag "$(diff "$T/want" "$T/got" | head -n 20)"
	fi
done
# perf resolves samples against --vmlinux; the addresses are this machine's
# and the symbols the fixture's, so only the two reports' equality counts.
if command -v perf >/dev/null &&
	perf record -q -a -o "$T/perf.data" -- sleep 0.3 >/dev/null 2>&1; then
	perf report -i "$T/perf.data" --vmlinux "$T/a.img" --stdio --sort sym 2>/dev/null |
		grep -v '^#' >"$T/want"
	perf report -i "$T/perf.data" --vmlinux "$file" --stdio --sort sym 2>/dev/null |
		grep -v '^#' >"$T/got"
	if [ -s "$T/want" ] && cmp -s "$T/want" "$T/got"; then
		ok "perf report --vmlinux FILE: the same report as on the image"
	else
		not_ok "perf report --vmlinux FILE: the same report as on the image"
		diag "$(diff "$T/want" "$T/got" | head -n 20)"
	fi
else
	ok "perf report --vmlinux FILE # SKIP perf cannot record here"
fi

check "one open per process (EBUSY), a close and a new open at once" "$client" busy "$file"
check "an unprivileged opener gets EPERM (the kallsyms rule of the tree)" \
	"$client" asuser 65534 "$file"

# A snapshot per open: one held across a change keeps its bytes, size and
# pages; an open after the change gets the new tree.
mkfifo "$T/go"
"$client" hold "$file" "$T/held.img" <"$T/go" >"$T/hold.out" 2>&1 &
hold=$!
exec 3>"$T/go"
_i=0
while ! grep -q held "$T/hold.out" && [ "$_i" -lt 300 ]; do sleep 0.1; _i=$((_i + 1)); done
rm -rf "$T/root/proc" "$T/root/sys"
cp -a "$fixtures/debian-6.1/state-b/proc" "$fixtures/debian-6.1/state-b/sys" "$T/root/"
cat "$file" >"$T/new.img"
check "an open after the change reads the new tree" cmp "$T/new.img" "$T/b.img"
check "fstat of the path reports the new size" \
	test "$(stat -c %s "$file")" -eq "$(stat -c %s "$T/b.img")"
echo go >&3
exec 3>&-
if wait "$hold"; then ok "an open held across the change: bytes, size and mapping unchanged"
else not_ok "an open held across the change: bytes, size and mapping unchanged"; diag "$(cat "$T/hold.out")"; fi
check "and it was the old tree" cmp "$T/held.img" "$T/a.img"
check "the new tree, however it is read" "$client" check "$file" "$T/b.img"

# SIGTERM: exit 0, unmounted, the link gone.
kill -TERM "$pid"
wait "$pid"
rc=$?
if [ "$rc" -eq 0 ]; then ok "SIGTERM: exit 0"; else not_ok "SIGTERM: exit $rc"; fi
if mounted; then not_ok "unmounted on exit"; else ok "unmounted on exit"; fi
check "the link removed" test ! -L "$T/link"

# SIGKILL: the unmounter still unmounts.
start || echo "Bail out! no restart"
um=$(pgrep -P "$pid")
kill -9 "$pid"
wait "$pid" 2>/dev/null
_i=0
while mounted && [ "$_i" -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
if mounted; then not_ok "SIGKILL: unmounted by the unmounter ($um)"; else ok "SIGKILL: unmounted by the unmounter"; fi

# Both killed: a stale mount, which the next daemon replaces.
start || echo "Bail out! no restart"
um=$(pgrep -P "$pid")
kill -9 "$um" "$pid"
wait "$pid" 2>/dev/null
sleep 0.2
if mounted && ! stat "$mnt" >/dev/null 2>&1; then ok "daemon and unmounter killed: a stale mount"
else not_ok "daemon and unmounter killed: a stale mount"; fi
: >"$T/log"
if start; then ok "a new daemon serves over the stale mount"; else not_ok "a new daemon serves over the stale mount"; fi
check "saying it replaced it" grep -q 'detached the stale mount' "$T/log"
check "and the file is the image" "$client" check "$file" "$T/b.img"
check "a second daemon on a live mount is refused" sh -c \
	"'$ksymsd' -f --transport fuse --root '$T/root' --mountpoint '$mnt' 2>&1 | grep -q 'live FUSE mount'"
kill -TERM "$pid"
wait "$pid"
pid=

echo "1..$n"
[ "$failed" -eq 0 ]
