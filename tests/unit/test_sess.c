/* Unit tests: the milter session state machine, driven with packets
 * built by the MTA-side encoder, replies read with the reply decoder. */
#include <event2/buffer.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "conf.h"
#include "proto.h"
#include "scan.h"
#include "sess.h"
#include "verdict.h"

struct fixture {
	struct conf *conf;
	struct sess *sess;
	struct evbuffer *out;
	int envelopes;	/* SESS_ENVELOPE seen (MAIL with early stages) */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char err[512];
	f->conf = conf_load_string("max_message_size = \"100\"", "t.conf", err,
	                           sizeof err);
	f->sess = sess_new("test");
	f->out = evbuffer_new();
	*state = f;
	return f->conf && f->sess && f->out ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	sess_free(f->sess);
	conf_unref(f->conf);
	evbuffer_free(f->out);
	free(f);
	return 0;
}

/* Feed every packet in `in` to the session; return the last status. */
static enum sess_status feed(struct fixture *f, struct evbuffer *in)
{
	enum sess_status st = SESS_OK;
	while (evbuffer_get_length(in) > 0) {
		size_t len = evbuffer_get_length(in);
		const unsigned char *p = evbuffer_pullup(in, -1);
		struct proto_pkt pkt;
		size_t used;
		assert_int_equal(proto_split(p, len, PROTO_MAX_PACKET_DEFAULT, &pkt,
		                             &used), PROTO_OK);
		st = sess_input(f->sess, f->conf, &pkt, f->out);
		evbuffer_drain(in, used);
		if (st == SESS_ENVELOPE) {
			/* the server would start the stages' early work here */
			struct scan *early = sess_envelope_scan(f->sess);
			assert_non_null(early);
			assert_int_equal(pkt.cmd, SMFIC_MAIL);
			scan_free(early);
			f->envelopes++;
			st = SESS_OK;
			continue;
		}
		if (st != SESS_OK)
			break;
	}
	return st;
}

/* Take the next reply from the session's output; cmd '\0' if none. */
static char next_reply(struct fixture *f, struct proto_reply *r, char *copy,
                       size_t copylen)
{
	size_t len = evbuffer_get_length(f->out);
	if (len == 0)
		return '\0';
	const unsigned char *p = evbuffer_pullup(f->out, -1);
	struct proto_pkt pkt;
	size_t used;
	assert_int_equal(proto_split(p, len, PROTO_MAX_PACKET_DEFAULT, &pkt,
	                             &used), PROTO_OK);
	assert_true(used <= copylen);
	memcpy(copy, p, used);
	evbuffer_drain(f->out, used);
	assert_int_equal(proto_split((unsigned char *)copy, used,
	                             PROTO_MAX_PACKET_DEFAULT, &pkt, &used),
	                 PROTO_OK);
	assert_int_equal(proto_dec_reply(&pkt, r), PROTO_OK);
	return r->cmd;
}

static char reply_cmd(struct fixture *f)
{
	struct proto_reply r;
	char buf[4096];
	return next_reply(f, &r, buf, sizeof buf);
}

static void negotiate(struct fixture *f, uint32_t version, uint32_t actions,
                      uint32_t protocol, struct proto_optneg *got)
{
	struct evbuffer *in = evbuffer_new();
	struct proto_optneg o = { version, actions, protocol };
	proto_enc_cmd_optneg(in, &o);
	assert_int_equal(feed(f, in), SESS_OK);
	struct proto_reply r;
	char buf[4096];
	assert_int_equal(next_reply(f, &r, buf, sizeof buf), SMFIC_OPTNEG);
	*got = r.neg;
	evbuffer_free(in);
}

/* Postfix 3.7 and Sendmail 8.17 offer version 6, every action and every
 * protocol step; the reply is a subset with what vigild needs. */
static void negotiate_v6(void **state)
{
	struct fixture *f = *state;
	struct proto_optneg got;
	negotiate(f, 6, 0x1ff, 0x1fffff, &got);
	assert_int_equal(got.version, 6);
	assert_int_equal(got.actions & ~0x1ffu, 0);
	assert_true(got.actions & SMFIF_ADDHDRS);
	assert_true(got.actions & SMFIF_QUARANTINE);
	assert_int_equal(got.protocol & ~0x1fffffu, 0);
	assert_true(got.protocol & SMFIP_HDR_LEADSPC);
	assert_true(got.protocol & SMFIP_NR_HDR);
	assert_true(got.protocol & SMFIP_SKIP);
	assert_false(got.protocol & SMFIP_NR_BODY);
	assert_false(got.protocol & SMFIP_NOHDRS);
	assert_false(got.protocol & SMFIP_NOBODY);
}

