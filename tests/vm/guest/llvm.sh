# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=sh
# llvm-readelf and llvm-nm read the device node itself: CUSE cannot seek,
# and these tools read sequentially, so they need no client library.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. /usr/lib/ksymsd-vm/lib.sh

for p in ksymsd llvm-readelf llvm-nm; do
	command -v "$p" >/dev/null || bail "$p is not in the image"
done
serve_or_done "ksymsd serves /dev/ksyms"

for _try in 1 2 3; do
	cat /proc/kallsyms >"$T/before"
	llvm-readelf -sW /dev/ksyms >"$T/readelf.out" 2>"$T/readelf.err"
	rrc=$?
	llvm-nm -n /dev/ksyms >"$T/nm.out" 2>"$T/nm.err"
	nrc=$?
	cat /proc/kallsyms >"$T/kallsyms"
	cmp -s "$T/before" "$T/kallsyms" && break
done
nk=$(wc -l <"$T/kallsyms")

is "$rrc" 0 "llvm-readelf -s /dev/ksyms exits 0"
check "llvm-readelf prints no warning" test ! -s "$T/readelf.err" || diag "$(head -n 5 "$T/readelf.err")"
# Symbol lines, less index 0 and the STT_FILE bookkeeping entries.
nr=$(grep -E '^ *[0-9]+: ' "$T/readelf.out" | grep -vc ' FILE ')
is "$((nr - 1))" "$nk" "llvm-readelf lists one symbol per /proc/kallsyms line"

is "$nrc" 0 "llvm-nm /dev/ksyms exits 0"
# nm leaves out STT_FILE entries already.
is "$(wc -l <"$T/nm.out")" "$nk" "llvm-nm lists one symbol per /proc/kallsyms line"
# Functions keep their letter: kallsyms' T/t lines are T/t in llvm-nm.
grep -m 200 ' [Tt] ' "$T/kallsyms" | grep -v '\[' | cut -d' ' -f1,2,3 | sort -u >"$T/want"
sort -u "$T/nm.out" >"$T/nm.sorted"
missing=$(comm -23 "$T/want" "$T/nm.sorted" | wc -l)
is "$missing" 0 "200 kernel functions appear in llvm-nm with their address and T/t letter"
kill -TERM "$KSYMSD_PID"
wait "$KSYMSD_PID"
done_testing
