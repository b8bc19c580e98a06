/* Unit tests: the MTA side of the milter protocol (mclient) against a
 * scripted filter on a unix socket, run in a thread. */
#include <errno.h>
#include <event2/buffer.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "mclient.h"
#include "proto.h"
#include "scan.h"

/* What the scripted filter does, and what it saw. */
struct fake {
	uint32_t protocol;          /* its choice of protocol steps */
	const char *envfrom_macros; /* macros it asks for at MAIL, or NULL */
	bool skip_body;             /* SKIP on the first body chunk */
	bool eom_mods;              /* modifications + PROGRESS + 550 at EOM */
	bool redirect;              /* recipients replaced, sender, body */
	bool reject_rcpt;           /* 550 to every RCPT */
	bool bad_mail;              /* ADDHEADER in reply to MAIL */
	bool close_after_eom;       /* hang up after each message */
	bool progress_forever;      /* PROGRESS at EOM, again and again */
	bool trickle;               /* at EOM a reply a byte at a time, never
	                               whole */
	bool unknown_reply;         /* a reply code no milter has at EOM */
	void (*eom)(struct evbuffer *out); /* writes its replies to EOM */
	volatile int *stalled;      /* progress_forever: set to 1 when it
	                               starts, then */
	int stalled_fd;             /* a byte written here (0: none) */
	char log[4096];             /* commands seen, one letter each */
	char body[256];             /* the start of the body it got */
	char client[512];           /* the last CONNECT's host and the
	                               values of the connect macros */
	size_t longest_value;       /* of the header values it got */
	int connections;

	int lfd;
	char dir[40], sock[100];
	volatile bool stop;
	pthread_t thread;
};

static void logf_(struct fake *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void logf_(struct fake *f, const char *fmt, ...)
{
	size_t len = strlen(f->log);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->log + len, sizeof f->log - len, fmt, ap);
	va_end(ap);
}

