/* Unit tests of the SpamAssassin eval: functions in C (saeval.c) and of
 * their hook in the rule engine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "msg.h"
#include "strbuf.h"
#include "relays.h"
#include "rules.h"
#include "ruleset.h"
#include "saeval.h"
#include "scan.h"

/* Relays kept by the caller across calls, as the rule engine keeps
 * them (its scan's): built on the first call that asks. */
struct kept {
	const struct msg *m;
	struct relays *r;
};

static const struct relays *kept_relays(void *arg)
{
	struct kept *k = arg;
	if (k->r == NULL && relays_build(k->m, &k->r) != 0)
		return NULL;
	return k->r;
}

/* Run eval text on a message (LF line ends), with an envelope sender. */
static bool run_env(const char *eval, const char *raw, const char *env_from)
{
	struct saeval_call *c = NULL;
	assert_int_equal(saeval_compile(eval, &c), 0);
	assert_non_null(c);
	struct msg *m = msg_parse(raw, strlen(raw), NULL);
	assert_non_null(m);
	struct saeval_ctx ctx = { .m = m, .env_from = env_from };
	bool hit = saeval_run(c, &ctx);
	/* with relays and results kept for the next calls (as the rule
	 * engine runs them): the same, whether the call works them out or
	 * finds them */
	struct kept kept = { .m = m };
	ctx.relays = kept_relays;
	ctx.relays_arg = &kept;
	ctx.cache = saeval_cache_new();
	assert_non_null(ctx.cache);
	assert_int_equal(saeval_run(c, &ctx), hit);
	assert_int_equal(saeval_run(c, &ctx), hit);
	relays_free(kept.r);
	saeval_cache_free(ctx.cache);
	msg_free(m);
	saeval_free(c);
	return hit;
}

static bool run(const char *eval, const char *raw)
{
	return run_env(eval, raw, NULL);
}

static void test_compile(void **state)
{
	(void)state;
	struct saeval_call *c = (struct saeval_call *)1;
	assert_int_equal(saeval_compile("check_no_such_thing()", &c), 1);
	assert_null(c);
	assert_int_equal(saeval_compile("check_bayes('0.99', '1.00')", &c), 1);
	assert_int_equal(saeval_compile("garbage", &c), 1);
	assert_int_equal(saeval_compile(" check_for_shifted_date ( '3', "
	                                "\"6\" )", &c), 0);
	saeval_free(c);
	assert_true(saeval_implements("check_outlook_message_id"));
	assert_false(saeval_implements("check_dkim_valid"));
	assert_true(saeval_function_count() >= 5);
	assert_true(saeval_implements(saeval_function_at(0)));
	assert_true(saeval_plugin("Mail::SpamAssassin::Plugin::HeaderEval"));
	assert_false(saeval_plugin("Mail::SpamAssassin::Plugin::Bayes"));
}

/* Received 12:00 UTC; Date as given. */
static char *dated(const char *date)
{
	static char buf[1024];
	snprintf(buf, sizeof buf,
	         "Received: from a.example (a.example [192.0.2.1]) by "
	         "mx.example.org with ESMTP id X1;\n"
	         "\tMon, 23 Nov 2026 12:00:00 +0000\n"
	         "Date: %s\nFrom: a@example.com\nSubject: hi\n\nbody\n", date);
	return buf;
}

static void test_shifted_date(void **state)
{
	(void)state;
	const char *fut = "check_for_shifted_date('6', '12')";
	const char *past = "check_for_shifted_date('undef', '-96')";
	/* 8 hours ahead, written in another zone: still 8 hours */
	assert_true(run(fut, dated("Mon, 23 Nov 2026 15:00:00 -0500")));
	assert_true(run(fut, dated("23 Nov 2026 20:00 GMT")));
	assert_false(run(fut, dated("Mon, 23 Nov 2026 12:10:00 +0000")));
	assert_false(run(fut, dated("Mon, 23 Nov 2026 12:00:00 -0100")));
	assert_true(run(past, dated("Wed, 11 Nov 2026 12:00:00 +0000")));
	assert_false(run(past, dated("Sun, 22 Nov 2026 12:00:00 +0000")));
	/* no Date, or a Date that does not parse: diff 0 */
	assert_false(run("check_for_shifted_date('undef', '-1')",
	                 dated("yesterday")));
	assert_true(run("check_for_shifted_date('-1', '1')",
	                dated("yesterday")));
	/* a Received date folded before its zone still reads (get()
	 * unfolds a line break and its blanks to one space): 11h59m44s
	 * after it, not 12h13m after the older one */
	static const char folded[] =
	    "Received: from a.example ([192.0.2.1]) by b.example with ESMTP"
	    " id 1; Thu, 29 Aug 2002 13:45:38\n     +0100\n"
	    "Received: from c.example [192.0.2.2] by a.example with ESMTP"
	    " id 2; Thu, 29 Aug 2002 20:32:24 +0800\n"
	    "Date: Thu, 29 Aug 2002 08:45:22 -1600\n\nb\n";
	assert_true(run(fut, folded));
	assert_false(run("check_for_shifted_date('12', '24')", folded));
}

static void test_outlook_message_id(void **state)
{
	(void)state;
	/* A time token that does not fit the Date (nor the Received) */
	const char *fake =
	    "Received: from x by y; Mon, 23 Nov 2026 12:00:00 +0000\n"
	    "Date: Mon, 23 Nov 2026 12:00:00 +0000\n"
	    "Message-ID: <000a12345678$0badf00d$01234567@example>\n\nb\n";
	assert_true(run("check_outlook_message_id()", fake));
	/* The token computed from the Date: 1795435200 * x + y */
	char ok[512];
	unsigned long tok = (unsigned long)(1795435200.0 * 0.0023283064365387 +
	                                    27111902.8329849);
	snprintf(ok, sizeof ok,
	         "Received: from x by y; Mon, 23 Nov 2026 12:00:00 +0000\n"
	         "Date: Mon, 23 Nov 2026 12:00:00 +0000\n"
	         "Message-ID: <0001%08lx$0badf00d$01234567@example>\n\nb\n",
	         tok);
	assert_false(run("check_outlook_message_id()", ok));
	/* Not the Outlook Express form */
	assert_false(run("check_outlook_message_id()",
	                 "Date: Mon, 23 Nov 2026 12:00:00 +0000\n"
	                 "Message-ID: <abc@example>\n\nb\n"));
}

static void test_equal_from_domains(void **state)
{
	(void)state;
	const char *e = "check_equal_from_domains()";
	const char *from = "From: Al <al@mail.shop.example.com>\nTo: b@c.d\n";
	char msg[1024];
	/* Return-Path on top: SpamAssassin's EnvelopeFrom */
	snprintf(msg, sizeof msg, "Return-Path: <bounce@news.example.com>\n%s"
	         "\nb\n", from);
	assert_false(run(e, msg));
	snprintf(msg, sizeof msg, "Return-Path: <bounce@esp.example.net>\n%s"
	         "\nb\n", from);
	assert_true(run(e, msg));
	/* a given SMTP envelope (vigild's MAIL FROM, --mail-from) is the
	 * one EnvelopeFrom every reader sees: it decides, not the header;
	 * a null sender leaves the guess */
	assert_false(run_env(e, msg, "al@mail.shop.example.com"));
	assert_true(run_env(e, msg, ""));
	/* no envelope guess at all: only a given envelope */
	snprintf(msg, sizeof msg, "%s\nb\n", from);
	assert_false(run(e, msg));
	assert_true(run_env(e, msg, "bounce@esp.example.net"));
	/* Return-Path below a Received line: a list may have changed it */
	snprintf(msg, sizeof msg, "Received: from a.example (a.example "
	         "[192.0.2.1]) by mx.example.org with SMTP id 1;\n"
	         " Mon, 1 Jan 2024 00:00:00 +0000\n"
	         "Return-Path: <bounce@esp.example.net>\n%s\nb\n", from);
	assert_false(run(e, msg));
	/* X-Sender plus a fetchmail Received: fetchmail's guess, no sender */
	snprintf(msg, sizeof msg, "Return-Path: <bounce@esp.example.net>\n"
	         "Received: from pop.example [127.0.0.1]\n"
	         " by localhost with IMAP (fetchmail-5.9.0)\n"
	         " for me@localhost (single-drop); Mon, 1 Jan 2024 00:00:00 "
	         "+0000\nX-Sender: al@mail.shop.example.com\n%s\nb\n", from);
	assert_false(run(e, msg));
	/* a bare "@" in X-Sender is no address: Return-Path counts */
	snprintf(msg, sizeof msg, "Return-Path: <bounce@esp.example.net>\n"
	         "Received: from pop.example [127.0.0.1]\n"
	         " by localhost with IMAP (fetchmail-5.9.0)\n"
	         " for me@localhost (single-drop); Mon, 1 Jan 2024 00:00:00 "
	         "+0000\nX-Sender: @ (Unverified)\n%s\nb\n", from);
	assert_true(run(e, msg));
	/* the last untrusted relay's envelope-from comes first */
	snprintf(msg, sizeof msg, "Return-Path: <bounce@news.example.com>\n"
	         "Received: from a.example (a.example [192.0.2.1])\n"
	         " (envelope-sender <x@esp.example.net>)\n"
	         " by mx.example.org with SMTP id 1;\n"
	         " Mon, 1 Jan 2024 00:00:00 +0000\n%s\nb\n", from);
	assert_true(run(e, msg));
}

/* check_for_forged_received_trail over three untrusted relays, each
 * "from RDNS [IP] by BY" (shapes checked against SpamAssassin 4.0.1). */
static bool trail(const char *const hop[3][3])
{
	char m[1024] = "", line[256];
	for (int k = 0; k < 3; k++) {
		snprintf(line, sizeof line, "Received: from %s (%s [%s])\n\tby %s "
		         "(Postfix) with ESMTP id %d;\n\tMon, 1 Jan 2024 00:00:0%d "
		         "+0000\n", hop[k][0], hop[k][0], hop[k][1], hop[k][2], k, k);
		strcat(m, line);
	}
	strcat(m, "From: a@example.com\nSubject: t\n\nhello\n");
	return run("check_for_forged_received_trail()", m);
}

static void test_forged_rcvd_trail(void **state)
{
	(void)state;
	/* received by other.org from beta.org, by wrong.com from gamma.com */
	const char *const two[3][3] = {
		{ "mx2.beta.org", "198.51.100.2", "mx.final.net" },
		{ "mx1.gamma.com", "198.51.100.3", "mx2.other.org" },
		{ "src.delta.com", "198.51.100.4", "mx1.wrong.com" } };
	assert_true(trail(two));
	const char *const one[3][3] = {
		{ "mx2.beta.org", "198.51.100.2", "mx.final.net" },
		{ "mx1.gamma.com", "198.51.100.3", "mx2.beta.org" },
		{ "src.delta.com", "198.51.100.4", "mx1.wrong.com" } };
	assert_false(trail(one));
	/* a hop from localhost 127.0.0.1 breaks the trail */
	const char *const local[3][3] = {
		{ "mx2.beta.org", "198.51.100.2", "mx.final.net" },
		{ "localhost", "127.0.0.1", "mx2.other.org" },
		{ "src.delta.com", "198.51.100.4", "mx1.wrong.com" } };
	assert_false(trail(local));
	/* msn.com receiving from hotmail.com is no mismatch */
	const char *const msn[3][3] = {
		{ "mx2.hotmail.com", "198.51.100.2", "mx.final.net" },
		{ "mx1.gamma.com", "198.51.100.3", "mx2.msn.com" },
		{ "src.delta.com", "198.51.100.4", "mx1.wrong.com" } };
	assert_false(trail(msn));
	/* a two-letter top-level domain: the last three labels */
	const char *const uk[3][3] = {
		{ "a.b.co.uk", "198.51.100.2", "mx.final.net" },
		{ "mx1.gamma.com", "198.51.100.3", "x.b.co.uk" },
		{ "src.delta.com", "198.51.100.4", "mx1.wrong.com" } };
	assert_false(trail(uk));
}

static void test_helo_ip_mismatch(void **state)
{
	(void)state;
	const char *e = "helo_ip_mismatch()";
	/* public IPv4 HELO, another /24 than the address */
	assert_true(run(e, "Received: from 198.51.100.7 (host.example.net "
	                   "[203.0.113.9]) by mx.example.org (Postfix) with "
	                   "ESMTP id A1; Mon, 1 Jan 2024 00:00:00 +0000\n"
	                   "\nb\n"));
	/* same /24 */
	assert_false(run(e, "Received: from 203.0.113.7 (host.example.net "
	                    "[203.0.113.9]) by mx.example.org (Postfix) with "
	                    "ESMTP id A1; Mon, 1 Jan 2024 00:00:00 +0000\n"
	                    "\nb\n"));
	/* private HELO, name HELO */
	assert_false(run(e, "Received: from 192.168.1.7 (host.example.net "
	                    "[203.0.113.9]) by mx.example.org (Postfix) with "
	                    "ESMTP id A1; Mon, 1 Jan 2024 00:00:00 +0000\n"
	                    "\nb\n"));
	assert_false(run(e, "Received: from host.example.net (host.example.net "
	                    "[203.0.113.9]) by mx.example.org (Postfix) with "
	                    "ESMTP id A1; Mon, 1 Jan 2024 00:00:00 +0000\n"
	                    "\nb\n"));
}

static void test_no_rdns_dotcom_helo(void **state)
{
	(void)state;
	const char *e = "check_for_no_rdns_dotcom_helo()";
	/* Postfix looks the address up: "unknown" means no rDNS */
	assert_true(run(e, "Received: from mx1.mail.yahoo.com (unknown "
	                   "[203.0.113.9]) by mx.example.org (Postfix) with "
	                   "ESMTP id A1; Mon, 1 Jan 2024 00:00:00 +0000\n"
	                   "\nb\n"));
	/* with an rDNS */
	assert_false(run(e, "Received: from mx1.mail.yahoo.com (h.example.net "
	                    "[203.0.113.9]) by mx.example.org (Postfix) with "
	                    "ESMTP id A1; Mon, 1 Jan 2024 00:00:00 +0000\n"
	                    "\nb\n"));
	/* not a big dotcom */
	assert_false(run(e, "Received: from mx1.example.com (unknown "
	                    "[203.0.113.9]) by mx.example.org (Postfix) with "
	                    "ESMTP id A1; Mon, 1 Jan 2024 00:00:00 +0000\n"
	                    "\nb\n"));
	/* Microsoft SMTPSVC never looks up: no rDNS proves nothing */
	assert_false(run(e, "Received: from mx1.mail.yahoo.com ([203.0.113.9]) "
	                    "by mx.example.org with Microsoft "
	                    "SMTPSVC(5.0.2195.5329); Mon, 1 Jan 2024 00:00:00 "
	                    "+0000\n\nb\n"));
}

static void test_subject_all_caps(void **state)
{
	(void)state;
	const char *e = "subject_is_all_caps()";
	assert_true(run(e, "Subject: BUY CHEAP WATCHES NOW!\n\nb\n"));
	assert_true(run(e, "Subject: Re: FREE MONEY 4 U\n\nb\n"));
	assert_false(run(e, "Subject: Buy cheap watches now\n\nb\n"));
	assert_false(run(e, "Subject: VERYLONGSINGLEWORD\n\nb\n"));
	assert_false(run(e, "Subject: ABC DEF\n\nb\n"));  /* short */
	assert_false(run(e, "Subject: =?koi8-r?Q?ABC_DEF_GHI_JKL?=\n\nb\n"));
}

static void test_similar_recipients(void **state)
{
	(void)state;
	const char *e = "similar_recipients('0.65','undef')";
	assert_true(run(e, "To: jo1@aa.example, jo2@ab.example, "
	                   "jo3@ac.example, jo4@ad.example, jo5@ae.example\n"
	                   "\nb\n"));
	assert_false(run(e, "To: ann@x.example, bob@y.example, "
	                    "cy@z.example, dan@w.example, eve@v.example\n"
	                    "\nb\n"));
	assert_false(run(e, "To: jo1@aa.example, jo2@ab.example\n\nb\n"));
}

static void test_unicode_ratio(void **state)
{
	(void)state;
	/* 2 escapes over the 10 other bytes ("Hi  there\n"): 0.2 */
	static const char esc[] = "Content-Type: text/plain\n\n"
	    "Hi &#x0048;&#x0049; there\n";
	assert_true(run("check_abundant_unicode_ratio(0.05)", esc));
	assert_true(run("check_abundant_unicode_ratio(0.2)", esc));
	assert_false(run("check_abundant_unicode_ratio(0.21)", esc));
	/* lower-case hex is not counted, nor encoded or HTML parts */
	assert_false(run("check_abundant_unicode_ratio(0.02)",
	                 "Content-Type: text/plain\n\nHi &#x00e9; there\n"));
	assert_false(run("check_abundant_unicode_ratio(0.02)",
	                 "Content-Type: text/html\n\nHi &#x0048; there\n"));
	assert_false(run("check_abundant_unicode_ratio(0.02)",
	                 "Content-Type: text/plain\nContent-Transfer-Encoding: "
	                 "quoted-printable\n\nHi &#x0048; there\n"));
	struct saeval_call *c = NULL;
	assert_int_equal(saeval_compile("check_abundant_unicode_ratio(2)", &c),
	                 1);
}

static void test_env_and_hdr_from(void **state)
{
	(void)state;
	const char *e = "check_for_matching_env_and_hdr_from()";
	assert_true(run(e, "Return-Path: <Al@Example.com>\nFrom: Al "
	                   "<al@example.COM>\n\nb\n"));
	assert_false(run(e, "Return-Path: <bounce@esp.example.net>\nFrom: "
	                    "al@example.com\n\nb\n"));
	/* neither: two blanks match (HeaderEval.pm); one only: no */
	assert_true(run(e, "Subject: x\n\nb\n"));
	assert_false(run(e, "From: al@example.com\n\nb\n"));
}

static void test_ratware_name_id(void **state)
{
	(void)state;
	const char *e = "check_ratware_name_id()";
	assert_true(run(e, "Message-Id: <ABCDEFGHIJKLMNOPQRSTUVWXYZAB.joe@"
	                   "x.example>\nFrom: \"Joe\" <joe@x.example>\n\nb\n"));
	/* in X-Message-Id too; a display name without quotes: no */
	assert_true(run(e, "X-Message-Id: <ABCDEFGHIJKLMNOPQRSTUVWXYZAB.joe@"
	                   "x.example>\nFrom: \"J\"  <joe@x.example>\n\nb\n"));
	assert_false(run(e, "Message-Id: <ABCDEFGHIJKLMNOPQRSTUVWXYZAB.joe@"
	                    "x.example>\nFrom: Joe <joe@x.example>\n\nb\n"));
	/* no Message-Id at all; 27 letters, or another address: no */
	assert_false(run(e, "From: \"Joe\" <joe@x.example>\n\nb\n"));
	assert_false(run(e, "Message-Id: <ABCDEFGHIJKLMNOPQRSTUVWXYZA.joe@"
	                    "x.example>\nFrom: \"Joe\" <joe@x.example>\n\nb\n"));
	assert_false(run(e, "Message-Id: <ABCDEFGHIJKLMNOPQRSTUVWXYZAB.joe@"
	                    "x.example>\nFrom: \"Joe\" <ann@x.example>\n\nb\n"));
}

static void test_gated_rcvd_remover(void **state)
{
	(void)state;
	const char *e = "gated_through_received_hdr_remover()";
	/* no Received at all, or MSN groups' */
	assert_true(run(e, "From: a@b.example\n\nb\n"));
	assert_true(run(e, "Received: from groups.msn.com (tk2.msn.com "
	                   "[1.2.3.4]) by x\n\nb\n"));
	assert_false(run(e, "Received: from a.example (a.example [192.0.2.1]) "
	                    "by b.example\n\nb\n"));
}

