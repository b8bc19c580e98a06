#!/bin/sh
# vigil scan's evaluation report records what determines the verdicts:
# the configuration file's SHA-256 (or "built-in defaults") and the rule
# files' digest, the same in the text and the HTML report (TAP).
set -u
: "${top_builddir:=$(pwd)}" "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
VIGIL=$top_builddir/milter/vigil
tmp=$(mktemp -d /tmp/vigil-repro.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$top_srcdir/tests/integration/lib/common.sh"
tap_plan 12

mkdir "$tmp/r1" "$tmp/r2"
printf 'body T_A /hello/\nscore T_A 2\n' >"$tmp/r1/10_a.cf"
printf 'body T_B /offer/\nscore T_B 3\n' >"$tmp/r1/20_b.cf"
cp "$tmp/r1/10_a.cf" "$tmp/r1/20_b.cf" "$tmp/r2/"
printf 'stages = { "rules" }\nrules = { "%s" }\n' "$tmp/r1" >"$tmp/c1.conf"
printf 'stages = { "rules" }\nrules = { "%s" }\n' "$tmp/r2" >"$tmp/c2.conf"
printf 'From x@y Mon Nov 23 10:00:00 2026\nFrom: a@example.com\nSubject: offer\n\nhello offer\n\n' >"$tmp/s.mbox"

# scan CONF [REPORT]: the report's hash line ("config sha256 ...; rules ...")
scan() {
	if [ $# -gt 1 ]; then
		"$VIGIL" scan -c "$1" --label spam "$tmp/s.mbox" --report "$2" 2>"$tmp/err"
	else
		"$VIGIL" scan -c "$1" --label spam "$tmp/s.mbox" 2>"$tmp/err"
	fi | grep 'sha256' | sed 's/^ *//'
}
l1=$(scan "$tmp/c1.conf" "$tmp/r.html")
c1=$(sha256sum "$tmp/c1.conf" | cut -d' ' -f1)
case $l1 in
"config sha256 $c1; rules sha256 "*" (2 files)") ok "text report: config file's SHA-256, rules digest and file count" ;;
*) notok "text report hash line" "$l1" "$(cat "$tmp/err")" ;;
esac
if grep -qF "$l1" "$tmp/r.html"; then ok "HTML report: the same line"
else notok "HTML report" "$(grep sha256 "$tmp/r.html")"; fi

