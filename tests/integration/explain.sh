#!/bin/sh
# vigil explain: envelope guessed from the message, hits, action (TAP).
set -u
: "${top_builddir:=$(pwd)}"
VIGIL=$top_builddir/milter/vigil
tmp=$(mktemp -d /tmp/vigil-explain.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
echo "1..5"
printf 'stages = { "sanity" }\nactions { reject_reply = "550 5.7.1 No thanks" }\n' >"$tmp/c.conf"
printf 'Received: from relay.example.net (relay.example.net [127.0.0.1])\n\tby mx.test\nReceived: from mail.example.com (mail.example.com [198.51.100.7])\n\tby relay.example.net\nReturn-Path: <bounce@example.com>\nFrom: Alice <alice@example.com>\nTo: bob@example.net, Carol <carol@example.net>\nSubject: test\n\nXJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\n' >"$tmp/m.eml"
out=$("$VIGIL" explain -c "$tmp/c.conf" "$tmp/m.eml" 2>&1); rc=$?
t() { if echo "$out" | grep -q -- "$2"; then echo "ok $1 - $3"; else echo "not ok $1 - $3"; echo "$out" | sed 's/^/# /'; fi; }
[ $rc = 0 ] && echo "ok 1 - exit 0" || echo "not ok 1 - exit $rc"
t 2 "client=198.51.100.7 helo=mail.example.com from=<bounce@example.com> rcpts=<bob@example.net>,<carol@example.net>" \
	"envelope from the last external Received, Return-Path, To/Cc"
t 3 "1000.000  GTUBE" "GTUBE hit with its score"
t 4 "Action: reject (550 5.7.1 No thanks)" "action and configured reply"
out=$("$VIGIL" explain --client-ip 192.0.2.1 --mail-from x@y.example --rcpt z@y.example \
	-c "$tmp/c.conf" "$tmp/m.eml" 2>&1)
t 5 "client=192.0.2.1 helo=mail.example.com from=<x@y.example> rcpts=<z@y.example>" \
	"flags override the message"