static void test_image_count(void **state)
{
	(void)state;
	static const char two[] = "Content-Type: multipart/mixed; boundary=B\n\n"
	    "--B\nContent-Type: image/gif\nContent-Transfer-Encoding: base64\n\n"
	    "R0lGODlh\n--B\nContent-Type: image/JPG\nContent-Transfer-Encoding: "
	    "BASE64\n\n/9j/\n--B\nContent-Type: image/png\n\nPNG\n--B--\n";
	/* the png is not base64: not counted; jpg counts as jpeg */
	assert_true(run("image_count('gif', '1', '1')", two));
	assert_true(run("image_count('jpeg', 1, 1)", two));
	assert_false(run("image_count('png', '1')", two));
	assert_true(run("image_count('all', '2', '2')", two));
	assert_false(run("image_count('all', '1', '1')", two));
	assert_true(run("image_count('all', '2')", two));
	struct saeval_call *c = NULL;
	assert_int_equal(saeval_compile("image_count('bmp', 1)", &c), 1);
}

static void test_sorted_recipients(void **state)
{
	(void)state;
	const char *e = "sorted_recipients()";
	/* seven addresses in order over To and Cc (a repeat next to itself
	 * is dropped) */
	assert_true(run(e, "To: a@x.example, b@x.example, c@x.example, "
	                   "c@x.example\nCc: d@x.example, e@x.example, "
	                   "f@x.example, g@x.example\n\nb\n"));
	assert_false(run(e, "To: a@x.example, c@x.example, b@x.example, "
	                    "d@x.example, e@x.example, f@x.example, "
	                    "g@x.example\n\nb\n"));
	assert_false(run(e, "To: a@x.example, b@x.example, c@x.example, "
	                    "d@x.example, e@x.example, f@x.example\n\nb\n"));
}

static void test_unresolved_template(void **state)
{
	(void)state;
	const char *e = "check_unresolved_template()";
	assert_true(run(e, "X-Mailer: %RND_MAILER\n\nb\n"));
	assert_true(run(e, "Received: from %RANDOM_HOST by x\n\nb\n"));
	/* not in the headers where it may be legitimate, nor lower case */
	assert_false(run(e, "Subject: 100%ABC off\nTo: %TO_NAME <a@x>\n"
	                    "Message-Id: <%RND@x>\n\nb\n"));
	assert_false(run(e, "X-Mailer: %rnd_mailer 50%A\n\nb\n"));
	/* decoded, as get('ALL') gives it */
	assert_true(run(e, "X-Campaign: =?utf-8?q?=25FOO_BAR?=\n\nb\n"));
}

static void test_forged_relays(void **state)
{
	(void)state;
	const char *aol = "check_for_fake_aol_relay_in_rcvd()";
	assert_true(run(aol, "Received: from unknown (HELO x) (80.71.176.130) "
	                     "by rly-xw01.mx.aol.com with QMQP; Sat, 15 Jun "
	                     "2002 23:37:16 -0000\n\nb\n"));
	assert_false(run(aol, "Received: from a by rly-ip01.mx.aol.com "
	                      "(8.8.8/8.8.8/AOL-5.0.0) with ESMTP id N; Thu, "
	                      "4 Apr 2002 13:11:20 -0500\n\nb\n"));
	assert_false(run(aol, "Received: from a by b\n\nb\n"));
	const char *y = "check_for_forged_yahoo_received_headers()";
	assert_true(run(y, "Received: from spammer.example by mx.example\n"
	                   "From: x@yahoo.com\n\nb\n"));
	assert_false(run(y, "Received: from [192.0.2.1] by "
	                    "web1.mail.bf1.yahoo.com via HTTP\n"
	                    "From: x@yahoo.com\n\nb\n"));
	assert_false(run(y, "Received: from a by b\nFrom: x@example.com\n\nb\n"));
	/* no Received at all: cannot tell */
	assert_false(run(y, "From: x@yahoo.com\n\nb\n"));
}

static void test_mime(void **state)
{
	(void)state;
	static const char alt[] =
	    "From: a@b.example\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/alternative; boundary=XX\n\n"
	    "--XX\nContent-Type: text/plain; charset=us-ascii\n"
	    "Content-Transfer-Encoding: base64\n\naGVsbG8=\n"
	    "--XX\nContent-Type: text/html\n"
	    "Content-Transfer-Encoding: quoted-printable\n\n"
	    "<html><body>caf=E9 =3D =41=42 "
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxx</body></html>\n--XX--\n";
	static const char html[] = "Content-Type: text/html\n\n<p>hi</p>\n";
	static const char plain[] = "Subject: x\n\nhello\n";
	assert_true(run("check_for_mime_html()", alt));
	assert_true(run("check_for_mime_html()", html));
	assert_false(run("check_for_mime_html()", plain));
	assert_false(run("check_for_mime_html_only()", alt));
	assert_true(run("check_for_mime_html_only()", html));
	assert_true(run("check_for_mime('mime_base64_count')", alt));
	assert_false(run("check_for_mime('mime_base64_count')", html));
	assert_true(run("check_for_mime('mime_base64_encoded_text')", alt));
	/* =41=42 need no encoding: counted; =E9 and =3D do */
	assert_true(run("check_for_mime('mime_qp_count')", alt));
	assert_true(run("check_for_mime('mime_qp_long_line')", alt));
	assert_false(run("check_for_mime('mime_qp_count')",
	                 "Content-Transfer-Encoding: quoted-printable\n\n"
	                 "caf=E9 a=3Db\n"));
	assert_false(run("check_for_mime('mime_attachment')", alt));
	/* a part without Content-Transfer-Encoding after a quoted-printable
	 * one is not quoted-printable ("=46" in a PGP signature) */
	assert_false(run("check_for_mime('mime_qp_count')",
	                 "Content-Type: multipart/signed; boundary=S\n\n--S\n"
	                 "Content-Type: text/plain\n"
	                 "Content-Transfer-Encoding: quoted-printable\n\n"
	                 "-- =20\n--S\n"
	                 "Content-Type: application/pgp-signature\n\n"
	                 "=46WZ\n--S--\n"));
	struct saeval_call *c = NULL;
	assert_int_equal(saeval_compile("check_for_mime('mime_faraway_charset')",
	                                &c), 1);
}

static void test_uppercase(void **state)
{
	(void)state;
	char msg[2048] = "Subject: hello\n\n";
	for (int i = 0; i < 12; i++)
		strcat(msg, "THIS IS A VERY LOUD LINE OF TEXT and some\n");
	assert_true(run("check_for_uppercase('50', '100')", msg));
	assert_false(run("check_for_uppercase('0', '50')", msg));
	/* a part's charset split on blanks: "gb2312 (x)" says nothing of
	 * capitals; the first \bcharset= is x-charset's */
	static const char *const cs[] = { "charset=gb2312 (x)",
	                                  "x-charset=gb2312; charset=us-ascii" };
	for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
		char mp[2048];
		int n = snprintf(mp, sizeof mp, "Content-Type: multipart/mixed; "
		                 "boundary=b\n\n--b\nContent-Type: text/plain; "
		                 "%s\n\n%s--b--\n", cs[i], msg + 16);
		assert_true(n > 0 && (size_t)n < sizeof mp);
		assert_false(run("check_for_uppercase('50', '100')", mp));
	}
	/* the top Content-Type's charset as get_charset_from_ct_line()
	 * finds it: charset="..." first, then '...', then a word, wherever
	 * each stands (spamassassin 4.0.1: gb2312 here, no UPPERCASE_*) */
	char q[2048];
	int qn = snprintf(q, sizeof q, "Content-Type: text/plain; "
	                  "charset=us-ascii; x=\"charset='gb2312'\"\n%s", msg);
	assert_true(qn > 0 && (size_t)qn < sizeof q);
	assert_false(run("check_for_uppercase('50', '100')", q));
	/* under 200 bytes: 0 */
	assert_false(run("check_for_uppercase('50', '100')",
	                 "Subject: hi\n\nTHIS IS LOUD\n"));
}

static void test_html(void **state)
{
	(void)state;
	static const char html[] =
	    "Content-Type: text/html\n\n<HTML><head><title>t <b>x</b></title>"
	    "</head><!-- <center> --><Body><script>if (a<b) document.write("
	    "'<meta x>');</script><p>hi</p></body></html>\n";
	assert_true(run("html_test('html')", html));
	assert_false(run("html_test('html')", "Subject: x\n\n<html>\n"));
	/* an empty text/html part is not rendered as HTML (Node.pm) */
	static const char empty[] =
	    "Content-Type: multipart/mixed; boundary=B\n\n--B\n"
	    "Content-Type: text/html\n\n\n--B\n"
	    "Content-Type: text/plain\n\nhi\n--B--\n";
	assert_false(run("html_test('html')", empty));
	assert_false(run("html_eval('length', '< 384')", empty));
	assert_true(run("html_tag_exists('html')", html));
	assert_true(run("html_tag_exists('body')", html));
	assert_true(run("html_tag_exists('script')", html));
	assert_false(run("html_tag_exists('center')", html));  /* comment */
	assert_false(run("html_tag_exists('meta')", html));    /* script */
	assert_false(run("html_tag_exists('b')", html));       /* title */
	assert_false(run("html_tag_exists('h')", html));
	/* a part named *.html (or *.shtm) is text/html whatever its
	 * declared type (Node.pm's effective_type), *.txt is not */
	static const char named[] =
	    "Content-Type: multipart/mixed; boundary=B\n\n--B\n"
	    "Content-Type: application/octet-stream; name=\"w.SHTM\"\n\n"
	    "<html><body>hi</body></html>\n--B--\n";
	assert_true(run("html_tag_exists('html')", named));
	assert_true(run("html_test('html')", named));
	static const char txt[] =
	    "Content-Type: multipart/mixed; boundary=B\n\n--B\n"
	    "Content-Type: application/octet-stream\n"
	    "Content-Disposition: attachment; filename=\"w.txt\"\n\n"
	    "<html><body>hi</body></html>\n--B--\n";
	assert_false(run("html_tag_exists('html')", txt));
	struct saeval_call *c = NULL;
	assert_int_equal(saeval_compile("html_test('no_such_fact')", &c), 1);
}

/* check_header_count_range, check_blank_line_ratio and
 * check_ma_non_text, checked against SpamAssassin 4.0.1 on the same
 * messages. */
static void test_counts_and_ratios(void **state)
{
	(void)state;
	const char *r = "check_header_count_range('Subject', '2', '999')";
	assert_true(run(r, "Subject: one\nSubject: two\n\nx\n"));
	assert_false(run(r, "Subject: same\nSubject: same\n\nx\n"));
	assert_false(run(r, "Subject: one\n\nx\n"));
	assert_true(run("check_header_count_range('X-None', '0', '0')",
	                "Subject: one\n\nx\n"));
	/* 9 of 11 lines blank: 81.8 % */
	const char *b = "check_blank_line_ratio('80', '90', '4')";
	assert_true(run(b, "Subject: b\n\na\n\n\n\n\n\n\n\n\nb\n\n\n"));
	assert_false(run(b, "Subject: b\n\na\n \n\t\n\nb\n"));   /* 60 % */
	/* under minlines: -1, which only min 0 takes */
	assert_false(run(b, "Subject: b\n\n\n\n"));
	assert_true(run("check_blank_line_ratio('0', '50')",
	                "Subject: b\n\nhello\n"));
	const char *ma = "check_ma_non_text()";
	static const char alt[] =
	    "Content-Type: multipart/alternative; boundary=B\n\n"
	    "--B\nContent-Type: text/plain\n\nhi\n--B\n"
	    "Content-Type: %s\n\nxx\n--B--\n";
	char msg[512];
	snprintf(msg, sizeof msg, alt, "application/octet-stream");
	assert_true(run(ma, msg));
	snprintf(msg, sizeof msg, alt, "Application/RTF");
	assert_false(run(ma, msg));
	snprintf(msg, sizeof msg, alt, "TEXT/HTML");
	assert_false(run(ma, msg));
	/* a nested multipart is not looked into */
	assert_false(run(ma,
	    "Content-Type: multipart/alternative; boundary=B\n\n"
	    "--B\nContent-Type: multipart/related; boundary=C\n\n"
	    "--C\nContent-Type: image/gif\n\nGIF89a\n--C--\n--B--\n"));
}

static bool low_contrast(const char *html)
{
	char raw[1024];
	snprintf(raw, sizeof raw, "Content-Type: text/html\n\n%s\n", html);
	return run("html_test('font_low_contrast')", raw);
}

static void test_html_low_contrast(void **state)
{
	(void)state;
	assert_true(low_contrast("<p>x<font color=white>hidden</font>"));
	assert_true(low_contrast("<font color=\"#fefefe\">near white</font>"));
	assert_true(low_contrast("<div style=\"color: #FFF\">x</div>"));
	assert_true(low_contrast("<span style='background-color: red; "
	                         "color: rgb(250, 0, 0)'>x</span>"));
	assert_true(low_contrast("<table style=\"background: url(x) #000\">"
	                         "<tr><td>dark on dark</td></tr></table>"));
	/* readable: grey on white, a colour without text, text after the
	 * font closed, whitespace only, bgcolor= (HTML.pm ignores it) */
	assert_false(low_contrast("<font color=gray>x</font>"));
	assert_false(low_contrast("<font color=white> &nbsp; </font>y"));
	assert_false(low_contrast("<font color=white><b></b></font>y"));
	assert_false(low_contrast("<body bgcolor=black><font color=black>x"));
	assert_false(low_contrast("<script>x</script><style>p{color:#fff}"
	                          "</style><p>x"));
	/* the literal elements' markup is text (audit19 M2) */
	static const char *const lit[] = { "textarea", "xmp", "title",
	                                   "iframe" };
	for (size_t i = 0; i < 4; i++) {
		char h[160];
		snprintf(h, sizeof h, "<p>a</p><%s><font color=white>x</font>"
		         "</%s><p>b</p>", lit[i], lit[i]);
		assert_false(low_contrast(h));
	}
	assert_false(low_contrast("<plaintext></plaintext><font color=white>"
	                          "x</font>"));
	/* ... shown in the font open around them */
	assert_true(low_contrast("<font color=white><title>x</title></font>"));
	/* a comment is no text */
	assert_false(low_contrast("<font color=white><!-- x --></font>"));
	/* a colour that is none: font_invalid_color */
	static const char bad[] = "Content-Type: text/html\n\n<font "
	    "color=\"nosuchcolour\">x</font>\n";
	assert_true(run("html_test('font_invalid_color')", bad));
	assert_false(run("html_test('font_low_contrast')", bad));
	assert_false(run("html_test('font_invalid_color')",
	                 "Content-Type: text/html\n\n<font color=red>x</font>\n"));
}

static void test_html_image_only(void **state)
{
	(void)state;
	/* 14 characters of HTML source (16 bytes: two 2-byte letters) */
	static const char img[] =
	    "Content-Type: text/html; charset=utf-8\n"
	    "Content-Transfer-Encoding: 8bit\n\n<IMG src=x>\xc3\xa9\xc3\xa9\n";
	assert_true(run("html_image_only('0000', '0400')", img));
	assert_true(run("html_image_only('13', '14')", img));
	assert_false(run("html_image_only('14', '16')", img));
	assert_false(run("html_image_only('0400', '0800')", img));
	/* no <img> tag (one in a comment does not count) */
	assert_false(run("html_image_only('0000', '0400')",
	                 "Content-Type: text/html\n\n<!-- <img> --><p>x\n"));
	/* not HTML */
	assert_false(run("html_image_only('0000', '0400')",
	                 "Subject: x\n\n<img src=x>\n"));
}

static void test_html_length_anchor(void **state)
{
	(void)state;
	/* 33 characters of HTML source */
	static const char a[] =
	    "Content-Type: text/html\n\n<A href=x><b><img src=y></b></a>\n";
	static const char b[] =
	    "Content-Type: text/html\n\n<a href=x>y</a><img src=y><a>\n";
	assert_true(run("html_range('length', '0', '1024')", a));
	assert_true(run("html_range('length', '32', '33')", a));
	assert_false(run("html_range('length', '33', '1024')", a));
	assert_true(run("html_range('length', '32', 'inf')", a));
	assert_true(run("html_eval('length', '< 384')", a));
	assert_true(run("html_eval('length', '== 33')", a));
	assert_false(run("html_eval('length', '> 33')", a));
	assert_false(run("html_range('length', '0', '1024')",
	                 "Subject: x\n\n<p>x\n"));
	assert_true(run("html_text_match('anchor', '<img>')", a));
	assert_false(run("html_text_match('anchor', '<img>')", b));
	struct saeval_call *c = NULL;
	assert_int_equal(saeval_compile("html_range('min_size', '0', '2')",
	                                &c), 1);
	assert_int_equal(saeval_compile("html_eval('length', 'x')", &c), 1);
	assert_int_equal(saeval_compile("html_text_match('script', '.{120}')",
	                                &c), 1);
}

static void test_tvd_vertical_words(void **state)
{
	(void)state;
	/* a paragraph ends in a space (as in SpamAssassin): 2 spaces, 26
	 * other bytes: 7 % */
	static const char dense[] =
	    "Subject: x\n\nabcdefghijklmnopqrstuvwxyz a\n";
	/* 5 spaces, 10 letters: 50 % */
	static const char spaced[] = "Subject: x\n\nab cd ef gh ij\n";
	assert_true(run("tvd_vertical_words('0', '10')", dense));
	assert_false(run("tvd_vertical_words('10', '100')", dense));
	assert_true(run("tvd_vertical_words('50', '51')", spaced));
	assert_false(run("tvd_vertical_words('0', '10')", spaced));
	/* more spaces than the rest: 100, inside max 100 (as 101) */
	assert_true(run("tvd_vertical_words('100', '100')",
	                "Subject: x\n\na  b  c  d\n"));
	/* nothing over 5 bytes: -1 */
	assert_false(run("tvd_vertical_words('0', '10')", "Subject: x\n\nab\n"));
}

/* A multipart/alternative message of a text/plain and a text/html part
 * (and a third part, when third is not NULL). */
static char *alt_message(const char *plain, const char *html,
                         const char *third)
{
	char *s = NULL;
	int n = asprintf(&s, "Content-Type: multipart/alternative; boundary=B\n\n"
	                 "--B\nContent-Type: text/plain\n\n%s\n"
	                 "--B\nContent-Type: text/html\n\n%s\n%s--B--\n",
	                 plain, html, third ? third : "");
	assert_true(n > 0);
	return s;
}

