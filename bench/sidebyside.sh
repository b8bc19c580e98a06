#!/bin/sh
# sidebyside.sh: vigil side by side with SpamAssassin and rspamd (issue 7).
# In one run, on the same messages, at concurrency 1 and 2:
#   vigil scan      in-process (--jobs C)
#   vigild          through `vigil scan --milter` (--concurrency C)
#   rspamd          Debian package, private configuration, network lookups
#                   off, driven by C rspamc processes at once (each over
#                   every C-th file)
#   SpamAssassin    spamd -L (stock rules, no network, no Bayes,
#                   max-children 2), driven by one spamc per message, C at
#                   a time
# messages/s, latency p50/p99, peak RSS/PSS of the server's process tree
# (sampled every 50 ms), spam recall and ham false positives at each
# tool's default threshold.
#
#   bench/sidebyside.sh [--max N] [--conc "1 2"] [--rounds N]
#                       [--only "vigil vigild rspamd spamassassin"]
#                       [--labels FILE] [CORPUS...]
#
# --rounds N (default 1): vigil scan, vigild and rspamd are measured N
# times, taking turns (vigil, vigild, rspamd, vigil, ...) with both
# servers up all along, and the table gives the median round of each
# (with the lowest and highest messages/s): this machine's speed drifts
# by 10-30 % within minutes, and turns share the drift out. SpamAssassin
# (minutes a round) is measured once.
# CORPUS: mbox files, maildirs, directories of message files (the
# SpamAssassin corpus' easy_ham/ and spam_2/, a directory of .eml files)
# or of mbox files, default /work/shared/corpus; the label comes from the
# words of the file or directory name ("spam.mbox", "spam_2", "easy_ham",
# "ham-hard.mbox"); a directory whose name has neither stands for its
# entries that have one, mbox files and directories alike (the others
# are named on stderr as skipped). Messages are read as `vigil scan`
# reads them (bench/sidebyside.py mirrors milter/corpus.c: mbox
# separators, Content-Length, mboxrd unquoting, a maildir's cur/ and new/
# only, gzip); a message vigil cannot use (no header field, binary data,
# a truncated mbox, an unreadable file) is named on stderr and left out,
# and so is one that alone in a file would read differently (its first
# line another "From " line: a file starting so is an mbox).
# --labels FILE: the files or directories a labels file lists, read as
# `vigil scan --labels FILE` without PATHs reads them ("PATH LABEL",
# "LABEL PATH" as TREC's index, or CSV; spam/ham or 1/0; a relative PATH
# from FILE's directory, from the current directory only when it is not
# there; the nearest label wins). Everything is split once into one file
# per message in a temporary directory; every tool gets that same set.
# --max N: at most N messages, taken evenly from each source and label.
# --conc: concurrencies, each 1-1024; --only: any of vigil, vigild,
# rspamd, spamassassin. A usage error exits with 2.
# VIGIL_RULES: rule files for vigil's rules stage (default
# /usr/share/spamassassin, SpamAssassin's stock rules, score set 0 as
# spamd -L without Bayes); rules vigild cannot read stop the run. spamd
# reads the same directory (-C).
# Run from the build directory (make bench-compare does); BUILDDIR
# overrides. Missing peers are installed with apt-get when run as root.
# Results (markdown) on stdout, progress on stderr. Every process
# started here is stopped by its PID (and checked: no process of a
# server's tree may outlive it), every server must listen on loopback
# only (checked); each measurement is bounded by RUN_TIMEOUT seconds
# (default 1800). A benchmark, not a test.

set -eu

PROG=sidebyside
say() { echo "$PROG: $*" >&2; }
die() { echo "$PROG: error: $*" >&2; exit 1; }
usage() { echo "$PROG: $* (see --help)" >&2; exit 2; }

here=$(cd "$(dirname "$0")" && pwd)
builddir=${BUILDDIR:-$PWD}
VIGILD=$builddir/milter/vigild
VIGIL=$builddir/milter/vigil
HELPER=$here/sidebyside.py
PY=/usr/bin/python3
RUN_TIMEOUT=${RUN_TIMEOUT:-1800}
VIGIL_RULES=${VIGIL_RULES:-/usr/share/spamassassin}

