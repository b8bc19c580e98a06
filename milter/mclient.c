/* mclient.c — see mclient.h */
#include "mclient.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <event2/buffer.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "listen.h"
#include "monotime.h"
#include "proto.h"
#include "scan.h"

/* Everything version 6 defines, as Postfix and Sendmail offer it. */
#define OFFER_ACTIONS ((uint32_t)SMFI_CURR_ACTS)
#define OFFER_PROTOCOL ((uint32_t)SMFI_CURR_PROT)
#define MAX_REPLY ((size_t)64 << 20)     /* a REPLBODY chunk at most */
#define FLUSH_AT ((size_t)256 << 10)     /* unanswered commands queued */

/* Outcome of one step. */
enum step { STEP_NEXT, STEP_SKIP, STEP_DONE, STEP_ERROR };

struct mclient {
	struct listen_addr addr;
	char *spec, *hostname, *daemon_name;
	unsigned timeout_ms;     /* each wait: a packet, a write, a connect */
	unsigned message_ms;     /* a whole message */
	uint64_t wait_until;     /* monotime_ms() the current wait ends at */
	uint64_t message_until;  /* and the current message; 0: none */

	int fd;                  /* -1: not connected */
	struct proto_optneg neg; /* what the filter chose */
	char *macro_req[SMFIM_LAST + 1]; /* macro lists it asked for */
	char *conn_addr, *conn_helo;     /* connection-level data sent */
	bool in_transaction;     /* a MAIL was sent since CONNECT/ABORT */
	const char **accepted;   /* recipients accepted at RCPT (borrowed
	                            from the scan, for mclient_scan()) */
	size_t accepted_n, accepted_cap;

	struct evbuffer *out;
	unsigned char *in;
	size_t in_len, in_cap;

	char *err;               /* where errors go for the current call */
	size_t errlen;
	bool timed_out;          /* the current call waited in vain */
	bool stopped;            /* stop() ended a wait of the current call */
	bool progressed;         /* the filter said PROGRESS in this wait for
	                            a reply: a stop ends it */
	bool answered;           /* a whole packet came in the current call:
	                            the connection was alive */
	int (*stop)(void);       /* mclient_stop_when(), or NULL */
	int stop_fd;             /* readable when stop() says so, or -1 */
	atomic_bool *gone;       /* mclient_opts' gone, or own_gone */
	atomic_bool own_gone;
};

static _Atomic unsigned long queue_counter;

const char *mclient_action_name(enum mclient_action a)
{
	switch (a) {
	case MCLIENT_ACCEPT: return "accept";
	case MCLIENT_CONTINUE: return "continue";
	case MCLIENT_REJECT: return "reject";
	case MCLIENT_TEMPFAIL: return "tempfail";
	case MCLIENT_DISCARD: return "discard";
	case MCLIENT_QUARANTINE: return "quarantine";
	}
	return "?";
}

