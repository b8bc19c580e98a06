/* Unit tests: relay trust with trusted_networks, internal_networks and
 * msa_networks configured (as the rule loader reads them): the
 * trusted/internal boundary, one standing for the other, authenticated
 * relays, MSAs, exclusions, IPv6, clear_ lines; the lines' diagnostics
 * (bad items, covered items, entries SpamAssassin drops because
 * trusted_networks does not contain them), and that they are no longer
 * unsupported. Every expected classification was produced by
 * SpamAssassin 4.0.1 on the same message and lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "msg.h"
#include "netset.h"
#include "relays.h"
#include "ruleset.h"
#include "trustpath.h"

/* Six relays, most recent first: loopback, a private relay, a public
 * gateway, an authenticated submission, a public sender, an IPv6 one. */
static const char MSG[] =
    "Received: from localhost (localhost [127.0.0.1]) by mx.example.net "
    "(Postfix) with ESMTP id A1; Mon, 2 Jan 2023 10:00:06 +0000\n"
    "Received: from relay.example.net (relay.example.net [10.1.1.5]) by "
    "mx.example.net (Postfix) with ESMTP id A2; Mon, 2 Jan 2023 10:00:05 "
    "+0000\n"
    "Received: from gw.example.net (gw.example.net [203.0.113.10]) by "
    "relay.example.net (Postfix) with ESMTP id A3; Mon, 2 Jan 2023 "
    "10:00:04 +0000\n"
    "Received: from laptop (dyn.isp.example [198.51.100.20]) "
    "(Authenticated sender: joe) by gw.example.net (Postfix) with ESMTPSA "
    "id A4; Mon, 2 Jan 2023 10:00:03 +0000\n"
    "Received: from mail.other.example (mail.other.example [192.0.2.33]) by "
    "dyn.isp.example (Postfix) with ESMTP id A5; Mon, 2 Jan 2023 10:00:02 "
    "+0000\n"
    "Received: from six.example (six.example [IPv6:2001:db8::5]) by "
    "mail.other.example (Postfix) with ESMTP id A6; Mon, 2 Jan 2023 "
    "10:00:01 +0000\n"
    "From: a@example.org\n"
    "To: b@example.net\n"
    "Subject: t\n"
    "\n"
    "body\n";

static struct ruleset *load(const char *cf)
{
	struct ruleset *rs = ruleset_load_buf("t.cf", cf, strlen(cf), NULL);
	assert_non_null(rs);
	return rs;
}

/* Appends "ip:" T|U I|E msa for every relay of list k to out. */
static void summarise(const char *s, bool trusted, const char *internal,
                      char *out, size_t cap)
{
	const char *p = s;
	while ((p = strstr(p, "[ ip=")) != NULL) {
		p += 5;
		size_t n = strcspn(p, " ");
		const char *intl = strstr(p, " intl=");
		const char *msa = strstr(p, " msa=");
		assert_non_null(intl);
		assert_non_null(msa);
		char one[80];
		snprintf(one, sizeof one, "%s%.*s:%c%c%c", out[0] ? " " : "",
		         (int)n, p, trusted ? 'T' : 'U', intl[6] == '1' ? 'I' : 'E',
		         msa[5]);
		/* intl= agrees with the Internal list */
		char key[64];
		snprintf(key, sizeof key, "[ ip=%.*s ", (int)n, p);
		assert_int_equal(intl[6] == '1', strstr(internal, key) != NULL);
		strncat(out, one, cap - strlen(out) - 1);
	}
}

/* Builds MSG's relays with the lines of cf and checks the summary
 * "ip:TI0 ..." (trusted/untrusted, internal/external, msa) and the
 * boundaries. */