max=""
concs="1 2"
rounds=1
labels=""
only="vigil vigild rspamd spamassassin"
while [ $# -gt 0 ]; do
	case $1 in
	--max|--conc|--only|--rounds|--labels)
		[ $# -ge 2 ] || usage "$1 needs a value" ;;
	esac
	case $1 in
	--max) max=$2; shift 2 ;;
	--conc) concs=$2; shift 2 ;;
	--only) only=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--labels) labels=$2; shift 2 ;;
	-h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	--) shift; break ;;
	-*) usage "unknown option $1" ;;
	*) break ;;
	esac
done
# a number >= 1 without leading zeros, at most 9 digits
number() { case $1 in ''|0*|*[!0-9]*|??????????*) return 1 ;; esac; }
[ -z "$max" ] || number "$max" || usage "--max wants a number >= 1, not '$max'"
number "$rounds" || usage "--rounds wants a number >= 1, not '$rounds'"
# (words of digits or letters only: nothing for the shell to expand)
case $concs in *[!0-9\ \	]*) usage "--conc wants concurrencies, 1-1024, not '$concs'" ;; esac
n=0
for c in $concs; do
	if ! number "$c" || [ "$c" -gt 1024 ]; then
		usage "--conc wants concurrencies, 1-1024, not '$c'"
	fi
	n=$((n + 1))
done
[ $n -gt 0 ] || usage "--conc wants concurrencies, 1-1024"
case $only in *[!a-z\ \	]*) usage "--only: no such tool in '$only' (vigil, vigild, rspamd, spamassassin)" ;; esac
n=0
for t in $only; do
	case $t in
	vigil|vigild|rspamd|spamassassin) n=$((n + 1)) ;;
	*) usage "--only: no tool '$t' (vigil, vigild, rspamd, spamassassin)" ;;
	esac
done
[ $n -gt 0 ] || usage "--only wants tools: vigil, vigild, rspamd, spamassassin"
wants() { case " $only " in *" $1 "*) return 0 ;; esac; return 1; }

for b in "$VIGILD" "$VIGIL"; do
	[ -x "$b" ] || die "$b is missing: build first (make milter/vigild milter/vigil) or set BUILDDIR"
done
[ -x "$PY" ] || die "$PY is missing (the driver needs Debian's python3)"
[ -r "$HELPER" ] || die "$HELPER is missing"
command -v timeout >/dev/null || die "timeout(1) is missing (coreutils)"

# install_quietly PKG...: apt-get install, with no system service of
# theirs left running or enabled: the bench starts its own peers on
# loopback and stops them by PID. While the packages install, a
# policy-rc.d (Debian's switch for maintainer scripts, honoured by
# invoke-rc.d and deb-systemd-invoke) forbids starting services, unless
# the machine has its own; then the units the packages enabled are
# disabled again, as this script installed them.
install_quietly() {
	policy=/usr/sbin/policy-rc.d own_policy=""
	if [ ! -e $policy ]; then
		# interrupted, the file goes all the same
		trap 'rm -f $policy' EXIT
		trap 'exit 130' INT
		trap 'exit 143' TERM
		printf '#!/bin/sh\n# vigil bench/sidebyside.sh: no service starts while peers install\nexit 101\n' >$policy &&
			chmod 755 $policy && own_policy=1
	fi
	rc=0
	DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q \
		--no-install-recommends "$@" >&2 || rc=$?
	[ -z "$own_policy" ] || rm -f $policy
	trap - EXIT
	for p in "$@"; do
		case $p in spamd|rspamd) ;; *) continue ;; esac
		if command -v deb-systemd-helper >/dev/null; then
			deb-systemd-helper disable $p.service >/dev/null 2>&1 || true
		fi
		update-rc.d $p disable >/dev/null 2>&1 || true
		say "$p: its system service is not enabled (systemctl enable --now $p to use it)"
	done
	return $rc
}

# Peers: Debian packages only.
pkgs=""
if wants spamassassin; then
	command -v spamd >/dev/null || pkgs="$pkgs spamd"
	command -v spamc >/dev/null || pkgs="$pkgs spamc"
fi
if wants rspamd; then
	command -v rspamd >/dev/null && command -v rspamc >/dev/null || pkgs="$pkgs rspamd"
