#!/bin/sh
# vigil scan in-process: output formats, order, labels and evaluation,
# HTML report, errors reported without stopping the run (TAP).
set -u
: "${top_builddir:=$(pwd)}" "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
VIGIL=$top_builddir/milter/vigil
tmp=$(mktemp -d /tmp/vigil-scan.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$top_srcdir/tests/integration/lib/common.sh"
tap_plan 54
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
# Spam that cannot be scanned: the recall and F1 also with it counted as
# missed (an error cannot make a figure better), in text and HTML; the
# sweep says it leaves it out.
printf 'x\000\000\000\000\000\000\000\000\000\000\000\000\n\nbin\n' >"$tmp/binspam.eml"
"$VIGIL" scan -c "$tmp/c.conf" --label spam "$tmp/spam.mbox" "$tmp/binspam.eml" \
	--format jsonl --report "$tmp/rerr.html" >/dev/null 2>"$tmp/eerr"
if grep -q "spam recall       66.67% (57.14% counting the 1 spam not scanned as not flagged)" "$tmp/eerr" &&
   grep -q "spam recall 66.67% (57.14% counting the 1 spam not scanned as not flagged)" "$tmp/rerr.html" &&
   grep -q "F1  *80.00% (72.73% counting the 1 spam not scanned as not flagged)" "$tmp/eerr" &&
   grep -q "F1 80.00% (72.73% counting the 1 spam not scanned as not flagged)" "$tmp/rerr.html" &&
   grep -q "Threshold sweep; the 1 labelled messages not scanned are not in it:" "$tmp/eerr" &&
   ! grep -q "counting the" "$tmp/e1"
then ok "evaluation: recall and F1 with the spam not scanned counted as missed"
else notok "recall with errors" "$(grep -a "recall" "$tmp/eerr" "$tmp/rerr.html")"; fi
if grep -q "GTUBE  *4  *1" "$tmp/e1"; then ok "per-rule hits on spam and ham"
else notok "per-rule hits" "$(grep GTUBE "$tmp/e1")"; fi
if grep -q "<svg" "$tmp/r.html" && grep -q "sha256" "$tmp/r.html" && grep -q "spam.mbox" "$tmp/r.html"
then ok "HTML report with the ROC plot and reproducibility facts"
else notok "HTML report"; fi
"$VIGIL" scan -c "$tmp/c.conf" --format csv "$tmp/spam.mbox" >"$tmp/csv" 2>/dev/null
if [ "$(head -1 "$tmp/csv")" = "source,index,message_id,score,action,hits,spf,dkim,dmarc,ms,error,dropped_rcpts" ] &&
   [ "$(wc -l <"$tmp/csv")" = 7 ]
then ok "csv header and rows"; else notok "csv" "$(cat "$tmp/csv")"; fi
printf 'x@y.example spam\nbogus\n' >"$tmp/labels"
"$VIGIL" scan -c "$tmp/c.conf" --labels "$tmp/labels" "$tmp/spam.mbox" >/dev/null 2>"$tmp/e2"; rc=$?
if [ $rc = 2 ] && grep -q "labels:2: expected" "$tmp/e2"; then ok "bad --labels file: FILE:LINE, exit 2"
else notok "bad labels" "rc=$rc $(cat "$tmp/e2")"; fi
"$VIGIL" scan -c "$tmp/c.conf" --format jsonl "$tmp/spam.mbox" "$tmp/missing.mbox" >"$tmp/j5" 2>"$tmp/e5"; rc=$?
if [ $rc = 1 ] && [ "$(grep -c '"error":null' "$tmp/j5")" = 6 ] &&
   grep -q '"action":"error",.*"error":"cannot read' "$tmp/j5" && grep -q "missing.mbox: cannot read: No such file" "$tmp/e5"
then ok "unreadable input reported, the run goes on, exit 1"
else notok "unreadable input" "rc=$rc" "$(cat "$tmp/j5" "$tmp/e5")"; fi

# ---- adversarial input (each of these was a bug) ----
# Two symlinks back up: the walk used to multiply at every level.
mkdir -p "$tmp/loop/a"
printf 'From: l@example.org\nSubject: l\n\nx\n' >"$tmp/loop/a/m.eml"
ln -s . "$tmp/loop/a/self"; ln -s .. "$tmp/loop/a/up"
timeout 60 "$VIGIL" scan -c "$tmp/c.conf" --format jsonl "$tmp/loop" >"$tmp/j6" 2>"$tmp/e6"; rc=$?
if [ $rc = 0 ] && [ "$(wc -l <"$tmp/j6")" = 1 ]; then ok "symlink loops: each message once"
else notok "symlink loop" "rc=$rc lines=$(wc -l <"$tmp/j6")"; fi

# A labels file naming the PATHs given (relative, absolute, trailing
# slash): every message scanned once, with its label; "LABEL PATH" too;
# an entry no message fell under is reported.
printf '%s spam\nham\t%s/\n%s/nowhere ham\n' "$tmp/spam.mbox" "$tmp/ham" "$tmp" >"$tmp/labels2"
( cd "$tmp" && "$VIGIL" scan -c c.conf --format jsonl --labels labels2 spam.mbox ./ham/ ) \
	>"$tmp/j7" 2>"$tmp/e7"; rc=$?
if [ $rc = 0 ] && [ "$(wc -l <"$tmp/j7")" = 10 ] &&
   grep -q "  spam                 4             2" "$tmp/e7" &&
   grep -q "  ham                  1             3" "$tmp/e7" &&
   grep -q "1 labelled entry matched no scanned message: labels2:3\$" "$tmp/e7" &&
   ! grep -q "//" "$tmp/j7"
then ok "--labels with PATHs: labels by path, no message twice"
else notok "--labels with PATHs" "rc=$rc" "$(cat "$tmp/e7")"; fi
# Without PATHs the labelled paths are scanned; a file inside a labelled
# directory takes its own label and is not scanned twice.
printf 'ham %s\nspam %s/cur/1:2,S\n' "$tmp/ham" "$tmp/ham" >"$tmp/labels3"
"$VIGIL" scan -c "$tmp/c.conf" --labels "$tmp/labels3" >"$tmp/o8" 2>&1; rc=$?
if [ $rc = 0 ] && grep -q "4 messages in" "$tmp/o8" && grep -q "(1 spam, 3 ham)" "$tmp/o8"
then ok "--labels alone: labelled paths scanned once, nearest label wins"
else notok "--labels alone" "rc=$rc" "$(cat "$tmp/o8")"; fi
# The same as CSV with a header line, quoted fields (a comma in a
# name), and "LABEL,PATH" columns.
cp -R "$tmp/ham" "$tmp/ham, copy"
printf 'path,label\n"%s/ham, copy",ham\n1,%s/ham/cur/1:2,S\n' "$tmp" "$tmp" >"$tmp/labels.csv"
"$VIGIL" scan -c "$tmp/c.conf" --labels "$tmp/labels.csv" >"$tmp/o10" 2>&1; rc=$?
if [ $rc = 0 ] && grep -q "^5 messages in" "$tmp/o10" &&
   grep -q "ham/cur/1:2,S: 1 message (spam)" "$tmp/o10" &&
   grep -q "ham, copy: 4 messages (ham)" "$tmp/o10" &&
   grep -q "^  labels $tmp/labels.csv (sha256 $(sha256sum <"$tmp/labels.csv" | cut -c1-64))\$" "$tmp/o10"
then ok "--labels CSV: header line skipped, quoted paths, either column order; the file's digest in the report"
else notok "--labels CSV" "rc=$rc" "$(cat "$tmp/o10")"; fi
printf 'x spam\nhalf-a-line\n' >"$tmp/labels4"
"$VIGIL" scan -c "$tmp/c.conf" --labels "$tmp/labels4" >/dev/null 2>"$tmp/e9"; rc=$?
if [ $rc = 2 ] && grep -q 'labels4:2: expected "PATH spam|ham"' "$tmp/e9"; then ok "labels: FILE:LINE and what was expected"
else notok "labels error" "rc=$rc" "$(cat "$tmp/e9")"; fi

# A labels file's relative paths are its directory's, though the current
# directory has the same names (a decoy here); from the current
# directory only when not there, and then noted.
mkdir -p "$tmp/idx" "$tmp/decoy/sub/cwdonly"
printf 'From: d@example.org\nSubject: decoy\n\nx\n' >"$tmp/decoy/spam.mbox"
cp "$tmp/ham/new/9" "$tmp/decoy/sub/cwdonly/m"
printf 'spam ../spam.mbox\nham ../ham\nham cwdonly\n' >"$tmp/idx/labels"
( cd "$tmp/decoy/sub" && "$VIGIL" scan -c ../../c.conf --labels ../../idx/labels ) \
	>"$tmp/o14" 2>&1; rc=$?
if [ $rc = 0 ] && grep -q "^11 messages in" "$tmp/o14" &&
   grep -q "^  \.\./\.\./spam.mbox: 6 messages (spam)" "$tmp/o14" &&
   grep -q "labels: 1 entry not beside it taken from the current directory (first at line 3)" "$tmp/o14"
then ok "--labels: relative paths from the labels file's directory first"
else notok "--labels base directory" "rc=$rc" "$(cat "$tmp/o14")"; fi
# Each message file once: a labels line twice, a PATH twice or spelled
# two ways, a PATH inside another (its nearest label wins).
printf 'spam %s\nspam %s\n' "$tmp/spam.mbox" "$tmp/spam.mbox" >"$tmp/labels5"
"$VIGIL" scan -c "$tmp/c.conf" --labels "$tmp/labels5" >"$tmp/o15" 2>&1; rc=$?
( cd "$tmp" && "$VIGIL" scan -c c.conf --label spam spam.mbox ./spam.mbox \
	"$tmp/spam.mbox" ham --label ham ham/cur/1:2,S ) >"$tmp/o16" 2>&1; rc2=$?
if [ $rc = 0 ] && grep -q "^6 messages in" "$tmp/o15" &&
   grep -q "1 labels entry repeats an earlier one, read once: $tmp/labels5:2" "$tmp/o15" &&
   ! grep -q "matched no scanned" "$tmp/o15" &&
   [ $rc2 = 0 ] && grep -q "^10 messages in" "$tmp/o16" &&
   grep -q "\./spam.mbox is spam.mbox again, read once" "$tmp/o16" &&
   grep -q "^  ham: 4 messages (3 spam, 1 ham)" "$tmp/o16"
then ok "each message file read once; nearest label wins for --label too"
else notok "repeats and nesting" "rc=$rc rc2=$rc2" "$(cat "$tmp/o15" "$tmp/o16")"; fi
"$VIGIL" scan -c "$tmp/c.conf" --label spam "$tmp/ham" --label ham "$tmp/ham/" \
	>"$tmp/o17" 2>&1; rc=$?
printf 'spam %s\n' "$tmp/ham" >"$tmp/labels6"
"$VIGIL" scan -c "$tmp/c.conf" --labels "$tmp/labels6" --label ham "$tmp/ham" \
	>"$tmp/o18" 2>&1; rc2=$?
if [ $rc = 2 ] && grep -q "labelled spam (--label spam $tmp/ham) and ham (--label ham $tmp/ham/)" "$tmp/o17" &&
   [ $rc2 = 2 ] && grep -q "labelled spam ($tmp/labels6:1) and ham (--label ham $tmp/ham)" "$tmp/o18" &&
   ! grep -q "messages in" "$tmp/o17" "$tmp/o18"
then ok "a path labelled spam and ham by --label: exit 2, both places named"
else notok "--label conflict" "rc=$rc rc2=$rc2" "$(cat "$tmp/o17" "$tmp/o18")"; fi
# Trailing comments in both orders, a byte order mark; an entry naming
# nothing is an error before the run when the entries are the corpus.
printf '\357\273\277spam %s # the spam\n%s ham\t# the ham\n' "$tmp/spam.mbox" "$tmp/ham" >"$tmp/labels7"
"$VIGIL" scan -c "$tmp/c.conf" --labels "$tmp/labels7" >"$tmp/o19" 2>&1; rc=$?
printf 'spam %s\nham %s/nowhere # typo\n' "$tmp/spam.mbox" "$tmp" >"$tmp/labels8"
"$VIGIL" scan -c "$tmp/c.conf" --format jsonl --labels "$tmp/labels8" >"$tmp/j20" 2>"$tmp/e20"; rc2=$?
if [ $rc = 0 ] && grep -q "^10 messages in" "$tmp/o19" && grep -q "(spam)" "$tmp/o19" &&
   grep -q "^  $tmp/ham: 4 messages (ham)" "$tmp/o19" &&
   [ $rc2 = 2 ] && [ ! -s "$tmp/j20" ] &&
   grep -q "^$tmp/labels8:2: $tmp/nowhere: no such file or directory" "$tmp/e20"
then ok "labels: trailing comments, byte order mark; a missing path is FILE:LINE, exit 2"
else notok "labels comments/missing" "rc=$rc rc2=$rc2" "$(cat "$tmp/o19" "$tmp/e20")"; fi
# A partial scan against a long labels file: one summary line, in line
# order.
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do printf 'spam %s/m%d\n' "$tmp" "$i"; done >"$tmp/labels9"
printf 'ham %s\n' "$tmp/ham" >>"$tmp/labels9"
"$VIGIL" scan -c "$tmp/c.conf" --labels "$tmp/labels9" "$tmp/ham" >"$tmp/o21" 2>&1; rc=$?
if [ $rc = 0 ] && [ "$(grep -c "matched no scanned" "$tmp/o21")" = 1 ] &&
   grep -q "vigil scan: 12 labelled entries matched no scanned message; first 5: $tmp/labels9:1 $tmp/labels9:2 $tmp/labels9:3 $tmp/labels9:4 $tmp/labels9:5\$" "$tmp/o21"
then ok "unmatched labels entries: one summary line"
else notok "unmatched summary" "rc=$rc" "$(cat "$tmp/o21")"; fi

# Any bytes in a Message-ID or a file name: valid JSON and CSV.
mkdir -p "$tmp/weird"
printf 'Message-ID: <a\001b\033[31m\377\376,"q">\nFrom: a@example.org\nSubject: w\n\nx\n' \
	>"$tmp/weird/a,\"q
b.eml"
printf 'From\000\000\000\000\000\000\000\000\000\nSubject: binary\n\nx\n' >"$tmp/weird/b.eml"
"$VIGIL" scan -c "$tmp/c.conf" --format jsonl "$tmp/weird" >"$tmp/j10" 2>/dev/null
"$VIGIL" scan -c "$tmp/c.conf" --format csv "$tmp/weird" >"$tmp/c10" 2>/dev/null
if /usr/bin/python3 - "$tmp/j10" "$tmp/c10" "$tmp/weird" <<'PY'
import csv, json, os, sys
keys = {"source", "index", "message_id", "score", "action", "dropped_rcpts", "hits", "auth",
        "ms", "error"}
rows = [json.loads(l.decode("utf-8")) for l in open(sys.argv[1], "rb")]
assert len(rows) == 2 and all(set(r) == keys for r in rows), rows
a, b = rows
assert a["source"] == os.path.join(sys.argv[3], 'a,"q\nb.eml'), a
# bytes that are not UTF-8 as \xHH (a backslash as \\): recoverable
assert a["message_id"].startswith('<a\x01b\x1b[31m\\xff\\xfe,"q">'), a
assert b["action"] == "error" and "binary" in b["error"] and b["score"] is None
assert b["dropped_rcpts"] == [] and a["dropped_rcpts"] == [], rows
# CSV: the same policy, so valid UTF-8 (strict decoding), and control
# characters other than line breaks and tabs as \xHH too (no control
# byte in the file)
c = list(csv.reader(open(sys.argv[2], newline="", encoding="utf-8")))
assert len(c) == 3 and all(len(r) == 12 for r in c), c
ctl = lambda s: "".join("\\x%02x" % ord(ch) if (ord(ch) < 32 and ch not in "\t\r\n")
                        or ord(ch) == 127 else ch for ch in s)
assert c[1][0] == a["source"] and c[1][2] == ctl(a["message_id"]), c[1]
assert c[1][2].startswith('<a\\x01b\\x1b[31m\\xff'), c[1]
assert c[2][4] == "error" and "binary" in c[2][10] and c[2][11] == "", c[2]
PY
then ok "jsonl and csv: every key on every line, any bytes quoted"
else notok "jsonl/csv escaping" "$(cat "$tmp/j10" "$tmp/c10")"; fi

# A file name is anybody's bytes: on stderr (a terminal, often) a
# control character in it is written \xHH, never as itself.
esc=$(printf '\033')
printf 'junk\000\000\000\000\000' >"$tmp/weird/c${esc}[31m.eml"
"$VIGIL" scan -c "$tmp/c.conf" --format jsonl "$tmp/weird" >/dev/null 2>"$tmp/e10"
mkdir -p "$tmp/escmd/cur" "$tmp/escmd/new" "$tmp/escmd/x${esc}[31m"
cp "$tmp/ham/new/9" "$tmp/escmd/cur/1"
"$VIGIL" scan -c "$tmp/c.conf" --format jsonl "$tmp/escmd" >/dev/null 2>>"$tmp/e10"
if grep -q "escmd/x\\\\x1b\[31m: in a maildir" "$tmp/e10" && grep -q "c\\\\x1b\[31m.eml: message 0 at byte 0: binary data" "$tmp/e10" &&
   ! grep -q "$esc" "$tmp/e10"
then ok "stderr: a control character in a file name as \\xHH"
else notok "stderr escaping" "$(cat -v "$tmp/e10")"; fi

# --report never overwrites what the run reads: a PATH, a file under a
# PATH directory, the labels file, the configuration (both modes; exit
# 2 before any message); a new file inside a PATH directory is noted.
cp "$tmp/spam.mbox" "$tmp/keep.mbox"
printf '%s spam\n' "$tmp/keep.mbox" >"$tmp/keep.labels"
cp "$tmp/c.conf" "$tmp/keep.conf"
before=$(cat "$tmp/keep.mbox" "$tmp/keep.labels" "$tmp/keep.conf" "$tmp/ham/new/9" | cksum)
rcs=""
for r in "$tmp/keep.mbox" "$tmp/keep.labels" "$tmp/keep.conf" "$tmp/ham/new/9"; do
	"$VIGIL" scan -c "$tmp/keep.conf" --labels "$tmp/keep.labels" "$tmp/keep.mbox" --label ham "$tmp/ham" \
		--report "$r" >/dev/null 2>>"$tmp/e13"; rcs="$rcs$?"
done
"$VIGIL" scan --milter unix:"$tmp/none.sock" --label spam "$tmp/keep.mbox" --report "$tmp/keep.mbox" \
	>/dev/null 2>>"$tmp/e13"; rcs="$rcs$?"
"$VIGIL" scan -c "$tmp/keep.conf" --label ham "$tmp/ham" --report "$tmp/ham/r.html" \
	>/dev/null 2>>"$tmp/e13"; rcs="$rcs$?"
rm -f "$tmp/ham/r.html"
after=$(cat "$tmp/keep.mbox" "$tmp/keep.labels" "$tmp/keep.conf" "$tmp/ham/new/9" | cksum)
if [ "$rcs" = 222220 ] && [ "$before" = "$after" ] &&
   [ "$(grep -c "which the run reads; not overwritten" "$tmp/e13")" = 5 ] &&
   grep -q "ham/r.html: written inside $tmp/ham; a later run over $tmp/ham reads it as a message" "$tmp/e13"
then ok "--report spares the run's inputs (exit 2), notes a report inside a PATH"
else notok "--report over an input" "rcs=$rcs" "$(cat "$tmp/e13")"; fi

# An empty file is an empty mbox, and named; bad --jobs is a usage error.
: >"$tmp/empty.mbox"
"$VIGIL" scan -c "$tmp/c.conf" --format jsonl "$tmp/empty.mbox" >"$tmp/j11" 2>"$tmp/e11"; rc=$?
if [ $rc = 0 ] && [ ! -s "$tmp/j11" ] && grep -q "^0 messages" "$tmp/e11" &&
   grep -q "empty.mbox: empty file, no message in it" "$tmp/e11"
then ok "empty file: no message, named, exit 0"
else notok "empty file" "rc=$rc" "$(cat "$tmp/j11" "$tmp/e11")"; fi
# A byte order mark before the first line (a message saved on Windows),
# of a message file or an mbox, is not part of the message.
printf '\357\273\277From: a@example.org\nSubject: bom\n\nhi\n' >"$tmp/bom.eml"
{ printf '\357\273\277'; cat "$tmp/spam.mbox"; } >"$tmp/bom.mbox"
"$VIGIL" scan -c "$tmp/c.conf" --format jsonl "$tmp/bom.eml" "$tmp/bom.mbox" >"$tmp/j12" 2>"$tmp/e12"; rc=$?
if [ $rc = 0 ] && [ "$(wc -l <"$tmp/j12")" = 7 ] && ! grep -q '"action":"error"' "$tmp/j12"
then ok "a UTF-8 byte order mark before the first line is skipped"
else notok "byte order mark" "rc=$rc" "$(cat "$tmp/j12" "$tmp/e12")"; fi
"$VIGIL" scan -c "$tmp/c.conf" --jobs two "$tmp/spam.mbox" >/dev/null 2>&1; rc=$?
if [ $rc = 2 ]; then ok "--jobs two: exit 2"; else notok "--jobs two" "rc=$rc"; fi

# Past max_message_size the head is scanned as vigild does (not an error).
printf 'stages = { "sanity" }\nmax_message_size = "1k"\n' >"$tmp/small.conf"
{ printf 'From: a@example.org\nSubject: big\nMessage-ID: <big@x>\n\n'
  i=0; while [ $i -lt 100 ]; do echo "0123456789012345678901234567890123456789"; i=$((i + 1)); done
} >"$tmp/big.eml"
"$VIGIL" scan -c "$tmp/small.conf" --format jsonl "$tmp/big.eml" >"$tmp/j12" 2>/dev/null; rc=$?
if [ $rc = 0 ] && grep -q '"VIGIL_TRUNCATED"' "$tmp/j12" && grep -q '"error":null' "$tmp/j12"
then ok "oversized message: its head scanned, VIGIL_TRUNCATED"
else notok "oversized" "rc=$rc" "$(cat "$tmp/j12")"; fi

# The evaluation threshold is where flagging starts (add_header off: the
# reject threshold); degenerate runs (all spam) print no NaN; the HTML
# parses; a report that cannot be written is exit 2.
printf 'stages = { "sanity" }\nactions {\n add_header = "off"\n reject = "12"\n}\n' >"$tmp/off.conf"
"$VIGIL" scan -c "$tmp/off.conf" --label spam "$tmp/spam.mbox" --report "$tmp/r2.html" >"$tmp/o13" 2>&1; rc=$?
if [ $rc = 0 ] && grep -q "By the actions taken (default threshold 12): 6 spam, 0 ham" "$tmp/o13" &&
   grep -q "  spam                 4             2" "$tmp/o13" &&
   ! grep -qi "nan\|inf" "$tmp/o13" "$tmp/r2.html" &&
   /usr/bin/python3 -c '
import html.parser, sys
class P(html.parser.HTMLParser):
    stack = []; svg = 0
    def handle_starttag(self, t, a):
        if t == "svg": self.svg += 1
        if t not in ("meta", "br", "circle", "rect"): self.stack.append(t)
    def handle_startendtag(self, t, a): pass
    def handle_endtag(self, t):
        assert self.stack and self.stack[-1] == t, (t, self.stack[-3:])
        self.stack.pop()
p = P(); p.feed(open(sys.argv[1]).read()); p.close()
assert p.svg == 0 and not p.stack, p.stack' "$tmp/r2.html" &&
   grep -q "No curve: it needs spam and ham with a score (6 spam, 0 ham here)" "$tmp/r2.html"
then ok "threshold from the actions, no NaN, well-formed HTML, no ROC from spam alone"
else notok "threshold/HTML" "rc=$rc" "$(cat "$tmp/o13")"; fi
"$VIGIL" scan -c "$tmp/c.conf" --label spam "$tmp/spam.mbox" --report "$tmp/nodir/r.html" >/dev/null 2>&1; rc=$?
if [ $rc = 2 ]; then ok "--report not writable: exit 2"; else notok "--report not writable" "rc=$rc"; fi
# A report whose write fails half-way (here a file size limit, as a full
# disk would) is exit 2 and leaves the earlier report whole, no temporary
# file beside it; a complete one replaces it.
echo OLD-REPORT >"$tmp/keep.html"
( trap '' XFSZ; ulimit -f 2; exec "$VIGIL" scan -c "$tmp/c.conf" --label spam "$tmp/spam.mbox" \
	--report "$tmp/keep.html" >/dev/null 2>"$tmp/efb" ); rc=$?
left=$(ls "$tmp" | grep -c 'keep\.html\..*\.tmp')
kept=$(cat "$tmp/keep.html")
"$VIGIL" scan -c "$tmp/c.conf" --label spam "$tmp/spam.mbox" --report "$tmp/keep.html" >/dev/null 2>&1; rc2=$?
if [ $rc = 2 ] && [ "$left" = 0 ] && [ "$kept" = OLD-REPORT ] && grep -q "keep.html" "$tmp/efb" && [ $rc2 = 0 ] &&
   grep -q '</html>' "$tmp/keep.html" && ! grep -q OLD-REPORT "$tmp/keep.html"
then ok "--report cut by a failed write: exit 2, the earlier report kept; a whole one replaces it"
else notok "--report failed write" "rc=$rc left=$left kept=$(echo "$kept" | head -c 60) rc2=$rc2" "$(cat "$tmp/efb")"; fi
# A report path that is a symbolic link: its target is replaced (the link
# stays), with the target's mode; a hard-linked report is written in
# place (both names see it); a link to nothing yet creates its target.
mkdir "$tmp/rl" && echo OLD >"$tmp/rl/dated.html" && chmod 600 "$tmp/rl/dated.html" &&
	ln -s dated.html "$tmp/rl/latest.html" && ln -s none.html "$tmp/rl/dangling.html"
"$VIGIL" scan -c "$tmp/c.conf" --label spam "$tmp/spam.mbox" --report "$tmp/rl/latest.html" >/dev/null 2>&1; rc=$?
ln "$tmp/rl/dated.html" "$tmp/rl/hard.html"
"$VIGIL" scan -c "$tmp/c.conf" --label ham "$tmp/spam.mbox" --report "$tmp/rl/hard.html" >/dev/null 2>&1; rc2=$?
"$VIGIL" scan -c "$tmp/c.conf" --label spam "$tmp/spam.mbox" --report "$tmp/rl/dangling.html" >/dev/null 2>&1; rc3=$?
if [ "$rc$rc2$rc3" = 000 ] && [ -L "$tmp/rl/latest.html" ] && [ "$(stat -c %a "$tmp/rl/dated.html")" = 600 ] &&
   grep -q '</html>' "$tmp/rl/dated.html" && cmp -s "$tmp/rl/dated.html" "$tmp/rl/hard.html" &&
   [ "$(stat -c %h "$tmp/rl/hard.html")" = 2 ] && [ -L "$tmp/rl/dangling.html" ] && grep -q '</html>' "$tmp/rl/none.html" &&
   [ "$(ls "$tmp/rl" | grep -c tmp)" = 0 ]
then ok "--report through a symbolic link replaces its target with its mode; hard links and dangling links kept"
else notok "--report link" "rc=$rc$rc2$rc3" "$(ls -la "$tmp/rl")"; fi
# Output that cannot be written (a full disk) is an I/O error: exit 2.
if [ -w /dev/full ]; then
	"$VIGIL" scan -c "$tmp/c.conf" --format jsonl "$tmp/spam.mbox" >/dev/full 2>/dev/null; rc=$?
	if [ $rc = 2 ]; then ok "stdout full: exit 2"; else notok "stdout full" "rc=$rc"; fi
	# the evaluation goes to stderr with jsonl: lost there, exit 2 too
	"$VIGIL" scan -c "$tmp/c.conf" --format jsonl --label spam "$tmp/spam.mbox" >/dev/null 2>/dev/full; rc=$?
	"$VIGIL" scan -c "$tmp/c.conf" --format jsonl --label spam "$tmp/spam.mbox" >/dev/null 2>&1; rc2=$?
	if [ $rc = 2 ] && [ $rc2 = 0 ]; then ok "stderr full (the evaluation lost): exit 2"
	else notok "stderr full" "rc=$rc rc2=$rc2"; fi
else
	ok "stdout full # SKIP no /dev/full"
	ok "stderr full # SKIP no /dev/full"
fi
# A DNS that never answers (a loopback port nothing listens on): the
# summary says how many messages got a DNS temperror.
printf 'stages = { "sanity", "spf", "dmarc" }\ndns {\n servers = { "127.0.0.1@%s" }\n timeout = 200\n budget = 400\n}\n' \
	"$(free_port)" >"$tmp/nodns.conf"
printf 'From: a@example.com\nSubject: s\n\nx\n' >"$tmp/nodns.eml"
cp "$tmp/nodns.eml" "$tmp/nodns2.eml"
"$VIGIL" scan -c "$tmp/nodns.conf" --client-ip 192.0.2.1 --mail-from a@example.com \
	"$tmp/nodns.eml" "$tmp/nodns2.eml" >"$tmp/nodns.out" 2>&1
if grep -q "; 2 with a DNS temperror (spf, dkim or dmarc: no answer in time)$" "$tmp/nodns.out"
then ok "no DNS answer: the summary counts the messages with a temperror"
else notok "DNS temperror count" "$(cat "$tmp/nodns.out")"; fi
# A gzip-compressed mbox: the same messages, actions and offsets.
gzip -c "$tmp/spam.mbox" >"$tmp/spam.mbox.gz"
"$VIGIL" scan -c "$tmp/c.conf" --format jsonl "$tmp/spam.mbox.gz" >"$tmp/j14" 2>/dev/null; rc=$?
"$VIGIL" scan -c "$tmp/c.conf" --format jsonl "$tmp/spam.mbox" >"$tmp/j15" 2>/dev/null
strip() { sed 's/"source":"[^"]*",//; s/"ms":[0-9.]*//' "$1"; }
if [ $rc = 0 ] && [ "$(wc -l <"$tmp/j14")" = 6 ] && [ "$(strip "$tmp/j14")" = "$(strip "$tmp/j15")" ]
then ok "gzip-compressed mbox: read decompressed, same results"
else notok "gzip mbox" "rc=$rc" "$(diff "$tmp/j14" "$tmp/j15" | head)"; fi

# A paragraph opening "From " after an empty line (mboxo leaves it
# unquoted) is body text, not a separator; a file without a final
# newline ends its last message as if it were there: no error, exit 0,
# the same from a file, gzip'd and on standard input.
printf 'From a@example.com Mon Jan  1 00:00:00 2024\nFrom: a@example.com\nSubject: s\nMessage-ID: <d1@x>\n\nHello,\n\nFrom the desk of the CEO: we are great.\nBye\n\nFrom b@example.com Mon Jan  1 00:00:00 2024\nFrom: b@example.com\nSubject: t\nMessage-ID: <d2@x>\n\nlast line, no newline' >"$tmp/desk.mbox"
gzip -c "$tmp/desk.mbox" >"$tmp/desk.mbox.gz"
mkdir "$tmp/deskrules"
printf 'body BYE /CEO: we are great. Bye/\nscore BYE 0.1\nbody LAST /last line, no newline/\nscore LAST 0.2\n' >"$tmp/deskrules/r.cf"
printf 'stages = { "rules" }\nrules = { "%s" }\n' "$tmp/deskrules" >"$tmp/desk.conf"
"$VIGIL" scan -c "$tmp/desk.conf" --format jsonl "$tmp/desk.mbox" >"$tmp/j25" 2>"$tmp/e25"; rc=$?
"$VIGIL" scan -c "$tmp/desk.conf" --format jsonl "$tmp/desk.mbox.gz" >"$tmp/j26" 2>/dev/null; rc2=$?
"$VIGIL" scan -c "$tmp/desk.conf" --format jsonl - <"$tmp/desk.mbox" >"$tmp/j27" 2>/dev/null; rc3=$?
if [ "$rc$rc2$rc3" = 000 ] && /usr/bin/python3 - "$tmp/j25" "$tmp/j26" "$tmp/j27" <<'PY'
import json, sys
runs = []
for f in sys.argv[1:]:
    rows = [json.loads(l) for l in open(f)]
    for r in rows:
        r.pop("source"); r.pop("ms")
    runs.append(rows)
rows = runs[0]
assert [r["message_id"] for r in rows] == ["<d1@x>", "<d2@x>"], rows
assert all(r["error"] is None and r["action"] == "accept" for r in rows), rows
assert [[h["name"] for h in r["hits"]] for r in rows] == [["BYE"], ["LAST"]], rows
assert runs[1] == rows and runs[2] == rows, runs
PY
then ok "mbox: \"From the desk\" paragraph kept in its message; no final newline is fine (file, gzip, stdin)"
else notok "From paragraph / final newline" "rc=$rc $rc2 $rc3" "$(cat "$tmp/j25" "$tmp/e25" "$tmp/j26" "$tmp/j27")"; fi

# Text columns line up by characters: a UTF-8 file name and one with a
# Latin-1 byte (one column, as printed) against ASCII names.
mkdir "$tmp/names"
for n in "$(printf '\303\274n\303\257c\303\270d\303\251.eml')" unicode.eml "$(printf 'caf\351.eml')" cafe.eml; do
	printf 'From: a@example.org\nSubject: n\n\nx\n' >"$tmp/names/$n"
done
( cd "$tmp" && "$VIGIL" scan -c c.conf names ) >"$tmp/o28" 2>/dev/null; rc=$?
if [ $rc = 0 ] && /usr/bin/python3 - "$tmp/o28" <<'PY'
import sys
text = open(sys.argv[1], "rb").read().decode("utf-8", "surrogateescape")
rows = [r for r in text.splitlines() if r.startswith("names/")]
cols = {r.index(" accept") for r in rows}
assert len(rows) == 4 and len(cols) == 1, rows
PY
then ok "text table: columns by characters on non-ASCII names"
else notok "text columns" "rc=$rc" "$(cat "$tmp/o28")"; fi

# A rule that reaches the PCRE2 match limit: the first message named in
# the warning, the messages per rule counted at the end (stderr) and in
# the evaluation (text and HTML); the same count whatever --jobs.
mkdir "$tmp/limrules"
printf 'body BT_LIMIT /(a+)+b/\nscore BT_LIMIT 1.0\n' >"$tmp/limrules/r.cf"
printf 'stages = { "rules" }\nrules = { "%s" }\nrule_match_limit = 1000\n' "$tmp/limrules" >"$tmp/lim.conf"
{ for i in 1 2 3; do
	printf 'From x@y Mon Jan  1 00:00:00 2024\nFrom: a@example.org\nSubject: m%d\n\n' "$i"
	if [ $i = 2 ]; then echo "nothing"; else echo "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa b"; fi
	echo
done; } >"$tmp/lim.mbox"
off=$(/usr/bin/python3 -c "import sys; print(open(sys.argv[1],'rb').read().index(b'From x@y Mon Jan  1 00:00:00 2024\nFrom: a@example.org\nSubject: m3'))" "$tmp/lim.mbox")
( cd "$tmp" && "$VIGIL" scan -c lim.conf --jobs 1 --format jsonl --label spam lim.mbox --report lim.html ) \
	>/dev/null 2>"$tmp/e29"; rc=$?
( cd "$tmp" && "$VIGIL" scan -c lim.conf --jobs 4 --format jsonl lim.mbox ) >/dev/null 2>"$tmp/e30"; rc2=$?
sum="rule BT_LIMIT reached a PCRE2 limit on 2 messages, counted as not hit (first: lim.mbox message 0 at byte 0)"
if [ $rc = 0 ] && [ $rc2 = 0 ] &&
   [ "$(grep -c "reached the PCRE2 match limit" "$tmp/e29")" = 1 ] &&
   grep -q "warning: rules: rule BT_LIMIT reached the PCRE2 match limit on lim.mbox message 0 at byte 0; counted as not hit" "$tmp/e29" &&
   grep -q "^vigil scan: $sum\$" "$tmp/e29" && grep -q "^vigil scan: $sum\$" "$tmp/e30" &&
   grep -q "^  PCRE2 limit: rule BT_LIMIT on 2 messages, counted as not hit (first: lim.mbox message 0 at byte 0)\$" "$tmp/e29" &&
   grep -q "<li>PCRE2 limit: rule BT_LIMIT on 2 messages, counted as not hit (first: lim.mbox message 0 at byte 0)</li>" "$tmp/lim.html" &&
   "$VIGIL" explain -c "$tmp/lim.conf" --index 2 "$tmp/lim.mbox" 2>&1 >/dev/null |
	grep -q "rule BT_LIMIT reached the PCRE2 match limit on $tmp/lim.mbox message 2 at byte $off;"
then ok "PCRE2 limit: the message named, messages counted per rule (stderr, report), explain names it"
else notok "PCRE2 limit" "rc=$rc rc2=$rc2" "$(cat "$tmp/e29" "$tmp/e30")"; fi

# ---- interruption (SIGINT, SIGTERM) ----
# A corpus far too large to finish first: one mbox of 2000 messages,
# given 300 times. Each signal is sent once output has appeared, so the
# test waits for progress, not for a time.
big_corpus "$tmp" 300
# shellcheck disable=SC2086
dfl "$VIGIL" scan -c "$tmp/c.conf" --jobs 2 --format jsonl --label ham $many \
	--report "$tmp/int.html" >"$tmp/int.jsonl" 2>"$tmp/int.err" &
pid=$!
if wait_output "$tmp/int.jsonl" $pid; then kill -INT $pid; fi
reap $pid; rc=$?
lines=$(wc -l <"$tmp/int.jsonl")
# The signal may come while the reader is inside a message: that one is
# a line of its own, an error (vigil.1, Interruption), not evaluated.
cut=$(grep -c '"error":"reading interrupted after' "$tmp/int.jsonl")
if [ $rc = 130 ] && [ "$cut" -le 1 ] && /usr/bin/python3 -c '
import json, sys
n = 0
for l in open(sys.argv[1], encoding="utf-8"):
    assert l.endswith("\n"), l[-80:]
    o = json.loads(l); n += 1
    assert o["action"] == "accept" or o["error"].startswith("reading interrupted after"), l
assert 0 < n < 600000, n' "$tmp/int.jsonl" &&
   grep -q "^vigil scan: interrupted by SIGINT after $lines messages" "$tmp/int.err" &&
   grep -q "^$lines messages in .*; interrupted by SIGINT after $lines messages\$" "$tmp/int.err" &&
   grep -q "^PARTIAL REPORT: interrupted by SIGINT after $lines messages" "$tmp/int.err" &&
   grep -q "  ham                  0 *$((lines - cut))\$" "$tmp/int.err"
then ok "SIGINT: in-flight messages finished, every line whole, summary and evaluation of those, exit 130"
else notok "SIGINT" "rc=$rc lines=$lines" "$(tail -c 300 "$tmp/int.jsonl")" "$(cat "$tmp/int.err")"; fi
if grep -q "<title>vigil scan report (partial)</title>" "$tmp/int.html" &&
   grep -q "Partial report: interrupted by SIGINT after $lines messages" "$tmp/int.html"
then ok "SIGINT: the HTML report written, marked partial"
else notok "SIGINT report" "$(head -c 600 "$tmp/int.html" 2>&1)"; fi
# shellcheck disable=SC2086
"$VIGIL" scan -c "$tmp/c.conf" --jobs 2 --format csv $many >"$tmp/term.csv" 2>"$tmp/term.err" &
pid=$!
if wait_output "$tmp/term.csv" $pid; then kill -TERM $pid; fi
reap $pid; rc=$?
if [ $rc = 143 ] && /usr/bin/python3 -c '
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8")))
assert len(rows) > 1 and all(len(r) == 12 for r in rows), rows[-1]
cut = [r for r in rows[1:] if r[4] != "accept"]   # as with SIGINT above
assert len(cut) <= 1 and all(r[10].startswith("reading interrupted after")
                             for r in cut), cut' "$tmp/term.csv" &&
   grep -q "interrupted by SIGTERM after $(($(wc -l <"$tmp/term.csv") - 1)) messages" "$tmp/term.err"
then ok "SIGTERM: whole CSV rows, summary, exit 143"
else notok "SIGTERM" "rc=$rc" "$(tail -c 300 "$tmp/term.csv")" "$(cat "$tmp/term.err")"; fi
# A second signal takes the default action at once. Standard output is
# a pipe nobody reads: once it is full the run cannot end by itself, so
# the first signal (taken: the handler is reset, SigCgt) leaves it
# running and the second one kills it. What the pipe holds is whole
# JSON lines (each row one write; audit25 L10).
mkfifo "$tmp/out.fifo"
exec 3<>"$tmp/out.fifo"
# shellcheck disable=SC2086
dfl "$VIGIL" scan -c "$tmp/c.conf" --jobs 1 --format jsonl $many >"$tmp/out.fifo" 2>"$tmp/two.err" &
pid=$!
n=0
if pipe_full "$tmp/out.fifo" $pid; then
	kill -INT $pid
	while [ $n -lt 600 ] && caught $pid; do sleep 0.1; n=$((n + 1)); done
fi
if kill -0 $pid 2>/dev/null && ! caught $pid; then alive=yes; else alive=no; fi
kill -INT $pid
reap $pid; rc=$?
/usr/bin/python3 -c '
import json, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)
data = b""
while True:
    try:
        b = os.read(fd, 65536)
    except BlockingIOError:
        break
    if not b:
        break
    data += b