static void negotiate_v2(void **state)
{
	struct fixture *f = *state;
	struct proto_optneg got;
	negotiate(f, 2, SMFI_V2_ACTS, SMFI_V2_PROT, &got);
	assert_int_equal(got.version, 2);
	assert_int_equal(got.actions & ~(uint32_t)SMFI_V2_ACTS, 0);
	assert_int_equal(got.protocol & ~(uint32_t)SMFI_V2_PROT, 0);
	assert_false(got.protocol & SMFIP_NOHDRS);
}

static void negotiate_subset(void **state)
{
	struct fixture *f = *state;
	struct proto_optneg got;
	negotiate(f, 6, SMFIF_ADDHDRS, SMFIP_NR_HDR | SMFIP_NOCONNECT, &got);
	assert_int_equal(got.actions, SMFIF_ADDHDRS);
	assert_int_equal(got.protocol & ~(uint32_t)(SMFIP_NR_HDR | SMFIP_NOCONNECT), 0);
}

static void before_optneg(void **state)
{
	struct fixture *f = *state;
	struct evbuffer *in = evbuffer_new();
	proto_enc_cmd_helo(in, "x");
	assert_int_equal(feed(f, in), SESS_CLOSE);
	evbuffer_free(in);
}

static void send_envelope(struct evbuffer *in, const char *from,
                          const char *rcpt)
{
	const char *conn_names[] = { "j" };
	const char *conn_values[] = { "mx.test" };
	proto_enc_cmd_macro(in, SMFIC_CONNECT, 1, conn_names, conn_values);
	proto_enc_cmd_connect(in, "client.example", SMFIA_INET, 4321, "192.0.2.7");
	proto_enc_cmd_helo(in, "client.example");
	const char *mail[] = { from, "SIZE=100" };
	proto_enc_cmd_envelope(in, SMFIC_MAIL, 2, mail);
	const char *names[] = { "{i}" };
	const char *values[] = { "4XyZ" };
	proto_enc_cmd_macro(in, SMFIC_RCPT, 1, names, values);
	const char *r[] = { rcpt };
	proto_enc_cmd_envelope(in, SMFIC_RCPT, 1, r);
}

/* A whole message on a version 2 MTA (every step answered). */
static void message_v2(void **state)
{
	struct fixture *f = *state;
	struct proto_optneg got;
	negotiate(f, 2, SMFI_V2_ACTS, 0, &got);
	struct evbuffer *in = evbuffer_new();
	send_envelope(in, "<a@example.org>", "<b@example.net>");
	proto_enc_cmd_simple(in, SMFIC_DATA);
	proto_enc_cmd_header(in, "Subject", "hello");
	proto_enc_cmd_header(in, "From", "a@example.org");
	proto_enc_cmd_simple(in, SMFIC_EOH);
	proto_enc_cmd_body(in, SMFIC_BODY, "line 1\r\n", 8);
	proto_enc_cmd_body(in, SMFIC_BODYEOB, "line 2\r\n", 8);
	assert_int_equal(feed(f, in), SESS_EOM);
	/* CONNECT HELO MAIL RCPT DATA HEADER HEADER EOH BODY: 9 continues */
	for (int i = 0; i < 9; i++)
		assert_int_equal(reply_cmd(f), SMFIR_CONTINUE);
	assert_int_equal(reply_cmd(f), '\0');
	assert_true(sess_waiting(f->sess));
	assert_int_equal(f->envelopes, 1);	/* SPF starts at MAIL FROM */

	struct conf *c = NULL;
	struct scan *scan = sess_take_scan(f->sess, &c);
	assert_non_null(scan);
	assert_ptr_equal(c, f->conf);
	const struct scan_env *env = scan_env(scan);
	assert_string_equal(env->queue_id, "4XyZ");
	assert_string_equal(env->client_addr, "192.0.2.7");
	assert_int_equal(env->client_port, 4321);
	assert_string_equal(env->helo, "client.example");
	assert_string_equal(env->mail_from, "a@example.org");
	assert_int_equal(env->rcpt_count, 1);
	assert_string_equal(env->rcpts[0], "b@example.net");
	assert_string_equal(env->hostname, "mx.test");
	size_t len;
	const char *raw = scan_raw(scan, &len);
	/* v2 MTAs strip the space after the colon: it is put back. */
	assert_string_equal(raw, "Subject: hello\r\nFrom: a@example.org\r\n\r\n"
	                         "line 1\r\nline 2\r\n");

	struct verdict v = { .action = CONF_ACT_REJECT, .code = "550",
	                     .xcode = "5.7.1" };
	v.text = strdup("spam\nsecond line");
	assert_true(sess_eom_reply(f->sess, sess_msg_id(f->sess), scan, &v,
	                           "mx.test", f->out));
	struct proto_reply r;
	char buf[4096];
	assert_int_equal(next_reply(f, &r, buf, sizeof buf), SMFIR_REPLYCODE);
	assert_non_null(strstr(r.text.ptr, "550-5.7.1 spam"));
	assert_non_null(strstr(r.text.ptr, "550 5.7.1 second line"));
	assert_false(sess_in_message(f->sess));
	free(v.text);
	scan_free(scan);
	conf_unref(c);
	evbuffer_free(in);
}