fi
if [ -n "$pkgs" ]; then
	[ "$(id -u)" = 0 ] ||
		die "missing:$pkgs; install them (apt-get install$pkgs) or run as root, or leave them out with --only"
	say "installing$pkgs (apt-get; their system services neither started nor enabled)"
	install_quietly $pkgs || die "apt-get install$pkgs failed"
fi

[ -z "$labels" ] || [ -r "$labels" ] || die "cannot read the labels file $labels"
[ $# -gt 0 ] || [ -n "$labels" ] || set -- /work/shared/corpus
files=""
for p in "$@"; do
	case $p in *[[:space:]]*) die "corpus paths with blanks are not supported: $p" ;; esac
	[ -e "$p" ] || die "no such corpus file or directory: $p"
	files="${files:+$files }$p"
done
[ -n "$files" ] || [ -n "$labels" ] || die "no corpus given"
corpus_desc="$files${labels:+${files:+ and }the paths $labels lists}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sidebyside.XXXXXX")
# The peers drop privileges (nobody, _rspamd): they must reach their files.
chmod 0755 "$tmp"
pids=""

state() { sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "/proc/$1/status" 2>/dev/null; }
alive() { s=$(state "$1"); [ -n "$s" ] && [ "$s" != Z ]; }

# stop PID: TERM, up to 20 s (children of preforking servers included),
# then KILL; reap it; forget it.
stop() {
	kill "$1" 2>/dev/null || true
	i=0
	while alive "$1" && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
	if alive "$1"; then
		say "pid $1 ignored SIGTERM for 20 s: SIGKILL"
		kill -9 "$1" 2>/dev/null || true
	fi
	wait "$1" 2>/dev/null || true
	rest=""
	for q in $pids; do [ "$q" = "$1" ] || rest="$rest $q"; done
	pids=$rest
}

# stop_tree PID NAME: stop PID (a preforking server) and check that no
# process of its tree outlives it; a leftover is killed by its PID.
stop_tree() {
	tpids=$("$PY" "$HELPER" tree "$1" 2>/dev/null || true)
	stop "$1"
	left=""
	for q in $tpids; do
		if alive "$q"; then
			left="$left $q"
			kill -9 "$q" 2>/dev/null || true
		fi
	done
	if [ -n "$left" ]; then
		say "$2: processes left after stopping pid $1:$left (SIGKILL sent)"
		leftovers="$leftovers $2:$left"
	else
		say "$2: stopped pid $1 and its $(echo $tpids | wc -w) process(es); none left"
	fi
}
leftovers=""

# loopback_only PID NAME: every internet socket the tree listens on is
# bound to loopback (or the run stops here).
loopback_only() {
	"$PY" "$HELPER" listeners "$1" >"$tmp/$2.listen" || {
		cat "$tmp/$2.listen" >&2
		die "$2 listens on a non-loopback address"
	}
	l=$(tr '\n' ' ' <"$tmp/$2.listen")
	say "$2 listens on: ${l:-no internet socket}"
}

cleanup() {
	for p in $pids; do stop "$p"; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

freeport() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for PID NAME SECONDS COMMAND...: until COMMAND succeeds
wait_for() {
	wpid=$1 wname=$2 wsec=$3
	shift 3
	i=0
	while ! "$@" >/dev/null 2>&1; do
		alive "$wpid" || { tail -20 "$tmp/$wname.log" >&2 2>/dev/null || true; die "$wname exited at start"; }
		i=$((i + 1))
		[ $i -lt $((wsec * 5)) ] || { tail -20 "$tmp/$wname.log" >&2 2>/dev/null || true; die "$wname not ready after $wsec s"; }
		sleep 0.2
	done
}

# ------------------------------------------------------------ vigil
# Checked before the corpus is split: rules vigild cannot read (a typo
# in VIGIL_RULES) stop the run here. (Every build has the rules stage:
# PCRE2 is required.)
if wants vigil || wants vigild; then
	vigil_stages='"sanity", "rules"'
	cat >"$tmp/vigild.conf" <<-EOF
	# written by bench/sidebyside.sh
	listen = { "unix:$tmp/vigild.sock" }
	stages = { $vigil_stages }
	rules = { "$VIGIL_RULES" }
	score_set = 0
	EOF
	if ! "$VIGILD" -t -c "$tmp/vigild.conf" >"$tmp/vigil-t.log" 2>&1; then
		sed "s|^$tmp/vigild.conf: |vigild: |" "$tmp/vigil-t.log" | tail -5 >&2
		die "vigild refuses the benchmark's configuration (rules = $VIGIL_RULES; set VIGIL_RULES to readable rule files)"
	fi
	# an existing directory without rule files is no better
	nrules=$("$VIGIL" rules check -c "$tmp/vigild.conf" 2>/dev/null |
		sed -n 's/^[0-9]* files\{0,1\}, \([0-9]*\) rules\{0,1\} loaded .*/\1/p')
	case $nrules in
	''|0) die "no rules loaded from $VIGIL_RULES (set VIGIL_RULES to SpamAssassin rule files)" ;;
	esac
	say "vigil: stages = { $vigil_stages }, rules = $VIGIL_RULES ($nrules rules), score_set 0"