static void test_mpart_alt_diff(void **state)
{
	(void)state;
	static const char diff[] = "multipart_alternative_difference('99', '100')";
	static const char count[] =
	    "multipart_alternative_difference_count('3', '1')";
	/* the same words: no difference */
	char *same = alt_message("Hello dear friend, see you", "<p>Hello dear "
	                         "<b>friend</b>, see you</p>", NULL);
	assert_false(run(diff, same));
	assert_false(run(count, same));
	/* no HTML word in the text part: 100 % */
	char *other = alt_message("one two three four five six seven eight",
	                          "<p>cheap pills online</p>", NULL);
	assert_true(run(diff, other));
	/* text words / HTML words: 8 / 3 is not above 3, 11 / 2 is */
	assert_false(run(count, other));
	char *many = alt_message("a1 a2 a3 a4 a5 a6 a7 a8 a9 a10 pills",
	                         "<p>cheap pills</p>", NULL);
	assert_true(run(count, many));
	assert_false(run("multipart_alternative_difference('0', '49')", many));
	assert_true(run("multipart_alternative_difference('0', '50')", many));
	/* a word more often in the HTML than in the text is left */
	char *twice = alt_message("buy now", "<p>buy buy now</p>", NULL);
	assert_true(run("multipart_alternative_difference('49', '50')", twice));
	/* an HTML part of an image only stands for one word */
	char *img = alt_message("text only here", "<img src=x.gif>", NULL);
	assert_true(run(diff, img));
	/* no text part under the multipart/alternative: no word at all */
	assert_false(run(diff, "Content-Type: multipart/alternative; "
	                 "boundary=B\n\n--B\nContent-Type: image/gif\n\n"
	                 "GIF89a\n--B--\n"));
	/* Exchange's meeting requests are left alone */
	char *meet = NULL;
	assert_true(asprintf(&meet, "Content-Type: multipart/alternative; "
	                     "boundary=B\n\n--B\nContent-Type: text/html\n\n"
	                     "<p>meeting at noon</p>\n--B\nContent-Type: "
	                     "text/calendar\n\nBEGIN:VCALENDAR\n--B--\n") > 0);
	assert_false(run(diff, meet));
	/* no multipart/alternative: a difference of 0, which min 0 takes
	 * (as in BodyEval.pm) */
	static const char html[] = "Content-Type: text/html\n\n<p>x y</p>\n";
	assert_false(run(diff, html));
	assert_true(run("multipart_alternative_difference('0', '100')", html));
	free(same);
	free(other);
	free(many);
	free(twice);
	free(img);
	free(meet);
}

static void test_html_obfuscation(void **state)
{
	(void)state;
	/* V<b></b>iagra: one split word over 4 tags (p, b, /b, /p): 0.25;
	 * a split at a blank, at punctuation or at a curly quote is none
	 * (each checked with HTML.pm itself) */
	static const char split[] = "Content-Type: text/html\n\n<p>V<b></b>iagra "
	    "now</p>\n";
	assert_true(run("html_range('obfuscation_ratio', '.2', '.3')", split));
	assert_false(run("html_range('obfuscation_ratio', '.3', '1')", split));
	assert_false(run("html_range('obfuscation_ratio', '0', '1')",
	                 "Content-Type: text/html\n\n<p>Hi <b>there</b>, "
	                 "(<i>x</i>) \xe2\x80\x9c<b>y</b></p>\n"));
	/* a '<' that starts no tag continues the same text node */
	assert_false(run("html_range('obfuscation_ratio', '0', '1')",
	                 "Content-Type: text/html\n\n<p>a<3 b</p>\n"));
	/* an entity is the character it stands for */
	assert_true(run("html_range('obfuscation_ratio', '0', '1')",
	                "Content-Type: text/html\n\n<p>caf<i></i>&eacute;</p>\n"));
}

/* An HTML body as a message. */
static char *html_msg(const char *body)
{
	static const char head[] = "Subject: x\nContent-Type: text/html\n\n";
	char *m = malloc(sizeof head + strlen(body) + 1);
	assert_non_null(m);
	strcpy(m, head);
	strcat(m, body);
	strcat(m, "\n");
	return m;
}

static bool run_html(const char *eval, const char *body)
{
	char *m = html_msg(body);
	bool hit = run(eval, m);
	free(m);
	return hit;
}

/* HTML.pm's other facts: font faces and sizes, image area, tag counts,
 * embeds, forms, iframes, titles (every case also checked against
 * SpamAssassin 4.0.1, bench/sa_compare.py: same hits). */
static void test_html_facts(void **state)
{
	(void)state;
	const char *bad = "html_test('font_face_bad')";
	assert_true(run_html(bad, "<font face=\"Arial$$\">hi</font>"));
	assert_false(run_html(bad, "<font face=\"'Montserrat', sans-serif\">"
	                           "hi</font><font face=Tahoma>x</font>"));
	/* the value as HTML::Parser hands it over: references decoded */
	assert_false(run_html(bad, "<font face=\"Verdana, &#13;&#10;sans-serif\">"
	                           "hi</font><font face=\"Arial&#44; Tahoma\">x</font>"));
	assert_true(run_html(bad, "<font face=\"Arial&#36;\">hi</font>"));
	/* sizes: relative to the base font, an inherited one counted when
	 * the tag has an attribute the style reads */
	const char *large = "html_range('max_size', '5', '6')";
	const char *huge = "html_range('max_size', '6', 'inf')";
	assert_true(run_html(large, "<font size=+3>big</font>"));
	assert_false(run_html(huge, "<font size=+3>big</font>"));
	assert_true(run_html(huge, "<font size=\"7\">huge</font>"));
	assert_true(run_html(huge, "<big><big><big><big><table bgcolor=red>"
	                           "<tr><td>x</td></tr></table>"));
	assert_false(run_html(huge, "<big><big><big><big>x"));
	assert_false(run_html(large, "<big><big><big><big>x"));
	assert_true(run_html(huge, "<basefont size=5><font size=+2 color=red>"
	                           "x</font>"));
	/* image area: pixels, a percentage of 800x600, else 200 */
	const char *r02 = "html_image_ratio('0.000', '0.002')";
	char words[512] = "<img src=\"http://example.com/a.png\" width=400 "
	                  "height=300>";
	for (int i = 0; i < 40; i++)
		strcat(words, "word ");
	assert_true(run_html(r02, words));   /* 160 / 120000 */
	assert_false(run_html("html_image_ratio('0.002', '0.004')", words));
	assert_true(run_html(r02, "<img src=x width=\"50%\" height=100px>"
	                          "abcd abcd"));   /* 8 / (400 x 200) */
	assert_false(run_html(r02, "<img src=x>abcd"));   /* no size: no area */
	/* tag counts: end tags with none open; tags that are no element */
	assert_true(run_html("html_range('closed_extra_ratio', '0.09', 'inf')",
	                     "</p></p></div>text"));
	assert_false(run_html("html_range('closed_extra_ratio', '0.09', 'inf')",
	                      "<p>text</p>"));
	/* foo bar p /p: 2 of 4 tags no element; 2 of 3 names */
	assert_true(run_html("html_range('bad_tag_ratio', '0.40', '0.50')",
	                     "<foo><bar><p>x</p>"));
	assert_true(run_html("html_range('non_element_ratio', '0.60', '0.70')",
	                     "<foo><bar><p>x</p>"));
	/* Office's namespaced tags count as elements */
	assert_false(run_html("html_range('bad_tag_ratio', '0', 'inf')",
	                      "<o:p></o:p><st1:place>x</st1:place>"));
	assert_false(run_html("html_range('bad_tag_ratio', '0', 'inf')",
	                      "<foo>x"));   /* no element: undefined */
	assert_true(run_html("html_test('embeds')", "<embed src=x.swf>x"));
	assert_true(run_html("html_test('embeds')", "<object data=x>x</object>"));
	assert_false(run_html("html_test('embeds')", "<p>x</p>"));
	assert_true(run_html("html_test('form_action_mailto')",
	                     "<form action=\"MAILTO:a@example.com\"></form>"));
	assert_false(run_html("html_test('form_action_mailto')",
	                      "<form action=\"http://x/\"></form>"));
	assert_true(run_html("html_test('form_action_mailto')",
	                     "<form action=\"&#109;ailto:a@example.com\"></form>"));
	assert_true(run_html("check_iframe_src()",
	                     "<iframe src=\" http://example.com/f \"></iframe>"));
	assert_false(run_html("check_iframe_src()", "<iframe src=\"  \">"
	                      "</iframe>"));
	/* a title's text, its references decoded: 100 "&amp;" are 100 */
	char title[1024] = "<title>";
	for (int i = 0; i < 100; i++)
		strcat(title, "&amp;");
	strcat(title, "</title>x");
	assert_false(run_html("html_text_match('title', '.{120}')", title));
	assert_true(run_html("html_text_match('title', '^&{100}$')", title));
	assert_true(run_html("html_text_match('title', '.{120}')",
	                     "<title>xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	                     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	                     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx</title>"));
}

/* check_for_to_in_subject: To's local part alone in the Subject (each
 * case checked against SpamAssassin 4.0.1 with bench/sa_compare.py). */
static bool to_subj(const char *to, const char *subject)
{
	char m[512];
	snprintf(m, sizeof m, "To: %s\nSubject: %s\n\nhello\n", to, subject);
	return run("check_for_to_in_subject('user')", m);
}

static void test_to_in_subject(void **state)
{
	(void)state;
	const char *j = "john@example.com";
	assert_true(to_subj(j, "john: your password"));
	assert_false(to_subj(j, "John: your password"));  /* case kept there */
	assert_true(to_subj(j, "Re: john"));
	assert_true(to_subj(j, "Fw: hello john"));
	assert_true(to_subj(j, "FW:hello   john"));
	assert_false(to_subj(j, "Re: Re: john"));
	assert_true(to_subj(j, "JOHN"));
	assert_true(to_subj(j, ", john!"));
	assert_true(to_subj(j, "john,"));
	assert_true(to_subj(j, "john:"));
	assert_false(to_subj(j, "john-smith"));
	assert_false(to_subj(j, "hello john"));
	assert_false(to_subj(j, "john ;x"));
	assert_true(to_subj(j, "john ; x"));
	assert_false(to_subj(j, "Re: john?"));
	assert_true(to_subj("\"John Doe\" <john.doe@example.com>",
	                    "john.doe: invoice"));
	/* the first To address only */
	assert_false(to_subj("john.doe@example.com, mary@example.com",
	                     "mary: hi"));
	assert_true(to_subj("j+x@example.com", "j+x: hi"));
	assert_true(to_subj(j, "=?UTF-8?B?am9objogeW91ciBwYXNzd29yZA==?="));
	assert_false(to_subj("undisclosed-recipients:;", "x: y"));
	assert_true(run("check_for_to_in_subject('address')",
	                "To: john@example.com\nSubject: for john@example.com."
	                "\n\nx\n"));
	assert_false(run("check_for_to_in_subject('address')",
	                 "To: john@example.com\nSubject: xjohn@example.com"
	                 "\n\nx\n"));
	struct saeval_call *c = NULL;
	assert_int_equal(saeval_compile("check_for_to_in_subject('name')", &c),
	                 1);
}

/* check_msg_parse_flags and check_mime_multipart_ratio (MIMEEval),
 * checked against SpamAssassin 4.0.1 on the same shapes. */
static void test_mime_parse_flags(void **state)
{
	(void)state;
	static const char epi[] = "Content-Type: multipart/mixed; boundary=B\n"
	    "\n--B\nContent-Type: text/plain\n\nx\n--B--\nan epilogue\n";
	static const char dots[] = "Content-Type: multipart/mixed; boundary=B\n"
	    "\n--B\nContent-Type: text/plain\n\nx\n--B--\n.\n \n";
	const char *e = "check_msg_parse_flags('mime_epilogue_exists')";
	assert_true(run(e, epi));
	assert_false(run(e, dots));   /* blanks and dots are none */
	const char *h = "check_msg_parse_flags('missing_mime_headers')";
	assert_false(run(h, epi));
	/* a part without headers, and an empty one (the delimiter line is
	 * followed by another) */
	assert_true(run(h, "Content-Type: multipart/mixed; boundary=B\n\n--B\n"
	                   "\nx\n--B--\n"));
	assert_true(run(h, "Content-Type: multipart/mixed; boundary=B\n\n--B\n"
	                   "Content-Type: text/plain\n\nx\n--B\n--B\n"
	                   "Content-Type: text/plain\n\ny\n--B--\n"));
	const char *sep = "check_msg_parse_flags('missing_mime_head_body_separator')";
	assert_true(run(sep, "Content-Type: multipart/mixed; boundary=B\n\n--B\n"
	                     "Content-Type: text/plain\nbody at once\n--B--\n"));
	assert_false(run(sep, epi));
	/* text/plain over text/html bytes, after a multipart/alternative */
	const char *mostly = "check_mime_multipart_ratio('0.00', '0.01')";
	char alt[1024];
	snprintf(alt, sizeof alt, "Content-Type: multipart/alternative; "
	         "boundary=B\n\n--B\nContent-Type: text/plain\n\n\n--B\n"
	         "Content-Type: text/html\n\n<p>%0200d</p>\n--B--\n", 0);
	assert_true(run(mostly, alt));
	assert_false(run(mostly, epi));   /* no alternative: ratio 1 */
	struct saeval_call *c = NULL;
	assert_int_equal(saeval_compile("check_msg_parse_flags('nothing')", &c),
	                 1);
}

/* ImageInfo's sizes: a message of three base64 images (a GIF of
 * 600x400, a PNG of 500x500, a JPEG of 400x200 whose size comes after
 * an APP1 segment) and a short text; checked against SpamAssassin. */
static char *image_msg(const char *text)
{
	static const char *const img[][3] = {
		{ "image/gif", "a.gif", "R0lGODlhWAKQAYAAAAAAAAAAACwAAAAAWAKQAQACAkQBADs=" },
		{ "image/png", "b.png", "iVBORw0KGgoAAAANSUhEUgAAAfQAAAH0CAIAAABEtEjdAAAAA"
		                        "ElFTkSuQmCC" },
		{ "image/jpeg", "c.jpg", "/9j/4QAIRXhpZgAA/8AACwgAyAGQAQERAP/Z" },
	};
	char *m = malloc(2048);
	assert_non_null(m);
	int n = snprintf(m, 2048, "Subject: img\nContent-Type: multipart/mixed; "
	                 "boundary=B\n\n--B\nContent-Type: text/plain\n\n%s\n",
	                 text);
	for (int i = 0; i < 3; i++)
		n += snprintf(m + n, 2048 - (size_t)n, "--B\nContent-Type: %s; "
		              "name=%s\nContent-Transfer-Encoding: base64\n\n%s\n",
		              img[i][0], img[i][1], img[i][2]);
	snprintf(m + n, 2048 - (size_t)n, "--B--\n");
	return m;
}

static bool run_raw(const char *eval, const char *raw, bool rawbody)
{
	struct saeval_call *c = NULL;
	assert_int_equal(saeval_compile(eval, &c), 0);
	saeval_set_rawbody(c, rawbody);
	struct msg *m = msg_parse(raw, strlen(raw), NULL);
	assert_non_null(m);
	struct saeval_ctx ctx = { .m = m };
	bool hit = saeval_run(c, &ctx);
	msg_free(m);
	saeval_free(c);
	return hit;
}

static void test_image_sizes(void **state)
{
	(void)state;
	char *m = image_msg("hi");
	assert_true(run("pixel_coverage('gif', '180000', '475000')", m));
	assert_true(run("pixel_coverage('png', '250000', '250000')", m));
	assert_true(run("pixel_coverage('jpeg', '80000')", m));
	/* all: 240000 + 250000 + 80000 */
	assert_true(run("pixel_coverage('all', '570000', '570000')", m));
	assert_false(run("pixel_coverage('all', '62500', '300000')", m));
	assert_true(run("image_size_exact('gif', '400', '600')", m));
	assert_false(run("image_size_exact('gif', '600', '400')", m));
	assert_true(run("image_size_range('jpeg', '200', '400', '200', '400')",
	                m));
	assert_true(run("image_size_range('all', '450', '450')", m));
	assert_false(run("image_size_range('gif', '450', '450')", m));
	/* the body text ("img" and "hi" with their line ends) per pixel,
	 * under 0.008 and 0.015 */
	assert_true(run("image_to_text_ratio('all', '0.000', '0.008')", m));
	assert_true(run_raw("image_to_text_ratio('all', '0.000', '0.015')", m,
	                    true));
	assert_false(run("image_to_text_ratio('all', '0.001', '0.008')", m));
	free(m);
	/* a truncated PNG has no size */
	assert_false(run("pixel_coverage('png', '1')",
	                 "Content-Type: image/png\nContent-Transfer-Encoding: "
	                 "base64\n\niVBORw0KGgoAAA==\n"));
	struct saeval_call *c = NULL;
	assert_int_equal(saeval_compile("pixel_coverage('bmp', '1')", &c), 1);
	assert_int_equal(saeval_compile("image_size_exact('gif', '1')", &c), 1);
}

static void test_html_title_subject(void **state)
{
	(void)state;
	const char *e = "html_title_subject_ratio('3.5')";
	/* 19 title characters ("&amp;" one) over "Hi\n" (3): 6.3 */
	assert_true(run(e, "Subject: Hi\nContent-Type: text/html\n\n<html><head>"
	                   "<title>Weekly news &amp; deals</title></head>x\n"));
	/* over "Hello there\n" (12): 1.6 */
	assert_false(run(e, "Subject: Hello there\nContent-Type: text/html\n\n"
	                    "<title>Weekly news &amp; deals</title>x\n"));
	/* no Subject: no; an empty one is "\n" */
	assert_false(run(e, "Content-Type: text/html\n\n<title>Weekly news"
	                    "</title>x\n"));
	assert_true(run(e, "Subject:\nContent-Type: text/html\n\n<title>Weekly"
	                   " news</title>x\n"));
	/* lengths in bytes, as SpamAssassin 4.0.1 (checked with
	 * spamassassin -t): a 5-character Chinese Subject is 16, so a
	 * 27-byte title is 1.7 times it (characters would give 4.5) */
	static const char cjk[] = "Subject: =?utf-8?B?5L2g5aW977yM5pyL5Y+L?=\n"
	    "Content-Type: text/html; charset=utf-8\n\n<title>Password "
	    "investment thanks.</title>x\n";
	assert_false(run(e, cjk));
	assert_true(run("html_title_subject_ratio('1.5')", cjk));
	/* the title in characters (HTML.pm reads decoded text): 15 CJK
	 * characters (45 bytes) over "hi there\n" (9) is 1.7 */
	static const char cjk_title[] = "Subject: hi there\nContent-Type: "
	    "text/html; charset=utf-8\n\n<title>"
	    "\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xbd\xa0"
	    "\xe5\xa5\xbd\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xbd\xa0\xe5\xa5\xbd"
	    "\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xbd\xa0"
	    "</title>x\n";
	assert_false(run(e, cjk_title));
	assert_true(run("html_title_subject_ratio('1.5')", cjk_title));
}

