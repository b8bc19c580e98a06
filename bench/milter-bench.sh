#!/bin/sh
# milter-bench.sh: the milter protocol benchmark (issue 3). vigild with a
# null pipeline (stages = {}) against bench/nullmilter (libmilter, accepts
# everything, adds one header), both driven by the same client,
# `vigil scan --milter SOCKET --concurrency C --format jsonl`, over the
# same mbox files; then vigild's memory: RSS idle, with N idle negotiated
# milter connections open, and after three consecutive full runs.
#
#   bench/milter-bench.sh [--transport unix|inet] [--rounds R]
#                         [--conns N] [--conc "1 8 64"] [CORPUS...]
#
# CORPUS: directories (their *.mbox files) or mbox files; default
# /work/shared/corpus. Paths must not contain spaces. Run it from the build
# directory (`make bench-milter CORPUS=...` does); BUILDDIR=dir overrides.
# --transport: unix socket in a temporary directory (default) or TCP on
# 127.0.0.1 at a free port. --rounds: runs per concurrency, the median
# by messages/s is reported (default 3). --conns: idle connections for the
# memory figure (default 1000).
#
# Results (markdown tables) on stdout, progress on stderr. Every process
# it starts is stopped by its PID on exit; each client run is bounded by
# RUN_TIMEOUT seconds (default 600). A benchmark, not a test.

set -eu

PROG=milter-bench
say() { echo "$PROG: $*" >&2; }
die() { echo "$PROG: error: $*" >&2; exit 1; }

here=$(cd "$(dirname "$0")" && pwd)
builddir=${BUILDDIR:-$PWD}
VIGILD=$builddir/milter/vigild
VIGIL=$builddir/milter/vigil
NULLMILTER=$builddir/bench/nullmilter
IDLE=$here/milter-idle.py
PY=/usr/bin/python3
RUN_TIMEOUT=${RUN_TIMEOUT:-600}

transport=unix
rounds=3
conns=1000
concs="1 8 64"
while [ $# -gt 0 ]; do
	case $1 in
	--transport) [ $# -ge 2 ] || die "$1 needs a value"; transport=$2; shift 2 ;;
	--rounds) [ $# -ge 2 ] || die "$1 needs a value"; rounds=$2; shift 2 ;;
	--conns) [ $# -ge 2 ] || die "$1 needs a value"; conns=$2; shift 2 ;;
	--conc) [ $# -ge 2 ] || die "$1 needs a value"; concs=$2; shift 2 ;;
	-h|--help) sed -n '2,22s/^# \{0,1\}//p' "$0"; exit 0 ;;
	--) shift; break ;;
	-*) die "unknown option $1 (see --help)" ;;
	*) break ;;
	esac
done
case $transport in unix|inet) ;; *) die "--transport is unix or inet" ;; esac
case $rounds in ''|*[!0-9]*|0) die "--rounds wants a positive number" ;; esac
case $conns in ''|*[!0-9]*) die "--conns wants a number" ;; esac

for b in "$VIGILD" "$VIGIL" "$NULLMILTER"; do
	[ -x "$b" ] || die "$b is missing: build it (make bench/nullmilter milter/vigild milter/vigil) or set BUILDDIR"
done
[ -x "$PY" ] || die "$PY is missing (the idle-connection client needs it)"
[ -r "$IDLE" ] || die "$IDLE is missing"
command -v timeout >/dev/null || die "timeout(1) is missing (coreutils)"

