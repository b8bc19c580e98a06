/* Unit tests of the envelope guess (envguess.c): the SMTP client and HELO
 * taken from the newest Received: header naming a public address, for
 * the header forms real MTAs write (Postfix, Sendmail, Exim with and
 * without reverse DNS, qmail, Exchange, Microsoft 365, Gmail, IPv6),
 * internal hops skipped, authenticated submission and X-Originating-IP
 * not taken for the client, flags winning over the message, the rule
 * files' trusted_networks / internal_networks deciding trust. The header
 * lines are shaped after real ones; the audit11 M4 ones (Exim, qmail,
 * Exchange, a forwarder in front of the sender's submission host) are
 * verbatim. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "envguess.h"
#include "ruleset.h"
#include "scan.h"

/* A scan of a message with these Received: lines (most recent first)
 * and its envelope guessed under flags f and trust (NULL: inference);
 * the caller frees it. */
static struct scan *guessed(const char *received,
                            const struct envguess_flags *f,
                            const struct trustpath *trust)
{
	char msg[8192];
	int n = snprintf(msg, sizeof msg, "%sFrom: a@sender.example\n"
	                 "To: c@dest.example\nSubject: t\n\nbody\n", received);
	assert_true(n > 0 && (size_t)n < sizeof msg);
	struct scan *s = scan_new();
	assert_non_null(s);
	assert_int_equal(scan_set_raw(s, msg, (size_t)n), 0);
	assert_int_equal(envguess_fill(s, f, trust), 0);
	return s;
}

/* The envelope guessed for a message of these Received: lines (most
 * recent first, "\n"-separated, folded lines allowed) under flags f,
 * trust decided with rule file text cf (NULL: none, inference). */
static void guess_cf(const char *received, const struct envguess_flags *f,
                     const char *cf, const char *want_ip,
                     const char *want_helo)
{
	struct ruleset *rs = NULL;
	if (cf != NULL) {
		rs = ruleset_load_buf("t.cf", cf, strlen(cf), NULL);
		assert_non_null(rs);
	}
	struct scan *s = guessed(received, f, rs ? ruleset_trustpath(rs) : NULL);
	const struct scan_env *env = scan_env(s);
	if (strcmp(env->client_addr, want_ip) != 0 ||
	    strcmp(env->helo, want_helo) != 0)
		fail_msg("client=%s helo=%s, want %s / %s for:\n%s",
		         env->client_addr, env->helo, want_ip, want_helo, received);
	scan_free(s);
	ruleset_free(rs);
}

static void guess_with(const char *received, const struct envguess_flags *f,
                       const char *want_ip, const char *want_helo)
{
	guess_cf(received, f, NULL, want_ip, want_helo);
}

static void guess(const char *received, const char *want_ip,
                  const char *want_helo)
{
	struct envguess_flags f = { 0 };
	guess_with(received, &f, want_ip, want_helo);
}

static void t_postfix(void **st)
{
	(void)st;
	guess("Received: from mail.sender.example (mail.sender.example "
	      "[203.0.113.5])\n\tby mx.dest.example (Postfix) with ESMTPS id "
	      "4QxYz1234 for <c@d.example>;\n\tMon, 1 Jan 2024 00:00:00 +0000 "
	      "(UTC)\n", "203.0.113.5", "mail.sender.example");
	/* no reverse DNS: "unknown", the HELO still the first word */
	guess("Received: from helo.example (unknown [203.0.113.6]) by "
	      "mx.dest.example (Postfix) with ESMTP id 4A1B2C3D; Mon, 1 Jan "
	      "2024 00:00:00 +0000 (UTC)\n", "203.0.113.6", "helo.example");
}

static void t_sendmail(void **st)
{
	(void)st;
	guess("Received: from sendmail.example (sendmail.example [203.0.113.8] "
	      "(may be forged)) by mx.dest.example (8.15.2/8.15.2) with ESMTP "
	      "id x; Mon, 1 Jan 2024 00:00:00 +0000\n",
	      "203.0.113.8", "sendmail.example");
	guess("Received: from helo.example ([203.0.113.9])\n\tby "
	      "mx.dest.example (8.17.1/8.17.1) with ESMTP id 30AGx1Zq012345\n\t"
	      "for <c@dest.example>; Mon, 1 Jan 2024 00:00:00 +0000\n",
	      "203.0.113.9", "helo.example");
}

/* An address-literal HELO is given back as sent (the relay parser keeps
 * it as "!IP!"). */