fi

# ------------------------------------------------------------ messages
say "splitting: $corpus_desc"
# shellcheck disable=SC2086
"$PY" "$HELPER" split "$tmp/msgs" ${max:+--max "$max"} \
	${labels:+--labels "$labels"} $files
list=$tmp/msgs/list.tsv
head -20 "$list" >"$tmp/warm.tsv"
nmsgs=$(grep -c '' "$list")
results=$tmp/results.jsonl
: >"$results"

# measure NAME TOOL CONC PIDS COMMAND...: one bounded measurement
measure() {
	mname=$1 mtool=$2 mconc=$3 mpids=$4
	shift 4
	say "$mname, concurrency $mconc: $nmsgs messages"
	mrc=0
	timeout "$RUN_TIMEOUT" "$PY" "$HELPER" run "$mtool" "$mconc" "$list" \
		--pids "$mpids" --name "$mname" -- "$@" >>"$results" || mrc=$?
	[ "$mrc" != 124 ] ||
		die "$mname at concurrency $mconc took longer than $RUN_TIMEOUT s"
	# the driver (sidebyside.py run) says what failed: the tool, or
	# the driver itself (a Python traceback)
	[ "$mrc" = 0 ] ||
		die "$mname at concurrency $mconc: the run failed (exit $mrc; see above)"
}
warmup() {	# TOOL PIDS COMMAND...
	wtool=$1 wpids=$2
	shift 2
	timeout 600 "$PY" "$HELPER" run "$wtool" 1 "$tmp/warm.tsv" --pids "$wpids" \
		--name warm-up -- "$@" >/dev/null 2>&1 || die "warm-up with $wtool failed"
}

# ------------------------------------------------------------ vigil
measure_vigil() {	# CONC
	measure "vigil scan" vigil "$1" self \
		"$VIGIL" scan -c "$tmp/vigild.conf" --jobs "$1" --format jsonl \
		"$tmp/msgs/ham" "$tmp/msgs/spam"
}
measure_vigild() {	# CONC
	measure "vigild (milter)" vigil "$1" "$vpid" \
		"$VIGIL" scan --milter "unix:$tmp/vigild.sock" --concurrency "$1" \
		--format jsonl "$tmp/msgs/ham" "$tmp/msgs/spam"
}
measure_rspamd() {	# CONC
	measure rspamd rspamc "$1" "$rpid" \
		rspamc -h "127.0.0.1:$rport" --compact -j -n 1 -t 60
}
stop_rspamd() {
	# Every task logs its DNS requests: anything but 0 means a lookup
	# that the configuration above did not turn off.
	dnsq=$(grep -c 'dns req: [1-9]' "$rd/log/rspamd.log" || true)
	[ "$dnsq" -eq 0 ] || say "rspamd: $dnsq messages still made DNS requests (refused locally)"
	rspamd_dns=$dnsq
	stop_tree "$rpid" rspamd
}

if wants vigil && [ "$rounds" = 1 ]; then
	for c in $concs; do
		measure_vigil "$c"
	done
fi