[ $# -gt 0 ] || set -- /work/shared/corpus
files=""
for p in "$@"; do
	if [ -d "$p" ]; then
		for f in "$p"/*.mbox; do [ -f "$f" ] && files="$files $f"; done
	elif [ -f "$p" ]; then
		files="$files $p"
	else
		die "no such corpus file or directory: $p"
	fi
done
[ -n "$files" ] || die "no *.mbox files in: $*"

# The idle client and vigild each need a descriptor per connection.
need=$((conns + 256))
cur=$(ulimit -n)
if [ "$cur" != unlimited ] && [ "$cur" -lt "$need" ]; then
	ulimit -n "$need" 2>/dev/null ||
		die "open files limit is $cur, $need needed: raise ulimit -n or lower --conns"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/milter-bench.XXXXXX")
pids=""

state() { sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "/proc/$1/status" 2>/dev/null; }
alive() { s=$(state "$1"); [ -n "$s" ] && [ "$s" != Z ]; }

# stop PID: TERM, up to 10 s, then KILL; reap it; forget it.
stop() {
	kill "$1" 2>/dev/null || true
	i=0
	while alive "$1" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	if alive "$1"; then
		say "pid $1 ignored SIGTERM for 10 s: SIGKILL"
		kill -9 "$1" 2>/dev/null || true
	fi
	wait "$1" 2>/dev/null || true
	rest=""
	for q in $pids; do [ "$q" = "$1" ] || rest="$rest $q"; done
	pids=$rest
}

cleanup() {
	for p in $pids; do stop "$p"; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status"; }
hwm() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status"; }

sockspec() {	# NAME -> socket in the syntax all three programs accept
	if [ "$transport" = unix ]; then
		echo "unix:$tmp/$1.sock"
	else
		port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
		echo "inet:$port@127.0.0.1"
	fi
}

# wait_ready PID SOCKET NAME: until one connection negotiates (10 s).
wait_ready() {
	i=0
	while :; do
		alive "$1" || { cat "$tmp/$3.log" >&2 2>/dev/null || true; die "$3 exited at start"; }
		rm -f "$tmp/probe"
		if "$PY" "$IDLE" "$2" 1 "$tmp/probe" 0 2>/dev/null; then return 0; fi
		i=$((i + 1))
		[ $i -lt 100 ] || die "$3 does not answer on $2 after 10 s"
		sleep 0.1
	done
}

start_server() {	# NAME SOCKET -> spid
	case $1 in
	vigild)
		cat >"$tmp/vigild.conf" <<-EOF
		# written by bench/milter-bench.sh
		listen = { "$2" }
		stages = {}
		max_connections = $((conns + 128))
		EOF
		"$VIGILD" -t -c "$tmp/vigild.conf" >/dev/null ||
			die "vigild refuses the benchmark configuration"
		# -f: foreground (its PID is ours to stop), the verdict lines
		# go to a file as they would go to syslog.
		"$VIGILD" -f -c "$tmp/vigild.conf" >"$tmp/vigild.log" 2>&1 &
		;;
	libmilter)
		"$NULLMILTER" -p "$2" >"$tmp/libmilter.log" 2>&1 &
		;;
	esac
	spid=$!
	pids="$pids $spid"
	wait_ready "$spid" "$2" "$1"
}

# scan SOCKET CONC -> "rate p50 p95 p99" on stdout
scan() {
	rc=0
	# shellcheck disable=SC2086 # $files is a list
	timeout "$RUN_TIMEOUT" "$VIGIL" scan --milter "$1" --concurrency "$2" \
		--format jsonl $files >"$tmp/out.jsonl" 2>"$tmp/sum.txt" || rc=$?
	[ $rc -ne 124 ] || die "vigil scan on $1 took longer than $RUN_TIMEOUT s"
	# "N messages in T s (R msg/s), E errors; ACTION N ..."
	n=$(sed -n 's/^\([0-9]*\) messages\{0,1\} in .*/\1/p' "$tmp/sum.txt")
	e=$(sed -n 's/^[0-9]* messages\{0,1\} in .*), \([0-9]*\) errors\{0,1\}.*/\1/p' "$tmp/sum.txt")
	if [ $rc -ne 0 ] || [ -z "$n" ] || [ "${e:-1}" -ne 0 ]; then
		cat "$tmp/sum.txt" >&2
		grep -m 3 '"error":"' "$tmp/out.jsonl" >&2 || true
		die "vigil scan on $1 failed (exit $rc)"
	fi
	# Every message must have received the filter's header(s).
	h=$(grep -c '"headers_added":\[{' "$tmp/out.jsonl" || true)
	[ "$h" -eq "$n" ] || die "only $h of $n messages got a header from $1"
	sed -n 's/^[0-9]* messages\{0,1\} in [0-9.]* s (\([0-9.]*\) msg\/s).*/\1/p' "$tmp/sum.txt" | tr '\n' ' '
	sed -n 's/^latency per message: p50 \([0-9.]*\) ms, p95 \([0-9.]*\) ms, p99 \([0-9.]*\) ms/\1 \2 \3/p' "$tmp/sum.txt"
}

# idle_conns PID SOCKET NAME -> idle_rss: RSS (kB) of PID with $conns idle
# connections open (not in a subshell: the client's PID must reach cleanup)
idle_conns() {
	rm -f "$tmp/ready"
	"$PY" "$IDLE" "$2" "$conns" "$tmp/ready" 300 2>"$tmp/idle.err" &
	ipid=$!
	pids="$pids $ipid"
	i=0
	while [ ! -f "$tmp/ready" ]; do
		if ! alive "$ipid"; then
			cat "$tmp/idle.err" >&2
			die "$3: could not open $conns idle connections"
		fi
		i=$((i + 1))
		[ $i -lt 1200 ] || die "$3: $conns connections not negotiated within 120 s"
		sleep 0.1
	done
	sleep 1
	alive "$1" || die "$3 died with $conns connections open"
	idle_rss=$(rss "$1")
	stop "$ipid"
	sleep 1
}

