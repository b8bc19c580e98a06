#!/bin/sh
# vigil rules: check on SpamAssassin's stock rules (skipped when absent),
# test on a small rule file and message, check on a broken file.
top_srcdir=${top_srcdir:-$(dirname "$0")/../..}
top_builddir=${top_builddir:-.}
VIGIL=$top_builddir/milter/vigil
T=$top_srcdir/tests/rules
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..13"

out=$("$VIGIL" rules test "$T/engine_test.cf" "$T/engine_test.eml" 2>&1)
rc=$?
if [ $rc -eq 0 ] && echo "$out" | grep -q "VT_CHEAP_PILLS" &&
   echo "$out" | grep -q "VT_BIZ_BOTH" && ! echo "$out" | grep -q "VT_NEVER" &&
   echo "$out" | grep -q 'matched: "Cheap pills"'; then
	echo "ok 1 - rules test: hits, meta and matched text"
elif "$VIGIL" rules check "$T/engine_test.cf" | grep -q "^0 files\|, 0 rules"; then
	echo "ok 1 - # SKIP rule parser not there yet"
else
	echo "not ok 1 - rules test (rc $rc): $out"
fi

printf 'body ONLY_NEVER /zzzz-not-there/\n' > "$tmp/none.cf"
"$VIGIL" rules test "$tmp/none.cf" "$T/engine_test.eml" >/dev/null 2>&1
rc=$?
if [ $rc -eq 1 ]; then
	echo "ok 2 - rules test without a hit exits 1"
else
	echo "not ok 2 - rules test without a hit: rc $rc"
fi

printf 'body BROKEN /(unclosed/\n' > "$tmp/bad.cf"
out=$("$VIGIL" rules check "$tmp/bad.cf" 2>&1)
rc=$?
if [ $rc -eq 1 ] && echo "$out" | grep -q "bad.cf:1: error: rule BROKEN: PCRE2 error at offset"; then
	echo "ok 3 - rules check reports a bad pattern with file:line, exit 1"
elif echo "$out" | grep -q ", 0 rules"; then
	echo "ok 3 - # SKIP rule parser not there yet"
else
	echo "not ok 3 - rules check on a bad file (rc $rc): $out"
fi

if [ -d /usr/share/spamassassin ]; then
	out=$("$VIGIL" rules check /usr/share/spamassassin 2>&1)
	rc=$?
	if echo "$out" | grep -q "rules loaded in" && [ $rc -le 1 ]; then
		echo "ok 4 - rules check on the stock rules: $(echo "$out" | grep 'rules loaded')"
	else
		echo "not ok 4 - rules check /usr/share/spamassassin (rc $rc)"
	fi
	out=$("$VIGIL" rules hits -r "$T/engine_test.cf" --all "$T/engine_test.eml" 2>&1)
	if echo "$out" | grep -q '"hits":\[.*"__VT_BIZ_FROM"' ||
	   "$VIGIL" rules check "$T/engine_test.cf" | grep -q ", 0 rules"; then
		echo "ok 5 - rules hits prints JSON with sub-rules"
	else
		echo "not ok 5 - rules hits: $out"
	fi
else
	echo "ok 4 - # SKIP /usr/share/spamassassin absent (apt-get install spamassassin)"
	echo "ok 5 - # SKIP /usr/share/spamassassin absent"
fi

# A message file whose header section holds lines that are not headers:
# SpamAssassin passes over three of them and starts the body at the
# fourth; so does vigil (the header after one junk line is a header, the
# one after four is body text).
printf 'header SUBJ_SEEN Subject =~ /late/\n' > "$tmp/subj.cf"
printf 'junk line\nSubject: late\n\nbody\n' > "$tmp/one.eml"
printf 'X-A: 1\nb1\nb2\nb3\nb4\nSubject: late\n\nbody\n' > "$tmp/four.eml"
"$VIGIL" rules test "$tmp/subj.cf" "$tmp/one.eml" >/dev/null 2>&1; rc1=$?
"$VIGIL" rules test "$tmp/subj.cf" "$tmp/four.eml" >/dev/null 2>&1; rc4=$?
if [ $rc1 -eq 0 ] && [ $rc4 -eq 1 ]; then
	echo "ok 6 - lines that are not headers: three passed over, the body at the fourth"