lines = data.decode("utf-8").split("\n")
assert len(lines) > 1 and lines[-1] == "", lines[-1][-80:]
for l in lines[:-1]:
    json.loads(l)' "$tmp/out.fifo" 2>"$tmp/two.check"; whole=$?
exec 3>&-
if [ "$alive" = yes ] && [ $rc = 130 ] && ! grep -q "messages in" "$tmp/two.err" && [ $whole = 0 ]
then ok "a second signal ends the run at once, leaving whole JSON lines"
else notok "second signal" "alive=$alive rc=$rc n=$n" "$(cat "$tmp/two.err" "$tmp/two.check")"; fi

# --report that cannot be written: exit 2 before any message is read.
"$VIGIL" scan -c "$tmp/c.conf" --format jsonl --label spam "$tmp/spam.mbox" \
	--report "$tmp/nodir/r.html" >"$tmp/o20" 2>"$tmp/e20"; rc=$?
if [ $rc = 2 ] && [ ! -s "$tmp/o20" ] && ! grep -q "messages in" "$tmp/e20" &&
   grep -q "^vigil scan: --report $tmp/nodir/r.html: No such file or directory\$" "$tmp/e20"
then ok "--report not writable: exit 2 before scanning"
else notok "--report checked first" "rc=$rc" "$(cat "$tmp/o20" "$tmp/e20")"; fi

