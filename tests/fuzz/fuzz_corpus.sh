#!/bin/sh
# Bounded libFuzzer smoke pass over the corpus reader (mbox splitting,
# quoting, Content-Length, size limits) (TAP). Builds the harness with
# clang and the sanitizers; skips without clang.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}" "${top_builddir:=$top_srcdir}"
echo "1..1"
if ! command -v clang >/dev/null 2>&1; then
	echo "ok 1 # SKIP clang not installed"; exit 0
fi
work=$(mktemp -d /tmp/vigil-fuzz-corpus.XXXXXX)
trap 'rm -rf "$work"' EXIT
m="$top_srcdir/milter"
if ! clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	-I"$m" -I"$top_builddir" "$top_srcdir/tests/fuzz/fuzz_corpus.c" \
	"$m/corpus.c" -o "$work/fuzz_corpus" >"$work/build.log" 2>&1; then
	echo "not ok 1 - fuzz_corpus builds"; sed 's/^/# /' "$work/build.log"; exit 0
fi
# Seeds: an mbox with quoting, Content-Length (right and wrong), a From_
# line without an empty line before it; CRLF; a single message.
mkdir -p "$work/corpus"
printf '%s\n' 'From a@x Mon Jan  1 00:00:00 2024' 'Content-Length: 6' \
	'Subject: a' '' 'body' '' '' 'From b Mon Jan  1 00:00:00 2024' \
	'Content-Length: 99' 'Subject: b' '' '>From q' '>>From qq' 'x' \
	'From - Tue Feb 13 09:05 2024' 'Subject: c' '' 'c' >"$work/corpus/seed1"
printf 'From a Mon Jan  1 00:00:00 2024\r\nSubject: d\r\n\r\nd\r\n' \
	>"$work/corpus/seed2"
printf 'Subject: e\n\nFrom the desk\n' >"$work/corpus/seed3"
if "$work/fuzz_corpus" -runs=20000 -max_len=2048 -seed=1 "$work/corpus" \
	>"$work/run.log" 2>&1; then
	echo "ok 1 - fuzz_corpus: 20000 runs clean"
else
	echo "not ok 1 - fuzz_corpus found a crash"; tail -40 "$work/run.log" | sed 's/^/# /'
fi
