# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=sh
# `ksymsd --dump FILE` on the real kernel: the image must hold exactly the
# symbols /proc/kallsyms shows (same count, same address+name pairs), the
# kernel's first, then each module's in load order.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. /usr/lib/ksymsd-vm/lib.sh

command -v ksymsd >/dev/null || bail "ksymsd is not in the image (run --bin)"
command -v vm-elfsyms >/dev/null || bail "vm-elfsyms is not in the image (run --bin)"

# A few more modules, deliberately not in alphabetical or any other natural
# order, so "load order" is something an image can get wrong.
for m in tun dummy loop; do
	check "modprobe $m" modprobe "$m"
done
load_order=$(tac /proc/modules | awk '{ print $1 }' | tr '\n' ' ')
diag "modules in load order: $load_order"

# kallsyms must not change while we dump (no module loads, so it should
# not); take a copy on each side and retry once if they differ.
dump() {
	for _try in 1 2; do
		cat /proc/kallsyms >"$T/kallsyms.before"
		timeout 120 ksymsd --dump "$T/img" >"$T/dump.out" 2>&1
		_drc=$?
		cat /proc/kallsyms >"$T/kallsyms"
		cmp -s "$T/kallsyms.before" "$T/kallsyms" && return "$_drc"
		diag "/proc/kallsyms changed during the dump; retrying"
	done
	return "$_drc"
}
start=$(cut -d' ' -f1 /proc/uptime)
if dump; then
	ok "ksymsd --dump exits 0"
else
	rc=$?
	not_ok "ksymsd --dump exits 0"
	diag "exit status $rc; output:" "$(head -n 20 "$T/dump.out")"
	done_testing
fi
end=$(cut -d' ' -f1 /proc/uptime)
diag "dump took $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }') s (emulated CPU)"

if ! check "the image is an ELF file with a symbol table vm-elfsyms can read" \
	vm-elfsyms -c "$T/img"; then
	diag "$(head -c 64 "$T/img" | od -An -tx1 | head -n 4)"
	done_testing
fi
diag "image: $(wc -c <"$T/img") bytes, $(vm-elfsyms -s "$T/img" | wc -l) sections"

# Kernel symbols: not counting ELF bookkeeping (STT_FILE, STT_SECTION).
nk=$(wc -l <"$T/kallsyms")
is "$(vm-elfsyms -c "$T/img")" "$nk" "image symbol count equals the lines of /proc/kallsyms"

# A second opinion from an unrelated ELF reader, when the image has one
# (run --llvm-readelf / KSYMSD_VM_LLVM_READELF=1: 110+ MB of libLLVM).
if command -v llvm-readelf >/dev/null; then
	if llvm-readelf -hSsW "$T/img" >"$T/readelf.out" 2>"$T/readelf.err" && [ ! -s "$T/readelf.err" ]; then
		ok "llvm-readelf reads the image without a warning"
	else
		not_ok "llvm-readelf reads the image without a warning"
		diag "$(head -n 10 "$T/readelf.err")"
	fi
	# Symbol lines ("  N: VALUE SIZE TYPE ..."), less index 0 and bookkeeping.
	n_llvm=$(grep -E '^ *[0-9]+: ' "$T/readelf.out" | grep -vcE ' (FILE|SECTION) ')
	is "$((n_llvm - 1))" "$nk" "llvm-readelf counts as many kernel symbols as /proc/kallsyms has lines"
else
	skip "llvm-readelf reads the image" "llvm-readelf not in the image (KSYMSD_VM_LLVM_READELF=1)"
fi

# vm-elfsyms -k compares the image with the kallsyms copy in one pass (see
# clients/vm-elfsyms.c for the report's keys): (address, name) pairs missing
# or extra (as multisets: the strongest simple form of "the image is
# /proc/kallsyms"), and per binding class the owners' order.
if ! vm-elfsyms -k "$T/kallsyms" -m "$load_order" "$T/img" >"$T/report" 2>&1; then
	not_ok "vm-elfsyms compares the image with /proc/kallsyms"
	diag "$(cat "$T/report")"
	done_testing
fi
diag "$(cat "$T/report")"

field() { sed -n "s/^$1://p" "$T/report"; }
is "$(field missing)" " 0" "every (address, name) of /proc/kallsyms is in the image"
is "$(field extra)" " 0" "the image has no (address, name) that /proc/kallsyms lacks"
is "$(field "absent modules")" "" "every loaded module's symbols are in the image"
is "$(field "section owner mismatches")" " 0" "each symbol's section names its owner (<module>:<region>)"
for c in L G; do
	[ "$c" = L ] && cls="local" || cls="global/weak"
	is "$(field "$c order")" "$(field "$c want")" "$cls symbols: modules appear in load order"
	is "$(field "$c late")" " 0" "$cls symbols: the kernel's come before every module's"
	is "$(field "$c split")" "" "$cls symbols: each owner's symbols are contiguous"
done

for m in tun dummy loop; do rmmod "$m" 2>/dev/null; done
done_testing