# Per-domain thresholds: the evaluation counts the action each message
# got (example.net tags from 1, the default from 5).
printf 'From: s@example.com\nTo: u@example.net\nSubject: x\nMessage-ID: <d@x>\n\nx\n' >"$tmp/nodate.eml"
printf 'stages = { "sanity" }\nactions {\n add_header = "5"\n}\ndomain "example.net" {\n add_header = "1"\n}\n' >"$tmp/dom.conf"
"$VIGIL" scan -c "$tmp/dom.conf" --label ham "$tmp/nodate.eml" >"$tmp/o21" 2>&1; rc=$?
if [ $rc = 0 ] && grep -q "nodate.eml .* add_header .*MISSING_DATE" "$tmp/o21" &&
   grep -q "By the actions taken (default threshold 5): 0 spam, 1 ham" "$tmp/o21" &&
   grep -q "  ham                  1             0" "$tmp/o21" &&
   grep -q "ham FP rate      100.00%" "$tmp/o21" &&
   grep -q "per-domain thresholds for 1 domain (example.net): flagged is the action" "$tmp/o21"
then ok "per-domain thresholds: flagged as the action shown, and said"
else notok "per-domain thresholds" "rc=$rc" "$(cat "$tmp/o21")"; fi

# A per-domain policy that refuses what the default delivers: with both
# recipients the message goes to the other one, and each format names
# the recipient dropped, as vigild has the MTA remove it; with the
# strict recipient alone the message is rejected, nobody dropped; the
# recipients guessed from To/Cc are dropped alike.
printf 'stages = { "sanity" }\nactions { add_header = 1\nreject = 100 }\ndomain "strict.example" { reject = 1.5 }\n' >"$tmp/drop.conf"
printf 'From: a@example.org\nTo: u@lax.example, v@strict.example\nSubject: s\n\nx\n' >"$tmp/drop.eml"
for f in jsonl csv text; do
	"$VIGIL" scan -c "$tmp/drop.conf" --format $f --rcpt u@lax.example --rcpt '<v@strict.example>' \
		"$tmp/drop.eml" >"$tmp/drop.$f" 2>>"$tmp/drop.err"
