# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=sh
# Not a test: captures a fixture tree (tests/fixtures/<kernel>/state-a) for
# tests/vm/capture-fixture, which runs it with run --serial2 and unpacks what
# it sends. Loads the modules named in /etc/ksymsd-vm/capture-modules (one a
# line, in order, with modprobe -v), then copies with cat, as root:
#   proc/kallsyms proc/modules proc/version
#   proc/sys/kernel/{kptr_restrict,perf_event_paranoid,osrelease}
#   sys/kernel/notes                      (binary ELF notes of vmlinux)
#   sys/module/<m>/sections/<section>     ("0x%016lx\n", dot files included)
#   sys/module/<m>/notes/<section>        (binary ELF notes)
#   sys/module/<m>/{coresize,initsize,initstate,refcnt,taint}
#   uname-r uname-m                       (uname's output)
# for each /sys/module/<m> that has a sections/ dir (loadable modules), and
# capture-meta/ (load log, dmesg, holders, ...). The tree goes out as a
# base64 gzip tar between marker lines on /dev/ttyS2 with its md5sum.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. /usr/lib/ksymsd-vm/lib.sh

[ -c /dev/ttyS2 ] || bail "no /dev/ttyS2 (run --serial2 FILE)"
C=$T/cap
S=$C/state-a
M=$C/capture-meta
mkdir -p "$S/proc/sys/kernel" "$S/sys/kernel" "$S/sys/module" "$M"

mods() { awk '{ print $1 }' /proc/modules | sort | tr '\n' ' '; }
{
	echo "modules before loading: [$(mods)]"
	while read -r m; do
		[ -n "$m" ] || continue
		before=$(mods)
		out=$(modprobe -v "$m" 2>&1)
		rc=$?
		echo "LOAD $m rc=$rc now=[$(mods)] before=[$before]"
		[ -n "$out" ] && echo "$out" | sed 's/^/    /'
	done </etc/ksymsd-vm/capture-modules
} >"$M/load-log.txt" 2>&1
fails=$(grep -c '^LOAD .* rc=[^0]' "$M/load-log.txt")
is "$fails" 0 "every module loads"
[ "$fails" -eq 0 ] || diag "$(cat "$M/load-log.txt")"

# copy SRC DST: cat, logging failures (an unreadable file is left out).
# DST's directory must exist.
copy() {
	cat "$1" >"$2" 2>>"$M/state-a-capture-errors.txt" ||
		{ echo "FAILED: $1" >>"$M/state-a-capture-errors.txt" && rm -f "$2"; }
}
: >"$M/state-a-capture-errors.txt"

# kallsyms and modules from the same moment: read until two passes agree.
for _try in 1 2 3 4 5; do
	cat /proc/modules >"$T/m1"
	cat /proc/kallsyms >"$S/proc/kallsyms"
	cat /proc/modules >"$S/proc/modules"
	cat /proc/kallsyms >"$T/k2"
	cmp -s "$T/m1" "$S/proc/modules" && cmp -s "$S/proc/kallsyms" "$T/k2" && break
done
check "/proc/kallsyms and /proc/modules were stable while read" cmp -s "$S/proc/kallsyms" "$T/k2"

copy /proc/version "$S/proc/version"
for f in kptr_restrict perf_event_paranoid osrelease; do
	copy "/proc/sys/kernel/$f" "$S/proc/sys/kernel/$f"
done
uname -r >"$S/uname-r"
uname -m >"$S/uname-m"
if [ -r /sys/kernel/notes ]; then
	copy /sys/kernel/notes "$S/sys/kernel/notes"
	ok "/sys/kernel/notes copied ($(wc -c <"$S/sys/kernel/notes") bytes)"
else
	not_ok "/sys/kernel/notes is readable"
fi

nmod=0
for d in /sys/module/*/sections; do
	[ -d "$d" ] || continue
	md=${d%/sections}
	m=${md##*/}
	nmod=$((nmod + 1))
	mkdir -p "$S/sys/module/$m/sections"
	for f in "$d"/* "$d"/.[!.]* "$d"/..?*; do
		[ -f "$f" ] && copy "$f" "$S/sys/module/$m/sections/${f##*/}"
	done
	if [ -d "$md/notes" ]; then
		mkdir -p "$S/sys/module/$m/notes"
		for f in "$md"/notes/* "$md"/notes/.[!.]* "$md"/notes/..?*; do
			[ -f "$f" ] && copy "$f" "$S/sys/module/$m/notes/${f##*/}"
		done
	fi
	for a in coresize initsize initstate refcnt taint; do
		[ -f "$md/$a" ] && copy "$md/$a" "$S/sys/module/$m/$a"
	done
	echo "$m: $(ls "$md/holders" 2>/dev/null | tr '\n' ' ')" >>"$M/state-a-holders.txt"
done
is "$nmod" "$(wc -l <"$S/proc/modules")" "a sections/ dir for every module in /proc/modules"
is "$(cat "$M/state-a-capture-errors.txt")" "" "every file read without error"

cat /proc/cmdline >"$M/cmdline"
id >"$M/state-a-reader-id.txt"
head -n 30 /proc/cpuinfo >"$M/cpuinfo-head.txt"
cat /proc/modules >"$M/modules-after-loads.txt"
ls -la /sys/module/*/notes/ >"$M/ls-module-notes.txt" 2>&1
dmesg >"$M/dmesg.txt"

# Send: gzip tar, base64, framed, with its md5 and size (lib.sh).
send_capture "$C"
done_testing