static bool read_all(int fd, void *buf, size_t len)
{
	for (size_t got = 0; got < len;) {
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	return true;
}

static void send_buf(int fd, struct evbuffer *b)
{
	size_t len = evbuffer_get_length(b);
	unsigned char *p = evbuffer_pullup(b, -1);
	if (len && write(fd, p, len) != (ssize_t)len)
		fail_msg("fake filter: short write");
	evbuffer_drain(b, len);
}

/* The reply-or-not rules of the fake: CONTINUE unless NR for the step. */
static bool no_reply(const struct fake *f, char cmd)
{
	switch (cmd) {
	case SMFIC_CONNECT: return f->protocol & SMFIP_NR_CONN;
	case SMFIC_HELO: return f->protocol & SMFIP_NR_HELO;
	case SMFIC_MAIL: return f->protocol & SMFIP_NR_MAIL;
	case SMFIC_RCPT: return f->protocol & SMFIP_NR_RCPT;
	case SMFIC_DATA: return f->protocol & SMFIP_NR_DATA;
	case SMFIC_HEADER: return f->protocol & SMFIP_NOHREPL;
	case SMFIC_EOH: return f->protocol & SMFIP_NR_EOH;
	case SMFIC_BODY: return f->protocol & SMFIP_NR_BODY;
	case SMFIC_MACRO: case SMFIC_ABORT: case SMFIC_QUIT: return true;
	}
	return false;
}

/* What the client was said to be: the connect macros' names and values,
 * then the CONNECT's host. */
static void log_client(struct fake *f, const char *sep, const char *v)
{
	size_t len = strlen(f->client);
	snprintf(f->client + len, sizeof f->client - len, "%s%s", sep, v);
}

static void log_packet(struct fake *f, const struct proto_pkt *pkt)
{
	logf_(f, "%c", pkt->cmd);
	if (pkt->cmd == SMFIC_BODY && f->body[0] == '\0') {
		size_t n = pkt->len < sizeof f->body ? pkt->len : sizeof f->body - 1;
		memcpy(f->body, pkt->data, n);
		f->body[n] = '\0';
	} else if (pkt->cmd == SMFIC_HEADER) {
		struct proto_str name, value;
		if (proto_dec_header(pkt, &name, &value) != PROTO_OK)
			return;
		if (value.len > f->longest_value)
			f->longest_value = value.len;
		if (value.len < 100)
			logf_(f, "[%s=%s]", name.ptr, value.ptr);
	} else if (pkt->cmd == SMFIC_MACRO) {
		char stage;
		struct proto_strs it;
		struct proto_str s;
		if (proto_dec_macro(pkt, &stage, &it) != PROTO_OK)
			return;
		logf_(f, "%c{", stage);
		if (stage == SMFIC_CONNECT)
			f->client[0] = '\0';
		for (int k = 0; proto_strs_next(&it, &s); k++) {
			if (k % 2 == 0)
				logf_(f, "%s%s", k ? " " : "", s.ptr);
			if (stage == SMFIC_CONNECT)
				log_client(f, k % 2 ? "=" : " ", s.ptr);
		}
		logf_(f, "}");
	} else if (pkt->cmd == SMFIC_CONNECT) {
		struct proto_connect c;
		if (proto_dec_connect(pkt, &c) == PROTO_OK)
			log_client(f, " CONNECT ", c.host.ptr);
	}
}

/* A reply packet proto.c has no encoder for (the MTA never sends it). */
static void raw_reply(struct evbuffer *out, char cmd, const char *data,
                      size_t len)
{
	unsigned char hdr[5] = { (unsigned char)((len + 1) >> 24),
	                         (unsigned char)((len + 1) >> 16),
	                         (unsigned char)((len + 1) >> 8),
	                         (unsigned char)(len + 1), (unsigned char)cmd };
	evbuffer_add(out, hdr, sizeof hdr);
	evbuffer_add(out, data, len);
}

static void reply(const struct fake *f, const struct proto_pkt *pkt,
                  struct evbuffer *out, int *body_chunks)
{
	switch (pkt->cmd) {
	case SMFIC_OPTNEG: {
		struct proto_optneg r = { 6, 0x1ff, f->protocol };
		const char *macros[SMFIM_LAST + 1] = { 0 };
		macros[SMFIM_ENVFROM] = f->envfrom_macros;
		proto_enc_optneg(out, &r, macros);
		return;
	}
	case SMFIC_MAIL:
		if (f->bad_mail) {
			proto_enc_addheader(out, "X-Early", "no");
			return;
		}
		break;
	case SMFIC_RCPT:
		if (f->reject_rcpt) {
			proto_enc_replycode(out, "550", "5.1.1", "unknown user");
			return;
		}
		break;
	case SMFIC_BODY:
		if (f->skip_body && (*body_chunks)++ == 0) {
			proto_enc_simple(out, SMFIR_SKIP);
			return;
		}
		break;
	case SMFIC_BODYEOB:
		if (f->eom_mods) {
			proto_enc_addheader(out, "X-One", "1");
			proto_enc_simple(out, SMFIR_PROGRESS);
			proto_enc_insheader(out, 0, "X-Zero", "0");
			proto_enc_chgheader(out, 1, "Subject", "");
			proto_enc_quarantine(out, "held for review");
			proto_enc_delrcpt(out, "<b@example.net>");
			proto_enc_replycode(out, "550", "5.7.1", "no thanks");
			return;
		}
		if (f->unknown_reply) {
			raw_reply(out, 'Z', "", 0);
			return;
		}
		if (f->eom) {
			f->eom(out);
			return;
		}
		if (f->redirect) {
			/* the recipients by other spellings of the address */
			proto_enc_delrcpt(out, "<B@Example.NET>");
			proto_enc_delrcpt(out, "c@example.net");
			proto_enc_addrcpt(out, "<q@example.net>");
			raw_reply(out, SMFIR_CHGFROM, "<bounce@example.net>", 21);
			raw_reply(out, SMFIR_REPLBODY, "new body\r\n", 10);
			proto_enc_simple(out, SMFIR_CONTINUE);
			return;
		}
		break;
	}
	if (!no_reply(f, pkt->cmd))
		proto_enc_simple(out, SMFIR_CONTINUE);
}

/* What the client sends while the fake stalls: each command's letter
 * logged; false once it hung up. */
static bool log_while_stalled(struct fake *f, int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	while (poll(&p, 1, 0) == 1) {
		unsigned char hdr[5];
		if (!read_all(fd, hdr, 5))
			return false;
		logf_(f, "%c", hdr[4]);
		size_t len = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 |
		             (size_t)hdr[2] << 8 | hdr[3];
		for (char c; len > 1; len--)
			if (!read_all(fd, &c, 1))
				return false;
	}
	return true;
}

/* At EOM, PROGRESS or a byte of a reply every 20 ms until the client
 * hangs up. */
static void stall(struct fake *f, int fd)
{
	static const unsigned char progress[] = { 0, 0, 0, 1, SMFIR_PROGRESS };
	static const unsigned char big_header[] = { 0, 0xff, 0xff, 0xff };
	ssize_t n = f->trickle ? send(fd, big_header, 4, MSG_NOSIGNAL) : 0;
	if (f->stalled != NULL)
		*f->stalled = 1;
	if (f->stalled_fd > 0 && write(f->stalled_fd, "s", 1) != 1)
		fail_msg("fake filter: cannot say it stalls");
	while (n >= 0 && log_while_stalled(f, fd)) {
		n = f->trickle ? send(fd, "h", 1, MSG_NOSIGNAL)
		               : send(fd, progress, sizeof progress, MSG_NOSIGNAL);
		poll(NULL, 0, 20);
	}
	/* what the client wrote before it hung up is still there */
	log_while_stalled(f, fd);
}

/* One connection, until QUIT or close. */
static void serve(struct fake *f, int fd)
{
	struct evbuffer *out = evbuffer_new();
	int body_chunks = 0;
	for (;;) {
		unsigned char hdr[4];
		if (!read_all(fd, hdr, 4))
			break;
		size_t len = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 |
		             (size_t)hdr[2] << 8 | hdr[3];
		unsigned char *buf = malloc(len + 4);
		memcpy(buf, hdr, 4);
		if (len == 0 || !read_all(fd, buf + 4, len)) {
			free(buf);
			break;
		}
		struct proto_pkt pkt;
		size_t used;
		if (proto_split(buf, len + 4, 1u << 20, &pkt, &used) == PROTO_OK) {
			log_packet(f, &pkt);
			if (pkt.cmd == SMFIC_ABORT || pkt.cmd == SMFIC_MAIL)
				body_chunks = 0;
			if (pkt.cmd == SMFIC_BODYEOB &&
			    (f->progress_forever || f->trickle)) {
				stall(f, fd);
				free(buf);
				break;
			}
			reply(f, &pkt, out, &body_chunks);
			send_buf(fd, out);
		}
		bool quit = pkt.cmd == SMFIC_QUIT ||
		            (f->close_after_eom && pkt.cmd == SMFIC_BODYEOB);
		free(buf);
		if (quit)
			break;
	}
	evbuffer_free(out);
	logf_(f, "|");
}

static void *filter_main(void *arg)
{
	struct fake *f = arg;
	while (!f->stop) {
		struct pollfd p = { .fd = f->lfd, .events = POLLIN };
		if (poll(&p, 1, 50) <= 0)
			continue;
		int fd = accept(f->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		f->connections++;
		serve(f, fd);
		close(fd);
	}
	return NULL;
}

static void fake_start(struct fake *f)
{
	snprintf(f->dir, sizeof f->dir, "/tmp/test_mclient.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->sock, sizeof f->sock, "%s/f.sock", f->dir);
	f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", f->sock);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(f->lfd, 4), 0);
	assert_int_equal(pthread_create(&f->thread, NULL, filter_main, f), 0);
}

static void fake_stop(struct fake *f)
{
	f->stop = true;
	pthread_join(f->thread, NULL);
	close(f->lfd);
	unlink(f->sock);
	rmdir(f->dir);
}

static struct mclient *client(struct fake *f)
{
	char spec[160], err[200];
	snprintf(spec, sizeof spec, "unix:%s", f->sock);
	struct mclient_opts o = { .socket = spec, .timeout_ms = 2000,
	                          .hostname = "mta.test" };
	struct mclient *mc = mclient_new(&o, err, sizeof err);
	assert_non_null(mc);
	return mc;
}

static struct scan *message_from(const char *ip, const char *name,
                                 const char *body)
{
	char raw[200000];
	int n = snprintf(raw, sizeof raw, "Subject:  hi\nX-Fold: a\n\tb\n\n%s",
	                 body);
	struct scan *s = scan_new();
	assert_non_null(s);
	assert_int_equal(scan_set_raw(s, raw, (size_t)n), 0);
	assert_int_equal(scan_set_env(s, "Q1", ip, name, 0, "helo.test",
	                              "a@example.org"), 0);
	assert_int_equal(scan_add_rcpt(s, "b@example.net"), 0);
	assert_int_equal(scan_add_rcpt(s, "c@example.net"), 0);
	return s;
}

static struct scan *message(const char *ip, const char *body)
{
	return message_from(ip, "", body);
}

/* Run one message as read from a file; returns mclient_scan's status. */
static int play_raw(struct mclient *mc, const char *raw,
                    struct mclient_result *r, char *err, size_t errlen)
{
	struct scan *s = scan_new();
	assert_non_null(s);
	scan_set_max_body(s, 2 * strlen(raw) + 1);
	assert_int_equal(scan_set_raw(s, raw, strlen(raw)), 0);
	assert_int_equal(scan_set_env(s, "Q1", "192.0.2.1", "", 0, "helo.test",
	                              "a@example.org"), 0);
	assert_int_equal(scan_add_rcpt(s, "b@example.net"), 0);
	int rc = mclient_scan(mc, s, r, err, errlen);
	scan_free(s);
	return rc;
}

/* Run one message; returns mclient_scan's status. */
static int play(struct mclient *mc, const char *ip, const char *body,
                struct mclient_result *r, char *err, size_t errlen)
{
	struct scan *s = message(ip, body);
	int rc = mclient_scan(mc, s, r, err, errlen);
	scan_free(s);
	return rc;
}

/* A client with these timeouts (ms). */
static struct mclient *client_timeouts(struct fake *f, unsigned wait,
                                       unsigned message)
{
	char spec[160], err[200];
	snprintf(spec, sizeof spec, "unix:%s", f->sock);
	struct mclient_opts o = { .socket = spec, .timeout_ms = wait,
	                          .message_timeout_ms = message };
	struct mclient *mc = mclient_new(&o, err, sizeof err);
	assert_non_null(mc);
	return mc;
}

/* One message through a fake with f's script, from a client with these
 * timeouts (ms; 0: client()'s): the standard message, or raw as read
 * from a file. mclient_scan()'s status; the fake is stopped, *r is the
 * caller's to clear. */
static int one_message(struct fake *f, unsigned wait, unsigned message,
                       const char *raw, struct mclient_result *r, char *err,
                       size_t errlen)
{
	fake_start(f);
	struct mclient *mc = wait ? client_timeouts(f, wait, message) : client(f);
	int rc = raw ? play_raw(mc, raw, r, err, errlen)
	             : play(mc, "192.0.2.1", "x\n", r, err, errlen);
	mclient_free(mc);
	fake_stop(f);
	return rc;
}

/* The standard message on mc: CONTINUE at EOM. */
static void plays_on(struct mclient *mc)
{
	struct mclient_result r;
	char err[200];
	assert_int_equal(play(mc, "192.0.2.1", "x\n", &r, err, sizeof err), 0);
	assert_int_equal(r.action, MCLIENT_CONTINUE);
	mclient_result_clear(&r);
}

/* A message through f that fails (err says why), then, f's fault
 * mended, one that plays: on a new connection. f is stopped. */
static void fails_then_plays(struct fake *f, char *err, size_t errlen)
{
	fake_start(f);
	struct mclient *mc = client(f);
	struct mclient_result r;
	assert_int_equal(play(mc, "192.0.2.1", "x\n", &r, err, errlen), -1);
	mclient_result_clear(&r);
	f->bad_mail = false;
	f->eom = NULL;
	plays_on(mc);
	mclient_free(mc);
	fake_stop(f);
	assert_int_equal(f->connections, 2);
}

/* The standard message through a fake with f's script: played; its
 * result, the caller's to clear. */
static struct mclient_result played(struct fake f)
{
	struct mclient_result r;
	char err[200];
	assert_int_equal(one_message(&f, 0, 0, NULL, &r, err, sizeof err), 0);
	return r;
}

/* Everything offered, nothing skipped: every step sent and answered,
 * default macros, header values without the leading space, folding as
 * LF; CONTINUE at EOM. */
static void full_protocol(void **state)
{
	(void)state;
	struct fake f = { 0 };
	fake_start(&f);
	struct mclient *mc = client(&f);
	struct mclient_result r;
	char err[200];
	assert_int_equal(play(mc, "192.0.2.1", "body\n", &r, err, sizeof err), 0);
	assert_int_equal(r.action, MCLIENT_CONTINUE);
	assert_int_equal(r.stage, SMFIC_BODYEOB);
	assert_string_equal(r.code, "");
	assert_null(r.text);
	mclient_result_clear(&r);
	mclient_free(mc);
	fake_stop(&f);
	assert_string_equal(f.log,
	    "O"
	    "DC{j {daemon_name} v _ {client_addr} {client_name} {client_port}}C"
	    "H"
	    "DM{i {mail_addr}}M"
	    "DR{i {rcpt_addr}}R" "DR{i {rcpt_addr}}R"
	    "DT{i}T"
	    "L[Subject=hi]" "L[X-Fold=a\n\tb]"
	    "DN{i}N" "B" "DE{i}E" "Q|");
}

/* The filter's choice honoured: skipped steps not sent, no wait after
 * NR steps, leading space kept with HDR_LEADSPC, requested macros only. */
static void honour_choice(void **state)
{
	(void)state;
	struct fake f = { .protocol = SMFIP_NOHELO | SMFIP_NORCPT |
	                  SMFIP_NODATA | SMFIP_NOEOH | SMFIP_NOHREPL |
	                  SMFIP_NR_CONN | SMFIP_NR_MAIL | SMFIP_NR_BODY |
	                  SMFIP_HDR_LEADSPC,
	                  .envfrom_macros = "{mail_addr} {unknown} j" };
	fake_start(&f);
	struct mclient *mc = client(&f);
	plays_on(mc);
	mclient_free(mc);
	fake_stop(&f);
	assert_string_equal(f.log,
	    "O"
	    "DC{j {daemon_name} v _ {client_addr} {client_name} {client_port}}C"
	    "DM{{mail_addr} j}M"
	    "L[Subject=  hi]" "L[X-Fold= a\n\tb]"
	    "B" "DE{i}E" "Q|");
}

/* SKIP stops the body; EOM follows. */
static void skip_body(void **state)
{
	(void)state;
	struct fake f = { .skip_body = true, .protocol = SMFIP_SKIP };
	fake_start(&f);
	struct mclient *mc = client(&f);
	char *body = malloc(150001);
	memset(body, 'a', 150000);
	body[150000] = '\0';
	struct mclient_result r;
	char err[200];
	assert_int_equal(play(mc, "192.0.2.1", body, &r, err, sizeof err), 0);
	free(body);
	mclient_result_clear(&r);
	mclient_free(mc);
	fake_stop(&f);
	assert_non_null(strstr(f.log, "DN{i}NBDE{i}EQ|"));
}

/* Modifications at EOM, PROGRESS waited through, a reply code. */
static void modifications(void **state)
{
	(void)state;
	struct fake f = { .eom_mods = true };
	fake_start(&f);
	struct mclient *mc = client(&f);
	struct mclient_result r;
	char err[200];
	assert_int_equal(play(mc, "192.0.2.1", "x\n", &r, err, sizeof err), 0);
	assert_int_equal(r.action, MCLIENT_REJECT);
	assert_string_equal(r.code, "550");
	assert_string_equal(r.text, "5.7.1 no thanks");
	assert_int_equal(r.added_n, 2);
	assert_string_equal(r.added[0].name, "X-One");
	assert_int_equal(r.added[0].index, UINT32_MAX);
	assert_string_equal(r.added[1].name, "X-Zero");
	assert_int_equal(r.added[1].index, 0);
	assert_int_equal(r.changed_n, 1);
	assert_string_equal(r.changed[0].name, "Subject");
	assert_string_equal(r.changed[0].value, "");
	assert_string_equal(r.quarantine, "held for review");
	assert_int_equal(r.rcpt_removed_n, 1);
	assert_string_equal(r.rcpt_removed[0], "<b@example.net>");
	assert_false(r.rcpts_all_removed);   /* c@example.net keeps it */
	mclient_result_clear(&r);
	mclient_free(mc);
	fake_stop(&f);
}

/* Every recipient removed (spelled otherwise), one added, the sender
 * changed, the body replaced: all noted. */
static void redirected(void **state)
{
	(void)state;
	struct mclient_result r = played((struct fake){ .redirect = true });
	assert_int_equal(r.action, MCLIENT_CONTINUE);
	assert_int_equal(r.rcpt_removed_n, 2);
	assert_true(r.rcpts_all_removed);
	assert_int_equal(r.rcpt_added_n, 1);
	assert_string_equal(r.rcpt_added[0], "<q@example.net>");
	assert_string_equal(r.new_from, "<bounce@example.net>");
	assert_true(r.body_replaced);
	mclient_result_clear(&r);
}

/* The header section as Postfix takes it: "Name :" is the field Name;
 * a line that is no field (": value", no colon, a name of 8-bit bytes)
 * ends it, and that line and the rest go to the body. */
static void header_section_ends(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{ "A: 1\n: empty name\nB: 2\n\nbody\n",
		  ": empty name\r\nB: 2\r\n\r\nbody\r\n" },
		{ "A: 1\nno colon here\nB: 2\n\nbody\n",
		  "no colon here\r\nB: 2\r\n\r\nbody\r\n" },
		{ "A: 1\nSub\xc3\xbcject: x\n\nbody\n",
		  "Sub\xc3\xbcject: x\r\n\r\nbody\r\n" },
		{ "A : 1\n\tfolded\nB: 2\n\nbody\n", "body\r\n" },
	};
	static const char *const headers[] = {
		"L[A=1]DN{i}N", "L[A=1]DN{i}N", "L[A=1]DN{i}N",
		"L[A=1\n\tfolded]L[B=2]DN{i}N" };
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct fake f = { 0 };
		struct mclient_result r;
		char err[200];
		assert_int_equal(one_message(&f, 0, 0, cases[i][0], &r, err,
		                             sizeof err), 0);
		assert_int_equal(r.action, MCLIENT_CONTINUE);
		mclient_result_clear(&r);
		assert_non_null(strstr(f.log, headers[i]));
		assert_string_equal(f.body, cases[i][1]);
	}
}

/* A header field longer than Postfix passes on is cut as it cuts it:
 * "Name:" and the value 60000 bytes in all. */
static void long_field_cut(void **state)
{
	(void)state;
	size_t n = 1 << 20;
	char *raw = malloc(n + 64);
	assert_non_null(raw);
	int k = snprintf(raw, 64, "Subject: ");
	memset(raw + k, 'x', n);
	snprintf(raw + k + n, 64, "\nB: 2\n\nbody\n");
	struct fake f = { 0 };
	struct mclient_result r;
	char err[200];
	assert_int_equal(one_message(&f, 0, 0, raw, &r, err, sizeof err), 0);
	free(raw);
	mclient_result_clear(&r);
	assert_int_equal(f.longest_value, 60000 - strlen("Subject: "));
	assert_non_null(strstr(f.log, "L[B=2]DN{i}N"));
}

/* A filter that says PROGRESS for ever: the message ends at the message
 * timeout, an error (a timeout), and the next one is played on a new
 * connection. */
static void progress_forever(void **state)
{
	(void)state;
	struct fake f = { .progress_forever = true };
	struct mclient_result r;
	char err[200];
	assert_int_equal(one_message(&f, 2000, 300, NULL, &r, err, sizeof err),
	                 -1);
	assert_non_null(strstr(err, "timeout"));
	mclient_result_clear(&r);
}

/* Every modification a filter may send at EOM, ESMTP arguments too. */
static void every_modification(struct evbuffer *out)
{
	proto_enc_addheader(out, "X-Add", "a");
	proto_enc_insheader(out, 2, "X-Ins", "i");
	proto_enc_chgheader(out, 1, "Subject", "new");
	proto_enc_delrcpt(out, "<b@example.net>");
	proto_enc_addrcpt(out, "<plain@example.net>");
	raw_reply(out, SMFIR_ADDRCPT_PAR, "<par@example.net>\0NOTIFY=NEVER "
	          "ORCPT=rfc822;par@example.net", 60);
	raw_reply(out, SMFIR_ADDRCPT_PAR, "<noargs@example.net>", 21);
	raw_reply(out, SMFIR_CHGFROM, "<>\0RET=HDRS ENVID=x1", 21);
	raw_reply(out, SMFIR_REPLBODY, "new body\r\n", 10);
	proto_enc_quarantine(out, "held");
	proto_enc_simple(out, SMFIR_CONTINUE);
}

static void all_modifications(void **state)
{
	(void)state;
	struct mclient_result r = played((struct fake){
		.eom = every_modification });
	assert_int_equal(r.action, MCLIENT_QUARANTINE);
	assert_int_equal(r.added_n, 2);
	assert_string_equal(r.added[0].name, "X-Add");
	assert_string_equal(r.added[1].value, "i");
	assert_int_equal(r.added[1].index, 2);
	assert_int_equal(r.changed_n, 1);
	assert_string_equal(r.changed[0].value, "new");
	assert_int_equal(r.rcpt_removed_n, 1);
	assert_int_equal(r.rcpt_added_n, 3);
	assert_string_equal(r.rcpt_added[0], "<plain@example.net>");
	assert_null(r.rcpt_added_args[0]);
	assert_string_equal(r.rcpt_added[1], "<par@example.net>");
	assert_string_equal(r.rcpt_added_args[1],
	                    "NOTIFY=NEVER ORCPT=rfc822;par@example.net");
	assert_string_equal(r.rcpt_added[2], "<noargs@example.net>");
	assert_null(r.rcpt_added_args[2]);
	assert_string_equal(r.new_from, "<>");
	assert_string_equal(r.new_from_args, "RET=HDRS ENVID=x1");
	assert_true(r.body_replaced);
	mclient_result_clear(&r);
}

/* Malformed envelope changes (and a CONTINUE with data), one per
 * message: each refused with what is wrong, the next message played on
 * a new connection. */
static const struct bad_reply {
	char cmd;
	const char *data;
	size_t len;
	const char *err;
} *bad_now;
static char big[MCLIENT_ENVELOPE_MAX + 8];

static void send_bad(struct evbuffer *out)
{
	raw_reply(out, bad_now->cmd, bad_now->data, bad_now->len);
	proto_enc_simple(out, SMFIR_CONTINUE);
}

static void malformed_changes(void **state)
{
	(void)state;
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';   /* 2055 bytes and a NUL */
	char par[sizeof big + 8];
	memcpy(par, "<x@y>\0", 6);
	memcpy(par + 6, big, sizeof big);
	static const char no_nul[] = "";   /* no more said */
	static const char empty[] = ": an empty address";
	const struct bad_reply cases[] = {
		{ SMFIR_ADDRCPT, "<x@y>", 5, no_nul },
		{ SMFIR_DELRCPT, "<x@y>", 5, no_nul },
		{ SMFIR_ADDRCPT_PAR, "<x@y>\0A=1", 9, no_nul },
		{ SMFIR_CHGFROM, "<x@y>", 5, no_nul },
		{ SMFIR_ADDRCPT, "<x@y>\0extra", 12, no_nul },
		{ SMFIR_CHGFROM, "<x@y>\0A=1\0B", 12, no_nul },
		{ SMFIR_ADDRCPT, "", 1, empty },
		{ SMFIR_DELRCPT, "", 1, empty },
		{ SMFIR_CHGFROM, "\0A=1", 5,
		  empty },
		{ SMFIR_ADDRCPT_PAR, "", 0, no_nul },
		{ SMFIR_CONTINUE, "x", 1, no_nul },   /* data after it */
		{ SMFIR_ADDRCPT, big, sizeof big,
		  ": address of 2055 bytes (at most 2048)" },
		{ SMFIR_ADDRCPT_PAR, par, 6 + sizeof big,
		  ": ESMTP arguments of 2055 bytes (at most 2048)" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		bad_now = &cases[i];
		struct fake f = { .eom = send_bad };
		char err[200], want[200];
		fails_then_plays(&f, err, sizeof err);
		snprintf(want, sizeof want, "malformed %s reply to EOB%s",
		         proto_reply_name(cases[i].cmd), cases[i].err);
		if (strcmp(err, want) != 0)
			fail_msg("case %zu: \"%s\", not \"%s\"", i, err, want);
	}
}

/* A stop while the filter says PROGRESS without end (message timeout
 * 10 minutes): the wait ends at its first PROGRESS after stop() says so,
 * which it does from when the fake starts stalling (and writes to the
 * pipe the client watches); the filter gets ABORT and QUIT, the
 * connection closes. */
static volatile int stall_began;
static int stall_seen(void)
{
	return stall_began;
}

static void stop_during_progress(void **state)
{
	(void)state;
	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);
	stall_began = 0;
	/* flag, then pipe: as the signal handler does */
	struct fake f = { .progress_forever = true, .stalled = &stall_began,
	                  .stalled_fd = pipefd[1] };
	fake_start(&f);
	struct mclient *mc = client_timeouts(&f, 600000, 600000);
	mclient_stop_when(mc, stall_seen, pipefd[0]);
	struct mclient_result r;
	char err[200];
	assert_int_equal(play(mc, "192.0.2.1", "x\n", &r, err, sizeof err),
	                 MCLIENT_STOPPED);
	assert_string_equal(err, "stopped waiting for the filter");
	mclient_result_clear(&r);
	mclient_free(mc);
	fake_stop(&f);
	assert_non_null(strstr(f.log, "DE{i}EAQ|"));
	close(pipefd[0]);
	close(pipefd[1]);
}

/* Stopped from the start, the wake pipe readable: a filter that answers
 * without saying PROGRESS still finishes the message, so the messages
 * in flight of an interrupted run are not lost. */
static int always(void)
{
	return 1;
}

static void stop_lets_answers_finish(void **state)
{
	(void)state;
	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);
	assert_int_equal(write(pipefd[1], "s", 1), 1);
	struct fake f = { 0 };
	fake_start(&f);
	struct mclient *mc = client(&f);
	mclient_stop_when(mc, always, pipefd[0]);
	plays_on(mc);
	mclient_free(mc);
	fake_stop(&f);
	close(pipefd[0]);
	close(pipefd[1]);
}