static void t_helo_literal(void **st)
{
	(void)st;
	guess("Received: from [67.32.39.130] ([67.32.39.130]) by "
	      "linux.midrange.com (8.11.6/8.11.6) with SMTP id g6N0Yee05828; "
	      "Mon, 22 Jul 2002 19:34:46 -0500\n", "67.32.39.130",
	      "[67.32.39.130]");
	guess("Received: from [192.168.1.2] (w008.z064002062.sjc-ca.dsl.cnc.net "
	      "[64.2.62.8]) by dogma.slashnull.org (8.11.6/8.11.6) with ESMTP id "
	      "gAT07XW04583; Fri, 29 Nov 2002 00:07:35 GMT\n", "64.2.62.8",
	      "[192.168.1.2]");
	guess("Received: from [IPv6:2001:db8::9] (unknown [IPv6:2001:db8::9]) "
	      "by mx.dest.example (Postfix) with ESMTP id 1; Mon, 1 Jan 2024 "
	      "00:00:00 +0000\n", "2001:db8::9", "[IPv6:2001:db8::9]");
}

/* Exim: "from RDNS ([IP] helo=HELO)", "from [IP] (helo=HELO)"; helo= is
 * left out when the HELO is the reverse-DNS name. */
static void t_exim(void **st)
{
	(void)st;
	guess("Received: from rdns.sender.example ([198.51.100.20] "
	      "helo=realhelo.example) by mx.dest.example with esmtp (Exim 4.96) "
	      "(envelope-from <a@b.example>) id 1; Mon, 1 Jan 2024 00:00:00 "
	      "+0000\n", "198.51.100.20", "realhelo.example");
	guess("Received: from [198.51.100.21] (port=4321 helo=realhelo2.example) "
	      "by mx.dest.example with esmtp (Exim 4.96) id 1; Mon, 1 Jan 2024 "
	      "00:00:00 +0000\n", "198.51.100.21", "realhelo2.example");
	guess("Received: from [203.0.113.6] (helo=bogus.example) by "
	      "mx.dest.example with esmtp (Exim 4.96) id 1; Mon, 1 Jan 2024 "
	      "00:00:00 +0000\n", "203.0.113.6", "bogus.example");
	guess("Received: from mail.sender.example ([198.51.100.24]:54321)\n\t"
	      "by mx.dest.example with esmtps  (TLS1.3) tls "
	      "TLS_AES_256_GCM_SHA384\n\t(Exim 4.96)\n\t(envelope-from "
	      "<a@sender.example>)\n\tid 1qAbCd-000123-4f\n\tfor "
	      "c@dest.example;\n\tMon, 01 Jan 2024 00:00:00 +0000\n",
	      "198.51.100.24", "mail.sender.example");
}

/* qmail: "from RDNS (HELO HELO) (IP)", "unknown" without reverse DNS. */
static void t_qmail(void **st)
{
	(void)st;
	guess("Received: from unknown (HELO qm.example) (198.51.100.23) by "
	      "mx.dest.example with SMTP; 1 Jan 2024 00:00:00 -0000\n",
	      "198.51.100.23", "qm.example");
	guess("Received: from qm.example (HELO qm.example) (203.0.113.10)\n  "
	      "by mx.dest.example with ESMTPS; 1 Jan 2024 00:00:00 -0000\n",
	      "203.0.113.10", "qm.example");
	guess("Received: from host.example (HELO helo.example) "
	      "(2a00:1450:4864:20::32e) by mx.dest.example with SMTP; Mon, 1 "
	      "Jan 2024 00:00:00 +0000\n", "2a00:1450:4864:20::32e",
	      "helo.example");
}

/* Exchange / Outlook: "from NAME (IP) by ...", "from NAME ([IP])". */
static void t_exchange(void **st)
{
	(void)st;
	guess("Received: from EXCH01.corp.example (198.51.100.22) by "
	      "EXCH02.corp.example (10.1.1.2) with Microsoft SMTP Server id "
	      "15.0; Mon, 1 Jan 2024 00:00:00 +0000\n",
	      "198.51.100.22", "EXCH01.corp.example");
	guess("Received: from EXCH01.corp.example ([198.51.100.25]) by "
	      "EXCH02.corp.example with Microsoft SMTPSVC(6.0.3790.4675);\n\t"
	      "Mon, 1 Jan 2024 00:00:00 +0000\n",
	      "198.51.100.25", "EXCH01.corp.example");
}

