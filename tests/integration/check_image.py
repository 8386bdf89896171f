#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Check `ksymsd --dump` against the kallsyms text it read, with real tools.

    check_image.py KSYMSD [ROOT]

ROOT is a fixture tree (default: the running system). The image must pass
eu-elflint (in --debuginfo mode: see below), and llvm-readelf, GNU readelf and eu-readelf must list every
kallsyms line with its address, binding, type and owner (module). On the
live system kallsyms can change between our read and ksymsd's (bpf programs
come and go), so the dump is retried until the text read before and after it
is the same.
"""
import collections
import os
import re
import subprocess
import sys
import tempfile

BIND = {'LOCAL': 'l', 'GLOBAL': 'g', 'WEAK': 'w'}


def letter_bind_type(c):
    """kallsyms letter -> (bind, type) as readelf prints them."""
    up = c.upper()
    typ = {'T': 'FUNC', 'W': 'FUNC', 'A': 'NOTYPE', 'N': 'NOTYPE', 'U': 'NOTYPE',
           '?': 'NOTYPE'}.get(up, 'OBJECT')
    if up in 'WV':
        bind = 'w'
    elif c.isupper() or c in 'u?':
        bind = 'g'
    else:
        bind = 'l'
    return bind, typ


def read_kallsyms(root):
    with open(os.path.join(root, 'proc/kallsyms'), 'rb') as f:
        return f.read()


def expected(text):
    out = collections.Counter()
    for line in text.decode().splitlines():
        addr, letter, rest = line.split(' ', 2)
        name, _, mod = rest.partition('\t')
        owner = mod[1:-1] if mod else 'vmlinux'
        bind, typ = letter_bind_type(letter)
        out[(owner, name, int(addr, 16), bind, typ)] += 1
    return out


def run(*cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def sections(image):
    """Section index -> owner, from the "owner:.section" names."""
    rc, out = run('llvm-readelf', '-SW', image)
    assert rc == 0, out
    owners = {}
    for m in re.finditer(r'^\s*\[\s*(\d+)\]\s+(\S+)\s+NOBITS', out, re.M):
        name = m.group(2)
        owners[int(m.group(1))] = name.split(':', 1)[0] if ':' in name else 'vmlinux'
    return owners


def listed(image):
    """What llvm-readelf -s says, with owners from STT_FILE and sections."""
    owners = sections(image)
    rc, out = run('llvm-readelf', '-sW', image)
    assert rc == 0, out
    got = collections.Counter()
    file_owner = 'vmlinux'
    n = 0
    for line in out.splitlines():
        f = line.split()
        if len(f) < 8 or not f[0].endswith(':') or not f[0][:-1].isdigit():
            continue
        num, value, size, typ, bind, _vis, ndx, name = f[:8]
        if num == '0:':
            continue
        if typ == 'FILE':
            file_owner = name
            continue
        n += 1
        if bind == 'LOCAL':
            owner = file_owner
        elif ndx.isdigit():
            owner = owners[int(ndx)]
        else:
            owner = '?'  # a global in SHN_ABS: the ELF does not say whose
        got[(owner, name, int(value, 16), BIND[bind], typ)] += 1
    return got, n


def compare(want, got):
    problems = []
    missing = want - got
    extra = got - want
    # ABS globals carry no owner: match them on everything else.
    for key in list(extra):
        if key[0] != '?':
            continue
        for w in list(missing):
            if w[1:] == key[1:]:
                missing[w] -= 1
                extra[key] -= 1
                if missing[w] <= 0:
                    del missing[w]
                if extra[key] <= 0:
                    del extra[key]
                    break
    for k in list(missing)[:5]:
        problems.append('missing from image: %r' % (k,))
    for k in list(extra)[:5]:
        problems.append('not in kallsyms: %r' % (k,))
    return problems


def count_line(tool, image):
    rc, out = run(tool, '-sW' if tool != 'eu-readelf' else '-s', image)
    if rc != 0:
        return None, out
    m = re.search(r"Symbol table '\.symtab' contains (\d+) entries", out) or \
        re.search(r"Symbol table \[\s*\d+\] '\.symtab' contains (\d+) entries", out)
    return (int(m.group(1)) if m else None), out


def sysctl(name):
    try:
        with open('/proc/sys/kernel/' + name) as f:
            return f.read().strip()
    except OSError:
        return '?'


def addresses_hidden(text):
    """Does kallsyms show this user every address as 0? Then ksymsd rightly
    refuses (as the kernel would have it), and there is nothing to check."""
    for line in text.splitlines():
        if int(line.split(b' ', 1)[0], 16) != 0:
            return False
    return True


def main():
    ksymsd = sys.argv[1]
    root = sys.argv[2] if len(sys.argv) > 2 else '/'
    tap = []
    if root == '/' and addresses_hidden(read_kallsyms(root)):
        print('1..0 # SKIP this user sees every /proc/kallsyms address as 0 '
              '(kptr_restrict=%s, perf_event_paranoid=%s, no CAP_SYSLOG): '
              'run as root for the live dump' %
              (sysctl('kptr_restrict'), sysctl('perf_event_paranoid')))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        image = os.path.join(tmp, 'ksyms.elf')
        for attempt in range(10):
            before = read_kallsyms(root)
            args = [ksymsd, '--dump', image] + (['--root', root] if root != '/' else [])
            rc, out = run(*args)
            if rc != 0:
                print('not ok 1 - ksymsd --dump\n# ' + out.replace('\n', '\n# '))
                print('1..1')
                return 1
            if read_kallsyms(root) == before:
                break
        else:
            print('1..0 # SKIP kallsyms never stood still for 10 dumps')
            return 0
        want = expected(before)
        nwant = sum(want.values())
        tap.append((True, 'ksymsd --dump wrote %d bytes (%d kallsyms lines)' %
                    (os.path.getsize(image), nwant), ''))

        # --debuginfo: like a separate debuginfo file, the image describes
        # a binary loaded elsewhere; every section is SHT_NOBITS, yet code
        # keeps SHF_EXECINSTR so nm shows T/t as kallsyms does. Plain
        # elflint wants file contents behind executable sections.
        rc, out = run('eu-elflint', '--gnu-ld', '--debuginfo', image)
        tap.append((rc == 0, 'eu-elflint --gnu-ld --debuginfo passes', out))

        got, n = listed(image)
        problems = compare(want, got)
        tap.append((not problems and n == nwant,
                    'llvm-readelf lists every kallsyms line with address, binding, type, owner '
                    '(%d listed)' % n, '\n'.join(problems)))

        owners_in_order = []
        rc, out = run('llvm-readelf', '-sW', image)
        for line in out.splitlines():
            f = line.split()
            if len(f) >= 8 and f[3] == 'FILE':
                owners_in_order.append(f[7])
        want_owners = ['vmlinux']
        text = before.decode()
        mods_path = os.path.join(root, 'proc/modules')
        if os.path.exists(mods_path):
            with open(mods_path) as f:
                want_owners += [l.split()[0] for l in f.read().splitlines()][::-1]
        tap.append((owners_in_order[:len(want_owners)] == want_owners,
                    'kernel first, then modules in load order (%d owners)' % len(owners_in_order),
                    'got %s\nwant %s' % (owners_in_order[:8], want_owners[:8])))

        for tool in ('readelf', 'eu-readelf'):
            total, out = count_line(tool, image)
            # entries = symbols + null + one STT_FILE per owner
            ok = total == nwant + 1 + len(owners_in_order)
            tap.append((ok, '%s -s on the file lists %s entries' % (tool, total),
                        '' if ok else out[:2000]))

    for i, (ok, desc, diag) in enumerate(tap, 1):
        print('%s %d - %s' % ('ok' if ok else 'not ok', i, desc))
        if diag and not ok:
            for l in diag.splitlines()[:40]:
                print('# ' + l)
    print('1..%d' % len(tap))
    return 0 if all(t[0] for t in tap) else 1


if __name__ == '__main__':
    sys.exit(main())
