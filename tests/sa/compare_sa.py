#!/usr/bin/env python3
"""tests/sa/compare_sa.py - Tamis's rule hits against real SpamAssassin's.

The golden file (tests/data/sa/sa-hits-2002.tsv, made by tests/sa/run-spamassassin
with SpamAssassin itself; see tests/data/sa/PROVENANCE.md) lists, per message of the
SpamAssassin 2002 subsets, the rules SpamAssassin hit (scored rules and __sub-rules).
This script loads the same stock rules into Tamis, scans the same messages with
`tamis scan --rules RULES --all-hits --json`, and compares, for every rule Tamis
supports (`tamis rules check --json`: engine hyperscan, prefilter, pcre2 or native),
the set of messages it hit with the set SpamAssassin's run says it hit.

Pass: overall (micro-averaged over all supported rules) precision and recall are
>= --min (0.98), and every supported rule whose own precision or recall is below
--min is listed with a reason in --known (tests/sa/known_rule_differences.tsv).

Usage: compare_sa.py --tamis BIN --rules DIR --golden TSV --corpus DIR
                     [--known TSV] [--min 0.98] [--report OUT]
Ends with "N passed, N failed" (rules); exit 1 on failure.
"""
import argparse, json, os, subprocess, sys
from collections import defaultdict


def load_golden(path):
    meta, rows = {}, {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            if line.startswith("#"):
                if ":" in line:
                    k, v = line[1:].split(":", 1)
                    meta[k.strip()] = v.strip()
                continue
            cols = line.split("\t")
            if cols[0] == "path":
                continue
            hits = set(x for x in (cols[2].split(",") if len(cols) > 2 else []) if x)
            sub = set(x for x in (cols[3].split(",") if len(cols) > 3 else []) if x)
            rows[cols[0]] = hits | sub
    return meta, rows


def load_known(path):
    known = {}
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if not line or line.startswith("#"):
                    continue
                name, _, reason = line.partition("\t")
                known[name.strip()] = reason.strip()
    return known


def run_json(cmd):
    r = subprocess.run(cmd, capture_output=True)
    if r.returncode != 0:
        sys.stderr.write(r.stderr.decode(errors="replace"))
        raise SystemExit("command failed: %s" % " ".join(cmd[:6]))
    return json.loads(r.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tamis", required=True)
    ap.add_argument("--rules", required=True)
    ap.add_argument("--golden", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--known")
    ap.add_argument("--min", type=float, default=0.98)
    ap.add_argument("--report")
    ap.add_argument("--cache")
    a = ap.parse_args()

    meta, golden = load_golden(a.golden)
    known = load_known(a.known)
    cache = ["--cache", a.cache] if a.cache else []
    check = run_json([a.tamis, "rules", "check", "--json"] + cache + [a.rules])
    supported = {r["name"] for r in check
                 if r["engine"] in ("hyperscan", "prefilter", "pcre2", "native")}
    total_rules = len(check)

    paths = sorted(golden)
    missing = [p for p in paths if not os.path.exists(os.path.join(a.corpus, p))]
    if missing:
        raise SystemExit("corpus is missing %d golden messages, e.g. %s (run corpus/fetch)"
                         % (len(missing), missing[0]))
    tamis = {}
    batch = 400
    for i in range(0, len(paths), batch):
        files = [os.path.join(a.corpus, p) for p in paths[i:i + batch]]
        out = run_json([a.tamis, "scan", "--json", "--no-av", "--all-hits", "--rules", a.rules] + cache + files)
        if isinstance(out, dict):
            out = [out]
        for p, v in zip(paths[i:i + batch], out):
            tamis[p] = set(v.get("rule_hits", []))
            rv = v.get("rules_version")
            if meta.get("rules-sha256") and rv != meta["rules-sha256"]:
                raise SystemExit("the rules differ from the ones the golden file was made with "
                                 "(golden rules-sha256 %s, Tamis rules_version %s): regenerate it "
                                 "with tests/sa/run-spamassassin" % (meta["rules-sha256"], rv))

    tp, fp, fn = defaultdict(int), defaultdict(int), defaultdict(int)
    examples = defaultdict(list)
    for p in paths:
        sa = golden[p] & supported
        tm = tamis[p] & supported
        for r in sa & tm:
            tp[r] += 1
        for r in tm - sa:
            fp[r] += 1
            if len(examples[r]) < 3:
                examples[r].append("FP " + p)
        for r in sa - tm:
            fn[r] += 1
            if len(examples[r]) < 3:
                examples[r].append("FN " + p)
    rules = sorted(set(tp) | set(fp) | set(fn))
    TP, FP, FN = sum(tp.values()), sum(fp.values()), sum(fn.values())
    prec = TP / (TP + FP) if TP + FP else 1.0
    rec = TP / (TP + FN) if TP + FN else 1.0

    print("reference: SpamAssassin %s, rules %s" % (meta.get("sa-version", "?"),
                                                   meta.get("rules-sha256", "?")[:16]))
    print("messages: %d; rules loaded: %d; supported by Tamis: %d; supported rules that hit "
          "on either side: %d" % (len(paths), total_rules, len(supported), len(rules)))
    print("overall: TP %d, FP %d, FN %d; precision %.4f, recall %.4f (minimum %.2f)"
          % (TP, FP, FN, prec, rec, a.min))
    passed = failed = 0
    report = []
    for r in rules:
        p_ = tp[r] / (tp[r] + fp[r]) if tp[r] + fp[r] else 1.0
        r_ = tp[r] / (tp[r] + fn[r]) if tp[r] + fn[r] else 1.0
        short = p_ < a.min or r_ < a.min
        status = "ok"
        if short:
            status = "known" if r in known else "FAIL"
        report.append((r, tp[r], fp[r], fn[r], p_, r_, status, "; ".join(examples[r])))
        if status == "FAIL":
            failed += 1
            print("FAIL %-28s tp %4d fp %4d fn %4d  P %.3f R %.3f  %s"
                  % (r, tp[r], fp[r], fn[r], p_, r_, "; ".join(examples[r])))
        else:
            passed += 1
            if status == "known":
                print("known %-27s tp %4d fp %4d fn %4d  P %.3f R %.3f  (%s)"
                      % (r, tp[r], fp[r], fn[r], p_, r_, known[r][:80]))
    stale = sorted(k for k in known if k in supported and k in {x[0] for x in report if x[6] == "ok"})
    for k in stale:
        print("note: %s is listed in --known but now agrees" % k)
    if a.report:
        with open(a.report, "w", encoding="utf-8") as f:
            f.write("rule\ttp\tfp\tfn\tprecision\trecall\tstatus\texamples\n")
            for row in report:
                f.write("%s\t%d\t%d\t%d\t%.4f\t%.4f\t%s\t%s\n" % row)
    overall_ok = prec >= a.min and rec >= a.min
    if not overall_ok:
        print("FAIL: overall precision/recall below %.2f" % a.min)
        failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
