# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=sh
# A module loaded between two dumps shows up in the second and not in the
# first; unloaded again, it is gone from a third.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. /usr/lib/ksymsd-vm/lib.sh

command -v ksymsd >/dev/null || bail "ksymsd is not in the image (run --bin)"
command -v vm-elfsyms >/dev/null || bail "vm-elfsyms is not in the image (run --bin)"
grep -q '^dummy ' /proc/modules && bail "dummy is already loaded: the test would prove nothing"

# dump NAME: ksymsd --dump into $T/NAME.img, its (address, name) pairs
# into $T/NAME.pairs; its symbol count must match /proc/kallsyms'.
dump() {
	if ! timeout 120 ksymsd --dump "$T/$1.img" >"$T/$1.out" 2>&1; then
		not_ok "dump $1: ksymsd --dump exits 0"
		diag "$(head -n 20 "$T/$1.out")"
		done_testing
	fi
	_nk=$(wc -l </proc/kallsyms)
	if ! vm-elfsyms -p "$T/$1.img" >"$T/$1.pairs" 2>"$T/$1.err"; then
		not_ok "dump $1: vm-elfsyms reads the image"
		diag "$(cat "$T/$1.err")"
		done_testing
	fi
	is "$(wc -l <"$T/$1.pairs")" "$_nk" "dump $1: symbol count equals the lines of /proc/kallsyms"
}

# report NAME LINES KEY: vm-elfsyms -k's KEY for dump NAME against the
# kallsyms lines in file LINES (grep -F -f is far too slow under TCG).
report() {
	vm-elfsyms -k "$2" "$T/$1.img" | sed -n "s/^$3: //p"
}

dump before
check "modprobe dummy" modprobe dummy || done_testing
grep '\[dummy\]$' /proc/kallsyms >"$T/dummy.ks"
nd=$(wc -l <"$T/dummy.ks")
diag "dummy has $nd symbols in /proc/kallsyms"
check "dummy's symbols are in /proc/kallsyms" test "$nd" -gt 0 || done_testing
# Lines whose name only dummy has: absent from a dump by name, not just by
# (address, name).
awk '$4 == "[dummy]" { d[$3] = $0; next } { o[$3] = 1 }
	END { for (k in d) if (!(k in o)) print d[k] }' /proc/kallsyms >"$T/dummy-only.ks"
diag "$(wc -l <"$T/dummy-only.ks") of them have names no other owner has"

dump loaded
check "rmmod dummy" rmmod dummy
dump after

is "$(report before "$T/dummy.ks" missing)" "$nd" "the dump before loading has none of dummy's symbols"
is "$(report before "$T/dummy-only.ks" "name hits")" 0 "the dump before loading has none of the names only dummy has"
is "$(report loaded "$T/dummy.ks" missing)" 0 "the dump with dummy loaded has all of dummy's symbols (address and name)"
is "$(($(wc -l <"$T/loaded.pairs") - $(wc -l <"$T/before.pairs")))" "$nd" \
	"loading dummy added exactly as many symbols as dummy has"
is "$(report after "$T/dummy.ks" missing)" "$nd" "the dump after rmmod has none of dummy's symbols"
if cmp -s "$T/before.pairs" "$T/after.pairs"; then
	ok "the dumps before loading and after unloading are the same symbols"
else
	not_ok "the dumps before loading and after unloading are the same symbols"
	diag "$(diff "$T/before.pairs" "$T/after.pairs" | head -n 20)"
fi

done_testing
