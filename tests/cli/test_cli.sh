#!/bin/sh
# tests/cli/test_cli.sh TAMIS DATADIR - the `tamis scan` contract: exit codes,
# JSON shape and hand-checked values (tests/data/cli/PROVENANCE.md).
set -u
TAMIS=$1
DATA=$2
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1"; }
expect_rc() { # name expected-rc cmd...
    name=$1; want=$2; shift 2
    "$@" >/tmp/tamis-cli.$$ 2>/tmp/tamis-cli-err.$$
    got=$?
    if [ "$got" -eq "$want" ]; then ok "$name"; else ko "$name (exit $got, want $want)"; cat /tmp/tamis-cli-err.$$; fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" /tmp/tamis-cli.$$ /tmp/tamis-cli-err.$$' EXIT

expect_rc "no arguments is a usage error" 2 "$TAMIS"
expect_rc "scan without files is a usage error" 2 "$TAMIS" scan
expect_rc "unknown option is a usage error" 2 "$TAMIS" scan --bogus "$DATA/hand.eml"
expect_rc "missing file is an I/O error" 2 "$TAMIS" scan "$tmp/does-not-exist.eml"
grep -q "does-not-exist.eml" /tmp/tamis-cli-err.$$ && ok "I/O error names the file" || ko "I/O error names the file"
expect_rc "bad limit value is rejected" 2 "$TAMIS" scan -o mime_max_depth=0 "$DATA/hand.eml"
expect_rc "unknown limit is rejected" 2 "$TAMIS" scan -o no_such_limit=1 "$DATA/hand.eml"
printf '\000\377garbage\r\n\r\n--\r\n' > "$tmp/garbage.eml"
: > "$tmp/empty.eml"
expect_rc "garbage is scanned, not an error" 0 "$TAMIS" scan --json "$tmp/garbage.eml"
expect_rc "an empty file is scanned" 0 "$TAMIS" scan --json "$tmp/empty.eml"
expect_rc "stdin is read with -" 0 sh -c "\"$TAMIS\" scan --json - < \"$DATA/hand.eml\""
expect_rc "a directory and a missing file: exit 2, others still scanned" 2 \
    "$TAMIS" scan --json "$tmp" "$tmp/nope.eml"
python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); assert isinstance(a,list) and len(a)==2' \
    /tmp/tamis-cli.$$ && ok "several messages give a JSON array" || ko "several messages give a JSON array"

"$TAMIS" scan --json "$DATA/hand.eml" > "$tmp/hand.json" || ko "scan hand.eml"
python3 - "$tmp/hand.json" "$DATA/hand.eml" <<'PY' && ok "hand.eml verdict JSON (hand-checked values)" || ko "hand.eml verdict JSON (hand-checked values)"
import hashlib, json, os, sys
v = json.load(open(sys.argv[1]))
def check(cond, what):
    if not cond:
        print("  mismatch:", what, file=sys.stderr)
        sys.exit(1)
check(isinstance(v, dict), "one message gives one object")
check(v["size"] == os.path.getsize(sys.argv[2]), "size")
check(v["subject"] == "caf\u00e9\u20ac", "subject %r" % v["subject"])
check(v["message_id"] == "<hand.1@example.org>", "message_id")
check(v["from"] == "jurgen@example.org", "from %r" % v["from"])
check(v["to"] == ["a@example.com", "b@example.net"], "to %r" % v["to"])
paths = [p["path"] for p in v["parts"]]
check(paths == ["1", "1.1", "1.2"], "paths %r" % paths)
root, text, att = v["parts"]
check(root["content_type"] == "multipart/mixed" and root["sha256"] is None, "root container")
check(text["content_type"] == "text/plain" and text["charset"] == "us-ascii", "text part")
check(text["sha256"] == hashlib.sha256(b"hello").hexdigest() and text["decoded_size"] == 5, "text body")
check(att["filename"] == "r\u00e9sum\u00e9.txt", "filename %r" % att["filename"])
check(att["disposition"] == "attachment" and att["transfer_encoding"] == "base64", "attachment fields")
check(att["sha256"] == hashlib.sha256(b"hello world").hexdigest() and att["decoded_size"] == 11, "attachment body")
check(v["findings"] == [], "no findings %r" % v["findings"])
PY

# Limits reach the parser: a depth-3 nest with mime_max_depth=1 records the finding.
printf 'Content-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b--\n--a--\n' > "$tmp/deep.eml"
"$TAMIS" scan --json -o mime_max_depth=1 "$tmp/deep.eml" > "$tmp/deep.json"
python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); assert "MIME_LIMIT_DEPTH" in v["findings"], v["findings"]; assert max(p["path"].count(".") for p in v["parts"]) <= 1' \
    "$tmp/deep.json" && ok "mime_max_depth is enforced and reported" || ko "mime_max_depth is enforced and reported"

# The ClamAV database check: the shipped test signatures load; a missing path fails with its name.
expect_rc "av check loads the default database" 0 "$TAMIS" av check
grep -q "^signatures: [1-9]" /tmp/tamis-cli.$$ && ok "av check counts signatures" || ko "av check counts signatures"
expect_rc "av check on a missing database fails" 1 "$TAMIS" av check --av-db "$tmp/no-such-db"
grep -q "no-such-db" /tmp/tamis-cli-err.$$ && ok "av check names the missing database" || ko "av check names the missing database"
expect_rc "scan with a missing AV database is an error" 2 "$TAMIS" scan --av-db "$tmp/no-such-db" "$DATA/hand.eml"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