rules1=${l1#*rules sha256 }
l2=$(scan "$tmp/c2.conf")
rules2=${l2#*rules sha256 }
if [ "$rules1" = "$rules2" ] && [ "${l1%%;*}" != "${l2%%;*}" ]
then ok "the same rule files elsewhere: same rules digest (the config differs)"
else notok "same rule files" "$l1" "$l2"; fi
l1b=$(scan "$tmp/c1.conf")
if [ "$l1b" = "$l1" ]; then ok "the same run again: the same line"
else notok "rerun" "$l1" "$l1b"; fi

# one byte of one rule file changed
printf 'body T_B /offes/\nscore T_B 3\n' >"$tmp/r2/20_b.cf"
l3=$(scan "$tmp/c2.conf")
if [ "${l3#*rules sha256 }" != "$rules2" ] && [ "${l3%%;*}" = "${l2%%;*}" ]
then ok "one byte changed in a rule file: another rules digest"
else notok "changed rule file" "$l2" "$l3"; fi

# Without -c: the installed vigild.conf when there is one (after
# `./setup.sh start`), else the built-in defaults; the report names it.
prefix=$(sed -n 's/^prefix = //p' "$top_builddir/Makefile")
sysconfdir=$(sed -n 's/^sysconfdir = //p' "$top_builddir/Makefile" |
	sed "s|\${prefix}|$prefix|")
installed=$sysconfdir/vigil/vigild.conf
out=$("$VIGIL" scan --label spam "$tmp/s.mbox" 2>/dev/null)
if [ -r "$installed" ]; then
	if echo "$out" | grep -q "^vigil .*; configuration $installed\$" &&
	   echo "$out" | grep -q "config sha256 $(sha256sum "$installed" | cut -d' ' -f1); "
	then ok "without -c: the installed $installed named, with its hash"
	else notok "installed configuration" "$(echo "$out" | head -4)"; fi
elif echo "$out" | grep -q '^  built-in defaults; ' &&
   echo "$out" | grep -q '^vigil .*; configuration (built-in defaults)$'
then ok "without -c: built-in defaults named"
else notok "built-in defaults" "$(echo "$out" | head -4)"; fi

# Stages that ask DNS make a run depend on the records of its day: the
# report says which (here none of them has an address to ask about).
printf 'stages = { "sanity", "spf", "dkim", "rules" }\nrules = { "%s" }\n' "$tmp/r1" >"$tmp/c3.conf"
"$VIGIL" scan -c "$tmp/c3.conf" --label spam "$tmp/s.mbox" >"$tmp/o3" 2>&1
"$VIGIL" scan -c "$tmp/c1.conf" --label spam "$tmp/s.mbox" >"$tmp/o1" 2>&1
if grep -q "^  live DNS: the stages spf, dkim asked DNS while scanning; a later run may differ as the records change\$" "$tmp/o3" &&
   ! grep -q "live DNS" "$tmp/o1"
then ok "stages asking DNS named in the report, none without them"
else notok "live DNS" "$(cat "$tmp/o3")"; fi

# A file the configuration include()s is configuration: named with its
# own SHA-256, which changes with it (the main file's does not).
printf 'actions { add_header = 3 }\n' >"$tmp/part.conf"
printf 'include("%s")\nstages = { "rules" }\nrules = { "%s" }\n' "$tmp/part.conf" "$tmp/r1" >"$tmp/c4.conf"
h1=$(sha256sum "$tmp/part.conf" | cut -d' ' -f1)
"$VIGIL" scan -c "$tmp/c4.conf" --label spam "$tmp/s.mbox" >"$tmp/o4" 2>&1
printf 'actions { add_header = 9 }\n' >"$tmp/part.conf"
h2=$(sha256sum "$tmp/part.conf" | cut -d' ' -f1)
"$VIGIL" scan -c "$tmp/c4.conf" --label spam "$tmp/s.mbox" >"$tmp/o5" 2>&1
if grep -q "^  included $tmp/part.conf (sha256 $h1)\$" "$tmp/o4" &&
   grep -q "^  included $tmp/part.conf (sha256 $h2)\$" "$tmp/o5" && [ "$h1" != "$h2" ]
then ok "an include()d file named with its SHA-256"
else notok "included file" "$(cat "$tmp/o4" "$tmp/o5")"; fi

# The digests are of what the configuration was loaded from, taken as
# it was read: a configuration (and an include) given as a pipe, as
# with -c <(...), has the digest of what the pipe gave (not of nothing).
mkfifo "$tmp/c5.fifo" "$tmp/part5.fifo"
printf 'include("%s")\nstages = { "rules" }\nrules = { "%s" }\n' "$tmp/part5.fifo" "$tmp/r1" >"$tmp/c5.conf"
printf 'actions { add_header = 3 }\n' >"$tmp/part5.conf"
cat "$tmp/c5.conf" >"$tmp/c5.fifo" &
cat "$tmp/part5.conf" >"$tmp/part5.fifo" &
# (bounded: a vigil that opened the FIFO again for the report would
# wait for a writer for ever)
timeout -s KILL 60 "$VIGIL" scan -c "$tmp/c5.fifo" --label spam "$tmp/s.mbox" >"$tmp/o7" 2>&1
exec 5<>"$tmp/c5.fifo" 6<>"$tmp/part5.fifo"; exec 5>&- 6>&-   # writers left blocked (an old vigil) end
wait
h5=$(sha256sum "$tmp/c5.conf" | cut -d' ' -f1); p5=$(sha256sum "$tmp/part5.conf" | cut -d' ' -f1)
if grep -q "^  config sha256 $h5; " "$tmp/o7" && grep -q "^  included $tmp/part5.fifo (sha256 $p5)\$" "$tmp/o7"
then ok "configuration and include through pipes: the digests of what they gave"
else notok "config through a pipe" "want $h5 $p5" "$(cat "$tmp/o7")"; fi
# A configuration edited while the run goes on: the report has the
# digests of the files the verdicts came from. The corpus is a FIFO that
# vigil opens once the configuration is loaded: the files are changed
# then, before any message is read.
mkfifo "$tmp/s.fifo"
cp "$tmp/c4.conf" "$tmp/c6.conf"
h6=$(sha256sum "$tmp/c6.conf" | cut -d' ' -f1); p6=$(sha256sum "$tmp/part.conf" | cut -d' ' -f1)
"$VIGIL" scan -c "$tmp/c6.conf" --label spam "$tmp/s.fifo" >"$tmp/o8" 2>&1 &
pid=$!
exec 4>"$tmp/s.fifo"
printf 'stages = { "sanity" }\n' >"$tmp/c6.conf"
printf 'actions { add_header = 1 }\n' >"$tmp/part.conf"
cat "$tmp/s.mbox" >&4
exec 4>&-
wait $pid
if grep -q "^  config sha256 $h6; rules sha256 " "$tmp/o8" &&
   grep -q "^  included $tmp/part.conf (sha256 $p6)\$" "$tmp/o8"
then ok "configuration edited during the run: the digests of what was loaded"
else notok "config edited" "want $h6 $p6" "$(cat "$tmp/o8")"; fi

# The command line in the report pastes back into a shell as the same
# arguments: a quote, a backslash, $ and a control character in names.
mkdir "$tmp/q"
n1="$tmp/q/it's \$HOME \"q\".eml"; n2="$tmp/q/back\\slash.eml"; n3="$tmp/q/esc$(printf '\033')[1m.eml"
for n in "$n1" "$n2" "$n3"; do printf 'From: a@example.com\nSubject: q\n\nhello\n' >"$n"; done
"$VIGIL" scan -c "$tmp/c1.conf" --label spam "$n1" "$n2" "$n3" >"$tmp/o6" 2>&1
line=$(sed -n 's/^  command: //p' "$tmp/o6")
bash -c "vigil() { printf '%s\0' \"\$@\"; }; $line" >"$tmp/args" 2>&1
printf '%s\0' scan -c "$tmp/c1.conf" --label spam "$n1" "$n2" "$n3" >"$tmp/want"
if cmp -s "$tmp/args" "$tmp/want" && ! grep -q "$(printf '\033')" "$tmp/o6"
then ok "the report's command line pastes back as the same arguments"
else notok "command line quoting" "$line" "$(od -c "$tmp/args" | head)"; fi
# The version names the commit the build came from, in --version and in
# the report's block alike.
ver=$("$VIGIL" --version)
"$VIGIL" scan -c "$tmp/c1.conf" --label spam "$tmp/s.mbox" >"$tmp/ver.err" 2>&1
if echo "$ver" | grep -q '^vigil [0-9.]* (\([0-9a-f]\{7,\}\(-dirty\)\?\|unknown\))$' &&
   grep -qF "$ver; configuration " "$tmp/ver.err"
then ok "the version names the build's commit ($ver), in the report too"
else notok "build id" "$ver" "$(grep '^vigil ' "$tmp/ver.err")"; fi