done
"$VIGIL" scan -c "$tmp/drop.conf" --format jsonl --rcpt v@strict.example "$tmp/drop.eml" >"$tmp/drop1.jsonl" 2>>"$tmp/drop.err"
"$VIGIL" scan -c "$tmp/drop.conf" --format jsonl "$tmp/drop.eml" >"$tmp/dropg.jsonl" 2>>"$tmp/drop.err"
if /usr/bin/python3 - "$tmp" <<'PY'
import csv, json, sys
d = sys.argv[1] + "/drop."
j = json.loads(open(d + "jsonl").read())
assert j["action"] == "add_header" and j["dropped_rcpts"] == ["v@strict.example"], j
c = list(csv.reader(open(d + "csv", newline="", encoding="utf-8")))
assert c[0][-1] == "dropped_rcpts" and c[1][4] == "add_header", c
assert c[1][11] == "v@strict.example" and len(c[1]) == 12, c
t = open(d + "text").readline()
assert " add_header " in t and t.endswith(" [dropped: v@strict.example]\n"), t
one = json.loads(open(d[:-1] + "1.jsonl").read())
assert one["action"] == "reject" and one["dropped_rcpts"] == [], one
g = json.loads(open(d[:-1] + "g.jsonl").read())
assert g["action"] == "add_header" and g["dropped_rcpts"] == ["v@strict.example"], g
PY
then ok "per-domain policy: the recipient dropped in jsonl, csv and text"
else notok "dropped recipients" "$(cat "$tmp"/drop.jsonl "$tmp"/drop.csv "$tmp"/drop.text "$tmp"/drop1.jsonl "$tmp"/dropg.jsonl "$tmp"/drop.err)"; fi