if wants vigild; then
	say "vigild: starting on unix:$tmp/vigild.sock"
	"$VIGILD" -f -c "$tmp/vigild.conf" >"$tmp/vigild.log" 2>&1 &
	vpid=$!
	pids="$pids $vpid"
	wait_for "$vpid" vigild 60 test -S "$tmp/vigild.sock"
	loopback_only "$vpid" vigild
	warmup vigil "$vpid" "$VIGIL" scan --milter "unix:$tmp/vigild.sock" \
		--format jsonl $(cut -f1 "$tmp/warm.tsv")
	if [ "$rounds" = 1 ]; then
		for c in $concs; do
			measure_vigild "$c"
		done
		stop_tree "$vpid" vigild
	fi
fi

# ------------------------------------------------------------ rspamd
if wants rspamd; then
	rport=$(freeport)
	rd=$tmp/rspamd
	mkdir -p "$rd/local.d" "$rd/db" "$rd/run" "$rd/log"
	# Our own top level: stock modules and rules ($CONFDIR/common.conf),
	# one worker kind (normal) on loopback; local.d is ours.
	cat >"$rd/rspamd.conf" <<-EOF
	# written by bench/sidebyside.sh
	.include "\$CONFDIR/common.conf"
	options {
	    pidfile = "\$RUNDIR/rspamd.pid";
	    .include "\$CONFDIR/options.inc"
	    .include(try=true; priority=1,duplicate=merge) "\$LOCAL_CONFDIR/local.d/options.inc"
	}
	logging {
	    type = "file";
	    filename = "\$LOGDIR/rspamd.log";
	    .include "\$CONFDIR/logging.inc"
	}
	worker "normal" {
	    bind_socket = "127.0.0.1:$rport";
	    .include "\$CONFDIR/worker-normal.inc"
	    .include(try=true; priority=1,duplicate=merge) "\$LOCAL_CONFDIR/local.d/worker-normal.inc"
	}
	EOF
	# Two scanning processes, as spamd's max-children and vigil's 2 jobs.
	echo 'count = 2;' >"$rd/local.d/worker-normal.inc"
	# No network: a resolver that refuses at once (UDP to a closed
	# loopback port), so that anything still asking fails fast; and the
	# modules whose work is lookups are off. No redis is configured, so
	# Bayes, neural, fuzzy storage, ratelimit, reputation and history
	# are off as well.
	cat >"$rd/local.d/options.inc" <<-EOF
	dns { nameserver = ["127.0.0.1:1"]; timeout = 0.2s; retransmits = 0; }
	EOF
	for m in rbl surbl emails fuzzy_check neural spf dkim dmarc arc asn \
		mx_check url_redirector rspamd_update dcc antivirus external_services \
		greylist ratelimit replies reputation history_redis clickhouse \
		elastic metadata_exporter metric_exporter p0f bimi aws_s3 spamtrap \
		once_received; do
		echo 'enabled = false;' >"$rd/local.d/$m.conf"
	done
	printf 'helo_enabled = false;\nhostname_enabled = false;\nurl_enabled = false;\nfrom_enabled = false;\nrcpt_enabled = false;\n' \
		>"$rd/local.d/hfilter.conf"
	echo 'phishtank_enabled = false;' >"$rd/local.d/phishing.conf"
	ruser=""
	if [ "$(id -u)" = 0 ]; then
		if id _rspamd >/dev/null 2>&1; then
			chown -R _rspamd:_rspamd "$rd/db" "$rd/run" "$rd/log"
			ruser="-u _rspamd -g _rspamd"
		else
			ruser="-i"
		fi
	fi
	say "rspamd: starting on 127.0.0.1:$rport (config $rd)"
	# shellcheck disable=SC2086
	rspamd -f $ruser -c "$rd/rspamd.conf" --var "LOCAL_CONFDIR=$rd" \
		--var "DBDIR=$rd/db" --var "RUNDIR=$rd/run" --var "LOGDIR=$rd/log" \
		>"$tmp/rspamd.log" 2>&1 &
	rpid=$!
	pids="$pids $rpid"
	first=$(head -1 "$list" | cut -f1)
	wait_for "$rpid" rspamd 180 rspamc -h "127.0.0.1:$rport" -t 5 "$first"
	# Hyperscan databases are built in the background after start; wait
	# for them (or 5 minutes) so that the run measures the steady state.
	i=0
	while ! grep -q 'hyperscan tree' "$rd/log/rspamd.log" 2>/dev/null; do
		alive "$rpid" || die "rspamd exited"
		i=$((i + 1))
		[ $i -lt 300 ] || { say "rspamd: no hyperscan build seen after 300 s, measuring anyway"; break; }
		sleep 1
	done
	sleep 3
	loopback_only "$rpid" rspamd
	warmup rspamc "$rpid" rspamc -h "127.0.0.1:$rport" --compact -j -n 1 -t 60
	if [ "$rounds" = 1 ]; then
		for c in $concs; do
			measure_rspamd "$c"
		done
		stop_rspamd
	fi