static void test_html_tag_balance(void **state)
{
	(void)state;
	static const char open[] = "Content-Type: text/html\n\n<html><head>"
	    "<title>x</title><body><center>hi</center></body></html>\n";
	assert_true(run("html_tag_balance('head', '!= 0')", open));
	assert_false(run("html_tag_balance('body', '!= 0')", open));
	assert_false(run("html_tag_balance('center', '!= 0')", open));
	assert_true(run("html_tag_balance('center', '== 0')", open));
	/* an end tag too many counts 0, not -1; a tag not met is no hit */
	static const char extra[] = "Content-Type: text/html\n\n<p>x</center>"
	    "</center><!-- <head> --><script>'<head>'</script>\n";
	assert_true(run("html_tag_balance('center', '== 0')", extra));
	assert_false(run("html_tag_balance('head', '== 0')", extra));
	assert_false(run("html_tag_balance('head', '!= 0')", extra));
	struct saeval_call *c = NULL;
	assert_int_equal(saeval_compile("html_tag_balance('he-ad', '!= 0')",
	                                &c), 1);
	/* comments: <!-- --> and bogus ones (<!1234>), not in a script */
	static const char cm[] = "Content-Type: text/html\n\n<!-- saved from "
	    "url=(0022)http://x/ --><script><!-- hidden --></script><!5122ab>"
	    "<!DOCTYPE html>\n";
	assert_true(run("html_text_match('comment', '<!-- saved from "
	                "url=\\(\\d{4}\\)')", cm));
	assert_true(run("html_text_match('comment', '<!(?!-).{0,6}>')", cm));
	assert_false(run("html_text_match('comment', 'hidden')", cm));
	assert_false(run("html_text_match('comment', 'DOCTYPE')", cm));
	assert_false(run("html_text_match('comment', '<!.*?>')",
	                 "Content-Type: text/html\n\n<p>none</p>\n"));
	/* Outlook's <![if !mso]> and <![endif]> are bogus comments for
	 * HTML::Parser (not marked sections: no '[' after the names);
	 * <![CDATA[...]]> is a marked section, not a comment */
	static const char mso[] = "Content-Type: text/html\n\n"
	    "<![if !mso]><p>x</p><![endif]>\n";
	assert_true(run("html_text_match('comment', '^<!\\[if !mso\\]>$')",
	                mso));
	assert_true(run("html_text_match('comment', '^<!\\[endif\\]>$')",
	                mso));
	assert_false(run("html_text_match('comment', '<!.*?>')",
	                 "Content-Type: text/html\n\n<![CDATA[<!x>]]>\n"));
	/* the content of a CDATA or IGNORE section holds no tags and no
	 * comments for HTML::Parser (spamassassin -t), an INCLUDE
	 * section's does; an unclosed one takes the rest */
	static const char *const ms[] = {
		"<![CDATA[ <iframe src=x></iframe> <!-- c --> ]]><p>after</p>",
		"<![ IGNORE [ <iframe src=x></iframe> <!-- c --> ]]><p>after</p>",
		"<![INCLUDE[ <iframe src=x></iframe> <!-- c --> ]]><p>after</p>",
		"<p>before</p><![CDATA[ <iframe src=x></iframe> <!-- c --> <p>",
	};
	char doc[160];
	for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
		snprintf(doc, sizeof doc, "Content-Type: text/html\n\n%s\n",
		         ms[i]);
		bool include = i == 2;
		assert_true(run("html_tag_exists('iframe')", doc) == include);
		assert_true(run("html_text_match('comment', 'c')", doc) ==
		            include);
		assert_true(run("html_tag_exists('p')", doc));
	}
	assert_int_equal(saeval_compile("html_text_match('comment', '(')",
	                                &c), 1);
	assert_int_equal(saeval_compile("html_tag_balance('head', 'x')", &c), 1);
}

/* check_stock_info(MIN): distinct stock labels of the first text/plain
 * part, as spamassassin 4.0.1 counts them (TVD_STOCK1 scored 1) */
static void test_stock_info(void **state)
{
	(void)state;
	const char *two = "check_stock_info('2')";
	assert_true(run(two, "Subject: s\n\nCompany: ACME\nSymbol: AX\n"));
	assert_false(run(two, "Subject: s\n\nCompany: ACME\nHello there\n"));
	/* the same label twice counts once; letters only, any case */
	assert_false(run(two, "Subject: s\n\nCompany: A\nCOMPANY: B\n"));
	assert_true(run(two, "Subject: s\n\nS.y.m.b.o.l: X\n52 Week High: 1\n"));
	/* ^ binds the first word only: "xxcompany" counts, not "xxtradedate" */
	assert_true(run(two, "Subject: s\n\nxxCompany: A\nMy Position: B\n"));
	assert_false(run(two, "Subject: s\n\nxxTrade Date: A\nMy Position: B\n"));
	/* a label over 30 bytes, an empty value that takes the next line */
	assert_false(run(two, "Subject: s\n\nThe company we like very much "
	                 "today: X\nSymbol: Y\n"));
	assert_false(run(two, "Subject: s\n\nCompany: \nSymbol: B\n"));
	/* the first text/plain part only; HTML is not read */
	const char *mixed = "Subject: s\nContent-Type: multipart/mixed; "
	                    "boundary=b\n\n--b\nContent-Type: text/plain\n\n"
	                    "hello\n--b\nContent-Type: text/plain\n\n"
	                    "Company: A\nSymbol: B\n--b--\n";
	assert_false(run(two, mixed));
	assert_false(run(two, "Subject: s\nContent-Type: text/html\n\n"
	                 "Company: A<br>\nSymbol: B\n"));
	assert_true(run("check_stock_info('0')", "Subject: s\n\nnothing\n"));
	/* MIN missing or "" reads 0 (audit24 L5) */
	assert_true(run("check_stock_info()", "Subject: s\n\nnothing\n"));
	assert_true(run("check_stock_info('')", "Subject: s\n\nnothing\n"));
}

static void test_body_length(void **state)
{
	(void)state;
	assert_true(run("check_body_length('10')", "Subject: x\n\n12345\n"));
	assert_true(run("check_body_length('6')", "Subject: x\r\n\r\n"
	                "12345\r\n"));
	assert_false(run("check_body_length('5')", "Subject: x\n\n12345\n"));
	/* as SpamAssassin: an extra argument is ignored, and "10 24" and
	 * "1024' '5" (a lazy quote match) read as numbers (audit22 L6) */
	assert_true(run("check_body_length('10','2')", "Subject: x\n\n12345\n"));
	assert_true(run("check_body_length('10 24')", "Subject: x\n\n12345\n"));
	assert_false(run("check_body_length('5 24')", "Subject: x\n\n12345\n"));
	assert_true(run("check_body_length('10' '5')", "Subject: x\n\n12345\n"));
	/* Perl reads "0x10" as 0, not as C's hex 16 (audit24 L4) */
	assert_false(run("check_body_length('0x10')", "Subject: x\n\n12345\n"));
	assert_true(run("check_ma_non_text('x')", "Subject: x\nContent-Type: "
	                "multipart/alternative; boundary=b\n\n--b\n"
	                "Content-Type: image/gif\n\nx\n--b--\n"));
}

static void test_more_headers(void **state)
{
	(void)state;
	const char *ill = "check_illegal_chars('Subject','0.00','2')";
	assert_true(run(ill, "Subject: caf\xe9 cr\xe8me\n\nb\n"));
	assert_false(run(ill, "Subject: caf\xc3\xa9 cr\xc3\xa8me\n\nb\n"));
	assert_false(run(ill, "Subject: price \xa3 5\xe9\n\nb\n")); /* one
	                                                             exempt */
	assert_false(run(ill, "Subject: plain\n\nb\n"));
	assert_true(run("check_for_missing_to_header()", "From: a@b.c\n\nb\n"));
	assert_false(run("check_for_missing_to_header()", "To:\n\nb\n"));
	assert_false(run("check_for_missing_to_header()",
	                 "Apparently-To: x@y.z\n\nb\n"));
	const char *hm = "check_for_no_hotmail_received_headers()";
	assert_true(run(hm, "Received: from x.example by y.example\n"
	                    "From: a@hotmail.com\n\nb\n"));
	assert_false(run(hm, "Received: from x.example by y.example\n"
	                     "From: a@example.com\n\nb\n"));
	assert_true(run("check_for_forged_hotmail_received_headers()",
	                "Received: from hotmail.com (unknown [192.0.2.9]) by "
	                "mx.example\nFrom: a@example.com\n\nb\n"));
	const char *gm = "check_for_forged_gmail_received_headers()";
	assert_true(run(gm, "Received: from x by y\nFrom: a@gmail.com\n\nb\n"));
	assert_false(run(gm, "X-Received: by 10.1.2.3 with SMTP id abc\n"
	                     "From: a@gmail.com\n\nb\n"));
	assert_true(run("check_for_forged_juno_received_headers()",
	                "Received: from x by y\nFrom: a@juno.com\n\nb\n"));
	assert_true(run("check_for_forged_eudoramail_received_headers()",
	                "Received: from x by y\nFrom: a@eudoramail.com\n\nb\n"));
}

static void test_mime_lines(void **state)
{
	(void)state;
	const char *a = "check_for_ascii_text_illegal()";
	assert_true(run(a, "Content-Type: text/plain\n\ncaf\xe9\n"));
	assert_true(run(a, "Content-Type: text/plain; charset=us-ascii\n\n"
	                   "a\rb\n"));
	assert_false(run(a, "Content-Type: text/plain; charset=us-ascii\r\n"
	                    "\r\nplain\r\n"));
	assert_false(run(a, "Content-Type: text/plain; charset=iso-8859-1\n\n"
	                    "caf\xe9\n"));
	/* the charset as Util.pm reads it: "" is declared (not checked),
	 * charset*= (RFC 2231) is none, "us-ascii (x)" is not us-ascii */
	assert_false(run(a, "Content-Type: text/plain; charset=\"\"\n\n"
	                    "caf\xe9\n"));
	assert_true(run(a, "Content-Type: text/plain; charset*=utf-8''\n\n"
	                   "caf\xe9\n"));
	assert_false(run(a, "Content-Type: text/plain; charset=us-ascii (x)"
	                    "\n\ncaf\xe9\n"));
	char msg[512] = "Content-Transfer-Encoding: base64\n\n";
	for (int i = 0; i < 80; i++)
		strcat(msg, "QUFB");
	strcat(msg, "\n");
	assert_true(run("check_base64_length('79')", msg));
	assert_false(run("check_base64_length('78','79')", msg));
	assert_false(run("check_base64_length('79')",
	                 "Content-Transfer-Encoding: base64\n\nQUFB\n"));
	/* two CTE fields: the last one, as get_header() gives it (the one
	 * the part is decoded with too), not the first (audit18 L3) */
	char body[400] = "", two[600];
	for (int i = 0; i < 80; i++)
		strcat(body, "QUFB");
	snprintf(two, sizeof two, "Content-Transfer-Encoding: quoted-printable"
	         "\nContent-Transfer-Encoding: base64\n\n%s\n", body);
	assert_true(run("check_base64_length('79')", two));
	snprintf(two, sizeof two, "Content-Transfer-Encoding: base64\n"
	         "Content-Transfer-Encoding: quoted-printable\n\n%s\n", body);
	assert_false(run("check_base64_length('79')", two));
}

/* The MIME lines are read from where the parser started the body, not
 * after the first blank line of the raw text: a header section ended by
 * SpamAssassin's fourth line that is no field, a MIME part's by its
 * first (both without a blank line), as SpamAssassin 4.0.1 reads them
 * (PP_MIME_FAKE_ASCII_TEXT on the audit's j1.eml and partnosep.eml). */
static void test_mime_body_without_blank_line(void **state)
{
	(void)state;
	const char *a = "check_for_ascii_text_illegal()";
	assert_true(run(a, "junk one\njunk two\njunk three\nX-A: b\n"
	                   "body line\nsecond \xe9\xe8 line\n"));
	assert_true(run(a, "MIME-Version: 1.0\n"
	                   "Content-Type: multipart/mixed; boundary=\"b\"\n\n"
	                   "--b\nContent-Type: text/plain\n"
	                   "hello \xe9\xe8 world\nmore\n\nlast\n--b--\n"));
	assert_false(run(a, "junk one\njunk two\njunk three\nX-A: b\n"
	                    "body line\nsecond plain line\n"));
}

/* The hook: an implemented eval rule is active and scored; an unknown
 * function stays unsupported and false in metas. */
/* Run eval text, compiled with the rule set of rule-file text cf, on a
 * message (with an envelope sender). */
static bool run_cf(const char *cf, const char *eval, const char *raw,
                   const char *env_from)
{
	struct ruleset *rs = ruleset_load_buf("t.cf", cf, strlen(cf),
	                                      rules_ruleset_opts());
	assert_non_null(rs);
	assert_int_equal(ruleset_diag_count(rs), 0);
	struct saeval_call *c = NULL;
	assert_int_equal(saeval_compile_rs(eval, rs, &c), 0);
	struct msg *m = msg_parse(raw, strlen(raw), NULL);
	assert_non_null(m);
	struct saeval_ctx ctx = { .m = m, .env_from = env_from,
	                          .trust = ruleset_trustpath(rs) };
	bool hit = saeval_run(c, &ctx);
	msg_free(m);
	saeval_free(c);
	ruleset_free(rs);
	return hit;
}

/* The ok_locales evals, as spamassassin 4.0.1 answers them (with the
 * environment's locale set as here): a charset neither Latin nor of the
 * site's locales is far away; "all" (the default) accepts any. */
static void test_faraway_charsets(void **state)
{
	(void)state;
	unsetenv("LC_ALL");
	unsetenv("LANGUAGE");
	unsetenv("LC_MESSAGES");
	setenv("LANG", "C.UTF-8", 1);
	const char *en = "ok_locales en\n", *ru = "ok_locales en ru\n";
	const char *koi = "Subject: s\nContent-Type: text/plain; charset=koi8-r"
	                  "\n\n\xf0\xd2\xc9\xd7\xc5\xd4 \xcd\xc9\xd2\n";
	const char *far = "check_for_faraway_charset()";
	assert_true(run_cf(en, far, koi, NULL));
	assert_false(run_cf(ru, far, koi, NULL));
	assert_false(run_cf("", far, koi, NULL));           /* "all" */
	assert_false(run_cf("ok_locales en all\n", far, koi, NULL));
	/* more low bytes than high ones; a Latin charset; windows-* */
	assert_false(run_cf(en, far, "Subject: s\nContent-Type: text/plain; "
	                    "charset=koi8-r\n\nmostly ascii \xf0\xd2\n", NULL));
	assert_false(run_cf(en, far, "Subject: s\nContent-Type: text/plain; "
	                    "charset=\"windows-1251\"\n\n\xcf\xf0\xe8\xe2\n",
	                    NULL));
	/* charset="" is none of them */
	assert_true(run_cf(en, far, "Subject: s\nContent-Type: text/plain; "
	                   "charset=\"\"\n\n\xf0\xd2\xc9\xd7\xc5\n", NULL));
	/* the environment's locale counts too */
	setenv("LANG", "ru_RU.UTF-8", 1);
	assert_false(run_cf(en, far, koi, NULL));
	setenv("LANG", "C.UTF-8", 1);
	const char *mime = "check_for_mime('mime_faraway_charset')";
	const char *alt = "Subject: s\nContent-Type: multipart/alternative; "
	                  "boundary=b\n\n--b\nContent-Type: text/plain; "
	                  "charset=us-ascii\n\nhi\n--b\nContent-Type: text/plain;"
	                  " charset=shift_jis\n\nhi\n--b--\n";
	assert_true(run_cf(en, mime, alt, NULL));
	assert_false(run_cf("ok_locales ja\n", mime, alt, NULL));
	const char *hdr = "check_for_faraway_charset_in_headers()";
	assert_true(run_cf(en, hdr, "From: =?big5?B?p0Gmbg==?= <a@b.example>\n"
	                   "Subject: s\n\nx\n", NULL));
	assert_true(run_cf(en, hdr, "Subject: x\n =?gb2312?B?xOO6ww==?=\n\nx\n",
	                   NULL));
	assert_false(run_cf(en, hdr, "Subject: =?utf-8?B?w6k=?= "
	                    "=?iso-8859-1?Q?=E9?=\n\nx\n", NULL));
	/* SpamAssassin 4.0.1 never finds a <meta> charset here */
	assert_false(run_cf(en, "html_charset_faraway()", "Subject: s\n"
	                    "Content-Type: text/html\n\n<meta http-equiv="
	                    "Content-Type content=\"text/html; charset=gb2312\">"
	                    "\xc4\xe3\xba\xc3\xca\xc0\xbd\xe7\n", NULL));
}

/* Arguments beyond those a function reads are ignored, as SpamAssassin's
 * Perl functions ignore them; the blocklist and welcomelist forms of
 * check_uri_host_listed ignore theirs (audit23 L3). */
static void test_extra_args(void **state)
{
	(void)state;
	static const char *const calls[] = {
		"check_freemail_header('Reply-To', '\\d@', 'zz')",
		"check_freemail_replyto('replyto', 'zz')",
		"check_https_http_mismatch('1', '10', 'zz')",
		/* one string, split in parentheses (clang's
		 * -Wstring-concatenation takes a bare split for a missed comma) */
		("check_header_count_range('From','1','1','a','b','c','d','e','f',"
		 "'g','h','i','j','k')"),
	};
	const char *cf = "freemail_domains gmail.com\n";
	struct ruleset *rs = ruleset_load_buf("t.cf", cf, strlen(cf),
	                                      rules_ruleset_opts());
	assert_non_null(rs);
	for (size_t i = 0; i < sizeof calls / sizeof *calls; i++) {
		struct saeval_call *c = NULL;
		if (saeval_compile_rs(calls[i], rs, &c) != 0)
			fail_msg("%s refused", calls[i]);
		saeval_free(c);
	}
	ruleset_free(rs);
	const char *bl = "blocklist_uri_host bad.example.net\n";
	const char *m = "Subject: s\n\nsee http://www.bad.example.net/x\n";
	assert_true(run_cf(bl, "check_uri_host_in_blocklist('zz')", m, NULL));
	assert_false(run_cf(bl, "check_uri_host_listed()", m, NULL));
	assert_true(run_cf(bl, "check_uri_host_listed('BLOCK')", m, NULL));
}

/* FreeMail: domains from the rule set's freemail_domains lines. */
static const char fm_cf[] =
    "freemail_domains gmail.com mail.* *.free.example\n"
    "freemail_domains bad_domain.com\n"
    "freemail_welcomelist friend@gmail.com\n";

static bool run_fm(const char *eval, const char *raw, const char *env_from)
{
	return run_cf(fm_cf, eval, raw, env_from);
}

/* WLBLEval's URI host lists, from the rule set's lines in order. */
static bool run_uri(const char *eval, const char *raw)
{
	static const char cf[] =
	    "enlist_uri_host (NTLD) top xyz !ok.top 192.0.2.1\n"
	    "enlist_uri_host (OTHER) example.org\n"
	    "delist_uri_host (NTLD) XYZ\n"   /* any case, as Conf.pm lc()s */
	    "delist_uri_host example.org\n"
	    "blocklist_uri_host bad.example.com\n";
	return run_cf(cf, eval, raw, NULL);
}

static void test_uri_host_listed(void **state)
{
	(void)state;
	const char *e = "check_uri_host_listed('NTLD')";
	assert_true(run_uri(e, "Subject: x\n\nsee http://shop.cheap.top/x\n"));
	/* the most specific entry decides: !ok.top */
	assert_false(run_uri(e, "Subject: x\n\nsee http://www.ok.top/\n"));
	/* delisted; a mailto: is no host; an address as listed */
	assert_false(run_uri(e, "Subject: x\n\nsee http://a.xyz/ and "
	                        "mailto:u@b.top\n"));
	assert_true(run_uri(e, "Subject: x\n\nsee http://192.0.2.1/p\n"));
	assert_false(run_uri("check_uri_host_listed('OTHER')",
	                     "Subject: x\n\nhttp://example.org/\n"));
	assert_true(run_uri("check_uri_host_in_blocklist()",
	                    "Content-Type: text/html\n\n<a href=\"http://"
	                    "x.bad.example.com/\">y</a>\n"));
	assert_false(run_uri("check_uri_host_in_welcomelist()",
	                     "Subject: x\n\nhttp://x.bad.example.com/\n"));
	struct saeval_call *c = NULL;
	/* without a rule set the lists are unknown: unsupported */
	assert_int_equal(saeval_compile("check_uri_host_listed('NTLD')", &c), 1);
}

/* check_mailfrom_matches_rcvd with the rule set's 2tld/3tld lists. */
static bool run_rp(const char *cf, const char *rp, const char *rdns)
{
	char raw[512];
	snprintf(raw, sizeof raw, "Return-Path: <%s>\nReceived: from %s (%s "
	         "[192.0.2.1]) by mx.example.org (Postfix) with ESMTP id 1;\n"
	         " Mon, 1 Jan 2024 00:00:00 +0000\nFrom: x@y.example\n\nb\n",
	         rp, rdns, rdns);
	return run_cf(cf, "check_mailfrom_matches_rcvd()", raw, NULL);
}

