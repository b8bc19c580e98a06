/* Unit tests: pipeline (sanity stage), verdicts, X-Spam-Status format,
 * per-domain policies, the fail action, the verdict log line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "conf.h"
#include "pipeline.h"
#include "scan.h"
#include "verdict.h"
#include "vlog.h"

static const char gtube[] =
	"XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

static struct conf *load(const char *text)
{
	char err[1024];
	/* Only the sanity stage: no DNS in unit tests. */
	char buf[1024];
	snprintf(buf, sizeof buf, "stages = {\"sanity\"}\n%s", text);
	struct conf *c = conf_load_string(buf, "t.conf", err, sizeof err);
	if (c == NULL)
		fail_msg("%s", err);
	return c;
}

static struct scan *message(const char *raw, const char *rcpt)
{
	struct scan *s = scan_new();
	assert_non_null(s);
	assert_int_equal(scan_set_raw(s, raw, strlen(raw)), 0);
	assert_int_equal(scan_set_env(s, "ABC123", "192.0.2.1", "[192.0.2.1]",
	                              25, "mx.example", "a@example.org"), 0);
	if (rcpt)
		assert_int_equal(scan_add_rcpt(s, rcpt), 0);
	return s;
}

static const char clean[] =
	"From: a@example.org\nTo: b@example.net\nSubject: hi\n"
	"Date: Mon, 23 Nov 2026 10:00:00 +0000\nMessage-ID: <1@example.org>\n"
	"\nHello.\n";

static const char *header(const struct verdict *v, const char *name)
{
	for (size_t i = 0; i < v->header_count; i++)
		if (strcmp(v->headers[i].name, name) == 0)
			return v->headers[i].value;
	return NULL;
}

static void clean_message(void **state)
{
	(void)state;
	struct conf *c = load("");
	struct scan *s = message(clean, "b@example.net");
	const char *failed = NULL;
	assert_int_equal(pipeline_run(c->pipeline, s, &failed), 0);
	assert_int_equal(scan_hit_count(s), 0);
	struct verdict v;
	assert_int_equal(verdict_decide(c, s, NULL, true, &v), 0);
	assert_int_equal(v.action, CONF_ACT_ACCEPT);
	assert_null(header(&v, "X-Spam-Flag"));
	assert_string_equal(header(&v, "X-Spam-Score"), "0.0");
	assert_string_equal(header(&v, "X-Spam-Status"),
	                    "No, score=0.0 required=5.0 tests=none "
	                    "autolearn=disabled\n\tversion=vigil-" PACKAGE_VERSION);
	verdict_free(&v);
	scan_free(s);
	conf_unref(c);
}

static void gtube_rejects(void **state)
{
	(void)state;
	struct conf *c = load("actions { reject_reply = \"550 5.7.1 Go away\" }");
	char raw[512];
	snprintf(raw, sizeof raw, "Subject: t\n\n%s\n", gtube);
	struct scan *s = message(raw, "b@example.net");
	const char *failed = NULL;
	assert_int_equal(pipeline_run(c->pipeline, s, &failed), 0);
	struct verdict v;
	assert_int_equal(verdict_decide(c, s, NULL, true, &v), 0);
	assert_int_equal(v.action, CONF_ACT_REJECT);
	assert_string_equal(v.code, "550");
	assert_string_equal(v.xcode, "5.7.1");
	assert_string_equal(v.text, "Go away");
	assert_int_equal(v.header_count, 0);
	verdict_free(&v);
	scan_free(s);
	conf_unref(c);
}

/* The sanity tests see what they should. */
static void sanity_hits(void **state)
{
	(void)state;
	struct conf *c = load("sanity { missing_date = 3 }");
	char raw[2400];
	memset(raw, 0, sizeof raw);
	strcpy(raw, "From: a@x\nFrom: b@x\nSubject: s\n\n");
	size_t len = strlen(raw);
	memset(raw + len, 'x', 1200);
	strcpy(raw + len + 1200, "\n");
	struct scan *s = message(raw, NULL);
	const char *failed = NULL;
	assert_int_equal(pipeline_run(c->pipeline, s, &failed), 0);
	const char *want[] = { "MISSING_DATE", "MISSING_MID",
	                       "VIGIL_DUP_SINGLETON", "VIGIL_LONG_LINE" };
	assert_int_equal(scan_hit_count(s), 4);
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(scan_hit_at(s, i)->name, want[i]);
	assert_true(scan_hit_at(s, 0)->score == 3.0);
	scan_free(s);
	conf_unref(c);
}

