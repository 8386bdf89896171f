# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=bash
# Sourced by capture-fixture and capture-kevents: the host's end of the
# guest's send_capture (guest/lib.sh).
#
# receive_capture EXPORT TGZ: take the base64 between the lines
# "KSYMSD-CAPTURE-BEGIN MD5 SIZE" and "KSYMSD-CAPTURE-END" of EXPORT (what
# the guest wrote to /dev/ttyS2; CRs and NULs of the serial line dropped,
# into export.clean beside TGZ), decode it into TGZ and check it against the
# guest's md5 and size. Sets want_sum, want_size (the guest's) and got_sum,
# got_size (TGZ's); on a mismatch says so and exits 1 ($me names the
# script).
receive_capture() {
	local clean=${2%/*}/export.clean
	tr -d '\r\000' <"$1" >"$clean"
	read -r _ want_sum want_size < <(grep -a '^KSYMSD-CAPTURE-BEGIN ' "$clean")
	sed -n '/^KSYMSD-CAPTURE-BEGIN /,/^KSYMSD-CAPTURE-END$/p' "$clean" |
		sed '1d;$d' | base64 -d >"$2"
	got_sum=$(md5sum <"$2" | cut -d' ' -f1)
	got_size=$(wc -c <"$2")
	[[ $got_sum == "$want_sum" && $got_size == "$want_size" ]] || {
		# shellcheck disable=SC2154 # me: the sourcing script's name
		echo "$me: transfer check failed: got $got_sum $got_size, guest sent $want_sum $want_size" >&2
		exit 1
	}
}
