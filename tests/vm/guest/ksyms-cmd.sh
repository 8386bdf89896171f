# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=sh
# ksyms(1) on the real device: its default /dev/ksyms, read once through
# libksyms, must answer as /proc/kallsyms says (no module is loaded or
# unloaded meanwhile).
. /usr/lib/ksymsd-vm/lib.sh

command -v ksyms >/dev/null || bail "ksyms is not in the image (run --bin)"
serve_or_done "ksymsd serves /dev/ksyms (a character device)"

sched=$(grep ' [Tt] schedule$' /proc/kallsyms | head -n 1 | cut -d' ' -f1)
[ -n "$sched" ] || bail "no schedule in /proc/kallsyms"

out=$(ksyms name schedule 2>"$T/err")
rc=$?
is "$rc $(echo "$out" | head -n 1 | awk '{print $1, $3, $4, $5, $6}')" \
	"0 $sched FUNC GLOBAL schedule [vmlinux]" \
	"ksyms name schedule: /proc/kallsyms's address, FUNC GLOBAL, vmlinux"
[ "$rc" = 0 ] || diag "$(cat "$T/err")"

# schedule + 0x10: an address inside it, as a dmesg line would hold it.
# The shell's arithmetic is signed 64-bit: add to the last 4 digits only.
hi=${sched%????}
lo=$((0x${sched#"$hi"} + 16))
if [ "$lo" -lt 65536 ]; then
	inside=$hi$(printf '%04x' "$lo") off=0x10
else
	inside=$sched off=0x0
fi
out=$(ksyms addr "$inside" 2>"$T/err")
case "$out" in
"schedule+$off/0x"*" [vmlinux]") ok "ksyms addr $inside: $out" ;;
*) not_ok "ksyms addr $inside: schedule+$off/SIZE [vmlinux]"; diag "got: $out" "$(cat "$T/err")" ;;
esac
out=$(echo "[  1.000000] ? 0x$inside" | ksyms addr 2>"$T/err")
case "$out" in
"[  1.000000] ? schedule+$off/0x"*" [vmlinux]") ok "ksyms addr from stdin: a trace line resolved in place" ;;
*) not_ok "ksyms addr from stdin: a trace line resolved in place"; diag "got: $out" ;;
esac

ksyms name no_such_symbol_here >/dev/null 2>&1
is "$?" "1" "ksyms name of a missing symbol exits 1"

first=$(ksyms modules 2>"$T/err" | head -n 1 | cut -d' ' -f1)
is "$first" "vmlinux" "ksyms modules: the kernel first"
nmods=$(grep -c . /proc/modules)
nowners=$(ksyms --json modules | grep -c '"kind":"module"')
is "$nowners" "$nmods" "ksyms modules: every module of /proc/modules"

# The lines as sets, letters included (the image records them).
ksyms kallsyms | sort >"$T/ours" 2>"$T/err"
sort /proc/kallsyms >"$T/kernel"
if cmp -s "$T/ours" "$T/kernel"; then
	ok "ksyms kallsyms: /proc/kallsyms's lines ($(wc -l <"$T/kernel")), letter for letter"
else
	not_ok "ksyms kallsyms: /proc/kallsyms's lines, letter for letter"
	diag "$(diff "$T/kernel" "$T/ours" | head -n 10)"
fi

kill "$KSYMSD_PID" 2>/dev/null
wait "$KSYMSD_PID" 2>/dev/null
done_testing
