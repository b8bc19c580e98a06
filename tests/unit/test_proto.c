/* Unit tests: the milter wire codec, both directions. */
#include <event2/buffer.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto.h"

/* The bytes of buffer `b` as one packet (copied to `mem`). */
static struct proto_pkt packet(struct evbuffer *b, unsigned char *mem,
                               size_t cap)
{
	size_t len = evbuffer_get_length(b);
	assert_true(len <= cap);
	evbuffer_remove(b, mem, len);
	struct proto_pkt pkt;
	size_t used;
	assert_int_equal(proto_split(mem, len, 1u << 20, &pkt, &used), PROTO_OK);
	assert_int_equal(used, len);
	return pkt;
}

static struct proto_pkt raw(const unsigned char *bytes, size_t len)
{
	struct proto_pkt pkt;
	size_t used;
	assert_int_equal(proto_split(bytes, len, 1u << 20, &pkt, &used), PROTO_OK);
	return pkt;
}

/* Split: partial input, several packets, zero and oversized lengths. */
static void split(void **state)
{
	(void)state;
	const unsigned char two[] = { 0, 0, 0, 1, 'N', 0, 0, 0, 2, 'B', 'x' };
	struct proto_pkt pkt;
	size_t used;
	for (size_t n = 0; n < 5; n++)
		assert_int_equal(proto_split(two, n, 100, &pkt, &used),
		                 PROTO_NEED_MORE);
	assert_int_equal(proto_split(two, sizeof two, 100, &pkt, &used), PROTO_OK);
	assert_int_equal(pkt.cmd, SMFIC_EOH);
	assert_int_equal(pkt.len, 0);
	assert_int_equal(used, 5);
	assert_int_equal(proto_split(two + 5, 5, 100, &pkt, &used), PROTO_NEED_MORE);
	assert_int_equal(proto_split(two + 5, 6, 100, &pkt, &used), PROTO_OK);
	assert_int_equal(pkt.cmd, SMFIC_BODY);
	assert_memory_equal(pkt.data, "x", 1);
	const unsigned char zero[] = { 0, 0, 0, 0, 'N' };
	assert_int_equal(proto_split(zero, 5, 100, &pkt, &used), PROTO_MALFORMED);
	const unsigned char big[] = { 0, 0, 1, 0, 'B' };
	assert_int_equal(proto_split(big, 5, 255, &pkt, &used), PROTO_TOO_BIG);
	const unsigned char huge[] = { 0xff, 0xff, 0xff, 0xff, 'B' };
	assert_int_equal(proto_split(huge, 5, PROTO_MAX_PACKET_DEFAULT, &pkt,
	                             &used), PROTO_TOO_BIG);
}

