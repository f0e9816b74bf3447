#!/usr/bin/env python3
"""compare.py - per-target agreement of text_dump with SpamAssassin goldens.

Usage: compare.py TEXT_DUMP GOLDEN_DIR MSG... [-v TARGET]
Runs text_dump on each message, compares with GOLDEN_DIR/<basename>.exp
(from sa_targets.pl) and prints, per target, how many messages agree
exactly. -v TARGET lists the messages that differ for that target.
"""
import os, subprocess, sys, collections

def parse(lines):
    rec = collections.OrderedDict()
    for ln in lines:
        ln = ln.rstrip('\n')
        if not ln or ln.startswith('sa ') or ln.startswith('file '):
            continue
        parts = ln.split(' ')
        if parts[0] == 'hdr':
            rec.setdefault('hdr ' + parts[1], []).append(parts[2] + ' ' + parts[3])
        else:
            rec.setdefault(parts[0], []).append(parts[1])
    return rec

def main():
    args = sys.argv[1:]
    verbose = None
    if '-v' in args:
        i = args.index('-v'); verbose = args[i + 1]; del args[i:i + 2]
    dump, gold = args[0], args[1]
    msgs = args[2:]
    agree = collections.Counter(); total = collections.Counter(); bad = collections.defaultdict(list)
    B = 200
    for k in range(0, len(msgs), B):
        chunk = msgs[k:k + B]
        out = subprocess.run([dump] + chunk, capture_output=True).stdout.decode('latin-1')
        per = {}
        cur = None
        for ln in out.split('\n'):
            if ln.startswith('file '):
                cur = ln[5:]; per[cur] = []
            elif cur is not None:
                per[cur].append(ln)
        for m in chunk:
            b = os.path.basename(m)
            b = os.path.splitext(b)[0]
            g = os.path.join(gold, b + '.exp')
            if not os.path.exists(g):
                continue
            exp = parse(open(g, encoding='latin-1'))
            got = parse(per.get(m, []))
            keys = ['body', 'rawbody', 'uri'] + [x for x in exp if x.startswith('hdr ')]
            for key in keys:
                e = exp.get(key, []); o = got.get(key, [])
                if key == 'uri':
                    e, o = sorted(set(e)), sorted(set(o))
                total[key] += 1
                if e == o: agree[key] += 1
                else: bad[key].append(m)
    for key in total:
        print('%-22s %5d/%5d  %6.2f%%' % (key, agree[key], total[key], 100.0 * agree[key] / total[key]))
    if verbose:
        for m in bad[verbose]:
            print(m)

main()
