#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Where `meson install` puts things: everything under the prefix for any
# prefix but /usr; with /usr the unit and the udev rule go where this
# distribution's systemd and udev say (systemd.pc, udev.pc), else beside
# each other under /usr/lib; the options override, 'no' leaves them out;
# the unit's ExecStart names the installed daemon. Configures the source
# tree into temporary build dirs (no build) and reads `meson introspect
# --installed`. TAP.
# Usage: install-paths.sh MESON SOURCE-DIR
meson=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; }

# configure NAME MESON-ARGS...: the installed paths, one a line, in $tmp/NAME.paths
configure() {
	local name=$1
	shift
	if ! "$meson" setup "$tmp/$name" "$src" -Dtests=disabled -Dvm_tests=false "$@" \
		>"$tmp/$name.log" 2>&1; then
		not_ok "meson setup $* (log below)"
		sed 's/^/# /' "$tmp/$name.log" | tail -n 20
		return 1
	fi
	"$meson" introspect --installed "$tmp/$name" |
		python3 -c 'import json, sys; print("\n".join(sorted(json.load(sys.stdin).values())))' \
			>"$tmp/$name.paths"
}
# has NAME PATH: PATH is among NAME's installed files
has() { grep -qxF "$2" "$tmp/$1.paths"; }
no_rule() { ! grep -q 70-ksyms.rules "$tmp/opts.paths"; }
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

echo "TAP version 13"
p=/opt/ksymsd-test
if configure opt --prefix=$p; then
	for f in sbin/ksymsd lib/systemd/system/ksymsd.service lib/udev/rules.d/70-ksyms.rules \
		include/sys/ksyms.h share/man/man8/ksymsd.8; do
		check "--prefix=$p: $p/$f" has opt "$p/$f"
	done
	outside=$(grep -v "^$p/" "$tmp/opt.paths")
	check "--prefix=$p: nothing installed outside it${outside:+ (}${outside//$'\n'/ }${outside:+)}" \
		test -z "$outside"
	check "--prefix=$p: the unit starts $p/sbin/ksymsd" \
		grep -q "^ExecStart=$p/sbin/ksymsd --foreground" "$tmp/opt/systemd/ksymsd.service"
fi

if configure usr --prefix=/usr; then
	unitdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null)
	udevdir=$(pkg-config --variable=udevdir udev 2>/dev/null)
	want_unit=${unitdir:-/usr/lib/systemd/system}
	if [[ -n $udevdir ]]; then
		want_rule=$udevdir/rules.d
	elif [[ $want_unit == /lib/* ]]; then
		want_rule=/lib/udev/rules.d
	else
		want_rule=/usr/lib/udev/rules.d
	fi
	check "--prefix=/usr: the unit in $want_unit (systemd.pc: ${unitdir:-none})" \
		has usr "$want_unit/ksymsd.service"
	check "--prefix=/usr: the rule in $want_rule (udev.pc: ${udevdir:-none})" \
		has usr "$want_rule/70-ksyms.rules"
	check "--prefix=/usr: /usr/sbin/ksymsd" has usr /usr/sbin/ksymsd
fi

if configure opts -Dsystemdsystemunitdir=$p/units -Dudevrulesdir=no; then
	check "-Dsystemdsystemunitdir=DIR puts the unit there" has opts "$p/units/ksymsd.service"
	check "-Dudevrulesdir=no installs no rule" no_rule -q 70-ksyms.rules "$tmp/opts.paths"
fi
echo "1..$n"
