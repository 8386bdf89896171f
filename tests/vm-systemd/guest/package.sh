# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=bash disable=SC2317,SC2154 # (test.sh sets unit, client, n...)
#
# The Debian packages in the systemd guest, sourced by test.sh at its end
# (its helpers: ok, not_ok, skip, check, is, diag, wait_for, prop, ...):
# the `meson install` copy the earlier checks used is removed, then
# `apt install ./ksymsd_*.deb` must enable and start the service, the
# device must serve readelf through the preload and `ksyms name schedule`
# (the ksyms package), and `apt purge` must leave nothing
# behind. The .debs are the host's scripts/debian-packages output, copied
# in by run; without them each check is a SKIP saying so.

debs=/usr/lib/ksymsd-vm/debs
tools=/usr/lib/ksymsd-vm/tools
pkg_checks=("the meson-installed copy is removed" "apt install ./ksymsd_*.deb"
	"the unit is enabled and active after the install" "/dev/ksyms is 0400 root:root"
	"readelf through the preload"
	"ksyms name schedule" "apt purge leaves nothing behind")

if ! compgen -G "$debs/ksymsd_*.deb" >/dev/null; then
	for c in "${pkg_checks[@]}"; do
		skip "package: $c: no .deb was built (scripts/debian-packages BUILD/debian before the VM suite)"
	done
	return 0
fi

t_pkg=$(up)
since() { awk -v a="$1" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }'; }

# --- Out with the meson-installed copy (its paths from meson's install log) ----
systemctl stop "$unit" 2>/dev/null
systemctl disable --quiet "$unit" 2>/dev/null
while IFS= read -r f; do
	[[ -n $f && ( -f $f || -L $f ) ]] && rm -f "$f"
done </etc/ksymsd-vm/meson-installed
ldconfig
systemctl daemon-reload
udevadm control --reload
if [[ -z $(systemctl show -P FragmentPath "$unit") ]] && ! command -v ksymsd >/dev/null; then
	ok "package: the meson-installed copy is removed (no unit, no ksymsd in PATH)"
else
	not_ok "package: the meson-installed copy is removed"
	diag "$(systemctl show -P FragmentPath "$unit") $(command -v ksymsd)"
fi

# --- Install: postinst enables and starts it ---------------------------------------
install=("$debs"/ksymsd_*.deb "$debs"/libksyms0_*.deb "$debs"/ksyms_*.deb)
t0=$(up)
if o=$(DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y \
	-o Dpkg::Options::=--force-confnew "${install[@]}" 2>&1); then
	ok "package: apt install ${install[*]##*/} ($(since "$t0") s)"
else
	not_ok "package: apt install ${install[*]##*/}"
	diag "$(tail -n 30 <<<"$o")"
fi
frag=$(prop "$unit" FragmentPath)
state="$(systemctl is-enabled "$unit" 2>&1) $(prop "$unit" ActiveState)/$(prop "$unit" SubState) $frag"
if [[ $state == "enabled active/running /lib/systemd/system/ksymsd.service" ||
	$state == "enabled active/running /usr/lib/systemd/system/ksymsd.service" ]]; then
	ok "package: the unit is enabled and active after the install ($state)"
else
	not_ok "package: the unit is enabled and active after the install ($state)"
	diag "$(journal 20)"
fi
udevadm settle --timeout=30
is "$(stat -c '%F %a %U:%G' /dev/ksyms 2>&1)" "character special file 400 root:root" \
	"package: /dev/ksyms is 0400 root:root (the packaged udev rule)"

# --- The device through the installed preload, and the ksyms command ---------------
want=$(awk '$3 == "schedule" && $4 == "" { print $1; exit }' /proc/kallsyms)
t0=$(up)
o=$(LD_LIBRARY_PATH=$tools/lib LD_PRELOAD=libksyms-preload.so "$tools/bin/readelf" -sW /dev/ksyms 2>&1)
rc=$?
if [[ $rc -eq 0 && -n $want ]] && grep -qE "^ *[0-9]+: $want +[0-9]+ FUNC +GLOBAL .* schedule$" <<<"$o"; then
	ok "package: LD_PRELOAD=libksyms-preload.so readelf -sW /dev/ksyms lists schedule at $want"
else
	not_ok "package: LD_PRELOAD=libksyms-preload.so readelf -sW /dev/ksyms lists schedule at ${want:-?} (exit $rc)"
	diag "$(head -n 5 <<<"$o"; grep -E ' schedule$' <<<"$o")"
fi
diag "readelf -sW through the preload took $(since "$t0") s"
if ! command -v ksyms >/dev/null; then
	not_ok "package: ksyms name schedule: the ksyms package put no ksyms on PATH"
# ksyms(1): "ADDRESS SIZE TYPE BINDING NAME [OWNER]", a line per symbol.
elif o=$(ksyms name schedule 2>&1) && grep -qE "^$want .* schedule( |$)" <<<"$o"; then
	ok "package: ksyms name schedule gives its address ($o)"
else
	not_ok "package: ksyms name schedule gives its address ${want:-?}"
	diag "$o"
fi

# --- Purge: nothing left -----------------------------------------------------------------
t0=$(up)
pkgs=(ksymsd libksyms0)
dpkg-query -W ksyms >/dev/null 2>&1 && pkgs+=(ksyms)
files=$(dpkg-query -L "${pkgs[@]}" 2>/dev/null | sort -u)
if ! o=$(DEBIAN_FRONTEND=noninteractive timeout 300 apt-get purge -y "${pkgs[@]}" 2>&1); then
	diag "apt-get purge ${pkgs[*]} failed:"
	diag "$(tail -n 20 <<<"$o")"
fi
left=()
while IFS= read -r f; do
	# Directories are shared with other packages; files and links are ours.
	[[ -n $f && ! -d $f && ( -e $f || -L $f ) ]] && left+=("$f")
done <<<"$files"
for f in /etc/systemd/system/multi-user.target.wants/ksymsd.service \
	/var/lib/systemd/deb-systemd-helper-enabled/ksymsd.service.dsh-also \
	/var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/ksymsd.service \
	/var/lib/systemd/deb-systemd-helper-masked/ksymsd.service /dev/ksyms; do
	[[ -e $f || -L $f ]] && left+=("$f")
done
pgrep -x ksymsd >/dev/null && left+=("a ksymsd process")
# Purged: not-installed, or forgotten altogether (no output).
status=$(dpkg-query -W -f='${db:Status-Status} ' ksymsd libksyms0 2>/dev/null)
known=${status//not-installed/}
if [[ ${#left[@]} -eq 0 && -z ${known// /} ]]; then
	ok "package: apt purge leaves nothing behind ($(wc -l <<<"$files") paths checked)"
else
	not_ok "package: apt purge leaves nothing behind"
	diag "left: ${left[*]}; status: ${status:-none}"
fi
diag "apt purge took $(since "$t0") s; the package checks $(since "$t_pkg") s in all"