static void fail(struct mclient *mc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void fail(struct mclient *mc, const char *fmt, ...)
{
	if (mc->err == NULL || mc->errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(mc->err, mc->errlen, fmt, ap);
	va_end(ap);
}

/* A reply code for an error text: "ADDHEADER", or "unknown reply 'Z'
 * (0x5a)" (proto_reply_name() knows no name for it). */
static const char *reply_label(char code, char *buf, size_t len)
{
	const char *name = proto_reply_name(code);
	if (strcmp(name, "an unknown reply") != 0)
		return name;
	unsigned char c = (unsigned char)code;
	if (c > 0x20 && c < 0x7f)
		snprintf(buf, len, "unknown reply '%c' (0x%02x)", c, c);
	else
		snprintf(buf, len, "unknown reply 0x%02x", c);
	return buf;
}

static char *dup_str(const struct proto_str *s)
{
	return strndup(s->ptr ? s->ptr : "", s->len);
}

/* ---- results ---- */

static void free_hdrs(struct mclient_hdr *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void mclient_result_clear(struct mclient_result *r)
{
	free(r->text);
	free_hdrs(r->added, r->added_n);
	free_hdrs(r->changed, r->changed_n);
	free(r->quarantine);
	free_strv(r->rcpt_removed, r->rcpt_removed_n);
	free_strv(r->rcpt_added, r->rcpt_added_n);
	free_strv(r->rcpt_added_args, r->rcpt_added_n);
	free(r->new_from);
	free(r->new_from_args);
	*r = (struct mclient_result){ 0 };
}

static bool has(const struct mclient *mc, uint32_t flag)
{
	return (mc->neg.protocol & flag) != 0;
}

/* leadspc: SMFIP_HDR_LEADSPC was negotiated, so the value carries the
 * space an MTA writes after the colon; it is not part of the value. */
static int push_hdr(struct mclient_hdr **v, size_t *n,
                    const struct proto_reply *rep, uint32_t index,
                    bool leadspc)
{
	struct mclient_hdr *p = realloc(*v, (*n + 1) * sizeof *p);
	if (p == NULL)
		return -1;
	*v = p;
	struct proto_str value = rep->value;
	if (leadspc && value.len > 0 && value.ptr[0] == ' ') {
		value.ptr++;
		value.len--;
	}
	p[*n] = (struct mclient_hdr){ dup_str(&rep->name), dup_str(&value),
	                              index };
	if (p[*n].name == NULL || p[*n].value == NULL) {
		free(p[*n].name);
		free(p[*n].value);
		return -1;
	}
	(*n)++;
	return 0;
}

static int push_str(char ***v, size_t *n, const struct proto_str *s)
{
	char **p = realloc(*v, (*n + 1) * sizeof *p);
	if (p == NULL)
		return -1;
	*v = p;
	if ((p[*n] = dup_str(s)) == NULL)
		return -1;
	(*n)++;
	return 0;
}

/* "550-5.7.1 a\r\n550 5.7.1 b": code "550", text "5.7.1 a\n5.7.1 b". */
static int set_replycode(struct mclient_result *r, const struct proto_str *s)
{
	const char *p = s->ptr;
	size_t n = s->len;
	if (n < 3 || (p[0] != '4' && p[0] != '5') || p[1] < '0' || p[1] > '9' ||
	    p[2] < '0' || p[2] > '9')
		return -1;
	memcpy(r->code, p, 3);
	r->code[3] = '\0';
	char *text = malloc(n + 1);
	if (text == NULL)
		return -1;
	size_t k = 0;
	for (size_t i = 0; i < n;) {
		size_t end = i;
		while (end < n && p[end] != '\r' && p[end] != '\n')
			end++;
		size_t start = i;
		if (end - i >= 3 && memcmp(p + i, r->code, 3) == 0)
			start = i + 3 + (end - i > 3 && (p[i + 3] == ' ' ||
			                                 p[i + 3] == '-'));
		if (k > 0)
			text[k++] = '\n';
		memcpy(text + k, p + start, end - start);
		k += end - start;
		i = end;
		while (i < n && (p[i] == '\r' || p[i] == '\n'))
			i++;
	}
	text[k] = '\0';
	free(r->text);
	r->text = text;
	return 0;
}

/* ---- socket I/O ---- */

/* A wait for the filter starts: it may last the timeout from now (not
 * from the last byte: a filter trickling its reply gains nothing). */
static void start_wait(struct mclient *mc)
{
	mc->wait_until = monotime_ms() + mc->timeout_ms;
}

/* Whether stop() says to wait no more (said once in err). */
static bool stopping(struct mclient *mc, const char *what)
{
	if (mc->stop == NULL || mc->stop() == 0)
		return false;
	if (!mc->stopped)
		fail(mc, "stopped %s", what);
	mc->stopped = true;
	return true;
}

/* Until the socket is ready, within the current wait and message. Once
 * the filter said PROGRESS in this wait, also until stop() says to stop,
 * which comes first: a filter that keeps saying it is busy cannot hold
 * a stopped run. One that answers is waited for (the wait bounded as
 * always), so the messages in flight finish. */
static int wait_fd(struct mclient *mc, short events, const char *what)
{
	struct pollfd p[2] = { { .fd = mc->fd, .events = events },
	                       { .fd = mc->stop_fd, .events = POLLIN } };
	nfds_t n = mc->progressed && mc->stop != NULL && mc->stop_fd >= 0 ? 2
	                                                                   : 1;
	for (;;) {
		if (mc->progressed && stopping(mc, what))
			return -1;
		bool whole = mc->message_until != 0 &&
		             mc->message_until < mc->wait_until;
		uint64_t until = whole ? mc->message_until : mc->wait_until;
		uint64_t now = monotime_ms();
		if (now >= until) {
			if (whole)
				fail(mc, "timeout (%u ms for the whole message) %s",
				     mc->message_ms, what);
			else
				fail(mc, "timeout (%u ms) %s", mc->timeout_ms, what);
			mc->timed_out = true;
			return -1;
		}
		int rc = poll(p, n, (int)(until - now));
		if (rc > 0 && p[0].revents != 0)
			return 0;
		if (rc < 0 && errno != EINTR) {
			fail(mc, "poll: %s", strerror(errno));
			return -1;
		}
	}
}

static int flush(struct mclient *mc)
{
	start_wait(mc);
	while (evbuffer_get_length(mc->out) > 0) {
		/* All queued packets in one write: a small second write would
		 * wait for the ACK of the first (Nagle, delayed ACK). */
		struct evbuffer_iovec v[16];
		int k = evbuffer_peek(mc->out, -1, NULL, v, 16);
		if (k < 1)
			return -1;
		struct iovec iov[16];
		for (int i = 0; i < k && i < 16; i++)
			iov[i] = (struct iovec){ v[i].iov_base, v[i].iov_len };
		struct msghdr mh = { .msg_iov = iov,
		                     .msg_iovlen = (size_t)(k < 16 ? k : 16) };
		ssize_t n = sendmsg(mc->fd, &mh, MSG_NOSIGNAL);
		if (n > 0) {
			evbuffer_drain(mc->out, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(mc, POLLOUT, "writing to the filter") != 0)
				return -1;
			continue;
		}
		fail(mc, "write to the filter: %s", n < 0 ? strerror(errno)
		                                          : "nothing written");
		return -1;
	}
	return 0;
}

static void consume(struct mclient *mc, size_t used)
{
	memmove(mc->in, mc->in + used, mc->in_len - used);
	mc->in_len -= used;
}

/* The next packet from the filter into *pkt (valid until consume()):
 * returns the number of bytes to consume, or 0 on error. The whole
 * packet must come within the timeout. */
static size_t read_packet(struct mclient *mc, struct proto_pkt *pkt)
{
	if (flush(mc) != 0)
		return 0;
	start_wait(mc);
	for (;;) {
		size_t used;
		enum proto_status st = proto_split(mc->in, mc->in_len, MAX_REPLY,
		                                   pkt, &used);
		if (st == PROTO_OK) {
			mc->answered = true;
			return used;
		}
		if (st != PROTO_NEED_MORE) {
			fail(mc, "malformed packet from the filter (%s)",
			     st == PROTO_TOO_BIG ? "too big" : "bad length");
			return 0;
		}
		if (mc->in_cap - mc->in_len < 4096) {
			size_t cap = mc->in_cap ? mc->in_cap * 2 : 16384;
			unsigned char *p = realloc(mc->in, cap);
			if (p == NULL) {
				fail(mc, "out of memory");
				return 0;
			}
			mc->in = p;
			mc->in_cap = cap;
		}
		ssize_t n = recv(mc->fd, mc->in + mc->in_len, mc->in_cap - mc->in_len,
		                 0);
		if (n > 0) {
			mc->in_len += (size_t)n;
		} else if (n == 0) {
			fail(mc, "the filter closed the connection");
			return 0;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (wait_fd(mc, POLLIN, "waiting for the filter") != 0)
				return 0;
		} else if (errno != EINTR) {
			fail(mc, "read from the filter: %s", strerror(errno));
			return 0;
		}
	}
}

static void drop(struct mclient *mc, bool quit)
{
	if (mc->fd < 0)
		return;
	if (quit) {
		char *err = mc->err;
		bool timed_out = mc->timed_out;
		mc->err = NULL;       /* a failed QUIT changes nothing */
		evbuffer_drain(mc->out, evbuffer_get_length(mc->out));
		/* a message cut short: the filter may forget it */
		if ((!mc->stopped || !mc->in_transaction ||
		     proto_enc_cmd_simple(mc->out, SMFIC_ABORT) == 0) &&
		    proto_enc_cmd_simple(mc->out, SMFIC_QUIT) == 0)
			flush(mc);
		mc->err = err;
		mc->timed_out = timed_out;
	}
	close(mc->fd);
	mc->fd = -1;
	evbuffer_drain(mc->out, evbuffer_get_length(mc->out));
	mc->in_len = 0;
	for (int i = 0; i <= SMFIM_LAST; i++) {
		free(mc->macro_req[i]);
		mc->macro_req[i] = NULL;
	}
	free(mc->conn_addr);
	free(mc->conn_helo);
	mc->conn_addr = mc->conn_helo = NULL;
	mc->neg = (struct proto_optneg){ 0 };
	mc->in_transaction = false;
}

/* One connection attempt on a new socket (mc->fd). 0, or -1 with errno
 * (the socket closed). */
static int connect_once(struct mclient *mc)
{
	int fd = socket(mc->addr.family, SOCK_STREAM | SOCK_NONBLOCK |
	                SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	mc->fd = fd;
	int one = 1;
	if (mc->addr.family != AF_UNIX)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (const struct sockaddr *)&mc->addr.ss, mc->addr.len) != 0) {
		if (errno != EINPROGRESS && errno != EINTR)
			goto error;
		start_wait(mc);
		if (wait_fd(mc, POLLOUT, "connecting") != 0) {
			errno = ETIMEDOUT;
			goto error;
		}
		int soerr = 0;
		socklen_t len = sizeof soerr;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 ||
		    soerr != 0) {
			errno = soerr ? soerr : errno;
			goto error;
		}
	}
	return 0;
error:;
	int e = errno;
	close(fd);
	mc->fd = -1;
	errno = e;
	return -1;
}

/* A pause of ms between connection attempts, cut short by stop() (the
 * filter is not there to finish anything). 0, or -1 when stopped. */
static int pause_unless_stopped(struct mclient *mc, unsigned ms)
{
	struct pollfd p = { .fd = mc->stop_fd, .events = POLLIN };
	bool watch = mc->stop != NULL && mc->stop_fd >= 0;
	poll(watch ? &p : NULL, watch ? 1 : 0, (int)ms);
	return stopping(mc, "connecting") ? -1 : 0;
}

/* A connect error that says nobody listens there (no unix socket, or
 * refused), as opposed to a busy filter (its backlog full: EAGAIN). */
static bool nobody_there(int e)
{
	return e == ECONNREFUSED || e == ENOENT;
}

/* Connect; with retry, again while the filter is not there (refused, no
 * unix socket, its backlog full: a restart during a run) 20 ms later,
 * then twice as long each time, within the timeout in all. Once nobody
 * was there for a whole timeout (*mc->gone, shared by a run's clients),
 * a refused connect is not tried again until one succeeds: a filter
 * that died costs one timeout, not one per message. */
static int connect_socket(struct mclient *mc, bool retry)
{
	unsigned waited = 0, pause = 20;
	while (connect_once(mc) != 0) {
		int e = errno;
		if (mc->timed_out || mc->stopped)
			return -1;   /* said by wait_fd() */
		if (retry && nobody_there(e) && atomic_load(mc->gone)) {
			fail(mc, "connect to %s: %s (not retried: nobody there for a "
			     "whole timeout before)", mc->spec, strerror(e));
			return -1;
		}
		if (!retry || (!nobody_there(e) && e != EAGAIN) ||
		    waited + pause > mc->timeout_ms) {
			if (retry && nobody_there(e))
				atomic_store(mc->gone, true);
			fail(mc, "connect to %s: %s", mc->spec, strerror(e));
			return -1;
		}
		if (pause_unless_stopped(mc, pause) != 0)
			return -1;
		waited += pause;
		pause = pause < 1000 ? pause * 2 : 1000;
	}
	atomic_store(mc->gone, false);
	return 0;
}

/* ---- negotiation ---- */

static int negotiate(struct mclient *mc)
{
	struct proto_optneg offer = { PROTO_VERSION, OFFER_ACTIONS,
	                              OFFER_PROTOCOL };
	if (proto_enc_cmd_optneg(mc->out, &offer) != 0)
		return -1;
	struct proto_pkt pkt;
	size_t used = read_packet(mc, &pkt);
	if (used == 0)
		return -1;
	struct proto_reply rep;
	int rc = -1;
	char label[40];
	if (pkt.cmd != SMFIC_OPTNEG) {
		fail(mc, "negotiation: the filter answered %s",
		     reply_label(pkt.cmd, label, sizeof label));
	} else if (proto_dec_reply(&pkt, &rep) != PROTO_OK) {
		fail(mc, "negotiation: a malformed OPTNEG reply (%zu bytes)",
		     pkt.len);
	} else if (rep.neg.version < 2 || rep.neg.version > PROTO_VERSION) {
		fail(mc, "negotiation: the filter wants version %u",
		     (unsigned)rep.neg.version);
	} else if ((rep.neg.actions & ~OFFER_ACTIONS) ||
	           (rep.neg.protocol & ~OFFER_PROTOCOL)) {
		fail(mc, "negotiation: the filter chose what was not offered "
		     "(actions 0x%x, protocol 0x%x)", (unsigned)rep.neg.actions,
		     (unsigned)rep.neg.protocol);
	} else {
		mc->neg = rep.neg;
		uint32_t stage;
		struct proto_str list;
		rc = 0;
		while (rc == 0 && proto_optneg_macros_next(&rep, &stage, &list)) {
			if (stage > SMFIM_LAST)
				continue;
			free(mc->macro_req[stage]);
			mc->macro_req[stage] = dup_str(&list);
			if (mc->macro_req[stage] == NULL)
				rc = -1;
		}
	}
	consume(mc, used);
	return rc;
}

/* ---- macros ---- */

/* The values this MTA knows for one message. */
struct macros {
	const char *v, *j, *daemon_name, *client_addr, *client_name, *client_port,
	           *underscore, *queue_id, *mail_addr, *rcpt_addr;
	const char *envfrom_guessed;   /* PROTO_MACRO_ENVFROM_GUESSED */
	const char *client_guessed;    /* PROTO_MACRO_CLIENT_GUESSED */
	const char *auth_authen;       /* SMTP AUTH user, or NULL */
};

static const char *macro_value(const struct macros *m, const char *name,
                               size_t len)
{
	if (len >= 2 && name[0] == '{' && name[len - 1] == '}') {
		name++;
		len -= 2;
	}
	static const struct { const char *name; size_t off; } table[] = {
		{ "v", offsetof(struct macros, v) },
		{ "j", offsetof(struct macros, j) },
		{ "daemon_name", offsetof(struct macros, daemon_name) },
		{ "client_addr", offsetof(struct macros, client_addr) },
		{ "client_name", offsetof(struct macros, client_name) },
		{ "client_port", offsetof(struct macros, client_port) },
		{ "_", offsetof(struct macros, underscore) },
		{ "i", offsetof(struct macros, queue_id) },
		{ "mail_addr", offsetof(struct macros, mail_addr) },
		{ "rcpt_addr", offsetof(struct macros, rcpt_addr) },
		{ "vigil_envfrom_guessed", offsetof(struct macros, envfrom_guessed) },
		{ "vigil_client_guessed", offsetof(struct macros, client_guessed) },
		{ "auth_authen", offsetof(struct macros, auth_authen) },
	};
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		if (strlen(table[i].name) != len || memcmp(table[i].name, name, len))
			continue;
		return *(const char *const *)((const char *)m + table[i].off);
	}
	return NULL;
}

