# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=sh
# libksyms and libksyms-preload on the real device: BSD-style clients and
# unmodified ELF tools must see the same symbols as a plain sequential read
# of /dev/ksyms (ksyms-read: open, KIOCGSIZE, read to EOF). Each prints
# "COUNT SUM" (symbols after index 0, hash of names and values), compared
# as strings. No module is loaded or unloaded meanwhile, so every open's
# snapshot holds the same symbols.
. /usr/lib/ksymsd-vm/lib.sh

PRELOAD=/usr/lib/libksyms-preload.so
for p in ksymsd ksyms-read ksyms-fbsd ksyms-illumos ksyms-nbsd ksyms-elfmmap ksyms-sum ksyms-api; do
	command -v "$p" >/dev/null || bail "$p is not in the image (run --bin)"
done
[ -f "$PRELOAD" ] || bail "$PRELOAD is not in the image (run --file)"

# The daemon, in the foreground of a background job: its PID is ours to end.
serve_or_done "ksymsd serves /dev/ksyms (a character device)"
stop_daemon() {
	kill "$KSYMSD_PID" 2>/dev/null
	wait "$KSYMSD_PID" 2>/dev/null
}

# The reference: twice, to know that two opens give the same image.
if ! ref=$(ksyms-read /dev/ksyms 2>"$T/err"); then
	not_ok "ksyms-read reads the device (open, KIOCGSIZE, read to EOF)"
	diag "$(cat "$T/err")"
	stop_daemon
	done_testing
fi
ok "ksyms-read reads the device (open, KIOCGSIZE, read to EOF)"
diag "reference: $ref (symbols, checksum); /proc/kallsyms: $(wc -l </proc/kallsyms) lines"
is "$(ksyms-read /dev/ksyms)" "$ref" "a second open gives the same symbols"

# Without the preload, what the device can and cannot do.
ksyms-fbsd /dev/ksyms >"$T/out" 2>"$T/err"
rc=$?
is "$rc $(cat "$T/err")" "3 KIOCGADDR: Operation not supported" \
	"without the preload: KIOCGADDR fails with EOPNOTSUPP"
if readelf -sW /dev/ksyms >/dev/null 2>"$T/err"; then
	diag "GNU readelf read the device without the preload?"
else
	diag "without the preload, GNU readelf says: $(head -n 1 "$T/err")"
fi

# run_client NAME CMD...: CMD's stdout must be the reference.
run_client() {
	_name=$1
	shift
	if ! _out=$("$@" 2>"$T/err"); then
		not_ok "$_name: runs"
		diag "command: $*" "$(head -n 5 "$T/err")"
		return 1
	fi
	is "$_out" "$ref" "$_name: the same symbols as a sequential read"
}

# With the preload, unmodified programs.
export KSYMS_PRELOAD_DEVICE=/dev/ksyms
run_client "preload: ksyms-read" env LD_PRELOAD=$PRELOAD ksyms-read /dev/ksyms
run_client "preload: FreeBSD lockstat style (KIOCGSIZE, KIOCGADDR, elf_memory)" \
	env LD_PRELOAD=$PRELOAD ksyms-fbsd /dev/ksyms
run_client "preload: illumos style (lseek SEEK_END, mmap)" \
	env LD_PRELOAD=$PRELOAD ksyms-illumos /dev/ksyms
run_client "preload: NetBSD style (pread; KIOCGVALUE/KIOCGSYMBOL forwarded)" \
	env LD_PRELOAD=$PRELOAD ksyms-nbsd /dev/ksyms
diag "ksyms-nbsd: $(cat "$T/err")"
run_client "preload: elf_begin(fd, ELF_C_READ_MMAP)" \
	env LD_PRELOAD=$PRELOAD ksyms-elfmmap /dev/ksyms
# Through a symlink whose last component is the device's name.
mkdir -p "$T/alias"
ln -s /dev/ksyms "$T/alias/ksyms"
run_client "preload: the device through a symlink" \
	env LD_PRELOAD=$PRELOAD ksyms-illumos "$T/alias/ksyms"

# tool_sum NAME CMD...: a tool's symbol listing, summed by ksyms-sum;
# it must exit 0 and warn about nothing.
tool_sum() {
	_name=$1
	shift
	if "$@" >"$T/tool.out" 2>"$T/tool.err" && [ ! -s "$T/tool.err" ]; then
		ok "$_name: runs without an error or warning"
	else
		not_ok "$_name: runs without an error or warning"
		diag "command: $*" "$(head -n 5 "$T/tool.err")"
	fi
	is "$(ksyms-sum <"$T/tool.out")" "$ref" "$_name: the same symbols as a sequential read"
}
for tool in readelf eu-readelf; do
	if ! command -v $tool >/dev/null; then
		skip "preload: $tool" "$tool is not in the image (run --bin)"
		continue
	fi
	[ $tool = readelf ] && opt=-sW || opt=-s
	tool_sum "preload: $tool $opt /dev/ksyms" env LD_PRELOAD=$PRELOAD $tool $opt /dev/ksyms
	check "preload: $tool -hS /dev/ksyms has no warning" \
		sh -c "LD_PRELOAD=$PRELOAD $tool -hS /dev/ksyms 2>&1 >/dev/null | (! grep .)"
done
if command -v llvm-readelf >/dev/null; then
	tool_sum "llvm-readelf (no preload needed)" llvm-readelf -sW /dev/ksyms
fi

# libksyms itself, without and with the preload underneath.
cat /proc/kallsyms >"$T/kallsyms"
field() { sed -n "s/^$1: //p" "$T/api"; }
for how in plain preload; do
	if [ $how = plain ]; then
		ksyms-api -k "$T/kallsyms" /dev/ksyms >"$T/api" 2>"$T/err"
	else
		env LD_PRELOAD=$PRELOAD ksyms-api -k "$T/kallsyms" /dev/ksyms >"$T/api" 2>"$T/err"
	fi
	if [ $? -ne 0 ]; then
		not_ok "libksyms ($how): ksyms-api runs"
		diag "$(cat "$T/err")"
		continue
	fi
	is "$(head -n 1 "$T/api")" "$ref" "libksyms ($how): ksyms_addr() holds the same symbols"
	is "$(field fd)" "${ref% *}" "libksyms ($how): elf_begin on ksyms_fd() finds them all"
	is "$(field "second open")" EBUSY "libksyms ($how): a second ksyms_open() in the process is EBUSY"
	is "$(field lines)" "$(wc -l <"$T/kallsyms")" "libksyms ($how): every kallsyms line was looked up"
	is "$(field "addr misses")" 0 "libksyms ($how): every kallsyms address resolves to a symbol starting there"
	is "$(field "name misses")" 0 "libksyms ($how): every kallsyms name resolves"
	is "$(field "module misses")" 0 "libksyms ($how): module-only names resolve into their module"
done

stop_daemon
done_testing