/* Microsoft 365's own hops, newest first as delivered inside it. */
static void t_m365(void **st)
{
	(void)st;
	guess("Received: from AM0PR01MB1234.eurprd01.prod.exchangelabs.com\n "
	      "(2603:10a6:208:1::12) by AM0PR02MB5678.eurprd02.prod."
	      "exchangelabs.com\n (2603:10a6:20b:2::34) with Microsoft SMTP "
	      "Server (version=TLS1_2,\n cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_"
	      "SHA384) id 15.20.5000.10; Mon, 1 Jan\n 2024 00:00:00 +0000\n"
	      "Received: from laptop.home (dsl-1.isp.example [203.0.113.99]) by "
	      "x.example (Postfix) with ESMTP id Q; Mon, 1 Jan 2024 00:00:00 "
	      "+0000\n", "2603:10a6:208:1::12",
	      "AM0PR01MB1234.eurprd01.prod.exchangelabs.com");
	/* received from Microsoft 365 by a Postfix MX */
	guess("Received: from EUR05-AM6-obe.outbound.protection.outlook.com\n\t"
	      "(mail-am6eur05on2101.outbound.protection.outlook.com "
	      "[40.107.22.101])\n\tby mx.dest.example (Postfix) with ESMTPS id "
	      "4A1B2C\n\tfor <c@dest.example>; Mon,  1 Jan 2024 00:00:00 +0000 "
	      "(UTC)\n"
	      "Received: from AM0PR01MB1234.eurprd01.prod.exchangelabs.com\n "
	      "(2603:10a6:208:1::12) by AM0PR02MB5678.eurprd02.prod."
	      "exchangelabs.com\n (2603:10a6:20b:2::34) with Microsoft SMTP "
	      "Server id 15.20.5000.10; Mon, 1 Jan 2024 00:00:00 +0000\n",
	      "40.107.22.101", "EUR05-AM6-obe.outbound.protection.outlook.com");
}

/* Gmail: the rDNS name written with its final dot. */
static void t_gmail(void **st)
{
	(void)st;
	guess("Received: from mail-sor-f41.google.com (mail-sor-f41.google.com."
	      " [209.85.220.41])\n        by mx.google.com with SMTPS id "
	      "a1sor123.2024.01.01.00.00.00\n        for <c@gmail.com>\n        "
	      "(Google Transport Security);\n        Mon, 01 Jan 2024 00:00:00 "
	      "-0800 (PST)\n", "209.85.220.41", "mail-sor-f41.google.com");
}

static void t_ipv6(void **st)
{
	(void)st;
	guess("Received: from mail.example.org (mail.example.org "
	      "[IPv6:2001:db8::1]) by mx.example.net (Postfix) with ESMTP id "
	      "4A1B2C3D; Mon, 1 Jan 2024 00:00:00 +0000 (UTC)\n",
	      "2001:db8::1", "mail.example.org");
	guess("Received: from mail.example.org (mail.example.org "
	      "[2001:db8::2]) by mx.example.net (Postfix) with ESMTP id "
	      "4A1B2C3D; Mon, 1 Jan 2024 00:00:00 +0000 (UTC)\n",
	      "2001:db8::2", "mail.example.org");
	guess("Received: from mx.example ([IPv6:2001:db8::3]) by "
	      "mx.dest.example; Mon, 1 Jan 2024 00:00:00 +0000\n",
	      "2001:db8::3", "mx.example");
	guess("Received: from [IPv6:2001:db8::5] (port=1234 helo=h6.example) by "
	      "mx.dest.example with esmtp (Exim 4.96) id 1; Mon, 1 Jan 2024 "
	      "00:00:00 +0000\n", "2001:db8::5", "h6.example");
}

/* Hops inside the receiving site (loopback content filter, private and
 * unique-local relays) are skipped; the newest public one is the client,
 * not the older hops behind it. */
static void t_internal_skipped(void **st)
{
	(void)st;
	guess("Received: from localhost (localhost [127.0.0.1]) by "
	      "mx.dest.example (Postfix) with ESMTP id 1; Mon, 1 Jan 2024 "
	      "00:00:02 +0000\n"
	      "Received: from mx.dest.example ([10.0.0.5]) by filter.dest.example "
	      "with ESMTP id 2; Mon, 1 Jan 2024 00:00:02 +0000\n"
	      "Received: from gw.dest.example (gw.dest.example [IPv6:fd00::5]) "
	      "by mx.dest.example (Postfix) with ESMTP id 3; Mon, 1 Jan 2024 "
	      "00:00:01 +0000\n"
	      "Received: from [198.51.100.31] (port=1 helo=out.sender.example) by "
	      "gw.dest.example with esmtp (Exim 4.96) id 1; Mon, 1 Jan 2024 "
	      "00:00:01 +0000\n"
	      "Received: from laptop.home (dsl-1.isp.example [203.0.113.99]) by "
	      "out.sender.example (Postfix) with ESMTP id Q; Mon, 1 Jan 2024 "
	      "00:00:00 +0000\n", "198.51.100.31", "out.sender.example");
	guess("Received: from localhost (localhost [127.0.0.1]) by "
	      "mx.dest.example; Mon, 1 Jan 2024 00:00:00 +0000\n", "", "");
	guess("Received: by mx.dest.example (Postfix, from userid 0) id 1; Mon, "
	      "1 Jan 2024 00:00:00 +0000\n", "", "");
}

