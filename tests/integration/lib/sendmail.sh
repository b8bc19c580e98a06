# A private Sendmail for the integration tests (sourced; needs common.sh).
# Debian's sendmail-bin conflicts with postfix (both provide
# mail-transport-agent), so it is never installed: its .debs are fetched
# with `apt-get download` and unpacked under $SM_DIR/root.
#   sm_fetch DIR: download and unpack sendmail-bin and sendmail-cf; also
#                 makes sure m4 and libwrap0 (conflict-free) are installed
#   sm_setup SMTPPORT MILTERPORT SINKPORT: generate sendmail.cf
#   sm_start / sm_stop: run `sendmail -bD` (foreground daemon) in a private
#                 UTS+mount namespace, stop it and its children by PID
#   sm_queue_files PREFIX: queue files named PREFIX* (qf, df, hf...)
# Why the namespace: before it reads its .cf, sendmail canonicalises the
# host name and sleeps 60 s when the name has no domain. In the namespace
# the host name is mx.test.invalid and /etc/hosts, /etc/nsswitch.conf are
# bind-mounted private copies; the machine's own stay untouched. Without
# CAP_SYS_ADMIN it runs outside the namespace, just 60 s slower.

sm_fetch() {
	SM_DIR=$1
	SM_ROOT=$SM_DIR/root
	mkdir -p "$SM_DIR/debs"
	apt_ensure m4 m4 >/dev/null || { echo "m4 missing"; return 1; }
	# sendmail needs libwrap.so.0 (package libwrap0, a plain library).
	if ! ldconfig -p | grep -q 'libwrap\.so\.0 '; then
		apt_ensure /nonexistent-libwrap0 libwrap0 >/dev/null
		ldconfig -p | grep -q 'libwrap\.so\.0 ' ||
			{ echo "cannot install libwrap0"; return 1; }
	fi
	if ! (cd "$SM_DIR/debs" && apt-get download sendmail-bin sendmail-cf) \
		>"$SM_DIR/download.log" 2>&1; then
		apt-get update -q >>"$SM_DIR/download.log" 2>&1
		(cd "$SM_DIR/debs" && apt-get download sendmail-bin sendmail-cf) \
			>>"$SM_DIR/download.log" 2>&1 ||
			{ echo "apt-get download failed: $(tail -1 "$SM_DIR/download.log")"; return 1; }
	fi
	for _deb in "$SM_DIR"/debs/*.deb; do
		dpkg-deb -x "$_deb" "$SM_ROOT" || { echo "cannot unpack $_deb"; return 1; }
	done
	SM_BIN=$SM_ROOT/usr/libexec/sendmail/sendmail
	[ -x "$SM_BIN" ] || { echo "no sendmail binary in the package"; return 1; }
}

sm_setup() {
	mkdir -p "$SM_DIR/queue"
	chmod 0700 "$SM_DIR/queue"
	printf '127.0.0.1 localhost mx.test.invalid mx\n' >"$SM_DIR/hosts"
	printf 'hosts: files\nnetworks: files\npasswd: files\ngroup: files\n' \
		>"$SM_DIR/nsswitch.conf"
	printf 'hosts files\naliases files\n' >"$SM_DIR/service.switch"
	cat >"$SM_DIR/test.mc" <<MC
divert(-1)
Private test instance: every path under $SM_DIR.
divert(0)dnl
VERSIONID(\`vigil integration test')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`mx.test.invalid')dnl
define(\`QUEUE_DIR', \`$SM_DIR/queue')dnl
define(\`confPID_FILE', \`$SM_DIR/sendmail.pid')dnl
define(\`confSERVICE_SWITCH_FILE', \`$SM_DIR/service.switch')dnl
define(\`confHOSTS_FILE', \`$SM_DIR/hosts')dnl
define(\`confCR_FILE', \`-o $SM_DIR/relay-domains')dnl
define(\`ALIAS_FILE', \`')dnl
define(\`HELP_FILE', \`')dnl
define(\`confHOST_STATUS_DIRECTORY', \`')dnl
define(\`confQUEUE_LA', \`999')dnl
define(\`confREFUSE_LA', \`999')dnl
define(\`confTO_IDENT', \`0s')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confMAX_DAEMON_CHILDREN', \`0')dnl
define(\`confCONNECTION_RATE_THROTTLE', \`0')dnl
define(\`confBAD_RCPT_THROTTLE', \`0')dnl
define(\`SMART_HOST', \`esmtp:[127.0.0.1]')dnl
define(\`ESMTP_MAILER_ARGS', \`TCP \$h $3')dnl
FEATURE(\`no_default_msa')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
DAEMON_OPTIONS(\`Port=$1, Addr=127.0.0.1, Family=inet, Name=MTA')dnl
INPUT_MAIL_FILTER(\`vigil', \`S=inet:$2@127.0.0.1, F=T, T=C:10s;S:10s;R:30s;E:2m')dnl
RELAY_DOMAIN(\`example.net')dnl
MAILER(\`smtp')dnl
MC
	SM_CF=$SM_DIR/test.cf
	_cfdir=$SM_ROOT/usr/share/sendmail/cf
	m4 -D_CF_DIR_="$_cfdir/" "$_cfdir/m4/cf.m4" "$SM_DIR/test.mc" \
		>"$SM_CF" 2>"$SM_DIR/m4.log" || { cat "$SM_DIR/m4.log"; return 1; }
}

# The namespace works only with CAP_SYS_ADMIN; try it once.
sm_can_unshare() {
	unshare --mount --uts --propagation private true 2>/dev/null
}

# sm_start: the daemon in the foreground (-bD: no fork, so $! is the
# daemon), in its own session (setsid) so that its per-connection
# children share its process group.
sm_start() {
	SM_SMTP_PORT=$(sed -n 's/^O DaemonPortOptions=Port=\([0-9]*\),.*/\1/p' "$SM_CF")
	if sm_can_unshare; then
		SM_NS=yes
		setsid unshare --mount --uts --propagation private sh -c '
			hostname mx.test.invalid &&
			mount --bind "$1/hosts" /etc/hosts &&
			mount --bind "$1/nsswitch.conf" /etc/nsswitch.conf &&
			exec "$2" -bD -C "$3" -L vigil-test' \
			sh "$SM_DIR" "$SM_BIN" "$SM_CF" >"$SM_DIR/daemon.log" 2>&1 &
	else
		SM_NS=no
		setsid "$SM_BIN" -bD -C "$SM_CF" -L vigil-test \
			>"$SM_DIR/daemon.log" 2>&1 &
	fi
	SM_PID=$!
	stop_hooks="sm_stop $stop_hooks"
	# 60 s host name stall without the namespace: allow 90 s.
	wait_for 450 sm_listening && return 0
	echo "sendmail did not start (namespace: $SM_NS): $(cat "$SM_DIR/daemon.log")"
	return 1
}
sm_listening() {
	kill -0 "$SM_PID" 2>/dev/null && port_open "$SM_SMTP_PORT"
}

