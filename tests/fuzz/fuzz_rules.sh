#!/bin/sh
# Bounded libFuzzer smoke pass over the SpamAssassin rule-file parser (TAP).
# Builds the harness with clang and the sanitizers; skips without clang.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}" "${top_builddir:=$top_srcdir}"
echo "1..1"
if ! command -v clang >/dev/null 2>&1; then
	echo "ok 1 # SKIP clang not installed"; exit 0
fi
work=$(mktemp -d /tmp/vigil-fuzz-rules.XXXXXX)
trap 'rm -rf "$work"' EXIT
m="$top_srcdir/milter"
srcs="$m/ruleset.c $m/arena.c $m/fileio.c $m/netset.c $m/trustpath.c"
# shellcheck disable=SC2086
if ! clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	-I"$m" -I"$top_builddir" $(pkg-config --cflags libpcre2-8 2>/dev/null) \
	"$top_srcdir/tests/fuzz/fuzz_rules.c" $srcs -lcrypto -lm -o "$work/fuzz_rules" \
	>"$work/build.log" 2>&1; then
	echo "not ok 1 - fuzz_rules builds"; sed 's/^/# /' "$work/build.log"; exit 0
fi
# Seeds: every construct the parser knows, and a slice of the stock rules.
mkdir -p "$work/corpus"
cat >"$work/corpus/seed1" <<'SEED'
# comment
header H1 Subject =~ /foo\#/i [if-unset: x]
header H2 From:addr:raw !~ m{a\}b}ms
header H3 exists:X-Foo
header H4 eval:check_x('a', 1)
mimeheader M1 Content-Type:raw =~ /text/
body B1 m!a\!b!ix
rawbody R1 qr(a(b)c)
full F1 m<x>
uri U1 m;^https?://%{TAG};i
meta META1 (H1 && !H2) || B1 > 1
score H1 1 2 3 4
score H1 (1)
describe H1 text
lang de describe H1 Text
tflags B1 multiple maxhits=3 nice net unknownflag
priority B1 -10
required_score 5.0
ifplugin Mail::SpamAssassin::Plugin::Yes
 if (version >= 3.004000) && can(Mail::SpamAssassin::Conf::feature_x) || !plugin(No)
  body B2 /x/
 else
  body B3 /y/
 endif
endif
replace_start <
replace_end >
replace_tag A [a@]
replace_tag B (?:b|<A>)
replace_inter W \W?
replace_post P {1,2}
body RT /<inter W><post P><A><B>/
replace_rules RT
urirhssub URIBL_X multi.example. A 2
askdns ASK _SENDERDOMAIN_ A 1
reuse T_OLD
enable_compat foo
require_version @@VERSION@@
include nothing.cf
frobnicate
SEED
if [ -r /usr/share/spamassassin/25_replace.cf ]; then
	head -c 3000 /usr/share/spamassassin/25_replace.cf >"$work/corpus/seed2"
	head -c 3000 /usr/share/spamassassin/20_head_tests.cf >"$work/corpus/seed3"
fi
if "$work/fuzz_rules" -runs=20000 -max_len=4096 -seed=1 "$work/corpus" \
	>"$work/run.log" 2>&1; then
	echo "ok 1 - fuzz_rules: 20000 runs clean"
else
	echo "not ok 1 - fuzz_rules found a crash"; tail -40 "$work/run.log" | sed 's/^/# /'
fi