/* Every MTA command: encoded by the MTA side, decoded by the filter. */
static void commands_round_trip(void **state)
{
	(void)state;
	struct evbuffer *b = evbuffer_new();
	unsigned char mem[1024];
	struct proto_pkt pkt;

	struct proto_optneg o = { 6, 0x1ff, 0x1fffff }, o2;
	proto_enc_cmd_optneg(b, &o);
	pkt = packet(b, mem, sizeof mem);
	assert_int_equal(proto_dec_optneg(&pkt, &o2), PROTO_OK);
	assert_int_equal(o2.version, 6);
	assert_int_equal(o2.actions, 0x1ff);
	assert_int_equal(o2.protocol, 0x1fffff);

	const char *names[] = { "j", "{daemon_name}" };
	const char *values[] = { "mx.example", "smtpd" };
	proto_enc_cmd_macro(b, SMFIC_CONNECT, 2, names, values);
	pkt = packet(b, mem, sizeof mem);
	char stage;
	struct proto_strs it;
	struct proto_str str;
	assert_int_equal(proto_dec_macro(&pkt, &stage, &it), PROTO_OK);
	assert_int_equal(stage, SMFIC_CONNECT);
	const char *want[] = { "j", "mx.example", "{daemon_name}", "smtpd" };
	for (int i = 0; i < 4; i++) {
		assert_true(proto_strs_next(&it, &str));
		assert_string_equal(str.ptr, want[i]);
		assert_int_equal(str.len, strlen(want[i]));
	}
	assert_false(proto_strs_next(&it, &str));

	struct proto_connect c;
	proto_enc_cmd_connect(b, "client.example", SMFIA_INET6, 2525, "2001:db8::1");
	pkt = packet(b, mem, sizeof mem);
	assert_int_equal(proto_dec_connect(&pkt, &c), PROTO_OK);
	assert_string_equal(c.host.ptr, "client.example");
	assert_int_equal(c.family, SMFIA_INET6);
	assert_int_equal(c.port, 2525);
	assert_string_equal(c.addr.ptr, "2001:db8::1");
	proto_enc_cmd_connect(b, "local", SMFIA_UNIX, 0, "/run/sock");
	pkt = packet(b, mem, sizeof mem);
	assert_int_equal(proto_dec_connect(&pkt, &c), PROTO_OK);
	assert_int_equal(c.family, SMFIA_UNIX);
	assert_string_equal(c.addr.ptr, "/run/sock");
	proto_enc_cmd_connect(b, "unknown", SMFIA_UNKNOWN, 0, NULL);
	pkt = packet(b, mem, sizeof mem);
	assert_int_equal(proto_dec_connect(&pkt, &c), PROTO_OK);
	assert_int_equal(c.family, SMFIA_UNKNOWN);
	assert_int_equal(c.addr.len, 0);

	proto_enc_cmd_helo(b, "helo.example");
	pkt = packet(b, mem, sizeof mem);
	assert_int_equal(proto_dec_helo(&pkt, &str), PROTO_OK);
	assert_string_equal(str.ptr, "helo.example");

	const char *mail[] = { "<a@example.org>", "SIZE=1000", "BODY=8BITMIME" };
	proto_enc_cmd_envelope(b, SMFIC_MAIL, 3, mail);
	pkt = packet(b, mem, sizeof mem);
	assert_int_equal(proto_dec_envelope(&pkt, &it), PROTO_OK);
	for (int i = 0; i < 3; i++) {
		assert_true(proto_strs_next(&it, &str));
		assert_string_equal(str.ptr, mail[i]);
	}
	const char *rcpt[] = { "<b@example.net>" };
	proto_enc_cmd_envelope(b, SMFIC_RCPT, 1, rcpt);
	pkt = packet(b, mem, sizeof mem);
	assert_int_equal(pkt.cmd, SMFIC_RCPT);
	assert_int_equal(proto_dec_envelope(&pkt, &it), PROTO_OK);

	struct proto_str name, value;
	proto_enc_cmd_header(b, "Subject", " hi\r\n\tthere");
	pkt = packet(b, mem, sizeof mem);
	assert_int_equal(proto_dec_header(&pkt, &name, &value), PROTO_OK);
	assert_string_equal(name.ptr, "Subject");
	assert_string_equal(value.ptr, " hi\r\n\tthere");
	proto_enc_cmd_header(b, "Empty", "");
	pkt = packet(b, mem, sizeof mem);
	assert_int_equal(proto_dec_header(&pkt, &name, &value), PROTO_OK);
	assert_int_equal(value.len, 0);

	proto_enc_cmd_unknown(b, "XFOO bar");
	pkt = packet(b, mem, sizeof mem);
	assert_int_equal(proto_dec_unknown(&pkt, &str), PROTO_OK);
	assert_string_equal(str.ptr, "XFOO bar");

	proto_enc_cmd_body(b, SMFIC_BODY, "a\0b", 3);
	pkt = packet(b, mem, sizeof mem);
	assert_int_equal(pkt.len, 3);
	assert_memory_equal(pkt.data, "a\0b", 3);
	proto_enc_cmd_body(b, SMFIC_BODYEOB, NULL, 0);
	pkt = packet(b, mem, sizeof mem);
	assert_int_equal(pkt.cmd, SMFIC_BODYEOB);
	assert_int_equal(pkt.len, 0);
	char big[PROTO_BODY_CHUNK + 1];
	memset(big, 'x', sizeof big);
	assert_int_equal(proto_enc_cmd_body(b, SMFIC_BODY, big, sizeof big), -1);
	assert_int_equal(proto_enc_cmd_body(b, SMFIC_BODY, NULL, 1), -1);
	assert_int_equal(proto_enc_cmd_body(b, SMFIC_HEADER, "x", 1), -1);
	/* bad arguments append nothing */
	const char *no_name[] = { NULL }, *empty_name[] = { "" };
	assert_int_equal(proto_enc_cmd_macro(b, SMFIC_MAIL, 1, no_name, values), -1);
	assert_int_equal(proto_enc_cmd_macro(b, SMFIC_MAIL, 1, empty_name, values),
	                 -1);
	assert_int_equal(proto_enc_cmd_connect(b, NULL, SMFIA_INET, 25, "1.2.3.4"),
	                 -1);
	assert_int_equal(proto_enc_cmd_envelope(b, SMFIC_MAIL, 1, no_name), -1);
	assert_int_equal(proto_enc_cmd_envelope(b, SMFIC_MAIL, 0, mail), -1);
	assert_int_equal(proto_enc_cmd_envelope(b, SMFIC_HELO, 1, mail), -1);
	assert_int_equal(proto_enc_cmd_header(b, "", "v"), -1);
	assert_int_equal(proto_enc_cmd_helo(b, NULL), -1);
	assert_int_equal(evbuffer_get_length(b), 0);

	const char simple[] = { SMFIC_DATA, SMFIC_EOH, SMFIC_ABORT, SMFIC_QUIT,
	                        SMFIC_QUIT_NC };
	for (size_t i = 0; i < sizeof simple; i++) {
		proto_enc_cmd_simple(b, simple[i]);
		pkt = packet(b, mem, sizeof mem);
		assert_int_equal(pkt.cmd, simple[i]);
		assert_int_equal(pkt.len, 0);
		assert_string_not_equal(proto_cmd_name(simple[i]), "?");
	}
	evbuffer_free(b);
}

