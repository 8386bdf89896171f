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

Notes: the image's SHT_NOTE sections must be the tree's notes byte for byte
(".notes" = sys/kernel/notes, with a PT_NOTE over it; "<module>:<file>" =
sys/module/<module>/notes/<file> for each module in the image), `readelf -n`
must show the kernel's build-id, and a tree without notes gives an image
without any. Every section name is there once (a module section with a
notes file is the SHT_NOTE, not also a NOBITS section).
"""
import collections
import os
import re
import struct
import subprocess
import sys
import tempfile

SHT_NOTE = 7
PT_NOTE = 4
# eu-elflint knows only GNU's note types in an executable: the kernel's Xen
# and Linux notes, copied as they are, are all it may say about them.
ELFLINT_NOTE_TYPES = re.compile(r"unknown object file note type \d+ with owner name '(Xen|Linux)'")

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
    for m in re.finditer(r'^\s*\[\s*(\d+)\]\s+(\S+)\s+(?:NOBITS|NOTE)', out, re.M):
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


def elf_tables(image):
    """Section name -> (type, offset, size), and the program headers' (type, offset, filesz)."""
    with open(image, 'rb') as f:
        data = f.read()
    is64 = data[4] == 2
    end = '<' if data[5] == 1 else '>'
    if is64:
        phoff, shoff = struct.unpack_from(end + 'QQ', data, 32)
        phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from(end + 'HHHHH', data, 54)
    else:
        phoff, shoff = struct.unpack_from(end + 'II', data, 28)
        phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from(end + 'HHHHH', data, 42)

    def shdr(i):
        o = shoff + i * shentsize
        if is64:
            name, typ, _fl, _addr, off, size = struct.unpack_from(end + 'IIQQQQ', data, o)
        else:
            name, typ, _fl, _addr, off, size = struct.unpack_from(end + 'IIIIII', data, o)
        return name, typ, off, size

    _, _, stroff, _ = shdr(shstrndx)
    secs = collections.defaultdict(list)
    for i in range(1, shnum):
        name, typ, off, size = shdr(i)
        nm = data[stroff + name:data.index(b'\0', stroff + name)].decode()
        secs[nm].append((typ, off, size))
    phdrs = []
    for i in range(phnum):
        o = phoff + i * phentsize
        if is64:
            typ, _fl, off, _va, _pa, filesz = struct.unpack_from(end + 'IIQQQQ', data, o)
        else:
            typ, off, _va, _pa, filesz = struct.unpack_from(end + 'IIIII', data, o)
        phdrs.append((typ, off, filesz))
    return data, secs, phdrs, end


def build_id(notes, end):
    """The GNU build-id in a notes blob, as hex, or None."""
    off = 0
    while off + 12 <= len(notes):
        namesz, descsz, typ = struct.unpack_from(end + 'III', notes, off)
        name = notes[off + 12:off + 12 + namesz]
        desc_off = off + 12 + (namesz + 3) // 4 * 4
        if name == b'GNU\0' and typ == 3:
            return notes[desc_off:desc_off + descsz].hex()
        off = desc_off + (descsz + 3) // 4 * 4
    return None


def read_bytes(path):
    try:
        with open(path, 'rb') as f:
            return f.read()
    except OSError:
        return None


def check_notes(image, root, owners):
    """TAP lines for the notes: the image's against the tree's files."""
    tap = []
    data, secs, phdrs, end = elf_tables(image)
    notes = {n: v for n, v in secs.items() if any(t == SHT_NOTE for t, _, _ in v)}

    def note_bytes(name):
        for typ, off, size in secs.get(name, []):
            if typ == SHT_NOTE:
                return data[off:off + size]
        return None

    kernel = read_bytes(os.path.join(root, 'sys/kernel/notes')) or None
    want = {}
    if kernel:
        want['.notes'] = kernel
    for mod in owners[1:]:
        d = os.path.join(root, 'sys/module', mod, 'notes')
        if os.path.isdir(d):
            for f in os.listdir(d):
                b = read_bytes(os.path.join(d, f))
                if b:
                    want['%s:%s' % (mod, f)] = b
    bad = [n for n in want if note_bytes(n) != want[n]]
    extra = [n for n in notes if n not in want]
    tap.append((not bad and not extra,
                'SHT_NOTE sections equal the tree\'s notes files byte for byte (%d sections)' %
                len(want), 'differ or missing: %s\nnot in the tree: %s' % (bad[:5], extra[:5])))
    # A module's notes file is its section of that name: no NOBITS twin.
    dups = [n for n, v in secs.items() if len(v) > 1]
    tap.append((not dups, 'each section name once (%d sections)' % len(secs),
                'more than once: %s' % dups[:5]))
    ptnotes = [(off, size) for typ, off, size in phdrs if typ == PT_NOTE]
    if kernel:
        off = [o for t, o, _ in secs['.notes'] if t == SHT_NOTE]
        tap.append((ptnotes == [(off[0] if off else None, len(kernel))],
                    'one PT_NOTE, over .notes', 'PT_NOTEs: %s' % ptnotes))
        bid = build_id(kernel, end)
        for tool in ('readelf', 'eu-readelf', 'llvm-readelf'):
            rc, out = run(tool, '-n', image)
            ok = rc == 0 and bid is not None and re.search(r'Build ID: ' + bid, out) is not None
            tap.append((ok, '%s -n shows the kernel\'s build-id %s' % (tool, bid), out[:1500]))
        mods = [m for m in owners[1:] if '%s:.note.gnu.build-id' % m in want]
        if mods:
            m = mods[0]
            mbid = build_id(want['%s:.note.gnu.build-id' % m], end)
            rc, out = run('readelf', '-n', image)
            sec = re.search(r"notes found in: %s:\.note\.gnu\.build-id\n.*?Build ID: (\w+)" %
                            re.escape(m), out, re.S)
            tap.append((sec is not None and sec.group(1) == mbid,
                        'readelf -n shows %s\'s build-id %s' % (m, mbid), out[-1500:]))
    else:
        tap.append((not ptnotes, 'no PT_NOTE without kernel notes', 'PT_NOTEs: %s' % ptnotes))
    return tap


def count_line(tool, image):
    rc, out = run(tool, '-sW' if tool != 'eu-readelf' else '-s', image)
    if rc != 0:
        return None, out
    m = re.search(r"Symbol table '\.symtab' contains (\d+) entries", out) or \
        re.search(r"Symbol table \[\s*\d+\] '\.symtab' contains (\d+) entries", out)
    return (int(m.group(1)) if m else None), out


def main():
    ksymsd = sys.argv[1]
    root = sys.argv[2] if len(sys.argv) > 2 else '/'
    tap = []
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
        lines = [l for l in out.splitlines() if l.strip() and
                 not l.startswith('No errors') and not ELFLINT_NOTE_TYPES.search(l)]
        tap.append((rc == 0 or not lines,
                    'eu-elflint --gnu-ld --debuginfo finds nothing but the kernel\'s own note types',
                    '\n'.join(lines)))

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

        tap += check_notes(image, root, owners_in_order)

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