# The envelope flags: SMTP form accepted, bad address refused (exit 2,
# the option named, one line pointing to --help); the report records
# them with the command line and the start time.
"$VIGIL" scan -c "$tmp/c.conf" --client-ip 999.1.1.1 "$tmp/nodate.eml" >/dev/null 2>"$tmp/e22"; rc=$?
if [ $rc = 2 ] && [ "$(cat "$tmp/e22")" = "vigil scan: --client-ip 999.1.1.1: not an IPv4 or IPv6 address
see vigil scan --help" ]
then ok "--client-ip not an address: usage error naming it, no usage text"
else notok "--client-ip check" "rc=$rc" "$(cat "$tmp/e22")"; fi
"$VIGIL" scan -c "$tmp/c.conf" --client-ip=2001:db8::1 --helo h.example --mail-from '<>' \
	--rcpt '<r@example.org>' --jobs=1 --format=text --label=ham "$tmp/nodate.eml" \
	--report="$tmp/r22.html" >"$tmp/o22" 2>&1; rc=$?
if [ $rc = 0 ] && grep -q "^  envelope: --client-ip 2001:db8::1 --helo h.example --mail-from <> --rcpt <r@example.org>\$" "$tmp/o22" &&
   grep -q "^  command: vigil scan -c $tmp/c.conf --client-ip=2001:db8::1 .*'--mail-from' '<>'\|^  command: vigil scan -c $tmp/c.conf --client-ip=2001:db8::1 .*--mail-from '<>'" "$tmp/o22" &&
   grep -q "^  started [0-9-]*T[0-9:]*Z\$" "$tmp/o22" &&
   grep -q "<li>envelope: --client-ip 2001:db8::1 --helo h.example --mail-from &lt;&gt; --rcpt &lt;r@example.org&gt;</li>" "$tmp/r22.html" &&
   grep -q "<li>started [0-9-]*T[0-9:]*Z</li>" "$tmp/r22.html" && grep -q "<li>command: vigil scan " "$tmp/r22.html"
then ok "--opt=value; envelope, command line and start time in both reports"
else notok "envelope in the report" "rc=$rc" "$(cat "$tmp/o22")"; fi
"$VIGIL" scan -c "$tmp/c.conf" --format bogus "$tmp/nodate.eml" >/dev/null 2>"$tmp/e23"; rc=$?
if [ $rc = 2 ] && [ "$(wc -l <"$tmp/e23")" = 2 ] && grep -q "^see vigil scan --help\$" "$tmp/e23" &&
   "$VIGIL" scan --help | grep -q "^usage: vigil scan"
then ok "usage error: the error and a pointer to --help; --help prints the usage"
else notok "usage error" "rc=$rc" "$(cat "$tmp/e23")"; fi

# An empty or blank Message-ID is none: null in JSON, empty in CSV.
printf 'From: a@example.org\nMessage-ID:\nSubject: e\n\nx\n' >"$tmp/mid1.eml"
printf 'From: a@example.org\nMessage-ID:   \nSubject: e\n\nx\n' >"$tmp/mid2.eml"
"$VIGIL" scan -c "$tmp/c.conf" --format jsonl "$tmp/mid1.eml" "$tmp/mid2.eml" >"$tmp/j24" 2>/dev/null
"$VIGIL" scan -c "$tmp/c.conf" --format csv "$tmp/mid1.eml" "$tmp/mid2.eml" >"$tmp/c24" 2>/dev/null
if [ "$(grep -c '"message_id":null' "$tmp/j24")" = 2 ] &&
   [ "$(cut -d, -f3 "$tmp/c24" | tail -n +2 | tr -d '\n')" = "" ]
then ok "empty or blank Message-ID: null / empty"
else notok "empty Message-ID" "$(cat "$tmp/j24" "$tmp/c24")"; fi

# A labels file that can be read once (a FIFO, <(cat index)): read in
# one pass, its digest that of the bytes read (it hung: a second open).
printf 'spam %s\n' "$tmp/nodate.eml" >"$tmp/lab.txt"
mkfifo "$tmp/lab.fifo"
cat "$tmp/lab.txt" >"$tmp/lab.fifo" &
wpid=$!
timeout 20 "$VIGIL" scan -c "$tmp/c.conf" --labels "$tmp/lab.fifo" >"$tmp/o25" 2>&1; rc=$?
kill $wpid 2>/dev/null; wait $wpid 2>/dev/null
if [ $rc = 0 ] && grep -q "By the actions taken .*: 1 spam, 0 ham" "$tmp/o25" &&
   grep -q "^  labels $tmp/lab.fifo (sha256 $(sha256sum <"$tmp/lab.txt" | cut -c1-64))\$" "$tmp/o25"
then ok "--labels FIFO: read once, the digest of its bytes"
else notok "--labels FIFO" "rc=$rc" "$(cat "$tmp/o25")"; fi
# - labelled both ways is the usage error a file labelled both ways is.
"$VIGIL" scan -c "$tmp/c.conf" --label spam - --label ham - <"$tmp/nodate.eml" >"$tmp/o26" 2>&1; rc=$?
if [ $rc = 2 ] && grep -q "^vigil scan: - labelled spam (--label spam -) and ham (--label ham -)\$" "$tmp/o26" &&
   ! grep -q "messages in" "$tmp/o26"
then ok "- labelled spam and ham: usage error, exit 2"
else notok "- labelled twice" "rc=$rc" "$(cat "$tmp/o26")"; fi
# A directory with a new/ is a maildir: what else its top holds is not
# read, and named (it vanished without a word); server state files and
# tmp/ pass quietly.
mkdir -p "$tmp/nm/new" "$tmp/nm/old" "$tmp/nm/tmp"
cp "$tmp/nodate.eml" "$tmp/nm/new/1"
cp "$tmp/nodate.eml" "$tmp/nm/old/2"
cp "$tmp/nodate.eml" "$tmp/nm/top.eml"
printf '3 V1 2\n' >"$tmp/nm/dovecot-uidlist"
"$VIGIL" scan -c "$tmp/c.conf" "$tmp/nm" >"$tmp/o27" 2>&1; rc=$?
if [ $rc = 0 ] && grep -q "^1 messages\? in" "$tmp/o27" &&
   grep -q "^vigil scan: $tmp/nm/old: in a maildir but not in its cur/ or new/: not read" "$tmp/o27" &&
   grep -q "^vigil scan: $tmp/nm/top.eml: in a maildir but not in its cur/ or new/: not read" "$tmp/o27" &&
   [ "$(grep -c "^vigil scan: " "$tmp/o27")" = 2 ]
then ok "maildir: entries of its top not read are named, state files quiet"
else notok "maildir strays" "rc=$rc" "$(cat "$tmp/o27")"; fi
# Symbolic links below a PATH: TREC's data/ linked from another volume,
# the labels of its files found; each file read once, a file or a
# directory reached again through a link left out and said; two
# spellings of one file labelled both ways are a usage error.
mkdir -p "$tmp/tr" "$tmp/vol/data"
printf 'From: a@example.org\nSubject: s\n\nx\n' >"$tmp/vol/data/inmail.1"
printf 'From: b@example.org\nSubject: h\n\nx\n' >"$tmp/vol/data/inmail.2"
ln -s ../vol/data "$tmp/tr/data"
ln -s data/inmail.1 "$tmp/tr/x-link.eml"
printf 'spam tr/data/inmail.1\nham tr/data/inmail.2\n' >"$tmp/tr.labels"
"$VIGIL" scan -c "$tmp/c.conf" --labels "$tmp/tr.labels" "$tmp/tr" >"$tmp/o28" 2>&1; rc=$?
if [ $rc = 0 ] && grep -q "By the actions taken .*: 1 spam, 1 ham;" "$tmp/o28" &&
   ! grep -q "matched no scanned message" "$tmp/o28" &&
   grep -q "^vigil scan: $tmp/tr/x-link.eml: the same file as $tmp/tr/data/inmail.1, read once\$" "$tmp/o28"
then ok "a walk through a link: labels found, a link to a file read before left out"
else notok "labels through a link" "rc=$rc" "$(cat "$tmp/o28")"; fi
"$VIGIL" scan -c "$tmp/c.conf" --format jsonl --label spam "$tmp/tr" --label ham "$tmp/vol/data" \
	>"$tmp/j29" 2>"$tmp/e29"; rc=$?
"$VIGIL" scan -c "$tmp/c.conf" --label spam "$tmp/tr/data/inmail.1" \
	--label ham "$tmp/vol/data/inmail.1" >"$tmp/o29" 2>&1; rc2=$?
if [ $rc = 0 ] && [ "$(wc -l <"$tmp/j29")" = 2 ] &&
   grep -q "^vigil scan: $tmp/vol/data: the same directory as $tmp/tr/data, read once\$" "$tmp/e29" &&
   grep -q "By the actions taken .*: 0 spam, 2 ham;" "$tmp/e29" &&
   [ $rc2 = 2 ] && grep -q "labelled spam (--label spam $tmp/tr/data/inmail.1) and ham (--label ham $tmp/vol/data/inmail.1)" "$tmp/o29"
then ok "a directory reached through a link and given: read once, its own label; two spellings labelled both ways: exit 2"
else notok "read once through links" "rc=$rc rc2=$rc2" "$(cat "$tmp/j29" "$tmp/e29" "$tmp/o29")"; fi
