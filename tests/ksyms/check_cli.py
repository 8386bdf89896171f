#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""ksyms(1) end to end: the real binary on an image of the mini fixture.

    check_cli.py KSYMS KSYMSD FIXTURES

The image is made with `ksymsd --root FIXTURES/mini --dump`; every answer
below follows from the fixture's proc/kallsyms and its module sections
(sizes are the distance to the owner's next symbol or section end). TAP.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

TAP = []


def check(ok, desc, diag=''):
    TAP.append((bool(ok), desc, diag))


def run(*args, stdin=None, stdout=subprocess.PIPE):
    p = subprocess.run(list(args), input=stdin, stdout=stdout, stderr=subprocess.PIPE,
                       text=True)
    return p.returncode, p.stdout or '', p.stderr


def other_targets(ksyms, ksymsd, mini, tmp, img):
    """Images of other machines: mini as s390x (64-bit big-endian) must read
    as on x86_64; mini with 32-bit addresses as i686 must give 8-digit lines."""
    be = os.path.join(tmp, 'be')
    shutil.copytree(mini, be)
    with open(os.path.join(be, 'uname-m'), 'w') as f:
        f.write('s390x\n')
    be_img = os.path.join(tmp, 'be.elf')
    subprocess.run([ksymsd, '--root', be, '--dump', be_img], check=True)
    outs = [run(ksyms, '-f', i, 'kallsyms')[1] + run(ksyms, '-f', i, '--json', 'modules')[1] +
            run(ksyms, '-f', i, 'addr', 'ffffffffc0000104')[1] for i in (be_img, img)]
    check(outs[0] == outs[1] and 'mod_a_fn2+0x4/0xf00 [moda]' in outs[0],
          'a big-endian image (s390x) answers as the x86_64 one', outs[0][:400])

    m32 = os.path.join(tmp, 'm32')
    shutil.copytree(mini, m32)
    with open(os.path.join(m32, 'uname-m'), 'w') as f:
        f.write('i686\n')
    for d, _, files in os.walk(m32):
        for name in files:
            path = os.path.join(d, name)
            text = open(path).read()
            text = re.sub(r'(0x)?ffffffff([0-9a-f]{8})', r'\1\2', text)
            text = re.sub(r'(?m)^00000000([0-9a-f]{8}) ', r'\1 ', text)
            open(path, 'w').write(text)
    m32_img = os.path.join(tmp, 'm32.elf')
    subprocess.run([ksymsd, '--root', m32, '--dump', m32_img], check=True)
    rc, out, err = run(ksyms, '-f', m32_img, 'kallsyms')
    want = sorted(l.split(' ', 2)[0] + ' ' + l.split(' ', 2)[2]
                  for l in open(os.path.join(m32, 'proc/kallsyms')).read().splitlines())
    got = sorted(l.split(' ', 2)[0] + ' ' + l.split(' ', 2)[2] for l in out.splitlines())
    rc2, out2, _ = run(ksyms, '-f', m32_img, 'addr', 'c0000104', '0x81000015')
    check(rc == 0 and got == want and rc2 == 0 and
          out2 == 'mod_a_fn2+0x4/0xf00 [moda]\nweak_fn+0x5/0x10 [vmlinux]\n',
          'a 32-bit image (i686): 8-digit kallsyms lines, lookups', out[:400] + out2 + err)


def main():
    ksyms, ksymsd, fixtures = sys.argv[1:4]
    with tempfile.TemporaryDirectory() as tmp:
        img = os.path.join(tmp, 'mini.elf')
        rc, _, err = run(ksymsd, '--root', os.path.join(fixtures, 'mini'), '--dump', img)
        if rc != 0:
            print('not ok 1 - ksymsd --dump\n# ' + err)
            print('1..1')
            return 1
        k = [ksyms, '-f', img]

        rc, out, err = run(*k, 'addr', 'ffffffff81000015', '0xffffffffc0000104')
        check(rc == 0 and out == 'weak_fn+0x5/0x10 [vmlinux]\nmod_a_fn2+0x4/0xf00 [moda]\n',
              'addr: NAME+OFF/SIZE [OWNER], one line per address, 0x optional',
              out + err)
        rc, out, err = run(*k, 'addr', 'ffffffff81000015', '0xffffffff90000000')
        check(rc == 1 and out == 'weak_fn+0x5/0x10 [vmlinux]\n??\n' and
              '0xffffffff90000000' in err,
              'addr: an address no symbol holds is ?? (one line still), named on stderr, exit 1',
              out + err)
        rc, out, err = run(*k, 'addr', '0x11')
        check(rc == 0 and out == '__per_cpu_start+0x11/0x40 [vmlinux]\n',
              'addr: asked for, a per-CPU offset resolves to its SHN_ABS symbol', out + err)
        rc, out, err = run(*k, 'addr', 'xyz')
        check(rc == 2 and out == '' and "'xyz'" in err and "Try 'ksyms --help'" in err,
              'addr: not an address is bad usage, exit 2, nothing printed', out + err)

        trace = ('ffffffffc0100810\n'
                 '[   12.345678] ? 0xffffffffc0100004 foo+0x10/0x20\n'
                 '[<ffffffff81000015>] x+0x5/0x10\n'
                 'RSP: 0018:00000040 EFLAGS: 00010246\n'
                 '  0xdeadbeef00000000 stays\n'
                 'no newline at the end')
        want = ('bpf_prog_def_g+0x10/0x800 [bpf]\n'
                '[   12.345678] ? bpf_prog_abc_f+0x4/0x800 [bpf] foo+0x10/0x20\n'
                '[<weak_fn+0x5/0x10 [vmlinux]>] x+0x5/0x10\n'
                'RSP: 0018:00000040 EFLAGS: 00010246\n'
                '  0xdeadbeef00000000 stays\n'
                'no newline at the end')
        rc, out, err = run(*k, 'addr', stdin=trace)
        check(rc == 0 and out == want,
              'addr from stdin: an address line is looked up, trace lines resolved in place '
              '(offsets, per-CPU numbers, unknown addresses left alone)',
              'got:\n%s\nwant:\n%s\n%s' % (out, want, err))
        rc, out, err = run(*k, 'addr', stdin='ffffffff90000000\n')
        check(rc == 1 and out == '??\n', 'addr from stdin: a line asking for a missing address '
              'exits 1', out + err)
        rc, out, err = run(*k, '--json', 'addr', stdin=trace)
        try:
            j = json.loads(out)
        except ValueError as e:
            j = [str(e)]
        check(rc == 0 and [(e.get('line'), e.get('name'), e.get('offset'), e.get('owner'))
                           for e in j] ==
              [(1, 'bpf_prog_def_g', 16, 'bpf'), (2, 'bpf_prog_abc_f', 4, 'bpf'),
               (3, 'weak_fn', 5, 'vmlinux')],
              'addr --json from stdin: one entry per resolved address, with its line', out + err)
        rc, out, err = run(*k, '--json', 'addr', '0xffffffffc0000104', '0xffffffff90000000')
        j = json.loads(out) if rc in (0, 1) else []
        check(rc == 1 and len(j) == 2 and j[0]['found'] and j[0]['name'] == 'mod_a_fn2' and
              j[0]['value'] == '0xffffffffc0000100' and j[0]['size'] == 0xf00 and
              j[0]['section'] == 'moda:.text' and j[0]['type'] == 'FUNC' and
              j[0]['bind'] == 'LOCAL' and not j[1]['found'],
              'addr --json: address, value, size, section, type, binding; found false',
              out + err)

        rc, out, err = run(*k, 'name', 'dup')
        check(rc == 0 and out ==
              'ffffffff81000020       16 FUNC   LOCAL  dup [vmlinux]\n'
              'ffffffff81000030      208 FUNC   LOCAL  dup [vmlinux]\n'
              'ffffffffc0000000      256 FUNC   LOCAL  dup [moda]\n',
              'name: every symbol of the name, table order, address size type binding owner',
              out + err)
        rc, out, err = run(*k, 'name', 'mod_a_*')
        names = sorted(l.split()[4] for l in out.splitlines())
        check(rc == 0 and names == ['mod_a_bss', 'mod_a_fn', 'mod_a_fn2', 'mod_a_pcpu'] and
              all(l.endswith('[moda]') for l in out.splitlines()),
              'name: a glob matches, SHN_ABS symbols keep their module', out + err)
        rc, out, err = run(*k, 'name', 'weak_obj', 'no_such_symbol')
        check(rc == 1 and out.split()[1:5] == ['2048', 'OBJECT', 'WEAK', 'weak_obj'] and
              'no_such_symbol' in err,
              'name: found ones printed, a missing one named on stderr, exit 1', out + err)
        rc, out, err = run(*k, '--json', 'name', 'mod_b_*', 'zzz')
        j = json.loads(out)
        check(rc == 1 and [q['query'] for q in j] == ['mod_b_*', 'zzz'] and
              sorted(s['name'] for s in j[0]['symbols']) ==
              ['mod_b_data', 'mod_b_export', 'mod_b_fn'] and j[1]['symbols'] == [] and
              all(s['owner'] == 'modb' for s in j[0]['symbols']),
              'name --json: one object per query with its symbols', out + err)
        # From 8 exact names on, a hash of all names answers them; below,
        # one pass each: the same lines either way.
        many = ['dup', 'weak_fn', 'mod_a_pcpu', 'alias_a', 'alias_b', 'bpf_prog_abc_f',
                'mod_b_data', 'ftrace_trampoline', 'dup']
        rc, out, err = run(*k, 'name', *many)
        one = ''.join(run(*k, 'name', n)[1] for n in many)
        check(rc == 0 and out == one and out.count('\n') == 13,
              'name: 9 names at once (hashed) answer as one by one (passes)', out + '--\n' + one)
        rc, out, err = run(*k, 'name')
        check(rc == 2 and "Try 'ksyms --help'" in err, 'name without NAME is bad usage', err)

        rc, out, err = run(*k, 'modules')
        rows = [l.split() for l in out.splitlines()]
        check(rc == 0 and [r[0] for r in rows] ==
              ['vmlinux', 'moda', 'empty', 'modb', 'bpf', '__builtin__ftrace'] and
              rows[1][1:] == ['ffffffffc0000000-ffffffffc0003000', '5', '-'] and
              rows[3][2] == '3' and rows[0][2] == '22',
              'modules: load order, span, symbols, no build-id without notes', out + err)
        rc, out, err = run(*k, '--json', 'modules')
        j = json.loads(out)
        check(rc == 0 and [(m['name'], m['kind']) for m in j] ==
              [('vmlinux', 'kernel'), ('moda', 'module'), ('empty', 'module'),
               ('modb', 'module'), ('bpf', 'pseudo'), ('__builtin__ftrace', 'pseudo')] and
              j[2]['symbols'] == 0 and j[0]['build_id'] is None,
              'modules --json: kinds, counts, build_id null', out + err)

        for args, what in ((['-f', img], 'no command'),
                           (['-f', img, 'frobnicate'], 'an unknown command'),
                           (['--bogus', 'modules'], 'an unknown option'),
                           (['-f'], '-f without FILE'),
                           (['-f', img, 'modules', 'extra'], 'modules with an argument'),
                           (['-f', img, '--json', 'kallsyms'], '--json with kallsyms')):
            rc, out, err = run(ksyms, *args)
            check(rc == 2 and out == '' and err.count('\n') == 2 and
                  err.endswith("Try 'ksyms --help' for more information.\n"),
                  'bad usage (%s): one line, then Try \'ksyms --help\', exit 2' % what, err)
        rc, out, err = run(ksyms, '--help')
        check(rc == 0 and out.startswith('Usage: ksyms') and 'kallsyms' in out and err == '',
              '--help on stdout, exit 0', out + err)

        notimg = os.path.join(tmp, 'text')
        with open(notimg, 'w') as f:
            f.write('ffffffff81000000 T _stext\n')
        rc, out, err = run(ksyms, '-f', notimg, 'modules')
        check(rc == 2 and 'not a ksyms symbol image' in err and err.count('\n') == 1,
              'a file that is no symbol image: one clear line, exit 2', err)
        rc, out, err = run(ksyms, '-f', os.path.join(tmp, 'missing'), 'modules')
        check(rc == 2 and 'No such file' in err and err.count('\n') == 1,
              'a missing file: one line, exit 2', err)
        with open('/dev/full', 'w') as full:
            rc, _, err = run(*k, 'kallsyms', stdout=full)
        check(rc == 2 and 'writing the output' in err,
              'a write error (/dev/full) is an error, exit 2', err)

        other_targets(ksyms, ksymsd, os.path.join(fixtures, 'mini'), tmp, img)

    for i, (ok, desc, diag) in enumerate(TAP, 1):
        print('%s %d - %s' % ('ok' if ok else 'not ok', i, desc))
        if diag and not ok:
            for line in diag.splitlines()[:40]:
                print('# ' + line)
    print('1..%d' % len(TAP))
    return 0 if all(t[0] for t in TAP) else 1


if __name__ == '__main__':
    sys.exit(main())
