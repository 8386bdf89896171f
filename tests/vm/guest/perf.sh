# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=sh
# perf on the image (issue #11): perf matches a --vmlinux file to the
# recording by the kernel's GNU build-id, which the image carries as its
# .notes section. A recording of kernel-heavy work (reading /proc/kallsyms)
# is resolved from /proc/kallsyms, the reference, then from the device
# through the preload, from a copy of the image, and from perf's build-id
# cache holding that copy (the offline workflow: no --vmlinux at all). Each
# must give every kernel sample the reference's symbol and offset, sample by
# sample (perf script -F ip,sym,symoff), or where kallsyms lists several
# names at that symbol's address, one of them: perf picks among aliases by
# their sizes, which it makes up for kallsyms (each alias but the last gets
# size 0, so the last listed wins) and reads from an ELF file (all share
# one: fewer leading underscores win, then the longer name), as with a real
# vmlinux. Without the build-id in the image perf refuses the file ("...
# with build id ... not found") and leaves the samples unresolved, so these
# comparisons fail. The build-ids themselves: the
# image's, /sys/kernel/notes' and the recording's are one; a module's in
# the image is its /sys/module/<m>/notes/.note.gnu.build-id.
. /usr/lib/ksymsd-vm/lib.sh

PRELOAD=/usr/lib/libksyms-preload.so
for p in ksymsd perf readelf; do
	command -v "$p" >/dev/null || skip_all "$p is not in the image"
done
[ -f "$PRELOAD" ] || bail "$PRELOAD is not in the image (run --file)"
export HOME=$T/home # perf's build-id cache: ~/.debug
mkdir -p "$HOME"
export KSYMS_PRELOAD_DEVICE=/dev/ksyms

# The GNU build-id (type 3, name "GNU") in a file of raw notes, as hex:
# little-endian headers, as on x86.
notes_build_id() {
	od -An -tx1 -v "$1" | tr -d ' \n' |
		sed -n 's/.*040000001400000003000000474e5500\([0-9a-f]\{40\}\).*/\1/p'
}

# The build-id that readelf -n shows for section SECTION of FILE.
image_build_id() {
	LD_PRELOAD=$PRELOAD readelf -n "$1" 2>/dev/null |
		awk -v sec="$2" '/^Displaying notes found in: / { cur = $NF }
			cur == sec && $1 == "Build" && $2 == "ID:" { print $3; exit }'
}

serve_or_done "ksymsd serves /dev/ksyms"

# Kernel-heavy work on every CPU: most samples are in vmlinux.
perf record -a -e cpu-clock -N -o "$T/perf.data" -- \
	sh -c 'cat /proc/kallsyms >/dev/null' \
	>"$T/record.log" 2>&1 || bail "perf record failed: $(cat "$T/record.log")"
diag "$(tail -n 1 "$T/record.log")"

# Build-ids.
kernel_id=$(notes_build_id /sys/kernel/notes)
[ -n "$kernel_id" ] || bail "no GNU build-id in /sys/kernel/notes"
is "$(image_build_id /dev/ksyms .notes)" "$kernel_id" \
	"readelf -n: the image's .notes has the build-id of /sys/kernel/notes"
is "$(perf buildid-list -i "$T/perf.data" 2>/dev/null | awk '$2 == "[kernel.kallsyms]" { print $1 }')" \
	"$kernel_id" "perf buildid-list: the recording's kernel build-id is the same"
# cuse is a module on every kernel here, and loaded: the daemon needs it.
mod_id=$(notes_build_id /sys/module/cuse/notes/.note.gnu.build-id)
[ -n "$mod_id" ] || bail "no GNU build-id in /sys/module/cuse/notes/.note.gnu.build-id"
is "$(image_build_id /dev/ksyms cuse:.note.gnu.build-id)" "$mod_id" \
	"readelf -n: cuse:.note.gnu.build-id is /sys/module/cuse/notes/.note.gnu.build-id"

# kernel_samples OUT PRELOAD PERF-SCRIPT-ARGS...: the samples in vmlinux,
# as "ip symbol offset" lines, in recording order; perf's stderr in
# OUT.err. PRELOAD: the preload library, or "" for none.
kernel_samples() {
	_out=$1 _pre=$2
	shift 2
	env ${_pre:+LD_PRELOAD=$_pre} perf script -i "$T/perf.data" -F ip,sym,symoff,dso "$@" \
		2>"$_out.err" |
		awk '$NF == "([kernel.kallsyms])" { i = match($2, /\+0x[0-9a-f]+$/)
			if (i) print $1, substr($2, 1, i - 1), substr($2, i + 1)
			else print $1, $2, "-" }' >"$_out"
}

kernel_samples "$T/ref" "" --kallsyms /proc/kallsyms
n=$(wc -l <"$T/ref")
unresolved=$(grep -c ' \[unknown\] ' "$T/ref")
if [ "$n" -ge 100 ] && [ "$unresolved" -eq 0 ]; then
	ok "reference (--kallsyms /proc/kallsyms): $n kernel samples, all resolved"
