#!/bin/sh
# Bounded libFuzzer smoke pass over the SpamAssassin rule-file parser (TAP).
# Builds the harness with clang and the sanitizers; skips without clang.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/fuzz/lib.sh"
fuzz_begin rules
m="$top_srcdir/milter"
srcs="$m/ruleset.c $m/arena.c $m/fileio.c $m/netset.c $m/trustpath.c $m/rulesmeta.c \
	$m/strbuf.c $m/perlre.c \
	$m/uriredir.c"
# shellcheck disable=SC2086
fuzz_build rules $(pkg-config --cflags --libs libpcre2-8 2>/dev/null) $srcs \
	-lcrypto -lm
# Seeds: every construct the parser knows, and a slice of the stock rules.
cat >"$work/corpus/seed1" <<'SEED'
# comment
header H1 Subject =~ /foo\#/i [if-unset: x]
header H2 From:addr:raw !~ m{a\}b}ms
header H3 exists:X-Foo
redirector_pattern m'^https?://r\.example/go\?u=(.*?)(?:$|&)'i
header H4 eval:check_x('a', 1)
mimeheader M1 Content-Type:raw =~ /text/
body B1 m!a\!b!ix
rawbody R1 qr(a(b)c)
full F1 m<x>
uri U1 m;^https?://%{TAG};i
meta META1 (H1 && !H2) || B1 > 1
meta META2 rules_matching(H*) > 1 || rules_matching( ?1 )
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
fuzz_run rules 20000 4096
