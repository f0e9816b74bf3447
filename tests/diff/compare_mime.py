#!/usr/bin/env python3
"""compare_mime.py - differential test of Tamis' MIME part tree against CPython.

Usage:
  compare_mime.py --tamis BIN [--known TSV] [--min-identical 0.99]
                  [--report OUT] [--batch 200] [--jobs N] DIR_OR_FILE...

Every mail file found (recursively) under the arguments is scanned with
`BIN scan --json FILE...` and parsed with CPython's `email` package
(cpython_tree.py).  Per message the two part lists are compared: the sequence
of (path, content_type, filename) for all parts, and sha256 for leaves.

A message is "identical" when everything agrees, "documented" when it differs
but is listed in known_differences.tsv, "undocumented" otherwise.  The last
line of output is always `N passed, N failed` (passed = identical +
documented).  Exit status 1 if there is any undocumented difference or the
identical fraction is below --min-identical, else 0.  See README.md.
"""

import argparse
import collections
import concurrent.futures
import fnmatch
import json
import os
import platform
import signal
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cpython_tree  # noqa: E402  (the reference side)

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_KNOWN = os.path.join(HERE, "known_differences.tsv")

# ---------------------------------------------------------------- corpus ---

# Top-level source folders of corpus/external and /work/shared/corpus(/mime).
# The last of these found in a file's path starts its "canonical" path, which
# is what known_differences.tsv entries and the summary groups refer to.
SOURCE_DIRS = {
    "spamassassin", "python-email", "enmime", "npm-fixtures", "gmime", "rspamd",
    "tnef", "outlook-msg", "spamassassin-samples", "dkim", "malware-test",
    "urls", "rules",
}

# Files that are not mail messages, or not meant for this test.  Matched with
# fnmatch against the canonical path (first) and the base name (second).
# Only applied while walking directories; a FILE named on the command line is
# always compared.
SKIP_RULES = [
    # (pattern on canonical path, pattern on basename, reason)
    (None, "README*", "documentation"),
    (None, "*.md", "documentation"),
    (None, ".*", "hidden file (corpus/fetch .complete-* stamps, .gitattributes)"),
    (None, "*.sha256", "checksum manifest"),
    (None, "SHA256SUMS", "checksum manifest"),
    ("spamassassin/labels.tsv", None, "label table, not a message"),
    ("gmime/encodings/*", None,
     "gmime decoder test vectors: bare base64/uuencode/QP payloads and their decoded originals"),
    ("gmime/mime-part/*", None,
     "gmime part-body test vectors (raptors.png, its .b64/.uu text, french-fable.txt), not messages"),
    ("gmime/charsets/*", None, "gmime charset samples: bare text in one encoding each, not messages"),
    ("outlook-msg/*", None, "Outlook .msg is a CFB/OLE2 container, not RFC 5322"),
    ("tnef/*", None, "TNEF (winmail.dat) binary, not RFC 5322"),
    ("malware-test/*", None, "AV test files and signatures, not part of the MIME corpus"),
    ("urls/*", None, "URL lists, not mail"),
    ("rules/*", None, "SpamAssassin rule files, not mail"),
    ("dkim/*", None, "DKIM keys and signing tests, not part of the MIME corpus"),
]


def canonical_parts(path):
    """Path components relative to the corpus root, the same for both layouts.

    corpus/external/spamassassin/easy_ham/X.eml   -> spamassassin/easy_ham/X.eml
    /work/shared/corpus/spamassassin/ham/easy_ham/X.eml -> (same)
    /work/shared/corpus/mime/python-email/msg_01.txt -> python-email/msg_01.txt
    Paths outside any known source folder are returned as given (minus "./").
    """
    comps = [c for c in os.path.normpath(path).split(os.sep) if c not in ("", ".")]
    start = None
    for i, c in enumerate(comps):
        if c in SOURCE_DIRS:
            start = i
    if start is not None:
        comps = comps[start:]
    elif comps and comps[0] == "mime":  # a known-differences entry "mime/..."
        comps = comps[1:]
    # shared layout groups the SpamAssassin subsets as ham/<subset>, spam/spam
    if len(comps) >= 4 and comps[0] == "spamassassin" and comps[1] in ("ham", "spam"):
        comps = [comps[0]] + comps[2:]
    return comps


