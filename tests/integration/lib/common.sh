# Shared shell helpers of the MTA integration tests (sourced, POSIX sh).
#   TAP:        tap_plan N; ok NAME; notok NAME [DETAIL...]; skip NAME REASON;
#               check NAME CMD...; skip_rest REASON
#   processes:  track_pid PID; stop_pid PID; stop_all (the EXIT trap)
#   polling:    wait_for TRIES CMD...  (0.2 s apart; bounded, not timed)
#   packages:   apt_ensure CMD PKG...  (installs PKG when CMD is missing)
#   milter:     start_milter SOCKETPORT CONF  (vigild, or the nullmilter
#               stand-in; sets MILTER_KIND, MILTER_PID, MILTER_LOG)
# Needs: top_builddir, top_srcdir, and $tmp (a private temp dir).

MTA_LIB=${top_srcdir}/tests/integration/lib
PY=/usr/bin/python3

tap_n=0
tap_total=0
tap_plan() { tap_total=$1; echo "1..$1"; }
ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1"; }
notok() {
	tap_n=$((tap_n + 1)); echo "not ok $tap_n - $1"; shift
	for l in "$@"; do printf '%s\n' "$l" | sed 's/^/# /'; done
}
skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1 # SKIP $2"; }
# check NAME CMD...: ok when CMD succeeds, its output as the diagnostic.
check() {
	_name=$1; shift
	if _out=$("$@" 2>&1); then ok "$_name"; else notok "$_name" "$_out"; fi
}
# Every remaining test skipped, then exit: the plan stays complete.
skip_rest() {
	while [ "$tap_n" -lt "$tap_total" ]; do
		tap_n=$((tap_n + 1)); echo "ok $tap_n # SKIP $1"
	done
	exit 0
}

# --- processes ----------------------------------------------------------
tracked_pids=""
track_pid() { tracked_pids="$1 $tracked_pids"; }
# stop_pid PID: SIGTERM, wait (bounded), then SIGKILL.
stop_pid() {
	kill -TERM "$1" 2>/dev/null || return 0
	_i=0
	while kill -0 "$1" 2>/dev/null && [ $_i -lt 100 ]; do
		sleep 0.1; _i=$((_i + 1))
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}
# Hooks run before the tracked PIDs are stopped (e.g. "postfix stop").
stop_hooks=""
stop_all() {
	for _h in $stop_hooks; do "$_h"; done
	for _p in $tracked_pids; do stop_pid "$_p"; done
	tracked_pids=""
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"
}