/* A reply that comes a byte at a time, never whole: each byte in time
 * does not make the wait longer; the timeout ends it. */
static void trickle(void **state)
{
	(void)state;
	struct fake f = { .trickle = true };
	struct mclient_result r;
	char err[200];
	assert_int_equal(one_message(&f, 200, 3600000, NULL, &r, err,
	                             sizeof err), -1);
	assert_string_equal(err, "timeout (200 ms) waiting for the filter");
	mclient_result_clear(&r);
}

/* A reply code that is no milter reply: said so. */
static void unknown_reply(void **state)
{
	(void)state;
	struct fake f = { .unknown_reply = true };
	struct mclient_result r;
	char err[200];
	assert_int_equal(one_message(&f, 0, 0, NULL, &r, err, sizeof err), -1);
	assert_string_equal(err, "unknown reply 'Z' (0x5a) to EOB");
	mclient_result_clear(&r);
}

/* Same client: one connection, ABORT between transactions; another
 * client address: QUIT and a new connection. */
static void connection_reuse(void **state)
{
	(void)state;
	struct fake f = { .protocol = SMFIP_NOHELO | SMFIP_NOMAIL |
	                  SMFIP_NORCPT | SMFIP_NODATA | SMFIP_NOHDRS |
	                  SMFIP_NOEOH | SMFIP_NOBODY };
	fake_start(&f);
	struct mclient *mc = client(&f);
	struct mclient_result r;
	char err[200];
	const char *ips[] = { "192.0.2.1", "192.0.2.1", "2001:db8::1" };
	for (int i = 0; i < 3; i++) {
		assert_int_equal(play(mc, ips[i], "x\n", &r, err, sizeof err), 0);
		assert_int_equal(r.action, MCLIENT_CONTINUE);
		mclient_result_clear(&r);
	}
	mclient_free(mc);
	fake_stop(&f);
	const char *connect = "DC{j {daemon_name} v _ {client_addr} "
	                      "{client_name} {client_port}}C";
	char want[512];
	snprintf(want, sizeof want, "O%sDE{i}EADE{i}EQ|O%sDE{i}EQ|", connect,
	         connect);
	assert_string_equal(f.log, want);
	assert_int_equal(f.connections, 2);
}