def skip_reason(canon):
    """Why a file found while walking is not compared (None: compare it)."""
    cpath, base = "/".join(canon), canon[-1]
    for ppat, bpat, reason in SKIP_RULES:
        if ppat is not None and fnmatch.fnmatchcase(cpath, ppat):
            return reason
        if bpat is not None and fnmatch.fnmatchcase(base, bpat):
            return reason
    return None


def collect(args):
    """Return (files, skipped Counter by reason).  Order: as walked, sorted."""
    files, skipped = [], collections.Counter()
    seen = set()
    for arg in args:
        if os.path.isfile(arg):
            found = [arg]
        elif os.path.isdir(arg):
            found = []
            for root, dirs, names in os.walk(arg):
                # hidden dirs: .staging-* of an interrupted corpus/fetch, .git
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for n in sorted(names):
                    p = os.path.join(root, n)
                    if not os.path.isfile(p):
                        continue
                    why = skip_reason(canonical_parts(p))
                    if why:
                        skipped[why] += 1
                    else:
                        found.append(p)
        else:
            sys.exit("compare_mime: no such file or directory: %s" % arg)
        for p in found:
            if p not in seen:
                seen.add(p)
                files.append(p)
    return files, skipped


# ----------------------------------------------------------------- tamis ---

def _describe_exit(rc):
    if rc < 0:
        try:
            return "killed by %s" % signal.Signals(-rc).name
        except ValueError:
            return "killed by signal %d" % -rc
    return "exit status %d" % rc


def _tail(b, n=300):
    s = b.decode("utf-8", "replace").strip()
    return s[-n:].replace("\n", " | ") if s else "(empty)"


