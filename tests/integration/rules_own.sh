#!/bin/sh
# vigil's own rules (rules/50_vigil.cf) on their test messages (TAP).
#
# - `vigil rules check rules/50_vigil.cf` loads it with no error, warning
#   or unsupported line;
# - every scored rule VIGIL_<NAME> defined in the file has a describe line,
#   a non-zero score and a test message tests/rules/VIGIL_<NAME>.eml, and
#   no test message is left without its rule;
# - every tests/rules/VIGIL_<NAME>.eml hits rule VIGIL_<NAME> (`vigil rules
#   test`, the file alone);
# - every tests/rules/ham-*.eml hits no scored rule (VIGIL_*; the __VIGIL_
#   sub-rules may hit);
# - with SpamAssassin's stock rules loaded too (the way vigild runs them,
#   `vigil rules hits -r STOCK -r rules/50_vigil.cf`), the same holds: each
#   test message hits its rule, the ham messages hit no VIGIL_ rule;
# - when SpamAssassin (Mail::SpamAssassin) is installed: on every test
#   message, SpamAssassin loading the same file hits exactly the same
#   VIGIL_ rules as vigil (bench/sa_hits.pl; 20_aux_tlds.cf is loaded too,
#   only for SpamAssassin's list of top-level domains).
: "${top_srcdir:=.}" "${top_builddir:=.}"
LC_ALL=C; export LC_ALL
VIGIL=$top_builddir/milter/vigil
CF=$top_srcdir/rules/50_vigil.cf
DIR=$top_srcdir/tests/rules
. "$top_srcdir/tests/integration/lib/common.sh"
STOCK=/usr/share/spamassassin
TLDS=$STOCK/20_aux_tlds.cf
TMP=$(mktemp -d "${TMPDIR:-/tmp}/rules_own.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM

[ -x "$VIGIL" ] || { echo "1..0 # SKIP $VIGIL not built"; exit 0; }
[ -f "$CF" ] || { echo "Bail out! $CF missing"; exit 1; }

have_sa=no
if perl -MMail::SpamAssassin -e 1 2>/dev/null && [ -f "$TLDS" ]; then
	have_sa=yes
fi
have_stock=no
[ -f "$STOCK/50_scores.cf" ] && have_stock=yes

# Scored rules defined in the file (rule lines, names without "__").
sed -n 's/^[ \t]*\(header\|mimeheader\|body\|rawbody\|full\|uri\|meta\)[ \t]\{1,\}\(VIGIL_[A-Z0-9_]*\).*/\2/p' \
	"$CF" | sort -u >"$TMP/rules"

# Scored VIGIL_ rule names in `vigil rules test` output ("  SCORE  NAME ..."),
# into $2; fails when vigil fails (exit 0: a rule hit, 1: none, else error)
# or says anything on standard error.
vigil_hits() {
	"$VIGIL" rules test "$CF" "$1" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	sed -n 's/^ *-\{0,1\}[0-9][0-9.]* \{1,\}\(VIGIL_[A-Z0-9_]*\).*/\1/p' \
		"$TMP/out" | sort -u >"$2"
	[ $rc -le 1 ] && [ ! -s "$TMP/err" ]
}

# The VIGIL_ hits of message $2 in the JSON lines file $1.
json_hits() {
	/usr/bin/python3 - "$1" "$2" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    if d["source"] == sys.argv[2]:
        for h in d["hits"]:
            if h.startswith("VIGIL_"):
                print(h)
EOF
}

count=0
for f in "$DIR"/VIGIL_*.eml "$DIR"/ham-*.eml; do
	[ -f "$f" ] && count=$((count + 1))
done
nrules=$(wc -l <"$TMP/rules")
plan=$((2 + nrules + count))
[ "$have_stock" = yes ] && plan=$((plan + count))
[ "$have_sa" = yes ] && plan=$((plan + count))
tap_plan "$plan"

out=$("$VIGIL" rules check "$CF" 2>&1)
rc=$?
if [ $rc -eq 0 ] && echo "$out" | grep -q '^ *0 errors, 0 warnings, 0 unsupported' &&
	echo "$out" | grep -q 'failed: 0,'; then
	ok "vigil rules check rules/50_vigil.cf: no error"
else
	notok "vigil rules check rules/50_vigil.cf (rc $rc)"
	echo "$out" | sed 's/^/# /'
fi

# Every scored rule: a describe line, a non-zero score, a test message.
while read -r rule; do
	why=
	grep -Eq "^[[:space:]]*describe[[:space:]]+$rule[[:space:]]+[^[:space:]]" "$CF" ||
		why="$why no describe line;"
	score=$(sed -n "s/^[[:space:]]*score[[:space:]]\{1,\}$rule[[:space:]]\{1,\}\([-0-9.]*\).*/\1/p" "$CF" | tail -n 1)
	case $score in
	'') why="$why no score line;" ;;
	*[1-9]*) ;;
	*) why="$why score $score;" ;;
	esac
	[ -f "$DIR/$rule.eml" ] || why="$why no tests/rules/$rule.eml;"
	if [ -z "$why" ]; then
		ok "$rule: describe, score $score, test message"
	else
		notok "$rule:$why"
	fi
