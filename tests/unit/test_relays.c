/* Unit tests: Received: formats (Postfix, Sendmail, Exim, qmail,
 * Microsoft, IPv6; with and without rDNS, HELO, ident, auth), skipped and
 * unparseable lines, trust inference over a chain, the fetchmail restart,
 * originating-IP headers, the ALL-* trust boundary. Every expected string was produced by
 * SpamAssassin 4.0.1 on the same header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "msg.h"
#include "relays.h"

static void line_is(const char *line, const char *want, bool priv,
                    bool auth)
{
	char buf[2048];
	bool p = !priv, a = !auth;
	int rc = relays_parse_line(line, strlen(line), buf, sizeof buf, &p, &a);
	if (rc != 1)
		fail_msg("not parsed (%d): %s", rc, line);
	assert_string_equal(buf, want);
	assert_int_equal(p, priv);
	assert_int_equal(a, auth);
}

static void t_postfix(void **st)
{
	(void)st;
	line_is("from mail.example.org (mail.example.org [203.0.113.5]) by "
	        "mx.example.net (Postfix) with ESMTP id 4A1B2C3D; Mon, 2 Jan "
	        "2023 10:00:00 +0000 (UTC)",
	        "[ ip=203.0.113.5 rdns=mail.example.org helo=mail.example.org "
	        "by=mx.example.net ident= envfrom= intl=0 id=4A1B2C3D auth= "
	        "msa=0 ]", false, false);
	/* no rDNS: "unknown" */
	line_is("from helo.example (unknown [198.51.100.7]) by mx.example.net "
	        "(Postfix) with SMTP id 9F8E7D; Mon, 2 Jan 2023 10:00:00 +0000",
	        "[ ip=198.51.100.7 rdns= helo=helo.example by=mx.example.net "
	        "ident= envfrom= intl=0 id=9F8E7D auth= msa=0 ]", false, false);
	/* authenticated submission */
	line_is("from laptop (host.example.org [203.0.113.9]) (Authenticated "
	        "sender: joe) by smtp.example.net (Postfix) with ESMTPSA id "
	        "AB12CD; Mon, 2 Jan 2023 10:00:00 +0000",
	        "[ ip=203.0.113.9 rdns=host.example.org helo=laptop "
	        "by=smtp.example.net ident= envfrom= intl=0 id=AB12CD "
	        "auth=ESMTPSA msa=0 ]", false, true);
	/* folded, loopback */
	line_is("from localhost (localhost [127.0.0.1])\n\tby mx.example.net "
	        "(Postfix) with ESMTP id AAA111\n\tfor <u@example.net>; Mon, 2 "
	        "Jan 2023 10:00:02 +0000 (UTC)",
	        "[ ip=127.0.0.1 rdns=localhost helo=localhost by=mx.example.net "
	        "ident= envfrom= intl=0 id=AAA111 auth= msa=0 ]", true, false);
}

static void t_sendmail(void **st)
{
	(void)st;
	line_is("from mail1.example.com (host66.example.com [65.217.159.66] "
	        "(may be forged)) by dogma.example.org (8.11.6/8.11.6) with "
	        "ESMTP id h2F0c2x31856 for <jm@example.org>; Sat, 15 Mar 2003 "
	        "00:38:03 GMT",
	        "[ ip=65.217.159.66 rdns=host66.example.com "
	        "helo=mail1.example.com by=dogma.example.org ident= envfrom= "
	        "intl=0 id=h2F0c2x31856 auth= msa=0 ]", false, false);
	line_is("from ran-out.example.com (IDENT:qmailr@one.example.com "
	        "[64.81.84.115]) by dogma.example.org (8.11.6/8.11.6) with SMTP "
	        "id h381Vvf19860; Tue, 8 Apr 2003 02:31:57 +0100",
	        "[ ip=64.81.84.115 rdns=one.example.com helo=ran-out.example.com"
	        " by=dogma.example.org ident=qmailr envfrom= intl=0 "
	        "id=h381Vvf19860 auth= msa=0 ]", false, false);
}