static void classify(const char *cf, const char *want, size_t bt,
                     size_t bi)
{
	struct ruleset *rs = load(cf);
	struct msg *m = msg_parse(MSG, strlen(MSG), NULL);
	assert_non_null(m);
	struct relays *r = NULL;
	assert_int_equal(relays_build_trust(m, ruleset_trustpath(rs), &r),
	                 0);
	char got[1024] = "";
	const char *in = relays_str(r, RELAYS_INTERNAL, NULL);
	summarise(relays_str(r, RELAYS_TRUSTED, NULL), true, in, got,
	          sizeof got);
	summarise(relays_str(r, RELAYS_UNTRUSTED, NULL), false, in, got,
	          sizeof got);
	if (strcmp(got, want) != 0)
		fail_msg("with\n%s\ngot  %s\nwant %s", cf, got, want);
	assert_int_equal(relays_boundary(r, false), bt);
	assert_int_equal(relays_boundary(r, true), bi);
	/* the lists are consistent with the strings */
	size_t nt = relays_num(r, RELAYS_TRUSTED), nu =
	    relays_num(r, RELAYS_UNTRUSTED);
	assert_int_equal(nt + nu, 6);
	assert_int_equal(relays_num(r, RELAYS_INTERNAL) +
	                 relays_num(r, RELAYS_EXTERNAL), 6);
	for (int k = 0; k < RELAYS_KINDS; k++)
		for (size_t i = 0; i < relays_num(r, (enum relays_kind)k); i++) {
			const struct relays_relay *y =
			    relays_at(r, (enum relays_kind)k, i);
			assert_non_null(y);
			char key[64];
			snprintf(key, sizeof key, "[ ip=%s ", y->ip);
			assert_non_null(strstr(relays_str(r, (enum relays_kind)k,
			                                  NULL), key));
		}
	relays_free(r);
	msg_free(m);
	ruleset_free(rs);
}

static void t_unconfigured(void **st)
{
	(void)st;
	/* inference, unchanged; msa_networks alone changes nothing */
	const char *inf = "127.0.0.1:TI0 10.1.1.5:TI0 203.0.113.10:UE0 "
	                  "198.51.100.20:UE0 192.0.2.33:UE0 2001:db8::5:UE0";
	classify("", inf, 2, 2);
	classify("msa_networks 10.1.1.5\n", inf, 2, 2);
	struct ruleset *rs = load("msa_networks 10.1.1.5\n");
	assert_null(ruleset_trustpath(rs));
	ruleset_free(rs);
	/* configured, then cleared: back to inference */
	classify("trusted_networks 0/0\nclear_trusted_networks\n", inf, 2, 2);
}

static void t_trusted_only(void **st)
{
	(void)st;
	/* internal_networks defaults to trusted_networks; the authenticated
	 * relay extends the trusted part */
	classify("trusted_networks 10.0.0.0/8 203.0.113.0/24\n",
	         "127.0.0.1:TI0 10.1.1.5:TI0 203.0.113.10:TI0 "
	         "198.51.100.20:TI0 192.0.2.33:UE0 2001:db8::5:UE0", 4, 4);
	/* everything, through IPv6 */
	classify("trusted_networks 10. 203.0.113. 198.51.100.0/24 "
	         "192.0.2.0/24 2001:db8::/32\n",
	         "127.0.0.1:TI0 10.1.1.5:TI0 203.0.113.10:TI0 "
	         "198.51.100.20:TI0 192.0.2.33:TI0 2001:db8::5:TI0", 6, 6);
	classify("trusted_networks ::/0\n",
	         "127.0.0.1:TI0 10.1.1.5:TI0 203.0.113.10:TI0 "
	         "198.51.100.20:TI0 192.0.2.33:TI0 2001:db8::5:TI0", 6, 6);
	/* an exclusion first breaks the chain at the second relay */
	classify("trusted_networks !10.1.1.5 10. 203.0.113.\n",
	         "127.0.0.1:TI0 10.1.1.5:UE0 203.0.113.10:UE0 "
	         "198.51.100.20:UE0 192.0.2.33:UE0 2001:db8::5:UE0", 1, 1);
	/* loopback is always trusted: nothing but 127/8 and ::1 */
	classify("trusted_networks !0/0\n",
	         "127.0.0.1:TI0 10.1.1.5:UE0 203.0.113.10:UE0 "
	         "198.51.100.20:UE0 192.0.2.33:UE0 2001:db8::5:UE0", 1, 1);
}