/* audit11 M4: a forwarder's header the old parser missed made the
 * sender's submission host (behind it) the client. */
static void t_newest_not_older(void **st)
{
	(void)st;
	static const char older[] =
		"Received: from laptop.home (dsl-1.isp.example [203.0.113.99]) by "
		"out.sender.example (Postfix) with ESMTPSA id Q; Mon, 1 Jan 2024 "
		"00:00:00 +0000\n";
	char rcv[1024];
	snprintf(rcv, sizeof rcv, "Received: from unknown (HELO "
	         "out.sender.example) (198.51.100.30) by mx.dest.example with "
	         "SMTP; 1 Jan 2024 00:00:01 -0000\n%s", older);
	guess(rcv, "198.51.100.30", "out.sender.example");
	snprintf(rcv, sizeof rcv, "Received: from [198.51.100.31] (port=1 "
	         "helo=out.sender.example) by mx.dest.example with esmtp (Exim "
	         "4.96) id 1; Mon, 1 Jan 2024 00:00:01 +0000\n%s", older);
	guess(rcv, "198.51.100.31", "out.sender.example");
	/* alone, an authenticated submission is the sender's own: no SMTP
	 * client from outside (SpamAssassin's trust inference) */
	guess(older, "", "");
}

/* X-Originating-IP names a web client, not an SMTP one. */
static void t_originating_ip(void **st)
{
	(void)st;
	guess("Received: from webmail.dest.example ([10.1.2.3]) by "
	      "mx.dest.example with ESMTP id 1; Mon, 1 Jan 2024 00:00:00 +0000\n"
	      "X-Originating-IP: [203.0.113.44]\n", "", "");
}

/* What the flags give wins; the rest still comes from the message. */
static void t_flags(void **st)
{
	(void)st;
	static const char rcv[] =
		"Received: from [198.51.100.21] (port=4321 helo=realhelo2.example) "
		"by mx.dest.example with esmtp (Exim 4.96) id 1; Mon, 1 Jan 2024 "
		"00:00:00 +0000\n";
	struct envguess_flags f = { .client_ip = "192.0.2.7" };
	guess_with(rcv, &f, "192.0.2.7", "realhelo2.example");
	f = (struct envguess_flags){ .helo = "given.example" };
	guess_with(rcv, &f, "198.51.100.21", "given.example");
}

/* With trusted_networks or internal_networks in the rule files, the
 * client is the first relay they leave untrusted, as the rules see it:
 * a trusted backup MX or forwarder is passed over (inferred trust would
 * take it: its address is public). */
static void t_trusted_networks(void **st)
{
	(void)st;
	static const char rcv[] =
		"Received: from relay.partner.example (relay.partner.example "
		"[198.51.100.40]) by mx.dest.example (Postfix) with ESMTP id 1; "
		"Mon, 1 Jan 2024 00:00:02 +0000\n"
		"Received: from out.sender.example (out.sender.example "
		"[203.0.113.50]) by relay.partner.example (Postfix) with ESMTP id "
		"2; Mon, 1 Jan 2024 00:00:01 +0000\n";
	struct envguess_flags f = { 0 };
	guess_cf(rcv, &f, NULL, "198.51.100.40", "relay.partner.example");
	guess_cf(rcv, &f, "trusted_networks 198.51.100.40\n", "203.0.113.50",
	         "out.sender.example");
	/* internal_networks alone stands for trusted_networks too */
	guess_cf(rcv, &f, "internal_networks 198.51.100.0/24\n",
	         "203.0.113.50", "out.sender.example");
	/* both hops trusted: no client from outside */
	guess_cf(rcv, &f, "trusted_networks 198.51.100.40 203.0.113.50\n", "",
	         "");
	/* msa_networks alone configures no trust: inferred */
	guess_cf(rcv, &f, "msa_networks 198.51.100.40\n", "198.51.100.40",
	         "relay.partner.example");
}

/* The client's rDNS name under flags f: want_name, and whether the
 * client counts as guessed. */