/* Malformed commands are refused, never read out of bounds. */
static void malformed_commands(void **state)
{
	(void)state;
	struct proto_optneg o;
	struct proto_connect c;
	struct proto_str s1, s2;
	struct proto_strs it;
	char stage;
	const unsigned char short_optneg[] = { 0, 0, 0, 5, 'O', 0, 0, 0, 6 };
	struct proto_pkt p = raw(short_optneg, sizeof short_optneg);
	assert_int_equal(proto_dec_optneg(&p, &o), PROTO_MALFORMED);
	const unsigned char no_nul[] = { 0, 0, 0, 3, 'H', 'h', 'i' };
	p = raw(no_nul, sizeof no_nul);
	assert_int_equal(proto_dec_helo(&p, &s1), PROTO_MALFORMED);
	const unsigned char conn_trunc[] = { 0, 0, 0, 5, 'C', 'h', 0, '4', 0 };
	p = raw(conn_trunc, sizeof conn_trunc);
	assert_int_equal(proto_dec_connect(&p, &c), PROTO_MALFORMED);
	const unsigned char conn_noaddr[] = { 0, 0, 0, 7, 'C', 'h', 0, '4', 0, 25,
	                                      '1' };
	p = raw(conn_noaddr, sizeof conn_noaddr);
	assert_int_equal(proto_dec_connect(&p, &c), PROTO_MALFORMED);
	const unsigned char conn_family[] = { 0, 0, 0, 6, 'C', 'h', 0, 'Z', 0, 25 };
	p = raw(conn_family, sizeof conn_family);
	assert_int_equal(proto_dec_connect(&p, &c), PROTO_MALFORMED);
	const unsigned char odd_macro[] = { 0, 0, 0, 4, 'D', 'C', 'j', 0 };
	p = raw(odd_macro, sizeof odd_macro);
	assert_int_equal(proto_dec_macro(&p, &stage, &it), PROTO_MALFORMED);
	const unsigned char empty_macro[] = { 0, 0, 0, 1, 'D' };
	p = raw(empty_macro, sizeof empty_macro);
	assert_int_equal(proto_dec_macro(&p, &stage, &it), PROTO_MALFORMED);
	const unsigned char hdr_one[] = { 0, 0, 0, 3, 'L', 'A', 0 };
	p = raw(hdr_one, sizeof hdr_one);
	assert_int_equal(proto_dec_header(&p, &s1, &s2), PROTO_MALFORMED);
	const unsigned char hdr_noname[] = { 0, 0, 0, 3, 'L', 0, 0 };
	p = raw(hdr_noname, sizeof hdr_noname);
	assert_int_equal(proto_dec_header(&p, &s1, &s2), PROTO_MALFORMED);
	const unsigned char mail_empty[] = { 0, 0, 0, 1, 'M' };
	p = raw(mail_empty, sizeof mail_empty);
	assert_int_equal(proto_dec_envelope(&p, &it), PROTO_MALFORMED);
	const unsigned char mail_tail[] = { 0, 0, 0, 5, 'M', 'a', 0, 'b', 'c' };
	p = raw(mail_tail, sizeof mail_tail);
	assert_int_equal(proto_dec_envelope(&p, &it), PROTO_MALFORMED);
	/* the command byte is checked too */
	const unsigned char helo_as_mail[] = { 0, 0, 0, 3, 'M', 'h', 0 };
	p = raw(helo_as_mail, sizeof helo_as_mail);
	assert_int_equal(proto_dec_helo(&p, &s1), PROTO_MALFORMED);
}