fi

# ------------------------------------------------------------ rounds
if [ "$rounds" -gt 1 ]; then
	r=1
	while [ $r -le "$rounds" ]; do
		say "round $r of $rounds"
		for c in $concs; do
			! wants vigil || measure_vigil "$c"
			! wants vigild || measure_vigild "$c"
			! wants rspamd || measure_rspamd "$c"
		done
		r=$((r + 1))
	done
	! wants vigild || stop_tree "$vpid" vigild
	! wants rspamd || stop_rspamd
fi

# ------------------------------------------------------------ SpamAssassin
if wants spamassassin; then
	sport=$(freeport)
	sd=$tmp/sa
	mkdir -p "$sd/site" "$sd/home"
	# The stock plugin set (/etc/spamassassin/*.pre) and rules
	# (/usr/share/spamassassin or sa-update's), our own local.cf.
	cp /etc/spamassassin/*.pre "$sd/site/"
	cat >"$sd/site/local.cf" <<-EOF
	# written by bench/sidebyside.sh
	use_bayes 0
	bayes_auto_learn 0
	EOF
	suser=""
	[ "$(id -u)" = 0 ] && { suser="-u nobody"; chown nobody "$sd/home"; }
	[ -d "$VIGIL_RULES" ] ||
		die "VIGIL_RULES=$VIGIL_RULES: spamd reads a directory of rules (-C)"
	say "spamd: starting on 127.0.0.1:$sport"
	# shellcheck disable=SC2086
	# the rules vigil reads: without -C spamd takes sa-update's
	# /var/lib/spamassassin/VERSION when it exists (Debian's daily
	# spamassassin-maintenance timer writes it), and the "same stock
	# rules" would not be the same
	spamd -L -x -C "$VIGIL_RULES" --siteconfigpath="$sd/site" \
		--listen="127.0.0.1:$sport" \
		--pidfile="$sd/spamd.pid" --max-children=2 --min-children=2 \
		--min-spare=1 --max-spare=2 --syslog=stderr $suser -H "$sd/home" \
		>"$tmp/spamd.log" 2>&1 &
	spid=$!
	pids="$pids $spid"
	wait_for "$spid" spamd 180 spamc -x -K -d 127.0.0.1 -p "$sport"
	loopback_only "$spid" spamd
	warmup spamc "$spid" spamc -x -c -s 33554432 -d 127.0.0.1 -p "$sport"
	for c in $concs; do
		measure SpamAssassin spamc "$c" "$spid" \
			spamc -x -c -s 33554432 -d 127.0.0.1 -p "$sport"
	done
	stop_tree "$spid" spamd
fi

# ------------------------------------------------------------ report
echo
echo "Side by side: $nmsgs messages ($(grep -c '	spam	' "$list") spam, $(grep -c '	ham	' "$list") ham) from $corpus_desc"
[ -z "${vigil_stages:-}" ] || echo "vigil: stages = { $vigil_stages }, rules = $VIGIL_RULES ($nrules rules), score_set = 0; threshold 5 (add_header)"
wants rspamd && echo "rspamd $(rspamd -v 2>/dev/null | head -1 | sed 's/[^0-9.]*//'): flagged = add header, rewrite subject or reject; DNS requests seen: ${rspamd_dns:-?}"
wants spamassassin && echo "SpamAssassin $(spamassassin -V 2>/dev/null | head -1 | sed 's/.*version //'): spamd -L, rules = $VIGIL_RULES (-C, as vigil), no Bayes; flagged = score >= required (5)"
echo "Servers: loopback only (checked: the listening sockets of each server's process tree); each stopped by its PID, processes left over: ${leftovers:-none}."
echo
"$PY" "$HELPER" table "$results"