else
	not_ok "reference (--kallsyms /proc/kallsyms): at least 100 kernel samples, all resolved"
	diag "$n samples, $unresolved unresolved" "$(head -n 5 "$T/ref.err")"
fi

# same_samples DESC FILE: FILE has the reference's samples, line for line,
# each with the same symbol and offset, or an alias at the same address.
cp /proc/kallsyms "$T/kallsyms"
same_samples() {
	_res=$(awk -v ref="$T/ref" -v ks="$T/kallsyms" '
		BEGIN { while ((getline l < ks) > 0) { split(l, f, " "); at[f[3]] = at[f[3]] " " f[1] " " } }
		# Do names a and b share an address in kallsyms?
		function alias(a, b,   n, v, i) {
			n = split(at[a], v, " ")
			for (i = 1; i <= n; i++)
				if (index(at[b], " " v[i] " ")) return 1
			return 0
		}
		{ if ((getline r < ref) <= 0) { bad++; next }
		  split(r, w, " ")
		  if (w[1] != $1 || w[3] != $3 || $3 == "-") bad++
		  else if (w[2] == $2) same++
		  else if (alias(w[2], $2)) { aliases++; if (!shown++) ex = w[2] " / " $2 }
		  else bad++ }
		END { if ((getline r < ref) > 0) bad++
		      printf "%d %d %d %s\n", same, aliases, bad, ex }' "$2")
	set -- "$1" "$2" $_res
	if [ "$5" -eq 0 ] && [ $(($3 + $4)) -eq "$n" ]; then
		ok "$1: each of the $n kernel samples in the same symbol as --kallsyms ($4 in an alias${6:+, e.g. $6 $7 $8})"
	else
		not_ok "$1: each of the $n kernel samples in the same symbol as --kallsyms"
		diag "$3 the same, $4 aliases, $5 different; first differences (reference first):" \
			"$(diff "$T/ref" "$2" | head -n 8)" "perf said: $(head -n 5 "$2.err")"
	fi
}

kernel_samples "$T/dev" "$PRELOAD" --vmlinux /dev/ksyms
same_samples "perf script --vmlinux /dev/ksyms (preload)" "$T/dev"

cat /dev/ksyms >"$T/ksyms.elf" || bail "cannot copy /dev/ksyms"
kernel_samples "$T/copy" "" --vmlinux "$T/ksyms.elf"
same_samples "perf script --vmlinux on a copy of the image" "$T/copy"

# perf report too, restricted to vmlinux (modules' samples would be
# resolved from their .ko files under --vmlinux, from kallsyms otherwise):
# the same lines, up to aliases (above).
report() {
	_pre=$1
	shift
	env ${_pre:+LD_PRELOAD=$_pre} perf report -i "$T/perf.data" --stdio -q --sort sym --dsos '[kernel.kallsyms]' "$@" 2>/dev/null
}
report "" --kallsyms /proc/kallsyms >"$T/report.ref"
report "$PRELOAD" --vmlinux /dev/ksyms >"$T/report.dev"
# Each line as "percentage name", the name replaced by the first name kallsyms
# lists at its address, sorted.
canonical_report() {
	awk -v ks="$T/kallsyms" '
		BEGIN { while ((getline l < ks) > 0) { split(l, f, " ")
				if (f[1] != last) { first = f[3]; last = f[1] }
				if (!(f[3] in canon)) canon[f[3]] = first } }
		{ print $1, ($3 in canon) ? canon[$3] : $3 }' "$1" | sort
}
canonical_report "$T/report.ref" >"$T/report.ref.c"
canonical_report "$T/report.dev" >"$T/report.dev.c"
report_diff=$(diff "$T/report.ref.c" "$T/report.dev.c")
if [ -s "$T/report.ref" ] && [ -z "$report_diff" ]; then
	ok "perf report --vmlinux /dev/ksyms (preload) equals perf report --kallsyms ($(wc -l <"$T/report.ref") symbols)"
else
	not_ok "perf report --vmlinux /dev/ksyms (preload) equals perf report --kallsyms"
	diag "$(echo "$report_diff" | head -n 8)"
fi

# Offline: the copy in perf's build-id cache, found by the recording's
# build-id, with no --vmlinux (what perf archive users do elsewhere).
if perf buildid-cache --add "$T/ksyms.elf" >"$T/cache.log" 2>&1; then
	ok "perf buildid-cache --add takes the image"
else
	not_ok "perf buildid-cache --add takes the image"
	diag "$(cat "$T/cache.log")"
fi
kernel_samples "$T/cached" "" -v
want="Using $HOME/.debug/.build-id/$(echo "$kernel_id" | cut -c1-2)/$(echo "$kernel_id" | cut -c3-)/elf for symbols"
if grep -qF "$want" "$T/cached.err"; then
	ok "perf script without --vmlinux takes the cached image by build-id"
else
	not_ok "perf script without --vmlinux takes the cached image by build-id"
	diag "want: $want" "$(grep -i 'using\|build id' "$T/cached.err" | head -n 5)"
fi
same_samples "perf script from the build-id cache" "$T/cached"

kill "$KSYMSD_PID" 2>/dev/null
wait "$KSYMSD_PID" 2>/dev/null
done_testing