/* Send the macros of a stage: those the filter asked for, or the
 * defaults an MTA sends. */
static int send_macros(struct mclient *mc, char cmd, int stage,
                       const struct macros *m)
{
	static const char *const defaults[SMFIM_LAST + 1] = {
		[SMFIM_CONNECT] = "j {daemon_name} v _ {client_addr} {client_name} "
		                  "{client_port}",
		[SMFIM_ENVFROM] = "i {auth_authen} {mail_addr}",
		[SMFIM_ENVRCPT] = "i {rcpt_addr}",
		[SMFIM_DATA] = "i",
		[SMFIM_EOH] = "i",
		[SMFIM_EOM] = "i",
	};
	const char *list = mc->neg.version >= 6 && mc->macro_req[stage]
	                   ? mc->macro_req[stage] : defaults[stage];
	if (list == NULL)
		return 0;
	const char *names[32], *values[32];
	char namebuf[32][64];
	size_t n = 0;
	for (const char *p = list; *p && n < 32;) {
		size_t len = strcspn(p, " ,\t");
		const char *v = len ? macro_value(m, p, len) : NULL;
		if (v != NULL && len < sizeof namebuf[0]) {
			memcpy(namebuf[n], p, len);
			namebuf[n][len] = '\0';
			names[n] = namebuf[n];
			values[n] = v;
			n++;
		}
		p += len;
		p += *p != '\0';
	}
	if (n == 0)
		return 0;
	return proto_enc_cmd_macro(mc->out, cmd, n, names, values);
}

