#!/bin/sh
# vigild without a syslog daemon (/dev/log absent, or hidden in a mount
# namespace of this test): one warning at start, every verdict line on
# stderr, and no reconnect to /dev/log per line (glibc's syslog() would
# try socket+connect for each). TAP.
set -u
: "${top_builddir:=$(pwd)}" "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
export top_builddir top_srcdir
VIGILD=$top_builddir/milter/vigild
VIGIL=$top_builddir/milter/vigil
. "$top_srcdir/tests/integration/lib/common.sh"

# Re-run inside a private mount namespace with /dev/log covered by an
# empty file (connect() then fails as with no daemon).
if [ -e /dev/log ] && [ -z "${VIGIL_SYSLOG_NS:-}" ]; then
	if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null 2>&1; then
		tap_plan 3
		skip_rest "/dev/log exists and no mount namespace (needs root and unshare)"
	fi
	VIGIL_SYSLOG_NS=1 exec unshare -m --propagation private sh -c '
		f=$(mktemp /tmp/vigil-nolog.XXXXXX) &&
		mount --bind "$f" /dev/log && rm -f "$f" && exec sh "$0"' "$0"
fi

tap_plan 3
tmp=$(mktemp -d /tmp/vigil-syslog.XXXXXX)
trap stop_all EXIT
printf 'listen = { "unix:%s/v.sock" }\npidfile = "%s/v.pid"\nstages = { "sanity" }\n' \
	"$tmp" "$tmp" >"$tmp/v.conf"
i=0
while [ $i -lt 40 ]; do
	printf 'From sender@example.com Mon Nov 23 10:00:00 2026\n'
	printf 'From: a@example.com\nTo: b@example.net\nSubject: m%d\n' $i
	printf 'Date: Mon, 23 Nov 2026 10:00:00 +0000\nMessage-ID: <m%d@example.com>\n\nbody\n\n' $i
	i=$((i + 1))
done >"$tmp/m.mbox"

# under strace when there is one; stopping vigild ends strace
if command -v strace >/dev/null 2>&1; then
	strace -f -e trace=connect -o "$tmp/strace" "$VIGILD" -f -c "$tmp/v.conf" 2>"$tmp/err" &
else
	"$VIGILD" -f -c "$tmp/v.conf" 2>"$tmp/err" &
fi
spid=$!
track_pid $spid
wait_for 300 test -s "$tmp/v.pid"
"$VIGIL" scan --milter "unix:$tmp/v.sock" --format jsonl "$tmp/m.mbox" >"$tmp/out" 2>"$tmp/scan.err"
[ -s "$tmp/v.pid" ] && stop_pid "$(cat "$tmp/v.pid")"
stop_pid $spid

w=$(grep -c 'warning: syslog: cannot reach /dev/log' "$tmp/err")
if [ "$w" = 1 ]; then ok "one warning that syslog is unreachable"
else notok "one warning that syslog is unreachable (got $w)" "$(head -5 "$tmp/err")"; fi

v=$(grep -c 'action=accept' "$tmp/err")
if [ "$v" = 40 ]; then ok "40 verdict lines on stderr"
else notok "40 verdict lines on stderr (got $v)" "$(tail -3 "$tmp/scan.err")"; fi

if [ -f "$tmp/strace" ]; then
	c=$(grep -c 'connect(.*/dev/log' "$tmp/strace")
	# one probe at start, then one per 10 s at most: far below one a line
	if [ "$c" -lt 10 ]; then ok "/dev/log tried $c times for 40 messages"
	else notok "/dev/log tried $c times for 40 messages" "$(grep /dev/log "$tmp/strace" | head -3)"; fi
else
	skip "/dev/log tries" "strace not installed"
fi
