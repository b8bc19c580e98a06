#!/bin/sh
# Integration: vigil scan in process and vigil scan --milter against
# vigild give the same verdicts for message files without an envelope
# (the guessed MAIL FROM reaches vigild marked as a guess, proto.h's
# PROTO_MACRO_ENVFROM_GUESSED) and with one given by flags. TAP output.
set -u
: "${top_builddir:=$(pwd)}" "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
VIGIL=$top_builddir/milter/vigil
VIGILD=$top_builddir/milter/vigild
. "$top_srcdir/tests/integration/lib/common.sh"
PY=/usr/bin/python3

tap_plan 20
tmp=$(mktemp -d /tmp/vigil-same.XXXXXX)
cleanup() {
	stop_all
	rm -rf "$tmp"
}
trap cleanup EXIT

# Rules that read the envelope sender: EnvelopeFrom is the real MAIL
# FROM, or for a guessed one SpamAssassin's own guess from the headers
# (none here: no Return-Path), as in process.
mkdir "$tmp/rules"
cat >"$tmp/rules/env.cf" <<'CF'
header   T_ENVFROM_GUESS   EnvelopeFrom =~ /sender\@example\.com/
score    T_ENVFROM_GUESS   3.0
header   T_ENVFROM_ANY     EnvelopeFrom =~ /\@/
score    T_ENVFROM_ANY     1.5
body     T_BODY_WORD       /\bprize\b/
score    T_BODY_WORD       2.0
header   T_HOP_GIVEN       X-Spam-Relays-Untrusted =~ /^\[ ip=192\.0\.2\.7 rdns=mail\.example\.net helo=mx\.example\.com /
score    T_HOP_GIVEN       0.7
header   T_HOP_TWICE       X-Spam-Relays-Untrusted =~ /ip=192\.0\.2\.7 .*ip=192\.0\.2\.7 /
score    T_HOP_TWICE       0.3
header   T_HOP_AUTH        X-Spam-Relays-Trusted =~ /ip=192\.0\.2\.7 .*auth=ESMTPA/
score    T_HOP_AUTH        0.05
header   T_SUBJ_LATE       Subject =~ /^after the junk$/
score    T_SUBJ_LATE       0.2
CF
cat >"$tmp/vigild.conf" <<CONF
listen = { "unix:$tmp/v.sock" }
stages = { "sanity", "rules" }
rules = { "$tmp/rules" }
actions {
	add_header = 4
	reject = 50
}
CONF
for i in 1 2 3; do
	{
		printf 'From: Sender <sender@example.com>\nTo: user@example.org\n'
		printf 'Subject: message %s\nDate: Mon, 1 Jan 2024 00:00:0%s +0000\n' "$i" "$i"
		printf 'Message-ID: <m%s@example.com>\n\n' "$i"
		[ "$i" = 2 ] && echo "You win a prize"
		echo "body $i"
	} >"$tmp/m$i.eml"
done
printf 'Return-Path: <bounce@example.net>\n' | cat - "$tmp/m2.eml" >"$tmp/m4.eml"

"$VIGILD" -f -c "$tmp/vigild.conf" 2>"$tmp/vigild.log" &
vpid=$!
track_pid $vpid
if wait_for 100 test -S "$tmp/v.sock"; then ok "vigild starts"
else notok "vigild starts" "$(cat "$tmp/vigild.log")"; exit 1; fi

# compare IN MILTER: the same action (accept/add_header as continue, the
# latter flagged) and score (vigild's header has one decimal) per message
compare() {
	$PY - "$1" "$2" <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
assert len(a) == len(b) == 4, (len(a), len(b))
for x, y in zip(a, b):
    assert y['action'] == 'continue', y
    assert y['flagged'] == (x['action'] == 'add_header'), (x, y)
    assert abs(x['score'] - y['score']) < 0.051, (x, y)
print([x['score'] for x in a])
PY
}

files="$tmp/m1.eml $tmp/m2.eml $tmp/m3.eml $tmp/m4.eml"
"$VIGIL" scan -c "$tmp/vigild.conf" --format jsonl $files >"$tmp/in.jsonl" 2>"$tmp/in.err"
"$VIGIL" scan --milter "unix:$tmp/v.sock" --format jsonl $files >"$tmp/mil.jsonl" 2>"$tmp/mil.err"
if out=$(compare "$tmp/in.jsonl" "$tmp/mil.jsonl" 2>&1); then
	ok "no envelope given: in process and through vigild the same scores ($out)"
else notok "guessed envelope" "$out" "$(cat "$tmp/in.err" "$tmp/mil.err")"; fi
check "a guessed MAIL FROM is not the rules' EnvelopeFrom (no Return-Path: no T_ENVFROM_*)" \
	$PY -c "import json,sys; m=[json.loads(l) for l in open(sys.argv[1])]; n=[h['name'] for h in m[0]['hits']]; sys.exit('T_ENVFROM_ANY' in n)" "$tmp/in.jsonl"
check "a Return-Path is: T_ENVFROM_ANY on the fourth message" \
	$PY -c "import json,sys; m=[json.loads(l) for l in open(sys.argv[1])]; n=[h['name'] for h in m[3]['hits']]; sys.exit('T_ENVFROM_ANY' not in n)" "$tmp/in.jsonl"

env="--mail-from <sender@example.com> --client-ip 192.0.2.7 --client-name mail.example.net --helo mx.example.com --rcpt <user@example.org>"
"$VIGIL" scan -c "$tmp/vigild.conf" --format jsonl $env $files >"$tmp/in2.jsonl" 2>"$tmp/in2.err"
"$VIGIL" scan --milter "unix:$tmp/v.sock" --format jsonl $env $files >"$tmp/mil2.jsonl" 2>"$tmp/mil2.err"
if out=$(compare "$tmp/in2.jsonl" "$tmp/mil2.jsonl" 2>&1) &&
   grep -q T_ENVFROM_GUESS "$tmp/in2.jsonl"; then
	ok "envelope given: the same scores, the MAIL FROM the rules' EnvelopeFrom ($out)"
else notok "given envelope" "$out" "$(cat "$tmp/in2.err" "$tmp/mil2.err")"; fi

# The client's hop. Given (--client-ip), the rules see the receiving
# MTA's Received line for it: modelled (clienthop.h), unless the message
# records that client (m5, as stored behind Postfix); once either way, in
# both modes. Guessed from m5: its own line only, vigild told so by
# {vigil_client_guessed}.
{
	printf 'Received: from mx.example.com (mail.example.net [192.0.2.7])\n'
	printf '\tby mx.test.invalid (Postfix) with ESMTP id 4AB12\n'
	printf '\tfor <user@example.org>; Mon, 1 Jan 2024 00:00:09 +0000\n'
	cat "$tmp/m1.eml"
} >"$tmp/m5.eml"
hop_once() {	# FILE N: N messages, each with T_HOP_GIVEN (in its hits, or
		# with --milter in its X-Spam-Status), none T_HOP_TWICE
	[ "$(wc -l <"$1")" = "$2" ] && [ "$(grep -c T_HOP_GIVEN "$1")" = "$2" ] &&
	! grep -q T_HOP_TWICE "$1"
}
for mode in "-c $tmp/vigild.conf" "--milter unix:$tmp/v.sock"; do
	"$VIGIL" scan $mode --format jsonl $env $files "$tmp/m5.eml" >"$tmp/hop.jsonl" 2>"$tmp/hop.err"
	"$VIGIL" scan $mode --format jsonl "$tmp/m5.eml" >"$tmp/hopg.jsonl" 2>>"$tmp/hop.err"
	check "${mode%% *}: the client's hop counted once, given (modelled or recorded) and guessed" \
		eval 'hop_once "$tmp/hop.jsonl" 5 && hop_once "$tmp/hopg.jsonl" 1'
	# --client-auth: the modelled hop says ESMTPA (trusted, as behind
	# Postfix with {auth_authen}); m5's recorded one is as it is
	"$VIGIL" scan $mode --format jsonl $env --client-auth alice@example.com \
		$files "$tmp/m5.eml" >"$tmp/auth.jsonl" 2>>"$tmp/hop.err"
	check "${mode%% *}: --client-auth: the modelled hop authenticated on 4 of 5, none without it" \
		eval '[ "$(grep -c T_HOP_AUTH "$tmp/auth.jsonl")" = 4 ] && ! grep -q T_HOP_AUTH "$tmp/hop.jsonl"'
done
# More header fields than the scan stores (SCAN_MAX_HEADERS, 10,000):
# the same bound in process and in vigild (its milter header events),
# so the same score; the Subject after the junk still seen.
$PY - "$tmp/many.eml" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.writelines("X-Junk-%d: v\n" % i for i in range(10100))
    f.write("From: Sender <sender@example.com>\nSubject: after the junk\n"
            "Message-ID: <many@example.com>\n\nYou win a prize\n")
PY
"$VIGIL" scan -c "$tmp/vigild.conf" --format jsonl "$tmp/many.eml" >"$tmp/many.jsonl" 2>"$tmp/many.err"
"$VIGIL" scan --milter "unix:$tmp/v.sock" --format jsonl "$tmp/many.eml" >"$tmp/manym.jsonl" 2>>"$tmp/many.err"
check "10,100 junk fields: the same score in process and through vigild, Subject after them seen" \
	$PY -c "
import json, sys
x = json.load(open(sys.argv[1])); y = json.load(open(sys.argv[2]))
n = [h['name'] for h in x['hits']]
assert 'T_SUBJ_LATE' in n and 'VIGIL_MANY_HEADERS' in n and 'T_BODY_WORD' in n, n
assert abs(x['score'] - y['score']) < 0.051, (x, y)
" "$tmp/many.jsonl" "$tmp/manym.jsonl"
rc=0
"$VIGIL" scan -c "$tmp/vigild.conf" --client-auth 'a b' $files >/dev/null 2>"$tmp/au.err" || rc=$?
check "--client-auth with a blank: a usage error, said (rc=$rc)" \
	eval '[ $rc = 2 ] && grep -q "client-auth .a b.: not a user name" "$tmp/au.err"'


# A tempfail is no verdict in either mode (the message comes back later;
# through a milter it may as well be the filter's failure): the
# evaluation counts it apart, in neither the matrix nor the sweep.
sed -e "s|v.sock|t.sock|" -e "s|add_header = 4|add_header = off|" \
    -e "s|reject = 50|tempfail = 2|" "$tmp/vigild.conf" >"$tmp/tf.conf"
"$VIGILD" -f -c "$tmp/tf.conf" 2>"$tmp/tf.log" &
track_pid $!
wait_for 100 test -S "$tmp/t.sock"
deferred_eval() {
	"$VIGIL" scan "$@" --label ham "$tmp/m1.eml" --label spam "$tmp/m2.eml" \
		"$tmp/m3.eml" >"$tmp/tf.out" 2>&1
	grep -q "^By the .*: 1 spam, 1 ham; scan errors: 0 spam, 0 ham, 0 unlabelled; deferred (tempfail, not counted): 1 spam, 0 ham, 0 unlabelled$" "$tmp/tf.out" &&
	grep -q "^  spam                 0             1$" "$tmp/tf.out"
}
check "in process: a tempfail counted as deferred, not as flagged" \
	deferred_eval -c "$tmp/tf.conf"
check "--milter: the same from vigild's tempfail" \
	deferred_eval --milter "unix:$tmp/t.sock"

# Output that cannot be written ends the run with exit 2 and a message
# in both modes: a full disk, and a closed pipe with SIGPIPE ignored (as
# under systemd), where the scan stops taking messages at the first
# failed write. 2000 messages of output fill the pipe, so writes after
# head has gone are certain.
big_corpus "$tmp" 1
"$VIGIL" scan --milter "unix:$tmp/v.sock" --format jsonl $files >/dev/full 2>"$tmp/full.err"
rc=$?
check "--milter: standard output on a full disk: exit 2, said (rc=$rc)" \
	eval '[ $rc = 2 ] && grep -q "standard output: No space left" "$tmp/full.err"'
for mode in "-c $tmp/vigild.conf" "--milter unix:$tmp/v.sock"; do
	$PY - "$tmp/pipe.err" "$VIGIL" scan $mode --format jsonl "$tmp/big0.mbox" <<'PY'
import signal, subprocess, sys
signal.signal(signal.SIGPIPE, signal.SIG_IGN)   # inherited by the child
with open(sys.argv[1], "w") as err:
    p = subprocess.Popen(sys.argv[2:], stdout=subprocess.PIPE, stderr=err,
                         restore_signals=False)
    p.stdout.read(1)
    p.stdout.close()
    sys.exit(p.wait())
PY
	rc=$?
	n=$(sed -n 's/^\([0-9]*\) messages in .*/\1/p' "$tmp/pipe.err")
	check "${mode%% *}: a closed pipe with SIGPIPE ignored stops the run (exit $rc, $n of 2000 messages)" \
		eval '[ $rc = 2 ] && [ -n "$n" ] && [ "$n" -lt 2000 ] && grep -q "standard output: Broken pipe" "$tmp/pipe.err"'
done

# A filter that dies for good mid-run: each message is tried within the
# timeout (connection refused: tried again), then the run stops after
# ten messages in a row that could not be played: exit 2, said, and not
# the whole corpus turned into errors. 4000 messages cannot all be done
# before the first output is seen and the filter killed.
mkdir "$tmp/dead"
big_corpus "$tmp/dead" 2
"$VIGIL" scan --milter "unix:$tmp/v.sock" --timeout 1 --format jsonl $many \
	>"$tmp/dead.jsonl" 2>"$tmp/dead.err" &
spid=$!
if wait_output "$tmp/dead.jsonl" "$spid"; then kill -KILL "$vpid"; fi
reap "$spid"; rc=$?
n=$(sed -n 's/^\([0-9]*\) messages in .*/\1/p' "$tmp/dead.err")
check "a filter gone for good: the run stops after 10 failures in a row, exit 2 (rc=$rc, $n of 4000)" \
	eval '[ $rc = 2 ] && [ -n "$n" ] && [ "$n" -lt 4000 ] && grep -q "the last 10 could not be played to the filter" "$tmp/dead.err"'
check "the messages before it were played" \
	$PY -c "import json,sys; m=[json.loads(l) for l in open(sys.argv[1])]; sys.exit(not (m and m[0]['action'] == 'continue' and m[-1]['action'] == 'error'))" "$tmp/dead.jsonl"

# One name for parallelism in both modes; no latency figures from no
# message.
"$VIGIL" scan -c "$tmp/vigild.conf" --concurrency 2 --format jsonl $files >"$tmp/cj.jsonl" 2>"$tmp/cj.err"
rc1=$?
"$VIGIL" scan --milter "unix:$tmp/none.sock" --jobs=2 "$tmp/m1.eml" >/dev/null 2>"$tmp/jm.err"
rc2=$?
check "--concurrency in process, --jobs with --milter: the same option (rc=$rc1 $rc2)" \
	eval '[ $rc1 = 0 ] && [ "$(wc -l <"$tmp/cj.jsonl")" = 4 ] && [ $rc2 = 2 ] && grep -q "connect to unix:$tmp/none.sock" "$tmp/jm.err"'
printf '\0\0\0\0binary\0\0\0' >"$tmp/bin.eml"
"$VIGIL" scan -c "$tmp/vigild.conf" "$tmp/bin.eml" >"$tmp/na.out" 2>"$tmp/na.err"
check "every message failed: latency n/a, not 0.00 ms" \
	grep -q "^latency per message: n/a (no message scanned)$" "$tmp/na.out" "$tmp/na.err"