/* ---- steps ---- */

static enum step decided(struct mclient_result *r, char cmd,
                         enum mclient_action a)
{
	r->action = a;
	r->stage = cmd;
	return STEP_DONE;
}

/* An address and its ESMTP arguments as an MTA takes them: the address
 * not empty (libmilter refuses to send one), neither longer than any
 * SMTP command line. 0, or -1 with err. */
static int check_envelope_change(struct mclient *mc,
                                 const struct proto_reply *rep)
{
	const char *what = rep->text.len == 0 ? "an empty address"
	                 : rep->text.len > MCLIENT_ENVELOPE_MAX ? "address"
	                 : rep->args.len > MCLIENT_ENVELOPE_MAX ? "ESMTP arguments"
	                 : NULL;
	if (what == NULL)
		return 0;
	if (rep->text.len == 0)
		fail(mc, "malformed %s reply to EOB: %s",
		     proto_reply_name(rep->cmd), what);
	else
		fail(mc, "malformed %s reply to EOB: %s of %zu bytes "
		     "(at most %d)", proto_reply_name(rep->cmd), what,
		     rep->text.len > MCLIENT_ENVELOPE_MAX ? rep->text.len
		                                          : rep->args.len,
		     MCLIENT_ENVELOPE_MAX);
	return -1;
}

/* s, or NULL when empty (no ESMTP arguments); *oom when out of memory. */
static char *dup_args(const struct proto_str *s, bool *oom)
{
	if (s->len == 0)
		return NULL;
	char *p = dup_str(s);
	*oom = p == NULL;
	return p;
}

/* ADDRCPT or ADDRCPT_PAR: the address and its arguments. 0 or -1. */
static int push_rcpt(struct mclient_result *r, const struct proto_reply *rep)
{
	char **args = realloc(r->rcpt_added_args,
	                      (r->rcpt_added_n + 1) * sizeof *args);
	if (args == NULL)
		return -1;
	r->rcpt_added_args = args;
	bool oom = false;
	args[r->rcpt_added_n] = dup_args(&rep->args, &oom);
	if (oom || push_str(&r->rcpt_added, &r->rcpt_added_n, &rep->text) != 0) {
		free(args[r->rcpt_added_n]);
		return -1;
	}
	return 0;
}

/* CHGFROM: the last one counts. 0 or -1. */
static int set_from(struct mclient_result *r, const struct proto_reply *rep)
{
	free(r->new_from);
	free(r->new_from_args);
	bool oom = false;
	r->new_from_args = dup_args(&rep->args, &oom);
	r->new_from = dup_str(&rep->text);
	return r->new_from == NULL || oom ? -1 : 0;
}

/* A modification action kept in *r: 0, 1 when rep is none, -1 when out
 * of memory. */
static int keep_modification(const struct mclient *mc,
                             const struct proto_reply *rep,
                             struct mclient_result *r)
{
	bool leadspc = has(mc, SMFIP_HDR_LEADSPC);
	switch (rep->cmd) {
	case SMFIR_ADDHEADER:
		return push_hdr(&r->added, &r->added_n, rep, UINT32_MAX,
		                leadspc);
	case SMFIR_INSHEADER:
		return push_hdr(&r->added, &r->added_n, rep, rep->index,
		                leadspc);
	case SMFIR_CHGHEADER:
		return push_hdr(&r->changed, &r->changed_n, rep, rep->index,
		                leadspc);
	case SMFIR_QUARANTINE:
		free(r->quarantine);
		return (r->quarantine = dup_str(&rep->text)) ? 0 : -1;
	case SMFIR_DELRCPT:
		return push_str(&r->rcpt_removed, &r->rcpt_removed_n, &rep->text);
	case SMFIR_ADDRCPT:
	case SMFIR_ADDRCPT_PAR:
		return push_rcpt(r, rep);
	case SMFIR_CHGFROM:
		return set_from(r, rep);
	case SMFIR_REPLBODY:
		r->body_replaced = true;
		return 0;
	}
	return 1;   /* not a modification */
}

/* A modification action (end of message only): 0, 1 when rep is none,
 * -1 (err set). */