/* Every recipient refused: the message ends at RCPT with that reply. */
static void recipients_refused(void **state)
{
	(void)state;
	struct fake f = { .reject_rcpt = true };
	fake_start(&f);
	struct mclient *mc = client(&f);
	struct mclient_result r;
	char err[200];
	assert_int_equal(play(mc, "192.0.2.1", "x\n", &r, err, sizeof err), 0);
	assert_int_equal(r.action, MCLIENT_REJECT);
	assert_int_equal(r.stage, SMFIC_RCPT);
	assert_string_equal(r.code, "550");
	assert_string_equal(r.text, "5.1.1 unknown user");
	assert_int_equal(r.rcpt_rejected, 2);
	mclient_result_clear(&r);
	mclient_free(mc);
	fake_stop(&f);
	assert_null(strchr(f.log, SMFIC_DATA));
}

/* A modification out of place is a protocol error; the connection is
 * dropped and the next message opens a new one. */
static void protocol_error(void **state)
{
	(void)state;
	struct fake f = { .bad_mail = true };
	char err[200];
	fails_then_plays(&f, err, sizeof err);
	assert_non_null(strstr(err, "unexpected ADDHEADER in reply to MAIL"));
}

/* A filter that hangs up between messages: the next message is played
 * again on a new connection instead of failing. */
