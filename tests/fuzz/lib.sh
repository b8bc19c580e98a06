# lib.sh — shared steps of the bounded libFuzzer passes (TAP, one test
# each), sourced after top_srcdir is set:
#   fuzz_begin NAME          plan, skip without clang, $work (removed at
#                            exit) with $work/corpus for the seeds
#   fuzz_build NAME ARGS...  tests/fuzz/fuzz_NAME.c and ARGS (sources,
#                            flags, libraries) into $work/fuzz_NAME with
#                            the sanitizers; "not ok" when it fails
#   fuzz_run NAME RUNS MAXLEN  RUNS inputs from the seeds; "not ok" with
#                            the end of the log when one crashes, the
#                            crashing input kept as
#                            $top_builddir/fuzz-NAME-crash-* (not in
#                            the current directory, not removed)
: "${top_builddir:=$top_srcdir}"

fuzz_begin() {
	echo "1..1"
	if ! command -v clang >/dev/null 2>&1; then
		echo "ok 1 # SKIP clang not installed"; exit 0
	fi
	work=$(mktemp -d "/tmp/vigil-fuzz-$1.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	mkdir -p "$work/corpus"
}

fuzz_build() {
	fb_name=$1
	shift
	if ! clang -std=c11 -D_GNU_SOURCE -g -O1 \
		-fsanitize=fuzzer,address,undefined \
		-I"$top_srcdir/milter" -I"$top_builddir" \
		"$top_srcdir/tests/fuzz/fuzz_$fb_name.c" "$@" \
		-o "$work/fuzz_$fb_name" >"$work/build.log" 2>&1; then
		echo "not ok 1 - fuzz_$fb_name builds"; sed 's/^/# /' "$work/build.log"
		exit 0
	fi
}

fuzz_run() {
	if "$work/fuzz_$1" -runs="$2" -max_len="$3" -seed=1 \
		-artifact_prefix="$top_builddir/fuzz-$1-" "$work/corpus" \
		>"$work/run.log" 2>&1; then
		echo "ok 1 - fuzz_$1: $2 runs clean"
	else
		echo "not ok 1 - fuzz_$1 found a crash"
		tail -40 "$work/run.log" | sed 's/^/# /'
		for a in "$top_builddir/fuzz-$1-"*; do
			[ -e "$a" ] && echo "# input kept: $a"
		done
	fi
}