/* Negotiation: version, actions and steps never exceed the offer. */
static void negotiation(void **state)
{
	(void)state;
	const uint32_t want_act = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE |
	                          SMFIF_SETSYMLIST;
	const uint32_t want_prot = SMFIP_NR_HDR | SMFIP_HDR_LEADSPC | SMFIP_SKIP |
	                           SMFIP_NOUNKNOWN | SMFIP_NR_CONN;
	struct proto_optneg r;
	/* Postfix 3.7 and Sendmail 8.17: version 6, everything offered. */
	struct proto_optneg pf = { 6, 0x1ff, 0x1fffff };
	assert_int_equal(proto_negotiate(&pf, want_act, want_prot, &r), 0);
	assert_int_equal(r.version, 6);
	assert_int_equal(r.actions, want_act);
	assert_int_equal(r.protocol, want_prot);
	/* Sendmail 8.17 offers SMFI_CURR_ACTS and SMFI_CURR_PROT. */
	struct proto_optneg sm = { SMFI_PROT_VERSION, SMFI_CURR_ACTS, SMFI_CURR_PROT };
	assert_int_equal(proto_negotiate(&sm, 0xffffffff, 0xffffffff, &r), 0);
	assert_int_equal(r.version, 6);
	assert_int_equal(r.actions, 0x1ff);
	assert_int_equal(r.protocol, 0x1fffff);
	/* bits beyond version 6 (SMFIP_MDS_*) are never echoed */
	sm.protocol |= SMFIP_MDS_256K | SMFIP_MDS_1M;
	assert_int_equal(proto_negotiate(&sm, 0xffffffff, 0xffffffff, &r), 0);
	assert_int_equal(r.protocol, 0x1fffff);
	/* A future version 7 MTA gets 6. */
	struct proto_optneg v7 = { 7, 0x1ff, 0x1fffff };
	assert_int_equal(proto_negotiate(&v7, want_act, want_prot, &r), 0);
	assert_int_equal(r.version, 6);
	/* Version 2: only v2 actions and steps. */
	struct proto_optneg v2 = { 2, 0xffffffff, 0xffffffff };
	assert_int_equal(proto_negotiate(&v2, want_act, want_prot, &r), 0);
	assert_int_equal(r.version, 2);
	assert_int_equal(r.actions & ~(uint32_t)SMFI_V2_ACTS, 0);
	assert_int_equal(r.protocol & ~(uint32_t)SMFI_V2_PROT, 0);
	/* Versions 3 and 4: no HDR_LEADSPC, SKIP or NR_CONN yet, no
	 * version-6 actions; UNKNOWN exists from 3 on, DATA from 4 on. */
	const uint32_t v4_prot = want_prot | SMFIP_NODATA;
	const uint32_t v6_acts = SMFIF_CHGFROM | SMFIF_ADDRCPT_PAR | SMFIF_SETSYMLIST;
	for (uint32_t v = 3; v <= 4; v++) {
		struct proto_optneg o = { v, 0x1ff, 0x1fffff };
		assert_int_equal(proto_negotiate(&o, 0x1ff, v4_prot, &r), 0);
		assert_int_equal(r.version, v);
		assert_false(r.protocol & SMFIP_HDR_LEADSPC);
		assert_false(r.protocol & SMFIP_SKIP);
		assert_false(r.protocol & SMFIP_NR_CONN);
		assert_true(r.protocol & SMFIP_NR_HDR);
		assert_true(r.protocol & SMFIP_NOUNKNOWN);
		assert_int_equal(!!(r.protocol & SMFIP_NODATA), v == 4);
		assert_int_equal(r.actions, SMFI_V2_ACTS);
		assert_false(r.actions & v6_acts);
	}
	/* Postfix with milter_protocol = 2, 3 or 4 offers every action but
	 * only that version's steps. */
	const uint32_t pf_steps[] = { SMFI_V2_PROT, SMFI_V2_PROT | SMFIP_NOUNKNOWN,
	                              SMFI_V2_PROT | SMFIP_NOUNKNOWN | SMFIP_NODATA };
	for (uint32_t v = 2; v <= 4; v++) {
		struct proto_optneg o = { v, 0x1ff, pf_steps[v - 2] };
		assert_int_equal(proto_negotiate(&o, 0x1ff, 0xffffffff, &r), 0);
		assert_int_equal(r.version, v);
		assert_int_equal(r.protocol, pf_steps[v - 2]);
		assert_int_equal(r.actions, SMFI_V2_ACTS);
	}
	/* Any subset offered: the reply is a subset of it. */
	for (uint32_t bits = 0; bits < 64; bits++) {
		struct proto_optneg o = { 6, bits * 7u & 0x1ff, bits * 0x2345u & 0x1fffff };
		assert_int_equal(proto_negotiate(&o, 0xffffffff, 0xffffffff, &r), 0);
		assert_int_equal(r.actions & ~o.actions, 0);
		assert_int_equal(r.protocol & ~o.protocol, 0);
	}
	struct proto_optneg v1 = { 1, 0xf, 0x3f };
	assert_int_equal(proto_negotiate(&v1, want_act, want_prot, &r), -1);
}