static void reconnect(void **state)
{
	(void)state;
	struct fake f = { .close_after_eom = true };
	fake_start(&f);
	struct mclient *mc = client(&f);
	struct mclient_result r;
	char err[200];
	for (int i = 0; i < 2; i++) {
		assert_int_equal(play(mc, "192.0.2.1", "x\n", &r, err, sizeof err),
		                 0);
		assert_int_equal(r.action, MCLIENT_CONTINUE);
		mclient_result_clear(&r);
	}
	mclient_free(mc);
	fake_stop(&f);
	assert_int_equal(f.connections, 2);
}

/* A malformed reply on a connection kept from the last message: the
 * error is the filter's, and the message is not played again on a new
 * connection (only a connection that never answered may have been
 * closed while idle). */
static void no_replay_after_answer(void **state)
{
	(void)state;
	static const struct bad_reply quarantine = { SMFIR_QUARANTINE, "why", 3,
	                                             "" };
	struct fake f = { 0 };
	fake_start(&f);
	struct mclient *mc = client(&f);
	plays_on(mc);
	bad_now = &quarantine;
	f.eom = send_bad;
	struct mclient_result r;
	char err[200];
	assert_int_equal(play(mc, "192.0.2.1", "x\n", &r, err, sizeof err), -1);
	mclient_result_clear(&r);
	assert_string_equal(err, "malformed QUARANTINE reply to EOB");
	mclient_free(mc);
	fake_stop(&f);
	assert_int_equal(f.connections, 1);
	size_t eoms = 0;   /* EOB's macros, then EOB */
	for (const char *p = f.log; (p = strstr(p, "E{i}E")) != NULL; p++)
		eoms++;
	assert_int_equal(eoms, 2);
}

