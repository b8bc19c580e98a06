#!/bin/sh
# The rule engine's compile cache (TAP): the tools write it where the
# configuration says (default: $XDG_CACHE_HOME/vigil), a later run loads
# the rules from it and gives the same hits, every sub-rule included; a
# changed rule file, a damaged or unsafe cache file are not used; "off"
# and an unwritable directory cost nothing but the time.
set -u
: "${top_builddir:=$(pwd)}" "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
VIGIL=$top_builddir/milter/vigil
VIGILD=$top_builddir/milter/vigild
tmp=$(mktemp -d /tmp/vigil-rcache.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$top_srcdir/tests/integration/lib/common.sh"
tap_plan 14
XDG_CACHE_HOME=$tmp/xdg
export XDG_CACHE_HOME
cdir=$XDG_CACHE_HOME/vigil

STOCK=/usr/share/spamassassin
stock=""
[ -d "$STOCK" ] && stock="\"$STOCK\", "
cat >"$tmp/own.cf" <<'EOF'
body     RC_PILLS    /\bcheap\s+(?:pills|meds)\b/i
score    RC_PILLS    2.0
body     __RC_WORD   /\bwinner\b/i
header   RC_SUBJ     Subject =~ /urgent|offer/i
score    RC_SUBJ     1.0
meta     RC_BOTH     RC_PILLS && __RC_WORD
score    RC_BOTH     1.5
rawbody  RC_MULTI    /click/i
tflags   RC_MULTI    multiple maxhits=3
score    RC_MULTI    0.5
EOF
conf() {   # conf FILE [rules_cache value]
	{
		printf 'stages = {"sanity", "rules"}\n'
		printf 'rules = {%s"%s", "%s"}\n' "$stock" "$top_srcdir/rules/50_vigil.cf" "$tmp/own.cf"
		[ $# -gt 1 ] && printf 'rules_cache = "%s"\n' "$2"
	} >"$1"
}
conf "$tmp/c.conf"
conf "$tmp/off.conf" off
# the test messages of vigil's own rules, and one for the rules above
mkdir -p "$tmp/mail"
cp "$top_srcdir"/tests/rules/*.eml "$tmp/mail/"
printf 'From: a@example.com\nTo: b@example.net\nSubject: Urgent offer\n\nWinner! Cheap pills here. click click click click\n' \
	>"$tmp/mail/rc.eml"
hits() {   # hits CONF OUT: every rule's hits on every message, and stderr
	"$VIGIL" rules hits -c "$1" --all "$tmp/mail" >"$2" 2>"$2.err"
}
loaded() { "$VIGIL" rules check -c "$1" 2>/dev/null | grep "rules loaded"; }

hits "$tmp/off.conf" "$tmp/h.off"
if [ ! -e "$cdir" ] && [ "$(wc -l <"$tmp/h.off")" -ge 37 ] &&
   grep -q '"RC_BOTH"' "$tmp/h.off"; then
	ok "rules_cache = off: nothing written"
else notok "off" "$(ls -la "$cdir" 2>&1)" "$(head -3 "$tmp/h.off")"; fi

count() { ls "$cdir" 2>/dev/null | grep -c '\.rc$'; }
# rules hits compiles once (all of them, --all: a key of its own)
hits "$tmp/c.conf" "$tmp/h.cold"
if [ "$(count)" = 1 ] && [ "$(stat -c %a "$cdir")" = 700 ] &&
   [ "$(stat -c %a "$cdir"/*.rc | sort -u)" = 600 ]; then
	ok "first run writes the cache (directory 0700, files 0600)"
else notok "cache written" "$(ls -la "$cdir" 2>&1)"; fi

hits "$tmp/c.conf" "$tmp/h.warm"
if cmp -s "$tmp/h.off" "$tmp/h.cold" && cmp -s "$tmp/h.off" "$tmp/h.warm"
then ok "hits of every rule: no cache, writing it, reading it alike"
else notok "hits differ" "$(diff "$tmp/h.off" "$tmp/h.warm" | head -5)"; fi

# check's rules (not --all) are compiled and written at its first run
loaded "$tmp/c.conf" >/dev/null
if loaded "$tmp/c.conf" | grep -q "from the compile cache" &&
   ! loaded "$tmp/off.conf" | grep -q "from the compile cache"
then ok "vigil rules check says when the rules came from the cache"
else notok "check output" "$(loaded "$tmp/c.conf")"; fi

"$VIGIL" scan -c "$tmp/off.conf" --format jsonl "$tmp/mail" 2>/dev/null |
	sed 's/"ms":[0-9.]*//' >"$tmp/s.off"
"$VIGIL" scan -c "$tmp/c.conf" --format jsonl "$tmp/mail" 2>/dev/null |
	sed 's/"ms":[0-9.]*//' >"$tmp/s.warm"
if [ -s "$tmp/s.off" ] && cmp -s "$tmp/s.off" "$tmp/s.warm"
then ok "vigil scan verdicts with and without the cache alike"
else notok "scan differs" "$(diff "$tmp/s.off" "$tmp/s.warm" | head -5)"; fi

# a changed rule: another key, its own compile
sed 's/pills|meds/pills|meds|tablets/; s/click/clack/' "$tmp/own.cf" >"$tmp/own2.cf"
mv "$tmp/own2.cf" "$tmp/own.cf"
printf 'From: a@example.com\nSubject: x\n\nWinner! Cheap tablets. clack\n' >"$tmp/mail/rc2.eml"
hits "$tmp/c.conf" "$tmp/h.changed"
# the --all and check/scan rules before, the changed --all rules now
if [ "$(count)" = 3 ] &&
   grep 'rc2.eml' "$tmp/h.changed" | grep -q '"RC_MULTI","RC_PILLS"'
then ok "a changed rule file is compiled anew, its new patterns used"
else notok "changed rules" "$(ls "$cdir")" "$(grep rc2 "$tmp/h.changed")"; fi
hits "$tmp/off.conf" "$tmp/h.off2"
if cmp -s "$tmp/h.off2" "$tmp/h.changed"
then ok "changed rules: hits alike with and without the cache"
else notok "changed rules' hits" "$(diff "$tmp/h.off2" "$tmp/h.changed" | head -5)"; fi

# damage: one byte of the newest file flipped
f=$(ls -t "$cdir"/*.rc | head -1)
size=$(stat -c %s "$f")
printf '\377' | dd of="$f" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
hits "$tmp/c.conf" "$tmp/h.damaged"
if grep -q "compile cache.*damaged" "$tmp/h.damaged.err" &&
   cmp -s "$tmp/h.off2" "$tmp/h.damaged"
then ok "a damaged cache file: warned, not used, same hits"
else notok "damaged" "$(cat "$tmp/h.damaged.err")"; fi
hits "$tmp/c.conf" "$tmp/h.again"
if ! grep -q "compile cache" "$tmp/h.again.err" && cmp -s "$tmp/h.off2" "$tmp/h.again"
then ok "the damaged file is written anew"
else notok "rewritten" "$(cat "$tmp/h.again.err")"; fi

chmod 0666 "$f"
hits "$tmp/c.conf" "$tmp/h.unsafe"
if grep -q "compile cache.*writable by others" "$tmp/h.unsafe.err" &&
   cmp -s "$tmp/h.off2" "$tmp/h.unsafe"
then ok "a cache file others may write: warned, not used, same hits"
else notok "unsafe" "$(cat "$tmp/h.unsafe.err")"; fi

conf "$tmp/ro.conf" /proc/vigil-cache
hits "$tmp/ro.conf" "$tmp/h.ro"
if cmp -s "$tmp/h.off2" "$tmp/h.ro" && ! grep -q "error" "$tmp/h.ro.err"
then ok "an unwritable cache directory: same hits, no error"
else notok "unwritable" "$(cat "$tmp/h.ro.err")"; fi

conf "$tmp/dir.conf" "$tmp/mine/rc"
hits "$tmp/dir.conf" "$tmp/h.dir"
if ls "$tmp/mine/rc" | grep -q '\.rc$' && cmp -s "$tmp/h.off2" "$tmp/h.dir"
then ok "rules_cache = DIR: the cache is kept there"
else notok "own dir" "$(ls -la "$tmp/mine" 2>&1)"; fi

# vigild: none unless the file names a directory
XDG_CACHE_HOME=$tmp/xdg-vigild "$VIGILD" -t -c "$tmp/c.conf" >"$tmp/vd.out" 2>&1
if [ ! -e "$tmp/xdg-vigild" ] && grep -q "configuration OK" "$tmp/vd.out"
then ok "vigild keeps no cache by default"
else notok "vigild default" "$(cat "$tmp/vd.out")" "$(ls -la "$tmp/xdg-vigild" 2>&1)"; fi
conf "$tmp/vd.conf" "$tmp/vigild-cache"
"$VIGILD" -t -c "$tmp/vd.conf" >"$tmp/vd2.out" 2>&1
if ls "$tmp/vigild-cache" 2>/dev/null | grep -q '\.rc$'
then ok "vigild with rules_cache = DIR keeps it there"
else notok "vigild rules_cache" "$(cat "$tmp/vd2.out")"; fi