/* SpamAssassin's layout: tests sorted, comma-separated, folded at 78. */
static void spam_status_format(void **state)
{
	(void)state;
	struct scan *s = scan_new();
	const char *names[] = { "ZETA_RULE_WITH_A_LONG_NAME", "ALPHA",
		"MIDDLE_RULE_NAME_LONG", "BETA_RULE_NAME_ALSO_LONG", "ZERO" };
	for (size_t i = 0; i < 5; i++)
		scan_hit(s, names[i], i == 4 ? 0 : 1.5, NULL);
	char *st = verdict_spam_status(true, 6.0, 5.0, s);
	assert_non_null(st);
	assert_string_equal(st,
		"Yes, score=6.0 required=5.0 tests=ALPHA,\n"
		"\tBETA_RULE_NAME_ALSO_LONG,MIDDLE_RULE_NAME_LONG,\n"
		"\tZETA_RULE_WITH_A_LONG_NAME autolearn=disabled version=vigil-"
		PACKAGE_VERSION);
	/* No line passes 79 columns (with the header name on the first). */
	size_t col = strlen("X-Spam-Status: ");
	for (const char *p = st; *p; p++) {
		col = *p == '\n' ? 0 : col + (*p == '\t' ? 8 : 1);
		assert_true(col <= 79);
	}
	free(st);
	/* not spam at 4.999 of 5: "4.9", never a score that reads as
	 * reaching the threshold (SpamAssassin's bug 6419; audit21 L3) */
	st = verdict_spam_status(false, 4.999, 5.0, s);
	assert_non_null(strstr(st, "No, score=4.9 required=5.0 "));
	free(st);
	st = verdict_spam_status(false, 4.94, 5.0, s);
	assert_non_null(strstr(st, "No, score=4.9 required=5.0 "));
	free(st);
	st = verdict_spam_status(true, 4.999, 5.0, s);   /* spam: as it is */
	assert_non_null(strstr(st, "Yes, score=5.0 required=5.0 "));
	free(st);
	/* -0.002 is "-0.0", as SpamAssassin's sprintf writes it (audit22) */
	st = verdict_spam_status(false, -0.002, 5.0, s);
	assert_non_null(strstr(st, "No, score=-0.0 required=5.0 "));
	free(st);
	scan_free(s);

	/* a tflags multiple hit is named once per match, and a name hit
	 * twice last in the order ends the list without a comma */
	s = scan_new();
	scan_hit(s, "B_MULTI", 3.0, NULL);
	scan_hit_set_count(s, 0, 3);
	scan_hit(s, "A_ONE", 1.0, NULL);
	scan_hit(s, "C_TWICE", 1.0, NULL);
	scan_hit(s, "C_TWICE", 1.0, NULL);
	st = verdict_spam_status(true, 6.0, 5.0, s);
	/* the first line takes 79 columns, as Util::wrap fills it
	 * (audit22 L7) */
	assert_string_equal(st,
		"Yes, score=6.0 required=5.0 tests=A_ONE,B_MULTI,B_MULTI,"
		"B_MULTI,\n\tC_TWICE autolearn=disabled version=vigil-"
		PACKAGE_VERSION);
	free(st);
	scan_free(s);
}

static void thresholds(void **state)
{
	(void)state;
	struct conf *c = load("actions { add_header = 5 quarantine = 8 "
	                      "tempfail = 11 reject = 15 discard = 30 }");
	const struct { double score; enum conf_action a; } cases[] = {
		{ -1, CONF_ACT_ACCEPT }, { 4.9, CONF_ACT_ACCEPT },
		{ 5, CONF_ACT_ADD_HEADER }, { 8, CONF_ACT_QUARANTINE },
		{ 12, CONF_ACT_TEMPFAIL }, { 15, CONF_ACT_REJECT },
		{ 99, CONF_ACT_DISCARD },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct scan *s = message(clean, "b@example.net");
		scan_hit(s, "T", cases[i].score, NULL);
		struct verdict v;
		assert_int_equal(verdict_decide(c, s, NULL, true, &v), 0);
		assert_int_equal(v.action, cases[i].a);
		if (cases[i].a == CONF_ACT_TEMPFAIL) {
			assert_string_equal(v.code, "451");
			assert_string_equal(v.xcode, "4.7.1");
		}
		if (cases[i].a == CONF_ACT_QUARANTINE)
			assert_non_null(v.quarantine_reason);
		if (cases[i].a == CONF_ACT_ADD_HEADER) {
			assert_string_equal(header(&v, "X-Spam-Flag"), "YES");
			assert_true(strncmp(header(&v, "X-Spam-Status"), "Yes,", 4) == 0);
		}
		verdict_free(&v);
		scan_free(s);
	}
	conf_unref(c);
}

/* The total is rounded to 3 decimals before the thresholds, as
 * SpamAssassin does: 2.066 + 2.352 + 0.582 is 4.999999999999999 as
 * doubles, 5 after rounding, so spam at 5. */