static int modification(struct mclient *mc, const struct proto_reply *rep,
                        struct mclient_result *r)
{
	bool envelope = rep->cmd == SMFIR_DELRCPT || rep->cmd == SMFIR_ADDRCPT ||
	                rep->cmd == SMFIR_ADDRCPT_PAR || rep->cmd == SMFIR_CHGFROM;
	if (envelope && check_envelope_change(mc, rep) != 0)
		return -1;
	int rc = keep_modification(mc, rep, r);
	if (rc < 0)
		fail(mc, "out of memory");
	return rc;
}

/* Wait for the answer to cmd. */
static enum step await(struct mclient *mc, char cmd, struct mclient_result *r)
{
	mc->progressed = false;
	for (;;) {
		struct proto_pkt pkt;
		size_t used = read_packet(mc, &pkt);
		if (used == 0)
			return STEP_ERROR;
		struct proto_reply rep;
		enum step st = STEP_ERROR;
		int mod = 1;
		char label[40];
		const char *name = reply_label(pkt.cmd, label, sizeof label);
		if (name == label) {
			fail(mc, "%s to %s", label, proto_cmd_name(cmd));
			goto out;
		}
		if (proto_dec_reply(&pkt, &rep) != PROTO_OK) {
			fail(mc, "malformed %s reply to %s", name, proto_cmd_name(cmd));
			goto out;
		}
		if (cmd == SMFIC_BODYEOB && (mod = modification(mc, &rep, r)) <= 0) {
			consume(mc, used);
			if (mod < 0)
				return STEP_ERROR;
			continue;
		}
		switch (rep.cmd) {
		case SMFIR_PROGRESS:
			/* however fast they come, a stop ends the wait */
			mc->progressed = true;
			if (stopping(mc, "waiting for the filter"))
				break;
			consume(mc, used);
			continue;
		case SMFIR_CONTINUE:
			st = cmd == SMFIC_BODYEOB ? decided(r, cmd, MCLIENT_CONTINUE)
			                          : STEP_NEXT;
			break;
		case SMFIR_SKIP:
			if (cmd == SMFIC_BODY)
				st = STEP_SKIP;
			else
				fail(mc, "SKIP in reply to %s", proto_cmd_name(cmd));
			break;
		case SMFIR_ACCEPT:
			st = decided(r, cmd, MCLIENT_ACCEPT);
			break;
		case SMFIR_REJECT:
			st = decided(r, cmd, MCLIENT_REJECT);
			break;
		case SMFIR_TEMPFAIL:
		case SMFIR_CONN_FAIL:
		case SMFIR_SHUTDOWN:
			st = decided(r, cmd, MCLIENT_TEMPFAIL);
			break;
		case SMFIR_DISCARD:
			st = decided(r, cmd, MCLIENT_DISCARD);
			break;
		case SMFIR_REPLYCODE:
			if (set_replycode(r, &rep.text) != 0) {
				fail(mc, "bad reply code from the filter: %.*s",
				     (int)(rep.text.len > 80 ? 80 : rep.text.len),
				     rep.text.ptr);
				break;
			}
			st = decided(r, cmd, r->code[0] == '5' ? MCLIENT_REJECT
			                                       : MCLIENT_TEMPFAIL);
			break;
		default:
			fail(mc, "unexpected %s in reply to %s", name,
			     proto_cmd_name(cmd));
			break;
		}
out:
		consume(mc, used);
		return st;
	}
}

/* Queue a command; wait for its answer unless the filter said it sends
 * none (nr). */
static enum step step(struct mclient *mc, char cmd, bool nr,
                      struct mclient_result *r)
{
	if (!nr)
		return await(mc, cmd, r);
	if (evbuffer_get_length(mc->out) >= FLUSH_AT && flush(mc) != 0)
		return STEP_ERROR;
	return STEP_NEXT;
}

/* A step queued by an encoder: -1 from it is an encoding error. */
static enum step enc_step(struct mclient *mc, int enc_rc, char cmd, bool nr,
                          struct mclient_result *r)
{
	if (enc_rc != 0) {
		fail(mc, "cannot encode %s", proto_cmd_name(cmd));
		return STEP_ERROR;
	}
	return step(mc, cmd, nr, r);
}

/* ---- connection and message ---- */