# --- polling ------------------------------------------------------------
wait_for() {
	_tries=$1; shift
	_i=0
	while [ $_i -lt "$_tries" ]; do
		"$@" && return 0
		sleep 0.2; _i=$((_i + 1))
	done
	return 1
}
port_open() {
	$PY -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1)" \
		"$1" 2>/dev/null
}
free_port() {
	$PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# --- packages -----------------------------------------------------------
# apt_ensure CMD PKG...: CMD (a path or a name on PATH) present, or
# install PKG... with apt-get (root only). Fails with a reason on stdout.
apt_ensure() {
	_cmd=$1; shift
	command -v "$_cmd" >/dev/null 2>&1 && return 0
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		echo "$_cmd missing and apt-get not usable (not root?)"
		return 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	# Postfix: install the binaries only, no system configuration.
	echo "postfix postfix/main_mailer_type select No configuration" |
		debconf-set-selections 2>/dev/null
	if ! apt-get install -y -q --no-install-recommends "$@" >"$tmp/apt.log" 2>&1; then
		apt-get update -q >>"$tmp/apt.log" 2>&1
		apt-get install -y -q --no-install-recommends "$@" >>"$tmp/apt.log" 2>&1
	fi
	command -v "$_cmd" >/dev/null 2>&1 && return 0
	echo "cannot install $*: $(tail -1 "$tmp/apt.log")"
	return 1
}

# --- sink ---------------------------------------------------------------
# start_sink DIR: the python SMTP sink storing messages in DIR; sets SINK_PORT.
start_sink() {
	mkdir -p "$1"
	$PY "$MTA_LIB/sink.py" "$1" "$tmp/sink.port" 2>"$tmp/sink.err" &
	track_pid $!
	wait_for 100 test -s "$tmp/sink.port" || return 1
	SINK_PORT=$(cat "$tmp/sink.port")
}
sink_count() { find "$1" -name '*.eml' | wc -l; }

# --- the milter under test ----------------------------------------------
VIGILD=${top_builddir}/milter/vigild
NULLMILTER=${top_builddir}/bench/nullmilter

# build_nullmilter: bench/nullmilter, built by make when missing.
build_nullmilter() {
	[ -x "$NULLMILTER" ] && return 0
	make -C "$top_builddir" bench/nullmilter >"$tmp/make.log" 2>&1
}

# start_milter PORT CONF: vigild -f -c CONF listening on PORT (CONF must
# say so), or, when vigild is not built, the nullmilter stand-in on PORT.
# MILTER_KIND is vigild or nullmilter; MILTER_LOG holds its output.
# Not to be called inside $(...): the milter would hold the pipe open and
# the variables set here would be lost. On failure MILTER_WHY says why.
start_milter() {
	MILTER_LOG=$tmp/milter.log
	MILTER_WHY=""
	if [ -x "$VIGILD" ]; then
		MILTER_KIND=vigild
		"$VIGILD" -f -c "$2" >"$MILTER_LOG" 2>&1 </dev/null &
	elif build_nullmilter; then
		MILTER_KIND=nullmilter
		"$NULLMILTER" -p "inet:$1@127.0.0.1" >"$MILTER_LOG" 2>&1 </dev/null &
	else
		MILTER_WHY="neither milter/vigild nor bench/nullmilter could be built"
		return 1
	fi
	MILTER_PID=$!
	track_pid $MILTER_PID
	wait_for 150 port_open "$1" && return 0
	MILTER_WHY="$MILTER_KIND did not start listening on $1: $(cat "$MILTER_LOG")"
	return 1
}

# write_vigild_conf FILE PORT: the test policy shared by the MTA tests.
#   add_header 5, quarantine 7, reject 15 with REJECT_REPLY. A message
#   without a Subject scores 8 (quarantined); GTUBE scores 1000. The
#   rules of write_hop_rules (hop.cf beside FILE) score 0.01 each.
REJECT_REPLY="550 5.7.1 Message rejected as spam by the test policy"
write_vigild_conf() {
	write_hop_rules "$(dirname "$1")/hop.cf"
	cat >"$1" <<CONF
listen = { "inet:$2@127.0.0.1" }
hostname = "mx.test.invalid"
stages = { "sanity", "rules" }
rules = { "hop.cf" }
actions {
	add_header = 5
	quarantine = 7
	reject = 15
	reject_reply = "$REJECT_REPLY"
	quarantine_reason = "held by the test policy"
}
sanity {
	missing_subject = 8
}
CONF
}

# write_hop_rules FILE: rules on the SMTP client's hop (the MTA's Received
# line for the client, which vigild models when the MTA passes none):
# HOP_SEEN when the newest relay is the client at 127.0.0.1 with its HELO
# and the MTA's name; HOP_TWICE when that client is counted twice.
write_hop_rules() {
	cat >"$1" <<'CF'
header HOP_SEEN X-Spam-Relays-Trusted =~ /^\[ ip=127\.0\.0\.1 rdns=\S* helo=\S+ by=\S+ /
score HOP_SEEN 0.01
header HOP_TWICE X-Spam-Relays-Trusted =~ /ip=127\.0\.0\.1 .*ip=127\.0\.0\.1 /
score HOP_TWICE 0.01
CF
}

# check_client_hop MTA: every message not rejected had the client's hop
# for the rules once (vigild's model behind Postfix, the MTA's own line
# behind Sendmail), none twice.
check_client_hop() {
	_lines=$(grep "client=127.0.0.1" "$MILTER_LOG" | grep -v "action=reject")
	_n=$(printf '%s\n' "$_lines" | grep -c ' action=')
	if [ "$_n" -ge 2 ] &&
	   [ "$(printf '%s\n' "$_lines" | grep -c 'hits=.*HOP_SEEN')" = "$_n" ] &&
	   ! grep -q HOP_TWICE "$MILTER_LOG"
	then ok "behind $1 the rules see the client's hop once ($_n messages)"
	else notok "client hop behind $1" "$(cat "$MILTER_LOG")"; fi
}

# --- test messages ------------------------------------------------------
GTUBE='XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'
# make_msg FILE KIND [TAG]: KIND clean, gtube or nosubject; TAG goes into
# the Message-ID and the body so that messages can be told apart.
make_msg() {
	_tag=${3:-$2}
	{
		echo "From: Sender <sender@example.org>"
		echo "To: Rcpt <rcpt@example.net>"
		[ "$2" = nosubject ] || echo "Subject: test $_tag"
		echo "Date: Mon, 1 Jan 2024 12:00:00 +0000"
		echo "Message-ID: <$_tag@example.org>"
		echo "MIME-Version: 1.0"
		echo "Content-Type: text/plain; charset=us-ascii"
		echo
		echo "Body of message $_tag."
		[ "$2" = gtube ] && echo "$GTUBE"
		echo ".a line starting with a dot"
		echo "End."
	} >"$1"
}

# --- checks shared by the MTA tests --------------------------------------
# check_one_connection CODES PORT FILE...: the files as transactions over
# one SMTP connection; ok when the codes ending them are CODES ("250 550 ")
# and gtube.eml got the configured reject text.
check_one_connection() {
	_want=$1; _port=$2; shift 2
	$PY "$MTA_LIB/smtpsend.py" "$_port" "$@" >"$tmp/replies" 2>&1
	_got=$(cut -f2 "$tmp/replies" | tr '\n' ' ')
	if [ "$_got" = "$_want" ] &&
	   grep -q "gtube.eml	${REJECT_REPLY%% *}	${REJECT_REPLY#* }" "$tmp/replies"
	then ok "one connection, $# messages: $_want; the reject carries the configured text"
	else notok "verdicts over one connection" "$(cat "$tmp/replies")"; fi
}

# check_verdict_lines N QID_RE MTA: N verdict lines with the MTA's queue id
# (a grep pattern), the GTUBE reject and the quarantine among them.
check_verdict_lines() {
	_n=$(grep -c "qid=$2 client=127.0.0.1" "$MILTER_LOG")
	if [ "$_n" = "$1" ] && grep -q 'action=reject.*hits=GTUBE' "$MILTER_LOG" &&
	   grep -q 'action=quarantine' "$MILTER_LOG"
	then ok "one verdict line per message with $3's queue id"
	else notok "verdict lines" "$(cat "$MILTER_LOG")"; fi
}

# ---- interrupting a long run (scan_local.sh, scan_milter.sh) ----

# big_corpus DIR N: an mbox of 2000 messages, DIR/big.mbox, and N copies
# of it under distinct names (a file is read once whatever links lead to
# it, hard links too); sets $many to their paths. A corpus a run cannot finish before it is
# interrupted, so signals wait for output, not for a time.
big_corpus() {
	"$PY" - "$1/big.mbox" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(2000):
        f.write("From x@y Mon Nov 23 10:00:00 2026\nFrom: a%d@example.com\n"
                "To: u@example.net\nSubject: s %d\nMessage-ID: <m%d@x>\n\nbody %d\n\n"
                % (i, i, i, i))
PY
	many=""; _i=0
	while [ $_i -lt "$2" ]; do
		cp "$1/big.mbox" "$1/big$_i.mbox"
		many="$many $1/big$_i.mbox"; _i=$((_i + 1))
	done
}
# dfl CMD...: exec CMD with SIGINT at its default (a script's background
# job ignores it; exec: $! is then CMD's pid).
dfl() {
	exec "$PY" -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$@"
}
# reap PID: its exit status, killed hard if it has not ended in time
# (bounded: a run that ignores the signal fails, it does not hang).
reap() {
	_n=0
	while [ $_n -lt 600 ] && kill -0 "$1" 2>/dev/null; do sleep 0.1; _n=$((_n + 1)); done
	kill -KILL "$1" 2>/dev/null
	wait "$1"
}
# wait_output FILE PID: until FILE has output (bounded); 0 when it does.
wait_output() {
	_n=0
	while [ $_n -lt 600 ] && [ ! -s "$1" ]; do
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1; _n=$((_n + 1))
	done
	[ -s "$1" ]
}
# pipe_full FIFO PID: wait (bounded) until PID, writing to FIFO that
# nobody reads, is stuck in that write: one of its threads sleeps in
# the kernel's pipe write (wchan), the FIFO holding data. (A writer of
# whole records, one write(2) each, blocks before the pipe is quite
# full.) Where the kernel hides wchan, until the FIFO is all but full.
pipe_full() {
	/usr/bin/python3 - "$1" "$2" <<'PY'
import fcntl, glob, os, struct, sys, termios, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NONBLOCK)
size = fcntl.fcntl(fd, 1032)   # F_GETPIPE_SZ
def wchans():
    out = []
    for w in glob.glob("/proc/%s/task/*/wchan" % sys.argv[2]):
        try:
            out.append(open(w).read())
        except OSError:
            pass
    return out
for _ in range(600):
    n = struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0" * 4))[0]
    w = wchans()
    hidden = all(x in ("", "0") for x in w)
    if n > 0 and (any("pipe_write" in x for x in w) or
                  (hidden and n >= size - 16384)):
        sys.exit(0)
    time.sleep(0.1)
sys.exit(1)
PY
}
# caught PID: whether PID catches SIGINT (bit 2 of SigCgt): after a first
# signal the handler is reset and a second one kills.
caught() {
	m=$(sed -n 's/^SigCgt:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null)
	[ -n "$m" ] && [ $(( 0x$m & 2 )) != 0 ]
}
