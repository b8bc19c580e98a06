#!/bin/sh
# vigil scan in-process: output formats, order, labels and evaluation,
# HTML report, errors reported without stopping the run (TAP).
set -u
: "${top_builddir:=$(pwd)}"
VIGIL=$top_builddir/milter/vigil
tmp=$(mktemp -d /tmp/vigil-scan.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
echo "1..9"
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l" | head -40; done; }
GTUBE='XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'
printf 'stages = { "sanity" }\n' >"$tmp/c.conf"
{
	for i in 1 2 3 4 5 6; do
		printf 'From x@y Mon Nov 23 10:00:00 2026\nFrom: s%d@example.com\nTo: u@example.net\nSubject: offer %d\nDate: Mon, 23 Nov 2026 10:00:00 +0000\nMessage-ID: <s%d@example.com>\n\n' "$i" "$i" "$i"
		if [ "$i" -le 4 ]; then echo "$GTUBE"; else echo "nothing"; fi
		echo
	done
} >"$tmp/spam.mbox"
mkdir -p "$tmp/ham/cur" "$tmp/ham/new" "$tmp/ham/tmp"
for i in 1 2 3; do
	printf 'From: h%d@example.org\nTo: u@example.net\nSubject: hi\nDate: Mon, 23 Nov 2026 10:00:00 +0000\nMessage-ID: <h%d@example.org>\n\n>From the desk of\nhello\n' "$i" "$i" >"$tmp/ham/cur/$i:2,S"
done
printf 'From: h9@example.org\nSubject: oops\n\n%s\n' "$GTUBE" >"$tmp/ham/new/9"

"$VIGIL" scan -c "$tmp/c.conf" --jobs 1 --format jsonl --label spam "$tmp/spam.mbox" \
	--label ham "$tmp/ham" --report "$tmp/r.html" >"$tmp/j1" 2>"$tmp/e1"; rc=$?
if [ $rc = 0 ] && [ "$(wc -l <"$tmp/j1")" = 10 ]; then ok "jsonl: one line per message, exit 0"
else notok "jsonl lines" "rc=$rc" "$(cat "$tmp/j1" "$tmp/e1")"; fi
if /usr/bin/python3 - "$tmp/j1" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
keys = {"source", "index", "message_id", "score", "action", "hits", "auth", "ms"}
assert all(keys <= set(r) for r in rows), rows[0]
assert [r["index"] for r in rows[:6]] == list(range(6))
assert [r["action"] for r in rows[:6]] == ["reject"] * 4 + ["accept"] * 2
assert rows[0]["hits"][0] == {"name": "GTUBE", "score": 1000.0}
assert rows[0]["message_id"] == "<s1@example.com>"
assert set(rows[0]["auth"]) == {"spf", "dkim", "dmarc"}
PY
then ok "jsonl keys, order, actions"; else notok "jsonl content" "$(head -3 "$tmp/j1")"; fi
"$VIGIL" scan -c "$tmp/c.conf" --jobs 4 --format jsonl --label spam "$tmp/spam.mbox" \
	--label ham "$tmp/ham" >"$tmp/j4" 2>/dev/null
if [ "$(sed 's/"ms":[0-9.]*//' "$tmp/j1")" = "$(sed 's/"ms":[0-9.]*//' "$tmp/j4")" ]
then ok "--jobs 4 gives the same results in the same order"
else notok "--jobs 4 differs" "$(diff "$tmp/j1" "$tmp/j4" | head)"; fi
# 4 of 6 spam flagged; 1 of 4 ham flagged
if grep -q "  spam                 4             2" "$tmp/e1" &&
   grep -q "  ham                  1             3" "$tmp/e1" &&
   grep -q "spam recall       66.67%" "$tmp/e1" && grep -q "ham FP rate       25.00%" "$tmp/e1"
then ok "evaluation: confusion matrix, recall, FP rate"
else notok "evaluation" "$(cat "$tmp/e1")"; fi
if grep -q "GTUBE  *4  *1" "$tmp/e1"; then ok "per-rule hits on spam and ham"
else notok "per-rule hits" "$(grep GTUBE "$tmp/e1")"; fi
if grep -q "<svg" "$tmp/r.html" && grep -q "sha256" "$tmp/r.html" && grep -q "spam.mbox" "$tmp/r.html"
then ok "HTML report with the ROC plot and reproducibility facts"
else notok "HTML report"; fi
"$VIGIL" scan -c "$tmp/c.conf" --format csv "$tmp/spam.mbox" >"$tmp/csv" 2>/dev/null
if [ "$(head -1 "$tmp/csv")" = "source,index,message_id,score,action,hits,spf,dkim,dmarc,ms,error" ] &&
   [ "$(wc -l <"$tmp/csv")" = 7 ]
then ok "csv header and rows"; else notok "csv" "$(cat "$tmp/csv")"; fi
printf 'x@y.example spam\nbogus\n' >"$tmp/labels"
"$VIGIL" scan -c "$tmp/c.conf" --labels "$tmp/labels" "$tmp/spam.mbox" >/dev/null 2>"$tmp/e2"; rc=$?
if [ $rc = 2 ] && grep -q "labels:2: expected" "$tmp/e2"; then ok "bad --labels file: FILE:LINE, exit 2"
else notok "bad labels" "rc=$rc $(cat "$tmp/e2")"; fi
"$VIGIL" scan -c "$tmp/c.conf" --format jsonl "$tmp/spam.mbox" "$tmp/missing.mbox" >"$tmp/j5" 2>"$tmp/e5"; rc=$?
if [ $rc = 1 ] && [ "$(grep -c '"action"' "$tmp/j5")" = 6 ] && grep -q '"error"' "$tmp/j5" &&
   grep -q "missing.mbox" "$tmp/e5"
then ok "unreadable input reported, the run goes on, exit 1"
else notok "unreadable input" "rc=$rc" "$(cat "$tmp/j5" "$tmp/e5")"; fi