static void test_mailfrom_matches_rcvd(void **state)
{
	(void)state;
	static const char cf[] = "util_rb_2tld co.uk\n"
	                         "util_rb_3tld demon.co.uk\n";
	assert_true(run_rp(cf, "a@Mail.Foo.co.uk", "smtp.foo.co.uk"));
	assert_false(run_rp(cf, "a@mail.foo.co.uk", "smtp.bar.co.uk"));
	assert_true(run_rp(cf, "a@x.shop.demon.co.uk", "mx.shop.demon.co.uk"));
	assert_false(run_rp(cf, "a@x.shop.demon.co.uk", "mx.home.demon.co.uk"));
	assert_true(run_rp(cf, "a@news.example.com", "out.example.com"));
	/* .us rules: under a city's domain (ci.la.ca.us) each name is a
	 * registrar domain of its own */
	assert_true(run_rp(cf, "a@x.dept.ci.la.ca.us", "mail.dept.ci.la.ca.us"));
	assert_false(run_rp(cf, "a@x.dept.ci.la.ca.us", "mail.fire.ci.la.ca.us"));
	assert_true(run_rp(cf, "a@x.school.la.ca.us", "y.school.la.ca.us"));
	/* without the 2tld list co.uk is a registrar domain of its own */
	assert_true(run_rp("util_rb_2tld co.uk\nclear_util_rb\n",
	                   "a@mail.foo.co.uk", "smtp.bar.co.uk"));
	/* no dot after the '@': no */
	assert_false(run_rp(cf, "a@localhost", "localhost"));
}

/* check_https_http_mismatch(MIN, MAX) on one text/html body, with the
 * rule set's 2tld list (co.uk). */
static bool run_mm(const char *args, const char *body)
{
	char eval[64], *m = html_msg(body);
	snprintf(eval, sizeof eval, "check_https_http_mismatch(%s)", args);
	bool hit = run_cf("util_rb_2tld co.uk\n", eval, m, NULL);
	free(m);
	return hit;
}

/* n anchors with distinct http hrefs, the first showing another domain's
 * https URL, the others plain (body built into buf). */
static const char *mm_anchors(char *buf, size_t cap, int n)
{
	int k = snprintf(buf, cap, "<a href=\"http://evil.de/\">"
	                 "https://bank.com/</a>");
	for (int i = 1; i < n && k > 0 && (size_t)k < cap; i++)
		k += snprintf(buf + k, cap - (size_t)k,
		              "<a href=\"http://site%d.com/\">link</a> ", i);
	return buf;
}

/* A text/html body and SpamAssassin's answer for it. */
struct html_case {
	const char *body;
	bool hit;
};

/* Each case's answer from eval (with the rule set cf). */
static void run_html_cases(const char *cf, const char *eval,
                           const struct html_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *m = html_msg(cases[i].body);
		bool hit = run_cf(cf, eval, m, NULL);
		free(m);
		if (hit != cases[i].hit)
			fail_msg("case %zu: %s", i, cases[i].body);
	}
}

/* Each case as spamassassin -L -t (4.0.1, HTTPSMismatch loaded) answers
 * it for HTTPS_HTTP_MISMATCH, check_https_http_mismatch('1','10'). */
static void test_https_mismatch(void **state)
{
	(void)state;
	static const struct html_case cases[] = {
		{ "<a href=\"http://evil.de/\">https://bankofamerica.com/</a>", 1 },
		/* the same registrar domain, host names aside */
		{ "<a href=\"http://www.bank.com/x\">https://login.bank.com/</a>", 0 },
		{ "<a href=\"http://Bank.COM/\">https://www.bank.com/</a>", 0 },
		{ "<a href=\"http://a.bank.co.uk/\">https://b.bank.co.uk/</a>", 0 },
		{ "<a href=\"http://bank.co.uk/\">https://other.co.uk/</a>", 1 },
		/* an https href counts too; schemes in any case */
		{ "<a href=\"https://evil.de/\">https://bank.com/</a>", 1 },
		{ "<a href=\"https://bank.com/a\">https://www.bank.com/</a>", 0 },
		{ "<a href=\"HTTP://EVIL.DE/\">HTTPS://BANK.COM/</a>", 1 },
		/* the text as HTML::Parser hands it over: markup, comments
		 * and references gone, blanks kept */
		{ "<a href=\"http://evil.de/\">https://<b>bank</b>.com/</a>", 1 },
		{ "<a href=\"http://evil.de/\">https://bank<!-- x -->.com/</a>", 1 },
		{ "<a href=\"http://evil.de/\">https&#58;//bank.com/</a>", 1 },
		{ "<a href=\"http://evil.de/\">https:// bank.com/</a>", 0 },
		{ "<a href=\"http://evil.de/\">Log in at https://bank.com now</a>",
		  1 },
		{ "<a href=\"http://evil.de/\">https:///x https://bank.com/</a>", 1 },
		{ "<a href=\"http://evil.de/\"><script>u=\"https://bank.com/\";"
		  "</script>x</a>", 0 },
		{ "<a href=\"http://evil.de/\"><img src=\"http://x.de/i.png\">"
		  "https://bank.com/</a>", 1 },
		{ "<a href=\"http://evil.de/\">click</a> https://bank.com/", 0 },
		/* text of an inner anchor is that anchor's */
		{ "<a href=\"http://evil.de/\"><a href=\"http://bank.com/\">x</a>"
		  "https://bank.com/</a>", 0 },
		/* only an https host in the text, only an http(s) href */
		{ "<a href=\"http://evil.de/\">http://bank.com/</a>", 0 },
		{ "<a href=\"http://evil.de/\">bank.com</a>", 0 },
		{ "<a href=\"evil.de/x\">https://bank.com/</a>", 0 },
		{ "<a href=\"  http://evil.de/ \">https://bank.com/</a>", 1 },
		/* addresses: an href's is skipped, a text's kept as written */
		{ "<a href=\"http://1.2.3.4/\">https://bank.com/</a>", 0 },
		{ "<a href=\"http://evil.de/\">https://1.2.3.4/</a>", 1 },
		/* valid domains only: known TLDs, the host up to : / ? # */
		{ "<a href=\"http://evil.de/\">https://bank.invalidtld/</a>", 0 },
		{ "<a href=\"http://evil.invalidtld/\">https://bank.com/</a>", 0 },
		{ "<a href=\"http://evil.de/\">https://bank.com:443/</a>", 1 },
		{ "<a href=\"http://evil.de/\">https://bank.com, now</a>", 0 },
		/* the host ends at any white space of Perl's \s, a no-break
		 * space (&nbsp;) too (audit16 L3) */
		{ "<a href=\"http://evil.de/\">https://bank.com&nbsp;login</a>",
		  1 },
		{ "<a href=\"http://evil.de/\">https://bank.com\xe3\x80\x80x</a>",
		  1 },
		/* the href's user@ stays in what is compared */
		{ "<a href=\"http://user@bank.com/\">https://bank.com/</a>", 1 },
		/* HTML.pm's fixes: an attribute "W/href" stands for href, a
		 * byte-order mark in an href is dropped */
		{ "<a x/href=\"http://evil.de/\">https://bank.com/</a>", 1 },
		{ "<a href=\"http://bank.com/\" data-x/href=\"http://evil.de/\">"
		  "https://bank.com/</a>", 1 },
		{ "<a href=\"&#xFEFF;http://evil.de/\">https://bank.com/</a>", 1 },
		/* declarations and processing instructions are no text, nor
		 * is a comment or declaration left open at the end */
		{ "<a href=\"http://evil.de/\"><!DOCTYPE html>https://bank.com/"
		  "</a>", 1 },
		{ "<a href=\"http://evil.de/\"><?php x ?>https://bank.com/</a>",
		  1 },
		{ "<a href=\"http://evil.de/\"><!DOCTYPE https://bank.com/>x</a>",
		  0 },
		{ "<a href=\"http://evil.de/\">x <!-- https://bank.com/ ", 0 },
		{ "<a href=\"http://evil.de/\">x <!DOCTYPE https://bank.com/ ", 0 },
	};
	run_html_cases("util_rb_2tld co.uk\n",
	               "check_https_http_mismatch('1','10')", cases,
	               sizeof cases / sizeof cases[0]);
	/* MIN <= distinct counted hrefs < MAX */
	char b[2048];
	assert_true(run_mm("'1','10'", mm_anchors(b, sizeof b, 1)));
	assert_true(run_mm("'1','10'", mm_anchors(b, sizeof b, 9)));
	assert_false(run_mm("'1','10'", mm_anchors(b, sizeof b, 10)));
	assert_false(run_mm("'1','10'", mm_anchors(b, sizeof b, 11)));
	assert_true(run_mm("'1','11'", mm_anchors(b, sizeof b, 10)));
	assert_false(run_mm("'2','10'", mm_anchors(b, sizeof b, 1)));
	assert_true(run_mm("'9','10'", mm_anchors(b, sizeof b, 9)));
	assert_false(run_mm("'10'", mm_anchors(b, sizeof b, 9)));
	/* no MAX; MIN 0 is 1 (Perl's ||=) */
	assert_true(run_mm("'1'", mm_anchors(b, sizeof b, 11)));
	assert_true(run_mm("'0'", mm_anchors(b, sizeof b, 1)));
	assert_true(run_mm("", mm_anchors(b, sizeof b, 1)));
	/* a repeated href is one anchor; an address or mailto: none */
	size_t n = strlen(mm_anchors(b, sizeof b, 9));
	snprintf(b + n, sizeof b - n, "<a href=\"http://site1.com/\">again</a>"
	         "<a href=\"http://1.2.3.4/\">ip</a>"
	         "<a href=\"mailto:x@y.com\">m</a>");
	assert_true(run_mm("'1','10'", b));
	/* hosts over 255 bytes: their registrar domains compared */
	char a[300];
	memset(a, 'a', sizeof a - 1);
	a[sizeof a - 1] = '\0';
	snprintf(b, sizeof b, "<a href=\"http://%s.evil.de/\">https://bank.com/"
	         "</a>", a);
	assert_true(run_mm("'1','10'", b));
	snprintf(b, sizeof b, "<a href=\"http://evil.de/\">https://%s.bank.com/"
	         "</a>", a);
	assert_true(run_mm("'1','10'", b));
	/* a byte-order mark (UTF-8) anywhere in the href */
	static const char bom[] = "Subject: x\nContent-Type: text/html; "
	    "charset=utf-8\n\n<a href=\"\xEF\xBB\xBFhttp://ev\xEF\xBB\xBFil.de/\">"
	    "https://bank.com/</a>\n";
	assert_true(run_cf("", "check_https_http_mismatch('1','10')", bom,
	                   NULL));
	/* without a rule set the 2tld lists are unknown: unsupported */
	struct saeval_call *c = NULL;
	assert_int_equal(saeval_compile("check_https_http_mismatch('1','10')",
	                                &c), 1);
}

/* check_https_ip_mismatch() on one text/html body: each case as
 * spamassassin -L -t (4.0.1, with HTTPS_IP_MISMATCH scored) answers it. */
static void test_https_ip_mismatch(void **state)
{
	(void)state;
	static const struct html_case cases[] = {
		{ "<a href=\"http://1.2.3.4/\">https://bank.com/</a>", 1 },
		/* a text starting as an https IP link is none, blanks count */
		{ "<a href=\"http://1.2.3.4/\">https://1.2.3.4/</a>", 0 },
		{ "<a href=\"http://1.2.3.4/\"> https://1.2.3.4/</a>", 1 },
		{ "<a href=\"http://1.2.3.4/\">https://user@5.6.7.8/</a>", 0 },
		{ "<a href=\"http://1.2.3.4/\">https:/5.6.7.8</a>", 0 },
		{ "<a href=\"http://1.2.3.4/\">https://5.6.7.8x</a>", 0 },
		/* "https:" anywhere in the text, any case, as parsed */
		{ "<a href=\"http://1.2.3.4/\">see HTTPS: now</a>", 1 },
		{ "<a href=\"http://1.2.3.4/\">http://bank.com/</a>", 0 },
		{ "<a href=\"http://1.2.3.4/\">https&#58;//b.com</a>", 1 },
		{ "<a href=\"http://1.2.3.4/\"><b>https</b>://b.com</a>", 1 },
		{ "<a href=\"http://1.2.3.4/\">x</a>https://b.com", 0 },
		{ "<a href=\"http://1.2.3.4/\"><img src=\"http://x.com/x.png\">"
		  "</a>", 0 },
		/* the key: http(s), any '/'s, a USER@, digits only at its
		 * start; trimmed */
		{ "<a href=\"https://user@1.2.3.4/\">https://bank.com</a>", 1 },
		{ "<a href=\"HTTP:1.2.3.4\">https:x</a>", 1 },
		{ "<a href=\"http://1.2.3.4.evil.com/\">https://bank.com</a>", 1 },
		{ "<a href=\" http://1.2.3.4/ \">https://b.com</a>", 1 },
		{ "<a href=\"http://evil.com/\">https://bank.com</a>", 0 },
		{ "<a href=\"http://1.2.3/\">https://bank.com</a>", 0 },
		{ "<a href=\"ftp://1.2.3.4/\">https://b.com</a>", 0 },
		/* every anchor of a key */
		{ "<a href=\"http://1.2.3.4/\">x</a> <a href=\"http://1.2.3.4/\">"
		  "https://a.com</a>", 1 },
		/* a comment open at the end is no text */
		{ "<a href=\"http://1.2.3.4/\">x <!-- https://bank.com/ ", 0 },
	};
	run_html_cases("", "check_https_ip_mismatch()", cases,
	               sizeof cases / sizeof cases[0]);
	assert_true(saeval_plugin("Mail::SpamAssassin::Plugin::URIEval"));
}

/* check_uri_truncated() on one utf-8 part of type ct whose body is
 * pre, then "http://x.com/" and n times fill (a UTF-8 character), then
 * post. */
static bool run_trunc(const char *ct, const char *pre, size_t n,
                      const char *fill, const char *post)
{
	struct strbuf b = { 0 };
	char head[128];
	snprintf(head, sizeof head, "Subject: x\nContent-Type: text/%s; "
	         "charset=utf-8\n\n", ct);
	strbuf_put(&b, head, strlen(head));
	strbuf_put(&b, pre, strlen(pre));
	strbuf_put(&b, "http://x.com/", 13);
	for (size_t i = 0; i < n; i++)
		strbuf_put(&b, fill, strlen(fill));
	strbuf_put(&b, post, strlen(post));
	strbuf_put(&b, "\n", 2);   /* with the NUL */
	assert_false(b.oom);
	bool hit = run_cf("", "check_uri_truncated()", b.p, NULL);
	free(b.p);
	return hit;
}

/* Each case as spamassassin -L -t (4.0.1, URI_TRUNCATED scored)
 * answers it: an HTML attribute URI over 8192 characters. */