/* OPTNEG reply with macro lists, decoded by the MTA side. */
static void optneg_reply(void **state)
{
	(void)state;
	struct evbuffer *b = evbuffer_new();
	unsigned char mem[1024];
	struct proto_optneg r = { 6, SMFIF_ADDHDRS, SMFIP_NR_HDR };
	const char *macros[SMFIM_LAST + 1] = { [SMFIM_CONNECT] = "j {daemon_name}",
	                                       [SMFIM_EOM] = "i" };
	assert_int_equal(proto_enc_optneg(b, &r, macros), 0);
	struct proto_pkt pkt = packet(b, mem, sizeof mem);
	struct proto_reply rep;
	assert_int_equal(proto_dec_reply(&pkt, &rep), PROTO_OK);
	assert_int_equal(rep.cmd, SMFIC_OPTNEG);
	assert_int_equal(rep.neg.version, 6);
	assert_int_equal(rep.neg.actions, SMFIF_ADDHDRS);
	uint32_t st;
	struct proto_str list;
	assert_true(proto_optneg_macros_next(&rep, &st, &list));
	assert_int_equal(st, SMFIM_CONNECT);
	assert_string_equal(list.ptr, "j {daemon_name}");
	assert_true(proto_optneg_macros_next(&rep, &st, &list));
	assert_int_equal(st, SMFIM_EOM);
	assert_string_equal(list.ptr, "i");
	assert_false(proto_optneg_macros_next(&rep, &st, &list));
	/* version 2: no macro lists */
	r.version = 2;
	proto_enc_optneg(b, &r, macros);
	assert_int_equal(evbuffer_get_length(b), 4 + 1 + 12);
	evbuffer_free(b);
}