/* A message from client ip with rDNS name (or "") played on mc. */
static void plays_from(struct mclient *mc, const char *ip, const char *name)
{
	struct mclient_result r;
	char err[200];
	struct scan *s = message_from(ip, name, "x\n");
	assert_int_equal(mclient_scan(mc, s, &r, err, sizeof err), 0);
	scan_free(s);
	mclient_result_clear(&r);
}

/* The client's name as an MTA passes it: the rDNS name (given, or
 * guessed from the message's Received line) in {client_name}, in "_"
 * and as the CONNECT host; without one "[IP]" in all three, which to a
 * filter means no reverse DNS (spamass-milter's Received line then
 * gives SpamAssassin RDNS_NONE: audit25 M1). */
static void client_name_sent(void **state)
{
	(void)state;
	struct fake f = { 0 };
	fake_start(&f);
	struct mclient *mc = client(&f);
	plays_from(mc, "203.0.113.5", "mail.sender.example");
	assert_string_equal(f.client, " j=mta.test {daemon_name}=vigil-scan "
	    "v=vigil scan _=mail.sender.example [203.0.113.5] "
	    "{client_addr}=203.0.113.5 {client_name}=mail.sender.example "
	    "{client_port}=0 CONNECT mail.sender.example");
	/* another client: a new connection, told it has no name */
	plays_from(mc, "203.0.113.6", "");
	mclient_free(mc);
	fake_stop(&f);
	assert_string_equal(f.client, " j=mta.test {daemon_name}=vigil-scan "
	    "v=vigil scan _=[203.0.113.6] [203.0.113.6] "
	    "{client_addr}=203.0.113.6 {client_name}=[203.0.113.6] "
	    "{client_port}=0 CONNECT [203.0.113.6]");
}