static void rounded_total(void **state)
{
	(void)state;
	struct conf *c = load("");
	struct scan *s = message(clean, "b@example.net");
	scan_hit(s, "A", 2.066, NULL);
	scan_hit(s, "B", 2.352, NULL);
	scan_hit(s, "C", 0.582, NULL);
	assert_true(2.066 + 2.352 + 0.582 < 5.0);   /* the doubles' sum */
	assert_true(scan_score(s) == 5.0);
	struct verdict v;
	assert_int_equal(verdict_decide(c, s, NULL, true, &v), 0);
	assert_int_equal(v.action, CONF_ACT_ADD_HEADER);
	assert_true(strncmp(header(&v, "X-Spam-Status"), "Yes, score=5.0", 14) == 0);
	verdict_free(&v);
	scan_free(s);
	conf_unref(c);
}

/* X-Spam-Score: the score as compared, to 3 decimals, trailing zeros
 * dropped down to one decimal (the sweep of vigil scan --milter reads
 * it: 4.994 is not 5.0). */
static void score_header(void **state)
{
	(void)state;
	struct conf *c = load("");
	const struct { double score; const char *text; } cases[] = {
		{ 0, "0.0" }, { 4.994, "4.994" }, { 4.25, "4.25" }, { 5, "5.0" },
		{ -0.0004, "0.0" }, { -1.5, "-1.5" }, { 4.9996, "5.0" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct scan *s = message(clean, "b@example.net");
		if (cases[i].score != 0)
			scan_hit(s, "T", cases[i].score, NULL);
		struct verdict v;
		assert_int_equal(verdict_decide(c, s, NULL, true, &v), 0);
		assert_string_equal(header(&v, "X-Spam-Score"), cases[i].text);
		verdict_free(&v);
		scan_free(s);
	}
	conf_unref(c);
}

/* Mixed recipients: strict domain's recipient dropped when allowed,
 * otherwise the most lenient action for all. */
static void per_domain(void **state)
{
	(void)state;
	struct conf *c = load("actions { reject = 15 }\n"
	                      "domain \"strict.example\" { reject = 6 }");
	struct scan *s = message(clean, "a@strict.example");
	scan_add_rcpt(s, "b@lax.example");
	scan_hit(s, "T", 7, NULL);
	struct verdict v;
	assert_int_equal(verdict_decide(c, s, NULL, true, &v), 0);
	assert_int_equal(v.action, CONF_ACT_ADD_HEADER);
	assert_int_equal(v.drop_count, 1);
	assert_true(v.drop_rcpt[0]);
	assert_false(v.drop_rcpt[1]);
	/* each recipient's own action, as vigil explain shows it */
	assert_int_equal(v.rcpt_action[0], CONF_ACT_REJECT);
	assert_int_equal(v.rcpt_action[1], CONF_ACT_ADD_HEADER);
	verdict_free(&v);
	assert_int_equal(verdict_decide(c, s, NULL, false, &v), 0);
	assert_int_equal(v.action, CONF_ACT_ADD_HEADER);
	assert_int_equal(v.drop_count, 0);
	assert_false(v.drop_rcpt[0]);
	assert_int_equal(v.rcpt_action[0], CONF_ACT_REJECT);
	verdict_free(&v);
	/* A stage forces a rejection: nothing is delivered, so no
	 * recipient is counted as removed (vigild's dropped_rcpts). */
	scan_result(s, "reject", "550 5.7.23 SPF validation failed");
	assert_int_equal(verdict_decide(c, s, NULL, true, &v), 0);
	assert_int_equal(v.action, CONF_ACT_REJECT);
	assert_int_equal(v.drop_count, 0);
	assert_false(v.drop_rcpt[0]);
	assert_false(v.drop_rcpt[1]);
	verdict_free(&v);
	scan_free(s);
	/* Only the strict domain: rejected. */
	s = message(clean, "a@strict.example");
	scan_hit(s, "T", 7, NULL);
	assert_int_equal(verdict_decide(c, s, NULL, true, &v), 0);
	assert_int_equal(v.action, CONF_ACT_REJECT);
	verdict_free(&v);
	scan_free(s);
	conf_unref(c);
}

/* Stages may ask for a rejection or a quarantine whatever the score. */
static void stage_requests(void **state)
{
	(void)state;
	struct conf *c = load("");
	struct scan *s = message(clean, "b@example.net");
	scan_result(s, "reject", "550 5.7.23 SPF validation failed");
	struct verdict v;
	assert_int_equal(verdict_decide(c, s, NULL, true, &v), 0);
	assert_int_equal(v.action, CONF_ACT_REJECT);
	assert_string_equal(v.xcode, "5.7.23");
	assert_string_equal(v.text, "SPF validation failed");
	verdict_free(&v);
	scan_free(s);
	s = message(clean, "b@example.net");
	scan_result(s, "quarantine", "DMARC policy of example.org");
	assert_int_equal(verdict_decide(c, s, NULL, true, &v), 0);
	assert_int_equal(v.action, CONF_ACT_QUARANTINE);
	assert_string_equal(v.quarantine_reason, "DMARC policy of example.org");
	verdict_free(&v);
	scan_hit(s, "GTUBE", 1000, NULL);	/* the score asks for more */
	assert_int_equal(verdict_decide(c, s, NULL, true, &v), 0);
	assert_int_equal(v.action, CONF_ACT_REJECT);
	verdict_free(&v);
	scan_free(s);
	conf_unref(c);
}

static void fail_action(void **state)
{
	(void)state;
	struct conf *c = load("");
	struct scan *s = message(clean, "b@example.net");
	struct verdict v;
	assert_int_equal(verdict_decide(c, s, "rules", true, &v), 0);
	assert_true(v.failed);
	assert_int_equal(v.action, CONF_ACT_ACCEPT);
	assert_non_null(strstr(header(&v, "X-Spam-Scan"), "failed"));
	verdict_free(&v);
	conf_unref(c);
	c = load("fail_action = tempfail");
	assert_int_equal(verdict_fail(c, "deadline", &v), 0);
	assert_int_equal(v.action, CONF_ACT_TEMPFAIL);
	assert_string_equal(v.code, "451");
	verdict_free(&v);
	scan_free(s);
	conf_unref(c);
}

/* Wire values never reach the log raw. */
static void log_line_escaped(void **state)
{
	(void)state;
	struct conf *c = load("");
	struct scan *s = scan_new();
	scan_set_env(s, "Q1", "192.0.2.1", "", 0, "evil\r\nhelo x=\"y\"",
	             "a@example.org");
	scan_hit(s, "GTUBE", 1000, NULL);
	struct verdict v;
	assert_int_equal(verdict_decide(c, s, NULL, true, &v), 0);
	struct kvline kv;
	kv_init(&kv);
	verdict_log_fields(c, s, &v, 1.5, &kv);
	const char *line = kv_str(&kv);
	assert_null(strchr(line, '\r'));
	assert_null(strchr(line, '\n'));
	assert_non_null(strstr(line, "qid=Q1 client=192.0.2.1 "));
	assert_non_null(strstr(line, "helo=\"evil\\x0d\\x0ahelo x=\\\"y\\\"\""));
	assert_non_null(strstr(line, "action=reject"));
	assert_non_null(strstr(line, "hits=GTUBE"));
	assert_non_null(strstr(line, "score=1000.00"));
	assert_non_null(strstr(line, "ms=1.5"));
	kv_free(&kv);
	verdict_free(&v);
	scan_free(s);
	conf_unref(c);
}

static void hashed_addresses(void **state)
{
	(void)state;
	struct conf *c = load("log_hash_addresses = true");
	struct scan *s = message(clean, NULL);
	struct verdict v;
	assert_int_equal(verdict_decide(c, s, NULL, true, &v), 0);
	struct kvline kv;
	kv_init(&kv);
	verdict_log_fields(c, s, &v, 0, &kv);
	assert_null(strstr(kv_str(&kv), "a@example.org"));
	assert_non_null(strstr(kv_str(&kv), "@example.org"));
	kv_free(&kv);
	verdict_free(&v);
	scan_free(s);
	conf_unref(c);
}

/* The raw view is rebuilt byte for byte with CRLF line ends. */
static void scan_raw_view(void **state)
{
	(void)state;
	struct scan *s = scan_new();
	const char *in = "A: 1\nB:  two\n\tfolded\n\nbody\n";
	assert_int_equal(scan_set_raw(s, in, strlen(in)), 0);
	assert_int_equal(scan_header_count(s), 2);
	size_t len;
	const char *raw = scan_raw(s, &len);
	assert_string_equal(raw, "A: 1\r\nB:  two\r\n\tfolded\r\n\r\nbody\r\n");
	assert_int_equal(len, strlen(raw));
	scan_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clean_message),
		cmocka_unit_test(gtube_rejects),
		cmocka_unit_test(sanity_hits),
		cmocka_unit_test(spam_status_format),
		cmocka_unit_test(thresholds),
		cmocka_unit_test(rounded_total),
		cmocka_unit_test(score_header),
		cmocka_unit_test(per_domain),
		cmocka_unit_test(stage_requests),
		cmocka_unit_test(fail_action),
		cmocka_unit_test(log_line_escaped),
		cmocka_unit_test(hashed_addresses),
		cmocka_unit_test(scan_raw_view),
	};
	return cmocka_run_group_tests_name("verdict", tests, NULL, NULL);
}