/* Version 6 with no-reply steps: only EOM is answered; headers added,
 * forged X-Spam and Authentication-Results of our id removed (last
 * first), quarantine sent. */
static void message_v6_edits(void **state)
{
	struct fixture *f = *state;
	struct proto_optneg got;
	negotiate(f, 6, 0x1ff, 0x1fffff, &got);
	struct evbuffer *in = evbuffer_new();
	send_envelope(in, "<>", "<b@example.net>");
	proto_enc_cmd_header(in, "X-Spam-Status", " Yes, forged");
	proto_enc_cmd_header(in, "Authentication-Results", " mx.test; spf=pass");
	proto_enc_cmd_header(in, "Authentication-Results", " other.example; x=y");
	proto_enc_cmd_header(in, "x-spam-status", " No, forged too");
	proto_enc_cmd_simple(in, SMFIC_EOH);
	proto_enc_cmd_body(in, SMFIC_BODYEOB, "", 0);
	assert_int_equal(feed(f, in), SESS_EOM);
	assert_int_equal(reply_cmd(f), '\0');	/* NR_* steps: no replies */
	struct conf *c = NULL;
	struct scan *scan = sess_take_scan(f->sess, &c);
	assert_string_equal(scan_env(scan)->mail_from, "");
	size_t len;
	assert_non_null(strstr(scan_raw(scan, &len),
	                       "X-Spam-Status: Yes, forged\r\n"));

	struct verdict v = { .action = CONF_ACT_QUARANTINE };
	v.quarantine_reason = strdup("held");
	struct verdict_header h = { strdup("X-Spam-Flag"), strdup("YES") };
	v.headers = &h;
	v.header_count = 1;
	assert_true(sess_eom_reply(f->sess, sess_msg_id(f->sess), scan, &v,
	                           "mx.test", f->out));
	struct proto_reply r;
	char buf[4096];
	/* x-spam-status #2, Authentication-Results #1, X-Spam-Status #1 */
	assert_int_equal(next_reply(f, &r, buf, sizeof buf), SMFIR_CHGHEADER);
	assert_int_equal(r.index, 2);
	assert_string_equal(r.name.ptr, "x-spam-status");
	assert_int_equal(r.value.len, 0);
	assert_int_equal(next_reply(f, &r, buf, sizeof buf), SMFIR_CHGHEADER);
	assert_int_equal(r.index, 1);
	assert_string_equal(r.name.ptr, "Authentication-Results");
	assert_int_equal(next_reply(f, &r, buf, sizeof buf), SMFIR_CHGHEADER);
	assert_int_equal(r.index, 1);
	assert_string_equal(r.name.ptr, "X-Spam-Status");
	assert_int_equal(next_reply(f, &r, buf, sizeof buf), SMFIR_ADDHEADER);
	assert_string_equal(r.name.ptr, "X-Spam-Flag");
	/* HDR_LEADSPC negotiated: the MTA writes the value as sent, so the
	 * space after the colon is sent too (Postfix writes "Name:value"). */
	assert_string_equal(r.value.ptr, " YES");
	assert_int_equal(next_reply(f, &r, buf, sizeof buf), SMFIR_QUARANTINE);
	assert_string_equal(r.text.ptr, "held");
	assert_int_equal(next_reply(f, &r, buf, sizeof buf), SMFIR_CONTINUE);
	assert_int_equal(reply_cmd(f), '\0');
	free(v.quarantine_reason);
	free(h.name);
	free(h.value);
	scan_free(scan);
	conf_unref(c);
	evbuffer_free(in);
}

/* ABORT while the verdict is pending: the late verdict is dropped and
 * the next message on the connection works. */