static bool same(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* CONNECT and HELO on a new connection. */
static enum step greet(struct mclient *mc, const struct macros *m,
                       const char *helo, struct mclient_result *r)
{
	mc->conn_addr = strdup(m->client_addr);
	mc->conn_helo = strdup(helo);
	if (mc->conn_addr == NULL || mc->conn_helo == NULL) {
		fail(mc, "out of memory");
		return STEP_ERROR;
	}
	enum step st = STEP_NEXT;
	if (!has(mc, SMFIP_NOCONNECT)) {
		unsigned char a[16];
		char family = SMFIA_UNKNOWN;
		if (inet_pton(AF_INET, m->client_addr, a) == 1)
			family = SMFIA_INET;
		else if (inet_pton(AF_INET6, m->client_addr, a) == 1)
			family = SMFIA_INET6;
		if (send_macros(mc, SMFIC_CONNECT, SMFIM_CONNECT, m) != 0)
			return STEP_ERROR;
		st = enc_step(mc, proto_enc_cmd_connect(mc->out, m->client_name,
		                                        family,
		                                        (uint16_t)atoi(m->client_port),
		                                        m->client_addr),
		              SMFIC_CONNECT, has(mc, SMFIP_NR_CONN), r);
	}
	if (st == STEP_NEXT && helo[0] != '\0' && !has(mc, SMFIP_NOHELO)) {
		if (send_macros(mc, SMFIC_HELO, SMFIM_HELO, m) != 0)
			return STEP_ERROR;
		st = enc_step(mc, proto_enc_cmd_helo(mc->out, helo), SMFIC_HELO,
		              has(mc, SMFIP_NR_HELO), r);
	}
	return st;
}

/* "<addr>" */
static char *bracket(const char *addr)
{
	char *s = NULL;
	return asprintf(&s, "<%s>", addr) < 0 ? NULL : s;
}

/* A recipient the filter accepted (for rcpts_all_removed). 0 or -1. */
static int keep_accepted(struct mclient *mc, const char *rcpt)
{
	if (mc->accepted_n == mc->accepted_cap) {
		size_t cap = mc->accepted_cap ? 2 * mc->accepted_cap : 8;
		const char **p = realloc(mc->accepted, cap * sizeof *p);
		if (p == NULL) {
			fail(mc, "out of memory");
			return -1;
		}
		mc->accepted = p;
		mc->accepted_cap = cap;
	}
	mc->accepted[mc->accepted_n++] = rcpt;
	return 0;
}

/* addr without one pair of angle brackets: *len bytes from the result. */
static const char *bare(const char *addr, size_t *len)
{
	size_t n = strlen(addr);
	if (n >= 2 && addr[0] == '<' && addr[n - 1] == '>') {
		*len = n - 2;
		return addr + 1;
	}
	*len = n;
	return addr;
}

/* Whether DELRCPT named every recipient accepted at RCPT. */
static bool all_removed(const struct mclient *mc,
                        const struct mclient_result *r)
{
	if (mc->accepted_n == 0)
		return false;
	for (size_t i = 0; i < mc->accepted_n; i++) {
		size_t alen, dlen;
		const char *a = bare(mc->accepted[i], &alen);
		bool found = false;
		for (size_t k = 0; k < r->rcpt_removed_n && !found; k++) {
			const char *d = bare(r->rcpt_removed[k], &dlen);
			found = dlen == alen && strncasecmp(a, d, alen) == 0;
		}
		if (!found)
			return false;
	}
	return true;
}

static enum step envelope(struct mclient *mc, struct macros *m,
                          const struct scan_env *env,
                          struct mclient_result *r)
{
	enum step st = STEP_NEXT;
	m->mail_addr = env->mail_from;
	m->envfrom_guessed = env->mail_from_guessed ? "1" : NULL;
	m->client_guessed = env->client_guessed ? "1" : NULL;
	m->auth_authen = env->auth_authen[0] ? env->auth_authen : NULL;
	char *from = bracket(env->mail_from);
	if (from == NULL)
		return STEP_ERROR;
	if (!has(mc, SMFIP_NOMAIL)) {
		const char *args[1] = { from };
		if (send_macros(mc, SMFIC_MAIL, SMFIM_ENVFROM, m) != 0)
			st = STEP_ERROR;
		else
			st = enc_step(mc, proto_enc_cmd_envelope(mc->out, SMFIC_MAIL, 1,
			                                         args),
			              SMFIC_MAIL, has(mc, SMFIP_NR_MAIL), r);
	}
	free(from);
	static const char *const fallback[1] = { "postmaster@localhost" };
	const char *const *rcpts = env->rcpt_count ? env->rcpts : fallback;
	size_t n = env->rcpt_count ? env->rcpt_count : 1, accepted = 0;
	struct mclient_result refusal = { 0 };
	for (size_t i = 0; i < n && st == STEP_NEXT; i++) {
		if (has(mc, SMFIP_NORCPT)) {
			for (; i < n && st == STEP_NEXT; i++)
				if (keep_accepted(mc, rcpts[i]) != 0)
					st = STEP_ERROR;
			accepted = n;
			break;
		}
		m->rcpt_addr = rcpts[i];
		char *to = bracket(rcpts[i]);
		if (to == NULL || send_macros(mc, SMFIC_RCPT, SMFIM_ENVRCPT, m)) {
			free(to);
			st = STEP_ERROR;
			break;
		}
		const char *args[1] = { to };
		mclient_result_clear(&refusal);
		st = enc_step(mc, proto_enc_cmd_envelope(mc->out, SMFIC_RCPT, 1, args),
		              SMFIC_RCPT, has(mc, SMFIP_NR_RCPT), &refusal);
		free(to);
		if (st == STEP_NEXT) {
			accepted++;
			if (keep_accepted(mc, rcpts[i]) != 0)
				st = STEP_ERROR;
		} else if (st == STEP_DONE && (refusal.action == MCLIENT_REJECT ||
		                               refusal.action == MCLIENT_TEMPFAIL)) {
			r->rcpt_rejected++;   /* this recipient only */
			st = STEP_NEXT;
		} else if (st == STEP_DONE) {
			/* ACCEPT or DISCARD at RCPT: for the whole message */
			r->action = refusal.action;
			r->stage = SMFIC_RCPT;
		}
	}
	if (st == STEP_NEXT && accepted == 0) {
		/* Every recipient refused: the message goes no further. */
		mclient_result_clear(r);
		*r = refusal;
		r->rcpt_rejected = n;
		return STEP_DONE;
	}
	mclient_result_clear(&refusal);
	return st;
}

/* ---- the header section as an MTA takes it ---- */

/* What of a header field Postfix passes on, "Name:" and the value
 * (folding as LF) together: measured with Postfix 3.7 and a milter, a
 * longer field reaches the milter (and the queue) cut there. It keeps
 * the HEADER packet below libmilter's 65535 bytes, past which libmilter
 * filters drop the connection. */
#define FIELD_MAX 60000

/* The length of the line at p (its LF included, if any). */
static size_t line_len(const char *p, size_t n)
{
	const char *lf = memchr(p, '\n', n);
	return lf ? (size_t)(lf - p) + 1 : n;
}

/* Postfix's test for a header field (is_header()): a name of printable
 * ASCII other than ':', blanks allowed before the ':'. The name's
 * length, or 0 when the line is no field; *colon: where the ':' is. */
static size_t field_name(const char *p, size_t n, size_t *colon)
{
	size_t i = 0;
	while (i < n && (unsigned char)p[i] > ' ' && (unsigned char)p[i] < 0x7f &&
	       p[i] != ':')
		i++;
	size_t name = i;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (name == 0 || i == n || p[i] != ':')
		return 0;
	*colon = i;
	return name;
}

struct field {
	const char *name, *value;   /* value: after the ':', CRLF folding */
	size_t name_len, value_len;
};

/* The field at head[*off] with its continuation lines, *off moved past
 * them; false at a line that is not a field's (Postfix ends the header
 * section there: an empty line, or a line such as ": value" or
 * "no colon", which then starts the body). */
static bool next_field(const char *head, size_t head_len, size_t *off,
                       struct field *f)
{
	const char *p = head + *off;
	size_t n = head_len - *off, colon;
	size_t end = line_len(p, n);
	f->name_len = field_name(p, end, &colon);
	if (f->name_len == 0)
		return false;
	while (end < n && (p[end] == ' ' || p[end] == '\t'))
		end += line_len(p + end, n - end);
	f->name = p;
	f->value = p + colon + 1;
	f->value_len = end - colon - 1;
	if (f->value_len > 0 && f->value[f->value_len - 1] == '\n')
		f->value_len--;
	if (f->value_len > 0 && f->value[f->value_len - 1] == '\r')
		f->value_len--;
	*off += end;
	return true;
}

/* A header value as the filter wants it: CRLF folding becomes LF (what
 * MTAs send), at most max bytes of it (FIELD_MAX); the leading space
 * only with SMFIP_HDR_LEADSPC. */
static char *header_value(const struct mclient *mc, const char *v, size_t len,
                          size_t max)
{
	char *out = malloc((len < max ? len : max) + 1);
	if (out == NULL)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < len && k < max; i++)
		if (!(v[i] == '\r' && i + 1 < len && v[i + 1] == '\n'))
			out[k++] = v[i];
	size_t skip = 0;
	if (!has(mc, SMFIP_HDR_LEADSPC))
		while (skip < k && (out[skip] == ' ' || out[skip] == '\t'))
			skip++;
	memmove(out, out + skip, k - skip);
	out[k - skip] = '\0';
	return out;
}