static int always_stop(void)
{
	return 1;
}

/* A client of socket spec, timeout wait ms, sharing gone. */
static struct mclient *sharing(const char *spec, unsigned wait,
                               atomic_bool *gone)
{
	char err[200];
	struct mclient_opts o = { .socket = spec, .timeout_ms = wait,
	                          .gone = gone };
	struct mclient *mc = mclient_new(&o, err, sizeof err);
	assert_non_null(mc);
	return mc;
}

/* A filter gone during a run (no unix socket): the first message tries
 * for its whole timeout; after that, the run's clients try once and
 * fail at once (a stop() saying yes at any pause would end the message
 * as stopped instead, so a retry cannot go unnoticed), until a connect
 * succeeds. (audit25 L4: every message waited the whole timeout.) */
static void gone_fails_fast(void **state)
{
	(void)state;
	atomic_bool gone;
	atomic_init(&gone, false);
	const char *spec = "unix:/nonexistent/vigil.sock";
	struct mclient *first = sharing(spec, 100, &gone);
	struct mclient *other = sharing(spec, 3600000, &gone);
	mclient_stop_when(other, always_stop, -1);
	struct mclient_result r;
	char err[200];
	assert_int_equal(play(first, "192.0.2.1", "x\n", &r, err, sizeof err),
	                 -1);
	mclient_result_clear(&r);
	assert_string_equal(err, "connect to unix:/nonexistent/vigil.sock: No "
	                    "such file or directory");
	assert_true(atomic_load(&gone));
	for (int i = 0; i < 2; i++) {
		assert_int_equal(play(other, "192.0.2.1", "x\n", &r, err,
		                      sizeof err), -1);
		mclient_result_clear(&r);
		assert_string_equal(err, "connect to unix:/nonexistent/vigil.sock: "
		                    "No such file or directory (not retried: nobody "
		                    "there for a whole timeout before)");
	}
	mclient_free(first);
	mclient_free(other);
	/* a filter there again: the connect clears it */
	struct fake f = { 0 };
	fake_start(&f);
	char live[160];
	snprintf(live, sizeof live, "unix:%s", f.sock);
	struct mclient *back = sharing(live, 2000, &gone);
	plays_on(back);
	assert_false(atomic_load(&gone));
	mclient_free(back);
	fake_stop(&f);
}

