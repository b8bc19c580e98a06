/* Unit tests of the MTA's modelled hop for the client (clienthop.c):
 * the line written, that the Received parser the rules use reads it as
 * the client's relay, and the cases where nothing is modelled (client
 * unknown, guessed, or recorded by the message already). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "clienthop.h"
#include "relays.h"
#include "scan.h"

#define BODY "Subject: hi\r\nFrom: a@example.com\r\n\r\nbody\r\n"

/* A scan of raw with the envelope of a live session. */
static struct scan *live(const char *raw, const char *ip, const char *host,
                         const char *helo, const char *auth)
{
	struct scan *s = scan_new();
	assert_non_null(s);
	assert_int_equal(scan_set_raw(s, raw, strlen(raw)), 0);
	assert_int_equal(scan_set_env(s, "4Q1x", ip, host, 25, helo,
	                              "a@example.com"), 0);
	assert_int_equal(scan_set_macro_env(s, auth, "mx.example.net"), 0);
	scan_set_received_at(s, 1795000000);   /* 2026-11-18 11:06:40 UTC */
	return s;
}

static void assert_modelled(struct scan *s, bool want)
{
	assert_int_equal(clienthop_model(s, NULL), 0);
	size_t len;
	assert_true((scan_client_hop(s, &len) != NULL) == want);
}

/* The relay the rules see first: the newest relay of the message. */
static const struct relays_relay *newest(struct scan *s, enum relays_kind k)
{
	const struct relays *r = scan_relays(s, NULL);
	assert_non_null(r);
	return relays_at(r, k, 0);
}

static void t_line(void **state)
{
	(void)state;
	struct scan *s = live(BODY, "93.184.216.34", "mail.sender.example",
	                      "helo.sender.example", "");
	assert_modelled(s, true);
	size_t len;
	const char *v = scan_client_hop(s, &len);
	const char *want = " from helo.sender.example (mail.sender.example "
	                   "[93.184.216.34])\r\n\tby mx.example.net (vigil) "
	                   "with ESMTP id 4Q1x;\r\n\t"
	                   "Wed, 18 Nov 2026 11:06:40 +0000";
	if (len != strlen(want) || memcmp(v, want, len) != 0)
		fail_msg("hop \"%.*s\"", (int)len, v);
	/* the parsed message has it first; the headers as received do not */
	size_t raw_len;
	assert_memory_equal(scan_raw(s, &raw_len), "Received: from helo.", 20);
	assert_int_equal(scan_header_count(s), 2);
	const struct relays_relay *y = newest(s, RELAYS_UNTRUSTED);
	assert_non_null(y);
	assert_string_equal(y->ip, "93.184.216.34");
	assert_string_equal(y->rdns, "mail.sender.example");
	assert_string_equal(y->helo, "helo.sender.example");
	assert_string_equal(y->by, "mx.example.net");
	scan_free(s);
}

static void t_no_rdns(void **state)
{
	(void)state;
	/* Sendmail's "[address]" and Postfix's "unknown": no reverse name;
	 * no HELO: the MTA's name for the client stands for it */
	const char *hosts[] = { "[93.184.216.34]", "unknown", "" };
	for (size_t i = 0; i < 3; i++) {
		struct scan *s = live(BODY, "93.184.216.34", hosts[i], "", "");
		assert_modelled(s, true);
		const struct relays_relay *y = newest(s, RELAYS_UNTRUSTED);
		assert_non_null(y);
		assert_string_equal(y->rdns, "");
		assert_true(y->no_rdns);
		assert_string_equal(y->helo, "unknown");
		scan_free(s);
	}
}

static void t_auth_private_v6(void **state)
{
	(void)state;
	/* an authenticated client is trusted, whatever its address */
	struct scan *s = live(BODY, "93.184.216.34", "a.example", "a.example",
	                      "user");
	assert_modelled(s, true);
	assert_null(newest(s, RELAYS_UNTRUSTED));
	assert_non_null(newest(s, RELAYS_TRUSTED));
	scan_free(s);
	/* loopback: trusted by inference */
	s = live(BODY, "127.0.0.1", "localhost", "localhost", "");
	assert_modelled(s, true);
	assert_string_equal(newest(s, RELAYS_TRUSTED)->ip, "127.0.0.1");
	scan_free(s);
	s = live(BODY, "2001:db8::25", "", "h.example", "");
	assert_modelled(s, true);
	assert_string_equal(newest(s, RELAYS_UNTRUSTED)->ip, "2001:db8::25");
	scan_free(s);
}

static void t_sanitized(void **state)
{
	(void)state;
	/* what a client sends cannot end the field or add one */
	struct scan *s = live(BODY, "93.184.216.34", "", "a (b)\r\nX-Evil: 1",
	                      "");
	assert_modelled(s, true);
	assert_string_equal(newest(s, RELAYS_UNTRUSTED)->helo, "a__b___X-Evil:_1");
	assert_int_equal(scan_header_count(s), 2);
	scan_free(s);
}

static void t_not_modelled(void **state)
{
	(void)state;
	struct scan *s = live(BODY, "", "", "h.example", "");
	assert_modelled(s, false);          /* no client address */
	scan_free(s);
	s = live(BODY, "93.184.216.34", "", "h.example", "");
	scan_set_client_guessed(s, true);   /* taken from the message */
	assert_modelled(s, false);
	scan_free(s);
	/* recorded: the MTA's own line (Sendmail), or a stored copy; the
	 * address in another spelling */
	s = live("Received: from h.example (h.example [2001:db8:0::25])\r\n"
	         "\tby mx.example.net (8.17.1/8.17.1) with ESMTP id 4Q1x\r\n"
	         BODY, "2001:db8::25", "h.example", "h.example", "");
	assert_modelled(s, false);
	scan_free(s);
	/* recorded below the site's own private hops */
	s = live("Received: from mx (mx [10.0.0.5]) by store (Postfix) "
	         "with ESMTP id 1\r\n"
	         "Received: from h.example (unknown [93.184.216.34]) by mx "
	         "(Postfix) with ESMTP id 2\r\n" BODY,
	         "93.184.216.34", "", "h.example", "");
	assert_modelled(s, false);
	scan_free(s);
	/* an IPv4 client in an IPv6 line (the text test finds it) */
	s = live("Received: from h.example (h.example [IPv6:::ffff:"
	         "93.184.216.34]) by mx (Postfix) with ESMTP id 2\r\n" BODY,
	         "93.184.216.34", "", "h.example", "");
	assert_modelled(s, false);
	scan_free(s);
	/* the address's text in another address is no record */
	s = live("Received: from o.example (o.example [193.184.216.34]) by "
	         "mx.other (Postfix) with ESMTP id 3\r\n" BODY,
	         "93.184.216.34", "", "h.example", "");
	assert_modelled(s, true);
	scan_free(s);
	/* another client's line is no record of this one */
	s = live("Received: from o.example (o.example [198.51.100.7]) by "
	         "mx.other (Postfix) with ESMTP id 3\r\n" BODY,
	         "93.184.216.34", "", "h.example", "");
	assert_modelled(s, true);
	assert_string_equal(newest(s, RELAYS_UNTRUSTED)->ip, "93.184.216.34");
	assert_int_equal(relays_num(scan_relays(s, NULL), RELAYS_UNTRUSTED), 2);
	scan_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_line),
		cmocka_unit_test(t_no_rdns),
		cmocka_unit_test(t_auth_private_v6),
		cmocka_unit_test(t_sanitized),
		cmocka_unit_test(t_not_modelled),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