done <"$TMP/rules"

# No test message without its rule (a renamed or deleted rule).
orphans=
for f in "$DIR"/VIGIL_*.eml; do
	base=$(basename "$f" .eml)
	grep -qx "$base" "$TMP/rules" || orphans="$orphans $base"
done
if [ -z "$orphans" ]; then
	ok "every tests/rules/VIGIL_*.eml has its rule"
else
	notok "test messages without a rule:$orphans"
fi

# The file alone, every rule run (`vigil rules test`).
for f in "$DIR"/VIGIL_*.eml "$DIR"/ham-*.eml; do
	base=$(basename "$f" .eml)
	if ! vigil_hits "$f" "$TMP/$base.vigil"; then
		notok "$base: vigil rules test failed (rc $rc)"
		sed 's/^/# /' "$TMP/err"
		continue
	fi
	case $base in
	VIGIL_*)
		if grep -qx "$base" "$TMP/$base.vigil"; then
			ok "$base hits"
		else
			notok "$base does not hit (hits: $(tr '\n' ' ' <"$TMP/$base.vigil"))"
		fi ;;
	*)
		if [ ! -s "$TMP/$base.vigil" ]; then
			ok "$base hits no VIGIL_ rule"
		else
			notok "$base hits $(tr '\n' ' ' <"$TMP/$base.vigil")"
		fi ;;
	esac
done

# Stock rules and vigil's own together, as vigild loads them.
if [ "$have_stock" = yes ]; then
	"$VIGIL" rules hits -r "$STOCK" -r "$CF" "$DIR"/VIGIL_*.eml \
		"$DIR"/ham-*.eml >"$TMP/stock.jsonl" 2>"$TMP/stock.err"
	src=$?
	for f in "$DIR"/VIGIL_*.eml "$DIR"/ham-*.eml; do
		base=$(basename "$f" .eml)
		json_hits "$TMP/stock.jsonl" "$f" >"$TMP/$base.stock"
		seen=no
		grep -qF "\"source\":\"$f\"" "$TMP/stock.jsonl" && seen=yes
		case $base in
		VIGIL_*) want=$base ;;
		*) want= ;;
		esac
		good=no
		if [ -n "$want" ]; then
			grep -qx "$want" "$TMP/$base.stock" && good=yes
		else
			[ -s "$TMP/$base.stock" ] || good=yes
		fi
		if [ $src -eq 0 ] && [ $seen = yes ] && [ $good = yes ]; then
			ok "$base with the stock rules: ${want:-no VIGIL_ rule}"
		else
			notok "$base with the stock rules (rc $src, scanned: $seen):" \
				"$(tr '\n' ' ' <"$TMP/$base.stock")"
			sed 's/^/# /' "$TMP/stock.err"
		fi
	done
fi

[ "$have_sa" = yes ] || exit 0

# SpamAssassin on the same messages, one process for all of them.
perl "$top_srcdir/bench/sa_hits.pl" --quiet --rules "$CF" --rules "$TLDS" \
	"$DIR"/VIGIL_*.eml "$DIR"/ham-*.eml >"$TMP/sa.jsonl" 2>"$TMP/sa.err"
for f in "$DIR"/VIGIL_*.eml "$DIR"/ham-*.eml; do
	base=$(basename "$f" .eml)
	json_hits "$TMP/sa.jsonl" "$f" >"$TMP/$base.sa"
	if grep -qF "\"source\":\"$f\"" "$TMP/sa.jsonl" &&
		cmp -s "$TMP/$base.vigil" "$TMP/$base.sa"; then
		ok "$base: same VIGIL_ hits as SpamAssassin"
	else
		notok "$base: vigil [$(tr '\n' ' ' <"$TMP/$base.vigil")]" \
			"SpamAssassin [$(tr '\n' ' ' <"$TMP/$base.sa")]"
		sed 's/^/# /' "$TMP/sa.err"
	fi
done
