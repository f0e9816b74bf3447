#!/usr/bin/env python3
"""yaml2cases.py - turn the openspf RFC 7208 test suite (rfc7208-tests.yml)
into the flat rfc7208-tests.cases that test_spf reads, so the C test needs
no YAML parser. Needs PyYAML (Debian python3-yaml).

  python3 yaml2cases.py rfc7208-tests.yml > rfc7208-tests.cases
  python3 yaml2cases.py --check rfc7208-tests.yml rfc7208-tests.cases   (exit 77 without PyYAML)

Output: one record per line, fields separated by TAB, bytes outside
0x20..0x7e (and backslash) written as \\xHH:
  suite  DESCRIPTION
  zone   NAME  TYPE  DATA        TYPE: A AAAA TXT MX PTR CNAME TEMPFAIL
  test   NAME  HOST  HELO  MAILFROM  RESULT[,RESULT...]  EXPLANATION
EXPLANATION is "-" when the case does not check one and "=TEXT" when it does.

Zone data follows the suite's own instructions for drivers (its header and
the blitiri driver): a list of strings is one record, the strings joined
with nothing between them (RFC 7208 3.3); type SPF records are served as TXT
only for names that have no TXT record of their own ("TXT: NONE" stands for
no TXT record but still keeps SPF records out); TIMEOUT, SERVFAIL and
CNAMELOOP make the lookups of the name a temporary failure for every type
it has no record of (so "spftimeout" finds its TXT record). The "skip"
notes in the file come from the Go package it was taken from and are
ignored: every case is converted.
"""
import sys


def esc(s):
    if isinstance(s, bool):
        s = "true" if s else "false"
    s = str(s)
    try:
        b = s.encode("latin-1")
    except UnicodeEncodeError:
        b = s.encode("utf-8")
    out = []
    for c in b:
        if 0x20 <= c <= 0x7E and c != 0x5C:
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    return "".join(out)


def strings(v):
    if isinstance(v, list):
        return "".join(str(x) for x in v)
    return str(v)


def convert(path):
    import yaml

    lines = []
    with open(path, encoding="utf-8") as f:
        docs = list(yaml.safe_load_all(f))
    for doc in docs:
        if not doc:
            continue
        lines.append("suite\t" + esc(doc.get("description", "")))
        zone = doc.get("zonedata") or {}
        for name, recs in zone.items():
            recs = recs or []
            has_txt = any("TXT" in r for r in recs)
            for r in recs:
                for typ, val in r.items():
                    if typ == "SPF":
                        if has_txt:
                            continue
                        typ = "TXT"
                    if typ in ("TIMEOUT", "SERVFAIL", "CNAMELOOP"):
                        if val:
                            lines.append("zone\t%s\tTEMPFAIL\t-" % esc(name))
                        continue
                    if typ == "TXT" and val == "NONE":
                        continue  # "no TXT record here", which still keeps SPF out
                    if typ == "TXT":
                        data = strings(val)
                    elif typ == "MX":
                        data = "%d %s" % (int(val[0]), val[1])
                    elif typ in ("A", "AAAA", "PTR", "CNAME"):
                        vals = val if isinstance(val, list) else [val]
                        for v in vals:
                            lines.append("zone\t%s\t%s\t%s" % (esc(name), typ, esc(v)))
                        continue
                    else:
                        raise SystemExit("%s: unknown record type %s at %s" % (path, typ, name))
                    lines.append("zone\t%s\t%s\t%s" % (esc(name), typ, esc(data)))
        for tname, t in (doc.get("tests") or {}).items():
            res = t["result"]
            res = res if isinstance(res, list) else [res]
            expl = t.get("explanation")
            lines.append("\t".join([
                "test", esc(tname), esc(t.get("host", "")), esc(t.get("helo", "")),
                esc(t.get("mailfrom", "")), ",".join(str(r) for r in res),
                "-" if expl is None else "=" + esc(expl)]))
    return "\n".join(lines) + "\n"


def main(argv):
    if len(argv) == 4 and argv[1] == "--check":
        try:
            import yaml  # noqa: F401
        except ImportError:
            print("yaml2cases: PyYAML missing, not checked")
            return 77
        with open(argv[3], encoding="ascii") as f:
            if f.read() != convert(argv[2]):
                print("yaml2cases: %s is out of date; regenerate it" % argv[3])
                return 1
        print("yaml2cases: %s matches %s" % (argv[3], argv[2]))
        return 0
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    sys.stdout.write(convert(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