/* The header fields at the start of the message msg[0..len)
 * (CRLF lines) as Postfix passes them on, each cut to FIELD_MAX;
 * *body_off: where the body starts for it (after the empty line, or at
 * the line that ended the section). Postfix's end of the section, not
 * the scan's (SpamAssassin's): the walk may go past the latter. */
static enum step send_headers(struct mclient *mc, const char *msg,
                              size_t len, size_t *body_off,
                              struct mclient_result *r)
{
	enum step st = STEP_NEXT;
	size_t off = 0;
	struct field f;
	while (st == STEP_NEXT && next_field(msg, len, &off, &f)) {
		if (has(mc, SMFIP_NOHDRS))
			continue;
		size_t nlen = f.name_len < FIELD_MAX - 1 ? f.name_len
		                                          : FIELD_MAX - 2;
		char *n = strndup(f.name, nlen);
		char *v = header_value(mc, f.value, f.value_len,
		                       FIELD_MAX - nlen - 1);
		st = n && v ? enc_step(mc, proto_enc_cmd_header(mc->out, n, v),
		                       SMFIC_HEADER, has(mc, SMFIP_NOHREPL), r)
		            : STEP_ERROR;
		free(n);
		free(v);
	}
	/* the empty line that ends the section is not the body's */
	if (off < len && msg[off] == '\n')
		off++;
	else if (len - off >= 2 && msg[off] == '\r' && msg[off + 1] == '\n')
		off += 2;
	*body_off = off;
	return st;
}

static enum step content(struct mclient *mc, const struct macros *m,
                         struct scan *scan, struct mclient_result *r)
{
	enum step st = STEP_NEXT;
	if (mc->neg.version >= 4 && !has(mc, SMFIP_NODATA)) {
		if (send_macros(mc, SMFIC_DATA, SMFIM_DATA, m) != 0)
			return STEP_ERROR;
		st = enc_step(mc, proto_enc_cmd_simple(mc->out, SMFIC_DATA),
		              SMFIC_DATA, has(mc, SMFIP_NR_DATA), r);
	}
	/* the message as read, header section in front of the body */
	size_t len, body_off = 0;
	const char *raw = scan_raw(scan, &len);
	if (raw == NULL) {
		fail(mc, "out of memory");
		return STEP_ERROR;
	}
	if (st == STEP_NEXT)
		st = send_headers(mc, raw, len, &body_off, r);
	if (st == STEP_NEXT && !has(mc, SMFIP_NOEOH)) {
		if (send_macros(mc, SMFIC_EOH, SMFIM_EOH, m) != 0)
			return STEP_ERROR;
		st = enc_step(mc, proto_enc_cmd_simple(mc->out, SMFIC_EOH),
		              SMFIC_EOH, has(mc, SMFIP_NR_EOH), r);
	}
	const char *body = raw + body_off;
	len -= body_off;
	for (size_t off = 0; st == STEP_NEXT && !has(mc, SMFIP_NOBODY) &&
	     off < len; off += PROTO_BODY_CHUNK) {
		size_t n = len - off < PROTO_BODY_CHUNK ? len - off : PROTO_BODY_CHUNK;
		st = enc_step(mc, proto_enc_cmd_body(mc->out, SMFIC_BODY, body + off,
		                                     n),
		              SMFIC_BODY, has(mc, SMFIP_NR_BODY), r);
	}
	if (st == STEP_SKIP)
		st = STEP_NEXT;
	if (st != STEP_NEXT)
		return st;
	if (send_macros(mc, SMFIC_BODYEOB, SMFIM_EOM, m) != 0)
		return STEP_ERROR;
	st = enc_step(mc, proto_enc_cmd_body(mc->out, SMFIC_BODYEOB, "", 0),
	              SMFIC_BODYEOB, false, r);
	if (st == STEP_DONE && r->quarantine != NULL &&
	    (r->action == MCLIENT_ACCEPT || r->action == MCLIENT_CONTINUE))
		r->action = MCLIENT_QUARANTINE;
	if (st == STEP_DONE)
		r->rcpts_all_removed = all_removed(mc, r);
	return st;
}

static void own_name(char *out, size_t len)
{
	if (gethostname(out, len) != 0 || out[0] == '\0')
		snprintf(out, len, "localhost");
	out[len - 1] = '\0';
}

/* One message: STEP_DONE with *r filled, or STEP_ERROR (connection
 * dropped). */
static enum step play(struct mclient *mc, struct macros *m, const char *helo,
                      struct scan *scan, struct mclient_result *r)
{
	enum step st = STEP_NEXT;
	if (mc->fd >= 0 && mc->conn_addr != NULL &&
	    !(same(mc->conn_addr, m->client_addr) && same(mc->conn_helo, helo)))
		drop(mc, true);
	if (mc->fd < 0 && (connect_socket(mc, true) != 0 || negotiate(mc) != 0))
		st = STEP_ERROR;
	else if (mc->conn_addr == NULL)
		st = greet(mc, m, helo, r);
	else if (mc->in_transaction &&
	         proto_enc_cmd_simple(mc->out, SMFIC_ABORT) != 0)
		st = STEP_ERROR;
	if (st == STEP_DONE) {
		drop(mc, true);   /* the filter is done with this connection */
		return st;
	}
	mc->in_transaction = true;
	mc->accepted_n = 0;
	if (st == STEP_NEXT)
		st = envelope(mc, m, scan_env(scan), r);
	if (st == STEP_NEXT)
		st = content(mc, m, scan, r);
	if (st != STEP_DONE) {
		if (st != STEP_ERROR)
			fail(mc, "the filter gave no verdict");
		drop(mc, mc->stopped);   /* stopped: ABORT and QUIT */
		return STEP_ERROR;
	}
	return st;
}