static void t_internal_only(void **st)
{
	(void)st;
	/* trusted_networks defaults to internal_networks */
	classify("internal_networks 10.\n",
	         "127.0.0.1:TI0 10.1.1.5:TI0 203.0.113.10:UE0 "
	         "198.51.100.20:UE0 192.0.2.33:UE0 2001:db8::5:UE0", 2, 2);
	/* after clear_trusted_networks only internal_networks counts; a dotted
	 * mask and a short form */
	classify("trusted_networks ::ffff:10.0.0.0/104\n"
	         "clear_trusted_networks\n"
	         "internal_networks 10.1/16 203.0.113.10/255.255.255.0 "
	         "192.0.2.33\n",
	         "127.0.0.1:TI0 10.1.1.5:TI0 203.0.113.10:TI0 "
	         "198.51.100.20:TI0 192.0.2.33:TI0 2001:db8::5:UE0", 5, 5);
}

static void t_trusted_and_internal(void **st)
{
	(void)st;
	/* the gateway is trusted, not internal; the authenticated relay
	 * after it stays external (internal ended) */
	classify("trusted_networks 10. 203.0.113.10\ninternal_networks 10.\n",
	         "127.0.0.1:TI0 10.1.1.5:TI0 203.0.113.10:TE0 "
	         "198.51.100.20:TE0 192.0.2.33:UE0 2001:db8::5:UE0", 4, 2);
	/* an authenticated relay right after internal ones stays internal */
	classify("trusted_networks 10. 203.0.113.0/24\n"
	         "internal_networks 10. 203.0.113.10\n",
	         "127.0.0.1:TI0 10.1.1.5:TI0 203.0.113.10:TI0 "
	         "198.51.100.20:TI0 192.0.2.33:UE0 2001:db8::5:UE0", 4, 4);
}

static void t_msa(void **st)
{
	(void)st;
	/* the MSA freezes trusted+internal for every older relay */
	classify("trusted_networks 10. 203.0.113.0/24\n"
	         "msa_networks 203.0.113.10\n",
	         "127.0.0.1:TI0 10.1.1.5:TI0 203.0.113.10:TI1 "
	         "198.51.100.20:TI0 192.0.2.33:TI0 2001:db8::5:TI0", 6, 6);
	classify("trusted_networks 10.0.0.0/8 203.0.113.0/24\n"
	         "internal_networks 10.1.1.5 203.0.113.10\n"
	         "msa_networks 10.1.1.5\n",
	         "127.0.0.1:TI0 10.1.1.5:TI1 203.0.113.10:TI0 "
	         "198.51.100.20:TI0 192.0.2.33:TI0 2001:db8::5:TI0", 6, 6);
	/* an MSA past the internal part: trusted, external from there on */
	classify("trusted_networks 10. 203.0.113.0/24 192.0.2.0/24\n"
	         "internal_networks 10.\nmsa_networks 203.0.113.10\n",
	         "127.0.0.1:TI0 10.1.1.5:TI0 203.0.113.10:TE1 "
	         "198.51.100.20:TE0 192.0.2.33:TE0 2001:db8::5:TE0", 6, 2);
	/* cleared: no MSA */
	classify("trusted_networks 10. 203.0.113.0/24\n"
	         "msa_networks 203.0.113.10\nclear_msa_networks\n",
	         "127.0.0.1:TI0 10.1.1.5:TI0 203.0.113.10:TI0 "
	         "198.51.100.20:TI0 192.0.2.33:UE0 2001:db8::5:UE0", 4, 4);
}

