#!/bin/sh
# rules_vs_sa.sh — vigil's rule engine against SpamAssassin, same messages,
# same rules, one thread each, in the same run.
#
#   rules_vs_sa.sh [--max N] [--rounds N] [--rules DIR] CORPUS...
#
# CORPUS: mbox files or directories of *.mbox files. --max N (default
# 300) takes the first N messages of each mbox for both engines (all when
# 0): SpamAssassin needs tens of milliseconds per message. vigil's figure
# is bench_rules' rules stage (best of --rounds, default 5); also run over
# the whole corpus. SpamAssassin's is Mail::SpamAssassin in-process
# (bench/sa_hits.pl: network tests off, no Bayes, no auto-welcomelist, the
# same rule directory, default /usr/share/spamassassin), parse and check
# per message. Prints both rates, both load times and the ratio.
# Environment: BENCH_RULES_BIN (default bench/bench_rules under the
# current directory), SA_HITS (default sa_hits.pl next to this script).
set -eu

max=300
rounds=5
rules=/usr/share/spamassassin
while [ $# -gt 0 ]; do
	case $1 in
	--max) max=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--rules) rules=$2; shift 2 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || { echo "usage: $0 [--max N] [--rounds N] [--rules DIR] CORPUS..." >&2; exit 2; }
bin=${BENCH_RULES_BIN:-bench/bench_rules}
sa_hits=${SA_HITS:-$(dirname "$0")/sa_hits.pl}
[ -x "$bin" ] || { echo "$0: no $bin (make bench/bench_rules)" >&2; exit 2; }
perl -MMail::SpamAssassin -e 1 2>/dev/null ||
	{ echo "$0: Mail::SpamAssassin is not installed" >&2; exit 2; }

files=
for c in "$@"; do
	if [ -d "$c" ]; then
		for f in "$c"/*.mbox; do [ -f "$f" ] && files="$files $f"; done
	else
		files="$files $c"
	fi
done
[ -n "$files" ] || { echo "$0: no mbox files in $*" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
# The first --max messages of each mbox, as files of their own, so that
# both engines see exactly the same messages.
subset=
k=0
for f in $files; do
	k=$((k + 1))
	out="$tmp/$k-$(basename "$f")"
	if [ "$max" -gt 0 ]; then
		awk -v max="$max" '/^From / { if (++n > max) exit } { print }' "$f" >"$out"
	else
		cp "$f" "$out"
	fi
	subset="$subset $out"
done

echo "machine: $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'); load $(cut -d' ' -f1-3 /proc/loadavg)"

# vigil: load+compile and best rules-stage round
vigil_run() {
	# shellcheck disable=SC2086
	"$bin" -r "$rules" -n "$rounds" "$@" >"$tmp/vigil.out" 2>&1
	load=$(sed -n 's/.*load+compile \([0-9.]*\) s.*/\1/p' "$tmp/vigil.out")
	rate=$(sed -n 's/^rules stage: .*: \([0-9.]*\) msg\/s.*/\1/p' "$tmp/vigil.out")
	msgs=$(sed -n 's/^rules stage: .* for \([0-9]*\) messages.*/\1/p' "$tmp/vigil.out")
}
# shellcheck disable=SC2086
vigil_run $files
echo "vigil, whole corpus: $msgs messages, $rate msg/s (best of $rounds), load+compile $load s"
# shellcheck disable=SC2086
vigil_run $subset
v_rate=$rate
v_load=$load
echo "vigil, the subset:   $msgs messages, $v_rate msg/s (best of $rounds), load+compile $v_load s"

# SpamAssassin over the same subset
# shellcheck disable=SC2086
perl "$sa_hits" --rules "$rules" $subset >/dev/null 2>"$tmp/sa.err" ||
	{ cat "$tmp/sa.err" >&2; exit 1; }
line=$(grep '^sa_hits:' "$tmp/sa.err")
s_msgs=$(echo "$line" | sed -n 's/^sa_hits: \([0-9]*\) messages.*/\1/p')
s_rate=$(echo "$line" | sed -n 's/.*(\([0-9.]*\) msg\/s).*/\1/p')
s_load=$(echo "$line" | sed -n 's/.*load \([0-9.]*\) s.*/\1/p')
echo "SpamAssassin:        $s_msgs messages, $s_rate msg/s, load $s_load s"
awk -v v="$v_rate" -v s="$s_rate" 'BEGIN {
	if (s > 0) printf "ratio: vigil rules stage is %.0fx SpamAssassin'\''s throughput\n", v / s }'
