#!/bin/sh
# vigil scan's standard output, in process and through a milter: a run
# whose output fails (a closed pipe with SIGPIPE ignored, a full disk)
# is reported as stopped, its evaluation and HTML report as partial; CSV
# holds no control byte and the table no invisible format character; a
# killed run leaves whole records (TAP).
set -u
: "${top_builddir:=$(pwd)}" "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
VIGIL=$top_builddir/milter/vigil
VIGILD=$top_builddir/milter/vigild
tmp=$(mktemp -d /tmp/vigil-out.XXXXXX)
. "$top_srcdir/tests/integration/lib/common.sh"
trap stop_all EXIT
tap_plan 6
printf 'stages = { "sanity" }\n' >"$tmp/c.conf"
# 4000 messages: far more output than a pipe holds
big_corpus "$tmp" 2

# stopped OUT ERR HTML RC WHAT: the run stopped at a failed write to
# standard output and said so (summary, evaluation, HTML), exit 2.
stopped() {
	n=$(sed -n "s/^\([0-9]*\) messages in .*; stopped after \1 messages: standard output: $5\$/\1/p" "$2")
	[ -n "$n" ] && [ "$n" -lt 4000 ] && [ "$4" = 2 ] &&
	grep -q "^PARTIAL REPORT: stopped after $n messages: standard output: $5\$" "$2" &&
	grep -q "^  $tmp/big0.mbox: $n messages (ham)\$" "$2" &&
	grep -q "<title>vigil scan report (partial)</title>" "$3" &&
	grep -q "Partial report: stopped after $n messages: standard output: $5" "$3" &&
	[ "$(grep -c "standard output: $5" "$2")" -le 3 ]
}

# ---- output that fails (audit25 M3) ----
# A reader that goes after one line, SIGPIPE ignored (inherited by vigil).
( trap '' PIPE
  { "$VIGIL" scan -c "$tmp/c.conf" --format jsonl --label ham $many \
	--report "$tmp/pipe.html" 2>"$tmp/pipe.err"; echo $? >"$tmp/pipe.rc"; } | head -1 >/dev/null )
if stopped x "$tmp/pipe.err" "$tmp/pipe.html" "$(cat "$tmp/pipe.rc")" "Broken pipe"
then ok "closed pipe: summary, evaluation and HTML report say stopped after N messages, partial, exit 2"
else notok "closed pipe" "rc=$(cat "$tmp/pipe.rc")" "$(head -20 "$tmp/pipe.err")"; fi
if [ -w /dev/full ]; then
	"$VIGIL" scan -c "$tmp/c.conf" --format csv --label ham $many \
		--report "$tmp/full.html" >/dev/full 2>"$tmp/full.err"; rc=$?
	if stopped x "$tmp/full.err" "$tmp/full.html" $rc "No space left on device"
	then ok "full disk: the same"
	else notok "full disk" "rc=$rc" "$(head -20 "$tmp/full.err")"; fi
else
	skip "full disk" "no /dev/full"
fi

# The same through a milter (vigild).
sock="$tmp/v.sock"
printf 'listen = { "unix:%s" }\nstages = { "sanity" }\n' "$sock" >"$tmp/vigild.conf"
"$VIGILD" -f -c "$tmp/vigild.conf" 2>"$tmp/vigild.log" &
track_pid $!
if wait_for 100 test -S "$sock"; then
	( trap '' PIPE
	  { "$VIGIL" scan --milter "unix:$sock" -j 2 --format jsonl --label ham $many \
		--report "$tmp/mpipe.html" 2>"$tmp/mpipe.err"; echo $? >"$tmp/mpipe.rc"; } | head -1 >/dev/null )
	if stopped x "$tmp/mpipe.err" "$tmp/mpipe.html" "$(cat "$tmp/mpipe.rc")" "Broken pipe"
	then ok "--milter, closed pipe: stopped after N messages, partial, exit 2"
	else notok "--milter closed pipe" "rc=$(cat "$tmp/mpipe.rc")" "$(head -20 "$tmp/mpipe.err")"; fi
else
	notok "--milter closed pipe" "vigild did not start" "$(cat "$tmp/vigild.log")"
fi

# ---- control and format characters (audit25 L8) ----
printf 'From: a@b\nMessage-ID: <a\000b\033c@x>\nSubject: x\n\nb\n' >"$tmp/nul.eml"
rlo="$tmp/x$(printf '\342\200\256')lmth.eml"
printf 'From: a@b\nSubject: x\n\nb\n' >"$rlo"
"$VIGIL" scan -c "$tmp/c.conf" --format csv "$tmp/nul.eml" >"$tmp/nul.csv" 2>/dev/null
"$VIGIL" scan -c "$tmp/c.conf" "$rlo" >"$tmp/rlo.txt" 2>/dev/null
if /usr/bin/python3 - "$tmp/nul.csv" <<'PY'
import csv, re, sys
raw = open(sys.argv[1], "rb").read()
assert not re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", raw), raw
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8")))
mid = rows[1][2]
back = re.sub(r"\\(\\|x([0-9a-f]{2}))",
              lambda m: chr(int(m[2], 16)) if m[2] else "\\", mid)
assert back == "<a\0b\x1bc@x>", (mid, back)
PY
then ok "CSV: a NUL and an ESC in a Message-ID as \\xHH, read back by the documented unescaping"
else notok "CSV control bytes" "$(od -c "$tmp/nul.csv" | head)"; fi
if grep -q "^$tmp/x?lmth.eml " "$tmp/rlo.txt" && ! grep -q "$(printf '\342\200\256')" "$tmp/rlo.txt"
then ok "text table: a bidi override in a file name as ?"
else notok "text table RLO" "$(od -c "$tmp/rlo.txt" | head)"; fi

# ---- a killed run (audit25 L10) ----
# whole: every line of FILE one whole JSON object.
whole() {
	/usr/bin/python3 -c '
import json, sys
n = 0
for l in open(sys.argv[1], encoding="utf-8"):
    assert l.endswith("\n"), l[-80:]
    json.loads(l); n += 1
assert n > 0' "$1"
}
# Killed while it waits for more input (the corpus a FIFO given 2000
# messages and kept open), once output has appeared: the file (block
# buffered by stdio, were records not written whole) holds whole ones.
mkfifo "$tmp/in.fifo"
"$VIGIL" scan -c "$tmp/c.conf" --jobs 1 --format jsonl "$tmp/in.fifo" >"$tmp/kill.jsonl" 2>/dev/null &
pid=$!
exec 4>"$tmp/in.fifo"
cat "$tmp/big.mbox" >&4
wait_output "$tmp/kill.jsonl" $pid
kill -KILL $pid
wait $pid
exec 4>&-
if whole "$tmp/kill.jsonl"; then ok "killed: whole JSON lines"
else notok "killed" "$(tail -c 200 "$tmp/kill.jsonl")"; fi
# (a second SIGINT while a write is stuck: scan_local.sh)
