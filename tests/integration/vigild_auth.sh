#!/bin/sh
# Integration: vigild with the authentication stages over the milter
# protocol (miltertest), against the test DNS server on 127.0.0.1. TAP.
set -u
: "${top_builddir:=$(pwd)}" "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
VIGILD=$top_builddir/milter/vigild
LUA_DIR=$top_srcdir/tests/integration/lua
export LUA_DIR
. "$top_srcdir/tests/integration/lib/common.sh"
tap_plan 5
if ! command -v miltertest >/dev/null 2>&1 ||
   ! /usr/bin/python3 -c 'import dnslib, yaml' 2>/dev/null; then
	for i in 1 2 3 4 5; do echo "ok $i # SKIP miltertest or python3-dnslib missing"; done
	exit 0
fi
tmp=$(mktemp -d /tmp/vigil-auth-it.XXXXXX)
pid="" dnspid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	[ -n "$dnspid" ] && kill "$dnspid" 2>/dev/null && wait "$dnspid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

cat >"$tmp/zone.yml" <<'YML'
description: vigild end-to-end authentication zone
zonedata:
  example.org:
    - TXT: "v=spf1 ip4:192.0.2.10 -all"
  _dmarc.example.org:
    - TXT: "v=DMARC1; p=reject"
YML
mkfifo "$tmp/dns.out"
/usr/bin/python3 "$top_srcdir/tests/integration/dnssrv.py" "$tmp/zone.yml" \
	--port 0 >"$tmp/dns.out" 2>"$tmp/dns.err" &
dnspid=$!
read -r line <"$tmp/dns.out"
dnsport=${line##* }
case $dnsport in
''|*[!0-9]*) notok "test DNS server starts" "$line" "$(cat "$tmp/dns.err")"; exit 1 ;;
esac

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$tmp/vigild.conf" <<CONF
listen = { "inet:$port@127.0.0.1" }
hostname = "mx.test"
dns { servers = { "127.0.0.1@$dnsport" } }
dmarc { reject_action = "reject" }
CONF
"$VIGILD" -f -c "$tmp/vigild.conf" 2>"$tmp/log" &
pid=$!
i=0
while [ $i -lt 100 ] && ! /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; do
	sleep 0.1; i=$((i + 1))
done
export VIGIL_SOCKET="inet:$port@127.0.0.1"
if out=$(CLIENT_IP=192.0.2.10 miltertest -s "$LUA_DIR/auth_pass.lua" 2>&1)
then ok "SPF and DMARC pass: Authentication-Results on top, forged one removed"
else notok "SPF and DMARC pass" "$out" "$(tail -5 "$tmp/log")"; fi
if out=$(CLIENT_IP=192.0.2.66 miltertest -s "$LUA_DIR/auth_forged.lua" 2>&1)
then ok "SPF fail + DMARC p=reject: rejected"
else notok "SPF fail + DMARC p=reject" "$out" "$(tail -5 "$tmp/log")"; fi
if grep -q 'spf=pass' "$tmp/log" && grep -q 'spf=fail' "$tmp/log" &&
   grep -q 'dmarc=fail' "$tmp/log"
then ok "verdict lines carry the stage results"
else notok "verdict lines carry the stage results" "$(cat "$tmp/log")"; fi
# SPF reject at MAIL FROM for a listed domain (reload with that policy).
cat >>"$tmp/vigild.conf" <<CONF
spf { reject_fail_domains = { "example.org" } }
CONF
kill -HUP "$pid"
i=0; while [ $i -lt 100 ] && ! grep -q 'configuration reloaded' "$tmp/log"; do sleep 0.1; i=$((i+1)); done
if out=$(miltertest -s "$LUA_DIR/mail_reject.lua" 2>&1) &&
   grep -q 'rejected at MAIL FROM: 550 5.7.23' "$tmp/log"
then ok "SPF fail of a listed domain rejected at MAIL FROM"
else notok "SPF reject at MAIL FROM" "$out" "$(tail -5 "$tmp/log")"; fi
# DNS server gone: the budget bounds the cost, temperror, mail accepted.
kill "$dnspid"; wait "$dnspid" 2>/dev/null; dnspid=""
if out=$(CLIENT_IP=192.0.2.10 miltertest -s "$LUA_DIR/clean.lua" 2>&1) &&
   grep -q 'spf=temperror' "$tmp/log"
then ok "dead DNS server: temperror, message still accepted"
else notok "dead DNS server" "$out" "$(tail -3 "$tmp/log")"; fi