# Detached delivery children (setsid, reparented to init) are found by
# their mount namespace (namespace case) or their cwd, the queue dir.
sm_strays() {
	_ns=$(readlink "/proc/$SM_PID/ns/mnt" 2>/dev/null)
	for _p in /proc/[0-9]*; do
		_pid=${_p#/proc/}
		[ "$_pid" = "$SM_PID" ] && continue
		if [ "$SM_NS" = yes ] && [ -n "$_ns" ]; then
			[ "$(readlink "$_p/ns/mnt" 2>/dev/null)" = "$_ns" ] && echo "$_pid"
		elif [ "$(readlink "$_p/cwd" 2>/dev/null)" = "$SM_DIR/queue" ]; then
			echo "$_pid"
		fi
	done
}

sm_stop() {
	[ -n "${SM_PID:-}" ] || return 0
	_strays=$(sm_strays)
	kill -TERM "-$SM_PID" 2>/dev/null
	for _p in $_strays; do kill -TERM "$_p" 2>/dev/null; done
	wait_for 100 sm_gone || kill -KILL "-$SM_PID" 2>/dev/null
	wait "$SM_PID" 2>/dev/null
	SM_PID=""
}
sm_gone() { ! kill -0 "$SM_PID" 2>/dev/null; }

# sm_queue_files PREFIX: qf (queued), hf (quarantined, "held"), df...
sm_queue_files() { find "$SM_DIR/queue" -name "$1*" -type f | wc -l; }
