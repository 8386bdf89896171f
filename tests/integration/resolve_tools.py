#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Address resolvers on an image: TAP output.

Usage: resolve_tools.py KSYMSD [ROOT]

Takes an image with `ksymsd --dump` (of ROOT, a fixture tree, or of this
machine's kernel) and asks gdb (`info symbol`) and `eu-addr2line -S -e` to
name addresses spread over the kernel and every module: the start of a
symbol and one byte into it. Each answer must be the kallsyms symbol at
that address, or another name kallsyms lists at the same address (an alias:
each tool picks its own), with the right offset.

On this machine's kernel, as root and with perf installed, also what users
of `perf report --vmlinux` need (issue #11): a recording of kernel work,
resolved with --vmlinux on the image, must give each kernel sample the
symbol (or an alias) and offset that --kallsyms /proc/kallsyms gives; and
perf must have taken the image by the kernel's build-id, which only its
notes carry. The same in the VM on Debian's kernels: tests/vm/guest/perf.sh.
"""
import os
import re
import subprocess
import sys
import tempfile

SAMPLES = 60  # addresses asked of each tool


def run(*cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    return p.returncode, p.stdout, p.stderr


def kallsyms(root):
    """[(addr, name, module)] in kallsyms order, and addr -> set of names."""
    with open(os.path.join(root, 'proc/kallsyms')) as f:
        lines = [l.split() for l in f]
    syms, at = [], {}
    for f in lines:
        addr = int(f[0], 16)
        syms.append((addr, f[2], f[3][1:-1] if len(f) > 3 else 'vmlinux', f[1]))
        at.setdefault(addr, set()).add(f[2])
    return syms, at


def pick(syms):
    """Addresses to ask: text and data symbols of the kernel and of each
    module, spread evenly, each at its start and one byte in (when the next
    address is further on)."""
    addrs = sorted({a for a, _, _, _ in syms})
    nxt = {a: b for a, b in zip(addrs, addrs[1:])}
    cands = [s for s in syms if s[3] in 'TtDdRrBb' and s[0] and not s[1].startswith('__pfx_')]
    by_owner = {}
    for s in cands:
        by_owner.setdefault(s[2], []).append(s)
    chosen = []
    for owner, lst in by_owner.items():
        want = max(2, SAMPLES * len(lst) // max(1, len(cands)))
        step = max(1, len(lst) // want)
        chosen += lst[::step][:want]
    out = []
    for a, name, owner, _ in chosen:
        out.append((a, 0))
        if nxt.get(a, a) > a + 1:
            out.append((a + 1, 1))
    return out


def check_answers(tool, asked, answers, at):
    """TAP line for one tool's answers: [(name, offset)] per address."""
    bad = []
    aliases = 0
    for (addr, off), got in zip(asked, answers):
        start = addr - off
        if got is None or got[1] != off or got[0] not in at.get(start, ()):
            bad.append('%#x: %s (want one of %s +%d)' % (addr, got, sorted(at.get(start, ()))[:4], off))
        elif len(at[start]) > 1:
            aliases += 1
    if len(answers) != len(asked):
        bad.append('%d answers for %d addresses' % (len(answers), len(asked)))
    return (not bad, '%s names %d addresses as kallsyms does (%d at an address with aliases)' %
            (tool, len(asked), aliases), '\n'.join(bad[:8]))


def gdb_answers(image, asked):
    cmds = []
    for addr, _ in asked:
        cmds += ['-ex', 'info symbol %#x' % addr]
    # Raw names: gdb would decode "types__get_mempolicy" as Ada, say.
    rc, out, err = run('gdb', '-nx', '-batch', '-ex', 'set print demangle off', *cmds, image)
    answers = []
    for line in out.splitlines():
        m = re.match(r'^(\S+)(?: \+ (\d+))? in section ', line)
        if m:
            answers.append((m.group(1), int(m.group(2) or 0)))
        elif line.startswith('No symbol matches'):
            answers.append(None)
    return answers


def addr2line_answers(image, asked):
    rc, out, err = run('eu-addr2line', '-S', '-e', image, *['%#x' % a for a, _ in asked])
    answers = []
    for line in out.splitlines():
        if line.startswith('??:') or re.match(r'^\S+:\d+$', line):
            continue  # the source line, which the image has not
        m = re.match(r'^(\S+?)(?:\+(0x[0-9a-f]+))?$', line)
        answers.append((m.group(1), int(m.group(2) or '0', 16)) if m and m.group(1) != '??'
                       else None)
    return answers


def perf_checks(ksymsd, image, tmp, at):
    """perf record on this machine, resolved from the image and from kallsyms."""
    tap = []
    data = os.path.join(tmp, 'perf.data')
    rc, out, err = run('perf', 'record', '-a', '-e', 'cpu-clock', '-N', '-o', data, '--',
                       'sh', '-c', 'cat /proc/kallsyms >/dev/null')
    if rc != 0:
        return [(None, 'perf record', 'perf record failed here: ' + err.strip().splitlines()[-1])]

    def samples(*args):
        rc, out, err = run('perf', 'script', '-i', data, '-F', 'ip,sym,symoff,dso', *args,
                           env=dict(os.environ, HOME=tmp))
        res = []
        for line in out.splitlines():
            f = line.split()
            if len(f) == 3 and f[2] == '([kernel.kallsyms])':
                m = re.match(r'^(.*)\+(0x[0-9a-f]+)$', f[1])
                res.append((int(f[0], 16), m.group(1), int(m.group(2), 16)) if m else
                           (int(f[0], 16), f[1], None))
        return res, err

    ref, _ = samples('--kallsyms', '/proc/kallsyms')
    got, err = samples('-v', '--vmlinux', image)
    tap.append((len(ref) >= 20 and all(s[2] is not None for s in ref),
                'perf script --kallsyms: %d kernel samples, all resolved' % len(ref), ''))
    tap.append(('Using %s for symbols' % image in err,
                'perf script --vmlinux takes the image (its build-id is the recording\'s)',
                '\n'.join(l for l in err.splitlines() if 'build id' in l or 'vmlinux' in l)[:800]))
    bad, aliases = [], 0
    for r, g in zip(ref, got):
        if r[0] != g[0] or r[2] != g[2] or g[2] is None:
            bad.append('%s | %s' % (r, g))
        elif r[1] != g[1]:
            if g[1] in at.get(r[0] - r[2], ()):
                aliases += 1
            else:
                bad.append('%s | %s' % (r, g))
    if len(ref) != len(got):
        bad.append('%d samples, %d with the image' % (len(ref), len(got)))
    tap.append((not bad, 'perf script --vmlinux IMAGE: each of %d kernel samples in the same '
                'symbol as --kallsyms (%d in an alias)' % (len(ref), aliases), '\n'.join(bad[:8])))
    return tap


def main():
    ksymsd = sys.argv[1]
    root = sys.argv[2] if len(sys.argv) > 2 else '/'
    live = root == '/'
    tap = []
    if live and os.geteuid() != 0:
        print('1..0 # SKIP this machine\'s kernel needs root (addresses, perf)')
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        image = os.path.join(tmp, 'ksyms.elf')
        # On the live kernel, kallsyms can change between our read and
        # ksymsd's: retry until both agree.
        for _ in range(10):
            syms, at = kallsyms(root)
            rc, out, err = run(ksymsd, '--dump', image, *([] if live else ['--root', root]))
            if rc != 0:
                print('not ok 1 - ksymsd --dump\n# ' + err.replace('\n', '\n# '))
                print('1..1')
                return 1
            if kallsyms(root)[0] == syms:
                break
        if not any(a for a, _, _, _ in syms):
            print('1..0 # SKIP kallsyms shows no addresses here')
            return 0
        asked = pick(syms)
        for tool, answers in (('gdb', gdb_answers), ('eu-addr2line', addr2line_answers)):
            if run('sh', '-c', 'command -v ' + tool)[0] != 0:
                tap.append((None, tool, tool + ' is not installed'))
                continue
            tap.append(check_answers(tool, asked, answers(image, asked), at))
        if live:
            if run('sh', '-c', 'command -v perf')[0] != 0:
                tap.append((None, 'perf', 'perf is not installed (linux-perf)'))
            else:
                tap += perf_checks(ksymsd, image, tmp, at)
    for i, (ok, desc, diag) in enumerate(tap, 1):
        if ok is None:
            print('ok %d - %s # SKIP %s' % (i, desc, diag))
            continue
        print('%s %d - %s' % ('ok' if ok else 'not ok', i, desc))
        if not ok and diag:
            print('# ' + diag.replace('\n', '\n# '))
    print('1..%d' % len(tap))
    return 0 if all(ok is not False for ok, _, _ in tap) else 1


if __name__ == '__main__':
    sys.exit(main())