/* Nobody listening, and a bad socket specification. */
static void unreachable(void **state)
{
	(void)state;
	char err[200];
	struct mclient_opts o = { .socket = "unix:/nonexistent/vigil.sock" };
	struct mclient *mc = mclient_new(&o, err, sizeof err);
	assert_non_null(mc);
	assert_int_equal(mclient_open(mc, err, sizeof err), -1);
	assert_non_null(strstr(err, "connect to unix:/nonexistent/vigil.sock"));
	mclient_free(mc);
	o.socket = "tcp:25";
	assert_null(mclient_new(&o, err, sizeof err));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_protocol),
		cmocka_unit_test(honour_choice),
		cmocka_unit_test(skip_body),
		cmocka_unit_test(modifications),
		cmocka_unit_test(redirected),
		cmocka_unit_test(connection_reuse),
		cmocka_unit_test(recipients_refused),
		cmocka_unit_test(protocol_error),
		cmocka_unit_test(reconnect),
		cmocka_unit_test(no_replay_after_answer),
		cmocka_unit_test(header_section_ends),
		cmocka_unit_test(long_field_cut),
		cmocka_unit_test(progress_forever),
		cmocka_unit_test(trickle),
		cmocka_unit_test(unknown_reply),
		cmocka_unit_test(all_modifications),
		cmocka_unit_test(malformed_changes),
		cmocka_unit_test(stop_during_progress),
		cmocka_unit_test(stop_lets_answers_finish),
		cmocka_unit_test(client_name_sent),
		cmocka_unit_test(gone_fails_fast),
		cmocka_unit_test(unreachable),
	};
	return cmocka_run_group_tests_name("mclient", tests, NULL, NULL);
}
