#!/bin/sh
# A message with 5,000 junk header fields before From/To/Subject: vigil
# scan still sees From (a header rule on it hits), and the sanity stage
# reports VIGIL_MANY_HEADERS (TAP).
set -u
: "${top_builddir:=$(pwd)}" "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
VIGIL=$top_builddir/milter/vigil
tmp=$(mktemp -d /tmp/vigil-hdrs.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$top_srcdir/tests/integration/lib/common.sh"
tap_plan 3

mkdir "$tmp/rules"
cat >"$tmp/rules/t.cf" <<'CF'
header T_FROM_REAL From:addr =~ /^real\@example\.com$/
score T_FROM_REAL 1
header T_SUBJ_HIDDEN Subject =~ /^hidden$/
score T_SUBJ_HIDDEN 1
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
