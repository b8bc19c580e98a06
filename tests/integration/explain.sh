#!/bin/sh
# vigil explain: envelope guessed from the message, hits, action (TAP).
set -u
: "${top_builddir:=$(pwd)}" "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
VIGIL=$top_builddir/milter/vigil
. "$top_srcdir/tests/integration/lib/common.sh"
tmp=$(mktemp -d /tmp/vigil-explain.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
tap_plan 25
printf 'stages = { "sanity" }\nactions { reject_reply = "550 5.7.1 No thanks" }\n' >"$tmp/c.conf"
printf 'Return-Path: <bounce@example.com>\nReceived: from relay.example.net (relay.example.net [127.0.0.1])\n\tby mx.test\nReceived: from mail.example.com (mail.example.com [198.51.100.7])\n\tby relay.example.net\nFrom: Alice <alice@example.com>\nTo: bob@example.net, Carol <carol@example.net>\nSubject: test\n\nXJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\n' >"$tmp/m.eml"
out=$("$VIGIL" explain -c "$tmp/c.conf" "$tmp/m.eml" 2>&1); rc=$?
# t PATTERN NAME: ok when the output holds PATTERN.
t() { if echo "$out" | grep -q -- "$1"; then ok "$2"; else notok "$2" "$out"; fi; }
if [ $rc = 0 ]; then ok "exit 0"; else notok "exit $rc"; fi
t "client=198.51.100.7 helo=mail.example.com from=<bounce@example.com> rcpts=<bob@example.net>,<carol@example.net>" \
	"envelope from the last external Received, Return-Path, To/Cc"
t "1000.000  GTUBE" "GTUBE hit with its score"
t "Action: reject (550 5.7.1 No thanks)" "action and configured reply"
out=$("$VIGIL" explain --client-ip 192.0.2.1 --mail-from x@y.example --rcpt z@y.example \
	-c "$tmp/c.conf" "$tmp/m.eml" 2>&1)
t "client=192.0.2.1 helo=mail.example.com from=<x@y.example> rcpts=<z@y.example>" \
	"flags override the message"

# An mbox: message N (From_ line and quoting handled as vigil scan does).
printf 'From a@x Mon Nov 23 10:00:00 2026\nFrom: one@example.com\nSubject: one\nDate: Mon, 23 Nov 2026 10:00:00 +0000\nMessage-ID: <one@example.com>\n\nhello\n\nFrom b@x Mon Nov 23 10:00:00 2026\nFrom: two@example.com\nSubject: two\n\n%s\n\n' \
	'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X' >"$tmp/box.mbox"
out=$("$VIGIL" explain -c "$tmp/c.conf" --index 1 "$tmp/box.mbox" 2>&1); rc=$?
off=$(/usr/bin/python3 -c "import sys; print(open(sys.argv[1],'rb').read().index(b'From b@'))" "$tmp/box.mbox")
if [ $rc = 0 ] && echo "$out" | grep -q "^Message: $tmp/box.mbox, mbox message 1 at byte $off ([0-9]* bytes)\$" &&
   echo "$out" | grep -q "from=<two@example.com>" &&
   echo "$out" | grep -q "Action: reject"
then ok "mbox: --index N explains message N"
else notok "mbox --index (rc $rc)" "$out"; fi
# Message 0 of the mbox, with no hit: "(none)", exit 0; both agree with vigil scan.
out=$("$VIGIL" explain -c "$tmp/c.conf" "$tmp/box.mbox" 2>&1); rc=$?
scan=$("$VIGIL" scan -c "$tmp/c.conf" --format csv "$tmp/box.mbox" 2>/dev/null | cut -d, -f4,5 | tr '\n' ' ')
if [ $rc = 0 ] && echo "$out" | grep -q "from=<one@example.com>" &&
   echo "$out" | grep -A1 "^Hits:" | grep -q "(none)" && echo "$out" | grep -q "^Score: 0.00" &&
   [ "$scan" = "score,action 0.000,accept 1001.900,reject " ]
then ok "no hit: (none); scores agree with vigil scan"
else notok "no hit (rc $rc) scan=$scan" "$out"; fi
# The header: the size as read from the file (not after LF -> CRLF);
# without --index, which message of an mbox and how to pick another;
# the sanity stage's tests under its stage.
out=$("$VIGIL" explain -c "$tmp/c.conf" "$tmp/m.eml" 2>&1)
out2=$("$VIGIL" explain -c "$tmp/c.conf" "$tmp/box.mbox" 2>&1)
if echo "$out" | grep -q "^Message: $tmp/m.eml ($(wc -c <"$tmp/m.eml") bytes)\$" &&
   echo "$out2" | grep -q "^Message: $tmp/box.mbox, mbox message 0 at byte 0 ([0-9]* bytes; --index N explains message N)\$" &&
   [ "$(echo "$out" | grep -A2 "^Stage results:")" = "Stage results:
  sanity       tests hit: GTUBE MISSING_DATE MISSING_MID" ]
then ok "header: size as in the file, mbox message 0 and --index; sanity's tests under its stage"
else notok "explain header" "$out" "$out2"; fi
# Not a message, no such message, a directory: reported, exit 1 / 2.
printf 'x\000\000\000\000\000\000\000\000\000\000\000\000\n\nbinary\n' >"$tmp/bin.eml"   # a mostly NUL first line, no field
"$VIGIL" explain -c "$tmp/c.conf" "$tmp/bin.eml" >/dev/null 2>"$tmp/e1"; r1=$?
"$VIGIL" explain -c "$tmp/c.conf" --index 2 "$tmp/box.mbox" >/dev/null 2>"$tmp/e2"; r2=$?
"$VIGIL" explain -c "$tmp/c.conf" "$tmp" >/dev/null 2>&1; r3=$?
gzip -c "$tmp/box.mbox" | "$VIGIL" explain -c "$tmp/c.conf" --index 1 - >/dev/null 2>"$tmp/e4"; r4=$?
if [ $r1 = 1 ] && grep -q "binary data" "$tmp/e1" && [ $r2 = 2 ] && grep -q "no message 2 (2 in the file)" "$tmp/e2" &&
   [ $r3 = 2 ] && [ $r4 = 2 ] &&
   grep -q "^vigil explain: -: no message 1: the file is one message, which cannot be used: gzip-compressed data" "$tmp/e4"
then ok "malformed input: reason and exit 1; no such message: exit 2, and why when the file is one unusable message"
else notok "malformed input: $r1 $r2 $r3 $r4" "$(cat "$tmp/e1" "$tmp/e2" "$tmp/e4")"; fi
# Multipart with base64 and quoted-printable parts: rules match the
# decoded text; matched text and header values from the message are
# escaped (no raw control or bidi characters reach the terminal).
cat >"$tmp/t.cf" <<'EOF'
body T_B64 /secret offer/
score T_B64 2.0
body T_QP /caf\xc3\xa9 special/
score T_QP 1.5
rawbody T_CTRL /ctl\x01\x1b./
score T_CTRL 1.0
header T_SUBJ Subject =~ /\xe2\x80\xae/
score T_SUBJ 0.5
EOF
printf 'stages = { "sanity", "rules" }\nrules = { "%s" }\n' "$tmp/t.cf" >"$tmp/r.conf"
b64=$(printf 'Hello, a secret offer for you\n' | base64)
printf 'From: a@example.com\nTo: b@example.net\nSubject: \342\200\256 reversed\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="BB"\n\n--BB\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n%s\n--BB\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\ncaf=C3=A9 special =\nthing\nctl\001\033[2J end\n--BB--\n' "$b64" >"$tmp/mp.eml"
"$VIGIL" explain -c "$tmp/r.conf" "$tmp/mp.eml" >"$tmp/o9" 2>&1; rc=$?
if [ $rc = 0 ] && grep -q 'matched: "secret offer"' "$tmp/o9" && grep -q "matched: \"caf$(printf '\303\251') special\"" "$tmp/o9" &&
   grep -qF 'matched: "ctl\x01\x1b["' "$tmp/o9" && grep -qF 'matched: "\xe2\x80\xae"' "$tmp/o9" &&
   ! grep -q "$(printf '\033')" "$tmp/o9" && ! grep -q "$(printf '\342\200\256')" "$tmp/o9"
then ok "base64 and quoted-printable parts; matched text escaped"
else notok "multipart (rc $rc)" "$(cat -A "$tmp/o9")"; fi
# A built-in hit the rule files take back (score GTUBE 0) is not listed
# under its stage, and the rules stage's hits stay under "rules"
# (audit21 M1: the index spans shifted).
printf 'body GTUBE /XJS/\nscore GTUBE 0\nbody T_ANY /GTUBE-STANDARD/\nscore T_ANY 1\n' >"$tmp/g.cf"
printf 'stages = { "sanity", "rules" }\nrules = { "%s" }\n' "$tmp/g.cf" >"$tmp/g.conf"
out=$("$VIGIL" explain -c "$tmp/g.conf" "$tmp/m.eml" 2>&1)
if echo "$out" | grep -q "^  sanity       tests hit: MISSING_DATE MISSING_MID\$" &&
   echo "$out" | grep -q "^  rules        1 rule hit (under Hits)\$" &&
   ! echo "$out" | grep -q "tests hit:.*GTUBE"
then ok "a built-in hit taken back: stage results by stage"
else notok "stage results after a drop" "$out"; fi
# A tflags multiple rule's hit shows its count beside its score
# (audit20 L4: "1.500 AZ_BM" for a rule of score 0.5 puzzled).
printf 'body T_MULTI /cheap/\ntflags T_MULTI multiple\nscore T_MULTI 0.5\n' >"$tmp/x.cf"
printf 'stages = { "sanity", "rules" }\nrules = { "%s" }\n' "$tmp/x.cf" >"$tmp/x.conf"
printf 'From: a@example.com\nSubject: s\n\ncheap cheap\ncheap\n' >"$tmp/multi.eml"
"$VIGIL" explain -c "$tmp/x.conf" "$tmp/multi.eml" >"$tmp/o9m" 2>&1
if grep -q '^ *1\.500  T_MULTI (x3) ' "$tmp/o9m"
then ok "tflags multiple: the count beside the score"
else notok "multiple count" "$(cat "$tmp/o9m")"; fi
# A meta rule's hit: the rules it reads that hit, level by level, each
# with the text it matched and where (a header by name); a rule read
# only negated, or that did not hit, is not listed.
cat >"$tmp/m.cf" <<'EOF'
header __T_MUA X-Mailer =~ /Outlook Express/
body __T_MONEY /\$\d+,\d{3}/
body __T_NEVER /never in this message/
meta __T_BOTH __T_MUA && __T_MONEY
meta T_META (__T_BOTH || __T_NEVER) && !__T_NEVER
score T_META 2.5
EOF
printf 'stages = { "sanity", "rules" }\nrules = { "%s" }\n' "$tmp/m.cf" >"$tmp/m.conf"
printf 'From: a@example.com\nX-Mailer: Microsoft Outlook Express 6.00\nSubject: s\n\nWin $50,000 now\n' >"$tmp/meta.eml"
"$VIGIL" explain -c "$tmp/m.conf" "$tmp/meta.eml" >"$tmp/o10" 2>&1; rc=$?
if [ $rc = 0 ] && /usr/bin/python3 - "$tmp/o10" <<'PY'
import sys
t = open(sys.argv[1]).read()
want = ("     2.500  T_META                       \n"
        "            <- __T_BOTH\n"
        "              <- __T_MUA matched: \"Outlook Express\" in X-Mailer\n"
        "              <- __T_MONEY matched: \"$50,000\" in the body\n\n")
sys.exit(want not in t or "__T_NEVER" in t)
PY
then ok "meta hit: the rules it reads that hit, their text and where"
else notok "meta sub-rules (rc $rc)" "$(cat "$tmp/o10")"; fi
# MIME nested past the parser's limit (20): what is inside was not
# scanned, and explain says so.
/usr/bin/python3 - "$tmp/deep.eml" <<'PY'
import sys
n = 25
t = "From: a@example.com\nSubject: deep\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b0\n\n"
for i in range(n):
    t += "--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n" % (i, i + 1)
t += "--b%d\nContent-Type: text/plain\n\nsecret offer\n--b%d--\n" % (n, n)
for i in range(n - 1, -1, -1):
    t += "--b%d--\n" % i
open(sys.argv[1], "w").write(t)
PY
"$VIGIL" explain -c "$tmp/r.conf" "$tmp/deep.eml" >"$tmp/o11" 2>&1; rc=$?
if [ $rc = 0 ] && grep -q "^Limit: MIME parts nested deeper than 20 levels; what is inside them was not parsed, its text not scanned\$" "$tmp/o11" &&
   ! grep -q T_B64 "$tmp/o11" && ! grep -q "^Limit" "$tmp/o9"
then ok "MIME nesting limit: said, the hidden text not matched"
else notok "depth limit (rc $rc)" "$(cat "$tmp/o11")"; fi
# A header field cut at 8192 bytes, as SpamAssassin cuts it: said.
{ printf 'From: a@example.com\nSubject: long\nX-Long: '
  head -c 9000 /dev/zero | tr '\0' a
  printf '\n\nbody\n'; } >"$tmp/long.eml"
"$VIGIL" explain -c "$tmp/r.conf" "$tmp/long.eml" >"$tmp/o12" 2>&1; rc=$?
if [ $rc = 0 ] && grep -q "^Limit: a header field longer than 8192 bytes" "$tmp/o12" &&
   ! grep -q "^Limit: a header field" "$tmp/o9"
then ok "a header field cut at 8192 bytes: said"
else notok "header field cut (rc $rc)" "$(cat "$tmp/o12")"; fi
# Matched text holding a NUL: shown whole, the NUL as \x00.
printf 'rawbody T_NUL /ab\\x00cd/\nscore T_NUL 1\n' >"$tmp/n.cf"
printf 'stages = { "sanity", "rules" }\nrules = { "%s" }\n' "$tmp/n.cf" >"$tmp/n.conf"
{ printf 'From: a@example.com\nSubject: s\n\nxx ab\000cd yy\n'
  for i in 1 2 3; do echo "padding line padding line padding line padding"; done
} >"$tmp/nul.eml"
"$VIGIL" explain -c "$tmp/n.conf" "$tmp/nul.eml" >"$tmp/o12" 2>&1; rc=$?
if [ $rc = 0 ] && grep -qF 'matched: "ab\x00cd" in the raw body' "$tmp/o12"
then ok "matched text with a NUL shown whole"
else notok "NUL in matched text (rc $rc)" "$(cat "$tmp/o12")"; fi
# Past max_message_size: the head is explained, as vigild and vigil scan do.
printf 'stages = { "sanity" }\nmax_message_size = "1k"\n' >"$tmp/small.conf"
{ printf 'From: a@example.org\nSubject: big\n\n'
  i=0; while [ $i -lt 100 ]; do echo "0123456789012345678901234567890123456789"; i=$((i + 1)); done
} >"$tmp/big.eml"
out=$("$VIGIL" explain -c "$tmp/small.conf" "$tmp/big.eml" 2>&1); rc=$?
if [ $rc = 0 ] && echo "$out" | grep -q "only the head scanned" && echo "$out" | grep -q "VIGIL_TRUNCATED"
then ok "oversized: head scanned, VIGIL_TRUNCATED"
else notok "oversized (rc $rc)" "$out"; fi
# Standard input; the stages run are listed.
out=$("$VIGIL" explain -c "$tmp/c.conf" - <"$tmp/m.eml" 2>&1); rc=$?
if [ $rc = 0 ] && echo "$out" | grep -q "^Stages: sanity$" && echo "$out" | grep -q "1000.000  GTUBE"
then ok "standard input; stages listed"
else notok "stdin (rc $rc)" "$out"; fi
if [ -w /dev/full ]; then
	"$VIGIL" explain -c "$tmp/c.conf" "$tmp/m.eml" >/dev/full 2>/dev/null; rc=$?
	if [ $rc = 2 ]; then ok "stdout full: exit 2"; else notok "stdout full: rc $rc"; fi
else skip "stdout full" "no /dev/full"; fi
# A bounce: "Return-Path: <>" is the null sender, not the From address.
printf 'Return-Path: < >\nFrom: MAILER-DAEMON@mx.example.com\nTo: u@example.net\nSubject: bounce\n\nx\n' >"$tmp/bounce.eml"
out=$("$VIGIL" explain -c "$tmp/c.conf" "$tmp/bounce.eml" 2>&1)
if echo "$out" | grep -q "from=<> rcpts=<u@example.net>"; then ok "Return-Path <>: null sender"
else notok "Return-Path <>" "$out"; fi

# Envelope addresses as SMTP writes them: one pair of <> removed, <> the
# null sender; --client-ip must be an address; a usage error points to
# --help instead of printing the usage.
out=$("$VIGIL" explain -c "$tmp/c.conf" --mail-from '<x@y.example>' --rcpt '<z@y.example>' \
	--client-ip=2001:db8::1 "$tmp/m.eml" 2>&1)
out2=$("$VIGIL" explain -c "$tmp/c.conf" --mail-from '<>' "$tmp/m.eml" 2>&1)
if echo "$out" | grep -q "client=2001:db8::1 helo=mail.example.com from=<x@y.example> rcpts=<z@y.example>\$" &&
   echo "$out2" | grep -q " from=<> rcpts="
then ok "--mail-from/--rcpt in SMTP form; <> the null sender"
else notok "SMTP form" "$out" "$out2"; fi
err=$("$VIGIL" explain -c "$tmp/c.conf" --client-ip 999.1.1.1 "$tmp/m.eml" 2>&1); rc=$?
if [ $rc = 2 ] && [ "$err" = "vigil explain: --client-ip 999.1.1.1: not an IPv4 or IPv6 address
see vigil explain --help" ]
then ok "--client-ip not an address: exit 2, the error and a pointer to --help"
else notok "--client-ip check (rc $rc)" "$err"; fi
# A per-domain policy that refuses what the default delivers: each
# recipient's own action, policy and threshold; the one dropped marked,
# counted on the Action line, as vigild has the MTA remove it; no
# Recipients section without per-domain policies.
printf 'stages = { "sanity" }\nactions { add_header = 1\nreject = 100 }\ndomain "strict.example" { add_header = 0.5\nreject = 1.5 }\n' >"$tmp/dom.conf"
printf 'From: a@example.org\nSubject: s\n\nx\n' >"$tmp/dom.eml"
out=$("$VIGIL" explain -c "$tmp/dom.conf" --rcpt u@lax.example --rcpt v@strict.example "$tmp/dom.eml" 2>&1); rc=$?
want='Action: add_header; 1 of 2 recipients dropped
Recipients, each by its own policy:
  <u@lax.example>: add_header by the default policy (spam from 1.0)
  <v@strict.example>: reject by domain "strict.example" (spam from 0.5); dropped (vigild removes it)'
if [ $rc = 0 ] && [ "$(echo "$out" | grep -A3 "^Action:")" = "$want" ] &&
   echo "$out" | grep -q "^Score: 1.900 (spam from 1.0)\$" &&
   ! "$VIGIL" explain -c "$tmp/c.conf" --rcpt u@lax.example --rcpt v@strict.example "$tmp/dom.eml" 2>&1 |
	grep -q "^Recipients"
then ok "per-domain policy: each recipient's action, the one dropped"
else notok "dropped recipients (rc $rc)" "$out"; fi

# The client's hop the rules see for a given client: shown, with the
# rDNS name of --client-name, dated (the run's start); none for a client guessed from the message.
# A --client-name that is no host name is a usage error.
out=$("$VIGIL" explain -c "$tmp/r.conf" --client-ip 192.0.2.9 --client-name mx.client.example \
	--helo hello.example "$tmp/m.eml" 2>&1)
out2=$("$VIGIL" explain -c "$tmp/r.conf" "$tmp/m.eml" 2>&1)
"$VIGIL" explain -c "$tmp/r.conf" --client-name 'a b' "$tmp/m.eml" >/dev/null 2>&1; rc=$?
if echo "$out" | grep -qx "  Received: from hello.example (mx.client.example \[192.0.2.9\]) by localhost (vigil) with ESMTP; [A-Z][a-z][a-z], [0-3][0-9] [A-Z][a-z][a-z] 2[0-9][0-9][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9] +0000" &&
   ! echo "$out2" | grep -q "^Client hop" && [ $rc = 2 ]
then ok "explain shows the client's hop modelled for --client-ip; --client-name checked"
else notok "client hop in explain (rc $rc)" "$out" "$out2"; fi

# The MAIL FROM guessed without a Return-Path: the envelope sender the
# client's hop records (Exim's "envelope-from"), then X-Envelope-From,
# Envelope-Sender, then From (SpamAssassin's get_envelope_from order,
# Return-Path first: what delivery recorded). Below a Received: line,
# X-Envelope-From, Envelope-Sender and Return-Path came from the sender:
# not used (ef5, ef6; SpamAssassin does not trust them there either).
printf 'Received: from mail.example.de (mail.example.de [198.51.100.9])\n\tby mx.example.org with esmtps (Exim 4.96)\n\t(envelope-from <hop@example.de>)\n\tid 1abc; Mon, 1 Jan 2024 00:00:00 +0000\nX-Envelope-From: <xe@example.net>\nFrom: f@example.com\nTo: t@example.org\nSubject: x\n\nhi\n' >"$tmp/ef1.eml"
sed '1,4d' "$tmp/ef1.eml" >"$tmp/ef2.eml"
sed '1,5d' "$tmp/ef1.eml" | sed '1i Envelope-Sender: es@example.net' >"$tmp/ef3.eml"
sed '1,5d' "$tmp/ef1.eml" >"$tmp/ef4.eml"
sed '3d' "$tmp/ef1.eml" >"$tmp/ef5.eml"
sed '3d; s/^X-Envelope-From:/Return-Path:/' "$tmp/ef1.eml" >"$tmp/ef6.eml"
froms=""
for i in 1 2 3 4 5 6; do
	froms="$froms $("$VIGIL" explain -c "$tmp/c.conf" "$tmp/ef$i.eml" 2>&1 | sed -n 's/^Envelope: .* from=<\([^>]*\)>.*/\1/p')"
done
check "MAIL FROM guessed: hop's envelope-from, X-Envelope-From, Envelope-Sender, From, not a sender's X-Envelope-From or Return-Path ($froms)" \
	[ "$froms" = " hop@example.de xe@example.net es@example.net f@example.com f@example.com f@example.com" ]
