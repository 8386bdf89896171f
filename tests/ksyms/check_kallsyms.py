#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""`ksyms kallsyms` and `ksyms modules` against the kernel's own text.

    check_kallsyms.py KSYMS KSYMSD ROOT [--exact-letters]

ROOT is a fixture tree, or / for this machine's kernel (as root, with real
addresses; otherwise exit 77 saying why). An image is made with
`ksymsd --dump` (on the live kernel, again until /proc/kallsyms reads the
same before and after it), then:

- `ksyms kallsyms -f IMAGE` must be ROOT/proc/kallsyms as a set of lines
  (address, name, [module], the tab before it), with every type letter
  the kernel's or, where the image does not record them (no
  .kallsyms.types), one ksymsd maps to the same ELF binding and type;
  --exact-letters: the kernel's.
- its owners come in the kernel's order: vmlinux, modules newest first,
  then the pseudo-modules;
- `ksyms --json modules` lists the owners in load order, each with as many
  symbols as kallsyms has lines for it, and (fixtures) the build-id of the
  tree's notes files.
Exit 0 when all hold, 1 with the differences on stdout.
"""
import collections
import json
import os
import struct
import subprocess
import sys
import tempfile


def letter_elf(c):
    """src/engine/model.c ks_letter_to_elf(): letter -> (bind, type)."""
    up = c.upper()
    typ = {'T': 'FUNC', 'W': 'FUNC', 'A': 'NOTYPE', 'N': 'NOTYPE', 'U': 'NOTYPE',
           '?': 'NOTYPE'}.get(up, 'OBJECT')
    if up in 'WV':
        return 'WEAK', typ
    return ('GLOBAL' if c.isupper() or c in 'u?' else 'LOCAL'), typ


def split(line):
    addr, letter, rest = line.split(' ', 2)
    return addr, letter, rest


def owner_of(rest):
    return rest.split('\t[', 1)[1].rstrip(']') if '\t[' in rest else 'vmlinux'


def build_id(path):
    try:
        data = open(path, 'rb').read()
    except OSError:
        return None
    off = 0
    while off + 12 <= len(data):
        namesz, descsz, typ = struct.unpack_from('<III', data, off)
        name_off = off + 12
        desc_off = name_off + ((namesz + 3) & ~3)
        if typ == 3 and data[name_off:name_off + namesz] == b'GNU\0':
            return data[desc_off:desc_off + descsz].hex()
        off = desc_off + ((descsz + 3) & ~3)
    return None


def main():
    ksyms, ksymsd, root = sys.argv[1:4]
    exact = '--exact-letters' in sys.argv[4:]
    live = root == '/'
    kpath = os.path.join(root, 'proc/kallsyms')
    if live and os.geteuid() != 0:
        print('SKIP: comparing with /proc/kallsyms needs root (real addresses)')
        return 77
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        img = os.path.join(tmp, 'image.elf')
        for _ in range(10):
            before = open(kpath).read()
            args = [ksymsd, '--dump', img] + ([] if live else ['--root', root])
            p = subprocess.run(args, capture_output=True, text=True)
            if p.returncode != 0:
                if live and 'zero' in p.stderr:
                    print('SKIP: addresses are hidden here: ' + p.stderr.strip())
                    return 77
                print('ksymsd --dump failed: ' + p.stderr)
                return 1
            if open(kpath).read() == before:
                break
        else:
            print('SKIP: /proc/kallsyms never stood still for 10 dumps')
            return 77
        if live and all(l.startswith('0' * 8) for l in before.splitlines()[:100]):
            print('SKIP: /proc/kallsyms shows no addresses here')
            return 77
        out = subprocess.run([ksyms, '-f', img, 'kallsyms'], capture_output=True, text=True)
        mods = subprocess.run([ksyms, '-f', img, '--json', 'modules'], capture_output=True,
                              text=True)
    if out.returncode != 0 or mods.returncode != 0:
        print('ksyms failed: ' + out.stderr + mods.stderr)
        return 1
    want = before.splitlines()
    got = out.stdout.splitlines()

    # The lines up to their letter, as multisets; then the letters.
    def keyed(lines):
        c = collections.Counter()
        for l in lines:
            a, letter, rest = split(l)
            c[(a, rest)] += 1
        return c
    kw, kg = keyed(want), keyed(got)
    missing, extra = kw - kg, kg - kw
    for (a, rest), n in list(missing.items())[:20]:
        problems.append('only in kallsyms: %s %s (x%d)' % (a, rest, n))
    for (a, rest), n in list(extra.items())[:20]:
        problems.append('only in ksyms:    %s %s (x%d)' % (a, rest, n))
    wl = collections.Counter(want)
    gl = collections.Counter(got)
    differ = sum((wl - gl).values())
    # The letters of each (address, rest): equal, or equal for ELF.
    bykey = collections.defaultdict(lambda: ([], []))
    for l in want:
        a, letter, rest = split(l)
        bykey[(a, rest)][0].append(letter)
    for l in got:
        a, letter, rest = split(l)
        bykey[(a, rest)][1].append(letter)
    unlike = 0
    for key, (lw, lg) in bykey.items():
        if sorted(letter_elf(c) for c in lw) != sorted(letter_elf(c) for c in lg):
            unlike += 1
            if unlike <= 10:
                problems.append('letters %s vs %s: %s %s' % (lw, lg, key[0], key[1]))
    print('%d lines; %d with another letter than the kernel\'s (same ELF binding and type: '
          '%s)' % (len(want), differ, 'all' if not unlike else 'not %d' % unlike))
    if exact and differ:
        problems.append('%d letters differ from the kernel\'s' % differ)

    def owner_runs(lines):
        runs = []
        for l in lines:
            o = owner_of(split(l)[2])
            if not runs or runs[-1] != o:
                runs.append(o)
        return runs
    # The kernel lists dynamic code in the order it was made; the image
    # keeps the order of first sight: compare the modules part.
    if owner_runs(got) != owner_runs(want):
        problems.append('owners in another order:\n  kallsyms %s\n  ksyms    %s' %
                        (owner_runs(want)[:12], owner_runs(got)[:12]))

    owners = json.loads(mods.stdout)
    counts = collections.Counter(owner_of(split(l)[2]) for l in want)
    mod_file = os.path.join(root, 'proc/modules')
    loaded = [l.split()[0] for l in open(mod_file).read().splitlines()][::-1] \
        if os.path.exists(mod_file) else []
    names = [o['name'] for o in owners if o['kind'] != 'pseudo']
    # A module read in a changing tree may be left out: the image's modules
    # are the loaded ones in load order, less those.
    if names[0] != 'vmlinux' or [n for n in loaded if n in names] != names[1:]:
        problems.append('modules %s not the loaded ones in load order %s' %
                        (names[:8], loaded[:8]))
    for o in owners:
        if o['symbols'] != counts.get(o['name'], 0):
            problems.append('%s: %d symbols, kallsyms has %d lines' %
                            (o['name'], o['symbols'], counts.get(o['name'], 0)))
        if live:
            continue
        notes = os.path.join(root, 'sys/kernel/notes') if o['kind'] == 'kernel' else \
            os.path.join(root, 'sys/module', o['name'], 'notes/.note.gnu.build-id')
        if o['build_id'] != build_id(notes):
            problems.append('%s: build-id %s, the tree has %s' %
                            (o['name'], o['build_id'], build_id(notes)))
    with_ids = sum(1 for o in owners if o['build_id'])
    print('%d owners, %d with a build-id' % (len(owners), with_ids))
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
