#!/bin/sh
# Integration: vigild through a real socket, driven by miltertest (an
# independent milter client, Debian package miltertest). TAP output.
set -u
: "${top_builddir:=$(pwd)}" "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
VIGILD=$top_builddir/milter/vigild
LUA_DIR=$top_srcdir/tests/integration/lua
export LUA_DIR
. "$top_srcdir/tests/integration/lib/common.sh"

tap_plan 14
if ! command -v miltertest >/dev/null 2>&1; then
	for i in $(seq 1 13); do echo "ok $i # SKIP miltertest not installed"; done
	exit 0
fi

tmp=$(mktemp -d /tmp/vigil-it.XXXXXX)
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT


port=$(free_port)
REJECT_TEXT="Spam refused by the test policy"
export REJECT_TEXT
cat >"$tmp/vigild.conf" <<CONF
listen = { "inet:$port@127.0.0.1", "unix:$tmp/vigild.sock" }
hostname = "mx.test"
stages = { "sanity" }
actions {
	add_header = 5
	reject = 15
	reject_reply = "550 5.7.1 $REJECT_TEXT"
}
CONF

# Wait (bounded) until vigild answers on the port.
wait_port() {
	i=0
	while [ $i -lt 100 ]; do
		/usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 1)" \
			2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# A stale socket file left by a crashed instance must not stop start-up.
/usr/bin/python3 -c "import socket; s=socket.socket(socket.AF_UNIX); s.bind('$tmp/vigild.sock')"

"$VIGILD" -f -c "$tmp/vigild.conf" 2>"$tmp/log" &
pid=$!
if wait_port "$port"; then ok "vigild starts (stale unix socket replaced)"
else notok "vigild starts" "$(cat "$tmp/log")"; exit 1; fi

export VIGIL_SOCKET="inet:$port@127.0.0.1"
mt() { miltertest -s "$LUA_DIR/$1"; }
check "negotiation" mt negotiate.lua
check "clean message gets X-Spam headers, forged one removed" mt clean.lua
check "GTUBE rejected with the configured reply" mt gtube.lua
check "two messages on one connection, one verdict each" mt two_messages.lua
VIGIL_SOCKET="unix:$tmp/vigild.sock" check "unix socket listener" mt clean.lua

# One verdict line per message, with the queue id and stage results.
lines=$(grep -c 'qid=QTEST1 ' "$tmp/log")
if [ "$lines" -ge 4 ] && grep -q 'qid=QTEST1 client=192.0.2.10 helo=client.example from=sender@example.org rcpts=1 .*action=reject.*hits=GTUBE' "$tmp/log"
then ok "verdict lines logged"
else notok "verdict lines logged" "$(cat "$tmp/log")"; fi

# SIGHUP: a bad file is refused and the old configuration kept...
cp "$tmp/vigild.conf" "$tmp/good.conf"
echo 'actions { reject = "many" }' >>"$tmp/vigild.conf"
kill -HUP "$pid"
i=0; while [ $i -lt 100 ] && ! grep -q 'reload of .* refused' "$tmp/log"; do sleep 0.1; i=$((i+1)); done
if grep -q "vigild.conf:[0-9]*: reject: expected a score" "$tmp/log" && mt gtube.lua >/dev/null 2>&1
then ok "bad reload refused with file:line, old configuration kept"
else notok "bad reload refused" "$(tail -5 "$tmp/log")"; fi

# ...and a good one takes effect without dropping the listener.
sed "s/$REJECT_TEXT/Reloaded policy/" "$tmp/good.conf" >"$tmp/vigild.conf"
kill -HUP "$pid"
i=0; while [ $i -lt 100 ] && ! grep -q 'configuration reloaded' "$tmp/log"; do sleep 0.1; i=$((i+1)); done
REJECT_TEXT="Reloaded policy" check "reload applies the new reply" mt gtube.lua

# Every later reload logs the file's name too and the daemon stays up
# (audit20 H4: from the second reload on, the name was read from the
# freed configuration: garbage in the log, an ASan abort).
for n in 2 3; do
	kill -HUP "$pid"
	i=0
	while [ $i -lt 100 ] && [ "$(grep -c 'configuration reloaded' "$tmp/log")" -lt $n ]; do
		sleep 0.1; i=$((i+1))
	done