/* Every reply: encoded by the filter, decoded by the MTA side. */
static void replies(void **state)
{
	(void)state;
	struct evbuffer *b = evbuffer_new();
	unsigned char mem[2048];
	struct proto_reply r;
	struct proto_pkt pkt;
	const char simple[] = { SMFIR_CONTINUE, SMFIR_ACCEPT, SMFIR_REJECT,
		SMFIR_TEMPFAIL, SMFIR_DISCARD, SMFIR_PROGRESS, SMFIR_SKIP };
	for (size_t i = 0; i < sizeof simple; i++) {
		assert_int_equal(proto_enc_simple(b, simple[i]), 0);
		pkt = packet(b, mem, sizeof mem);
		assert_int_equal(proto_dec_reply(&pkt, &r), PROTO_OK);
		assert_int_equal(r.cmd, simple[i]);
		assert_string_not_equal(proto_reply_name(simple[i]),
		                        "an unknown reply");
	}
	assert_string_equal(proto_reply_name(SMFIR_ADDHEADER), "ADDHEADER");
	assert_string_equal(proto_reply_name('Z'), "an unknown reply");
	assert_string_equal(proto_cmd_name('Z'), "?");
	assert_int_equal(proto_enc_addheader(b, "X-Spam-Flag", "YES"), 0);
	pkt = packet(b, mem, sizeof mem);
	assert_int_equal(proto_dec_reply(&pkt, &r), PROTO_OK);
	assert_int_equal(r.cmd, SMFIR_ADDHEADER);
	assert_string_equal(r.name.ptr, "X-Spam-Flag");
	assert_string_equal(r.value.ptr, "YES");
	/* folding kept as "\n\t"; a bare line break cannot start a header */
	assert_int_equal(proto_enc_insheader(b, 0, "Authentication-Results",
	                                     "mx; spf=pass\r\n\tdkim=none\nX-Evil: 1"), 0);
	pkt = packet(b, mem, sizeof mem);
	assert_int_equal(proto_dec_reply(&pkt, &r), PROTO_OK);
	assert_int_equal(r.cmd, SMFIR_INSHEADER);
	assert_int_equal(r.index, 0);
	assert_string_equal(r.value.ptr, "mx; spf=pass\n\tdkim=none\n\tX-Evil: 1");
	assert_int_equal(proto_enc_chgheader(b, 2, "X-Spam-Status", NULL), 0);
	pkt = packet(b, mem, sizeof mem);
	assert_int_equal(proto_dec_reply(&pkt, &r), PROTO_OK);
	assert_int_equal(r.cmd, SMFIR_CHGHEADER);
	assert_int_equal(r.index, 2);
	assert_int_equal(r.value.len, 0);
	/* a filter's header without a usable name is malformed */
	const unsigned char no_name[] = { 0, 0, 0, 10, SMFIR_CHGHEADER,
		0, 0, 0, 1, 0, 'v', 'a', 'l', 0 };
	const unsigned char colon[] = { 0, 0, 0, 9, SMFIR_ADDHEADER,
		'a', ':', 'b', 0, 'v', 'a', 'l', 0 };
	pkt = raw(no_name, sizeof no_name);
	assert_int_equal(proto_dec_reply(&pkt, &r), PROTO_MALFORMED);
	pkt = raw(colon, sizeof colon);
	assert_int_equal(proto_dec_reply(&pkt, &r), PROTO_MALFORMED);
	assert_int_equal(proto_enc_addheader(b, "Bad Name", "x"), -1);
	assert_int_equal(proto_enc_addheader(b, "Bad:Name", "x"), -1);
	assert_int_equal(proto_enc_addheader(b, "", "x"), -1);
	assert_int_equal(evbuffer_get_length(b), 0);
	assert_int_equal(proto_enc_quarantine(b, "held for review"), 0);
	pkt = packet(b, mem, sizeof mem);
	assert_int_equal(proto_dec_reply(&pkt, &r), PROTO_OK);
	assert_int_equal(r.cmd, SMFIR_QUARANTINE);
	assert_string_equal(r.text.ptr, "held for review");
	assert_int_equal(proto_enc_delrcpt(b, "<x@y>"), 0);
	pkt = packet(b, mem, sizeof mem);
	assert_int_equal(proto_dec_reply(&pkt, &r), PROTO_OK);
	assert_int_equal(r.cmd, SMFIR_DELRCPT);
	assert_string_equal(r.text.ptr, "<x@y>");
	assert_int_equal(proto_enc_addrcpt(b, "<z@y>"), 0);
	pkt = packet(b, mem, sizeof mem);
	assert_int_equal(proto_dec_reply(&pkt, &r), PROTO_OK);
	assert_int_equal(r.cmd, SMFIR_ADDRCPT);
	evbuffer_free(b);
}