maxc=0
for c in $concs; do [ "$c" -gt "$maxc" ] && maxc=$c; done
nfiles=$(echo $files | wc -w)
say "corpus:$files"
say "transport $transport, concurrency $concs, $rounds round(s) each, $conns idle connections"

# bench NAME: memory and throughput of one server, started and stopped here.
bench() {
	name=$1
	sock=$(sockspec "$name")
	say "$name: starting on $sock"
	start_server "$name" "$sock"
	sleep 1
	eval "${name}_idle=\$(rss $spid)"
	say "$name: idle RSS $(rss "$spid") kB; opening $conns idle connections"
	idle_conns "$spid" "$sock" "$name"
	eval "${name}_conns=$idle_rss"
	say "$name: RSS with $conns idle connections: $idle_rss kB"
	for c in $concs; do
		: >"$tmp/rounds"
		k=1
		while [ $k -le "$rounds" ]; do
			line=$(scan "$sock" "$c")
			say "$name: concurrency $c round $k: $line (msg/s p50 p95 p99)"
			echo "$line" >>"$tmp/rounds"
			k=$((k + 1))
		done
		med=$(sort -n -k1,1 "$tmp/rounds" | sed -n "$(((rounds + 1) / 2))p")
		eval "${name}_c$c=\"\$med\""
	done
	for k in 1 2 3; do
		scan "$sock" "$maxc" >/dev/null
		eval "${name}_run$k=\$(rss $spid)"
		say "$name: RSS after full run $k at concurrency $maxc: $(rss "$spid") kB"
	done
	eval "${name}_hwm=\$(hwm $spid)"
	stop "$spid"
}

bench vigild
bench libmilter

field() { echo "$1" | cut -d' ' -f"$2"; }
kb() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

echo
echo "Milter protocol benchmark: $nfiles mbox file(s), $(grep -c '' "$tmp/out.jsonl" 2>/dev/null || echo '?') messages;"
echo "transport $transport; median of $rounds run(s) by messages/s; latency in ms (vigil scan's summary)."
echo
echo "| concurrency | vigild msg/s | p50 | p95 | p99 | libmilter msg/s | p50 | p95 | p99 | ratio |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for c in $concs; do
	eval "v=\$vigild_c$c; l=\$libmilter_c$c"
	ratio=$(awk -v a="$(field "$v" 1)" -v b="$(field "$l" 1)" 'BEGIN { printf "%.2f", a / b }')
	echo "| $c | $(field "$v" 1) | $(field "$v" 2) | $(field "$v" 3) | $(field "$v" 4) |" \
		"$(field "$l" 1) | $(field "$l" 2) | $(field "$l" 3) | $(field "$l" 4) | ${ratio}× |"
done
echo
perconn() { awk -v a="$1" -v b="$2" -v n="$conns" 'BEGIN { printf "%.1f", (b - a) / n }'; }
echo "| memory (VmRSS) | vigild | libmilter |"
echo "|---|---|---|"
echo "| idle, after start | $vigild_idle kB | $libmilter_idle kB |"
echo "| $conns idle connections | $vigild_conns kB | $libmilter_conns kB |"
echo "| per idle connection | $(perconn "$vigild_idle" "$vigild_conns") KiB | $(perconn "$libmilter_idle" "$libmilter_conns") KiB |"
for k in 1 2 3; do
	eval "a=\$vigild_run$k; b=\$libmilter_run$k"
	echo "| after full run $k (concurrency $maxc) | $a kB | $b kB |"
done
echo "| peak (VmHWM) | $(kb "$vigild_hwm") | $(kb "$libmilter_hwm") |"
echo
eval "v=\$vigild_c$maxc; l=\$libmilter_c$maxc"
awk -v a="$(field "$v" 1)" -v b="$(field "$l" 1)" -v c="$maxc" \
	'BEGIN { r = a / b; printf "target vigild >= 2x libmilter at concurrency %d: %.2fx, %s\n", c, r, (r >= 2) ? "met" : "MISSED" }'
pc=$(perconn "$vigild_idle" "$vigild_conns")
awk -v p="$pc" 'BEGIN { printf "target <= 16 KiB per idle connection: %.1f KiB, %s\n", p, (p <= 16) ? "met" : "MISSED" }'
# Growth means RSS rising run after run; a run that ends lower than an
# earlier one is the allocator's arenas breathing (malloc trims them), not
# memory kept per message.
g=$((vigild_run3 - vigild_run1))
if [ "$vigild_run2" -gt "$vigild_run1" ] && [ "$vigild_run3" -gt "$vigild_run2" ]; then
	verdict="rising after every run: MISSED (rerun with more runs to tell a leak from warm-up)"
else
	verdict="not rising run after run: met"
fi
echo "target no RSS growth across three runs: $vigild_run1, $vigild_run2, $vigild_run3 kB (run 3 - run 1: $g kB), $verdict"
