#!/bin/sh
# Sendmail end to end: a private Sendmail (Debian's sendmail-bin, unpacked
# into a temp dir, never installed: it conflicts with postfix) with vigild
# as its INPUT_MAIL_FILTER, relaying to an SMTP sink. TAP. See
# tests/integration/lib/sendmail.sh and ../shared/notes/sendmail.md.
set -u
: "${top_builddir:=$(pwd)}" "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
tmp=$(mktemp -d /tmp/vigil-sendmail.XXXXXX)
chmod go+x "$tmp"
. "$top_srcdir/tests/integration/lib/common.sh"
. "$top_srcdir/tests/integration/lib/sendmail.sh"
trap stop_all EXIT
trap "exit 143" INT TERM HUP  # so that EXIT stops what we started
LOAD=${SENDMAIL_LOAD:-200}

tap_plan 8
command -v apt-get >/dev/null 2>&1 || skip_rest "no apt-get to fetch sendmail-bin"
sm_fetch "$tmp/sm" >"$tmp/fetch.out" 2>&1 ||
	skip_rest "sendmail-bin not available: $(tail -1 "$tmp/fetch.out")"

mport=$(free_port)
write_vigild_conf "$tmp/vigild.conf" "$mport"
if start_milter "$mport" "$tmp/vigild.conf" && [ "$MILTER_KIND" = vigild ]
then ok "vigild started"; else notok "vigild started" "$MILTER_WHY"; skip_rest "no vigild"; fi
start_sink "$tmp/sink" || { notok "sink"; skip_rest "no sink"; }
sport=$(free_port)
if sm_setup "$sport" "$mport" "$SINK_PORT" >"$tmp/setup.out" 2>&1 &&
   sm_start >"$tmp/start.out" 2>&1
then ok "private Sendmail started with INPUT_MAIL_FILTER at vigild"
else notok "private Sendmail" "$(cat "$tmp/setup.out" "$tmp/start.out")"; skip_rest "no Sendmail"; fi

# Three messages over one SMTP connection, each with its own verdict.
for k in clean gtube nosubject; do make_msg "$tmp/$k.eml" "$k"; done
check_one_connection "250 550 250 " "$sport" "$tmp/clean.eml" \
	"$tmp/gtube.eml" "$tmp/nosubject.eml"

if wait_for 150 sh -c "[ \$(find '$tmp/sink' -name '*.eml' | wc -l) -ge 1 ]" &&
   grep -q '^X-Spam-Status: No, score=' "$tmp"/sink/*.eml &&
   grep -q '^X-Spam-Score: 0.0' "$tmp"/sink/*.eml
then ok "delivered mail carries vigild's X-Spam headers"
else notok "delivered headers" "$(cat "$tmp"/sink/*.eml 2>/dev/null | head -30)"; fi

# Sendmail keeps a quarantined message in the queue as an hf file.
if wait_for 100 sh -c "[ \$(find '$tmp/sm/queue' -name 'hf*' -type f | wc -l) = 1 ]" &&
   grep -q 'held by the test policy' "$tmp"/sm/queue/hf*
then ok "quarantine: the message is held in Sendmail's queue with the reason"
else notok "quarantine" "$(ls -l "$tmp/sm/queue")"; fi

check_verdict_lines 3 '[0-9A-Za-z]\{8,\}' Sendmail
check_client_hop Sendmail

# A bounded load: LOAD messages over 5 SMTP sessions, every one delivered
# with headers; nothing left in the queue (no tempfail), nothing lost.
before=$(sink_count "$tmp/sink")
load_ok=1
if command -v smtp-source >/dev/null 2>&1; then
	smtp-source -s 5 -m "$LOAD" -l 1024 -S "load test" -f sender@example.org \
		-t rcpt@example.net "127.0.0.1:$sport" >"$tmp/load.out" 2>&1 || load_ok=0
else
	skip "load" "smtp-source (postfix) missing"
	skip_rest "smtp-source missing"
fi
loaded() { [ $(( $(sink_count "$tmp/sink") - before )) -ge "$LOAD" ]; }
wait_for 900 loaded
delivered=$(( $(sink_count "$tmp/sink") - before ))
queued=$(sm_queue_files qf)
if [ $load_ok = 1 ] && [ "$delivered" = "$LOAD" ] && [ "$queued" = 0 ] &&
   [ "$(grep -l '^X-Spam-Status: ' "$tmp"/sink/*.eml | wc -l)" = "$(sink_count "$tmp/sink")" ]
then ok "load: $LOAD messages in 5 sessions all delivered with X-Spam-Status, queue empty"
else notok "load" "smtp-source ok=$load_ok delivered=$delivered queued=$queued" \
	"$(tail -5 "$tmp/load.out")"; fi
