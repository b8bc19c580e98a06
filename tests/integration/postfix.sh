#!/bin/sh
# Postfix end to end: a private Postfix instance (own config and queue,
# loopback only) with vigild as its milter, delivering to an SMTP sink.
# TAP. Installs Postfix (binaries only) when missing; stops all it starts.
set -u
: "${top_builddir:=$(pwd)}" "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
tmp=$(mktemp -d /tmp/vigil-postfix.XXXXXX)
. "$top_srcdir/tests/integration/lib/common.sh"
. "$top_srcdir/tests/integration/lib/postfix.sh"
trap stop_all EXIT
trap "exit 143" INT TERM HUP  # so that EXIT stops what we started
LOAD=${POSTFIX_LOAD:-2000}

tap_plan 10
if ! why=$(apt_ensure /usr/sbin/postfix postfix); then skip_rest "$why"; fi
command -v smtp-source >/dev/null 2>&1 || skip_rest "smtp-source missing"

mport=$(free_port)
write_vigild_conf "$tmp/vigild.conf" "$mport"
if start_milter "$mport" "$tmp/vigild.conf" && [ "$MILTER_KIND" = vigild ]
then ok "vigild started"; else notok "vigild started" "$MILTER_WHY"; skip_rest "no vigild"; fi
start_sink "$tmp/sink" || { notok "sink"; skip_rest "no sink"; }
sport=$(free_port)
pf_setup "$tmp/pf" "$sport" "$mport" "$SINK_PORT"
if pf_start >"$tmp/pf_start.out" && wait_for 100 port_open "$sport"
then ok "private Postfix started"
else notok "private Postfix" "$(cat "$tmp/pf_start.out")"; skip_rest "no Postfix"; fi

# Four messages over one SMTP connection, each with its own verdict.
for k in clean gtube nosubject; do make_msg "$tmp/$k.eml" "$k"; done
make_msg "$tmp/clean2.eml" clean clean2
check_one_connection "250 550 250 250 " "$sport" "$tmp/clean.eml" \
	"$tmp/gtube.eml" "$tmp/nosubject.eml" "$tmp/clean2.eml"

if wait_for 150 sh -c "[ \$(find '$tmp/sink' -name '*.eml' | wc -l) -ge 2 ]" &&
   [ "$(grep -l '^X-Spam-Status: No, score=' "$tmp"/sink/*.eml | wc -l)" = 2 ] &&
   grep -q '^X-Spam-Score: ' "$tmp"/sink/*.eml
then ok "delivered mail carries vigild's X-Spam headers"
else notok "delivered headers" "$(head -30 "$tmp"/sink/*.eml 2>/dev/null)"; fi

if wait_for 100 sh -c "[ \$(find '$tmp/pf/queue/hold' -type f 2>/dev/null | wc -l) = 1 ]"
then ok "quarantine puts the message on Postfix's hold queue"
else notok "hold queue" "$(find "$tmp/pf/queue" -type f)"; fi

# vigild's line for each message, with Postfix's queue id.
check_verdict_lines 4 '[0-9A-F]\{6,\}' Postfix
check_client_hop Postfix

# Load: LOAD messages over 20 parallel sessions, and meanwhile REJ GTUBE
# messages over 4 more sessions; every one delivered (with headers), held
# or rejected with the configured code; none deferred, none lost.
REJ=100
before_sink=$(sink_count "$tmp/sink")
before_hold=$(pf_queue_files hold)
gtubes=""; i=0
while [ $i -lt $((REJ / 4)) ]; do gtubes="$gtubes $tmp/gtube.eml"; i=$((i + 1)); done
senders=""
for b in 1 2 3 4; do
	# shellcheck disable=SC2086 # one argument per copy of the message
	$PY "$MTA_LIB/smtpsend.py" "$sport" $gtubes >"$tmp/rej$b.out" 2>&1 &
	senders="$senders $!"
done
smtp-source -s 20 -m "$LOAD" -l 2048 -S "load test" -f sender@example.org \
	-t rcpt@example.net "127.0.0.1:$sport" >"$tmp/load.out" 2>&1
rc=$?
# shellcheck disable=SC2086 # (vigild and the sink run in the background too)
wait $senders
rejected=$(cat "$tmp"/rej?.out | cut -f2 | grep -c "^${REJECT_REPLY%% *}\$")
done_count() {
	_d=$(( $(sink_count "$tmp/sink") - before_sink + $(pf_queue_files hold) - before_hold ))
	[ "$_d" -ge "$LOAD" ]
}
wait_for 600 done_count
delivered=$(( $(sink_count "$tmp/sink") - before_sink ))
held=$(( $(pf_queue_files hold) - before_hold ))
if [ $rc = 0 ] && [ $((delivered + held)) = "$LOAD" ] && [ "$rejected" = "$REJ" ]
then ok "load: $LOAD messages in 20 sessions and $REJ GTUBE in 4: $delivered delivered, $held held, $rejected rejected, none lost"
else notok "load" "rc=$rc delivered=$delivered held=$held rejected=$rejected/$REJ" "$(tail -5 "$tmp/load.out")"; fi
if wait_for 100 pf_queue_empty && [ "$(pf_queue_files deferred)" = 0 ]
then ok "load: nothing deferred (no tempfail), queues drained"
else notok "load: queues" "$(find "$tmp/pf/queue/deferred" -type f | head)"; fi
if [ "$(grep -l '^X-Spam-Status: ' "$tmp"/sink/*.eml | wc -l)" = "$(sink_count "$tmp/sink")" ]
then ok "load: every delivered message has X-Spam-Status"
else notok "load: headers missing on some delivered messages"; fi