static void name_is(const char *received, const struct envguess_flags *f,
                    const char *want_name, bool want_guessed)
{
	struct scan *s = guessed(received, f, NULL);
	const struct scan_env *env = scan_env(s);
	if (strcmp(env->client_host, want_name) != 0 ||
	    env->client_guessed != want_guessed)
		fail_msg("name '%s' guessed %d, want '%s' %d for:\n%s",
		         env->client_host, env->client_guessed, want_name,
		         want_guessed, received);
	scan_free(s);
}

/* The client's rDNS name comes from the line its address comes from, as
 * SpamAssassin reads it (rdns=): the name in "(RDNS [IP])", none for
 * "unknown", an address-only form or a line that has none; the final
 * dot dropped; with --client-ip none (the line's name is another
 * host's), --client-name wins. (audit25 M1: the name was never taken,
 * and a --milter peer was told "no reverse DNS" for every client.) */
static void t_rdns_name(void **st)
{
	(void)st;
	struct envguess_flags none = { 0 };
	static const char yahoo[] =
		"Received: from n6.grp.scd.yahoo.com (n6.grp.scd.yahoo.com "
		"[66.218.66.90]) by mx.dest.example (Postfix) with ESMTP id 1; "
		"Mon, 1 Jan 2024 00:00:00 +0000\n";
	name_is(yahoo, &none, "n6.grp.scd.yahoo.com", true);
	/* the HELO is the first word, the name the one in parentheses */
	name_is("Received: from fakehelo.example (real.sender.example "
	        "[203.0.113.7]) by mx.dest.example (8.17.1/8.17.1) with ESMTP "
	        "id x; Mon, 1 Jan 2024 00:00:00 +0000\n", &none,
	        "real.sender.example", true);
	name_is("Received: from helo.example (unknown [203.0.113.6]) by "
	        "mx.dest.example (Postfix) with ESMTP id 4A1B2C3D; Mon, 1 Jan "
	        "2024 00:00:00 +0000 (UTC)\n", &none, "", true);
	name_is("Received: from helo.example ([203.0.113.9])\n\tby "
	        "mx.dest.example (8.17.1/8.17.1) with ESMTP id 30AGx1Zq012345;"
	        "\n\tMon, 1 Jan 2024 00:00:00 +0000\n", &none, "", true);
	name_is("Received: from unknown (HELO qm.example) (198.51.100.23) by "
	        "mx.dest.example with SMTP; 1 Jan 2024 00:00:00 -0000\n", &none,
	        "", true);
	name_is("Received: from rdns.sender.example ([198.51.100.20] "
	        "helo=realhelo.example) by mx.dest.example with esmtp (Exim "
	        "4.96) id 1; Mon, 1 Jan 2024 00:00:00 +0000\n", &none,
	        "rdns.sender.example", true);
	name_is("Received: from mail-sor-f41.google.com (mail-sor-f41.google."
	        "com. [209.85.220.41]) by mx.google.com with SMTPS id a1; Mon, "
	        "01 Jan 2024 00:00:00 -0800 (PST)\n", &none,
	        "mail-sor-f41.google.com", true);
	/* an internal hop's name is not the client's */
	name_is("Received: from inside.dest.example (inside.dest.example "
	        "[10.0.0.5]) by mx.dest.example (Postfix) with ESMTP id 2; Mon, "
	        "1 Jan 2024 00:00:01 +0000\n"
	        "Received: from out.sender.example (unknown [203.0.113.50]) by "
	        "inside.dest.example (Postfix) with ESMTP id 3; Mon, 1 Jan 2024 "
	        "00:00:00 +0000\n", &none, "", true);
	struct envguess_flags ip = { .client_ip = "192.0.2.7" };
	name_is(yahoo, &ip, "", false);
	struct envguess_flags named = { .client_name = "given.example" };
	name_is(yahoo, &named, "given.example", true);
	ip.client_name = "given.example";
	name_is(yahoo, &ip, "given.example", false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_postfix),
		cmocka_unit_test(t_sendmail),
		cmocka_unit_test(t_helo_literal),
		cmocka_unit_test(t_exim),
		cmocka_unit_test(t_qmail),
		cmocka_unit_test(t_exchange),
		cmocka_unit_test(t_m365),
		cmocka_unit_test(t_gmail),
		cmocka_unit_test(t_ipv6),
		cmocka_unit_test(t_internal_skipped),
		cmocka_unit_test(t_newest_not_older),
		cmocka_unit_test(t_originating_ip),
		cmocka_unit_test(t_flags),
		cmocka_unit_test(t_trusted_networks),
		cmocka_unit_test(t_rdns_name),
	};
	return cmocka_run_group_tests_name("envguess", tests, NULL, NULL);
}
