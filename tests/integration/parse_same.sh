#!/bin/sh
# Integration: messages the parser reads as SpamAssassin 4.0.1 does where
# they are malformed (docs/msg.md) give the same verdict in process
# (vigil scan) and through vigild (vigil scan --milter), and the one
# SpamAssassin gives (the expected hits below are its, checked with
# `spamassassin -L -t` on the same messages, audit 12 H2, M1, M2). Each
# rule scores a power of two, so a score names the rules that hit.
# TAP output.
set -u
: "${top_builddir:=$(pwd)}" "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
VIGIL=$top_builddir/milter/vigil
VIGILD=$top_builddir/milter/vigild
. "$top_srcdir/tests/integration/lib/common.sh"
PY=/usr/bin/python3

tap_plan 6
tmp=$(mktemp -d /tmp/vigil-parse.XXXXXX)
cleanup() {
	stop_all
	rm -rf "$tmp"
}
trap cleanup EXIT

mkdir "$tmp/rules"
cat >"$tmp/rules/parse.cf" <<'CF'
body     T_ASCII_ILLEGAL  eval:check_for_ascii_text_illegal()
score    T_ASCII_ILLEGAL  1
rawbody  T_HTML_TAG       /<html>/i
score    T_HTML_TAG       2
body     T_DEAR_FRIEND    /\bDear friend\b/
score    T_DEAR_FRIEND    4
header   T_CT_PLAIN       Content-Type =~ /text\/plain/
score    T_CT_PLAIN       8
CF
cat >"$tmp/vigild.conf" <<CONF
listen = { "unix:$tmp/v.sock" }
stages = { "rules" }
rules = { "$tmp/rules" }
actions {
	add_header = 100
	reject = 200
}
CONF

# The message's header section ended by SpamAssassin's fourth line that
# is no field, no empty line: the body is 8-bit text (SpamAssassin:
# PP_MIME_FAKE_ASCII_TEXT; in process vigil read no body before).
printf 'junk one\njunk two\njunk three\nX-A: b\nbody line\nsecond \351\350 line\n' \
	>"$tmp/1-fourth-line.eml"
# A MIME part's header followed by its text without an empty line.
printf 'From: a@example.com\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\nhello \351\350 world\n\nlast\n--b--\n' \
	>"$tmp/2-part-no-sep.eml"
# The first delimiter right after the header: the header section ends
# there, the part's Content-Type is no header of the message.
printf 'From: a@example.com\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="B"\n--B\nContent-Type: text/plain\n\nbuy now\n--B\nContent-Type: text/html\n\n<html><p>buy now</p></html>\n--B--\n' \
	>"$tmp/3-delimiter-ends-header.eml"
# Only a close delimiter: the text before it is a part, not a preamble.
printf 'From: a@example.com\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="A"\n\nDear friend, a proposal.\n--A--\n' \
	>"$tmp/4-close-only.eml"
files=$(ls "$tmp"/*.eml)
# expected: 1 (T_ASCII_ILLEGAL), 1, 2 (T_HTML_TAG), 4 (T_DEAR_FRIEND)
want="1 1 2 4"

"$VIGILD" -f -c "$tmp/vigild.conf" 2>"$tmp/vigild.log" &
track_pid $!
if wait_for 100 test -S "$tmp/v.sock"; then ok "vigild starts"
else notok "vigild starts" "$(cat "$tmp/vigild.log")"; exit 1; fi

# vigild's scores from its log lines, in the order the messages were sent
"$VIGIL" scan -c "$tmp/vigild.conf" --format jsonl $files >"$tmp/in.jsonl" 2>"$tmp/in.err"
"$VIGIL" scan --milter "unix:$tmp/v.sock" --jobs 1 --format jsonl $files >"$tmp/mil.jsonl" 2>"$tmp/mil.err"
in_scores=$($PY -c 'import json,sys; print(" ".join("%g" % json.loads(l)["score"] for l in open(sys.argv[1])))' "$tmp/in.jsonl")
mil_scores=$(sed -n 's/.* score=\([0-9.]*\) .*/\1/p' "$tmp/vigild.log" | $PY -c 'import sys; print(" ".join("%g" % float(x) for x in sys.stdin.read().split()))')
set -- $want
for n in 1 2 3 4; do
	eval "w=\${$n}"
	i=$(echo "$in_scores" | cut -d' ' -f$n)
	m=$(echo "$mil_scores" | cut -d' ' -f$n)
	f=$(echo "$files" | sed -n "${n}p")
	if [ "$i" = "$w" ] && [ "$m" = "$w" ]; then
		ok "$(basename "$f"): $w in process and through vigild"
	else
		notok "$(basename "$f")" "in process $i, vigild $m, want $w" \
			"$(cat "$tmp/in.err" "$tmp/mil.err")"
	fi
done
check "vigild scanned all four" test "$(echo "$mil_scores" | wc -w)" = 4
