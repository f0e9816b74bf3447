#!/bin/sh
# tests/cli/test_insights.sh TAMIS - `tamis insights` over a hand-written
# analytics log (the shape of server.c analytics_line): counts per action per
# hour, top symbols, blocked URLs and domains, AV signatures and latency
# percentiles checked against values worked out by hand below; malformed,
# deep, over-long and hostile lines are counted, never fatal; the HTML page
# is self-contained and escapes untrusted strings.
set -u
TAMIS=$1
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1"; }
check() { # name command...
    name=$1; shift
    if "$@" >/dev/null 2>&1; then ok "$name"; else ko "$name"; fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log=$tmp/log.json
out=$tmp/out.txt
err=$tmp/err.txt

# Ten good messages. scan_ms 1..10, so by nearest rank p50=5, p90=9, p99=10.
# Hours: (no time) 1 [no action]; T10 3 [no action 1, reject 2];
# T11 5 [no action 3, add header 1, reject 1]; T12 1 [soft reject].
# Symbols: TEST_A 4 (40%), TAMIS_URL_BLOCKLISTED 3 (30%), TEST_B 2 (20%),
# SYM_<e-acute><U+1F600> 1 (10%, written with \u escapes and a surrogate pair).
# Blocked domains: bad.example 3, evil.test 1. AV: Eicar-Signature 2, Win.Trojan.X 1.
BL='"name":"TAMIS_URL_BLOCKLISTED","score":10.0,"description":"blocked"'
cat > "$log" <<JSON
{"time":"2026-11-26T10:01:00Z","queue_id":null,"rcpt":[],"verdict":{"action":"no action","score":1.0,"symbols":[{"name":"TEST_A","score":1.0,"description":"a","options":[]}],"urls":[],"av":[],"scan_ms":1}}
{"time":"2026-11-26T10:02:00Z","verdict":{"action":"reject","symbols":[{$BL,"options":["http://bad.example/x (bad.example)","http://www.bad.example/ (bad.example)"]},{"name":"TEST_B","score":0.5,"options":[]}],"scan_ms":2.0}}
{"time":"2026-11-26T10:03:00Z","verdict":{"action":"reject","symbols":[{$BL,"options":["http://evil.test/<script>alert(1)</script> (evil.test)"]}],"av":[{"path":"2","filename":"e.com","result":"infected","signature":"Eicar-Signature"},{"path":"3","result":"clean","signature":null}],"scan_ms":3e0}}
{"time":"2026-11-26T11:00:00Z","verdict":{"action":"add header","symbols":[{"name":"TEST_B"},{"name":"TEST_A"}],"scan_ms":4}}
{"time":"2026-11-26T11:30:00Z","verdict":{"action":"no action","symbols":[{"name":"TEST_A","description":"lone \ud800 surrogate"},{"name":"SYM_\u00e9\ud83d\ude00","description":"caf\u00e9 \" \\\\ \/"}],"scan_ms":5}}
{"time":"2026-11-26T11:31:00Z","verdict":{"action":"reject","symbols":[{$BL,"options":["http://bad.example/y (bad.example)"]}],"scan_ms":6}}
{"time":"2026-11-26T11:32:00Z","verdict":{"action":"no action","symbols":[{"name":"TEST_A"}],"av":[{"result":"infected","signature":"Eicar-Signature"}],"scan_ms":7}}
{"time":"2026-11-26T11:33:00Z","verdict":{"action":"no action","symbols":[],"scan_ms":8}}
{"verdict":{"action":"no action","scan_ms":9}}
{"time":"2026-11-26T12:00:00Z","verdict":{"action":"soft reject","av":[{"result":"infected","signature":"Win.Trojan.X"}],"scan_ms":10}}
JSON
# A CRLF line ending is whitespace to JSON: turn the 8th line into one.
sed -i '8s/$/\r/' "$log"
# Blank lines are ignored; these nine lines are bad.
{
    echo ''
    echo '   '
    echo '{not json'
    echo '[1,2'
    echo '[]'
    echo '{"verdict":{"scan_ms":01}}'
    printf '{"verdict":{"action":"a\001b"}}\n'
    echo '{"verdict":{"action":"\u12"}}'
    printf '\377\376garbage\000\n'
    python3 -c 'print("[" * 1000)'
    python3 -c 'print("{\"verdict\":" + "{\"a\":" * 1000 + "1" + "}" * 1001)'
} >> "$log"
BAD=9

"$TAMIS" insights "$log" >"$out" 2>"$err"
rc=$?
[ "$rc" -eq 0 ] && ok "exit 0 on a log with bad lines" || ko "exit 0 on a log with bad lines (exit $rc)"
check "10 messages" grep -qx 'messages:  10' "$out"
check "$BAD bad lines" grep -qx "bad lines: $BAD" "$out"
check "bad lines counted on stderr" grep -q "^tamis insights: $BAD malformed line" "$err"
check "hour T10: 3 = 1 no action + 2 reject" grep -Eq '^  2026-11-26T10 +3 +1 +0 +0 +2 *$' "$out"
check "hour T11: 5 = 3 no action + 1 add header + 1 reject" \
    grep -Eq '^  2026-11-26T11 +5 +3 +1 +0 +1 *$' "$out"
check "hour T12: 1 soft reject" grep -Eq '^  2026-11-26T12 +1 +0 +0 +1 +0 *$' "$out"
check "no time: 1 no action" grep -Eq '^  \(no time\) +1 +1 +0 +0 +0 *$' "$out"
check "action columns in order" grep -Eq '^  hour +total no action +add header +soft reject +reject *$' "$out"
sed -n '/^top symbols/,/^$/p' "$out" | sed 1d | awk 'NF >= 3 {print $1, $2, $3}' > "$tmp/syms"
printf '4 40.0%% TEST_A\n3 30.0%% TAMIS_URL_BLOCKLISTED\n2 20.0%% TEST_B\n1 10.0%% SYM_\303\251\360\237\230\200\n' > "$tmp/syms.want"
if cmp -s "$tmp/syms" "$tmp/syms.want"; then ok "top symbols, order and %, \\u and surrogates decoded"
else ko "top symbols"; cat "$tmp/syms"; fi
sed -n '/^top blocked domains/,/^$/p' "$out" | awk 'NF == 2 {print $1, $2}' > "$tmp/doms"
printf '3 bad.example\n1 evil.test\n' > "$tmp/doms.want"
check "blocked domains" cmp -s "$tmp/doms" "$tmp/doms.want"
check "blocked URLs (4 distinct)" grep -q '^top blocked URLs (4 distinct)' "$out"
check "blocked URL taken before the parentheses" grep -Eq '^ +1  http://bad.example/y$' "$out"
sed -n '/^top AV/,/^$/p' "$out" | awk 'NF == 2 {print $1, $2}' > "$tmp/av"
printf '2 Eicar-Signature\n1 Win.Trojan.X\n' > "$tmp/av.want"
check "AV signatures (infected only)" cmp -s "$tmp/av" "$tmp/av.want"
check "latency p50 5 p90 9 p99 10 max 10" \
    grep -qx '  p50 5.000  p90 9.000  p99 10.000  max 10.000' "$out"

"$TAMIS" insights --top 2 "$log" >"$tmp/top2" 2>/dev/null
n=$(sed -n '/^top symbols/,/^$/p' "$tmp/top2" | sed 1d | grep -c '%')
[ "$n" -eq 2 ] && ok "--top 2 limits the list" || ko "--top 2 limits the list ($n)"

"$TAMIS" insights - < "$log" >"$tmp/stdin" 2>/dev/null
check "stdin with -" grep -qx 'messages:  10' "$tmp/stdin"
"$TAMIS" insights "$log" - < "$log" >"$tmp/two" 2>/dev/null
check "two logs add up" grep -qx 'messages:  20' "$tmp/two"

# A line over the 16 MiB cap is skipped and counted; the next line still counts.
python3 -c 'import sys; sys.stdout.write("{\"verdict\":{\"action\":\"" + "x" * (17 << 20) + "\"}}\n")' > "$tmp/long.json"
head -1 "$log" >> "$tmp/long.json"
"$TAMIS" insights "$tmp/long.json" >"$tmp/long.out" 2>"$tmp/long.err"
check "over-long line is one bad line" grep -qx 'bad lines: 1' "$tmp/long.out"
check "line after an over-long one is read" grep -qx 'messages:  1' "$tmp/long.out"
check "over-long line reported" grep -q '1 too long' "$tmp/long.err"

: > "$tmp/empty.json"
check "empty log: exit 0" "$TAMIS" insights "$tmp/empty.json"

"$TAMIS" insights >/dev/null 2>&1; rc=$?
[ "$rc" -eq 2 ] && ok "no log is a usage error" || ko "no log is a usage error ($rc)"
"$TAMIS" insights --top 0 "$log" >/dev/null 2>&1; rc=$?
[ "$rc" -eq 2 ] && ok "--top 0 is a usage error" || ko "--top 0 is a usage error ($rc)"
"$TAMIS" insights --bogus "$log" >/dev/null 2>&1; rc=$?
[ "$rc" -eq 2 ] && ok "unknown option is a usage error" || ko "unknown option is a usage error ($rc)"
"$TAMIS" insights "$tmp/nope.json" "$log" >"$tmp/miss" 2>"$tmp/miss.err"; rc=$?
[ "$rc" -eq 2 ] && ok "missing log: exit 2" || ko "missing log: exit 2 ($rc)"
check "missing log named, others still read" sh -c \
    "grep -q nope.json '$tmp/miss.err' && grep -qx 'messages:  10' '$tmp/miss'"

html=$tmp/out.html
"$TAMIS" insights --html "$html" "$log" >/dev/null 2>&1; rc=$?
[ "$rc" -eq 0 ] && ok "--html exit 0" || ko "--html exit 0 ($rc)"
check "HTML starts with <!DOCTYPE html>" sh -c "head -c 15 '$html' | grep -qx '<!DOCTYPE html>'"
check "HTML ends with </html>" sh -c "tail -1 '$html' | grep -qx '.*</html>'"
n=$(grep -c '<svg' "$html")
[ "$n" -eq 3 ] && ok "three inline SVG charts" || ko "three inline SVG charts ($n)"
check "no <script in the page" sh -c "! grep -qi '<script' '$html'"
check "injected string escaped" grep -q 'http://evil.test/&lt;script&gt;alert(1)&lt;/script&gt;' "$html"
check "no external assets" sh -c "! grep -Eqi '(src|href)=' '$html'"
python3 - "$html" <<'PY' && ok "HTML tags balanced" || ko "HTML tags balanced"
import sys
from html.parser import HTMLParser
VOID = {"meta", "br", "hr", "img", "input", "link"}
class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack = []
    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append(tag)
    def handle_startendtag(self, tag, attrs):
        pass
    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            sys.exit(1)
p = P()
p.feed(open(sys.argv[1], encoding="utf-8").read())
sys.exit(1 if p.stack else 0)
PY
"$TAMIS" insights --html "$tmp/no/such/dir.html" "$log" >/dev/null 2>&1; rc=$?
[ "$rc" -eq 2 ] && ok "unwritable --html: exit 2" || ko "unwritable --html: exit 2 ($rc)"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