static void t_full_string(void **st)
{
	(void)st;
	struct ruleset *rs = load("trusted_networks 10. 203.0.113.0/24\n"
	                          "msa_networks 203.0.113.10\n");
	struct msg *m = msg_parse(MSG, strlen(MSG), NULL);
	struct relays *r = NULL;
	assert_int_equal(relays_build_trust(m, ruleset_trustpath(rs), &r),
	                 0);
	assert_string_equal(relays_str(r, RELAYS_TRUSTED, NULL),
	    "[ ip=127.0.0.1 rdns=localhost helo=localhost by=mx.example.net "
	    "ident= envfrom= intl=1 id= auth= msa=0 ] [ ip=10.1.1.5 "
	    "rdns=relay.example.net helo=relay.example.net by=mx.example.net "
	    "ident= envfrom= intl=1 id= auth= msa=0 ] [ ip=203.0.113.10 "
	    "rdns=gw.example.net helo=gw.example.net by=relay.example.net "
	    "ident= envfrom= intl=1 id= auth= msa=1 ] [ ip=198.51.100.20 "
	    "rdns=dyn.isp.example helo=laptop by=gw.example.net ident= "
	    "envfrom= intl=1 id= auth=ESMTPSA msa=0 ] [ ip=192.0.2.33 "
	    "rdns=mail.other.example helo=mail.other.example "
	    "by=dyn.isp.example ident= envfrom= intl=1 id= auth= msa=0 ] "
	    "[ ip=2001:db8::5 rdns=six.example helo=six.example "
	    "by=mail.other.example ident= envfrom= intl=1 id= auth= msa=0 ]");
	assert_string_equal(relays_str(r, RELAYS_UNTRUSTED, NULL), "");
	assert_string_equal(relays_str(r, RELAYS_EXTERNAL, NULL), "");
	relays_free(r);
	msg_free(m);
	ruleset_free(rs);
}

static const struct rs_diag *find_diag(const struct ruleset *rs,
                                       enum rs_diag_kind k, unsigned line,
                                       const char *sub)
{
	for (size_t i = 0; i < ruleset_diag_count(rs); i++) {
		const struct rs_diag *d = ruleset_diag_at(rs, i);
		if (d->kind == k && d->line == line && d->file != NULL &&
		    strcmp(d->file, "t.cf") == 0 && strstr(d->message, sub))
			return d;
	}
	for (size_t i = 0; i < ruleset_diag_count(rs); i++) {
		const struct rs_diag *d = ruleset_diag_at(rs, i);
		print_message("# diag %d %s:%u %s\n", d->kind,
		              d->file ? d->file : "-", d->line, d->message);
	}
	fail_msg("no diagnostic %d at t.cf:%u containing '%s'", k, line, sub);
	return NULL;
}