done
if [ "$(grep -c "configuration reloaded from $tmp/vigild.conf\$" "$tmp/log")" = 3 ] &&
   kill -0 "$pid" 2>/dev/null &&
   REJECT_TEXT="Reloaded policy" mt gtube.lua >/dev/null 2>&1
then ok "three reloads, each logged with the file's name"
else notok "repeated reloads" "$(grep -a reloaded "$tmp/log" | cat -v)"; fi

# Garbage on the socket ends that session, not the daemon.
/usr/bin/python3 - "$port" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
s.sendall(b"\xff\xff\xff\xffgarbage")
s.settimeout(5)
try:
    s.recv(100)
except OSError:
    pass
PY
check "malformed packet: session closed, daemon alive" mt negotiate.lua

# -t: every error as FILE:LINE.
printf 'listen = { "inet:1@127.0.0.1" }\n\nmax_packet = "x"\n' >"$tmp/bad.conf"
out=$("$VIGILD" -t -c "$tmp/bad.conf" 2>&1); rc=$?
if [ $rc = 1 ] && echo "$out" | grep -q "bad.conf:3: max_packet"
then ok "vigild -t reports FILE:LINE and exits 1"
else notok "vigild -t" "rc=$rc $out"; fi

# SIGTERM: clean exit 0, unix socket removed.
kill -TERM "$pid"
wait "$pid"; rc=$?
pid=""
if [ $rc = 0 ] && [ ! -e "$tmp/vigild.sock" ]; then ok "SIGTERM: exit 0, socket removed"
else notok "SIGTERM" "rc=$rc" "$(tail -5 "$tmp/log")"; fi

# A daemon (no -f) started with a relative -c: its relative include() and
# pidfile are taken from the file's directory, a reload (SIGHUP) after it
# left for "/" finds both again, and the pidfile is removed at the end.
dport=$(free_port)
mkdir "$tmp/d"
printf 'listen = { "inet:%s@127.0.0.1" }\nstages = { "sanity" }\npidfile = "vigild.pid"\ninclude("part.conf")\n' \
	"$dport" >"$tmp/d/d.conf"
printf 'actions { reject_reply = "550 5.7.1 From the part" }\n' >"$tmp/d/part.conf"
( cd "$tmp/d" && "$VIGILD" -c d.conf ) 2>"$tmp/d/log"
i=0; while [ $i -lt 100 ] && [ ! -s "$tmp/d/vigild.pid" ]; do sleep 0.1; i=$((i+1)); done
dpid=$(cat "$tmp/d/vigild.pid" 2>/dev/null)
pid=$dpid		# stopped by cleanup() if the test fails half-way
first=fail; second=fail
if [ -n "$dpid" ] && wait_port "$dport" &&
   VIGIL_SOCKET="inet:$dport@127.0.0.1" REJECT_TEXT="From the part" mt gtube.lua >/dev/null 2>&1
then first=ok; fi
printf 'actions { reject_reply = "550 5.7.1 Reloaded part" }\n' >"$tmp/d/part.conf"
[ -n "$dpid" ] && kill -HUP "$dpid"
i=0
while [ $i -lt 50 ] && [ $second = fail ]; do
	VIGIL_SOCKET="inet:$dport@127.0.0.1" REJECT_TEXT="Reloaded part" mt gtube.lua >/dev/null 2>&1 && second=ok
	[ $second = ok ] || sleep 0.2; i=$((i+1))
done
[ -n "$dpid" ] && kill -TERM "$dpid"
i=0; while [ $i -lt 100 ] && [ -n "$dpid" ] && kill -0 "$dpid" 2>/dev/null; do sleep 0.1; i=$((i+1)); done
pid=""
if [ $first = ok ] && [ $second = ok ] && [ ! -e "$tmp/d/vigild.pid" ]
then ok "daemon with a relative -c: include and pidfile from the file's directory, reload after leaving for /"
else notok "daemon relative -c" "first=$first second=$second" "$(cat "$tmp/d/log")"; fi