static void abort_and_reuse(void **state)
{
	struct fixture *f = *state;
	struct proto_optneg got;
	negotiate(f, 6, 0x1ff, 0x1fffff, &got);
	struct evbuffer *in = evbuffer_new();
	send_envelope(in, "<a@x>", "<b@y>");
	proto_enc_cmd_body(in, SMFIC_BODYEOB, "x", 1);
	assert_int_equal(feed(f, in), SESS_EOM);
	uint64_t id = sess_msg_id(f->sess);
	struct conf *c = NULL;
	struct scan *scan = sess_take_scan(f->sess, &c);
	proto_enc_cmd_simple(in, SMFIC_ABORT);
	assert_int_equal(feed(f, in), SESS_OK);
	assert_false(sess_in_message(f->sess));
	struct verdict v = { .action = CONF_ACT_ACCEPT };
	assert_false(sess_eom_reply(f->sess, id, scan, &v, "mx", f->out));
	assert_int_equal(reply_cmd(f), '\0');
	scan_free(scan);
	conf_unref(c);
	/* second message, same connection */
	const char *mail[] = { "<c@x>" };
	proto_enc_cmd_envelope(in, SMFIC_MAIL, 1, mail);
	proto_enc_cmd_body(in, SMFIC_BODYEOB, "y", 1);
	assert_int_equal(feed(f, in), SESS_EOM);
	scan = sess_take_scan(f->sess, &c);
	assert_string_equal(scan_env(scan)->mail_from, "c@x");
	assert_int_equal(scan_env(scan)->rcpt_count, 0);
	assert_true(sess_eom_reply(f->sess, sess_msg_id(f->sess), scan, &v, "mx",
	                           f->out));
	assert_int_equal(reply_cmd(f), SMFIR_CONTINUE);
	scan_free(scan);
	conf_unref(c);
	evbuffer_free(in);
}

/* QUIT_NC: a new SMTP session on the same connection. */
static void quit_nc(void **state)
{
	struct fixture *f = *state;
	struct proto_optneg got;
	negotiate(f, 6, 0x1ff, 0x1fffff, &got);
	struct evbuffer *in = evbuffer_new();
	send_envelope(in, "<a@x>", "<b@y>");
	proto_enc_cmd_simple(in, SMFIC_QUIT_NC);
	proto_enc_cmd_connect(in, "other", SMFIA_INET6, 25, "2001:db8::1");
	const char *mail[] = { "<d@x>" };
	proto_enc_cmd_envelope(in, SMFIC_MAIL, 1, mail);
	proto_enc_cmd_body(in, SMFIC_BODYEOB, "", 0);
	assert_int_equal(feed(f, in), SESS_EOM);
	struct conf *c = NULL;
	struct scan *scan = sess_take_scan(f->sess, &c);
	assert_string_equal(scan_env(scan)->client_addr, "2001:db8::1");
	assert_string_equal(scan_env(scan)->helo, "");
	assert_string_equal(scan_env(scan)->queue_id, "");
	scan_free(scan);
	conf_unref(c);
	proto_enc_cmd_simple(in, SMFIC_QUIT);
	assert_int_equal(feed(f, in), SESS_CLOSE);
	evbuffer_free(in);
}

/* Past max_message_size (100 here) the rest of the body is skipped. */
static void skip_large_body(void **state)
{
	struct fixture *f = *state;
	struct proto_optneg got;
	negotiate(f, 6, 0x1ff, 0x1fffff, &got);
	struct evbuffer *in = evbuffer_new();
	send_envelope(in, "<a@x>", "<b@y>");
	char chunk[80];
	memset(chunk, 'a', sizeof chunk);
	proto_enc_cmd_body(in, SMFIC_BODY, chunk, sizeof chunk);
	proto_enc_cmd_body(in, SMFIC_BODY, chunk, sizeof chunk);
	assert_int_equal(feed(f, in), SESS_OK);
	assert_int_equal(reply_cmd(f), SMFIR_CONTINUE);
	assert_int_equal(reply_cmd(f), SMFIR_SKIP);
	proto_enc_cmd_body(in, SMFIC_BODYEOB, "", 0);
	assert_int_equal(feed(f, in), SESS_EOM);
	struct conf *c = NULL;
	struct scan *scan = sess_take_scan(f->sess, &c);
	assert_true(scan_truncated(scan));
	assert_int_equal(scan_size(scan), 2 + 160);
	scan_free(scan);
	conf_unref(c);
	evbuffer_free(in);
}

static void malformed_mail(void **state)
{
	struct fixture *f = *state;
	struct proto_optneg got;
	negotiate(f, 6, 0x1ff, 0x1fffff, &got);
	/* MAIL whose argument lacks its NUL */
	unsigned char pkt[] = { 0, 0, 0, 4, SMFIC_MAIL, '<', 'a', '>' };
	struct evbuffer *in = evbuffer_new();
	evbuffer_add(in, pkt, sizeof pkt);
	assert_int_equal(feed(f, in), SESS_CLOSE);
	evbuffer_free(in);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(negotiate_v6), T(negotiate_v2), T(negotiate_subset),
		T(before_optneg), T(message_v2), T(message_v6_edits),
		T(abort_and_reuse), T(quit_nc), T(skip_large_body),
		T(malformed_mail),
	};
	return cmocka_run_group_tests_name("sess", tests, NULL, NULL);
}