static void t_diagnostics(void **st)
{
	(void)st;
	struct ruleset *rs = load(
	    "trusted_networks 10.0.0.0/8 300.1.1.1 192.0.2.0/33\n"  /* 1 */
	    "trusted_networks foo.example 10.1.2.3 ::/0\n"          /* 2 */
	    "internal_networks 10.9. 172.16.0.0/12\n"               /* 3 */
	    "msa_networks 10.9.9.9 !192.168.1.1\n"                  /* 4 */
	    "trusted_networks\n"                                    /* 5 */
	    "clear_msa_networks now\n"                              /* 6 */
	    "Clear-Internal-Networks\n"                             /* 7 */
	    "internal_networks 10.9.\n");                           /* 8 */
	find_diag(rs, RS_DIAG_ERROR, 1, "trusted_networks: '300.1.1.1' "
	          "ignored: IPv4 octet 300 out of range");
	find_diag(rs, RS_DIAG_ERROR, 1, "'192.0.2.0/33' ignored: prefix "
	          "length /33 out of range (0-32 for IPv4)");
	find_diag(rs, RS_DIAG_ERROR, 2, "'foo.example' ignored: expected an "
	          "IPv4 or IPv6 address");
	find_diag(rs, RS_DIAG_WARNING, 2, "'10.1.2.3' has no effect: "
	          "10.0.0.0/8");
	find_diag(rs, RS_DIAG_ERROR, 5, "trusted_networks: expected one or "
	          "more IP addresses");
	find_diag(rs, RS_DIAG_ERROR, 6, "clear_msa_networks: expected no "
	          "argument");
	/* 172.16/12 was cleared with the line 3 set, the line 8 one is
	 * kept; the MSA's exclusion is kept */
	assert_int_equal(ruleset_diag_count(rs), 6);
	const struct trustpath *t = ruleset_trustpath(rs);
	assert_non_null(t);
	assert_true(t->configured[TRUSTPATH_TRUSTED]);
	assert_true(t->configured[TRUSTPATH_INTERNAL]);
	assert_true(t->configured[TRUSTPATH_MSA]);
	/* 127/8, ::1, 10/8, ::/0 */
	assert_int_equal(netset_count(t->net[TRUSTPATH_TRUSTED]), 4);
	assert_int_equal(netset_count(t->net[TRUSTPATH_INTERNAL]), 3);
	assert_int_equal(netset_count(t->net[TRUSTPATH_MSA]), 2);
	for (size_t i = 0; i < ruleset_diag_count(rs); i++)
		assert_int_not_equal(ruleset_diag_at(rs, i)->kind,
		                     RS_DIAG_UNSUPPORTED);
	ruleset_free(rs);

	/* internal and msa entries outside trusted_networks are dropped,
	 * with a warning at their line */
	rs = load("trusted_networks !10.1.0.0/16 10.0.0.0/8\n"
	          "internal_networks 10.2. 192.168.0.0/16 10.1.2.\n"
	          "msa_networks 10.3.0.1 203.0.113.1 !10.1.1.1\n");
	find_diag(rs, RS_DIAG_WARNING, 2, "internal_networks entry "
	          "192.168.0.0/16 ignored: trusted_networks does not contain it");
	find_diag(rs, RS_DIAG_WARNING, 2, "internal_networks entry "
	          "10.1.2.0/24 ignored");
	find_diag(rs, RS_DIAG_WARNING, 3, "msa_networks entry 203.0.113.1/32 "
	          "ignored");
	assert_int_equal(ruleset_diag_count(rs), 3);
	t = ruleset_trustpath(rs);
	assert_int_equal(netset_count(t->net[TRUSTPATH_INTERNAL]), 3);
	assert_int_equal(netset_count(t->net[TRUSTPATH_MSA]), 2);
	assert_false(netset_contains(t->net[TRUSTPATH_INTERNAL],
	                             "192.168.1.1"));
	ruleset_free(rs);

	/* only internal_networks: msa_networks is checked against it */
	rs = load("internal_networks 10.\nmsa_networks 10.0.0.1 192.0.2.1\n");
	find_diag(rs, RS_DIAG_WARNING, 2, "msa_networks entry 192.0.2.1/32 "
	          "ignored: internal_networks does not contain it");
	assert_int_equal(ruleset_diag_count(rs), 1);
	ruleset_free(rs);
}

static void t_net_of(void **st)
{
	(void)st;
	bool clr;
	assert_int_equal(trustpath_net_of("trusted_networks", 16, &clr),
	                 TRUSTPATH_TRUSTED);
	assert_false(clr);
	assert_int_equal(trustpath_net_of("clear_msa_networks", 18, &clr),
	                 TRUSTPATH_MSA);
	assert_true(clr);
	assert_int_equal(trustpath_net_of("internal_networks", 17, &clr),
	                 TRUSTPATH_INTERNAL);
	assert_int_equal(trustpath_net_of("clear_", 6, &clr), -1);
	assert_int_equal(trustpath_net_of("trusted_networksx", 17, &clr), -1);
	assert_int_equal(trustpath_net_of("authres_networks", 16, &clr), -1);
	assert_string_equal(trustpath_net_name(TRUSTPATH_MSA), "msa_networks");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_unconfigured),
		cmocka_unit_test(t_trusted_only),
		cmocka_unit_test(t_internal_only),
		cmocka_unit_test(t_trusted_and_internal),
		cmocka_unit_test(t_msa),
		cmocka_unit_test(t_full_string),
		cmocka_unit_test(t_diagnostics),
		cmocka_unit_test(t_net_of),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
