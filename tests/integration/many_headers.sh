#!/bin/sh
# A message with 5,000 junk header fields before From/To/Subject: vigil
# scan still sees From (a header rule on it hits), and the sanity stage
# reports VIGIL_MANY_HEADERS; one of 12,000 fields keeps them all in its
# full text, in vigil scan and in vigild alike (TAP).
set -u
: "${top_builddir:=$(pwd)}" "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
VIGIL=$top_builddir/milter/vigil
tmp=$(mktemp -d /tmp/vigil-hdrs.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$top_srcdir/tests/integration/lib/common.sh"
tap_plan 5

mkdir "$tmp/rules"
cat >"$tmp/rules/t.cf" <<'CF'
header T_FROM_REAL From:addr =~ /^real\@example\.com$/
score T_FROM_REAL 1
header T_SUBJ_HIDDEN Subject =~ /^hidden$/
score T_SUBJ_HIDDEN 1
full T_FULL_LAST /^X-Last: yes\r?$/m
score T_FULL_LAST 0.5
CF
printf 'stages = { "sanity", "rules" }\nrules = { "%s" }\n' "$tmp/rules" >"$tmp/c.conf"
{
	i=0
	while [ $i -lt 5000 ]; do printf 'X-Junk-%d: v\r\n' $i; i=$((i + 1)); done
	printf 'From: Real <real@example.com>\r\nTo: you@example.net\r\n'
	printf 'Subject: hidden\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n'
	printf 'Message-ID: <h@example.com>\r\n\r\nbody\r\n'
} >"$tmp/m.eml"
out=$("$VIGIL" scan -c "$tmp/c.conf" --format jsonl "$tmp/m.eml" 2>"$tmp/err")
case $out in
*'"T_FROM_REAL"'*'"T_SUBJ_HIDDEN"'*|*'"T_SUBJ_HIDDEN"'*'"T_FROM_REAL"'*)
	ok "From and Subject after 5,000 fields are seen by header rules" ;;
*) notok "header rules after 5,000 fields" "$out" "$(cat "$tmp/err")" ;;
esac
case $out in
*'"VIGIL_MANY_HEADERS"'*) ok "sanity: VIGIL_MANY_HEADERS" ;;
*) notok "VIGIL_MANY_HEADERS" "$out" ;;
esac
case $out in
*'"MISSING_FROM"'*|*'"MISSING_SUBJECT"'*) notok "no MISSING_* hit" "$out" ;;
*) ok "no MISSING_FROM/MISSING_SUBJECT" ;;
esac

# 12,000 fields, X-Last the last: past the scan's 10,000 stored fields
# the full text still holds every one, as SpamAssassin's does (its full
# rules see X-Last: spamassassin -t, docs/msg.md). vigild, whose fields
# come as milter events, gives the same verdict (vigil scan --milter).
"$PY" -c 'import sys
w = sys.stdout.write
w("From: a@example.com\r\nSubject: many\r\nMessage-ID: <m@example.com>\r\n")
w("X-A: b\r\n" * 11996)
w("X-Last: yes\r\n\r\nbody\r\n")' >"$tmp/m12k.eml"
out=$("$VIGIL" scan -c "$tmp/c.conf" --format jsonl "$tmp/m12k.eml" 2>"$tmp/err")
score=$(printf '%s' "$out" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["score"])')
case $out in
*'"T_FULL_LAST"'*) ok "full rule sees the 12,000th field (score $score)" ;;
*) notok "full rule and 12,000 fields" "$out" "$(cat "$tmp/err")" ;;
esac
port=$(free_port)
printf 'listen = { "inet:%s@127.0.0.1" }\nstages = { "sanity", "rules" }\nrules = { "%s" }\n' \
	"$port" "$tmp/rules" >"$tmp/d.conf"
"$top_builddir/milter/vigild" -f -c "$tmp/d.conf" 2>"$tmp/vigild.log" &
vpid=$!
mout=
if wait_for 100 port_open "$port"; then
	mout=$("$VIGIL" scan --milter "inet:$port@127.0.0.1" --format jsonl "$tmp/m12k.eml" 2>>"$tmp/err")
fi
kill $vpid 2>/dev/null; wait $vpid 2>/dev/null
mscore=$(printf '%s' "$mout" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["score"])' 2>/dev/null)
case $mout in
*'tests='*T_FULL_LAST*) [ "$mscore" = "$score" ] && ok "vigild: the same verdict (score $mscore, T_FULL_LAST)" ||
	notok "vigild score" "$mscore vs $score" ;;
*) notok "vigild and 12,000 fields" "$mout" "$(cat "$tmp/err" "$tmp/vigild.log")" ;;
esac
