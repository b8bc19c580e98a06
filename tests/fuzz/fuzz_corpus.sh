#!/bin/sh
# Bounded libFuzzer smoke pass over the corpus reader (mbox splitting,
# quoting, Content-Length, size limits) (TAP). Builds the harness with
# clang and the sanitizers; skips without clang.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/fuzz/lib.sh"
fuzz_begin corpus
fuzz_build corpus "$top_srcdir/milter/corpus.c" "$top_srcdir/milter/strbuf.c" -lz
# Seeds: an mbox with quoting, Content-Length (right and wrong), a From_
# line without an empty line before it; CRLF; a single message.
printf '%s\n' 'From a@x Mon Jan  1 00:00:00 2024' 'Content-Length: 6' \
	'Subject: a' '' 'body' '' '' 'From b Mon Jan  1 00:00:00 2024' \
	'Content-Length: 99' 'Subject: b' '' '>From q' '>>From qq' 'x' \
	'From - Tue Feb 13 09:05 2024' 'Subject: c' '' 'c' >"$work/corpus/seed1"
printf 'From a Mon Jan  1 00:00:00 2024\r\nSubject: d\r\n\r\nd\r\n' \
	>"$work/corpus/seed2"
printf 'Subject: e\n\nFrom the desk\n' >"$work/corpus/seed3"
fuzz_run corpus 20000 2048
