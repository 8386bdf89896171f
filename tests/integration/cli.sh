#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# ksymsd's command line, as a user meets it: a bad option or value is one
# line naming it, then "Try 'ksymsd --help'", exit 2 (as GNU tools), and
# nothing on stdout; --dump that fails part way (on a full disk) exits 1
# with one line and leaves the old file whole and no temporary file. TAP.
# Usage: cli.sh KSYMSD FIXTURES
ksymsd=$1 fixtures=$2
root=$fixtures/debian-6.1/state-a
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; }
diag() { sed 's/^/# /' "$@"; }

# usage_error DESCRIPTION WANT-IN-MESSAGE ARGS...
usage_error() {
	local what=$1 want=$2 rc
	shift 2
	"$ksymsd" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [[ $rc -eq 2 && ! -s $tmp/out && $(wc -l <"$tmp/err") -eq 2 ]] &&
		grep -qF -- "$want" "$tmp/err" &&
		[[ $(tail -n1 "$tmp/err") == "Try 'ksymsd --help' for more information." ]]; then
		ok "$what: exit 2, '$want', then Try 'ksymsd --help'"
	else
		not_ok "$what: exit 2, '$want', then Try 'ksymsd --help' (exit $rc)"
		diag "$tmp/err" "$tmp/out"
	fi
}

echo "TAP version 13"
usage_error "an unknown option" "unrecognized option '--bogus'" --bogus
usage_error "an unknown short option" "invalid option -- 'z'" -z
usage_error "an option without its argument" "requires an argument" --max-memory
usage_error "an extra argument" "unexpected argument: 'extra'" --dump /dev/null extra
usage_error "--max-memory 0" "--max-memory: not a size" --max-memory 0
usage_error "--max-memory -1 (strtoull would take it as 2^64-1)" "--max-memory: not a size" \
	--max-memory -1
usage_error "--max-memory 1T" "--max-memory: not a size" --max-memory 1T
usage_error "--max-memory that wraps when scaled" "--max-memory: too large" \
	--max-memory 17179869184G
usage_error "--max-memory past 64 bits" "--max-memory: too large" \
	--max-memory 99999999999999999999999
usage_error "--max-opens 0" "--max-opens: not a positive whole number" --max-opens 0
usage_error "--max-opens 1K" "--max-opens: not a positive whole number" --max-opens 1K
usage_error "--max-opens past UINT_MAX" "--max-opens: more than 4294967295" \
	--max-opens 4294967296
usage_error "--name with a slash" "--name: a device name" --name a/b
usage_error "--dump ''" "--dump: an empty file name" --dump ''

"$ksymsd" --help >"$tmp/out" 2>"$tmp/err"
rc=$?
if [[ $rc -eq 0 && ! -s $tmp/err ]] && grep -q '^Usage: ksymsd' "$tmp/out"; then
	ok "--help: usage on stdout, exit 0"
else
	not_ok "--help: usage on stdout, exit 0 (exit $rc)"
fi
"$ksymsd" --help >/dev/full 2>"$tmp/err"
rc=$?
if [[ $rc -eq 1 ]] && grep -qx 'ksymsd: standard output: No space left on device' "$tmp/err"; then
	ok "--help to a full disk: exit 1 and says so"
else
	not_ok "--help to a full disk: exit 1 and says so (exit $rc)"
	diag "$tmp/err"
fi
if [[ $("$ksymsd" --max-memory 4G --max-opens 7 --root "$root" --dump - | head -c 4 | od -An -c | tr -d ' ') == 177ELF ]]; then
	ok "good values are taken: --max-memory 4G --max-opens 7 --dump - writes an ELF image"
else
	not_ok "good values are taken: --max-memory 4G --max-opens 7 --dump - writes an ELF image"
fi

# --dump over an old image on a file system with room for half of it: a
# 1 MiB tmpfs (the debian-6.1 image is about 4 MiB) in a mount namespace of
# our own, through an unprivileged user namespace where one can be made.
small=$tmp/small
mkdir "$small"
img=$small/ksyms.elf
# Runs inside the namespace; its findings go to $tmp, outside the tmpfs.
# shellcheck disable=SC2016 # expanded by the inner shell
inner='mount -t tmpfs -o size=1m ksymsd-full "$1" || exit 77
echo "the old image" >"$1/ksyms.elf"
"$2" --root "$3" --dump "$1/ksyms.elf" >"$4/out" 2>"$4/err"
echo $? >"$4/rc"
cat "$1/ksyms.elf" >"$4/after"
find "$1" -mindepth 1 -name ".*" >"$4/left"
chmod 644 "$1/ksyms.elf"
"$2" --root "$3" --dump "$1/ksyms.elf" 2>"$4/err2"
echo $? >"$4/rc2"'
if ! unshare -Urm true 2>/dev/null; then
	ok "# SKIP a full disk: cannot make a user and mount namespace here (unshare -Urm)"
elif ! unshare -Urm sh -c "$inner" sh "$small" "$ksymsd" "$root" "$tmp"; then
	not_ok "a full disk: the test ran (exit $?)"
else
	rc=$(cat "$tmp/rc")
	if [[ $rc -eq 1 && $(wc -l <"$tmp/err") -eq 1 ]] &&
		grep -qF "$img: No space left on device (the file is left as it was)" "$tmp/err"; then
		ok "--dump on a full disk: exit 1, one line naming the file and the error"
	else
		not_ok "--dump on a full disk: exit 1, one line naming the file and the error (exit $rc)"
		diag "$tmp/err"
	fi
	if [[ $(cat "$tmp/after") == "the old image" ]]; then
		ok "the old file is left whole"
	else
		not_ok "the old file is left whole ($(stat -c %s "$tmp/after") bytes now)"
	fi
	if [[ ! -s $tmp/left ]]; then
		ok "no temporary file is left"
	else
		not_ok "no temporary file is left: $(cat "$tmp/left")"
	fi
	if [[ $(cat "$tmp/rc2") -eq 1 ]] && grep -qF "No space left on device" "$tmp/err2"; then
		ok "a second try fails the same way (the first left no space taken)"
	else
		not_ok "a second try fails the same way (the first left no space taken)"
		diag "$tmp/err2"
	fi
fi
echo "1..$n"