static void t_exim(void **st)
{
	(void)st;
	line_is("from dsl.example.net ([66.92.72.213] helo=blazing.example.org)"
	        " by list1.example.net with esmtp (Exim 3.31-VA-mm2 #1 (Debian))"
	        " id 18lyuU-0007TI-00 for <x@example.net>; Thu, 20 Feb 2003 "
	        "14:11:18 -0800",
	        "[ ip=66.92.72.213 rdns=dsl.example.net helo=blazing.example.org"
	        " by=list1.example.net ident= envfrom= intl=0 "
	        "id=18lyuU-0007TI-00 auth= msa=0 ]", false, false);
	line_is("from [218.19.142.229] (helo=hotmail.com ident=yiuhyotp) by "
	        "yzordderrex with smtp (Exim 3.35 #1 (Debian)) id "
	        "194BE5-0005Zh-00; Sat, 12 Apr 2003 03:58:53 +0100",
	        "[ ip=218.19.142.229 rdns= helo=hotmail.com by=yzordderrex "
	        "ident=yiuhyotp envfrom= intl=0 id=194BE5-0005Zh-00 auth= "
	        "msa=0 ]", false, false);
}

static void t_qmail(void **st)
{
	(void)st;
	line_is("from unknown (HELO terpsichore.example.com) "
	        "(jdavid@[216.254.40.70]) (envelope-sender <jdavid@example.com>)"
	        " by mail13.example.net (qmail-ldap-1.03) with SMTP for "
	        "<jm@example.org>; 12 Feb 2003 18:23:19 -0000",
	        "[ ip=216.254.40.70 rdns= helo=terpsichore.example.com "
	        "by=mail13.example.net ident=jdavid envfrom=jdavid@example.com "
	        "intl=0 id= auth= msa=0 ]", false, false);
	line_is("from x71-x56.example.dk (HELO niels) (69.96.3.15) by "
	        "la.mx.example.com (qpsmtpd/0.27-dev) with SMTP; Fri, 02 Jan "
	        "2004 19:26:52 -0800",
	        "[ ip=69.96.3.15 rdns=x71-x56.example.dk helo=niels "
	        "by=la.mx.example.com ident= envfrom= intl=0 id= auth= msa=0 ]",
	        false, false);
}

static void t_microsoft(void **st)
{
	(void)st;
	line_is("from EXC-DAG-02.global.example (10.45.252.152) by "
	        "EXC-DAG-01.global.example (10.45.252.151) with Microsoft SMTP "
	        "Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_128_GCM_"
	        "SHA256) id 15.1.1261.35; Mon, 29 Oct 2018 11:17:19 +0100",
	        "[ ip=10.45.252.152 rdns=EXC-DAG-02.global.example "
	        "helo=EXC-DAG-02.global.example by=EXC-DAG-01.global.example "
	        "ident= envfrom= intl=0 id=15.1.1261.35 auth= msa=0 ]",
	        true, false);
	line_is("from tthompson ([217.35.105.172] unverified) by "
	        "mail.example.com with Microsoft SMTPSVC(5.0.2195.5329); Tue, 11 "
	        "Mar 2003 13:23:01 +0000",
	        "[ ip=217.35.105.172 rdns= helo=tthompson by=mail.example.com "
	        "ident= envfrom= intl=0 id= auth= msa=0 ]", false, false);
}

static void t_ipv6(void **st)
{
	(void)st;
	line_is("from mail-x.example.com (mail-x.example.com "
	        "[IPv6:2a00:1450:4864:20::42f]) by mx.example.net (Postfix) with "
	        "ESMTPS id 4B5C6D7E8F for <u@example.net>; Mon, 2 Jan 2023 "
	        "10:00:00 +0000 (UTC)",
	        "[ ip=2a00:1450:4864:20::42f rdns=mail-x.example.com "
	        "helo=mail-x.example.com by=mx.example.net ident= envfrom= "
	        "intl=0 id=4B5C6D7E8F auth= msa=0 ]", false, false);
	/* upper-case hex, as SpamAssassin 4.0.1 reads it (checked with
	 * spamassassin -t and _RELAYSUNTRUSTED_): the address as written */
	line_is("from h.example (h.example [2001:DB8:0::25]) by mx.example.net "
	        "(8.17.1/8.17.1) with ESMTP id 4Q1x; Mon, 1 Jan 2024 00:00:00 "
	        "+0000",
	        "[ ip=2001:DB8:0::25 rdns=h.example helo=h.example "
	        "by=mx.example.net ident= envfrom= intl=0 id=4Q1x auth= msa=0 ]",
	        false, false);
}