else
	echo "not ok 6 - junk header lines: rc $rc1 (want 0), $rc4 (want 1)"
fi

# --unsupported and check list an eval: rule once, and only when the
# engine cannot run it: a FreeMail function with its domain list from
# the rule file runs (it used to be listed, and sa_compare.py then left
# the FreeMail rules out of its agreement figures).
printf 'freemail_domains gmail.com\nheader T_FM eval:check_freemail_from()\nheader T_NOPE eval:check_no_such_thing()\n' > "$tmp/fm.cf"
out=$("$VIGIL" rules --unsupported "$tmp/fm.cf" 2>&1)
chk=$("$VIGIL" rules check "$tmp/fm.cf" 2>&1)
if [ "$(echo "$out" | grep -c 'T_NOPE')" -eq 1 ] &&
   ! echo "$out" | grep -q 'T_FM' &&
   echo "$chk" | grep -q ' 1 unsupported line '; then
	echo "ok 7 - an implemented eval (FreeMail) is not listed as unsupported, an unknown one once"
else
	echo "not ok 7 - --unsupported: $out / $chk"
fi

# A rules path the operator wrote that does not exist is a configuration
# error (scan exit 2, vigild -t fails): mail would pass unscored. A
# built-in path missing ("rules +=" keeps the defaults) is skipped.
VIGILD=$top_builddir/milter/vigild
printf 'stages = { "sanity", "rules" }\nrules = { "%s" }\n' "$tmp/nonexistent" >"$tmp/miss.conf"
printf 'From: a@example.com\nSubject: x\n\nbody\n' >"$tmp/m.eml"
"$VIGIL" scan -c "$tmp/miss.conf" "$tmp/m.eml" >"$tmp/s.out" 2>"$tmp/s.err"
rc=$?
"$VIGILD" -t -c "$tmp/miss.conf" >"$tmp/d.out" 2>&1
drc=$?
if [ $rc -eq 2 ] && [ $drc -ne 0 ] && [ ! -s "$tmp/s.out" ] &&
   grep -q "miss.conf: rules: cannot read \"$tmp/nonexistent\": No such file" "$tmp/s.err" &&
   grep -q "cannot read \"$tmp/nonexistent\"" "$tmp/d.out"; then
	echo "ok 8 - a missing rules path is a configuration error (scan exit 2, vigild -t fails)"
else
	echo "not ok 8 - missing rules path: scan rc $rc, vigild rc $drc: $(cat "$tmp/s.err" "$tmp/d.out")"
fi
printf 'body T_PLUS /body/\nscore T_PLUS 1\n' >"$tmp/plus.cf"
printf 'stages = { "rules" }\nrules += { "%s" }\n' "$tmp/plus.cf" >"$tmp/plus.conf"
out=$("$VIGIL" scan -c "$tmp/plus.conf" --format jsonl "$tmp/m.eml" 2>&1)
rc=$?
if [ $rc -eq 0 ] && echo "$out" | grep -q '"name":"T_PLUS"'; then
	echo "ok 9 - rules += keeps the built-in paths, missing ones skipped"
else
	echo "not ok 9 - rules +=: rc $rc: $out"
fi

# vigil rules explain takes the envelope flags as scan and explain do:
# --client-ip must be an address (exit 2 naming it), <addr> in SMTP form.
out=$("$VIGIL" rules explain --client-ip 999.1.1.1 "$tmp/m.eml" 2>&1)
rc=$?
if [ $rc -eq 2 ] && echo "$out" | grep -q -- '--client-ip 999.1.1.1: not an IPv4 or IPv6 address' &&
   "$VIGIL" rules explain -c "$tmp/plus.conf" --mail-from '<a@example.com>' --client-ip 192.0.2.1 "$tmp/m.eml" >/dev/null 2>&1; then
	echo "ok 10 - rules explain validates --client-ip and takes --mail-from in SMTP form"
else
	echo "not ok 10 - rules explain envelope flags: rc $rc: $out"
fi