static const char *replycode(struct evbuffer *b, const char *code,
                             const char *x, const char *text, char *mem,
                             size_t cap)
{
	if (proto_enc_replycode(b, code, x, text) != 0)
		return NULL;
	struct proto_pkt pkt = packet(b, (unsigned char *)mem, cap);
	struct proto_reply r;
	assert_int_equal(proto_dec_reply(&pkt, &r), PROTO_OK);
	assert_int_equal(r.cmd, SMFIR_REPLYCODE);
	return r.text.ptr;
}

/* Reply codes: class checks, multi-line layout, CR/LF and % handling. */
static void reply_codes(void **state)
{
	(void)state;
	struct evbuffer *b = evbuffer_new();
	char mem[8192];
	assert_string_equal(replycode(b, "550", "5.7.1", "Go away", mem, sizeof mem),
	                    "550 5.7.1 Go away");
	assert_string_equal(replycode(b, "451", NULL, "later", mem, sizeof mem),
	                    "451 later");
	assert_string_equal(replycode(b, "554", "5.7.1", "one\ntwo\nthree", mem,
	                              sizeof mem),
	                    "554-5.7.1 one\r\n554-5.7.1 two\r\n554 5.7.1 three");
	assert_string_equal(replycode(b, "550", "5.7.1", "100% spam\r\x01", mem,
	                              sizeof mem), "550 5.7.1 100%% spam");
	/* class mismatches and bad codes */
	assert_null(replycode(b, "550", "4.7.1", "x", mem, sizeof mem));
	assert_null(replycode(b, "450", "5.7.1", "x", mem, sizeof mem));
	assert_null(replycode(b, "250", NULL, "x", mem, sizeof mem));
	assert_null(replycode(b, "55", NULL, "x", mem, sizeof mem));
	assert_null(replycode(b, "5x0", NULL, "x", mem, sizeof mem));
	assert_null(replycode(b, "550", "5.7", "x", mem, sizeof mem));
	/* too many lines, too long a line */
	char lines[200];
	memset(lines, '\n', 40);
	lines[40] = '\0';
	assert_null(replycode(b, "550", NULL, lines, mem, sizeof mem));
	char *longline = malloc(1200);
	memset(longline, 'a', 1199);
	longline[1199] = '\0';
	assert_null(replycode(b, "550", NULL, longline, mem, sizeof mem));
	free(longline);
	assert_int_equal(evbuffer_get_length(b), 0);
	evbuffer_free(b);
}

static void malformed_replies(void **state)
{
	(void)state;
	struct proto_reply r;
	const unsigned char chg_short[] = { 0, 0, 0, 3, 'm', 0, 0 };
	struct proto_pkt p = raw(chg_short, sizeof chg_short);
	assert_int_equal(proto_dec_reply(&p, &r), PROTO_MALFORMED);
	const unsigned char add_one[] = { 0, 0, 0, 3, 'h', 'X', 0 };
	p = raw(add_one, sizeof add_one);
	assert_int_equal(proto_dec_reply(&p, &r), PROTO_MALFORMED);
	const unsigned char code_nonul[] = { 0, 0, 0, 4, 'y', '5', '5', '0' };
	p = raw(code_nonul, sizeof code_nonul);
	assert_int_equal(proto_dec_reply(&p, &r), PROTO_MALFORMED);
	const unsigned char unknown[] = { 0, 0, 0, 1, 'Z' };
	p = raw(unknown, sizeof unknown);
	assert_int_equal(proto_dec_reply(&p, &r), PROTO_MALFORMED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(split),
		cmocka_unit_test(commands_round_trip),
		cmocka_unit_test(malformed_commands),
		cmocka_unit_test(negotiation),
		cmocka_unit_test(optneg_reply),
		cmocka_unit_test(replies),
		cmocka_unit_test(reply_codes),
		cmocka_unit_test(malformed_replies),
	};
	return cmocka_run_group_tests_name("proto", tests, NULL, NULL);
}