static void t_skipped_and_unparseable(void **st)
{
	(void)st;
	char buf[512];
	bool p, a;
	const char *local = "by mx.example.net (Postfix, from userid 1002) id "
	                    "DABBD1BED3; Thu, 13 Feb 2003 14:02:21 +0100 (CET)";
	assert_int_equal(relays_parse_line(local, strlen(local), buf,
	                                   sizeof buf, &p, &a), 0);
	const char *bad = "from somewhere over the rainbow; Mon, 2 Jan 2023 "
	                  "10:00:00 +0000";
	assert_int_equal(relays_parse_line(bad, strlen(bad), buf, sizeof buf,
	                                   &p, &a), -1);
	/* a buffer too small is an error, not a truncated relay */
	const char *ok = "from a.example (a.example [192.0.2.1]) by "
	                 "b.example (Postfix) with ESMTP id X1; Mon, 2 Jan "
	                 "2023 10:00:00 +0000";
	assert_int_equal(relays_parse_line(ok, strlen(ok), buf, 20, &p, &a),
	                 -1);
}

static struct relays *build(const char *raw)
{
	struct msg *m = msg_parse(raw, strlen(raw), NULL);
	assert_non_null(m);
	struct relays *r = NULL;
	assert_int_equal(relays_build(m, &r), 0);
	assert_non_null(r);
	msg_free(m);   /* the result must not point into the message */
	return r;
}

static void t_trust_chain(void **st)
{
	(void)st;
	struct relays *r = build(
	    "Received: from localhost (localhost [127.0.0.1])\n"
	    "\tby mx.example.net (Postfix) with ESMTP id AAA111\n"
	    "\tfor <u@example.net>; Mon, 2 Jan 2023 10:00:02 +0000 (UTC)\n"
	    "Received: from mail.example.org (mail.example.org [203.0.113.5]) "
	    "by gw.example.net (Postfix) with ESMTP id BBB222; Mon, 2 Jan 2023 "
	    "10:00:01 +0000\n"
	    "Received: from somewhere over the rainbow; Mon, 2 Jan 2023 "
	    "10:00:00 +0000\n"
	    "Received: from inner (inner.example.org [192.168.1.2]) by "
	    "mail.example.org (Postfix) with ESMTP id CCC333; Mon, 2 Jan 2023 "
	    "10:00:00 +0000\n"
	    "X-Originating-IP: [198.51.100.20]\n"
	    "From: a@b.example\nSubject: t\n\nbody\n");
	const char *tr = "[ ip=127.0.0.1 rdns=localhost helo=localhost "
	    "by=mx.example.net ident= envfrom= intl=1 id=AAA111 auth= msa=0 ]";
	/* after the first public relay nothing is trusted, private or not */
	const char *un = "[ ip=203.0.113.5 rdns=mail.example.org "
	    "helo=mail.example.org by=gw.example.net ident= envfrom= intl=0 "
	    "id=BBB222 auth= msa=0 ] [ ip=192.168.1.2 rdns=inner.example.org "
	    "helo=inner by=mail.example.org ident= envfrom= intl=0 id=CCC333 "
	    "auth= msa=0 ] [ ip=198.51.100.20 rdns= helo= by= ident= envfrom= "
	    "intl=0 id= auth= msa=0 ]";
	size_t len;
	assert_string_equal(relays_str(r, RELAYS_TRUSTED, &len), tr);
	assert_int_equal(len, strlen(tr));
	assert_string_equal(relays_str(r, RELAYS_INTERNAL, NULL), tr);
	assert_string_equal(relays_str(r, RELAYS_UNTRUSTED, NULL), un);
	assert_string_equal(relays_str(r, RELAYS_EXTERNAL, NULL), un);
	assert_int_equal(relays_count(r), 4);
	assert_int_equal(relays_num(r, RELAYS_TRUSTED), 1);
	assert_int_equal(relays_num(r, RELAYS_UNTRUSTED), 3);
	assert_int_equal(relays_num(r, RELAYS_INTERNAL), 1);
	assert_int_equal(relays_num(r, RELAYS_EXTERNAL), 3);
	assert_int_equal(relays_unparseable(r), 1);
	/* ALL-TRUSTED ends with Received: #1 (the first untrusted one) */
	assert_int_equal(relays_boundary(r, false), 1);
	assert_int_equal(relays_boundary(r, true), 1);
	/* the fields one by one (relays_at) */
	const struct relays_relay *x = relays_at(r, RELAYS_UNTRUSTED, 1);
	assert_non_null(x);
	assert_string_equal(x->ip, "192.168.1.2");
	assert_string_equal(x->rdns, "inner.example.org");
	assert_string_equal(x->helo, "inner");
	assert_string_equal(x->by, "mail.example.org");
	assert_false(x->envfrom_set);
	assert_false(x->originating);
	x = relays_at(r, RELAYS_EXTERNAL, 2);
	assert_non_null(x);
	assert_string_equal(x->ip, "198.51.100.20");
	assert_string_equal(x->helo, "");
	assert_true(x->originating);  /* from X-Originating-IP */
	assert_null(relays_at(r, RELAYS_UNTRUSTED, 3));
	x = relays_at(r, RELAYS_TRUSTED, 0);
	assert_non_null(x);
	assert_string_equal(x->by, "mx.example.net");
	assert_ptr_equal(x, relays_at(r, RELAYS_INTERNAL, 0));
	assert_null(relays_at(r, RELAYS_TRUSTED, 1));
	relays_free(r);
}

