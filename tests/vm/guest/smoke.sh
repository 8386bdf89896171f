# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=sh
# Smoke test: the VM is what the other tests assume -- the real Debian kernel,
# fuse and cuse loaded, /dev/cuse usable, /proc/kallsyms with real addresses.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. /usr/lib/ksymsd-vm/lib.sh

diag "kernel: $(uname -r) $(uname -m); kptr_restrict=$(cat /proc/sys/kernel/kptr_restrict 2>/dev/null)"
[ -f /run/ksymsd-vm/boot.log ] && diag "$(cat /run/ksymsd-vm/boot.log)"

is "$(id -u)" 0 "runs as root"

# fuse may be built in (Debian 6.12): then /sys/module/fuse exists without a
# /proc/modules line, and that is fine.
check "fuse is available (filesystem registered)" grep -qw fuse /proc/filesystems
check "fuse is in /sys/module" test -d /sys/module/fuse
check "cuse is in /sys/module" test -d /sys/module/cuse
if grep -q '^cuse ' /proc/modules; then
	ok "cuse is a loaded module"
elif grep -q '/cuse.ko' "/lib/modules/$KVER/modules.builtin" 2>/dev/null; then
	skip "cuse is a loaded module" "cuse is built in"
else
	not_ok "cuse is a loaded module"
fi

# /dev/cuse: misc device 10:203, made by devtmpfs when cuse registers.
if [ -c /dev/cuse ]; then
	ok "/dev/cuse is a character device"
	is "$(stat -c '%t:%T' /dev/cuse)" "a:cb" "/dev/cuse is misc 10:203"
	check "/dev/cuse opens read-write" sh -c 'exec 4<>/dev/cuse'
else
	not_ok "/dev/cuse is a character device"
	diag "$(ls -l /dev/cuse 2>&1)"
fi

# kallsyms with real addresses: as root with kptr_restrict 0 or 1, the kernel
# prints them; all zeroes would make every later comparison meaningless.
n=$(wc -l </proc/kallsyms)
nz=$(grep -cv '^0000000000000000 ' /proc/kallsyms)
diag "/proc/kallsyms: $n lines, $nz with a nonzero address"
check "/proc/kallsyms has many symbols (> 10000)" test "$n" -gt 10000
check "/proc/kallsyms shows real addresses as root (>= 99% nonzero)" test $((nz * 100)) -ge $((n * 99))
check "_text has a kernel address" grep -q '^ffffffff[0-9a-f]\{8\} T _text$' /proc/kallsyms
if grep -q '^cuse ' /proc/modules; then
	check "cuse's symbols are in /proc/kallsyms" grep -q '\[cuse\]$' /proc/kallsyms
fi

# The module load/unload cycle the other tests rely on.
if check "modprobe dummy" modprobe dummy; then
	check "dummy is listed in /proc/modules" grep -q '^dummy ' /proc/modules
	check "rmmod dummy" rmmod dummy
	if grep -q '^dummy ' /proc/modules; then not_ok "dummy is gone after rmmod"; else ok "dummy is gone after rmmod"; fi
fi

done_testing