# A rule reaching the PCRE2 match limit: the warning names the message,
# in rules hits (its mbox message) as in rules explain (its file).
mkdir "$tmp/lim"
printf 'body BT_LIMIT /(a+)+b/\nscore BT_LIMIT 1\n' >"$tmp/lim/r.cf"
printf 'stages = { "rules" }\nrules = { "%s" }\nrule_match_limit = 1000\n' "$tmp/lim" >"$tmp/lim.conf"
printf 'From x Mon Jan  1 00:00:00 2024\nSubject: a\n\nnothing\n\nFrom x Mon Jan  1 00:00:00 2024\nSubject: b\n\naaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa b\n' >"$tmp/lim.mbox"
off=$(grep -b -o "^From x" "$tmp/lim.mbox" | sed -n 2p | cut -d: -f1)
"$VIGIL" rules hits -c "$tmp/lim.conf" "$tmp/lim.mbox" >/dev/null 2>"$tmp/h.err"
tail -n +7 "$tmp/lim.mbox" >"$tmp/lim.eml"
"$VIGIL" rules explain -c "$tmp/lim.conf" "$tmp/lim.eml" >/dev/null 2>"$tmp/x.err"
if grep -q "rule BT_LIMIT reached the PCRE2 match limit on $tmp/lim.mbox message 1 at byte $off;" "$tmp/h.err" &&
   grep -q "rule BT_LIMIT reached the PCRE2 match limit on $tmp/lim.eml;" "$tmp/x.err"; then
	echo "ok 11 - a PCRE2 limit names the message (rules hits, rules explain)"
else
	echo "not ok 11 - PCRE2 limit message: $(cat "$tmp/h.err" "$tmp/x.err")"
fi

# Rule files that cannot add to a score (a directory of settings given
# for the rules, an empty one) would pass all mail: vigil scan and
# vigild warn; rules with a score above 0 do not.
mkdir "$tmp/neg" "$tmp/empty" "$tmp/pos"
printf 'header NEG_ONLY Subject =~ /a/\nscore NEG_ONLY -5\n' >"$tmp/neg/r.cf"
printf 'header POS_ONE Subject =~ /a/\nscore POS_ONE 1\n' >"$tmp/pos/r.cf"
for d in neg empty pos; do
	printf 'stages = { "rules" }\nrules = { "%s" }\n' "$tmp/$d" >"$tmp/$d.conf"
	"$VIGIL" scan -c "$tmp/$d.conf" "$tmp/lim.eml" >/dev/null 2>"$tmp/$d.err"
done
warn="loaded, none with a score above 0: no message can score up to a threshold"
if grep -q "$tmp/neg.conf: rules: 1 rule $warn" "$tmp/neg.err" &&
   grep -q "$tmp/empty.conf: rules: 0 rules $warn" "$tmp/empty.err" &&
   ! grep -q "$warn" "$tmp/pos.err"; then
	echo "ok 12 - rule files with nothing scored above 0: a warning naming the configuration"
else
	echo "not ok 12 - no-score warning: $(cat "$tmp/neg.err" "$tmp/empty.err" "$tmp/pos.err")"
fi

# Output that cannot be written (a full disk) is an error, never a
# silent success: every rules command, --help and --version exit 2.
if [ -w /dev/full ]; then
	rcs=""
	for args in "rules check -c $tmp/pos.conf" "rules --unsupported -c $tmp/pos.conf" \
	            "rules hits -c $tmp/pos.conf $tmp/lim.eml" \
	            "rules explain -c $tmp/pos.conf $tmp/lim.eml" "--help" "--version"; do
		# shellcheck disable=SC2086 # args are words on purpose
		"$VIGIL" $args >/dev/full 2>"$tmp/full.err"
		rcs="$rcs $?"
		grep -q "standard output: No space left on device" "$tmp/full.err" || rcs="$rcs(no message)"
	done
	if [ "$rcs" = " 2 2 2 2 2 2" ]; then
		echo "ok 13 - output to a full disk: exit 2 with a message"
	else
		echo "not ok 13 - output to a full disk: exit statuses$rcs"
	fi
else
	echo "ok 13 # SKIP no /dev/full"
fi