static void t_envfrom(void **st)
{
	(void)st;
	struct relays *r = build(
	    "Received: from a.example (a.example [192.0.2.1])\n"
	    " (envelope-sender <x@esp.example.net>)\n"
	    " by mx.example.org with SMTP id 1; Mon, 1 Jan 2024 00:00:00 +0000\n"
	    "From: a@b.example\n\nbody\n");
	const struct relays_relay *x = relays_at(r, RELAYS_UNTRUSTED, 0);
	assert_non_null(x);
	assert_true(x->envfrom_set);
	assert_string_equal(x->envfrom, "x@esp.example.net");
	assert_false(x->ip_private);
	relays_free(r);
}

static void t_no_rdns(void **st)
{
	(void)st;
	/* Postfix looked the address up; SMTPSVC does not */
	struct relays *r = build(
	    "Received: from a.example (unknown [203.0.113.9]) by mx.example.org"
	    " (Postfix) with ESMTP id A1; Mon, 1 Jan 2024 00:00:00 +0000\n"
	    "Received: from b.example ([198.51.100.3]) by a.example with "
	    "Microsoft SMTPSVC(5.0.2195.5329); Mon, 1 Jan 2024 00:00:00 +0000\n"
	    "Received: from c.example (c.example [192.168.0.3]) by b.example "
	    "(Postfix) with ESMTP id A2; Mon, 1 Jan 2024 00:00:00 +0000\n"
	    "From: a@b.example\n\nbody\n");
	assert_int_equal(relays_num(r, RELAYS_UNTRUSTED), 3);
	const struct relays_relay *x = relays_at(r, RELAYS_UNTRUSTED, 0);
	assert_string_equal(x->rdns, "");
	assert_true(x->no_rdns);
	x = relays_at(r, RELAYS_UNTRUSTED, 1);
	assert_string_equal(x->rdns, "");
	assert_false(x->no_rdns);
	x = relays_at(r, RELAYS_UNTRUSTED, 2);
	assert_false(x->no_rdns);
	assert_true(x->ip_private);
	relays_free(r);
	assert_true(relays_ip_private("10.1.2.3"));
	assert_false(relays_ip_private("203.0.113.9"));
}