int mclient_scan(struct mclient *mc, struct scan *scan,
                 struct mclient_result *r, char *err, size_t errlen)
{
	*r = (struct mclient_result){ 0 };
	mc->err = err;
	mc->errlen = errlen;
	mc->timed_out = mc->stopped = mc->answered = false;
	if (err && errlen)
		err[0] = '\0';
	/* PROGRESS replies and packets in pieces restart each wait; this
	 * bounds them all */
	mc->message_until = monotime_ms() + mc->message_ms;
	const struct scan_env *env = scan_env(scan);
	char qid[32], name[300], port[8] = "0", underscore[400];
	snprintf(qid, sizeof qid, "VS%05X%07lX", (unsigned)getpid() & 0xfffff,
	         atomic_fetch_add(&queue_counter, 1) & 0xfffffff);
	const char *addr = env->client_addr ? env->client_addr : "";
	snprintf(name, sizeof name, "%s", env->client_host && env->client_host[0]
	         ? env->client_host : addr[0] ? "" : "localhost");
	if (name[0] == '\0')
		snprintf(name, sizeof name, "[%s]", addr);
	if (env->client_port)
		snprintf(port, sizeof port, "%u", (unsigned)env->client_port);
	snprintf(underscore, sizeof underscore, "%s [%s]", name, addr);
	struct macros m = { "vigil scan", mc->hostname, mc->daemon_name, addr,
	                    name, port, underscore, qid, "", "", NULL, NULL, NULL };
	const char *helo = env->helo ? env->helo : "";

	bool reused = mc->fd >= 0 && (mc->conn_addr == NULL ||
	                              (same(mc->conn_addr, addr) &&
	                               same(mc->conn_helo, helo)));
	enum step st = play(mc, &m, helo, scan, r);
	if (st == STEP_ERROR && reused && !mc->answered && !mc->timed_out &&
	    !mc->stopped) {
		/* The filter may have closed the connection while it was idle:
		 * once more on a new one (not after a timeout, nor after the
		 * filter answered: it is there, slow or broken, and would get
		 * the message twice, its error lost). */
		mclient_result_clear(r);
		st = play(mc, &m, helo, scan, r);
	}
	mc->err = NULL;
	mc->message_until = 0;
	return st == STEP_DONE ? 0 : mc->stopped ? MCLIENT_STOPPED : -1;
}

void mclient_stop_when(struct mclient *mc, int (*stop)(void), int fd)
{
	mc->stop = stop;
	mc->stop_fd = fd;
}

/* ---- lifetime ---- */

/* spec, or for unix:PATH and local:PATH with a relative PATH (libmilter
 * and Postfix take one) the same with PATH resolved against the current
 * directory: malloc'ed, NULL with err. */
static char *resolve_spec(const char *spec, char *err, size_t errlen)
{
	size_t prefix = strncmp(spec, "unix:", 5) == 0 ? 5
	              : strncmp(spec, "local:", 6) == 0 ? 6 : 0;
	if (prefix == 0 || spec[prefix] == '/' || spec[prefix] == '\0') {
		char *copy = strdup(spec);
		if (copy == NULL)
			snprintf(err, errlen, "out of memory");
		return copy;
	}
	char cwd[4096], *out = NULL;
	if (getcwd(cwd, sizeof cwd) == NULL) {
		snprintf(err, errlen, "current directory: %s", strerror(errno));
		return NULL;
	}
	if (asprintf(&out, "%.*s%s/%s", (int)prefix, spec, cwd,
	             spec + prefix) < 0) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	size_t max = sizeof ((struct listen_addr *)NULL)->path;
	if (strlen(out + prefix) >= max) {
		snprintf(err, errlen, "the path from the current directory, %zu "
		         "bytes, is too long for a unix socket (under %zu)",
		         strlen(out + prefix), max);
		free(out);
		return NULL;
	}
	return out;
}

struct mclient *mclient_new(const struct mclient_opts *o, char *err,
                            size_t errlen)
{
	struct mclient *mc = calloc(1, sizeof *mc);
	if (mc == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	mc->fd = mc->stop_fd = -1;
	atomic_init(&mc->own_gone, false);
	mc->gone = o->gone ? o->gone : &mc->own_gone;
	char *spec = resolve_spec(o->socket, err, errlen);
	if (spec == NULL || listen_parse(spec, &mc->addr, err, errlen) != 0) {
		free(spec);
		free(mc);
		return NULL;
	}
	free(spec);
	char host[256];
	if (o->hostname == NULL)
		own_name(host, sizeof host);
	mc->spec = strdup(o->socket);
	mc->hostname = strdup(o->hostname ? o->hostname : host);
	mc->daemon_name = strdup(o->daemon_name ? o->daemon_name : "vigil-scan");
	mc->timeout_ms = o->timeout_ms ? o->timeout_ms : 30000;
	mc->message_ms = o->message_timeout_ms ? o->message_timeout_ms
	                                       : 10 * mc->timeout_ms;
	mc->out = evbuffer_new();
	if (!mc->spec || !mc->hostname || !mc->daemon_name || !mc->out) {
		snprintf(err, errlen, "out of memory");
		mclient_free(mc);
		return NULL;
	}
	return mc;
}

int mclient_open(struct mclient *mc, char *err, size_t errlen)
{
	if (mc->fd >= 0)
		return 0;
	mc->err = err;
	mc->errlen = errlen;
	mc->timed_out = mc->stopped = false;
	int rc = 0;
	/* at the start a filter that is not there is an error at once */
	if (connect_socket(mc, false) != 0 || negotiate(mc) != 0) {
		drop(mc, false);
		rc = -1;
	}
	mc->err = NULL;
	return rc;
}

void mclient_negotiated(const struct mclient *mc, uint32_t *version,
                        uint32_t *actions, uint32_t *protocol)
{
	*version = mc->neg.version;
	*actions = mc->neg.actions;
	*protocol = mc->neg.protocol;
}

void mclient_free(struct mclient *mc)
{
	if (mc == NULL)
		return;
	drop(mc, true);
	free(mc->spec);
	free(mc->hostname);
	free(mc->daemon_name);
	if (mc->out)
		evbuffer_free(mc->out);
	free(mc->in);
	free(mc->accepted);
	free(mc);
}
