#!/bin/sh
# tests/cli/test_rules_cache.sh TAMIS RULES - the compiled-rules cache: a second
# load comes from the cache, a corrupt or truncated cache file is detected and
# rebuilt (never trusted), and the verdicts are the same either way.
set -u
TAMIS=$1
RULES=$2
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cache=$tmp/cache
msg=$(dirname "$0")/../data/cli/hand.eml

"$TAMIS" rules check --cache "$cache" "$RULES" > "$tmp/1.txt" 2>&1
grep -q "compiled in" "$tmp/1.txt" && ok "first load compiles" || ko "first load compiles"
ls "$cache"/rules-*.hsdb > /dev/null 2>&1 && ok "cache file written" || ko "cache file written"
"$TAMIS" rules check --cache "$cache" "$RULES" > "$tmp/2.txt" 2>&1
grep -q "loaded from cache" "$tmp/2.txt" && ok "second load from cache" || ko "second load from cache"
"$TAMIS" scan --json --rules "$RULES" --cache "$cache" "$msg" > "$tmp/v1.json"

f=$(ls "$cache"/rules-*.hsdb | head -n 1)
# flip one byte in the middle of the payload
size=$(wc -c < "$f")
python3 - "$f" "$size" <<'PY'
import sys
p, n = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read())
b[n // 2] ^= 0xFF
open(p, "wb").write(b)
PY
"$TAMIS" rules check --cache "$cache" "$RULES" > "$tmp/3.txt" 2>&1
grep -q "stale or corrupt" "$tmp/3.txt" && grep -q "compiled in" "$tmp/3.txt" &&
    ok "corrupt cache detected and rebuilt" || ko "corrupt cache detected and rebuilt"
"$TAMIS" rules check --cache "$cache" "$RULES" > "$tmp/4.txt" 2>&1
grep -q "loaded from cache" "$tmp/4.txt" && ok "rebuilt cache is used" || ko "rebuilt cache is used"
head -c 100 "$f" > "$f.short" && mv "$f.short" "$f"
"$TAMIS" rules check --cache "$cache" "$RULES" > "$tmp/5.txt" 2>&1
grep -q "compiled in" "$tmp/5.txt" && ok "truncated cache rebuilt" || ko "truncated cache rebuilt"
"$TAMIS" scan --json --rules "$RULES" --cache "$cache" "$msg" > "$tmp/v2.json"
"$TAMIS" scan --json --rules "$RULES" --no-cache "$msg" > "$tmp/v3.json"
python3 - "$tmp/v1.json" "$tmp/v2.json" "$tmp/v3.json" <<'PY' && ok "same verdict with and without cache" || ko "same verdict with and without cache"
import json, sys
vs = [json.load(open(p)) for p in sys.argv[1:]]
keys = lambda v: (v["score"], v["action"], sorted(s["name"] for s in v["symbols"]), v["rules_version"])
sys.exit(0 if keys(vs[0]) == keys(vs[1]) == keys(vs[2]) else 1)
PY
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