def run_batch(tamis, batch, timeout, ok_exit):
    """Scan `batch` in one Tamis call.

    Returns (results, error): results maps each file to its list of result
    objects (normally one); error is None or why the call as a whole failed.
    """
    cmd = [tamis, "scan", "--json"] + batch
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "timed out after %ss" % timeout
    except OSError as e:
        return None, "cannot run %s: %s" % (tamis, e)
    if proc.returncode not in ok_exit:
        return None, "%s; stderr: %s" % (_describe_exit(proc.returncode), _tail(proc.stderr))
    try:
        doc = json.loads(proc.stdout.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        return None, "bad JSON on stdout (%s): %s" % (e, _tail(proc.stdout, 120))
    objs = doc if isinstance(doc, list) else [doc]
    if not all(isinstance(o, dict) for o in objs):
        return None, "JSON output is not an object or a list of objects"

    by_file = collections.defaultdict(list)
    for o in objs:
        by_file[o.get("file")].append(o)
    results = {}
    for f in batch:
        hits = by_file.get(f)
        if hits is None:  # tolerate a normalised spelling of the path
            for key in (os.path.normpath(f), os.path.abspath(f), os.path.realpath(f)):
                if key in by_file:
                    hits = by_file[key]
                    break
        if hits is None and len(batch) == 1 and len(objs) == 1:
            hits = objs
        if hits is None:
            return None, "no result object for %s" % f
        results[f] = hits
    return results, None


def run_tamis(tamis, files, batch_size, jobs, timeout, ok_exit):
    """Scan all files; a failing batch is re-run one file at a time.

    Returns {file: [result objects]} where a file Tamis failed on maps to
    [{"file": f, "tamis_error": "..."}].
    """
    batches = [files[i:i + batch_size] for i in range(0, len(files), batch_size)]
    out = {}

    def one(batch):
        res, err = run_batch(tamis, batch, timeout, ok_exit)
        if err is None:
            return res
        if len(batch) > 1:
            sys.stderr.write("compare_mime: batch of %d failed (%s); retrying one by one\n"
                             % (len(batch), err))
        res = {}
        for f in batch:
            r, e = run_batch(tamis, [f], timeout, ok_exit) if len(batch) > 1 else (None, err)
            res.update(r if e is None else {f: [{"file": f, "tamis_error": e}]})
        return res

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as ex:
        for res in ex.map(one, batches):
            out.update(res)
    return out


# ------------------------------------------------------------ comparison ---

Diff = collections.namedtuple("Diff", "path field tamis python")


def _path_key(p):
    try:
        return tuple(int(x) for x in p.split("."))
    except (AttributeError, ValueError):
        return (float("inf"), str(p))


def python_view(py_parts):
    """The reference parts, normalised.

    message/delivery-status: Python parses the body into header-block
    Messages (its "children") and so has no body hash for the part.  Tamis
    keeps it as one leaf.  We drop those children and do not compare the
    part's sha256 or leaf-ness (marked by "skip_body").
    """
    out, ds_prefixes = [], []
    for p in py_parts:
        if any(p["path"].startswith(pre) for pre in ds_prefixes):
            continue
        p = dict(p)
        if p["content_type"] == "message/delivery-status":
            ds_prefixes.append(p["path"] + ".")
            p["skip_body"] = True
        out.append(p)
    return out


def compare(tamis_objs, py):
    """All differences between one Tamis result and the Python reference."""
    if "error" in py:
        return [Diff("-", "python-error", "", py["error"])]
    obj = tamis_objs[0]
    if "tamis_error" in obj:
        return [Diff("-", "tamis-error", obj["tamis_error"], "")]
    diffs = []
    if len(tamis_objs) > 1:
        diffs.append(Diff("-", "results", "%d objects" % len(tamis_objs), "1 message"))
    tparts = obj.get("parts")
    if not isinstance(tparts, list):
        return diffs + [Diff("-", "parts", repr(tparts)[:80], "list of %d" % len(py["parts"]))]

    tmap = collections.OrderedDict()
    for t in tparts:
        if not isinstance(t, dict):
            diffs.append(Diff("-", "parts", "non-object entry", ""))
            continue
        if t.get("path") in tmap:
            diffs.append(Diff(str(t.get("path")), "path", "duplicate", "unique"))
        tmap[t.get("path")] = t
    pview = python_view(py["parts"])
    pmap = collections.OrderedDict((p["path"], p) for p in pview)

    for path, p in pmap.items():
        t = tmap.get(path)
        if t is None:
            diffs.append(Diff(path, "part", "absent", p["content_type"]))
            continue
        for field in ("content_type", "filename"):
            if t.get(field) != p[field]:
                diffs.append(Diff(path, field, t.get(field), p[field]))
        if p.get("skip_body"):
            continue
        t_leaf, p_leaf = t.get("sha256") is not None, p["sha256"] is not None
        if t_leaf != p_leaf:
            diffs.append(Diff(path, "leaf",
                              "leaf" if t_leaf else "container",
                              "leaf" if p_leaf else "container"))
        elif p_leaf and t["sha256"] != p["sha256"]:
            diffs.append(Diff(path, "sha256",
                              "%s (%s bytes)" % (t["sha256"][:16], t.get("decoded_size")),
                              p["sha256"][:16]))
    for path, t in tmap.items():
        if path not in pmap:
            diffs.append(Diff(str(path), "part", t.get("content_type"), "absent"))
    diffs.sort(key=lambda d: _path_key(d.path))
    return diffs


def describe(diffs):
    d = diffs[0]
    if d.field in ("tamis-error", "python-error"):
        return "%s: %s" % (d.field, d.tamis or d.python)
    s = "%s %s: tamis=%r python=%r" % (d.path, d.field, d.tamis, d.python)
    if len(diffs) > 1:
        s += " (+%d more)" % (len(diffs) - 1)
    return s


# ----------------------------------------------------- known differences ---

def load_known(path):
    """[(entry path, canonical components, reason)] from the TSV (may not exist)."""
    entries = []
    if not path or not os.path.exists(path):
        return entries
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if "\t" not in line:
                sys.stderr.write("compare_mime: %s:%d: no TAB, ignored: %s\n" % (path, n, line))
                continue
            p, reason = line.split("\t", 1)
            entries.append((p.strip(), canonical_parts(p.strip()), reason.strip()))
    return entries


def match_known(canon, entries):
    """The first entry whose canonical components are a suffix of `canon`."""
    for e in entries:
        k = e[1]
        if k and len(k) <= len(canon) and canon[-len(k):] == k:
            return e
    return None


# ------------------------------------------------------------------ main ---

def _cell(v):
    return str(v).replace("\t", " ").replace("\n", " ")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tamis", required=True, help="the tamis binary")
    ap.add_argument("--known", default=DEFAULT_KNOWN,
                    help="known differences TSV (default: %(default)s)")
    ap.add_argument("--min-identical", type=float, default=0.99,
                    help="fail if fewer messages than this fraction are identical")
    ap.add_argument("--report", help="write every difference (documented too) as TSV here")
    ap.add_argument("--batch", type=int, default=200, help="files per tamis call")
    ap.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1),
                    help="tamis calls run in parallel")
    ap.add_argument("--timeout", type=float, default=300, help="seconds per tamis call")
    ap.add_argument("--ok-exit", default="0",
                    help="comma-separated exit codes of `tamis scan` that mean success")
    ap.add_argument("paths", nargs="+", metavar="DIR_OR_FILE")
    a = ap.parse_args()
    ok_exit = {int(x) for x in a.ok_exit.split(",") if x.strip()}
    if not (os.path.isfile(a.tamis) and os.access(a.tamis, os.X_OK)):
        sys.exit("compare_mime: --tamis %s is not an executable file (build it first)" % a.tamis)

    files, skipped = collect(a.paths)
    if not files:
        sys.exit("compare_mime: no files to compare")
    print("reference: CPython %s email package; tamis: %s" % (platform.python_version(), a.tamis))
    print("files: %d compared, %d skipped%s" % (
        len(files), sum(skipped.values()),
        "".join("\n  skipped %4d: %s" % (n, why) for why, n in sorted(skipped.items()))))

    tamis = run_tamis(a.tamis, files, max(1, a.batch), a.jobs, a.timeout, ok_exit)
    known = load_known(a.known)

    Row = collections.namedtuple("Row", "file canon group status diffs entry")
    rows = []
    for f in files:
        canon = canonical_parts(f)
        group = "/".join(canon[:-1][:2]) or "."
        diffs = compare(tamis[f], cpython_tree.file_tree(f))
        entry = match_known(canon, known)
        crashed = diffs and diffs[0].field == "tamis-error"
        if not diffs:
            status = "identical"
        elif entry and not crashed:  # a crash is never excused by the list
            status = "documented"
        else:
            status = "undocumented"
        rows.append(Row(f, canon, group, status, diffs, entry))

    # Summary per corpus subfolder.
    groups = collections.OrderedDict()
    for r in sorted(rows, key=lambda r: r.group):
        groups.setdefault(r.group, collections.Counter())[r.status] += 1
    width = max(12, max(len(g) for g in groups))
    print()
    print("%-*s %7s %9s %10s %12s" % (width, "folder", "total", "identical", "documented",
                                      "undocumented"))
    tot = collections.Counter()
    for g, c in groups.items():
        tot.update(c)
        print("%-*s %7d %9d %10d %12d" % (width, g, sum(c.values()), c["identical"],
                                          c["documented"], c["undocumented"]))
    print("%-*s %7d %9d %10d %12d" % (width, "TOTAL", len(rows), tot["identical"],
                                      tot["documented"], tot["undocumented"]))
    frac = tot["identical"] / len(rows)
    print("\nidentical: %.2f%% (minimum %.2f%%)" % (100 * frac, 100 * a.min_identical))

    stale = [r for r in rows if r.status == "identical" and r.entry]
    for r in stale:
        print("WARNING: stale entry in %s (now identical): %s" % (a.known, r.entry[0]))

    undoc = [r for r in rows if r.status == "undocumented"]
    if undoc:
        print("\nUndocumented differences (%d):" % len(undoc))
        for r in undoc:
            print("  %s\n      %s" % ("/".join(r.canon), describe(r.diffs)))

    if a.report:
        with open(a.report, "w", encoding="utf-8", errors="backslashreplace") as out:
            out.write("file\tstatus\tndiffs\tpath\tfield\ttamis\tpython\tall_diffs\tknown_reason\n")
            for r in rows:
                if not r.diffs:
                    continue
                d = r.diffs[0]
                rest = "; ".join("%s %s: %r / %r" % x for x in r.diffs)
                out.write("\t".join(_cell(v) for v in (
                    "/".join(r.canon), r.status, len(r.diffs), d.path, d.field, repr(d.tamis),
                    repr(d.python), rest, r.entry[2] if r.entry else "")) + "\n")
        print("\nreport written to %s" % a.report)

    failed = len(undoc)
    bad_frac = frac < a.min_identical
    if bad_frac:
        print("FAIL: identical fraction %.4f is below --min-identical %.4f" % (frac, a.min_identical))
    print("%d passed, %d failed" % (len(rows) - failed, failed))
    return 1 if failed or bad_frac else 0


if __name__ == "__main__":
    sys.exit(main())