static void t_fetchmail_restart(void **st)
{
	(void)st;
	struct relays *r = build(
	    "Received: from localhost (localhost [127.0.0.1]) by mx.example.net"
	    " (Postfix) with ESMTP id AAA111; Mon, 2 Jan 2023 10:00:02 +0000\n"
	    "Received: from pop.example.org [10.1.1.1] by localhost with POP3 "
	    "(fetchmail-6.4.0) for <u@localhost> (single-drop); Mon, 2 Jan 2023"
	    " 10:00:02 +0000\n"
	    "Received: from relay.example.com (relay.example.com [10.9.9.9]) by"
	    " pop.example.org (Postfix) with ESMTP id DDD444; Mon, 2 Jan 2023 "
	    "10:00:00 +0000\n"
	    "Received: from bad.example (bad.example [198.51.100.66]) by "
	    "relay.example.com (Postfix) with ESMTP id EEE555; Mon, 2 Jan 2023 "
	    "10:00:00 +0000\n"
	    "From: a@b.example\nSubject: t\n\nbody\n");
	/* the relays before the POP fetch belong to the local mailbox */
	assert_string_equal(relays_str(r, RELAYS_TRUSTED, NULL),
	    "[ ip=10.9.9.9 rdns=relay.example.com helo=relay.example.com "
	    "by=pop.example.org ident= envfrom= intl=1 id=DDD444 auth= msa=0 ]");
	assert_string_equal(relays_str(r, RELAYS_UNTRUSTED, NULL),
	    "[ ip=198.51.100.66 rdns=bad.example helo=bad.example "
	    "by=relay.example.com ident= envfrom= intl=0 id=EEE555 auth= "
	    "msa=0 ]");
	/* the local relay before the fetch is forgotten */
	assert_int_equal(relays_num(r, RELAYS_TRUSTED), 1);
	assert_int_equal(relays_num(r, RELAYS_UNTRUSTED), 1);
	assert_string_equal(relays_at(r, RELAYS_TRUSTED, 0)->ip, "10.9.9.9");
	assert_null(relays_at(r, RELAYS_TRUSTED, 1));
	/* the skipped fetch line counts as a trusted Received: */
	assert_int_equal(relays_boundary(r, false), 3);
	relays_free(r);
}

static void t_no_received(void **st)
{
	(void)st;
	struct relays *r = build("From: a@b.example\nSubject: t\n\nbody\n");
	for (int k = 0; k < RELAYS_KINDS; k++)
		assert_string_equal(relays_str(r, (enum relays_kind)k, NULL), "");
	assert_int_equal(relays_count(r), 0);
	relays_free(r);
}

static void t_kind_of(void **st)
{
	(void)st;
	assert_int_equal(relays_kind_of("X-Spam-Relays-Untrusted"),
	                 RELAYS_UNTRUSTED);
	assert_int_equal(relays_kind_of("x-spam-relays-trusted"),
	                 RELAYS_TRUSTED);
	assert_int_equal(relays_kind_of("X-Spam-Relays-Internal"),
	                 RELAYS_INTERNAL);
	assert_int_equal(relays_kind_of("X-Spam-Relays-External"),
	                 RELAYS_EXTERNAL);
	assert_int_equal(relays_kind_of("X-Spam-Relays-Foo"), -1);
	assert_int_equal(relays_kind_of("ALL-TRUSTED"), -1);
	assert_int_equal(relays_all_kind_of("ALL-TRUSTED"), RELAYS_TRUSTED);
	assert_int_equal(relays_all_kind_of("ALL-EXTERNAL"), RELAYS_EXTERNAL);
	assert_int_equal(relays_all_kind_of("ALL"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_postfix),
		cmocka_unit_test(t_sendmail),
		cmocka_unit_test(t_exim),
		cmocka_unit_test(t_qmail),
		cmocka_unit_test(t_microsoft),
		cmocka_unit_test(t_ipv6),
		cmocka_unit_test(t_skipped_and_unparseable),
		cmocka_unit_test(t_trust_chain),
		cmocka_unit_test(t_envfrom),
		cmocka_unit_test(t_no_rdns),
		cmocka_unit_test(t_fetchmail_restart),
		cmocka_unit_test(t_no_received),
		cmocka_unit_test(t_kind_of),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
