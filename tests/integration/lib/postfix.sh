# A private Postfix instance for the integration tests (sourced; needs
# common.sh). Everything lives under $PF_DIR: configuration, queue, data,
# and the mail log (postlogd writes it; no syslog needed).
#   pf_setup DIR SMTPPORT MILTERPORT SINKPORT: write main.cf and master.cf
#   pf_start / pf_stop: start the master daemon, stop it by its PID
#   pf_queue_files SUBDIR: queue files in incoming|active|deferred|hold...
# The instance listens on 127.0.0.1:SMTPPORT only, hands every message
# to the milter on 127.0.0.1:MILTERPORT (tempfail when it is unavailable)
# and relays everything to the sink on 127.0.0.1:SINKPORT.

PF_BIN=/usr/sbin/postfix

pf_setup() {
	PF_DIR=$1
	mkdir -p "$PF_DIR/etc" "$PF_DIR/queue" "$PF_DIR/data"
	# The postfix user must reach its data directory (a mktemp -d parent
	# is mode 0700).
	chmod go+x "$(dirname "$PF_DIR")" "$PF_DIR"
	chown postfix "$PF_DIR/data"
	cat >"$PF_DIR/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $PF_DIR/queue
data_directory = $PF_DIR/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.test.invalid
mydomain = test.invalid
myorigin = \$myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
relayhost = [127.0.0.1]:$4
smtp_dns_support_level = disabled
smtp_tls_security_level = none
smtpd_tls_security_level = none
smtpd_banner = \$myhostname ESMTP
biff = no
maillog_file = $PF_DIR/maillog
maillog_file_prefixes = $PF_DIR
# The milter under test.
smtpd_milters = inet:127.0.0.1:$3
non_smtpd_milters =
milter_default_action = tempfail
milter_protocol = 6
# Load runs: no 1-second penalties, no disconnect after many rejections,
# no flow-control pauses.
smtpd_error_sleep_time = 0s
smtpd_soft_error_limit = 10000
smtpd_hard_error_limit = 10000
in_flow_delay = 0s
smtpd_client_connection_count_limit = 0
CF
	cat >"$PF_DIR/etc/master.cf" <<CF
# service type  private unpriv  chroot  wakeup  maxproc command
$2        inet  n       -       n       -       -       smtpd
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
CF
}

pf_master_pid() { sed -n '1s/ //gp' "$PF_DIR/queue/pid/master.pid" 2>/dev/null; }

# pf_start: checks the configuration, creates the queue, starts the master
# (it detaches; its PID is read from the pid file and tracked).
pf_start() {
	if ! "$PF_BIN" -c "$PF_DIR/etc" start >"$PF_DIR/start.log" 2>&1; then
		cat "$PF_DIR/start.log"
		return 1
	fi
	PF_PID=$(pf_master_pid)
	[ -n "$PF_PID" ] || { echo "no master.pid"; return 1; }
	stop_hooks="pf_stop $stop_hooks"
}

# pf_stop: SIGTERM to the master (it stops its children), wait for it.
pf_stop() {
	[ -n "${PF_PID:-}" ] || return 0
	kill -TERM "$PF_PID" 2>/dev/null
	wait_for 100 pf_gone || kill -KILL "$PF_PID" 2>/dev/null
	PF_PID=""
}
pf_gone() { ! kill -0 "$PF_PID" 2>/dev/null; }

# pf_queue_files SUBDIR...: number of queue files in those queues.
pf_queue_files() {
	_n=0
	for _q in "$@"; do
		[ -d "$PF_DIR/queue/$_q" ] &&
			_n=$((_n + $(find "$PF_DIR/queue/$_q" -type f | wc -l)))
	done
	echo $_n
}
pf_queue_empty() {
	[ "$(pf_queue_files incoming active deferred)" = 0 ]
}
