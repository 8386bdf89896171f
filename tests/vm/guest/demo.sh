# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=sh
# Not a test: what scripts/run shows on a host without CUSE. ksymsd serves
# /dev/ksyms on Debian's kernel in the VM, and real tools read it.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. /usr/lib/ksymsd-vm/lib.sh

show() {
	diag "\$ $*"
	diag "$("$@" 2>&1)"
}

serve_or_done "ksymsd serves /dev/ksyms"
show ls -l /dev/ksyms
show vm-dev size
if command -v llvm-readelf >/dev/null; then
	llvm-readelf -s /dev/ksyms >"$T/readelf.out" 2>&1
	diag "\$ llvm-readelf -s /dev/ksyms | head -n 12" "$(head -n 12 "$T/readelf.out")"
	diag "\$ llvm-readelf -s /dev/ksyms | grep -m 5 'fuse:'" "$(grep -m 5 'FUNC.*fuse_' "$T/readelf.out")"
	check "llvm-readelf reads the device" test -s "$T/readelf.out"
fi
kill -TERM "$KSYMSD_PID"
wait "$KSYMSD_PID"
done_testing
