#!/bin/sh
# vigil scan and explain on oversized and endless input: a message past
# max_message_size is scanned up to it as vigild scans it, reported and
# counted, and the run goes on; a message file (a file, standard input,
# a FIFO, a device) is not read past the bound, so an input that never
# ends (/dev/zero, `yes |`) ends the run; an endless mbox message is
# dropped as read and the first SIGTERM stops its reading, also when it
# waits for input that does not come; vigil explain ends at once (TAP).
#
# max_message_size is 64K: the reading bound is that plus 1 MiB of
# header allowance, so 2 MiB is "over" and tests use little data. Every
# endless input is stopped by vigil itself; the `timeout` around it is a
# safety net so that a regression fails instead of hanging.
set -u
: "${top_builddir:=$(pwd)}" "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
VIGIL=$top_builddir/milter/vigil
tmp=$(mktemp -d /tmp/vigil-bounds.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$top_srcdir/tests/integration/lib/common.sh"
tap_plan 14

printf 'stages = { "sanity" }\nmax_message_size = "64K"\n' >"$tmp/c.conf"
FROM_='From x@y Mon Nov 23 10:00:00 2026'
# big_msg: a message of 2 MiB of body lines on stdout
big_msg() {
	printf 'From: a@example.com\nSubject: big\n\n'
	"$PY" -c 'import sys; sys.stdout.write(("x" * 63 + "\n") * 32768)'
}
small_msg() { printf 'From: b@example.com\nSubject: %s\n\nhi\n' "$1"; }
BIG=$((2097152 + 34))    # big_msg's size in bytes
over() { echo "message $1 at byte $2: $3 bytes, larger than max_message_size (65536): only its head scanned"; }
summary() { grep -q "^$1 messages* in .*, $2 errors*; .*; 1 larger than max_message_size (head scanned)\$" "$3"; }
# rows FILE: index:action of each JSON line
rows() { "$PY" -c 'import json, sys
print(" ".join("%d:%s" % (r["index"], r["action"]) for r in map(json.loads, open(sys.argv[1]))))' "$1"; }

# mbox: the big message's rest is read and dropped up to the next From_.
{ echo "$FROM_"; big_msg; echo; echo "$FROM_"; small_msg small; } >"$tmp/m.mbox"
"$VIGIL" scan -c "$tmp/c.conf" --format jsonl "$tmp/m.mbox" >"$tmp/o1" 2>"$tmp/e1"; rc=$?
if [ $rc = 0 ] && [ "$(rows "$tmp/o1")" = "0:accept 1:accept" ] &&
   grep -q '"VIGIL_TRUNCATED"' "$tmp/o1" && [ "$(grep -c VIGIL_TRUNCATED "$tmp/o1")" = 1 ] &&
   grep -qF "m.mbox: $(over 0 0 $BIG)" "$tmp/e1" && summary 2 0 "$tmp/e1"
then ok "mbox: the message over the bound scanned truncated, reported, counted; the next one scanned"
else notok "mbox over the bound" "rc=$rc" "$(cat "$tmp/o1" "$tmp/e1")"; fi

# maildir: a message file over the bound, its size from the file system.
mkdir -p "$tmp/md/cur" "$tmp/md/new" "$tmp/md/tmp"
big_msg >"$tmp/md/cur/1:2,S"; small_msg small >"$tmp/md/cur/2:2,S"
"$VIGIL" scan -c "$tmp/c.conf" --format jsonl "$tmp/md" >"$tmp/o2" 2>"$tmp/e2"; rc=$?
if [ $rc = 0 ] && [ "$(rows "$tmp/o2")" = "0:accept 0:accept" ] &&
   grep -qF "1:2,S: $(over 0 0 $BIG)" "$tmp/e2" && summary 2 0 "$tmp/e2"
then ok "maildir: a file over the bound reported with its size, the next file scanned"
else notok "maildir over the bound" "rc=$rc" "$(cat "$tmp/o2" "$tmp/e2")"; fi

# Standard input: not read past the bound, so its size is a lower bound
# under the 2 MiB written.
big_msg 2>/dev/null | "$VIGIL" scan -c "$tmp/c.conf" --format jsonl - >"$tmp/o3" 2>"$tmp/e3"; rc=$?
n=$(sed -n 's/.*: at least \([0-9]*\) bytes, larger than max_message_size (65536): only its head scanned$/\1/p' "$tmp/e3")
if [ $rc = 0 ] && [ "$(rows "$tmp/o3")" = "0:accept" ] && [ -n "$n" ] &&
   [ "$n" -gt 1114112 ] && [ "$n" -lt $BIG ] && summary 1 0 "$tmp/e3"
then ok "stdin: read up to the bound only (at least $n bytes), scanned truncated"
else notok "stdin over the bound" "rc=$rc n=$n" "$(cat "$tmp/o3" "$tmp/e3")"; fi

# A FIFO fed by a bounded writer, then a small file: the run goes on.
mkfifo "$tmp/fifo"
small_msg after >"$tmp/after.eml"
{ big_msg >"$tmp/fifo"; } 2>/dev/null &
wpid=$!
"$VIGIL" scan -c "$tmp/c.conf" --format jsonl "$tmp/fifo" "$tmp/after.eml" >"$tmp/o4" 2>"$tmp/e4"; rc=$?
wait $wpid 2>/dev/null
if [ $rc = 0 ] && [ "$(rows "$tmp/o4")" = "0:accept 0:accept" ] &&
   grep -q "fifo: message 0 at byte 0: at least [0-9]* bytes, larger than" "$tmp/e4" &&
   summary 2 0 "$tmp/e4"
then ok "FIFO: read up to the bound only, scanned truncated, the next path scanned"
else notok "FIFO over the bound" "rc=$rc" "$(cat "$tmp/o4" "$tmp/e4")"; fi

# Endless inputs end the run by themselves.
timeout 120 "$VIGIL" scan -c "$tmp/c.conf" --format jsonl /dev/zero "$tmp/after.eml" >"$tmp/o5" 2>"$tmp/e5"; rc=$?
if [ $rc = 1 ] && [ "$(rows "$tmp/o5")" = "0:error 0:accept" ] &&
   grep -q "^vigil scan: /dev/zero: message 0 at byte 0: binary data (1[0-9]* NUL bytes in 1[0-9]*)\$" "$tmp/e5" &&
   grep -q "^2 messages in .*, 1 error; accept 1\$" "$tmp/e5"
then ok "/dev/zero: binary data after the bound, an error, the run goes on, exit 1"
else notok "/dev/zero" "rc=$rc" "$(cat "$tmp/o5" "$tmp/e5")"; fi
yes 'Subject: x' | timeout 120 "$VIGIL" scan -c "$tmp/c.conf" --format jsonl - >"$tmp/o6" 2>"$tmp/e6"; rc=$?
if [ $rc = 0 ] && [ "$(rows "$tmp/o6")" = "0:add_header" ] &&
   grep -q "^vigil scan: -: message 0 at byte 0: at least [0-9]* bytes, larger than" "$tmp/e6" &&
   summary 1 0 "$tmp/e6"
then ok "a header section without end: read up to the bound, scanned truncated"
else notok "endless header section" "rc=$rc" "$(cat "$tmp/o6" "$tmp/e6")"; fi
tr '\0' x </dev/zero | timeout 120 "$VIGIL" scan -c "$tmp/c.conf" --format jsonl - >"$tmp/o7" 2>"$tmp/e7"; rc=$?
if [ $rc = 1 ] && [ "$(rows "$tmp/o7")" = "0:error" ] &&
   grep -q "^vigil scan: -: message 0 at byte 0: no header field at the start: not a message\$" "$tmp/e7"
then ok "one endless line: read up to the bound, not a message, exit 1"
else notok "endless line" "rc=$rc" "$(cat "$tmp/o7" "$tmp/e7")"; fi

# vigil explain reads the same way.
timeout 120 "$VIGIL" explain -c "$tmp/c.conf" /dev/zero >"$tmp/o8" 2>"$tmp/e8"; rc=$?
yes 'Subject: x' | timeout 120 "$VIGIL" explain -c "$tmp/c.conf" - >"$tmp/o9" 2>"$tmp/e9"; rc9=$?
if [ $rc = 1 ] && grep -q "/dev/zero: message 0 at byte 0: binary data" "$tmp/e8" &&
   [ $rc9 = 0 ] && grep -q "^Message: - (at least [0-9]* bytes; past max_message_size: only the head scanned, as vigild)\$" "$tmp/o9"
then ok "explain: /dev/zero an error, an endless header section explained truncated"
else notok "explain endless" "rc=$rc rc9=$rc9" "$(cat "$tmp/e8" "$tmp/o9" "$tmp/e9")"; fi

# An mbox message without end: its bytes are dropped as read (memory
# stays small), and the first SIGTERM stops the reading. The signal is
# sent once the process has read 64 MiB (/proc/PID/io), the marker that
# it is deep in the endless message.
mkfifo "$tmp/endless"
{ { echo "$FROM_"; small_msg one; echo; echo "$FROM_"; small_msg two; yes; } >"$tmp/endless"; } 2>/dev/null &
wpid=$!
"$VIGIL" scan -c "$tmp/c.conf" --jobs 1 --format jsonl "$tmp/endless" >"$tmp/o10" 2>"$tmp/e10" &
pid=$!
read_past() {	# wait (bounded) until PID has read $2 bytes
	_n=0
	while [ $_n -lt 600 ]; do
		_r=$(sed -n 's/^rchar: //p' "/proc/$1/io" 2>/dev/null)
		[ -n "$_r" ] || return 1
		[ "$_r" -ge "$2" ] && return 0
		sleep 0.1; _n=$((_n + 1))
	done
	return 1
}
hwm=
if read_past $pid 67108864; then
	hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB$/\1/p' "/proc/$pid/status")
	kill -TERM $pid
fi
reap $pid; rc=$?
kill $wpid 2>/dev/null; wait $wpid 2>/dev/null
if [ -n "$hwm" ] && [ "$hwm" -lt 65536 ]; then ok "endless mbox message: memory stays small (peak ${hwm} kB after 64 MiB read)"
else notok "endless mbox memory" "peak=$hwm kB"; fi
if [ $rc = 143 ] && [ "$(rows "$tmp/o10")" = "0:accept 1:error" ] &&
   grep -q "^vigil scan: .*endless: message 1 at byte 72: reading interrupted after [0-9]* bytes of it: not scanned\$" "$tmp/e10" &&
   grep -q "^2 messages in .*, 1 error; accept 1; interrupted by SIGTERM after 2 messages\$" "$tmp/e10"
then ok "endless mbox message: one SIGTERM stops its reading, reported cut, summary, exit 143"
else notok "SIGTERM on endless input" "rc=$rc" "$(cat "$tmp/o10" "$tmp/e10")"; fi

# A read that waits for input: the FIFO's writer holds it open and
# writes nothing. hold_fifo runs vigil, opens the FIFO's write end (the
# open returns once vigil has opened the read end: the sync point),
# sends SIGTERM, keeps the write end open until vigil has exited, and
# exits with its status; its alarm is a safety net for a vigil that
# never opens the FIFO. The first SIGTERM ends the wait: the input
# reported cut, the summary says the run was stopped, exit 143.
hold_fifo() {	# hold_fifo FIFO OUT ERR CMD...
	"$PY" -c 'import os, signal, subprocess, sys
fifo, out, err = sys.argv[1:4]
p = subprocess.Popen(sys.argv[4:], stdout=open(out, "wb"), stderr=open(err, "wb"))
def give_up(sig, frame):
    p.kill(); sys.exit(99)
signal.signal(signal.SIGALRM, give_up); signal.alarm(120)
fd = os.open(fifo, os.O_WRONLY)
signal.alarm(0)
p.send_signal(signal.SIGTERM)
rc = p.wait()
os.close(fd)
sys.exit(rc if rc >= 0 else 128 - rc)' "$@"
}
# stopped_waiting N NAME TEST: run N (o$N, e$N, exit status $rc), whose
# read of the FIFO NAME waited, ended by one SIGTERM: the input reported
# cut, the summary says the run was stopped, exit 143.
stopped_waiting() {
	if [ $rc = 143 ] && [ "$(rows "$tmp/o$1")" = "0:error" ] &&
	   grep -q "^vigil scan: .*$2: reading interrupted before its first message\$" "$tmp/e$1" &&
	   grep -q "^1 message in .*, 1 error; interrupted by SIGTERM after 1 message\$" "$tmp/e$1"
	then ok "$3"
	else notok "$3" "rc=$rc" "$(cat "$tmp/o$1" "$tmp/e$1")"; fi
}
mkfifo "$tmp/held"
hold_fifo "$tmp/held" "$tmp/o11" "$tmp/e11" "$VIGIL" scan -c "$tmp/c.conf" --format jsonl "$tmp/held"; rc=$?
stopped_waiting 11 held "a read waiting for input: one SIGTERM ends it, the input reported cut, summary, exit 143"

# vigil explain reads one message: a signal ends it at once (the default
# action), also while its read waits for input. Nothing is explained.
hold_fifo "$tmp/held" "$tmp/o12" "$tmp/e12" "$VIGIL" explain -c "$tmp/c.conf" "$tmp/held"; rc=$?
if [ $rc = 143 ] && [ ! -s "$tmp/o12" ]
then ok "explain: SIGTERM ends it at once, exit 143, nothing explained"
else notok "explain and SIGTERM" "rc=$rc" "$(cat "$tmp/o12" "$tmp/e12")"; fi

# A FIFO that no writer has opened: vigil opens it without waiting in
# open(2) and says it waits for a writer (the sync point: the signal
# comes once it waits); the first SIGTERM ends that wait as the one
# above, exit 143.
# waiting ERR NAME: vigil said in ERR that it waits for NAME's writer
waiting() { grep -qs "^vigil scan: .*$2: a FIFO no writer has opened yet: waiting for one\$" "$1"; }
mkfifo "$tmp/nowriter"
"$VIGIL" scan -c "$tmp/c.conf" --format jsonl "$tmp/nowriter" >"$tmp/o13" 2>"$tmp/e13" &
pid=$!
if wait_for 300 waiting "$tmp/e13" nowriter; then kill -TERM $pid; fi
reap $pid; rc=$?
stopped_waiting 13 nowriter "a FIFO no writer opened: said, one SIGTERM ends the wait, the input reported cut, exit 143"

# Its writer comes later: the FIFO is read whole; a writer that opens
# it and closes it without writing makes it an empty input, as an
# empty file. The writes wait for vigil's notice (a writer's open would
# not wait for a reader that is there already).
mkfifo "$tmp/later" "$tmp/closed"
"$VIGIL" scan -c "$tmp/c.conf" --format jsonl "$tmp/later" "$tmp/closed" "$tmp/after.eml" >"$tmp/o14" 2>"$tmp/e14" &
pid=$!
wait_for 300 waiting "$tmp/e14" later && { echo "$FROM_"; small_msg one; echo; echo "$FROM_"; small_msg two; } >"$tmp/later"
wait_for 300 waiting "$tmp/e14" closed && : >"$tmp/closed"
reap $pid; rc=$?
if [ $rc = 0 ] && [ "$(rows "$tmp/o14")" = "0:accept 1:accept 0:accept" ] &&
   grep -q "^vigil scan: .*closed: empty file, no message in it\$" "$tmp/e14" &&
   grep -q "^3 messages in .*, 0 errors; accept 3\$" "$tmp/e14"
then ok "a FIFO whose writer comes later read whole; one closed unwritten an empty input"
else notok "FIFO writer later" "rc=$rc" "$(cat "$tmp/o14" "$tmp/e14")"; fi