static void test_uri_truncated(void **state)
{
	(void)state;
	static const struct {
		const char *ct, *pre;
		size_t n;
		const char *fill, *post;
		bool hit;
	} cases[] = {
		/* "http://x.com/" is 13 characters: 8192 is none, 8193 a hit */
		{ "html", "<a href=\"", 8179, "a", "\">x</a>", 0 },
		{ "html", "<a href=\"", 8180, "a", "\">x</a>", 1 },
		/* outer blanks and no-break spaces dropped, references
		 * decoded, an href's byte-order marks dropped */
		{ "html", "<a href=\"  ", 8179, "a", "  \">x</a>", 0 },
		{ "html", "<a href=\"&nbsp;", 8179, "a", "&nbsp;\">x</a>", 0 },
		/* Perl's \s on decoded text: U+3000, U+2003, U+0085 too */
		{ "html", "<a href=\"\xE3\x80\x80", 8179, "a",
		  "\xE2\x80\x83\xC2\x85\">x</a>", 0 },
		{ "html", "<a href=\"\xE3\x80\x80", 8180, "a",
		  "\xE2\x80\x83\xC2\x85\">x</a>", 1 },
		{ "html", "<a href=\"", 8179, "a", "&amp;\">x</a>", 1 },
		{ "html", "<a href=\"", 8179, "a", "&#xFEFF;\">x</a>", 0 },
		/* characters, not bytes */
		{ "html", "<a href=\"", 4096, "\xC3\xA9", "\">x</a>", 0 },
		{ "html", "<a href=\"", 8180, "\xC3\xA9", "\">x</a>", 1 },
		/* other attributes HTML.pm reads URIs from */
		{ "html", "<img src=\"", 8192, "a", "\">", 1 },
		{ "html", "<img x/src=\"", 8192, "a", "\">", 1 },
		{ "html", "<table background=\"", 8192, "a",
		  "\"><tr><td>x</td></tr></table>", 1 },
		{ "html", "<form action=\"", 8192, "a", "\">x", 1 },
		{ "html", "<meta http-equiv=\"refresh\" content=\"0; url=", 8192,
		  "a", "\">", 1 },
		{ "html", "<meta http-equiv=\"refresh\" content=\"0; url=", 8179,
		  "a", " ; x\">", 0 },
		{ "html", "<a data-saferedirecturl=\"", 8192, "a",
		  "\" href=\"http://x.com/\">x</a>", 1 },
		{ "html", "<base href=\"", 8192, "a", "\">", 1 },
		{ "html", "<div background=\"", 8192, "a", "\">x</div>", 0 },
		/* a URI in text, HTML's or plain, is never cut */
		{ "html", "<p>", 8192, "a", "</p>", 0 },
		{ "plain", "see ", 8180, "a", " now", 0 },
		{ "plain", "see ", 9000, "a", " now", 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (run_trunc(cases[i].ct, cases[i].pre, cases[i].n,
		              cases[i].fill, cases[i].post) != cases[i].hit)
			fail_msg("case %zu: %s...%s", i, cases[i].pre,
			         cases[i].post);
}

/* check_ratware_envelope_from: an envelope sender DOMAIN?USER@ made of
 * the To address (each case checked against SpamAssassin 4.0.1). */
static bool run_rat(const char *to, const char *rp)
{
	char raw[512];
	snprintf(raw, sizeof raw, "Return-Path: <%s>\nTo: %s\nSubject: hi\n\n"
	         "b\n", rp, to);
	return run_cf("util_rb_2tld co.uk\n", "check_ratware_envelope_from()",
	              raw, NULL);
}

static void test_ratware_envelope_from(void **state)
{
	(void)state;
	const char *to = "john@mail.example.com";
	assert_true(run_rat(to, "example.com-john@spammer.biz"));
	assert_true(run_rat(to, "EXAMPLE.COM.JOHN@x.biz"));
	assert_true(run_rat(to, "a.example.com.john@x.biz"));
	assert_false(run_rat(to, "xexample.com.john@spammer.biz"));
	assert_false(run_rat(to, "example.comxjohnny@x.biz"));
	assert_false(run_rat(to, "example.com..john@x.biz"));
	assert_false(run_rat(to, "SRS0=ab=example.com.john@x.biz"));
	/* the registrar domain of To's, which must end in a known TLD */
	assert_true(run_rat("john@sub.example.co.uk", "example.co.uk_john@x.net"));
	assert_false(run_rat("john@localhost", "localhost.john@x.net"));
	assert_false(run_rat("john@example.notatld",
	                     "example.notatld.john@x.biz"));
}

/* VBounce: a bounce quoting a Received header of a listed relay (each
 * case checked against SpamAssassin 4.0.1 with the same list). */
static void test_bounce_relays(void **state)
{
	(void)state;
	static const char cf[] =
	    "welcomelist_bounce_relays mx.example.com *.relay.example.net\n";
	const char *e = "check_welcomelist_bounce_relays()";
	static const char head[] = "From: MAILER-DAEMON@other.org\nSubject: "
	    "Undelivered Mail\n\nNot delivered.\n\n--- original message ---\n";
	char m[512];
	snprintf(m, sizeof m, "%sReceived: from mx.example.com (x [192.0.2.1])"
	         "\n\tby mail.other.org (Postfix) id 1\nFrom: me@example.com\n",
	         head);
	assert_true(run_cf(cf, e, m, NULL));
	/* a name on the continuation line; a glob */
	snprintf(m, sizeof m, "%sReceived: from x\n\tby a.relay.example.net "
	         "(Postfix) id 1\nFrom: me@example.com\n", head);
	assert_true(run_cf(cf, e, m, NULL));
	snprintf(m, sizeof m, "%sReceived: from spam.host.biz (spam.host.biz "
	         "[192.0.2.1])\n\tby mail.other.org id 1\n", head);
	assert_false(run_cf(cf, e, m, NULL));
	/* quoted, any case, in the body text */
	assert_true(run_cf(cf, e, "Subject: x\n\n> Received: by MX.EXAMPLE.COM "
	                          "(x) id 5\nbody\n", NULL));
	/* a name is a run of non-blanks with a dot inside, blanks around
	 * (the body text's line ends are blanks too) */
	assert_true(run_cf(cf, e, "Subject: x\n\nReceived: by mx.example.com\n",
	                   NULL));
	assert_false(run_cf(cf, e, "Subject: x\n\nReceived: by "
	                           "(mx.example.com)\n", NULL));
	assert_false(run_cf("whitelist_bounce_relays a.b\n", e, m, NULL));
	assert_true(run_cf("whitelist_bounce_relays a.b\n",
	                   "have_any_bounce_relays()", m, NULL));
	/* no list: nothing found, and no relays */
	assert_false(run_cf("", e, "Subject: x\n\nReceived: by mx.example.com "
	                        "x\n", NULL));
	assert_false(run_cf("", "have_any_bounce_relays()", m, NULL));
}

/* WLBLEval's address lists: enlist_addrlist patterns against the
 * senders of all_from_addrs, or Reply-To (checked against SpamAssassin
 * 4.0.1 with the stock lists). */
static void test_addrlist(void **state)
{
	(void)state;
	static const char cf[] =
	    "enlist_addrlist (SUSP_NTLD) *@*.top *@*.icu\n"
	    "enlist_addrlist (GOV) *@*.gov\n"
	    "enlist_addrlist (ONE) service@paypal.com a?c@x.org\n";
	const char *e = "check_from_in_list('SUSP_NTLD')";
	assert_true(run_cf(cf, e, "From: Deals <news@shop.top>\n\nx\n", NULL));
	assert_false(run_cf(cf, e, "From: news@top.example\n\nx\n", NULL));
	/* any case; Resent-From first; the envelope sender too */
	assert_true(run_cf(cf, "check_from_in_list('GOV')",
	                   "From: a@IRS.GOV\n\nx\n", NULL));
	assert_true(run_cf(cf, e, "Resent-From: r@x.icu\nFrom: a@b.org\n\nx\n",
	                   NULL));
	assert_false(run_cf(cf, e, "Resent-From: r@x.org\nFrom: a@b.top\n\nx\n",
	                    NULL));
	assert_true(run_cf(cf, e, "From: a@b.org\n\nx\n", "bounce@m.top"));
	assert_true(run_cf(cf, "check_from_in_list('ONE')",
	                   "From: abc@x.org\n\nx\n", NULL));
	assert_false(run_cf(cf, "check_from_in_list('ONE')",
	                    "From: abbc@x.org\n\nx\n", NULL));
	/* an unknown list is empty */
	assert_false(run_cf(cf, "check_from_in_list('NONE')",
	                    "From: a@b.top\n\nx\n", NULL));
	assert_true(run_cf(cf, "check_replyto_in_list('SUSP_NTLD')",
	                   "From: a@b.org\nReply-To: y@evil.icu\n\nx\n", NULL));
	assert_false(run_cf(cf, "check_replyto_in_list('SUSP_NTLD')",
	                    "From: a@b.top\n\nx\n", NULL));
}

/* WLBLEval's sender and recipient lists (sa_wlbl.c). Every case below
 * was run through spamassassin -L -t (4.0.1, stock rules) with the same
 * lines and message and hits (or not) there as here. */
#define WL_RCVD1 "Received: from mx.friend.example (mx.friend.example " \
	"[198.51.100.7]) by mx.dest.example (Postfix) with ESMTP id A1"
#define WL_DATE "; Tue, 24 Nov 2026 10:00:00 +0000\n"
static const char wl_m1[] =
    WL_RCVD1 WL_DATE
    "From: Pal <pal@friend.example>\nTo: victim@dest.example\n"
    "Subject: hello there\n\nHello\n";
/* Resent-From twice, a folded Received naming its recipient */
static const char wl_m2[] =
    WL_RCVD1 "\n\tfor <rcpt@dest.example>" WL_DATE
    "Resent-From: Fwd <r@other.example>\n"
    "Resent-From: second@third.example\n"
    "From: Pal <pal@friend.example>\nTo: other@else.example\n"
    "Subject: hello there\n\nHello\n";
/* Resent-To twice; a From with two dots in a row */
static const char wl_m3[] =
    WL_RCVD1 " for <rcpt@dest.example>" WL_DATE
    "Resent-To: r@a.example, r2@b.example\nResent-To: r3@c.example\n"
    "From: Pal <pal..x@friend.example>\nTo: victim@dest.example\n"
    "Cc: cc@dest.example\nSubject: hello there\n\nHello\n";
/* two relays; Received "for" an invalid host name, and one without <> */
static const char wl_m4[] =
    WL_RCVD1 " for <rcpt@bad_domain.com>" WL_DATE
    "Received: from inner.friend.example (inner.friend.example "
    "[203.0.113.5]) by mx.friend.example (Postfix) with ESMTP id B2 "
    "for sec@dest.example" WL_DATE
    "From: Pal <pal@friend.example>\nTo: victim@dest.example\n"
    "Delivered-To: deliv@dest.example\nX-Original-To: orig@dest.example\n"
    "Subject: hello there\n\nHello\n";

/* four Received lines naming a recipient each (only the first three
 * count); an envelope sender header; (wl_m5r) Resent-Cc */
#define WL_RCVD_N(from, ip, by, n) "Received: from " from " (" from \
	" [" ip "]) by " by " (Postfix) with ESMTP id " n " for <r" n \
	"@dest.example>" WL_DATE
#define WL_FOUR WL_RCVD_N("a.example", "192.0.2.1", "b.example", "1") \
	WL_RCVD_N("c.example", "192.0.2.2", "a.example", "2") \
	WL_RCVD_N("d.example", "192.0.2.3", "c.example", "3") \
	WL_RCVD_N("e.example", "192.0.2.4", "d.example", "4")
#define WL_M5_TAIL "X-Envelope-From: env@sender.example\n" \
	"From: x@y.example\nTo: t@dest.example\nSubject: hi\n\nHello\n"
static const char wl_m5[] = WL_FOUR WL_M5_TAIL;
static const char wl_m5r[] = WL_FOUR "Resent-Cc: rc@dest.example\n"
	WL_M5_TAIL;
/* an IPv6 relay without rDNS; two Cc addresses */
static const char wl_m6[] =
    "Received: from unknown (HELO v6.example) ([2001:db8::25]) by "
    "mx.dest.example (Postfix) with ESMTP id 5" WL_DATE
    "From: Pal <pal@friend.example>\n"
    "X-Envelope-From: env@sender.example\nTo: t@dest.example\n"
    "Cc: c1@dest.example, c2@dest.example\nSubject: hi\n\nHello\n";

static bool wl_run(const char *cf, const char *eval, const char *m)
{
	return run_cf(cf, eval, m, NULL);
}

/* The plain lists: a sender (all_from_addrs) or recipient
 * (all_to_addrs) listed, or not. */
#define WL_F "check_from_in_welcomelist()"
#define BL_F "check_from_in_blocklist()"
#define WL_T "check_to_in_welcomelist()"
#define BL_T "check_to_in_blocklist()"
#define MORE_T "check_to_in_more_spam()"
#define ALL_T "check_to_in_all_spam()"
#define TO_CF "welcomelist_to victim@dest.example\nblocklist_to " \
	"*@DEST.example\nmore_spam_to v*\nall_spam_to ?ictim@*\n"

static void test_wlbl_lists(void **state)
{
	(void)state;
	static const struct {
		const char *cf, *eval, *msg;
		bool hit;
	} c[] = {
		{ "welcomelist_from *@friend.example\n", WL_F, wl_m1, true },
		{ "welcomelist_from *@FRIEND.Example\n", WL_F, wl_m1, true },
		{ "whitelist_from p?l@friend.example\n", WL_F, wl_m1, true },
		{ "whitelist_from p?l@friend.example\n",
		  "check_from_in_whitelist()", wl_m1, true },
		{ "welcomelist_from p?@friend.example\n", WL_F, wl_m1, false },
		{ "", WL_F, wl_m1, false },
		/* un- removes the entry of that text (any case), not what it
		 * matches; a later line adds it again */
		{ "whitelist_from pal@friend.example\n"
		  "unwelcomelist_from PAL@Friend.example\n", WL_F, wl_m1, false },
		{ "whitelist_from pal@friend.example\n"
		  "unwelcomelist_from *@friend.example\n", WL_F, wl_m1, true },
		{ "unwhitelist_from pal@friend.example\n"
		  "whitelist_from pal@friend.example\n", WL_F, wl_m1, true },
		/* several per line; the lists are separate */
		{ "blacklist_from a@b.example pal@friend.*\n", BL_F, wl_m1, true },
		{ "blocklist_from *@friend.example\n",
		  "check_from_in_blacklist()", wl_m1, true },
		{ "blocklist_from *@friend.example\n", WL_F, wl_m1, false },
		{ "blocklist_from *@friend.example\n"
		  "unblacklist_from *@friend.example\n", BL_F, wl_m1, false },
		/* the first Resent-From stands for the senders */
		{ "welcomelist_from *@friend.example\n", WL_F, wl_m2, false },
		{ "welcomelist_from r@other.example\n", WL_F, wl_m2, true },
		{ "welcomelist_from second@third.example\n", WL_F, wl_m2, false },
		/* From's runs of dots are squeezed; '(' stands for '_' */
		{ "welcomelist_from pal.x@friend.example\n", WL_F, wl_m3, true },
		{ "welcomelist_from pal(@friend.example\n", WL_F, wl_m1, false },
		/* recipients */
		{ TO_CF, WL_T, wl_m1, true },
		{ TO_CF, "check_to_in_whitelist()", wl_m1, true },
		{ TO_CF, BL_T, wl_m1, true },
		{ TO_CF, "check_to_in_blacklist()", wl_m1, true },
		{ TO_CF, MORE_T, wl_m1, true },
		{ TO_CF, ALL_T, wl_m1, true },
		{ "", WL_T, wl_m1, false },
		/* a folded Received's "for <ADDR>;" is a recipient, with To */
		{ "whitelist_to rcpt@dest.example\n", WL_T, wl_m2, true },
		{ "blacklist_to other@else.example\n", BL_T, wl_m2, true },
		/* the first Resent-To (and Resent-Cc) stands for them */
		{ "welcomelist_to victim@dest.example\n", WL_T, wl_m3, false },
		{ "blocklist_to r2@b.example\n", BL_T, wl_m3, true },
		{ "more_spam_to r3@c.example\n", MORE_T, wl_m3, false },
		/* "for" an invalid host name is not; Delivered-To,
		 * X-Original-To, a "for" without <> are */
		{ "welcomelist_to rcpt@bad_domain.com\n", WL_T, wl_m4, false },
		{ "blocklist_to sec@dest.example\n", BL_T, wl_m4, true },
		{ "more_spam_to orig@dest.example\n", MORE_T, wl_m4, true },
		{ "all_spam_to deliv@dest.example\n", ALL_T, wl_m4, true },
		/* the first three Received lines only */
		{ "welcomelist_to r4@dest.example\n", WL_T, wl_m5, false },
		{ "blocklist_to r3@dest.example\n", BL_T, wl_m5, true },
		{ "more_spam_to r1@dest.example\n", MORE_T, wl_m5, true },
		{ "all_spam_to rc@dest.example\n", ALL_T, wl_m5, false },
		/* Resent-Cc alone stands for the recipients */
		{ "welcomelist_to t@dest.example\n", WL_T, wl_m5r, false },
		{ "blocklist_to rc@dest.example\n", BL_T, wl_m5r, true },
		{ "all_spam_to c2@dest.example\n", ALL_T, wl_m6, true },
		/* X-Envelope-From is a sender, with From */
		{ "blocklist_from env@sender.example\n", BL_F, wl_m5r, true },
		{ "blocklist_from env@sender.example\n", BL_F, wl_m6, true },
	};
	for (size_t i = 0; i < sizeof c / sizeof *c; i++)
		assert_int_equal(wl_run(c[i].cf, c[i].eval, c[i].msg), c[i].hit);
}

/* The _rcvd lists: the relay's rDNS or address must match too, else
 * the sender is a forgery. */
static void test_wlbl_rcvd(void **state)
{
	(void)state;
	const char *wl = "check_from_in_welcomelist()";
	const char *fw = "check_forged_in_welcomelist()";
	const char *def = "check_from_in_default_welcomelist()";
	const char *fd = "check_forged_in_default_welcomelist()";
	static const struct {
		const char *cf, *msg;
		bool wl, forged;
	} c[] = {
		{ "welcomelist_from_rcvd *@friend.example friend.example\n",
		  wl_m1, true, false },
		{ "welcomelist_from_rcvd *@friend.example iend.example\n",
		  wl_m1, false, true },
		{ "welcomelist_from_rcvd *@friend.example iend.example\n"
		  "welcomelist_allows_relays pal@*\n", wl_m1, false, false },
		{ "whitelist_from_rcvd pal@friend.example [198.51.100.7]\n",
		  wl_m1, true, false },
		{ "whitelist_from_rcvd pal@friend.example [198.51.100.8]\n",
		  wl_m1, false, true },
		{ "welcomelist_from_rcvd *@friend.example [198.51.100.0/24]\n",
		  wl_m1, true, false },
		{ "welcomelist_from_rcvd *@friend.example [198.51.100.0]/25\n",
		  wl_m1, true, false },
		{ "welcomelist_from_rcvd *@friend.example [198.51.100.128/25]\n",
		  wl_m1, false, true },
		{ "welcomelist_from_rcvd *@friend.example [198.51]\n",
		  wl_m1, true, false },
		{ "welcomelist_from_rcvd *@friend.example [198.5.]\n",
		  wl_m1, false, true },
		{ "welcomelist_from_rcvd *@friend.example nowhere.example\n"
		  "welcomelist_from_rcvd *@friend.example mx.friend.example\n",
		  wl_m1, true, false },
		/* not "ADDR DOMAIN": refused */
		{ "welcomelist_from_rcvd *@friend.example friend.example x\n",
		  wl_m1, false, false },
		/* welcomelist_from wins over a forged _rcvd entry */
		{ "welcomelist_from *@friend.example\n"
		  "welcomelist_from_rcvd *@friend.example other.example\n",
		  wl_m1, true, false },
		/* all relays trusted: any of them; else the last untrusted */
		{ "trusted_networks 198.51.100.0/24\n"
		  "welcomelist_from_rcvd *@friend.example friend.example\n",
		  wl_m1, true, false },
		{ "trusted_networks 198.51.100.0/24\n"
		  "welcomelist_from_rcvd *@friend.example [203.0.113.5]\n",
		  wl_m4, true, false },
		{ "welcomelist_from_rcvd *@friend.example [203.0.113.5]\n",
		  wl_m4, false, true },
		/* IPv6; a relay without rDNS matches no name */
		{ "welcomelist_from_rcvd *@friend.example [2001:db8::/32]\n",
		  wl_m6, true, false },
		{ "welcomelist_from_rcvd *@friend.example [2001:db9::/32]\n",
		  wl_m6, false, true },
		{ "welcomelist_from_rcvd *@friend.example [2001:db8::25]\n",
		  wl_m6, true, false },
		{ "welcomelist_from_rcvd *@friend.example friend.example\n",
		  wl_m6, false, true },
	};
	for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
		assert_int_equal(wl_run(c[i].cf, wl, c[i].msg), c[i].wl);
		assert_int_equal(wl_run(c[i].cf, fw, c[i].msg), c[i].forged);
		assert_false(wl_run(c[i].cf, def, c[i].msg));
	}
	static const char d[] =
	    "def_welcomelist_from_rcvd *@friend.example friend.example\n";
	assert_true(wl_run(d, def, wl_m1));
	assert_true(wl_run(d, "check_from_in_default_whitelist()", wl_m1));
	assert_false(wl_run(d, wl, wl_m1));
	/* both lists at once */
	static const char wd[] = "welcomelist_from *@friend.example\n"
	    "def_welcomelist_from_rcvd *@friend.example friend.example\n";
	assert_true(wl_run(wd, wl, wl_m1));
	assert_true(wl_run(wd, def, wl_m1));
	static const char df[] =
	    "def_whitelist_from_rcvd *@friend.example other.example\n";
	assert_true(wl_run(df, fd, wl_m1));
	assert_true(wl_run(df, "check_forged_in_default_whitelist()", wl_m1));
	assert_false(wl_run(df, fw, wl_m1));
	/* forged in both lists: neither forgery rule */
	static const char both[] =
	    "def_whitelist_from_rcvd *@friend.example other.example\n"
	    "welcomelist_from_rcvd *@friend.example other.example\n";
	assert_false(wl_run(both, fd, wl_m1));
	assert_false(wl_run(both, "check_forged_in_whitelist()", wl_m1));
	/* unwelcomelist_from_rcvd empties both lists of that entry */
	static const char un[] =
	    "def_welcomelist_from_rcvd *@friend.example friend.example\n"
	    "welcomelist_from_rcvd *@friend.example friend.example\n"
	    "unwhitelist_from_rcvd *@FRIEND.example\n";
	assert_false(wl_run(un, wl, wl_m1));
	assert_false(wl_run(un, def, wl_m1));
}

/* WelcomeListSubject: one pattern per line, matched anywhere in the
 * Subject; each case as spamassassin -L -t (4.0.1, Debian's v310.pre)
 * answers it with the same lines. */
static const char subj_cf[] =
    "welcomelist_subject [Bug *]\n"
    "blocklist_subject Make Money Fast\n"
    "whitelist_subject bbb\n"
    "blacklist_subject aaa*bbb\n"
    "blocklist_subject a.b\n"
    "welcomelist_subject q?q\n"
    "blocklist_subject zzz\\t\n"
    "welcomelist_subject 50% off_t*y\n"
    "blocklist_subject \xc3\x89t\xc3\xa9 sale\n";

/* Which of the lists the Subject header line(s) hdr hits: 'W', 'B' or
 * '-' (none) for each function, "WB" order. */
static void subj_hits(const char *hdr, char out[3])
{
	char m[512];
	snprintf(m, sizeof m, "From: a@b.example\n%s\n\nbody\n", hdr);
	out[0] = run_cf(subj_cf, "check_subject_in_welcomelist()", m, NULL) ?
	         'W' : '-';
	out[1] = run_cf(subj_cf, "check_subject_in_blocklist()", m, NULL) ?
	         'B' : '-';
	out[2] = '\0';
	/* the old names read the same lists */
	assert_int_equal(run_cf(subj_cf, "check_subject_in_whitelist()", m,
	                        NULL), out[0] == 'W');
	assert_int_equal(run_cf(subj_cf, "check_subject_in_blacklist()", m,
	                        NULL), out[1] == 'B');
}

static void test_subject_lists(void **state)
{
	(void)state;
	static const struct {
		const char *hdr, *sa;
	} cases[] = {
		{ "Subject: Re: [Bug 123] crash", "W-" },
		{ "Subject: [BUG 5] x", "W-" },
		{ "Subject: [Bug] no space", "--" },
		{ "Subject: Make Money Fast now", "-B" },
		{ "Subject: make  money fast", "--" },
		/* unfolded, decoded */
		{ "Subject: Make\n Money Fast", "-B" },
		{ "Subject: Make\n\tMoney Fast", "-B" },
		{ "Subject: =?UTF-8?B?TWFrZSBNb25leSBGYXN0?=", "-B" },
		/* two Subjects: joined by a line end no pattern crosses */
		{ "Subject: aaa\nSubject: bbb", "W-" },
		/* only '*' and '?' are special; '?' is one byte */
		{ "Subject: a.b test", "-B" },
		{ "Subject: axb test", "--" },
		{ "Subject: qzq", "W-" },
		{ "Subject: qq", "--" },
		{ "Subject: q\xc3\xa9q", "--" },
		{ "Subject: zzz\\tt", "-B" },
		{ "Subject: 50% off_today", "W-" },
		{ "Subject: ", "--" },
		/* lower case for ASCII letters only */
		{ "Subject: \xc3\x89t\xc3\xa9 Sale", "-B" },
		{ "Subject: =?UTF-8?Q?=C3=89t=C3=A9_sale?=", "-B" },
		{ "Subject: \xc3\xa9t\xc3\xa9 sale", "--" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char got[3];
		subj_hits(cases[i].hdr, got);
		if (strcmp(got, cases[i].sa) != 0)
			fail_msg("case %zu: %s: %s, SpamAssassin %s", i,
			         cases[i].hdr, got, cases[i].sa);
	}
	/* no lines: nothing listed */
	assert_false(run_cf("", "check_subject_in_welcomelist()",
	                    "Subject: x\n\nb\n", NULL));
	/* without a rule set the lists are unknown: unsupported */
	struct saeval_call *c = NULL;
	assert_int_equal(saeval_compile("check_subject_in_blocklist()", &c), 1);
	assert_true(saeval_plugin(
	    "Mail::SpamAssassin::Plugin::WelcomeListSubject"));
}

static void test_freemail(void **state)
{
	(void)state;
	struct saeval_call *c = NULL;
	/* without a rule set the lists are unknown: unsupported */
	assert_int_equal(saeval_compile("check_freemail_from()", &c), 1);
	assert_true(saeval_plugin("Mail::SpamAssassin::Plugin::FreeMail"));
	const char *fr = "check_freemail_from()";
	assert_true(run_fm(fr, "From: A <A@GMail.com>\n\nb\n", NULL));
	assert_true(run_fm(fr, "From: a@mail.ru\n\nb\n", NULL));
	assert_true(run_fm(fr, "From: a@x.free.example\n\nb\n", NULL));
	/* '*' does not cross a dot; refused and welcomelisted entries */
	assert_false(run_fm(fr, "From: a@mail.co.uk\n\nb\n", NULL));
	assert_false(run_fm(fr, "From: a@x.y.free.example\n\nb\n", NULL));
	assert_false(run_fm(fr, "From: a@bad_domain.com\n\nb\n", NULL));
	assert_false(run_fm(fr, "From: friend@gmail.com\n\nb\n", NULL));
	assert_false(run_fm(fr, "From: support@gmail.com\n\nb\n", NULL));
	assert_false(run_fm(fr, "From: a@example.com\n\nb\n", NULL));
	assert_true(run_fm(fr, "From: a@example.com\n\nb\n", "x@gmail.com"));
	/* the addresses are get()'s (sa_hdraddr.c): a display name holding
	 * an address is a name, not a freemail address */
	assert_false(run_fm(fr, "From: bob@gmail.com <bob@corp.example>\n\nb\n",
	                    NULL));
	assert_true(run_fm(fr, "From: bob@corp.example <bob@gmail.com>\n\nb\n",
	                   NULL));

	const char *rt = "From: a@example.com\nReply-To: bob7@gmail.com\n\nb\n";
	assert_true(run_fm("check_freemail_header('Reply-To')", rt, NULL));
	assert_true(run_fm("check_freemail_header('Reply-To:addr')", rt, NULL));
	assert_true(run_fm("check_freemail_header('Reply-To', '\\d@')", rt,
	                   NULL));
	assert_false(run_fm("check_freemail_header('Reply-To', '^x')", rt,
	                    NULL));
	assert_false(run_fm("check_freemail_header('From')", rt, NULL));
	assert_true(run_fm("check_freemail_header('EnvelopeFrom', '\\d@')",
	                   rt, "z9@mail.ru"));

	const char *two = "From: a@gmail.com\nReply-To: b@mail.ru\n\nb\n";
	const char *same = "From: a@gmail.com\nReply-To: a@gmail.com\n\nb\n";
	assert_true(run_fm("check_freemail_replyto('replyto')", two, NULL));
	assert_true(run_fm("check_freemail_replyto('reply')", two, NULL));
	assert_false(run_fm("check_freemail_replyto('replyto')", same, NULL));
	assert_false(run_fm("check_freemail_replyto('replyto')", rt, NULL));
	/* bulk-looking envelope sender: skipped */
	assert_false(run_fm("check_freemail_replyto('replyto')", two,
	                    "list-bounces@lists.example"));
	assert_int_equal(saeval_compile("check_freemail_replyto('x')", &c), 1);
}

/* ---- facts shared through the message cache ----
 * Several calls on one message with one cache, in both orders, must say
 * what each says alone without a cache (and what is expected). */
struct expect {
	const char *eval;
	bool hit;
};

static void check_shared(const struct expect *e, size_t n, const char *raw,
                         const char *env_from, const struct ruleset *rs)
{
	struct saeval_call *c[32];
	assert_true(n <= 32);
	for (size_t i = 0; i < n; i++) {
		c[i] = NULL;
		int rc = rs != NULL ? saeval_compile_rs(e[i].eval, rs, &c[i]) :
		         saeval_compile(e[i].eval, &c[i]);
		if (rc != 0)
			fail_msg("does not compile: %s", e[i].eval);
	}
	struct msg *m = msg_parse(raw, strlen(raw), NULL);
	assert_non_null(m);
	for (size_t i = 0; i < n; i++) {
		struct saeval_ctx alone = { .m = m, .env_from = env_from };
		if (saeval_run(c[i], &alone) != e[i].hit)
			fail_msg("alone: %s should be %d", e[i].eval, e[i].hit);
	}
	for (int dir = 0; dir < 2; dir++) {
		struct kept kept = { .m = m };
		struct saeval_ctx ctx = { .m = m, .env_from = env_from,
		                          .relays = kept_relays,
		                          .relays_arg = &kept,
		                          .cache = saeval_cache_new() };
		assert_non_null(ctx.cache);
		for (size_t k = 0; k < n; k++) {
			size_t i = dir == 0 ? k : n - 1 - k;
			if (saeval_run(c[i], &ctx) != e[i].hit)
				fail_msg("shared (%s): %s should be %d",
				         dir ? "backward" : "forward", e[i].eval,
				         e[i].hit);
		}
		saeval_cache_free(ctx.cache);
		relays_free(kept.r);
	}
	msg_free(m);
	for (size_t i = 0; i < n; i++)
		saeval_free(c[i]);
}

#define CHECK_SHARED(e, raw, env, rs) \
	check_shared(e, sizeof e / sizeof e[0], raw, env, rs)

static void test_cache_dates(void **state)
{
	(void)state;
	static const char rcvd[] =
	    "Received: from a.example (a.example [192.0.2.1]) by "
	    "mx.example.org with ESMTP id X1;\n"
	    "\tMon, 23 Nov 2026 12:00:00 +0000\n";
	char msg[1024];
	/* two Date headers: the first that parses counts (+8 h) */
	snprintf(msg, sizeof msg, "%sDate: someday\n"
	         "Date: Mon, 23 Nov 2026 20:00:00 +0000\n"
	         "Date: Mon, 23 Nov 2026 12:00:00 +0000\n\nb\n", rcvd);
	static const struct expect two[] = {
		{ "check_for_shifted_date('6', '12')", true },
		{ "check_for_shifted_date('-3', '3')", false },
		{ "check_for_shifted_date('undef', '-96')", false },
		{ "check_outlook_message_id()", false },
	};
	CHECK_SHARED(two, msg, NULL, NULL);
	/* Resent-Date before Date; no Date at all: no shift */
	snprintf(msg, sizeof msg, "%sDate: Mon, 23 Nov 2026 20:00:00 +0000\n"
	         "Resent-Date: Sat, 21 Nov 2026 12:00:00 +0000\n\nb\n", rcvd);
	static const struct expect resent[] = {
		{ "check_for_shifted_date('6', '12')", false },
		{ "check_for_shifted_date('-48', '-24')", true },
	};
	CHECK_SHARED(resent, msg, NULL, NULL);
	snprintf(msg, sizeof msg, "%sSubject: x\n\nb\n", rcvd);
	static const struct expect none[] = {
		{ "check_for_shifted_date('-1', '1')", true },
		{ "check_for_shifted_date('undef', '-1')", false },
		{ "check_for_shifted_date('1', 'undef')", false },
	};
	CHECK_SHARED(none, msg, NULL, NULL);
}

static void test_cache_parts(void **state)
{
	(void)state;
	/* three HTML parts (400+ characters with an <img> in <a>; a short
	 * one whose tags hide in a comment and a script; one with only an
	 * </IMG> end tag), a base64 text part, a QP one with 8-bit text */
	char msg[8192];
	char filler[420];
	memset(filler, 'x', sizeof filler - 1);
	filler[sizeof filler - 1] = '\0';
	snprintf(msg, sizeof msg,
	    "From: a@example.com\nTo: b@example.com\n"
	    "Content-Type: multipart/mixed; boundary=\"B1\"\n\n"
	    "--B1\nContent-Type: multipart/alternative; boundary=\"B2\"\n\n"
	    "--B2\nContent-Type: text/html\n\n"
	    "<html><body><a href=x><IMG/src=y></a><p>%s</p></body></html>\n"
	    "--B2\nContent-Type: text/html\n\n"
	    "<center>c</center><!-- <bgsound> --><script>'<iframe>'</script>"
	    "<o:p>x</o:p>\n"
	    "--B2--\n"
	    "--B1\nContent-Type: text/html\n\nabc</IMG>\n"
	    "--B1\nContent-Type: text/plain; charset=us-ascii\n"
	    "Content-Transfer-Encoding: base64\n\naGVsbG8gd29ybGQ=\n"
	    "--B1\nContent-Type: text/plain\n"
	    "Content-Transfer-Encoding: quoted-printable\n\n"
	    "caf\xe9 =41=42\n"
	    "--B1--\n", filler);
	static const struct expect e[] = {
		{ "html_tag_exists('img')", true },
		{ "html_tag_exists('IMG')", true },
		{ "html_tag_exists('center')", true },
		{ "html_tag_exists('o:p')", true },
		{ "html_tag_exists('bgsound')", false },   /* comment */
		{ "html_tag_exists('iframe')", false },    /* script */
		{ "html_tag_exists('p x')", false },       /* no such name */
		{ "html_tag_exists('table')", false },
		{ "html_image_only('400', '600')", true },
		{ "html_image_only('50', '300')", false }, /* no img */
		{ "html_image_only('5', '15')", true },    /* </IMG> counts */
		{ "html_range('length', '0', '50')", true },
		{ "html_range('length', '600', 'inf')", false },
		{ "html_eval('length', '> 400')", true },
		{ "html_eval('length', '== 9')", true },   /* abc</IMG> */
		{ "html_eval('length', '== 8')", false },
		{ "html_text_match('anchor', '<img>')", true },
		{ "html_test('html')", true },
		{ "check_for_mime('mime_base64_count')", true },
		{ "check_for_mime('mime_base64_encoded_text')", true },
		{ "check_for_mime('mime_qp_count')", true },
		{ "check_for_mime('mime_attachment')", false },
		{ "check_for_mime_html()", true },
		{ "check_for_mime_html_only()", false },
		{ "check_for_ascii_text_illegal()", true },
		{ "check_base64_length('2', '79')", true },
	};
	CHECK_SHARED(e, msg, NULL, NULL);
	/* a comment without "-->" ends at its first '>' (HTML::Parser):
	 * the <a> is in it, the <img> and </a> after it count (SpamAssassin
	 * 4.0.1 hits the first three) */
	static const struct expect open_comment[] = {
		{ "html_tag_exists('p')", true },
		{ "html_tag_exists('img')", true },
		{ "html_image_only('0', '100')", true },
		{ "html_text_match('anchor', '<img>')", false },
	};
	CHECK_SHARED(open_comment, "Content-Type: text/html\n\n"
	             "<p>x<!-- <a><img src=y></a>\n", NULL, NULL);
}

static void test_cache_headers(void **state)
{
	(void)state;
	/* names alike in their first letters, one-letter names, case */
	static const char msg[] =
	    "Received: from rly-xa01.mx.aol.com (rly-xa01.mx.aol.com\n"
	    "   [192.0.2.4]) by\n"
	    "   mx.example.org  with ESMTP; Mon, 23 Nov 2026 12:00:00 +0000\n"
	    "T: \x01\x02\x03\n"
	    "To: b@example.com\n"
	    "TO: c@example.com\n"
	    "Thread-Topic: \xff\xfe\xfd\n"
	    "Su: \xe9\xe9\xe9\n"
	    "SUBJECT: caf\xc3\xa9 fine\n"
	    "From: Al <al@hotmail.com>\n\nb\n";
	static const struct expect e[] = {
		{ "check_illegal_chars('T','0','3')", true },
		{ "check_illegal_chars('Thread-Topic','0','3')", true },
		{ "check_illegal_chars('To','0','1')", false },
		{ "check_illegal_chars('Su','0','3')", true },
		{ "check_illegal_chars('Subject','0','1')", false }, /* UTF-8 */
		{ "check_illegal_chars('ALL','0','11')", true },
		{ "check_illegal_chars('ALL','0','12')", false },
		{ "check_for_missing_to_header()", false },
		{ "similar_recipients('0.1', 'undef')", false },
		{ "check_for_fake_aol_relay_in_rcvd()", true },
		{ "check_for_forged_hotmail_received_headers()", false },
		{ "check_for_no_hotmail_received_headers()", true },
		{ "check_for_forged_yahoo_received_headers()", false },
		{ "check_for_forged_eudoramail_received_headers()", false },
	};
	CHECK_SHARED(e, msg, NULL, NULL);
	/* UTF-8 in the header block, nothing else: not illegal */
	static const struct expect utf8[] = {
		{ "check_illegal_chars('ALL','0','1')", false },
		{ "check_illegal_chars('ALL:raw','0','1')", false },
	};
	CHECK_SHARED(utf8, "Subject: caf\xc3\xa9\r\nTo: x@y.example\r\n\r\n"
	             "b\r\n", NULL, NULL);
}

static void test_cache_uppercase(void **state)
{
	(void)state;
	char msg[4096] = "Subject: hi\n\n";
	/* base64-looking lines and lines without an inner blank are left
	 * out; what remains is mostly capitals */
	for (int i = 0; i < 3; i++)
		strcat(msg, "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"
		            "QUFB QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"
		            "QUFBQUFBQUFB lower case words follow here\n\n");
	strcat(msg, "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZ\n\n");
	for (int i = 0; i < 6; i++)
		strcat(msg, "SHOUTING IN CAPITALS ALL THE TIME, and\n\n");
	static const struct expect e[] = {
		{ "check_for_uppercase('75', '100')", true },
		{ "check_for_uppercase('25', '50')", false },
		{ "tvd_vertical_words('0', '100')", true },
	};
	CHECK_SHARED(e, msg, NULL, NULL);
}

static void test_cache_freemail(void **state)
{
	(void)state;
	struct ruleset *rs = ruleset_load_buf("fm.cf", fm_cf, sizeof fm_cf - 1,
	                                      rules_ruleset_opts());
	assert_non_null(rs);
	/* calls of one rule set share its lists, and the cache their
	 * answers for each address */
	static const struct expect e[] = {
		{ "check_freemail_from()", true },
		{ "check_freemail_from('^a@')", false },
		{ "check_freemail_header('Reply-To')", true },
		{ "check_freemail_header('Reply-To', '\\d@')", true },
		{ "check_freemail_header('From', '^x')", false },
		{ "check_freemail_header('EnvelopeFrom')", false },
		{ "check_freemail_replyto('replyto')", true },
		{ "check_freemail_replyto('reply')", true },
	};
	CHECK_SHARED(e, "From: Bo <bo@GMAIL.com>\nReply-To: z9@mail.ru\n\nb\n",
	             "friend@gmail.com", rs);
	/* a rule set with other lists: its own answers */
	static const char other_cf[] = "freemail_domains mail.ru\n";
	struct ruleset *rs2 = ruleset_load_buf("fm2.cf", other_cf,
	                                       sizeof other_cf - 1,
	                                       rules_ruleset_opts());
	assert_non_null(rs2);
	struct saeval_call *a = NULL, *b = NULL;
	assert_int_equal(saeval_compile_rs("check_freemail_from()", rs, &a), 0);
	assert_int_equal(saeval_compile_rs("check_freemail_from()", rs2, &b),
	                 0);
	static const char raw[] = "From: bo@gmail.com\n\nb\n";
	struct msg *m = msg_parse(raw, strlen(raw), NULL);
	assert_non_null(m);
	struct saeval_ctx ctx = { .m = m, .cache = saeval_cache_new() };
	assert_true(saeval_run(a, &ctx));
	assert_false(saeval_run(b, &ctx));
	saeval_cache_free(ctx.cache);
	msg_free(m);
	saeval_free(a);
	saeval_free(b);
	ruleset_free(rs2);
	ruleset_free(rs);
}

/* ---- FreeMail: the body's addresses (FreeMail.pm's _parse_body) ----
 * Every expected outcome below is what SpamAssassin 4.0.1 says for the
 * same message and settings (its FreeMail plugin with these
 * freemail_domains, run through bench/sa_hits.pl). */
static const char fmb_cf[] =
    "freemail_domains gmail.com mail.* yahoo.com hotmail.com\n";

#define RT_FM "From: a@example.com\nReply-To: b@gmail.com\n"

/* check_freemail_replyto('replyto'), ('reply') and check_freemail_body()
 * on headers + body (text/html when html), with fmb_cf and the extra
 * settings lines; each alone and sharing a cache. */
static void check_fmb(const char *extra, const char *hdrs, const char *body,
                      bool html, bool replyto, bool reply, bool in_body)
{
	char cf[512], raw[4096];
	snprintf(cf, sizeof cf, "%s%s", fmb_cf, extra);
	snprintf(raw, sizeof raw, "%s%sTo: t@example.com\n%s\n%s", hdrs,
	         strstr(hdrs, "Subject:") ? "" : "Subject: test\n",
	         html ? "MIME-Version: 1.0\nContent-Type: text/html; "
	                "charset=utf-8\n" : "", body);
	struct ruleset *rs = ruleset_load_buf("fmb.cf", cf, strlen(cf),
	                                      rules_ruleset_opts());
	assert_non_null(rs);
	const struct expect e[] = {
		{ "check_freemail_replyto('replyto')", replyto },
		{ "check_freemail_replyto('reply')", reply },
		{ "check_freemail_body()", in_body },
	};
	CHECK_SHARED(e, raw, NULL, rs);
	ruleset_free(rs);
}

static void test_freemail_body_text(void **state)
{
	(void)state;
	/* Reply-To freemail, another freemail in the body */
	check_fmb("", RT_FM, "Write to c@mail.ru today.\n", false,
	          true, false, true);
	/* the same address (any case) is no other one */
	check_fmb("", RT_FM, "Write to B@Gmail.com today.\n", false,
	          false, false, true);
	/* in the Subject, which comes first in the body text */
	check_fmb("", RT_FM "Subject: mail c@mail.ru\n", "hello\n", false,
	          true, false, true);
	/* blanked out: in <>, before "wrote:", inside a URL */
	check_fmb("", RT_FM, "Write to <c@mail.ru> today.\n", false,
	          false, false, false);
	check_fmb("", RT_FM, "On Monday c@mail.ru wrote: hello\n", false,
	          false, false, false);
	check_fmb("", RT_FM, "See http://x.example/?u=c@mail.ru now\n", false,
	          false, false, false);
	/* ... but not before fax:, tel:, phone:, e-mail: */
	check_fmb("", RT_FM, "Call c@mail.ru  fax: 123\n", false,
	          true, false, true);
	/* the top-level domain must be one SpamAssassin knows (mail.* is
	 * freemail either way), in any case */
	check_fmb("", RT_FM, "Write to c@mail.qqzz today.\n", false,
	          false, false, false);
	check_fmb("", RT_FM, "Write to c@MAIL.DE today.\n", false,
	          true, false, true);
	/* at most 64 characters before the '@' (then the part after a dot
	 * is the address) */
	char body[256];
	snprintf(body, sizeof body, "Write to %064d@mail.ru today.\n", 0);
	check_fmb("", RT_FM, body, false, true, false, true);
	snprintf(body, sizeof body, "Write to %065d@mail.ru today.\n", 0);
	check_fmb("", RT_FM, body, false, false, false, false);
	snprintf(body, sizeof body, "Write to %065d.c@mail.ru today.\n", 0);
	check_fmb("", RT_FM, body, false, true, false, true);
	/* in <> with 64 before the '@' (65 with the '<'): blanked */
	snprintf(body, sizeof body, "Write <%064d@mail.ru> now\n", 0);
	check_fmb("", RT_FM, body, false, false, false, false);
	/* '>' not right after the address; an address after a blanked
	 * one; after a double '@' */
	check_fmb("", RT_FM, "<c@mail.ru.>\n", false, true, false, true);
	check_fmb("", RT_FM, "<x@example.com>c@mail.ru\n", false,
	          true, false, true);
	check_fmb("", RT_FM, "x@@c@mail.ru\n", false, true, false, true);
}

static void test_freemail_body_mailto(void **state)
{
	(void)state;
	/* an <a href="mailto:..."> link, entities decoded, trimmed */
	check_fmb("", RT_FM, "<html><body><p>Write <a href=\"mailto:c@mail.ru\">"
	          "to us</a></p></body></html>\n", true, true, false, true);
	check_fmb("", RT_FM, "<html><body><p>Write <a href=\" mailto:c&#64;"
	          "mail.ru?subject=hi \">to us</a></p></body></html>\n", true,
	          true, false, true);
	/* the text shows the same URI: SpamAssassin's text parser found it
	 * ("parsed"), so only the text counts, and there it is in <> */
	check_fmb("", RT_FM, "<html><body><p>Write <a href=\"mailto:c@mail.ru\">"
	          "&lt;c@mail.ru&gt;</a></p></body></html>\n", true,
	          false, false, false);
	/* ... not the same URI when spelt MAILTO: */
	check_fmb("", RT_FM, "<html><body><p>Write <a href=\"MAILTO:c@mail.ru\">"
	          "&lt;c@mail.ru&gt;</a></p></body></html>\n", true,
	          true, false, true);
	/* a U+FEFF before the scheme is removed */
	check_fmb("", RT_FM, "<html><body><p>Write <a href=\"\xef\xbb\xbf"
	          "mailto:c@mail.ru\">to us</a></p></body></html>\n", true,
	          true, false, true);
	/* only <a>: not <area> */
	check_fmb("", RT_FM, "<html><body><map><area href=\"mailto:c@mail.ru\">"
	          "</map><p>hi</p></body></html>\n", true, false, false, false);
}

static const char five[] =
    "c@mail.ru x1@example.com x2@example.org x3@example.net x4@example.com\n";
static const char three_fm[] = "c@mail.ru d@yahoo.com e@hotmail.com\n";

static void test_freemail_body_limits(void **state)
{
	(void)state;
	/* freemail_max_body_emails 5: four addresses are fine, the fifth
	 * makes it give up (freemail_skip_when_over_max 1) */
	check_fmb("", RT_FM, "c@mail.ru x1@example.com x2@example.org "
	          "x3@example.net\n", false, true, false, true);
	check_fmb("", RT_FM, five, false, false, false, false);
	/* a mailto: link counts as one of them */
	check_fmb("", RT_FM, "<html><body><p><a href=\"mailto:x4@example.com\">"
	          "us</a> c@mail.ru x1@example.com x2@example.org x3@example.net"
	          "</p></body></html>\n", true, false, false, false);
	/* freemail_max_body_freemails 3: two are fine, the third is not
	 * (the Reply-To's own address counts too) */
	check_fmb("", RT_FM, "c@mail.ru d@yahoo.com\n", false,
	          true, false, true);
	check_fmb("", RT_FM, three_fm, false, false, false, false);
	check_fmb("", RT_FM, "b@gmail.com d@yahoo.com e@hotmail.com\n", false,
	          false, false, false);
	/* settings from the rule files: no skipping, or higher limits */
	const char *noskip = "freemail_skip_when_over_max 0\n";
	const char *higher = "freemail_max_body_emails 6\n"
	                     "freemail_max_body_freemails 4\n";
	check_fmb(noskip, RT_FM, five, false, true, false, true);
	check_fmb(noskip, RT_FM, three_fm, false, true, false, true);
	check_fmb(higher, RT_FM, five, false, true, false, true);
	check_fmb(higher, RT_FM, three_fm, false, true, false, true);
	/* a value that is not a number is refused: the default stays */
	check_fmb("freemail_max_body_emails many\n", RT_FM, five, false,
	          false, false, false);

	/* two rule sets with other settings on one message and one cache:
	 * each its own answer */
	struct ruleset *a = ruleset_load_buf("a.cf", fmb_cf, strlen(fmb_cf),
	                                     rules_ruleset_opts());
	char cf[256];
	snprintf(cf, sizeof cf, "%s%s", fmb_cf, noskip);
	struct ruleset *b = ruleset_load_buf("b.cf", cf, strlen(cf),
	                                     rules_ruleset_opts());
	assert_non_null(a);
	assert_non_null(b);
	struct saeval_call *ca = NULL, *cb = NULL;
	assert_int_equal(saeval_compile_rs("check_freemail_body()", a, &ca), 0);
	assert_int_equal(saeval_compile_rs("check_freemail_body()", b, &cb), 0);
	char raw[512];
	snprintf(raw, sizeof raw, RT_FM "\n%s", five);
	struct msg *m = msg_parse(raw, strlen(raw), NULL);
	assert_non_null(m);
	struct saeval_ctx ctx = { .m = m, .cache = saeval_cache_new() };
	assert_false(saeval_run(ca, &ctx));
	assert_true(saeval_run(cb, &ctx));
	assert_false(saeval_run(ca, &ctx));
	saeval_cache_free(ctx.cache);
	msg_free(m);
	saeval_free(ca);
	saeval_free(cb);
	ruleset_free(a);
	ruleset_free(b);
}

static void test_freemail_body_modes(void **state)
{
	(void)state;
	/* 'reply': no Reply-To, From freemail, another one in the body */
	check_fmb("", "From: a@gmail.com\n", "Write to c@mail.ru today.\n",
	          false, false, true, true);
	/* a Reply-To that is not freemail stops both */
	check_fmb("", "From: a@gmail.com\nReply-To: r@example.com\n",
	          "Write to c@mail.ru today.\n", false, false, false, true);
	/* check_freemail_body's regex */
	char cf[256];
	snprintf(cf, sizeof cf, "%s", fmb_cf);
	struct ruleset *rs = ruleset_load_buf("r.cf", cf, strlen(cf),
	                                      rules_ruleset_opts());
	assert_non_null(rs);
	const struct expect e[] = {
		{ "check_freemail_body('^c@')", true },
		{ "check_freemail_body('\\d@')", false },
		{ "check_freemail_body()", true },
	};
	CHECK_SHARED(e, RT_FM "\nc@mail.ru x1@example.com\n", NULL, rs);
	ruleset_free(rs);
	/* a bulk-looking EnvelopeFrom (SpamAssassin's guess from
	 * Return-Path when there is no SMTP envelope) skips
	 * check_freemail_replyto unless freemail_skip_bulk_envfrom 0 */
	const char *bulk = "Return-Path: <list-bounces@lists.example>\n"
	                   "From: a@gmail.com\nReply-To: b@mail.ru\n";
	check_fmb("", bulk, "hello\n", false, false, false, false);
	check_fmb("freemail_skip_bulk_envfrom 0\n", bulk, "hello\n", false,
	          true, true, false);
	const char *bulk_body = "Return-Path: <list-bounces@lists.example>\n"
	                        RT_FM;
	check_fmb("", bulk_body, "Write to c@mail.ru today.\n", false,
	          false, false, true);
	check_fmb("freemail_skip_bulk_envfrom 0\n", bulk_body,
	          "Write to c@mail.ru today.\n", false, true, false, true);
	/* EnvelopeFrom for check_freemail_header: the same guess */
	rs = ruleset_load_buf("r.cf", cf, strlen(cf), rules_ruleset_opts());
	assert_non_null(rs);
	const struct expect env[] = {
		{ "check_freemail_header('EnvelopeFrom', '\\d@')", true },
		{ "check_freemail_from('^z9@')", true },
	};
	CHECK_SHARED(env, "Return-Path: <z9@mail.ru>\nFrom: a@example.com\n\n"
	             "hello\n", NULL, rs);
	ruleset_free(rs);
}

static void test_relay_counts(void **state)
{
	(void)state;
	const char *none = "From: a@b.example\n\nb\n";
	const char *local = "Received: from x (x [10.0.0.2]) by y.example "
	                    "(Postfix) with ESMTP id 1A2B; "
	                    "Mon, 1 Jan 2024 00:00:00 +0000\n"
	                    "From: a@b.example\n\nb\n";
	const char *ext = "Received: from mx.example.net (mx.example.net "
	                  "[203.0.113.5]) by y.example (Postfix) with ESMTP "
	                  "id 1A2B; Mon, 1 Jan 2024 00:00:00 +0000\n"
	                  "From: a@b.example\n\nb\n";
	const char *junk = "Received: from foo by bar\n"
	                   "From: a@b.example\n\nb\n";
	assert_true(run("check_no_relays()", none));
	assert_false(run("check_no_relays()", local));
	assert_false(run("check_all_trusted()", none));
	assert_true(run("check_all_trusted()", local));
	assert_false(run("check_all_trusted()", ext));
	assert_false(run("check_relays_unparseable()", ext));
	assert_true(run("check_relays_unparseable()", junk));
	assert_false(run("check_no_relays()", junk));
}

static void test_rules_hook(void **state)
{
	(void)state;
	static const char cf[] =
	    "header CAPS eval:subject_is_all_caps()\nscore CAPS 2.5\n"
	    "header NOPE eval:check_no_such_thing()\nscore NOPE 1\n"
	    "meta BOTH CAPS && !NOPE\nscore BOTH 1\n";
	struct ruleset *rs = ruleset_load_buf("t.cf", cf, sizeof cf - 1,
	                                      rules_ruleset_opts());
	assert_non_null(rs);
	char err[256];
	struct rules *r = rules_compile(rs, NULL, err, sizeof err);
	assert_non_null(r);
	for (size_t i = 0; i < ruleset_count(rs); i++) {
		const char *n = ruleset_at(rs, i)->name;
		enum rules_state st = rules_rule_state(r, i);
		if (strcmp(n, "CAPS") == 0)
			assert_int_equal(st, RULES_ACTIVE);
		if (strcmp(n, "NOPE") == 0)
			assert_int_equal(st, RULES_UNSUPPORTED);
	}
	static const char msg[] = "From: a@b.example\n"
	                          "Subject: FREE MONEY FOR ALL\n\nbody\n";
	struct scan *scan = scan_new();
	assert_non_null(scan);
	assert_int_equal(scan_set_raw(scan, msg, sizeof msg - 1), 0);
	struct rules_result *res = rules_result_new();
	assert_int_equal(rules_eval(r, scan, res, 0), 0);
	bool caps = false, both = false, nope = false;
	for (size_t i = 0; i < rules_result_count(res); i++) {
		const struct rules_hit *h = rules_result_at(res, i);
		if (strcmp(h->name, "CAPS") == 0) {
			caps = true;
			assert_true(h->score == 2.5);
		}
		both |= strcmp(h->name, "BOTH") == 0;
		nope |= strcmp(h->name, "NOPE") == 0;
	}
	assert_true(caps);
	assert_true(both);
	assert_false(nope);
	rules_result_free(res);
	scan_free(scan);
	rules_free(r);
	ruleset_free(rs);
}

/* get()'s address lists, each case's three lists as SpamAssassin 4.0.1
 * gives them for a From: header holding the value (its internal parser,
 * without Email::Address::XS): addr, name, name:raw. */
static void test_header_addrs(void **state)
{
	(void)state;
	static const struct {
		const char *value, *addr, *name, *name_raw;
	} cases[] = {
		/* a name holding an address is a name */
		{ "bduyisj36648@Email.cz <bduyisj36648@Email.cz>",
		  "bduyisj36648@Email.cz\n", "bduyisj36648@Email.cz\n",
		  "bduyisj36648@Email.cz \n" },
		/* cut at a second '@' */
		{ "ndtuftrzzsglsvnz@uksyz@21cn.com", "ndtuftrzzsglsvnz@uksyz\n",
		  "", "" },
		{ "zvfjenphuq@[1086695621], [ufa]@netnoteinc.com",
		  "zvfjenphuq@[1086695621]\n", "[ufa]@netnoteinc.com\n",
		  "[ufa]@netnoteinc.com\n" },
		{ "undisclosed-recipients:;", "", "", "" },
		/* the domain's case kept */
		{ "\"Joe\" <Joe@Example.COM>", "Joe@Example.COM\n", "Joe\n",
		  "Joe \n" },
		{ "'Eugen Leitl' <eugen@leitl.org>", "eugen@leitl.org\n",
		  "Eugen Leitl\n", "'Eugen Leitl' \n" },
		{ "Angles  Puglisi <x@y.com>", "x@y.com\n", "Angles Puglisi\n",
		  "Angles  Puglisi \n" },
		{ "\"weruet\"weou3465@aol.com", "\"weruet\"weou3465@aol.com\n",
		  "", "" },
		{ "a@b.com (Comment Name)", "a@b.com\n", "Comment Name\n",
		  "Comment Name\n" },
		{ "grp: a@b.com, c@d.com;", "a@b.com\nc@d.com\n", "", "" },
		/* the last resort: an <address> in what did not parse */
		{ "=?UTF-8?Q?\"Foobar\"_<noreply@foobar.com>?=",
		  "noreply@foobar.com\n", "", "" },
		{ "\"Some \\\"quoted\\\" name\" <q@x.org>", "q@x.org\n",
		  "Some \"quoted\" name\n", "Some \"quoted\" name \n" },
		{ "Name <>, b@c.org", "b@c.org\n", "Name\n", "Name \n" },
		{ "=?ISO-8859-1?Q?Andr=E9?= Pirard <pirard@ulg.ac.be>",
		  "pirard@ulg.ac.be\n", "Andr\xc3\xa9 Pirard\n",
		  "=?ISO-8859-1?Q?Andr=E9?= Pirard \n" },
		{ "x_y@a_b.example.com", "x_y@a_b.example.com\n", "", "" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *want[3] = { cases[i].addr, cases[i].name,
		                        cases[i].name_raw };
		enum saeval_addr_part part[3] = { SAEVAL_ADDR, SAEVAL_NAME,
		                                  SAEVAL_NAME_RAW };
		char raw[256];
		int n = snprintf(raw, sizeof raw, "From: %s\n\nb\n",
		                 cases[i].value);
		struct msg *m = msg_parse(raw, (size_t)n, NULL);
		assert_non_null(m);
		const struct msg_header *h = msg_header_get(m, "From", 0);
		assert_non_null(h);
		for (size_t k = 0; k < 3; k++) {
			struct strbuf b = { 0 };
			saeval_header_addrs(&b, h, true, part[k]);
			assert_false(b.oom);
			strbuf_put(&b, "", 1);
			if (strcmp(b.p, want[k]) != 0)
				fail_msg("%s (part %zu): got \"%s\", want \"%s\"",
				         cases[i].value, k, b.p, want[k]);
			free(b.p);
		}
		msg_free(m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compile),
		cmocka_unit_test(test_shifted_date),
		cmocka_unit_test(test_outlook_message_id),
		cmocka_unit_test(test_equal_from_domains),
		cmocka_unit_test(test_helo_ip_mismatch),
		cmocka_unit_test(test_forged_rcvd_trail),
		cmocka_unit_test(test_no_rdns_dotcom_helo),
		cmocka_unit_test(test_subject_all_caps),
		cmocka_unit_test(test_similar_recipients),
		cmocka_unit_test(test_forged_relays),
		cmocka_unit_test(test_mime),
		cmocka_unit_test(test_uppercase),
		cmocka_unit_test(test_html),
		cmocka_unit_test(test_counts_and_ratios),
		cmocka_unit_test(test_html_low_contrast),
		cmocka_unit_test(test_html_image_only),
		cmocka_unit_test(test_html_length_anchor),
		cmocka_unit_test(test_tvd_vertical_words),
		cmocka_unit_test(test_stock_info),
		cmocka_unit_test(test_faraway_charsets),
		cmocka_unit_test(test_extra_args),
		cmocka_unit_test(test_body_length),
		cmocka_unit_test(test_html_title_subject),
		cmocka_unit_test(test_html_obfuscation),
		cmocka_unit_test(test_uri_host_listed),
		cmocka_unit_test(test_mailfrom_matches_rcvd),
		cmocka_unit_test(test_https_mismatch),
		cmocka_unit_test(test_ratware_envelope_from),
		cmocka_unit_test(test_bounce_relays),
		cmocka_unit_test(test_addrlist),
		cmocka_unit_test(test_wlbl_lists),
		cmocka_unit_test(test_wlbl_rcvd),
		cmocka_unit_test(test_https_ip_mismatch),
		cmocka_unit_test(test_uri_truncated),
		cmocka_unit_test(test_subject_lists),
		cmocka_unit_test(test_sorted_recipients),
		cmocka_unit_test(test_image_count),
		cmocka_unit_test(test_ratware_name_id),
		cmocka_unit_test(test_gated_rcvd_remover),
		cmocka_unit_test(test_env_and_hdr_from),
		cmocka_unit_test(test_unicode_ratio),
		cmocka_unit_test(test_unresolved_template),
		cmocka_unit_test(test_html_tag_balance),
		cmocka_unit_test(test_html_facts),
		cmocka_unit_test(test_to_in_subject),
		cmocka_unit_test(test_mime_parse_flags),
		cmocka_unit_test(test_image_sizes),
		cmocka_unit_test(test_mpart_alt_diff),
		cmocka_unit_test(test_more_headers),
		cmocka_unit_test(test_mime_lines),
		cmocka_unit_test(test_mime_body_without_blank_line),
		cmocka_unit_test(test_freemail),
		cmocka_unit_test(test_cache_dates),
		cmocka_unit_test(test_cache_parts),
		cmocka_unit_test(test_cache_headers),
		cmocka_unit_test(test_cache_uppercase),
		cmocka_unit_test(test_cache_freemail),
		cmocka_unit_test(test_freemail_body_text),
		cmocka_unit_test(test_freemail_body_mailto),
		cmocka_unit_test(test_freemail_body_limits),
		cmocka_unit_test(test_freemail_body_modes),
		cmocka_unit_test(test_relay_counts),
		cmocka_unit_test(test_rules_hook),
		cmocka_unit_test(test_header_addrs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
